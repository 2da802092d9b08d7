package gemini_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/gemini"
	"github.com/wagent/wagent/llm/llmtest"
)

var _ llm.Streamer = (*gemini.Provider)(nil)

// collect runs a stream to its end and returns the text and reasoning
// chunks, the final response and the error that ended it.
func collect(t *testing.T, p *gemini.Provider, ctx context.Context, req *llm.Request) (texts, reasoning []string, resp *llm.Response, err error) {
	t.Helper()
	for c, e := range p.Stream(ctx, req) {
		if e != nil {
			err = e
			break
		}
		require.Nil(t, resp, "the response comes in the last chunk only")
		if c.Text != "" {
			texts = append(texts, c.Text)
		}
		if c.Reasoning != "" {
			reasoning = append(reasoning, c.Reasoning)
		}
		resp = c.Response
	}
	return texts, reasoning, resp, err
}

func TestStreamText(t *testing.T) {
	f := newFake(t,
		exchange{stream: true, request: "text.request.json", response: "stream_text.response.json"},
		exchange{request: "replay_stream.request.json", response: "text.response.json"},
	)
	t.Cleanup(f.done)
	p := f.provider(t, nil)
	req := llmtest.Request(llmtest.CaseText)
	texts, _, resp, err := collect(t, p, t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, []string{"Hello ", "from wagent."}, texts)
	require.NotNil(t, resp)
	assert.Equal(t, llmtest.TextReply, resp.Message.Text())
	assert.Equal(t, llm.FinishStop, resp.FinishReason)
	assert.Equal(t, llm.Usage{InputTokens: 11, OutputTokens: 25, ReasoningTokens: 20}, resp.Usage, "the last chunk's totals count")
	// The text is merged; the signature that came on an empty part at the
	// end is kept on its own part and replayed.
	require.Len(t, resp.Message.Parts, 2)
	assert.Equal(t, []byte("stream-signature"), resp.Message.Parts[1].Opaque.Data)

	req.Messages = append(req.Messages, roundTrip(t, resp.Message), llm.UserText("Bye."))
	_, err = p.Generate(t.Context(), req)
	require.NoError(t, err)
}

func TestStreamToolCalls(t *testing.T) {
	f := newFake(t, exchange{stream: true, request: "tool_call.request.json", response: "stream_tool_calls.response.json"})
	t.Cleanup(f.done)
	texts, reasoning, resp, err := collect(t, f.provider(t, nil), t.Context(), llmtest.Request(llmtest.CaseToolCall))
	require.NoError(t, err)
	assert.Empty(t, texts)
	assert.Equal(t, []string{"**Looking up two cities**"}, reasoning)
	require.NotNil(t, resp)
	assert.Equal(t, llm.FinishToolCalls, resp.FinishReason, "Gemini says STOP; the calls decide")
	calls := resp.Message.ToolCalls()
	require.Len(t, calls, 2, "calls of separate chunks are all kept")
	assert.NotEqual(t, calls[0].ID, calls[1].ID)
	for i, city := range []string{llmtest.Lima, llmtest.Cusco} {
		var args map[string]string
		require.NoError(t, json.Unmarshal(calls[i].Args, &args))
		assert.Equal(t, city, args["city"])
		assert.True(t, calls[i].Synthetic)
	}
	require.Len(t, resp.Message.Parts, 3)
	assert.Equal(t, llm.KindReasoning, resp.Message.Parts[0].Kind)
	assert.Equal(t, []byte("sig-lima"), resp.Message.Parts[1].Opaque.Data)
	assert.Equal(t, llm.Usage{InputTokens: 55, OutputTokens: 42, ReasoningTokens: 12}, resp.Usage)
}

func TestStreamFailures(t *testing.T) {
	cases := []struct {
		name     string
		response string
		texts    []string
		kind     error
	}{
		{name: "error event after text", response: "stream_error_event.response.json", texts: []string{"Hello "}, kind: llm.ErrUnavailable},
		{name: "cut without a finish reason", response: "stream_cut.response.json", texts: []string{"Hello "}, kind: llm.ErrUnavailable},
		{name: "prompt blocked", response: "stream_blocked.response.json", kind: llm.ErrContentBlocked},
		{name: "429 before the stream", response: "rate_limited.response.json", kind: llm.ErrRateLimited},
		{name: "401 before the stream", response: "auth.response.json", kind: llm.ErrAuth},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, exchange{stream: true, request: "text.request.json", response: tc.response})
			t.Cleanup(f.done) // and no second request: the SDK does not reconnect
			texts, _, resp, err := collect(t, f.provider(t, nil), t.Context(), llmtest.Request(llmtest.CaseText))
			require.ErrorIs(t, err, tc.kind)
			assert.Nil(t, resp)
			assert.Equal(t, tc.texts, texts)
			var e *llm.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, gemini.Name, e.Provider)
			if tc.kind == llm.ErrRateLimited {
				assert.Positive(t, e.RetryAfter)
			}
		})
	}
}

func TestStreamCancelled(t *testing.T) {
	f := newFake(t) // nothing may be sent
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, _, _, err := collect(t, f.provider(t, nil), ctx, llmtest.Request(llmtest.CaseText))
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, llm.Retryable(err))
}

// TestStreamStopEarly stops reading after the first chunk: the server sees
// the connection closed.
func TestStreamStopEarly(t *testing.T) {
	gone := make(chan struct{})
	f := newFake(t, exchange{stream: true, request: "text.request.json", handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte(`data: {"candidates":[{"content":{"parts":[{"text":"Hello "}],"role":"model"},"index":0}]}` + "\r\n\r\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
		close(gone)
	}})
	t.Cleanup(f.done)
	n := 0
	for c, err := range f.provider(t, nil).Stream(t.Context(), llmtest.Request(llmtest.CaseText)) {
		require.NoError(t, err)
		assert.Equal(t, "Hello ", c.Text)
		n++
		break
	}
	assert.Equal(t, 1, n)
	<-gone
}
