package gemini_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/gemini"
	"github.com/wagent/wagent/llm/llmtest"
)

// requestGolden names the golden request of a conformance case: the cases
// that send the CaseText request share its golden.
func requestGolden(c llmtest.Case) string {
	switch c {
	case llmtest.CaseRateLimited, llmtest.CaseUnavailable, llmtest.CaseContextTooLong,
		llmtest.CaseContentBlocked, llmtest.CaseAuth:
		return "text.request.json"
	}
	return c.String() + ".request.json"
}

func TestConformance(t *testing.T) {
	llmtest.Run(t, func(t *testing.T, c llmtest.Case) llm.Provider {
		if c == llmtest.CaseCancelled {
			f := newFake(t) // any request fails the test
			return f.provider(t, nil)
		}
		f := newFake(t, exchange{request: requestGolden(c), response: c.String() + ".response.json"})
		t.Cleanup(f.done)
		return f.provider(t, nil)
	})
}

func TestNew(t *testing.T) {
	_, err := gemini.New(t.Context(), "", nil)
	require.Error(t, err, "the Gemini API needs a key")
	assert.True(t, strings.HasPrefix(err.Error(), "gemini: "), err.Error())
	_, err = gemini.New(t.Context(), "k", &gemini.Options{BaseURL: "://no scheme"})
	require.Error(t, err, "a base URL that is not an absolute URL is refused")
	_, err = gemini.New(t.Context(), "k", &gemini.Options{BaseURL: "ftp://example.com/"})
	require.Error(t, err, "a base URL that is not HTTP is refused")
	p, err := gemini.New(t.Context(), "k", nil)
	require.NoError(t, err)
	assert.Equal(t, "gemini", p.Name())
}

// TestEnvironmentIgnored checks that the key, the base URL and the backend
// come from the configuration only, whatever the environment says.
func TestEnvironmentIgnored(t *testing.T) {
	t.Setenv("GOOGLE_API_KEY", "env-google-key")
	t.Setenv("GEMINI_API_KEY", "env-gemini-key")
	t.Setenv("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:1/")
	t.Setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
	t.Setenv("GOOGLE_CLOUD_PROJECT", "env-project")
	t.Setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
	f := newFake(t, exchange{
		request:  "text.request.json",
		response: "text.response.json",
		check: func(t *testing.T, r *http.Request, _ []byte) {
			assert.Equal(t, []string{testKey}, r.Header.Values("x-goog-api-key"), "only the configured key is sent")
			for name, values := range r.Header {
				for _, v := range values {
					assert.NotContains(t, v, "env-", "header %s carries a value from the environment", name)
				}
			}
			assert.NotContains(t, r.URL.String(), "env-project")
		},
	})
	resp, err := f.provider(t, nil).Generate(t.Context(), llmtest.Request(llmtest.CaseText))
	require.NoError(t, err)
	assert.Equal(t, llmtest.TextReply, resp.Message.Text())
	f.done()
}

// TestBaseURLWithPath checks that a gateway mounted under a path is
// reached there.
func TestBaseURLWithPath(t *testing.T) {
	var path atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path.Store(r.URL.Path)
		io.Copy(io.Discard, r.Body)
		loadRecorded(t, "text.response.json").write(w)
	}))
	t.Cleanup(srv.Close)
	p, err := gemini.New(t.Context(), testKey, &gemini.Options{BaseURL: srv.URL + "/gateway/google"})
	require.NoError(t, err)
	_, err = p.Generate(t.Context(), llmtest.Request(llmtest.CaseText))
	require.NoError(t, err)
	assert.Equal(t, "/gateway/google/v1beta/models/"+gemini.DefaultModel+":generateContent", path.Load())
}

