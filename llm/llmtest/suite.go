package llmtest

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
)

// Case is one case of the conformance suite run by [Run]. For each Case the
// suite sends [Request](c) and checks the answer. An adapter's factory
// starts a fake of the vendor's API that checks the wire format of that
// request and answers as documented on the Case constant.
type Case int

// The cases of the conformance suite, in the order [Run] runs them.
//
// In every case the suite also checks that Generate leaves the request
// unchanged and that Name returns the same non-empty string before and after
// the call. In the cases that succeed, every tool call part of the response
// must hold a ToolCall with a non-empty ID. In the cases that fail, the
// error must wrap an [*llm.Error] whose Provider is the provider's Name
// (except [CaseCancelled]).
const (
	// CaseText sends System "You are a shop assistant." and the user message
	// "Say hello.". The fake answers a successful completion whose text is
	// [TextReply], with the vendor's "complete answer" finish reason ("stop",
	// "STOP") and non-zero prompt and completion token counts. The response
	// must have role Assistant, text exactly TextReply, [llm.FinishStop] and
	// Usage.InputTokens and Usage.OutputTokens above 0.
	CaseText Case = iota + 1

	// CaseToolCall sends the tool [WeatherTool] (see [WeatherToolSchema])
	// and the user message "Weather in Lima?". The fake answers with one
	// call of WeatherTool whose arguments are {"city":"Lima"}, with the
	// finish reason the vendor gives to tool calls ("tool_calls" for
	// OpenAI; Gemini says "STOP"), with or without a call id. The response
	// must hold exactly one tool call, named WeatherTool, with a non-empty
	// ID, and Args a JSON object whose "city" is [Lima]; its FinishReason
	// must be [llm.FinishToolCalls].
	CaseToolCall

	// CaseParallelToolCalls sends the tool [WeatherTool] and the user
	// message "Weather in Lima and Cusco?". The fake answers with two calls
	// of WeatherTool, {"city":"Lima"} then {"city":"Cusco"}, in one message,
	// as for CaseToolCall. The response must hold the two calls in that
	// order, with distinct non-empty IDs, and FinishReason
	// [llm.FinishToolCalls].
	CaseParallelToolCalls

	// CaseToolResult sends the tool [WeatherTool] and a history: the user
	// message "Weather in Lima?", an assistant message with one tool call
	// (ID [LimaCallID], WeatherTool, {"city":"Lima"}), and a tool message
	// with its result (CallID LimaCallID, Name WeatherTool, Content
	// [LimaWeather]). The fake checks that the result is linked to the call
	// on the wire and answers the text [ToolResultReply] with the "complete
	// answer" finish reason. The response must have text exactly
	// ToolResultReply and [llm.FinishStop].
	CaseToolResult

	// CaseToolError is CaseToolResult with an error result: IsError set and
	// Content [WeatherError]. The fake checks how the adapter marks the
	// error on the wire (Gemini: {"error": ...}) and answers any non-empty
	// text with the "complete answer" finish reason. The response must have
	// non-empty text and [llm.FinishStop].
	CaseToolError

	// CaseStructured sends the user message "My order is A-1001" with
	// ResponseFormat{Name: [OrderFormat], Schema: [OrderSchema]}. The fake
	// checks that the schema is sent as the vendor's structured output
	// setting and answers the text {"order_id":"A-1001"} with the "complete
	// answer" finish reason. The response's text must be a JSON object
	// whose "order_id" is [OrderID], and its FinishReason [llm.FinishStop].
	CaseStructured

	// CaseImage sends one user message made of the text part "What is in
	// this picture?" and an image part: a 1x1 PNG given inline in Data, with
	// MIMEType "image/png". The fake checks the image's encoding on the wire
	// (a base64 data URL, inline data) and answers any non-empty text with
	// the "complete answer" finish reason. The response must have non-empty
	// text and [llm.FinishStop].
	CaseImage

	// CaseRateLimited sends the CaseText request. The fake answers the
	// vendor's rate limit error: HTTP 429 with a "Retry-After: 7" header, or
	// the vendor's equivalent (a RetryInfo detail). Generate must fail with
	// an error that errors.Is [llm.ErrRateLimited] and wraps an
	// [*llm.Error] whose RetryAfter is above 0.
	CaseRateLimited

	// CaseUnavailable sends the CaseText request. The fake answers HTTP 500
	// with the vendor's error body. Generate must fail with an error that
	// errors.Is [llm.ErrUnavailable]. An adapter that retries by itself
	// must be configured not to for this case.
	CaseUnavailable

	// CaseContextTooLong sends the CaseText request. The fake answers the
	// vendor's "context too long" error (OpenAI: HTTP 400 with code
	// "context_length_exceeded"; Gemini: HTTP 400 INVALID_ARGUMENT saying
	// the input token count exceeds the maximum). Generate must fail with an
	// error that errors.Is [llm.ErrContextTooLong].
	CaseContextTooLong

	// CaseContentBlocked sends the CaseText request. The fake answers the
	// vendor's safety refusal: an error (OpenAI: HTTP 400 with code
	// "content_filter"), or a successful answer blocked by a filter (OpenAI:
	// finish_reason "content_filter"; Gemini: promptFeedback.blockReason, or
	// finishReason "SAFETY"). Generate must either fail with an error that
	// errors.Is [llm.ErrContentBlocked] or answer with FinishReason
	// [llm.FinishBlocked].
	CaseContentBlocked

	// CaseAuth sends the CaseText request. The fake answers HTTP 401 with
	// the vendor's error body. Generate must fail with an error that
	// errors.Is [llm.ErrAuth].
	CaseAuth

	// CaseCancelled sends the CaseText request with a context that is
	// already cancelled. The fake is not expected to be reached and may
	// fail the test if it is. Generate must fail with an error that
	// errors.Is [context.Canceled].
	CaseCancelled

	caseEnd // keep last
)

