package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/llm/openai"
)

func TestConformance(t *testing.T) {
	llmtest.Run(t, func(t *testing.T, c llmtest.Case) llm.Provider {
		if c == llmtest.CaseCancelled {
			f := newFake(t) // any request fails the test
			return f.provider(t, nil)
		}
		f := newFake(t, exchange{request: c.String() + ".request.json", response: c.String() + ".response.json"})
		t.Cleanup(f.done)
		return f.provider(t, nil)
	})
}

func TestNew(t *testing.T) {
	_, err := openai.New("", nil)
	require.Error(t, err, "OpenAI's API needs a key")
	_, err = openai.New("k", &openai.Options{Azure: &openai.AzureOptions{}})
	require.Error(t, err, "Azure needs the resource's endpoint")
	p, err := openai.New("", &openai.Options{BaseURL: "http://localhost:11434/v1", Name: "ollama"})
	require.NoError(t, err, "a local server may need no key")
	assert.Equal(t, "ollama", p.Name())
	p, err = openai.New("k", nil)
	require.NoError(t, err)
	assert.Equal(t, "openai", p.Name())
}

// chat returns the request of a text case with the given changes.
func chat(change func(r *llm.Request)) *llm.Request {
	r := llmtest.Request(llmtest.CaseText)
	if change != nil {
		change(r)
	}
	return r
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
			name: "429 with retry-after-ms", status: 429,
			headers: map[string]string{"retry-after-ms": "1500", "Retry-After": "2"},
			body:    `{"error":{"message":"Rate limit reached for gpt-4.1-mini","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
			kind:    llm.ErrRateLimited, code: "rate_limit_exceeded", retryAfter: 1500 * time.Millisecond,
		},
		{
			name: "429 with the reset of the exhausted token limit", status: 429,
			headers: map[string]string{
				"x-ratelimit-remaining-requests": "499", "x-ratelimit-reset-requests": "120ms",
				"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "6m0s",
			},
			body: `{"error":{"message":"Rate limit reached","type":"tokens","param":null,"code":"rate_limit_exceeded"}}`,
			kind: llm.ErrRateLimited, code: "rate_limit_exceeded", retryAfter: 6 * time.Minute,
		},
		{
			name: "429 insufficient quota", status: 429,
			body: `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`,
			kind: llm.ErrRateLimited, code: "insufficient_quota",
		},
		{
			name: "503 with Retry-After", status: 503, headers: map[string]string{"Retry-After": "3"},
			body: `{"error":{"message":"The engine is currently overloaded, please try again later","type":"server_error","param":null,"code":null}}`,
			kind: llm.ErrUnavailable, code: "server_error", retryAfter: 3 * time.Second,
		},
		{
			name: "502 with an HTML body", status: 502, body: `<html><body>Bad gateway</body></html>`,
			kind: llm.ErrUnavailable,
		},
		{
			name: "403 unsupported region", status: 403,
			body: `{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}`,
			kind: llm.ErrAuth, code: "unsupported_country_region_territory",
		},
		{
			name: "404 unknown model", status: 404,
			body: `{"error":{"message":"The model gpt-x does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}`,
			kind: llm.ErrInvalidRequest, code: "model_not_found",
		},
		{
			name: "400 invalid prompt", status: 400,
			body: `{"error":{"message":"Invalid prompt: your prompt was flagged as potentially violating our usage policy.","type":"invalid_request_error","param":null,"code":"invalid_prompt"}}`,
			kind: llm.ErrContentBlocked, code: "invalid_prompt",
		},
		{
			name: "vLLM context length in words", status: 400,
			body: `{"object":"error","message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.","type":"BadRequestError","param":null,"code":400}`,
			kind: llm.ErrContextTooLong, code: "400",
		},
		{
			name: "compatible server context length", status: 400,
			body: `{"error":{"message":"This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.","type":"BadRequestError","param":null,"code":400}}`,
			kind: llm.ErrContextTooLong, code: "400",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			p, err := openai.New(testKey, &openai.Options{BaseURL: srv.URL})
			require.NoError(t, err)
			_, err = p.Generate(t.Context(), chat(nil))
			require.ErrorIs(t, err, tc.kind)
			var e *llm.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "openai", e.Provider)
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.retryAfter, e.RetryAfter)
			var ve *openai.VendorError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.status, ve.StatusCode)
			assert.NotContains(t, err.Error(), "Rate limit reached", "the vendor's message is left out")
			assert.NotContains(t, err.Error(), "maximum context length")
			assert.NotContains(t, err.Error(), "Bad gateway")
		})
	}
}

