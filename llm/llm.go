package llm

import (
	"context"
	"encoding/json"
	"iter"
)

// Provider generates the next message of a conversation with a language
// model. It is the LLMProvider contract the agent is built on.
type Provider interface {
	// Name identifies the provider in logs, hooks and errors ("openai",
	// "gemini"). It must not change over the provider's life.
	Name() string

	// Generate sends req to the model and returns its answer. ctx bounds the
	// whole call; when it is cancelled or its deadline passes, Generate
	// returns promptly with an error wrapping ctx.Err() and not classified
	// as any sentinel below, so that a cancelled call is never mistaken for
	// a retryable failure. Generate must not modify req or keep references
	// to it after returning, and must be safe for concurrent use.
	//
	// Failures are returned as (or wrap) [*Error], classified into the
	// sentinels [ErrRateLimited], [ErrUnavailable], [ErrContextTooLong],
	// [ErrContentBlocked], [ErrInvalidRequest] and [ErrAuth].
	//
	// Tool-call ids are kept end to end: every ToolCall in the response has
	// an ID (synthesized, with Synthetic set, when the model gave none), and
	// ToolResult.CallID of a later request refers back to it.
	Generate(ctx context.Context, req *Request) (*Response, error)
}

// Streamer is implemented by providers that can stream a response as it is
// generated.
type Streamer interface {
	// Stream is like [Provider.Generate] but yields text as it arrives. The
	// final chunk carries the complete Response, tool calls assembled. An
	// error ends the sequence. Stopping the iteration early releases the
	// underlying connection.
	Stream(ctx context.Context, req *Request) iter.Seq2[Chunk, error]
}

// Chunk is a piece of a streamed response.
type Chunk struct {
	// Text and Reasoning are the new visible and reasoning text.
	Text      string
	Reasoning string
	// Response is set on the last chunk only.
	Response *Response
}

// Request is one call to a model.
type Request struct {
	// Model overrides the provider's configured model, if set.
	Model string `json:"model,omitempty"`
	// System holds the instructions, kept apart from the conversation.
	System string `json:"system,omitempty"`
	// Messages is the conversation so far, oldest first. It never starts
	// with a tool result, and every assistant tool call is followed by the
	// results of all its calls.
	Messages []Message `json:"messages"`
	// Tools the model may call.
	Tools []Tool `json:"tools,omitempty"`
	// ToolChoice constrains tool use; the zero value lets the model decide.
	ToolChoice ToolChoice `json:"tool_choice,omitempty"`
	// ResponseFormat asks for JSON output, nil for free text.
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
	// MaxOutputTokens caps the answer's length; 0 uses the provider's
	// default.
	MaxOutputTokens int `json:"max_output_tokens,omitempty"`
	// Temperature, when set, overrides the model's sampling temperature.
	Temperature *float64 `json:"temperature,omitempty"`
}

// ToolChoice tells the model whether it may, must or must not call tools.
type ToolChoice string

// Tool choices.
const (
	ToolAuto     ToolChoice = ""
	ToolNone     ToolChoice = "none"
	ToolRequired ToolChoice = "required"
)

// Tool describes a function the model may call.
type Tool struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Parameters is the JSON Schema of the arguments object.
	Parameters json.RawMessage `json:"parameters,omitempty"`
}

// ResponseFormat asks the model to answer with JSON matching Schema.
type ResponseFormat struct {
	// Name labels the schema (required by some providers).
	Name string `json:"name"`
	// Schema is a JSON Schema for the answer; nil asks for any JSON object.
	Schema json.RawMessage `json:"schema,omitempty"`
}

// Response is a model's answer.
type Response struct {
	// Message has role Assistant. Its parts are text, reasoning and tool
	// calls; provider state to replay (Part.Opaque) is kept on them.
	Message      Message      `json:"message"`
	FinishReason FinishReason `json:"finish_reason"`
	Usage        Usage        `json:"usage"`
	// Model is the model that answered, as the provider reports it.
	Model string `json:"model,omitempty"`
}

// FinishReason is why the model stopped.
type FinishReason string

// Finish reasons. Adapters derive them from the answer where the provider's
// own is misleading (Gemini reports STOP for function calls).
const (
	FinishStop      FinishReason = "stop"       // a complete answer
	FinishToolCalls FinishReason = "tool_calls" // the model wants tool results
	FinishLength    FinishReason = "length"     // cut at MaxOutputTokens
	FinishBlocked   FinishReason = "blocked"    // stopped by a safety filter
	FinishOther     FinishReason = "other"
)

// Usage counts the tokens of one call.
type Usage struct {
	InputTokens       int `json:"input_tokens"`
	OutputTokens      int `json:"output_tokens"`
	CachedInputTokens int `json:"cached_input_tokens,omitempty"`
	ReasoningTokens   int `json:"reasoning_tokens,omitempty"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:       u.InputTokens + v.InputTokens,
		OutputTokens:      u.OutputTokens + v.OutputTokens,
		CachedInputTokens: u.CachedInputTokens + v.CachedInputTokens,
		ReasoningTokens:   u.ReasoningTokens + v.ReasoningTokens,
	}
}
