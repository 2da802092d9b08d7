package openai

import (
	"context"
	"errors"
	"io"
	"iter"
	"strings"

	oai "github.com/sashabaranov/go-openai"

	"github.com/wagent/wagent/llm"
)

var errStreamEnded = errors.New("openai: the stream ended before the answer was complete")

// Stream implements [llm.Streamer]. Text and reasoning are yielded as they
// arrive; tool calls are assembled from their fragments, by index and, when
// a server gives every call index 0 (Ollama), by id. The final chunk
// carries the Response, with the usage the server reports at the end of the
// stream (stream_options.include_usage is requested). A stream that ends
// without a finish reason fails with [llm.ErrUnavailable].
func (p *Provider) Stream(ctx context.Context, req *llm.Request) iter.Seq2[llm.Chunk, error] {
	return func(yield func(llm.Chunk, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(llm.Chunk{}, p.ctxError(err))
			return
		}
		c, creq, err := p.prepare(ctx, req)
		if err != nil {
			yield(llm.Chunk{}, err)
			return
		}
		creq.Stream = true
		creq.StreamOptions = &oai.StreamOptions{IncludeUsage: true}
		stream, err := p.client.CreateChatCompletionStream(withCall(ctx, c), creq)
		if err != nil {
			yield(llm.Chunk{}, p.classify(ctx, c, err))
			return
		}
		defer stream.Close()
		var acc accumulator
		for {
			chunk, err := stream.Recv()
			if errors.Is(err, io.EOF) && ctx.Err() == nil {
				break
			}
			if err != nil {
				yield(llm.Chunk{}, p.classify(ctx, c, err))
				return
			}
			text, reasoning := acc.add(&chunk)
			if text != "" || reasoning != "" {
				if !yield(llm.Chunk{Text: text, Reasoning: reasoning}, nil) {
					return
				}
			}
		}
		if !acc.finished {
			yield(llm.Chunk{}, &llm.Error{Provider: p.name, Kind: llm.ErrUnavailable, Err: errStreamEnded})
			return
		}
		yield(llm.Chunk{Response: acc.response()}, nil)
	}
}

// accumulator assembles a streamed answer.
type accumulator struct {
	model     string
	text      strings.Builder
	reasoning strings.Builder
	refusal   strings.Builder
	calls     []*callFragments
	byIndex   map[int]int // index in the stream -> position in calls
	reason    string
	finished  bool
	usage     llm.Usage
}

type callFragments struct {
	id, name string
	args     strings.Builder
}

// add records a chunk and returns the text and reasoning it adds.
func (a *accumulator) add(chunk *oai.ChatCompletionStreamResponse) (text, reasoning string) {
	if chunk.Model != "" {
		a.model = chunk.Model
	}
	if chunk.Usage != nil {
		a.usage = usage(chunk.Usage)
	}
	for i := range chunk.Choices {
		ch := &chunk.Choices[i]
		if ch.Index != 0 {
			continue // only one choice is asked for
		}
		d := &ch.Delta
		text, reasoning = d.Content+d.Refusal, d.ReasoningContent
		a.text.WriteString(d.Content)
		a.reasoning.WriteString(d.ReasoningContent)
		a.refusal.WriteString(d.Refusal)
		for _, tc := range d.ToolCalls {
			a.addCall(&tc)
		}
		if ch.FinishReason != "" && ch.FinishReason != oai.FinishReasonNull {
			a.reason, a.finished = string(ch.FinishReason), true
		}
	}
	return text, reasoning
}

// addCall adds a tool call fragment. A fragment belongs to the call last
// seen at its index, unless it carries an id other than that call's: some
// servers give every call index 0.
func (a *accumulator) addCall(tc *oai.ToolCall) {
	idx := 0
	if tc.Index != nil {
		idx = *tc.Index
	}
	pos, ok := a.byIndex[idx]
	if !ok || (tc.ID != "" && a.calls[pos].id != "" && a.calls[pos].id != tc.ID) {
		if a.byIndex == nil {
			a.byIndex = make(map[int]int)
		}
		a.calls = append(a.calls, &callFragments{})
		pos = len(a.calls) - 1
		a.byIndex[idx] = pos
	}
	c := a.calls[pos]
	if tc.ID != "" {
		c.id = tc.ID
	}
	if tc.Function.Name != "" {
		// Names come whole (some servers repeat them in every fragment).
		c.name = tc.Function.Name
	}
	c.args.WriteString(tc.Function.Arguments)
}

func (a *accumulator) response() *llm.Response {
	parts := make([]llm.Part, 0, 2+len(a.calls))
	if a.reasoning.Len() > 0 {
		parts = append(parts, llm.Part{Kind: llm.KindReasoning, Text: a.reasoning.String()})
	}
	if a.text.Len() > 0 {
		parts = append(parts, llm.TextPart(a.text.String()))
	}
	if a.refusal.Len() > 0 {
		parts = append(parts, llm.TextPart(a.refusal.String()))
	}
	for _, c := range a.calls {
		parts = append(parts, toolCallPart(c.id, c.name, c.args.String()))
	}
	return &llm.Response{
		Message:      llm.Message{Role: llm.Assistant, Parts: parts},
		FinishReason: finishReason(a.reason, len(a.calls) > 0, a.refusal.Len() > 0),
		Usage:        a.usage,
		Model:        a.model,
	}
}
