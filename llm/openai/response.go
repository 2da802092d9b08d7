package openai

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"

	oai "github.com/sashabaranov/go-openai"

	"github.com/wagent/wagent/llm"
)

// response translates a chat completion.
func (p *Provider) response(resp *oai.ChatCompletionResponse) (*llm.Response, error) {
	if len(resp.Choices) == 0 {
		return nil, &llm.Error{Provider: p.name, Kind: llm.ErrUnavailable, Err: errNoChoices}
	}
	ch := &resp.Choices[0]
	m := &ch.Message
	out := &llm.Response{Model: resp.Model, Usage: usage(&resp.Usage)}
	parts := make([]llm.Part, 0, 1+len(m.ToolCalls))
	if m.ReasoningContent != "" {
		parts = append(parts, llm.Part{Kind: llm.KindReasoning, Text: m.ReasoningContent})
	}
	if m.Content != "" {
		parts = append(parts, llm.TextPart(m.Content))
	}
	if m.Refusal != "" {
		parts = append(parts, llm.TextPart(m.Refusal))
	}
	for _, c := range m.ToolCalls {
		parts = append(parts, toolCallPart(c.ID, c.Function.Name, c.Function.Arguments))
	}
	out.Message = llm.Message{Role: llm.Assistant, Parts: parts}
	out.FinishReason = finishReason(string(ch.FinishReason), len(m.ToolCalls) > 0, m.Refusal != "")
	return out, nil
}

// toolCallPart returns the part of a tool call, with an id synthesized when
// the server gave none.
func toolCallPart(id, name, args string) llm.Part {
	c := llm.ToolCall{ID: id, Name: name}
	if id == "" {
		c.ID, c.Synthetic = syntheticID(), true
	}
	if args != "" {
		c.Args = json.RawMessage(args)
	}
	return llm.ToolCallPart(c)
}

// syntheticID returns a call id unlikely to repeat within a conversation.
func syntheticID() string {
	return "call_wagent_" + strconv.FormatUint(rand.Uint64(), 36)
}

// finishReason derives the finish reason. Servers that report "stop" for
// tool calls (Ollama) are corrected by looking at the answer.
func finishReason(reason string, hasCalls, refused bool) llm.FinishReason {
	switch oai.FinishReason(reason) {
	case oai.FinishReasonLength:
		return llm.FinishLength
	case oai.FinishReasonContentFilter:
		return llm.FinishBlocked
	}
	switch {
	case refused:
		return llm.FinishBlocked
	case hasCalls:
		return llm.FinishToolCalls
	}
	if oai.FinishReason(reason) == oai.FinishReasonStop {
		return llm.FinishStop
	}
	// Tool calls announced but none given, or a reason not known.
	return llm.FinishOther
}

func usage(u *oai.Usage) llm.Usage {
	out := llm.Usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens}
	if d := u.PromptTokensDetails; d != nil {
		out.CachedInputTokens = d.CachedTokens
	}
	if d := u.CompletionTokensDetails; d != nil {
		out.ReasoningTokens = d.ReasoningTokens
	}
	return out
}
