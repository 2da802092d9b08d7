package llmtest_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

// A scripted model first calls a tool, then answers with its result, as in
// one turn of a tool loop.
func ExampleScripted() {
	model := llmtest.NewScripted(
		llmtest.ToolCalls(llm.ToolCall{Name: "get_weather", Args: json.RawMessage(`{"city":"Lima"}`)}),
		llmtest.Reply("It is 19 °C in Lima."),
	)
	ctx := context.Background()
	req := &llm.Request{Messages: []llm.Message{llm.UserText("Weather in Lima?")}}

	resp, err := model.Generate(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	call := resp.Message.ToolCalls()[0]
	fmt.Println(resp.FinishReason, call.ID, call.Name, string(call.Args))

	// Run the tool and send its result back.
	req.Messages = append(req.Messages, resp.Message, llm.Message{
		Role:  llm.ToolRole,
		Parts: []llm.Part{llm.ToolResultPart(llm.ToolResult{CallID: call.ID, Name: call.Name, Content: `{"temp_c":19}`})},
	})
	resp, err = model.Generate(ctx, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.FinishReason, resp.Message.Text())

	// The script is exhausted.
	_, err = model.Generate(ctx, req)
	fmt.Println(err)

	recorded := model.Requests()
	fmt.Println(model.Calls(), "calls; the second sent", len(recorded[1].Messages), "messages")
	// Output:
	// tool_calls call_1 get_weather {"city":"Lima"}
	// stop It is 19 °C in Lima.
	// llm: scripted: invalid request: llmtest: script exhausted
	// 3 calls; the second sent 3 messages
}

func ExampleScripted_SetDefault() {
	model := llmtest.NewScripted(llmtest.Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrUnavailable, StatusCode: 503}))
	model.SetDefault(llmtest.Reply("Back again."))
	req := &llm.Request{Messages: []llm.Message{llm.UserText("Hello?")}}

	for range 3 {
		resp, err := model.Generate(context.Background(), req)
		if err != nil {
			fmt.Println("retryable:", llm.Retryable(err), err)
			continue
		}
		fmt.Println(resp.Message.Text())
	}
	// Output:
	// retryable: true llm: scripted: provider unavailable (HTTP 503)
	// Back again.
	// Back again.
}

func ExampleEcho() {
	model := llmtest.Echo{Prefix: "You said: "}
	req := &llm.Request{Messages: []llm.Message{
		llm.UserText("Hi"),
		llm.AssistantText("Hello! How can I help?"),
		llm.UserText("Do you ship to Cusco?"),
	}}
	resp, err := model.Generate(context.Background(), req)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Message.Text())
	fmt.Println(resp.Usage.InputTokens, "words in,", resp.Usage.OutputTokens, "words out")
	// Output:
	// You said: Do you ship to Cusco?
	// 11 words in, 7 words out
}

func ExampleRequest() {
	for _, c := range []llmtest.Case{llmtest.CaseText, llmtest.CaseToolResult} {
		b, err := json.Marshal(llmtest.Request(c))
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %s\n", c, b)
	}
	// Output:
	// text: {"system":"You are a shop assistant.","messages":[{"role":"user","parts":[{"kind":"text","text":"Say hello."}]}]}
	// tool_result: {"messages":[{"role":"user","parts":[{"kind":"text","text":"Weather in Lima?"}]},{"role":"assistant","parts":[{"kind":"tool_call","tool_call":{"id":"call_lima","name":"get_weather","args":"{\"city\":\"Lima\"}"}}]},{"role":"tool","parts":[{"kind":"tool_result","tool_result":{"call_id":"call_lima","name":"get_weather","content":"{\"temp_c\":19}"}}]}],"tools":[{"name":"get_weather","description":"Returns the current weather in a city.","parameters":{"type":"object","properties":{"city":{"type":"string","description":"The city's name."}},"required":["city"]}}]}
}