// Values the fakes answer and the suite expects.
const (
	// TextReply is the text answered in [CaseText].
	TextReply = "Hello from wagent."
	// ToolResultReply is the text answered in [CaseToolResult].
	ToolResultReply = "It is 19 °C in Lima."

	// WeatherTool is the name of the tool sent in the tool cases.
	WeatherTool = "get_weather"
	// WeatherToolSchema is the JSON Schema of WeatherTool's arguments, as
	// sent in Tool.Parameters.
	WeatherToolSchema = `{"type":"object","properties":{"city":{"type":"string","description":"The city's name."}},"required":["city"]}`
	// Lima and Cusco are the cities asked about in the tool cases.
	Lima  = "Lima"
	Cusco = "Cusco"
	// LimaCallID is the ID of the tool call replayed in [CaseToolResult]
	// and [CaseToolError].
	LimaCallID = "call_lima"
	// LimaWeather is the tool result content of [CaseToolResult].
	LimaWeather = `{"temp_c":19}`
	// WeatherError is the error tool result content of [CaseToolError].
	WeatherError = "weather service unavailable"

	// OrderFormat and OrderSchema are the ResponseFormat of
	// [CaseStructured].
	OrderFormat = "order"
	OrderSchema = `{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}`
	// OrderID is the "order_id" answered in [CaseStructured].
	OrderID = "A-1001"
)

var caseNames = [...]string{
	CaseText:              "text",
	CaseToolCall:          "tool_call",
	CaseParallelToolCalls: "parallel_tool_calls",
	CaseToolResult:        "tool_result",
	CaseToolError:         "tool_error",
	CaseStructured:        "structured",
	CaseImage:             "image",
	CaseRateLimited:       "rate_limited",
	CaseUnavailable:       "unavailable",
	CaseContextTooLong:    "context_too_long",
	CaseContentBlocked:    "content_blocked",
	CaseAuth:              "auth",
	CaseCancelled:         "cancelled",
}