func TestErrorsKeepNoContent(t *testing.T) {
	f := newFake(t, exchange{request: "auth.request.json", response: "auth.response.json"})
	_, err := f.provider(t, nil).Generate(t.Context(), chat(nil))
	require.ErrorIs(t, err, llm.ErrAuth)
	assert.NotContains(t, err.Error(), testKey, "the API quotes the key in its message; errors must not")
	assert.Contains(t, err.Error(), "invalid_api_key")
}

func TestConnectionFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	p, err := openai.New(testKey, &openai.Options{BaseURL: url})
	require.NoError(t, err)
	_, err = p.Generate(t.Context(), chat(nil))
	require.ErrorIs(t, err, llm.ErrUnavailable)
}

func TestMalformedResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"choices": [{"message": {"content": "Hello, Ana Pérez`)
	}))
	defer srv.Close()
	p, err := openai.New(testKey, &openai.Options{BaseURL: srv.URL})
	require.NoError(t, err)
	_, err = p.Generate(t.Context(), chat(nil))
	require.ErrorIs(t, err, llm.ErrUnavailable)
	assert.NotContains(t, err.Error(), "Ana")
}

func TestCancelledDuringCall(t *testing.T) {
	reached := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // the server notices the hang-up once the body is read
		close(reached)
		<-r.Context().Done()
	}))
	defer srv.Close()
	p, err := openai.New(testKey, &openai.Options{BaseURL: srv.URL})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-reached
		cancel()
	}()
	_, err = p.Generate(ctx, chat(nil))
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, llm.Retryable(err), "a cancelled call must never look retryable")
	var e *llm.Error
	assert.False(t, errors.As(err, &e), "a cancelled call is not an *llm.Error")
}

func TestDeadlineExceeded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer srv.Close()
	p, err := openai.New(testKey, &openai.Options{BaseURL: srv.URL})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	_, err = p.Generate(ctx, chat(nil))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, llm.Retryable(err))
}

func TestResponses(t *testing.T) {
	t.Run("content filter finish", func(t *testing.T) {
		f := newFake(t, exchange{request: "text.request.json", response: "finish_content_filter.response.json"})
		resp, err := f.provider(t, nil).Generate(t.Context(), chat(nil))
		require.NoError(t, err)
		assert.Equal(t, llm.FinishBlocked, resp.FinishReason)
	})
	t.Run("refusal", func(t *testing.T) {
		f := newFake(t, exchange{request: "text.request.json", response: "refusal.response.json"})
		resp, err := f.provider(t, nil).Generate(t.Context(), chat(nil))
		require.NoError(t, err)
		assert.Equal(t, llm.FinishBlocked, resp.FinishReason)
		assert.Equal(t, "I'm sorry, I can't help with that.", resp.Message.Text())
	})
	t.Run("tool calls said to stop, without ids", func(t *testing.T) {
		// Ollama's answer: finish_reason "stop", and some servers give no id.
		f := newFake(t, exchange{request: "tool_call.request.json", response: "tool_call_no_id.response.json"})
		resp, err := f.provider(t, nil).Generate(t.Context(), llmtest.Request(llmtest.CaseToolCall))
		require.NoError(t, err)
		assert.Equal(t, llm.FinishToolCalls, resp.FinishReason)
		calls := resp.Message.ToolCalls()
		require.Len(t, calls, 1)
		assert.NotEmpty(t, calls[0].ID)
		assert.True(t, calls[0].Synthetic)
		assert.JSONEq(t, `{"city":"Lima"}`, string(calls[0].Args))
		assert.Equal(t, "qwen3:8b", resp.Model)
	})
	t.Run("usage details and reasoning", func(t *testing.T) {
		f := newFake(t, exchange{request: "text.request.json", response: "usage_details.response.json"})
		resp, err := f.provider(t, nil).Generate(t.Context(), chat(nil))
		require.NoError(t, err)
		assert.Equal(t, llm.Usage{InputTokens: 2006, OutputTokens: 300, CachedInputTokens: 1920, ReasoningTokens: 192}, resp.Usage)
		require.Len(t, resp.Message.Parts, 2)
		assert.Equal(t, llm.KindReasoning, resp.Message.Parts[0].Kind)
		assert.Equal(t, llmtest.TextReply, resp.Message.Text())
	})
}

