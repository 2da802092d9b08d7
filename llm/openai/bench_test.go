package openai

import (
	"encoding/json"
	"testing"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

// benchRequest is a typical request of the agent: instructions, a
// conversation of a dozen messages with one round of tool calls, and three
// tools.
func benchRequest() *llm.Request {
	req := &llm.Request{System: "You are the assistant of a pizzeria. Answer briefly."}
	for i := range 4 {
		req.Messages = append(req.Messages,
			llm.UserText("Do you deliver to Miraflores? I would like two large pizzas."),
			llm.AssistantText("Yes, we deliver there. Which pizzas would you like?"))
		if i == 2 {
			req.Messages = append(req.Messages,
				llm.Message{Role: llm.Assistant, Parts: []llm.Part{
					llm.ToolCallPart(llm.ToolCall{ID: "call_1", Name: "menu", Args: json.RawMessage(`{"category":"pizza"}`)}),
					llm.ToolCallPart(llm.ToolCall{ID: "call_2", Name: llmtest.WeatherTool, Args: json.RawMessage(`{"city":"Lima"}`)}),
				}},
				llm.Message{Role: llm.ToolRole, Parts: []llm.Part{
					llm.ToolResultPart(llm.ToolResult{CallID: "call_1", Name: "menu", Content: `{"items":["margherita","pepperoni"]}`}),
					llm.ToolResultPart(llm.ToolResult{CallID: "call_2", Name: llmtest.WeatherTool, Content: `{"temp_c":19}`}),
				}})
		}
	}
	req.Messages = append(req.Messages, llm.UserText("Two margheritas, please."))
	schema := json.RawMessage(llmtest.WeatherToolSchema)
	req.Tools = []llm.Tool{
		{Name: llmtest.WeatherTool, Description: "Returns the weather.", Parameters: schema},
		{Name: "menu", Description: "Returns the menu.", Parameters: json.RawMessage(`{"type":"object","properties":{"category":{"type":"string","enum":["pizza","drinks"]}}}`)},
		{Name: "order", Description: "Places an order.", Parameters: json.RawMessage(`{"type":"object","properties":{"items":{"type":"array","items":{"type":"string"}}},"required":["items"]}`)},
	}
	return req
}

// BenchmarkTranslate measures the translation of an llm.Request into
// go-openai's request, without the network or go-openai's encoding.
func BenchmarkTranslate(b *testing.B) {
	p, err := New("k", nil)
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.translate(req, nil, "nonce"); err != nil {
			b.Fatal(err)
		}
	}
}