// String returns the case's name in snake case ("tool_call"), which names
// its subtest and suits golden file names. Names do not change.
func (c Case) String() string {
	if c > 0 && c < caseEnd {
		return caseNames[c]
	}
	return "Case(" + strconv.Itoa(int(c)) + ")"
}

// Cases returns all cases, in the order [Run] runs them.
func Cases() []Case {
	cs := make([]Case, 0, caseEnd-1)
	for c := CaseText; c < caseEnd; c++ {
		cs = append(cs, c)
	}
	return cs
}

// Request returns a new copy of the request that the suite sends in case c,
// for adapters to compare with their golden wire JSON. It returns nil for an
// unknown case.
func Request(c Case) *llm.Request {
	weather := func() []llm.Tool {
		return []llm.Tool{{
			Name:        WeatherTool,
			Description: "Returns the current weather in a city.",
			Parameters:  json.RawMessage(WeatherToolSchema),
		}}
	}
	toolResult := func(res llm.ToolResult) *llm.Request {
		return &llm.Request{
			Messages: []llm.Message{
				llm.UserText("Weather in Lima?"),
				{Role: llm.Assistant, Parts: []llm.Part{llm.ToolCallPart(llm.ToolCall{
					ID: LimaCallID, Name: WeatherTool, Args: json.RawMessage(`{"city":"Lima"}`),
				})}},
				{Role: llm.ToolRole, Parts: []llm.Part{llm.ToolResultPart(res)}},
			},
			Tools: weather(),
		}
	}
	switch c {
	case CaseText, CaseRateLimited, CaseUnavailable, CaseContextTooLong,
		CaseContentBlocked, CaseAuth, CaseCancelled:
		return &llm.Request{
			System:   "You are a shop assistant.",
			Messages: []llm.Message{llm.UserText("Say hello.")},
		}
	case CaseToolCall:
		return &llm.Request{Messages: []llm.Message{llm.UserText("Weather in Lima?")}, Tools: weather()}
	case CaseParallelToolCalls:
		return &llm.Request{Messages: []llm.Message{llm.UserText("Weather in Lima and Cusco?")}, Tools: weather()}
	case CaseToolResult:
		return toolResult(llm.ToolResult{CallID: LimaCallID, Name: WeatherTool, Content: LimaWeather})
	case CaseToolError:
		return toolResult(llm.ToolResult{CallID: LimaCallID, Name: WeatherTool, Content: WeatherError, IsError: true})
	case CaseStructured:
		return &llm.Request{
			Messages:       []llm.Message{llm.UserText("My order is " + OrderID)},
			ResponseFormat: &llm.ResponseFormat{Name: OrderFormat, Schema: json.RawMessage(OrderSchema)},
		}
	case CaseImage:
		return &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{
			llm.TextPart("What is in this picture?"),
			{Kind: llm.KindImage, MIMEType: "image/png", Data: pixelPNG()},
		}}}}
	}
	return nil
}

// pixelPNG returns a new copy of a valid 1x1 PNG image (one red pixel).
func pixelPNG() []byte {
	return []byte{
		0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
		0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
		0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00,
		0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x62, 0xfa, 0xcf, 0xc0, 0x00,
		0x08, 0x00, 0x00, 0xff, 0xff, 0x03, 0x09, 0x01, 0x02, 0x58, 0xb6, 0xd5,
		0x50, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
		0x82,
	}
}

// Run runs the conformance suite: one subtest per [Case], named after it,
// each with a fresh provider from newProvider. newProvider typically starts
// an httptest server that checks the wire format of [Request](c) and answers
// as the Case's documentation says, registers its shutdown with t.Cleanup,
// and returns an adapter pointed at it. Failures quote the clause of the
// [llm] contract that was broken.
func Run(t *testing.T, newProvider func(t *testing.T, c Case) llm.Provider) {
	t.Helper()
	for _, c := range Cases() {
		t.Run(c.String(), func(t *testing.T) {
			p := newProvider(t, c)
			require.NotNil(t, p, "llmtest: newProvider returned a nil provider for %v", c)
			runCase(t, t.Context(), p, c)
		})
	}
}

