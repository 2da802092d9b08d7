package openai_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/openai"
)

// A provider pointed at a test server that answers like the Chat
// Completions API (as Ollama, vLLM or a gateway would at their own URL).
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1764928800,"model":"gpt-4o-mini",`+
			`"choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help?"},"finish_reason":"stop"}],`+
			`"usage":{"prompt_tokens":9,"completion_tokens":6,"total_tokens":15}}`)
	}))
	defer srv.Close()

	p, err := openai.New("my-api-key", &openai.Options{BaseURL: srv.URL + "/v1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := p.Generate(context.Background(), &llm.Request{
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