func TestRequests(t *testing.T) {
	zero := 0.0
	cases := []struct {
		name string
		opts *openai.Options
		req  *llm.Request
	}{
		{
			name: "options",
			req: chat(func(r *llm.Request) {
				r.Model = "gpt-4.1"
				r.MaxOutputTokens = 256
				r.Temperature = &zero
			}),
		},
		{
			name: "tool_choice_none",
			req: func() *llm.Request {
				r := llmtest.Request(llmtest.CaseToolCall)
				r.ToolChoice = llm.ToolNone
				return r
			}(),
		},
		{
			name: "tool_choice_required",
			req: func() *llm.Request {
				r := llmtest.Request(llmtest.CaseToolCall)
				r.ToolChoice = llm.ToolRequired
				r.Tools = append(r.Tools, llm.Tool{Name: "list_orders"})
				return r
			}(),
		},
		{
			name: "json_mode",
			req: chat(func(r *llm.Request) {
				r.ResponseFormat = &llm.ResponseFormat{Name: "any"}
			}),
		},
		{
			name: "history",
			req: &llm.Request{
				System: "You are a shop assistant.",
				Messages: []llm.Message{
					llm.UserText("Weather in Lima and Cusco?"),
					{Role: llm.Assistant, Parts: []llm.Part{
						{Kind: llm.KindReasoning, Text: "Two cities: two calls."},
						llm.TextPart("Let me check."),
						llm.ToolCallPart(llm.ToolCall{ID: "call_1", Name: llmtest.WeatherTool, Args: json.RawMessage(`{"city":"Lima"}`)}),
						{Kind: llm.KindToolCall, ToolCall: &llm.ToolCall{ID: "gemini_call_2", Synthetic: true, Name: llmtest.WeatherTool, Args: json.RawMessage(`{"city":"Cusco"}`)}, Opaque: llm.Opaque{Provider: "gemini", Data: []byte("sig")}},
					}},
					{Role: llm.ToolRole, Parts: []llm.Part{
						llm.ToolResultPart(llm.ToolResult{CallID: "call_1", Name: llmtest.WeatherTool, Content: `{"temp_c":19}`}),
						llm.ToolResultPart(llm.ToolResult{CallID: "gemini_call_2", Name: llmtest.WeatherTool, Content: ""}),
					}},
					llm.AssistantText("Lima: 19 °C."),
					llm.UserText("Thanks!"),
				},
				Tools: llmtest.Request(llmtest.CaseToolCall).Tools,
			},
		},
		{
			name: "pdf",
			req: &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{
				llm.TextPart("Summarize the invoice."),
				{Kind: llm.KindDocument, MIMEType: "application/pdf", Filename: "invoice.pdf", Data: []byte("%PDF-1.7 fake")},
			}}}},
		},
		{
			name: "image_url",
			req: &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{
				{Kind: llm.KindImage, MIMEType: "image/jpeg", URL: "https://example.com/menu.jpg"},
			}}}},
		},
		{
			name: "audio_input",
			opts: &openai.Options{Model: "gpt-4o-audio-preview", AudioInput: true},
			req: &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{
				{Kind: llm.KindAudio, MIMEType: "audio/wav", Data: []byte("RIFF fake wav")},
			}}}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, exchange{request: "req_" + tc.name + ".request.json", response: "text.response.json"})
			before := tc.req.Clone()
			_, err := f.provider(t, tc.opts).Generate(t.Context(), tc.req)
			require.NoError(t, err)
			assert.Equal(t, before, tc.req, "Generate must not modify the request")
			f.done()
		})
	}
}

func TestUnsupportedParts(t *testing.T) {
	for name, part := range map[string]llm.Part{
		"a document that is not a PDF": {Kind: llm.KindDocument, MIMEType: "application/zip", Data: []byte("PK")},
		"a PDF given by URL":           {Kind: llm.KindDocument, MIMEType: "application/pdf", URL: "https://example.com/a.pdf"},
		"a tool result in a user turn": llm.ToolResultPart(llm.ToolResult{CallID: "x"}),
		"an image without data or URL": {Kind: llm.KindImage, MIMEType: "image/png"},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			req := &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{llm.TextPart("see"), part}}}}
			_, err := f.provider(t, nil).Generate(t.Context(), req)
			require.ErrorIs(t, err, llm.ErrInvalidRequest)
		})
	}
}

