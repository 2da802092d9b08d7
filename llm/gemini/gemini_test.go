package gemini_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/gemini"
	"github.com/wagent/wagent/llm/llmtest"
)

func serve(t *testing.T, status int, body string) *gemini.Provider {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "k", r.Header.Get("x-goog-api-key"))
		assert.True(t, strings.HasPrefix(r.URL.Path, "/v1beta/models/"), r.URL.Path)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	p, err := gemini.New(t.Context(), "k", &gemini.Options{BaseURL: srv.URL})
	require.NoError(t, err)
	return p
}

func TestToolCallSignature(t *testing.T) {
	p := serve(t, 200, `{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Lima"}},"thoughtSignature":"c2ln"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5,"candidatesTokenCount":3}}`)
	resp, err := p.Generate(t.Context(), llmtest.Request(llmtest.CaseToolCall))
	require.NoError(t, err)
	assert.Equal(t, llm.FinishToolCalls, resp.FinishReason)
	calls := resp.Message.ToolCalls()
	require.Len(t, calls, 1)
	assert.True(t, calls[0].Synthetic)
	assert.Equal(t, []byte("sig"), resp.Message.Parts[0].Opaque.Data)
	assert.Equal(t, 5, resp.Usage.InputTokens)
}

func TestRateLimited(t *testing.T) {
	p := serve(t, 429, `{"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}`)
	_, err := p.Generate(t.Context(), llmtest.Request(llmtest.CaseText))
	require.ErrorIs(t, err, llm.ErrRateLimited)
	var e *llm.Error
	require.ErrorAs(t, err, &e)
	assert.Positive(t, e.RetryAfter)
}
