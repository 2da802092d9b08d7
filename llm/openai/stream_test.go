package openai_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

func parallelRequest() *llm.Request { return llmtest.Request(llmtest.CaseParallelToolCalls) }

// drain collects a stream's texts and final response, or its error.
func drain(t *testing.T, s llm.Streamer, ctx context.Context, req *llm.Request) ([]string, *llm.Response, error) {
	t.Helper()
	var texts []string
	var final *llm.Response
	for c, err := range s.Stream(ctx, req) {
		if err != nil {
			return texts, final, err
		}
		require.Nil(t, final, "the chunk with the Response must be the last")
		if c.Text != "" {
			texts = append(texts, c.Text)
		}
		final = c.Response
	}
	return texts, final, nil
}

func TestStream(t *testing.T) {
	t.Run("text arrives in pieces, usage at the end", func(t *testing.T) {
		f := newFake(t, exchange{request: "stream.request.json", response: "stream_text.response.json"})
		texts, resp, err := drain(t, f.provider(t, nil), t.Context(), chat(nil))
		require.NoError(t, err)
		assert.Equal(t, []string{"Hello", " from", " wagent."}, texts)
		require.NotNil(t, resp)
		assert.Equal(t, llmtest.TextReply, resp.Message.Text())
		assert.Equal(t, llm.Assistant, resp.Message.Role)
		assert.Equal(t, llm.FinishStop, resp.FinishReason)
		assert.Equal(t, llm.Usage{InputTokens: 19, OutputTokens: 4}, resp.Usage)
		assert.Equal(t, "gpt-4.1-mini-2025-04-14", resp.Model)
	})

	t.Run("tool call fragments are assembled by index", func(t *testing.T) {
		f := newFake(t, exchange{request: "stream_tool.request.json", response: "stream_tool_calls.response.json"})
		texts, resp, err := drain(t, f.provider(t, nil), t.Context(), parallelRequest())
		require.NoError(t, err)
		assert.Empty(t, texts)
		require.NotNil(t, resp)
		assert.Equal(t, llm.FinishToolCalls, resp.FinishReason)
		assert.Equal(t, []llm.ToolCall{
			{ID: "call_Lm4QwE7rTy1uIo9P", Name: llmtest.WeatherTool, Args: []byte(`{"city":"Lima"}`)},
			{ID: "call_Zx8CvB5nMa3sDf6G", Name: llmtest.WeatherTool, Args: []byte(`{"city":"Cusco"}`)},
		}, resp.Message.ToolCalls())
		assert.Equal(t, llm.Usage{InputTokens: 60, OutputTokens: 40}, resp.Usage)
	})

	t.Run("calls that reuse index 0 are told apart by id", func(t *testing.T) {
		f := newFake(t, exchange{request: "stream_tool.request.json", response: "stream_ollama_tool_calls.response.json"})
		_, resp, err := drain(t, f.provider(t, nil), t.Context(), parallelRequest())
		require.NoError(t, err)
		require.NotNil(t, resp)
		assert.Equal(t, llm.FinishToolCalls, resp.FinishReason, "Ollama says stop for tool calls")
		assert.Equal(t, []llm.ToolCall{
			{ID: "call_u1kx0a2b", Name: llmtest.WeatherTool, Args: []byte(`{"city":"Lima"}`)},
			{ID: "call_9zq3c4d5", Name: llmtest.WeatherTool, Args: []byte(`{"city":"Cusco"}`)},
		}, resp.Message.ToolCalls())
	})

	t.Run("a stream cut before the finish reason is unavailable", func(t *testing.T) {
		f := newFake(t, exchange{request: "stream.request.json", response: "stream_unterminated.response.json"})
		texts, _, err := drain(t, f.provider(t, nil), t.Context(), chat(nil))
		require.ErrorIs(t, err, llm.ErrUnavailable)
		assert.Equal(t, []string{"Hello"}, texts)
	})

	t.Run("an error event ends the stream", func(t *testing.T) {
		f := newFake(t, exchange{request: "stream.request.json", response: "stream_error_event.response.json"})
		_, _, err := drain(t, f.provider(t, nil), t.Context(), chat(nil))
		require.ErrorIs(t, err, llm.ErrUnavailable)
		var e *llm.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "server_error", e.Code)
		assert.Zero(t, e.StatusCode, "the error came after a 200")
		assert.NotContains(t, err.Error(), "Sorry about that")
	})

	t.Run("an error status before the stream", func(t *testing.T) {
		f := newFake(t, exchange{request: "stream.request.json", response: "rate_limited.response.json"})
		_, _, err := drain(t, f.provider(t, nil), t.Context(), chat(nil))
		require.ErrorIs(t, err, llm.ErrRateLimited)
		var e *llm.Error
		require.ErrorAs(t, err, &e)
		assert.Positive(t, e.RetryAfter)
	})

	t.Run("stopping early releases the stream", func(t *testing.T) {
		f := newFake(t, exchange{request: "stream.request.json", response: "stream_text.response.json"})
		n := 0
		for range f.provider(t, nil).Stream(t.Context(), chat(nil)) {
			n++
			break
		}
		assert.Equal(t, 1, n)
	})

	t.Run("cancelled mid-stream", func(t *testing.T) {
		first := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}`+"\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}))
		defer srv.Close()
		p := newFakeAt(t, srv.URL)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var err error
		for c, e := range p.Stream(ctx, chat(nil)) {
			if e != nil {
				err = e
				break
			}
			if c.Text == "Hel" {
				close(first)
				cancel()
			}
		}
		<-first
		require.ErrorIs(t, err, context.Canceled)
		var le *llm.Error
		assert.False(t, errors.As(err, &le), "a cancelled stream is not an *llm.Error")
	})

	t.Run("a cancelled context", func(t *testing.T) {
		f := newFake(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, _, err := drain(t, f.provider(t, nil), ctx, chat(nil))
		require.ErrorIs(t, err, context.Canceled)
	})
}
