package gemini

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"

	"google.golang.org/genai"

	"github.com/wagent/wagent/llm"
)

var (
	errNoCandidates  = errors.New("gemini: the response has no candidates")
	errPromptBlocked = errors.New("gemini: the prompt was blocked")
)

// merger assembles an answer from one response or the chunks of a stream.
type merger struct {
	parts   []llm.Part
	reason  genai.FinishReason
	blocked genai.BlockedReason
	usage   llm.Usage
	model   string
	seen    bool
}

// add records a response and returns the text and reasoning it adds.
func (m *merger) add(resp *genai.GenerateContentResponse) (text, reasoning string, err error) {
	if resp == nil {
		return "", "", nil
	}
	if resp.ModelVersion != "" {
		m.model = resp.ModelVersion
	}
	if u := resp.UsageMetadata; u != nil {
		// Each chunk of a stream carries the running totals, so the last
		// one counts. Thoughts are output tokens, as OpenAI counts
		// reasoning; tool-use prompt tokens are input.
		m.usage = llm.Usage{
			InputTokens:       int(u.PromptTokenCount) + int(u.ToolUsePromptTokenCount),
			OutputTokens:      int(u.CandidatesTokenCount) + int(u.ThoughtsTokenCount),
			CachedInputTokens: int(u.CachedContentTokenCount),
			ReasoningTokens:   int(u.ThoughtsTokenCount),
		}
	}
	if pf := resp.PromptFeedback; pf != nil && pf.BlockReason != "" {
		m.blocked, m.seen = pf.BlockReason, true
	}
	if len(resp.Candidates) == 0 {
		return "", "", nil
	}
	m.seen = true
	c := resp.Candidates[0]
	if c.FinishReason != "" {
		m.reason = c.FinishReason
	}
	if c.Content == nil {
		return "", "", nil
	}
	var tb, rb strings.Builder
	for _, gp := range c.Content.Parts {
		if gp == nil {
			continue
		}
		var part llm.Part
		switch {
		case gp.FunctionCall != nil:
			fc := gp.FunctionCall
			tc := llm.ToolCall{ID: fc.ID, Name: fc.Name}
			if tc.ID == "" {
				tc.ID, tc.Synthetic = "gemini_call_"+strconv.FormatUint(rand.Uint64(), 36), true
			}
			args := fc.Args
			if args == nil {
				args = map[string]any{}
			}
			b, _ := jsonMarshal(args)
			tc.Args = b
			part = llm.ToolCallPart(tc)
		case gp.Thought:
			rb.WriteString(gp.Text)
			part = llm.Part{Kind: llm.KindReasoning, Text: gp.Text}
		case gp.Text != "" || len(gp.ThoughtSignature) > 0:
			tb.WriteString(gp.Text)
			part = llm.TextPart(gp.Text)
		default:
			continue
		}
		if len(gp.ThoughtSignature) > 0 {
			part.Opaque = llm.Opaque{Provider: Name, Data: append([]byte(nil), gp.ThoughtSignature...)}
		}
		m.append(part)
	}
	return tb.String(), rb.String(), nil
}

// append adds a part, merging text into the previous text part of the same
// kind when neither carries provider state (streams split text in chunks).
func (m *merger) append(p llm.Part) {
	if n := len(m.parts); n > 0 && (p.Kind == llm.KindText || p.Kind == llm.KindReasoning) && p.Opaque.IsZero() {
		last := &m.parts[n-1]
		if last.Kind == p.Kind {
			last.Text += p.Text
			return
		}
	}
	m.parts = append(m.parts, p)
}

func (m *merger) response() (*llm.Response, error) {
	if !m.seen {
		return nil, &llm.Error{Provider: Name, Kind: llm.ErrUnavailable, Err: errNoCandidates}
	}
	if m.blocked != "" {
		return nil, &llm.Error{Provider: Name, Kind: llm.ErrContentBlocked, Code: string(m.blocked), Err: errPromptBlocked}
	}
	if m.parts == nil {
		m.parts = []llm.Part{}
	}
	out := &llm.Response{Message: llm.Message{Role: llm.Assistant, Parts: m.parts}, Usage: m.usage, Model: m.model}
	hasCalls := false
	for _, p := range m.parts {
		if p.Kind == llm.KindToolCall {
			hasCalls = true
		}
	}
	switch {
	case m.reason == genai.FinishReasonMaxTokens:
		out.FinishReason = llm.FinishLength
	case blockedReasons[m.reason]:
		out.FinishReason = llm.FinishBlocked
	case hasCalls:
		out.FinishReason = llm.FinishToolCalls
	case m.reason == genai.FinishReasonStop:
		out.FinishReason = llm.FinishStop
	default:
		out.FinishReason = llm.FinishOther
	}
	return out, nil
}

// blockedReasons are the finish reasons of an answer stopped by a filter.
var blockedReasons = map[genai.FinishReason]bool{
	genai.FinishReasonSafety:                 true,
	genai.FinishReasonRecitation:             true,
	genai.FinishReasonBlocklist:              true,
	genai.FinishReasonProhibitedContent:      true,
	genai.FinishReasonSPII:                   true,
	genai.FinishReasonImageSafety:            true,
	genai.FinishReasonImageProhibitedContent: true,
	genai.FinishReasonImageRecitation:        true,
}