// roundTrip returns m after a JSON round trip, as a store keeps it.
func roundTrip(t *testing.T, m llm.Message) llm.Message {
	t.Helper()
	b, err := json.Marshal(m)
	require.NoError(t, err)
	var out llm.Message
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// TestReplayParallelCalls runs a tool turn: two calls with ids and a thought
// signature, stored and loaded again, answered in one user content.
func TestReplayParallelCalls(t *testing.T) {
	f := newFake(t,
		exchange{request: "parallel_tool_calls.request.json", response: "parallel_tool_calls.response.json"},
		exchange{request: "replay_parallel.request.json", response: "tool_result.response.json"},
	)
	t.Cleanup(f.done)
	p := f.provider(t, nil)
	req := llmtest.Request(llmtest.CaseParallelToolCalls)
	resp, err := p.Generate(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, llm.FinishToolCalls, resp.FinishReason, "Gemini says STOP; the calls decide")
	calls := resp.Message.ToolCalls()
	require.Len(t, calls, 2)
	assert.Equal(t, "fc_lima_1", calls[0].ID)
	assert.Equal(t, "fc_cusco_2", calls[1].ID)
	assert.False(t, calls[0].Synthetic)
	assert.Equal(t, gemini.Name, resp.Message.Parts[0].Opaque.Provider)
	assert.NotEmpty(t, resp.Message.Parts[0].Opaque.Data)
	assert.True(t, resp.Message.Parts[1].Opaque.IsZero(), "only the first call carries a signature")

	stored := roundTrip(t, resp.Message)
	req.Messages = append(req.Messages, stored,
		llm.Message{Role: llm.ToolRole, Parts: []llm.Part{
			llm.ToolResultPart(llm.ToolResult{CallID: calls[0].ID, Name: llmtest.WeatherTool, Content: `{"temp_c":19}`}),
		}},
		// A second tool message of the same turn joins the first one's
		// content, and a result without its tool's name gets it from the
		// call.
		llm.Message{Role: llm.ToolRole, Parts: []llm.Part{
			llm.ToolResultPart(llm.ToolResult{CallID: calls[1].ID, Content: `{"temp_c":12}`}),
		}},
	)
	resp, err = p.Generate(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, llmtest.ToolResultReply, resp.Message.Text())
}

// TestReplaySyntheticIDs checks that ids the adapter made up for calls
// without one are never sent, while the signature is.
func TestReplaySyntheticIDs(t *testing.T) {
	f := newFake(t,
		exchange{request: "tool_call.request.json", response: "tool_call.response.json"},
		exchange{request: "replay_synthetic.request.json", response: "tool_result.response.json"},
	)
	t.Cleanup(f.done)
	p := f.provider(t, nil)
	req := llmtest.Request(llmtest.CaseToolCall)
	resp, err := p.Generate(t.Context(), req)
	require.NoError(t, err)
	calls := resp.Message.ToolCalls()
	require.Len(t, calls, 1)
	assert.True(t, calls[0].Synthetic, "Gemini gave no id")
	assert.NotEmpty(t, calls[0].ID)
	assert.JSONEq(t, `{"city":"Lima"}`, string(calls[0].Args))
	assert.Equal(t, llm.FinishToolCalls, resp.FinishReason)
	assert.Equal(t, llm.Usage{InputTokens: 52, OutputTokens: 68, ReasoningTokens: 53}, resp.Usage)

	req.Messages = append(req.Messages, roundTrip(t, resp.Message), llm.Message{Role: llm.ToolRole, Parts: []llm.Part{
		llm.ToolResultPart(llm.ToolResult{CallID: calls[0].ID, Name: llmtest.WeatherTool, Content: llmtest.LimaWeather}),
	}})
	_, err = p.Generate(t.Context(), req)
	require.NoError(t, err)
	assert.NotContains(t, string(f.body(1)), calls[0].ID, "a synthesized id is never sent")
}

// TestToolResultsWrapped checks how results that are not JSON objects are
// sent: as {"output": ...}, errors as {"error": ...}.
func TestToolResultsWrapped(t *testing.T) {
	f := newFake(t, exchange{request: "results_wrapped.request.json", response: "tool_result.response.json"})
	t.Cleanup(f.done)
	call := func(id, city string) llm.Part {
		return llm.ToolCallPart(llm.ToolCall{ID: id, Name: llmtest.WeatherTool, Args: json.RawMessage(`{"city":"` + city + `"}`)})
	}
	result := func(id, content string, isErr bool) llm.Part {
		return llm.ToolResultPart(llm.ToolResult{CallID: id, Name: llmtest.WeatherTool, Content: content, IsError: isErr})
	}
	req := llmtest.Request(llmtest.CaseParallelToolCalls)
	req.Messages = append(req.Messages,
		llm.Message{Role: llm.Assistant, Parts: []llm.Part{
			call("c1", "Lima"), call("c2", "Cusco"), call("c3", "Puno"), call("c4", "Tacna"), call("c5", "Ica"),
		}},
		llm.Message{Role: llm.ToolRole, Parts: []llm.Part{
			result("c1", `[19,21]`, false),
			result("c2", `sunny, 12 °C`, false),
			result("c3", `7`, false),
			result("c4", `{"code":"timeout"}`, true),
			result("c5", `service down`, true),
		}},
	)
	_, err := f.provider(t, nil).Generate(t.Context(), req)
	require.NoError(t, err)
}

// TestSchemaStripped checks that "$schema" is stripped from tool parameters
// and response schemas, also nested, that all functions go in one tool and
// that a property named "$schema" stays.
func TestSchemaStripped(t *testing.T) {
	f := newFake(t, exchange{request: "schema_strip.request.json", response: "structured.response.json"})
	t.Cleanup(f.done)
	req := &llm.Request{
		Messages: []llm.Message{llm.UserText("My order is A-1001")},
		Tools: []llm.Tool{
			{Name: llmtest.WeatherTool, Description: "Returns the weather.", Parameters: json.RawMessage(
				`{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object","properties":{"city":{"$schema":"x","type":"string"},"$schema":{"type":"string","description":"a property with that name"}},"$defs":{"unit":{"$schema":"x","type":"string","enum":["c","f"]}},"required":["city"]}`)},
			{Name: "order_status", Description: "Returns an order's status.", Parameters: json.RawMessage(
				`{"type":"object","properties":{"order_id":{"type":"string"},"items":{"type":"array","items":{"$schema":"x","type":"string"}}},"required":["order_id"]}`)},
			{Name: "handoff", Description: "Hands the conversation to a human."},
		},
		ResponseFormat: &llm.ResponseFormat{Name: llmtest.OrderFormat, Schema: json.RawMessage(
			`{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","properties":{"order_id":{"type":"string","default":{"$schema":"kept, a value"}}},"required":["order_id"]}`)},
	}
	before := req.Clone()
	resp, err := f.provider(t, nil).Generate(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, before, req, "the caller's schemas are not modified")
	assert.Equal(t, `{"order_id":"A-1001"}`, resp.Message.Text())
}

// TestMedia checks inline images, audio and PDFs, and file references.
func TestMedia(t *testing.T) {
	f := newFake(t, exchange{request: "media.request.json", response: "image.response.json"})
	t.Cleanup(f.done)
	req := &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{
		llm.TextPart("Here is my receipt, a voice note and a photo."),
		{Kind: llm.KindDocument, MIMEType: "application/pdf", Data: []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"), Filename: "receipt.pdf"},
		{Kind: llm.KindAudio, MIMEType: "audio/ogg", Data: []byte("OggS\x00\x02\x00\x00")},
		{Kind: llm.KindImage, MIMEType: "image/jpeg", Data: []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F'}},
		{Kind: llm.KindImage, MIMEType: "image/png", URL: "https://generativelanguage.googleapis.com/v1beta/files/abc123"},
	}}}}
	_, err := f.provider(t, nil).Generate(t.Context(), req)
	require.NoError(t, err)
}

