package gemini_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/gemini"
)

// A provider pointed at a test server that answers like the Gemini API.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"text":"Hello! How can I help?"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":6}}`)
	}))
	defer srv.Close()

	ctx := context.Background()
	p, err := gemini.New(ctx, "my-api-key", &gemini.Options{BaseURL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := p.Generate(ctx, &llm.Request{
		System:   "You are a shop assistant.",
		Messages: []llm.Message{llm.UserText("Hi!")},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Message.Text())
	fmt.Println(resp.FinishReason, resp.Usage.InputTokens, resp.Usage.OutputTokens)
	// Output:
	// Hello! How can I help?
	// stop 9 6
}

// A tool call answered with STOP by Gemini finishes with tool_calls; the
// call gets a synthesized id, which is never sent back.
func Example_toolCall() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Lima"}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP"}]}`)
	}))
	defer srv.Close()

	ctx := context.Background()
	p, err := gemini.New(ctx, "my-api-key", &gemini.Options{BaseURL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := p.Generate(ctx, &llm.Request{
		Messages: []llm.Message{llm.UserText("Weather in Lima?")},
		Tools:    []llm.Tool{{Name: "get_weather", Parameters: []byte(`{"type":"object","properties":{"city":{"type":"string"}}}`)}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	call := resp.Message.ToolCalls()[0]
	fmt.Println(resp.FinishReason, call.Name, string(call.Args), call.Synthetic)
	fmt.Printf("signature kept: %q\n", resp.Message.Parts[0].Opaque.Data)
	// Output:
	// tool_calls get_weather {"city":"Lima"} true
	// signature kept: "sig"
}
