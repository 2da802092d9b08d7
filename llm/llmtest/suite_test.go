package llmtest_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

// scriptFor returns the step that answers case c as the documentation of
// the Case constants says a fake must.
func scriptFor(t *testing.T, c llmtest.Case) llmtest.Step {
	fail := func(kind error, status int, retryAfter time.Duration) llmtest.Step {
		return llmtest.Fail(&llm.Error{Provider: "scripted", Kind: kind, StatusCode: status, RetryAfter: retryAfter})
	}
	weather := func(city string) llm.ToolCall {
		return llm.ToolCall{Name: llmtest.WeatherTool, Args: json.RawMessage(`{"city":"` + city + `"}`)}
	}
	switch c {
	case llmtest.CaseText:
		return llmtest.Reply(llmtest.TextReply)
	case llmtest.CaseToolCall:
		return llmtest.ToolCalls(weather(llmtest.Lima))
	case llmtest.CaseParallelToolCalls:
		return llmtest.ToolCalls(weather(llmtest.Lima), weather(llmtest.Cusco))
	case llmtest.CaseToolResult:
		return llmtest.Reply(llmtest.ToolResultReply)
	case llmtest.CaseToolError:
		return llmtest.Reply("Sorry, I cannot check the weather right now.")
	case llmtest.CaseStructured:
		return llmtest.Reply(`{"order_id":"` + llmtest.OrderID + `"}`)
	case llmtest.CaseImage:
		return llmtest.Reply("A red pixel.")
	case llmtest.CaseRateLimited:
		return fail(llm.ErrRateLimited, 429, time.Second)
	case llmtest.CaseUnavailable:
		return fail(llm.ErrUnavailable, 500, 0)
	case llmtest.CaseContextTooLong:
		return fail(llm.ErrContextTooLong, 400, 0)
	case llmtest.CaseContentBlocked:
		return fail(llm.ErrContentBlocked, 400, 0)
	case llmtest.CaseAuth:
		return fail(llm.ErrAuth, 401, 0)
	case llmtest.CaseCancelled:
		return llmtest.Reply("never answered")
	}
	require.Failf(t, "unknown case", "%v", c)
	return llmtest.Step{}
}

func TestRunScripted(t *testing.T) {
	var ran []llmtest.Case
	llmtest.Run(t, func(t *testing.T, c llmtest.Case) llm.Provider {
		ran = append(ran, c)
		s := llmtest.NewScripted(scriptFor(t, c))
		t.Cleanup(func() {
			if c == llmtest.CaseCancelled {
				assert.Zero(t, s.Calls(), "the cancelled case must not reach the model")
				return
			}
			assert.Equal(t, []*llm.Request{llmtest.Request(c)}, s.Requests(), "the suite sends Request(c) once")
		})
		return s
	})
	assert.Equal(t, llmtest.Cases(), ran, "one fresh provider per case, in order")
}

func TestCases(t *testing.T) {
	cases := llmtest.Cases()
	require.Len(t, cases, 13)
	names := make(map[string]bool)
	for _, c := range cases {
		name := c.String()
		assert.Regexp(t, `^[a-z_]+$`, name)
		assert.False(t, names[name], "duplicate name %q", name)
		names[name] = true
		assert.NotNil(t, llmtest.Request(c), "Request(%v)", c)
	}
	assert.Equal(t, "tool_call", llmtest.CaseToolCall.String())
	assert.Equal(t, "Case(0)", llmtest.Case(0).String())
	assert.Equal(t, "Case(99)", llmtest.Case(99).String())
	assert.Nil(t, llmtest.Request(llmtest.Case(0)))
}

func TestRequest(t *testing.T) {
	weather := []llm.Tool{{
		Name:        "get_weather",
		Description: "Returns the current weather in a city.",
		Parameters:  json.RawMessage(`{"type":"object","properties":{"city":{"type":"string","description":"The city's name."}},"required":["city"]}`),
	}}
	text := &llm.Request{System: "You are a shop assistant.", Messages: []llm.Message{llm.UserText("Say hello.")}}
	history := func(result llm.ToolResult) *llm.Request {
		return &llm.Request{
			Messages: []llm.Message{
				llm.UserText("Weather in Lima?"),
				{Role: llm.Assistant, Parts: []llm.Part{llm.ToolCallPart(llm.ToolCall{ID: "call_lima", Name: "get_weather", Args: json.RawMessage(`{"city":"Lima"}`)})}},
				{Role: llm.ToolRole, Parts: []llm.Part{llm.ToolResultPart(result)}},
			},
			Tools: weather,
		}
	}
	tests := []struct {
		c    llmtest.Case
		want *llm.Request
	}{
		{llmtest.CaseText, text},
		{llmtest.CaseToolCall, &llm.Request{Messages: []llm.Message{llm.UserText("Weather in Lima?")}, Tools: weather}},
		{llmtest.CaseParallelToolCalls, &llm.Request{Messages: []llm.Message{llm.UserText("Weather in Lima and Cusco?")}, Tools: weather}},
		{llmtest.CaseToolResult, history(llm.ToolResult{CallID: "call_lima", Name: "get_weather", Content: `{"temp_c":19}`})},
		{llmtest.CaseToolError, history(llm.ToolResult{CallID: "call_lima", Name: "get_weather", Content: "weather service unavailable", IsError: true})},
		{llmtest.CaseStructured, &llm.Request{
			Messages:       []llm.Message{llm.UserText("My order is A-1001")},
			ResponseFormat: &llm.ResponseFormat{Name: "order", Schema: json.RawMessage(`{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}`)},
		}},
		{llmtest.CaseRateLimited, text},
		{llmtest.CaseUnavailable, text},
		{llmtest.CaseContextTooLong, text},
		{llmtest.CaseContentBlocked, text},
		{llmtest.CaseAuth, text},
		{llmtest.CaseCancelled, text},
	}
	for _, tt := range tests {
		t.Run(tt.c.String(), func(t *testing.T) {
			assert.Equal(t, tt.want, llmtest.Request(tt.c))
		})
	}

	t.Run("image", func(t *testing.T) {
		req := llmtest.Request(llmtest.CaseImage)
		require.Len(t, req.Messages, 1)
		msg := req.Messages[0]
		assert.Equal(t, llm.User, msg.Role)
		require.Len(t, msg.Parts, 2)
		assert.Equal(t, llm.TextPart("What is in this picture?"), msg.Parts[0])
		img := msg.Parts[1]
		assert.Equal(t, llm.KindImage, img.Kind)
		assert.Equal(t, "image/png", img.MIMEType)
		cfg, err := png.DecodeConfig(bytes.NewReader(img.Data))
		require.NoError(t, err, "the image is a valid PNG")
		assert.Equal(t, 1, cfg.Width)
		_, err = png.Decode(bytes.NewReader(img.Data))
		require.NoError(t, err, "the image is a valid PNG")
	})

	t.Run("fresh copies", func(t *testing.T) {
		for _, c := range llmtest.Cases() {
			a := llmtest.Request(c)
			a.Messages[0].Parts[len(a.Messages[0].Parts)-1].Text = "changed"
			if p := &a.Messages[0].Parts[len(a.Messages[0].Parts)-1]; p.Data != nil {
				p.Data[0] = 0
			}
			if len(a.Tools) > 0 {
				a.Tools[0].Parameters[0] = '['
			}
			assert.NotEqual(t, a, llmtest.Request(c), "%v: Request returns a new copy", c)
		}
	})
}