// TestOptions checks the model, sampling and tool choice settings.
func TestOptions(t *testing.T) {
	temp := 0.2
	f := newFake(t,
		exchange{model: "gemini-2.5-pro", request: "options.request.json", response: "tool_call.response.json"},
		exchange{model: "gemini-2.5-flash-lite", request: "tool_choice_none.request.json", response: "text.response.json"},
	)
	t.Cleanup(f.done)
	p := f.provider(t, &gemini.Options{Model: "gemini-2.5-pro"})
	req := llmtest.Request(llmtest.CaseToolCall)
	req.System = "Answer in Spanish."
	req.Temperature = &temp
	req.MaxOutputTokens = 256
	req.ToolChoice = llm.ToolRequired
	_, err := p.Generate(t.Context(), req)
	require.NoError(t, err)

	req = llmtest.Request(llmtest.CaseToolCall)
	req.Model = "gemini-2.5-flash-lite"
	req.ToolChoice = llm.ToolNone
	_, err = p.Generate(t.Context(), req)
	require.NoError(t, err)
}

// TestResponses checks how answers are read: usage, reasoning, signatures
// on text, and finish reasons.
func TestResponses(t *testing.T) {
	cases := []struct {
		name     string
		response string
		check    func(t *testing.T, resp *llm.Response)
	}{
		{name: "usage and thoughts", response: "usage_details.response.json", check: func(t *testing.T, resp *llm.Response) {
			assert.Equal(t, llm.Usage{InputTokens: 1210, OutputTokens: 350, CachedInputTokens: 1024, ReasoningTokens: 310}, resp.Usage)
			assert.Equal(t, llm.FinishStop, resp.FinishReason)
			assert.Equal(t, "gemini-2.5-pro", resp.Model)
			require.Len(t, resp.Message.Parts, 2)
			assert.Equal(t, llm.KindReasoning, resp.Message.Parts[0].Kind)
			assert.Equal(t, "**Checking the menu**\n", resp.Message.Parts[0].Text)
			assert.Equal(t, "We have margherita and pepperoni.", resp.Message.Text())
			assert.Equal(t, llm.Opaque{Provider: gemini.Name, Data: []byte("signature-on-text")}, resp.Message.Parts[1].Opaque)
		}},
		{name: "max tokens", response: "finish_max_tokens.response.json", check: func(t *testing.T, resp *llm.Response) {
			assert.Equal(t, llm.FinishLength, resp.FinishReason)
			assert.Equal(t, "Our opening hours are", resp.Message.Text())
		}},
		{name: "answer stopped by safety", response: "finish_safety.response.json", check: func(t *testing.T, resp *llm.Response) {
			assert.Equal(t, llm.FinishBlocked, resp.FinishReason)
		}},
		{name: "prohibited content", response: "finish_prohibited.response.json", check: func(t *testing.T, resp *llm.Response) {
			assert.Equal(t, llm.FinishBlocked, resp.FinishReason)
			assert.Empty(t, resp.Message.Parts)
		}},
		{name: "malformed function call", response: "finish_malformed_call.response.json", check: func(t *testing.T, resp *llm.Response) {
			assert.Equal(t, llm.FinishOther, resp.FinishReason)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, exchange{response: tc.response})
			t.Cleanup(f.done)
			resp, err := f.provider(t, nil).Generate(t.Context(), llmtest.Request(llmtest.CaseText))
			require.NoError(t, err)
			assert.Equal(t, llm.Assistant, resp.Message.Role)
			tc.check(t, resp)
		})
	}
}