func TestTranscription(t *testing.T) {
	voice := []byte("OggS fake opus voice note")
	checkUpload := func(t *testing.T, r *http.Request) {
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		require.NoError(t, err)
		assert.Equal(t, "multipart/form-data", mt)
		mr := multipart.NewReader(r.Body, params["boundary"])
		fields := map[string]string{}
		for {
			part, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
			b, err := io.ReadAll(part)
			require.NoError(t, err)
			if part.FormName() == "file" {
				assert.Equal(t, "audio.ogg", part.FileName(), "the API tells the format by the extension")
				assert.Equal(t, "audio/ogg; codecs=opus", part.Header.Get("Content-Type"))
				assert.Equal(t, voice, b)
				continue
			}
			fields[part.FormName()] = string(b)
		}
		assert.Equal(t, map[string]string{"model": "whisper-1", "response_format": "json"}, fields)
	}
	req := &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{
		llm.TextPart("Voice note:"),
		{Kind: llm.KindAudio, MIMEType: "audio/ogg; codecs=opus", Data: voice},
	}}}}

	t.Run("audio is transcribed and sent as text", func(t *testing.T) {
		f := newFake(t,
			exchange{path: "/v1/audio/transcriptions", check: checkUpload, response: "transcription.response.json"},
			exchange{request: "req_transcribed.request.json", response: "text.response.json"},
		)
		resp, err := f.provider(t, nil).Generate(t.Context(), req)
		require.NoError(t, err)
		assert.Equal(t, llmtest.TextReply, resp.Message.Text())
		f.done()
	})

	t.Run("formats the chat model does not take are transcribed even with AudioInput", func(t *testing.T) {
		f := newFake(t,
			exchange{path: "/v1/audio/transcriptions", check: checkUpload, response: "transcription.response.json"},
			exchange{request: "req_transcribed.request.json", response: "text.response.json"},
		)
		_, err := f.provider(t, &openai.Options{AudioInput: true}).Generate(t.Context(), req)
		require.NoError(t, err)
		f.done()
	})

	t.Run("a failed transcription fails the call", func(t *testing.T) {
		f := newFake(t, exchange{path: "/v1/audio/transcriptions", check: func(*testing.T, *http.Request) {}, response: "rate_limited.response.json"})
		_, err := f.provider(t, nil).Generate(t.Context(), req)
		require.ErrorIs(t, err, llm.ErrRateLimited)
		var e *llm.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, 7*time.Second, e.RetryAfter)
	})

	t.Run("Transcribe", func(t *testing.T) {
		f := newFake(t, exchange{path: "/v1/audio/transcriptions", check: checkUpload, response: "transcription.response.json"})
		text, err := f.provider(t, nil).Transcribe(t.Context(), req.Messages[0].Parts[1])
		require.NoError(t, err)
		assert.Equal(t, "Hola, quiero dos pizzas grandes.", text)
		_, err = f.provider(t, nil).Transcribe(t.Context(), llm.TextPart("not audio"))
		require.ErrorIs(t, err, llm.ErrInvalidRequest)
	})
}

func TestAzure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "/openai/deployments/shop-mini/chat/completions", r.URL.Path)
		assert.Equal(t, "2024-10-21", r.URL.Query().Get("api-version"))
		assert.Equal(t, testKey, r.Header.Get("api-key"))
		assert.Empty(t, r.Header.Get("Authorization"))
		loadRecorded(t, "text.response.json").write(w)
	}))
	defer srv.Close()
	p, err := openai.New(testKey, &openai.Options{
		BaseURL: srv.URL,
		Azure:   &openai.AzureOptions{Deployments: map[string]string{openai.DefaultModel: "shop-mini"}},
	})
	require.NoError(t, err)
	resp, err := p.Generate(t.Context(), chat(nil))
	require.NoError(t, err)
	assert.Equal(t, llmtest.TextReply, resp.Message.Text())
}

func TestOrganization(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "org-wagent", r.Header.Get("OpenAI-Organization"))
		loadRecorded(t, "text.response.json").write(w)
	}))
	defer srv.Close()
	p, err := openai.New(testKey, &openai.Options{BaseURL: srv.URL, Organization: "org-wagent"})
	require.NoError(t, err)
	_, err = p.Generate(t.Context(), chat(nil))
	require.NoError(t, err)
}
