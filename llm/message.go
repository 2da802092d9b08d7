package llm

import (
	"encoding/json"
	"strings"
)

// Role is who a [Message] is from.
type Role string

// Roles. The instructions are not a message: see Request.System.
const (
	User      Role = "user"
	Assistant Role = "assistant"
	// ToolRole messages carry the results of the assistant's tool calls
	// that precede them, one ToolResult part per call.
	ToolRole Role = "tool"
)

// Message is one message of a conversation, made of typed parts.
type Message struct {
	Role  Role   `json:"role"`
	Parts []Part `json:"parts"`
}

// Text returns the concatenated text parts of m.
func (m Message) Text() string {
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Kind == KindText {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// ToolCalls returns the tool calls of m, in order.
func (m Message) ToolCalls() []ToolCall {
	var calls []ToolCall
	for _, p := range m.Parts {
		if p.Kind == KindToolCall && p.ToolCall != nil {
			calls = append(calls, *p.ToolCall)
		}
	}
	return calls
}

// PartKind is the kind of a [Part].
type PartKind string

// Part kinds.
const (
	KindText       PartKind = "text"
	KindImage      PartKind = "image"
	KindAudio      PartKind = "audio"
	KindDocument   PartKind = "document"
	KindToolCall   PartKind = "tool_call"
	KindToolResult PartKind = "tool_result"
	KindReasoning  PartKind = "reasoning" // the model's visible reasoning summary
)

// Part is one piece of a message. Kind says which fields are used: Text for
// text and reasoning; MIMEType with Data or URL for media; ToolCall;
// ToolResult.
type Part struct {
	Kind PartKind `json:"kind"`
	Text string   `json:"text,omitempty"`

	MIMEType string `json:"mime_type,omitempty"`
	// Data is media content inline; URL references it instead.
	Data     []byte `json:"data,omitempty"`
	URL      string `json:"url,omitempty"`
	Filename string `json:"filename,omitempty"`

	ToolCall   *ToolCall   `json:"tool_call,omitempty"`
	ToolResult *ToolResult `json:"tool_result,omitempty"`

	// Opaque is provider state attached to this part that must be sent back
	// byte for byte when the message is replayed (Gemini thought
	// signatures). It survives a round trip through any store.
	Opaque Opaque `json:"opaque,omitzero"`
}

// Opaque is provider state carried on a [Part]. Adapters only replay state
// whose Provider is their own name.
type Opaque struct {
	Provider string `json:"provider,omitempty"`
	Data     []byte `json:"data,omitempty"`
}

// IsZero reports whether o holds nothing.
func (o Opaque) IsZero() bool { return o.Provider == "" && len(o.Data) == 0 }

// ToolCall is a model's request to call a tool.
type ToolCall struct {
	// ID links the call to its result. Adapters synthesize one when the
	// model gave none and set Synthetic, so that it is never sent back to a
	// provider that did not issue it.
	ID        string `json:"id"`
	Synthetic bool   `json:"synthetic,omitempty"`
	Name      string `json:"name"`
	// Args is the arguments object as the model wrote it. It may be
	// invalid JSON; the agent then answers with an error result.
	Args json.RawMessage `json:"args,omitempty"`
}

// toolCallJSON is the stored form of a ToolCall: Args travel as a JSON
// string, so that arguments a model wrote as invalid JSON still round-trip
// byte for byte through any store (encoding/json refuses to marshal an
// invalid json.RawMessage and compacts a valid one).
type toolCallJSON struct {
	ID        string `json:"id"`
	Synthetic bool   `json:"synthetic,omitempty"`
	Name      string `json:"name"`
	Args      string `json:"args,omitempty"`
}

// MarshalJSON implements [json.Marshaler]: Args are encoded as a string.
func (c ToolCall) MarshalJSON() ([]byte, error) {
	return json.Marshal(toolCallJSON{ID: c.ID, Synthetic: c.Synthetic, Name: c.Name, Args: string(c.Args)})
}

// UnmarshalJSON implements [json.Unmarshaler], reading what MarshalJSON
// writes.
func (c *ToolCall) UnmarshalJSON(b []byte) error {
	var v toolCallJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = ToolCall{ID: v.ID, Synthetic: v.Synthetic, Name: v.Name}
	if v.Args != "" {
		c.Args = json.RawMessage(v.Args)
	}
	return nil
}

// ToolResult is the outcome of one tool call.
type ToolResult struct {
	CallID string `json:"call_id"`
	Name   string `json:"name"`
	// Content is the result as text, usually JSON.
	Content string `json:"content"`
	// IsError marks Content as an error message for the model to read.
	IsError bool `json:"is_error,omitempty"`
}

// TextPart returns a text part.
func TextPart(s string) Part { return Part{Kind: KindText, Text: s} }

// ToolCallPart returns a part holding c.
func ToolCallPart(c ToolCall) Part { return Part{Kind: KindToolCall, ToolCall: &c} }

// ToolResultPart returns a part holding r.
func ToolResultPart(r ToolResult) Part { return Part{Kind: KindToolResult, ToolResult: &r} }

// UserText returns a user message with one text part.
func UserText(s string) Message { return Message{Role: User, Parts: []Part{TextPart(s)}} }

// AssistantText returns an assistant message with one text part.
func AssistantText(s string) Message { return Message{Role: Assistant, Parts: []Part{TextPart(s)}} }