// TestReasoningReplay checks that the signature on a text part is sent
// back as it came, and that reasoning without a Gemini signature (a thought
// summary, another provider's reasoning) is not.
func TestReasoningReplay(t *testing.T) {
	f := newFake(t,
		exchange{response: "usage_details.response.json"},
		exchange{request: "replay_reasoning.request.json", response: "text.response.json"},
	)
	t.Cleanup(f.done)
	p := f.provider(t, nil)
	req := llmtest.Request(llmtest.CaseText)
	resp, err := p.Generate(t.Context(), req)
	require.NoError(t, err)
	req.Messages = append(req.Messages, roundTrip(t, resp.Message),
		llm.UserText("Thanks."),
		llm.Message{Role: llm.Assistant, Parts: []llm.Part{
			{Kind: llm.KindReasoning, Text: "another model's reasoning", Opaque: llm.Opaque{Provider: "openai", Data: []byte("x")}},
			llm.TextPart("You are welcome."),
		}},
		llm.UserText("Bye."))
	_, err = p.Generate(t.Context(), req)
	require.NoError(t, err)
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		headers    map[string]string
		body       string
		kind       error
		code       string
		retryAfter time.Duration
	}{
		{
			name: "429 with RetryInfo", status: 429,
			body: string(loadRecorded(t, "rate_limited.response.json").Body),
			kind: llm.ErrRateLimited, code: "RESOURCE_EXHAUSTED", retryAfter: 7 * time.Second,
		},
		{
			name: "429 with a fractional RetryInfo and a gateway's Retry-After", status: 429,
			headers: map[string]string{"Retry-After": "30"},
			body:    `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"1.5s"}]}}`,
			kind:    llm.ErrRateLimited, code: "RESOURCE_EXHAUSTED", retryAfter: 1500 * time.Millisecond,
		},
		{
			name: "429 from a gateway with Retry-After only", status: 429,
			headers: map[string]string{"Retry-After": "3"},
			body:    `{"error":{"code":429,"message":"too many requests","status":"RESOURCE_EXHAUSTED"}}`,
			kind:    llm.ErrRateLimited, code: "RESOURCE_EXHAUSTED", retryAfter: 3 * time.Second,
		},
		{
			name: "500 internal", status: 500,
			body: string(loadRecorded(t, "unavailable.response.json").Body),
			kind: llm.ErrUnavailable, code: "INTERNAL",
		},
		{
			name: "503 overloaded", status: 503,
			body: `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
			kind: llm.ErrUnavailable, code: "UNAVAILABLE",
		},
		{
			name: "504 deadline exceeded", status: 504,
			body: `{"error":{"code":504,"message":"The request timed out. Please try again.","status":"DEADLINE_EXCEEDED"}}`,
			kind: llm.ErrUnavailable, code: "DEADLINE_EXCEEDED",
		},
		{
			name: "502 with an HTML body", status: 502,
			body: `<html><body>Bad gateway</body></html>`,
			kind: llm.ErrUnavailable, code: "502 Bad Gateway",
		},
		{
			name: "400 input token count exceeds the maximum", status: 400,
			body: string(loadRecorded(t, "context_too_long.response.json").Body),
			kind: llm.ErrContextTooLong, code: "INVALID_ARGUMENT",
		},
		{
			name: "400 invalid API key", status: 400,
			body: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]}}`,
			kind: llm.ErrAuth, code: "INVALID_ARGUMENT",
		},
		{
			name: "401 unauthenticated", status: 401,
			body: string(loadRecorded(t, "auth.response.json").Body),
			kind: llm.ErrAuth, code: "UNAUTHENTICATED",
		},
		{
			name: "403 permission denied", status: 403,
			body: `{"error":{"code":403,"message":"Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.","status":"PERMISSION_DENIED"}}`,
			kind: llm.ErrAuth, code: "PERMISSION_DENIED",
		},
		{
			name: "400 invalid argument", status: 400,
			body: `{"error":{"code":400,"message":"Please ensure that function call turn comes immediately after a user turn or after a function response turn.","status":"INVALID_ARGUMENT"}}`,
			kind: llm.ErrInvalidRequest, code: "INVALID_ARGUMENT",
		},
		{
			name: "400 missing thought signature", status: 400,
			body: `{"error":{"code":400,"message":"Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly.","status":"INVALID_ARGUMENT"}}`,
			kind: llm.ErrInvalidRequest, code: "INVALID_ARGUMENT",
		},
		{
			name: "404 unknown model", status: 404,
			body: `{"error":{"code":404,"message":"models/gemini-x is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}`,
			kind: llm.ErrInvalidRequest, code: "NOT_FOUND",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := serveOnce(t, tc.status, tc.headers, tc.body)
			_, err := p.Generate(t.Context(), llmtest.Request(llmtest.CaseText))
			require.ErrorIs(t, err, tc.kind)
			var e *llm.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, gemini.Name, e.Provider)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.retryAfter, e.RetryAfter)
			var ve *gemini.VendorError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.status, ve.StatusCode)
			msg := err.Error()
			assert.True(t, strings.HasPrefix(msg, "llm: gemini: "), msg)
			for _, leak := range []string{"API key not valid", "quota", "function call turn", "Bad gateway", "token count", testKey} {
				assert.NotContains(t, msg, leak, "errors never carry the API's message")
			}
		})
	}
}

