package llmtest

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wagent/wagent/llm"
)

// Echo is an [llm.Provider] that answers with Prefix followed by the text of
// the last user message of the request (its text parts, concatenated), or
// with Prefix alone when that message has no text or there is no user
// message. It answers with [llm.FinishStop] and a Usage that counts words
// (at least 1 each way): input words in Request.System and in the text parts
// of all messages, output words in the answer.
//
// Echo allocates nothing but the response, so load tests and benchmarks
// measure the code around the model rather than the model. An Echo is safe
// for concurrent use.
type Echo struct {
	// Prefix starts every answer.
	Prefix string
}

var _ llm.Provider = Echo{}

// Name implements [llm.Provider]. It returns "echo".
func (Echo) Name() string { return "echo" }

// echoResponse holds a Response and its single part, allocated together.
type echoResponse struct {
	resp  llm.Response
	parts [1]llm.Part
}

// Generate implements [llm.Provider]. If ctx is done it returns an error
// wrapping ctx.Err().
func (e Echo) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("llmtest: echo: %w", err)
	}
	in := 0
	var last *llm.Message
	if req != nil {
		in = countWords(req.System)
		for i := range req.Messages {
			m := &req.Messages[i]
			for _, p := range m.Parts {
				if p.Kind == llm.KindText {
					in += countWords(p.Text)
				}
			}
			if m.Role == llm.User {
				last = m
			}
		}
	}
	text := e.Prefix
	if last != nil {
		text = e.answer(last.Parts)
	}
	r := &echoResponse{}
	r.parts[0] = llm.TextPart(text)
	r.resp = llm.Response{
		Message:      llm.Message{Role: llm.Assistant, Parts: r.parts[:]},
		FinishReason: llm.FinishStop,
		Usage:        llm.Usage{InputTokens: max(in, 1), OutputTokens: max(countWords(text), 1)},
	}
	return &r.resp, nil
}

// answer returns Prefix and the text of parts, allocating only when there is
// more than one string to join.
func (e Echo) answer(parts []llm.Part) string {
	n, size, only := 0, len(e.Prefix), e.Prefix
	for _, p := range parts {
		if p.Kind == llm.KindText && p.Text != "" {
			n, size, only = n+1, size+len(p.Text), p.Text
		}
	}
	switch {
	case n == 0:
		return e.Prefix
	case n == 1 && e.Prefix == "":
		return only
	}
	var b strings.Builder
	b.Grow(size)
	b.WriteString(e.Prefix)
	for _, p := range parts {
		if p.Kind == llm.KindText {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// countWords counts the runs of non-space characters in s.
func countWords(s string) int {
	n, inWord := 0, false
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		if unicode.IsSpace(r) {
			inWord = false
		} else if !inWord {
			inWord = true
			n++
		}
	}
	return n
}