// tester is what runCase needs of a *testing.T, so that the suite's own
// tests can check what it reports.
type tester interface {
	require.TestingT
	Helper()
}

// Contract clauses quoted by failures, from the docs of package llm.
const (
	ruleName         = `llm.Provider.Name: "It must not change over the provider's life."`
	ruleNoModify     = `llm.Provider.Generate: "Generate must not modify req or keep references to it after returning"`
	ruleCancel       = `llm.Provider.Generate: "when it is cancelled Generate returns promptly with an error wrapping ctx.Err()"`
	ruleErrorType    = `llm.Provider.Generate: "Failures are returned as (or wrap) *Error, classified into the sentinels"`
	ruleErrProvider  = `llm.Error.Provider: "Provider is the Name of the provider that failed."`
	ruleToolCallID   = `llm.Provider.Generate: "every ToolCall in the response has an ID (synthesized, with Synthetic set, when the model gave none)"`
	ruleRole         = `llm.Response.Message: "Message has role Assistant. Its parts are text, reasoning and tool calls"`
	ruleStop         = `llm.FinishStop: "a complete answer"`
	ruleToolCalls    = `llm.FinishToolCalls: "the model wants tool results"; "Adapters derive them from the answer where the provider's own is misleading (Gemini reports STOP for function calls)."`
	ruleUsage        = `llm.Usage: "Usage counts the tokens of one call."`
	ruleArgs         = `llm.ToolCall.Args: "Args is the arguments object as the model wrote it."`
	ruleFormat       = `llm.ResponseFormat: "ResponseFormat asks the model to answer with JSON matching Schema."`
	ruleRateLimited  = `llm.ErrRateLimited: "the provider refused the call for rate or quota; retry after Error.RetryAfter."`
	ruleRetryAfter   = `llm.Error.RetryAfter: "RetryAfter is how long the provider asked to wait, 0 if it did not say."`
	ruleUnavailable  = `llm.ErrUnavailable: "the provider failed or timed out; retry, or fall back to another provider."`
	ruleTooLong      = `llm.ErrContextTooLong: "the request exceeds the model's context window; send less history."`
	ruleBlocked      = `llm.ErrContentBlocked: "a safety filter blocked the prompt or the answer."; FinishBlocked: "stopped by a safety filter"`
	ruleAuth         = `llm.ErrAuth: "the credentials were refused."`
	ruleAnswerPassed = `llm.Response.Message: the model's text must reach the caller unchanged`
)