// TestPromptBlocked checks that a prompt refused by a filter fails with
// ErrContentBlocked and the block reason.
func TestPromptBlocked(t *testing.T) {
	f := newFake(t, exchange{response: "content_blocked.response.json"})
	_, err := f.provider(t, nil).Generate(t.Context(), llmtest.Request(llmtest.CaseText))
	require.ErrorIs(t, err, llm.ErrContentBlocked)
	assert.False(t, llm.Retryable(err))
	var e *llm.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "SAFETY", e.Code)
}

// TestNoRetries checks that the SDK sends each call once: no retries of
// failures, no automatic continuation.
func TestNoRetries(t *testing.T) {
	t.Run("503", func(t *testing.T) {
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}`)
		}))
		t.Cleanup(srv.Close)
		p, err := gemini.New(t.Context(), testKey, &gemini.Options{BaseURL: srv.URL})
		require.NoError(t, err)
		_, err = p.Generate(t.Context(), llmtest.Request(llmtest.CaseText))
		require.ErrorIs(t, err, llm.ErrUnavailable)
		assert.Equal(t, int32(1), calls.Load())
	})
	t.Run("continuation", func(t *testing.T) {
		f := newFake(t, exchange{response: "finish_continuation.response.json"})
		t.Cleanup(f.done) // a second request would fail the test
		resp, err := f.provider(t, nil).Generate(t.Context(), llmtest.Request(llmtest.CaseText))
		require.NoError(t, err)
		assert.Equal(t, llm.FinishOther, resp.FinishReason, "a cut answer is not complete")
		assert.Equal(t, "The first half", resp.Message.Text())
	})
}

// TestCancelInFlight cancels a call while the server holds it.
func TestCancelInFlight(t *testing.T) {
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The server notices the client's hang-up once the body is read.
		io.Copy(io.Discard, r.Body)
		close(arrived)
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	p, err := gemini.New(t.Context(), testKey, &gemini.Options{BaseURL: srv.URL})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err = p.Generate(ctx, llmtest.Request(llmtest.CaseText))
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, llm.Retryable(err), "a cancelled call is not retryable")
	var e *llm.Error
	assert.False(t, errors.As(err, &e), "a cancelled call is not classified")
}

// TestBadRequests checks requests refused before they are sent.
func TestBadRequests(t *testing.T) {
	cases := map[string]*llm.Request{
		"unknown role":           {Messages: []llm.Message{{Role: "system", Parts: []llm.Part{llm.TextPart("x")}}}},
		"empty user message":     {Messages: []llm.Message{{Role: llm.User}}},
		"tool call from a user":  {Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{llm.ToolCallPart(llm.ToolCall{ID: "a", Name: "b"})}}}},
		"media without data":     {Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{{Kind: llm.KindImage, MIMEType: "image/png"}}}}},
		"media without type":     {Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{{Kind: llm.KindImage, Data: []byte{1}}}}}},
		"text in a tool message": {Messages: []llm.Message{llm.UserText("x"), {Role: llm.ToolRole, Parts: []llm.Part{llm.TextPart("x")}}}},
		"result without a name": {Messages: []llm.Message{llm.UserText("x"), {Role: llm.ToolRole, Parts: []llm.Part{
			llm.ToolResultPart(llm.ToolResult{CallID: "unknown", Content: "{}"})}}}},
		"invalid schema":      {Messages: []llm.Message{llm.UserText("x")}, Tools: []llm.Tool{{Name: "t", Parameters: json.RawMessage(`{`)}}},
		"schema not object":   {Messages: []llm.Message{llm.UserText("x")}, ResponseFormat: &llm.ResponseFormat{Schema: json.RawMessage(`[1]`)}},
		"tool without name":   {Messages: []llm.Message{llm.UserText("x")}, Tools: []llm.Tool{{Description: "d"}}},
		"unknown tool choice": {Messages: []llm.Message{llm.UserText("x")}, Tools: []llm.Tool{{Name: "t"}}, ToolChoice: "any"},
		"required, no tools":  {Messages: []llm.Message{llm.UserText("x")}, ToolChoice: llm.ToolRequired},
		"negative max tokens": {Messages: []llm.Message{llm.UserText("x")}, MaxOutputTokens: -1},
	}
	f := newFake(t) // nothing may be sent
	p := f.provider(t, nil)
	for name, req := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := p.Generate(t.Context(), req)
			require.ErrorIs(t, err, llm.ErrInvalidRequest)
			var e *llm.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, gemini.Name, e.Provider)
			for _, err := range p.Stream(t.Context(), req) {
				require.ErrorIs(t, err, llm.ErrInvalidRequest)
			}
		})
	}
}

// TestConcurrentUse runs calls of one provider in parallel (run with -race).
func TestConcurrentUse(t *testing.T) {
	answer := loadRecorded(t, "text.response.json").Body
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		assertWire(t, "text.request.json", body)
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(answer)
	}))
	t.Cleanup(srv.Close)
	p, err := gemini.New(t.Context(), testKey, &gemini.Options{BaseURL: srv.URL})
	require.NoError(t, err)
	req := llmtest.Request(llmtest.CaseText)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			resp, err := p.Generate(t.Context(), req)
			if err == nil && resp.Message.Text() != llmtest.TextReply {
				err = errors.New("wrong answer")
			}
			errs <- err
		}()
	}
	for range n {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, int32(n), calls.Load())
}
