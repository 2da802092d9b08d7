package gemini_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/gemini"
	"github.com/wagent/wagent/llm/llmtest"
)

// benchRequest is a typical request of the agent: instructions, a
// conversation of a dozen messages with one round of parallel tool calls
// carrying a thought signature, and three tools.
func benchRequest() *llm.Request {
	req := &llm.Request{System: "You are the assistant of a pizzeria. Answer briefly."}
	for i := range 4 {
		req.Messages = append(req.Messages,
			llm.UserText("Do you deliver to Miraflores? I would like two large pizzas."),
			llm.AssistantText("Yes, we deliver there. Which pizzas would you like?"))
		if i == 2 {
			sig := llm.Opaque{Provider: gemini.Name, Data: []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")}
			call := llm.ToolCallPart(llm.ToolCall{ID: "call_1", Name: "menu", Args: json.RawMessage(`{"category":"pizza"}`)})
			call.Opaque = sig
			req.Messages = append(req.Messages,
				llm.Message{Role: llm.Assistant, Parts: []llm.Part{
					call,
					llm.ToolCallPart(llm.ToolCall{ID: "call_2", Name: llmtest.WeatherTool, Args: json.RawMessage(`{"city":"Lima"}`)}),
				}},
				llm.Message{Role: llm.ToolRole, Parts: []llm.Part{
					llm.ToolResultPart(llm.ToolResult{CallID: "call_1", Name: "menu", Content: `{"items":["margherita","pepperoni"]}`}),
					llm.ToolResultPart(llm.ToolResult{CallID: "call_2", Name: llmtest.WeatherTool, Content: `{"temp_c":19}`}),
				}})
		}
	}
	req.Messages = append(req.Messages, llm.UserText("Two margheritas, please."))
	req.Tools = []llm.Tool{
		{Name: llmtest.WeatherTool, Description: "Returns the weather.", Parameters: json.RawMessage(llmtest.WeatherToolSchema)},
		{Name: "menu", Description: "Returns the menu.", Parameters: json.RawMessage(`{"type":"object","properties":{"category":{"type":"string","enum":["pizza","drinks"]}}}`)},
		{Name: "order", Description: "Places an order.", Parameters: json.RawMessage(`{"type":"object","properties":{"items":{"type":"array","items":{"type":"string"}}},"required":["items"]}`)},
	}
	return req
}

// BenchmarkGenerate measures one Generate round trip against a loopback
// fake: the request's translation and encoding by the adapter and the SDK,
// the HTTP exchange, and the parsing of a recorded answer with a tool call
// and a thought signature.
func BenchmarkGenerate(b *testing.B) {
	answer := loadRecorded(b, "parallel_tool_calls.response.json").Body
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.Write(answer)
	}))
	defer srv.Close()
	p, err := gemini.New(b.Context(), testKey, &gemini.Options{BaseURL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := p.Generate(b.Context(), req)
		if err != nil {
			b.Fatal(err)
		}
		if len(resp.Message.ToolCalls()) != 2 {
			b.Fatal("the answer's two tool calls were not read")
		}
	}
}