// runCase sends Request(c) to p and checks the outcome.
func runCase(t tester, ctx context.Context, p llm.Provider, c Case) {
	t.Helper()
	name := p.Name()
	require.NotEmpty(t, name, ruleName)
	req := Request(c)
	before := req.Clone()
	if c == CaseCancelled {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ctx = cctx
	}
	resp, err := p.Generate(ctx, req)
	assert.Equal(t, before, req, ruleNoModify)
	assert.Equal(t, name, p.Name(), ruleName)

	if c == CaseCancelled {
		require.Error(t, err, ruleCancel)
		require.ErrorIs(t, err, context.Canceled, ruleCancel)
		return
	}
	if c == CaseContentBlocked && err == nil {
		require.NotNil(t, resp, "Provider.Generate returned a nil response and a nil error")
		assert.Equal(t, llm.FinishBlocked, resp.FinishReason, ruleBlocked)
		checkResponse(t, resp)
		return
	}
	if kind, ok := failureKinds(c); ok {
		require.Error(t, err, kind.rule)
		require.ErrorIs(t, err, kind.sentinel, kind.rule)
		var e *llm.Error
		require.ErrorAs(t, err, &e, ruleErrorType)
		assert.Equal(t, name, e.Provider, ruleErrProvider)
		if c == CaseRateLimited {
			assert.Positive(t, e.RetryAfter, ruleRetryAfter)
		}
		return
	}

	require.NoError(t, err, "case %v: the fake answered with success, so Generate must succeed", c)
	require.NotNil(t, resp, "Provider.Generate returned a nil response and a nil error")
	checkResponse(t, resp)
	msg := resp.Message
	switch c {
	case CaseText:
		assert.Equal(t, TextReply, msg.Text(), ruleAnswerPassed)
		assert.Equal(t, llm.FinishStop, resp.FinishReason, ruleStop)
		assert.Positive(t, resp.Usage.InputTokens, ruleUsage+": InputTokens must be counted")
		assert.Positive(t, resp.Usage.OutputTokens, ruleUsage+": OutputTokens must be counted")
	case CaseToolCall, CaseParallelToolCalls:
		cities := []string{Lima}
		if c == CaseParallelToolCalls {
			cities = append(cities, Cusco)
		}
		calls := msg.ToolCalls()
		require.Len(t, calls, len(cities), "the answer's tool calls must all reach the caller, in order")
		ids := make(map[string]bool)
		for i, call := range calls {
			assert.Equal(t, WeatherTool, call.Name, "tool call %d: the tool's name must reach the caller unchanged", i)
			assert.False(t, ids[call.ID], "tool call %d: %s: IDs must be distinct, got %q twice", i, ruleToolCallID, call.ID)
			ids[call.ID] = true
			assert.Equal(t, cities[i], jsonField(t, call.Args, "city"), "tool call %d: %s", i, ruleArgs)
		}
		assert.Equal(t, llm.FinishToolCalls, resp.FinishReason, ruleToolCalls)
	case CaseToolResult:
		assert.Equal(t, ToolResultReply, msg.Text(), ruleAnswerPassed)
		assert.Equal(t, llm.FinishStop, resp.FinishReason, ruleStop)
	case CaseToolError, CaseImage:
		assert.NotEmpty(t, strings.TrimSpace(msg.Text()), ruleAnswerPassed)
		assert.Equal(t, llm.FinishStop, resp.FinishReason, ruleStop)
	case CaseStructured:
		assert.Equal(t, OrderID, jsonField(t, json.RawMessage(msg.Text()), "order_id"), ruleFormat)
		assert.Equal(t, llm.FinishStop, resp.FinishReason, ruleStop)
	}
}

// checkResponse checks what every successful response must satisfy.
func checkResponse(t tester, resp *llm.Response) {
	t.Helper()
	assert.Equal(t, llm.Assistant, resp.Message.Role, ruleRole)
	for i, p := range resp.Message.Parts {
		if p.Kind != llm.KindToolCall {
			continue
		}
		if assert.NotNil(t, p.ToolCall, "part %d: a tool call part must hold a ToolCall", i) {
			assert.NotEmpty(t, p.ToolCall.ID, "part %d: %s", i, ruleToolCallID)
		}
	}
}

// jsonField returns the string field key of the JSON object raw, failing
// the test if raw is not a JSON object.
func jsonField(t tester, raw json.RawMessage, key string) string {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		assert.Fail(t, "not a JSON object", "%q: %v", raw, err)
		return ""
	}
	s, _ := obj[key].(string)
	return s
}

type failureKind struct {
	sentinel error
	rule     string
}

// failureKinds returns the error expected in case c, if c is a failure.
func failureKinds(c Case) (failureKind, bool) {
	switch c {
	case CaseRateLimited:
		return failureKind{llm.ErrRateLimited, ruleRateLimited}, true
	case CaseUnavailable:
		return failureKind{llm.ErrUnavailable, ruleUnavailable}, true
	case CaseContextTooLong:
		return failureKind{llm.ErrContextTooLong, ruleTooLong}, true
	case CaseContentBlocked:
		return failureKind{llm.ErrContentBlocked, ruleBlocked}, true
	case CaseAuth:
		return failureKind{llm.ErrAuth, ruleAuth}, true
	}
	return failureKind{}, false
}
