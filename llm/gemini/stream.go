package gemini

import (
	"context"
	"errors"
	"iter"

	"github.com/wagent/wagent/llm"
)

var errStreamCut = errors.New("gemini: the stream ended before the answer was complete")

// Stream implements [llm.Streamer] with streamGenerateContent. Text and
// reasoning are yielded as they arrive; the final chunk carries the merged
// Response, its tool calls and thought signatures assembled from all
// chunks. A stream that ends without a finish reason fails with
// [llm.ErrUnavailable]; the SDK is not allowed to reconnect by itself.
// Stopping the iteration early closes the connection.
func (p *Provider) Stream(ctx context.Context, req *llm.Request) iter.Seq2[llm.Chunk, error] {
	return func(yield func(llm.Chunk, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(llm.Chunk{}, ctxError(err))
			return
		}
		model, contents, cfg, err := p.translate(req)
		if err != nil {
			yield(llm.Chunk{}, invalid(err))
			return
		}
		c := &call{}
		var m merger
		for resp, err := range p.client.Models.GenerateContentStream(withCall(ctx, c), model, contents, cfg) {
			if err != nil {
				yield(llm.Chunk{}, classify(ctx, c, err))
				return
			}
			text, reasoning, _ := m.add(resp)
			if text != "" || reasoning != "" {
				if !yield(llm.Chunk{Text: text, Reasoning: reasoning}, nil) {
					return
				}
			}
		}
		if err := ctx.Err(); err != nil {
			yield(llm.Chunk{}, ctxError(err))
			return
		}
		if m.seen && m.blocked == "" && m.reason == "" {
			_, status, _ := c.response()
			yield(llm.Chunk{}, &llm.Error{Provider: Name, Kind: llm.ErrUnavailable, StatusCode: status, Err: errStreamCut})
			return
		}
		resp, err := m.response()
		if err != nil {
			yield(llm.Chunk{}, err)
			return
		}
		yield(llm.Chunk{Response: resp}, nil)
	}
}
