package llmtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
)

// recorder is a tester that records failures. FailNow panics with
// errFailNow, which check recovers.
type recorder struct {
	errs []string
}

var errFailNow = errors.New("FailNow")

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) FailNow() { panic(errFailNow) }

// check runs case c against p and returns the failures reported.
func check(t *testing.T, p llm.Provider, c Case) (errs []string) {
	r := &recorder{}
	defer func() {
		if v := recover(); v != nil && v != errFailNow {
			panic(v)
		}
		errs = r.errs
	}()
	runCase(r, t.Context(), p, c)
	return r.errs
}

// mutator modifies the requests it gets, then answers with Scripted.
type mutator struct{ *Scripted }

func (m mutator) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	resp, err := m.Scripted.Generate(ctx, req)
	req.Messages[0].Parts[0].Text = "modified"
	return resp, err
}

// deaf ignores its context.
type deaf struct{ *Scripted }

func (d deaf) Generate(_ context.Context, req *llm.Request) (*llm.Response, error) {
	return d.Scripted.Generate(context.Background(), req)
}

// fickle changes its name at every call.
type fickle struct {
	*Scripted
	n *int
}

func (f fickle) Name() string {
	*f.n++
	return fmt.Sprint("fickle", *f.n)
}

func respond(resp *llm.Response) *Scripted { return NewScripted(Step{Response: resp}) }

func toolCalls(calls ...llm.ToolCall) *llm.Response {
	parts := make([]llm.Part, len(calls))
	for i, c := range calls {
		parts[i] = llm.ToolCallPart(c)
	}
	return &llm.Response{Message: llm.Message{Role: llm.Assistant, Parts: parts}, FinishReason: llm.FinishToolCalls}
}

func lima(id string) llm.ToolCall {
	return llm.ToolCall{ID: id, Name: WeatherTool, Args: json.RawMessage(`{"city":"Lima"}`)}
}

func TestSuiteReportsBrokenProviders(t *testing.T) {
	text := &llm.Response{Message: llm.AssistantText(TextReply), FinishReason: llm.FinishStop, Usage: StepUsage()}
	tests := []struct {
		name string
		c    Case
		p    llm.Provider
		want string // a part of the failure message
	}{
		{"modifies the request", CaseText, mutator{respond(text)}, ruleNoModify},
		{"modifies the request while failing", CaseAuth, mutator{NewScripted(Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrAuth}))}, ruleNoModify},
		{"ignores cancellation", CaseCancelled, deaf{respond(text)}, ruleCancel},
		{"changes its name", CaseText, fickle{respond(text), new(int)}, ruleName},
		{"answers as the user", CaseText, respond(&llm.Response{Message: llm.UserText(TextReply), FinishReason: llm.FinishStop, Usage: StepUsage()}), ruleRole},
		{"alters the text", CaseText, respond(&llm.Response{Message: llm.AssistantText("Hello"), FinishReason: llm.FinishStop, Usage: StepUsage()}), ruleAnswerPassed},
		{"reports no usage", CaseText, respond(&llm.Response{Message: llm.AssistantText(TextReply), FinishReason: llm.FinishStop}), ruleUsage},
		{"misses the finish reason", CaseText, respond(&llm.Response{Message: llm.AssistantText(TextReply), Usage: StepUsage()}), ruleStop},
		{"answers nil, nil", CaseText, NewScripted(Func(func(context.Context, *llm.Request) (*llm.Response, error) { return nil, nil })), "nil response"},
		{"fails a success case", CaseImage, NewScripted(Fail(errors.New("boom"))), "Generate must succeed"},
		{"drops the tool call id", CaseToolCall, respond(toolCalls(lima(""))), ruleToolCallID},
		{"holds a tool call part without call", CaseToolCall, respond(&llm.Response{Message: llm.Message{Role: llm.Assistant, Parts: []llm.Part{{Kind: llm.KindToolCall}}}}), "must hold a ToolCall"},
		{"reuses a tool call id", CaseParallelToolCalls, respond(toolCalls(lima("x"), llm.ToolCall{ID: "x", Name: WeatherTool, Args: json.RawMessage(`{"city":"Cusco"}`)})), ruleToolCallID},
		{"loses a parallel call", CaseParallelToolCalls, respond(toolCalls(lima("a"))), "tool calls must all reach the caller"},
		{"swaps the parallel calls", CaseParallelToolCalls, respond(toolCalls(llm.ToolCall{ID: "b", Name: WeatherTool, Args: json.RawMessage(`{"city":"Cusco"}`)}, lima("a"))), ruleArgs},
		{"mangles the arguments", CaseToolCall, respond(toolCalls(llm.ToolCall{ID: "a", Name: WeatherTool, Args: json.RawMessage(`city=Lima`)})), "not a JSON object"},
		{"renames the tool", CaseToolCall, respond(toolCalls(llm.ToolCall{ID: "a", Name: "weather", Args: json.RawMessage(`{"city":"Lima"}`)})), "the tool's name"},
		{"reports stop for tool calls", CaseToolCall, respond(&llm.Response{Message: toolCalls(lima("a")).Message, FinishReason: llm.FinishStop}), ruleToolCalls},
		{"ignores the tool result", CaseToolResult, NewScripted(Reply("I do not know.")), ruleAnswerPassed},
		{"answers nothing to a tool error", CaseToolError, NewScripted(Reply(" ")), ruleAnswerPassed},
		{"answers prose to a format", CaseStructured, NewScripted(Reply("Your order is A-1001.")), "not a JSON object"},
		{"answers another order", CaseStructured, NewScripted(Reply(`{"order_id":"A-1002"}`)), ruleFormat},
		{"returns an unclassified error", CaseRateLimited, NewScripted(Fail(errors.New("HTTP 429"))), ruleRateLimited},
		{"misclassifies", CaseUnavailable, NewScripted(Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrInvalidRequest})), ruleUnavailable},
		{"returns a bare sentinel", CaseAuth, NewScripted(Fail(fmt.Errorf("openai: %w", llm.ErrAuth))), ruleErrorType},
		{"names another provider", CaseContextTooLong, NewScripted(Fail(&llm.Error{Provider: "openai", Kind: llm.ErrContextTooLong})), ruleErrProvider},
		{"drops Retry-After", CaseRateLimited, NewScripted(Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrRateLimited})), ruleRetryAfter},
		{"answers a blocked prompt", CaseContentBlocked, NewScripted(Reply("Sure!")), ruleBlocked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := check(t, tt.p, tt.c)
			require.NotEmpty(t, errs, "the suite must report the broken provider")
			assert.Contains(t, strings.Join(errs, "\n"), tt.want)
		})
	}
}

func TestSuiteAcceptsAlternatives(t *testing.T) {
	tests := []struct {
		name string
		c    Case
		p    llm.Provider
	}{
		{"blocked answer", CaseContentBlocked, respond(&llm.Response{Message: llm.Message{Role: llm.Assistant}, FinishReason: llm.FinishBlocked})},
		{"blocked error", CaseContentBlocked, NewScripted(Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrContentBlocked}))},
		{"wrapped error", CaseRateLimited, NewScripted(Fail(fmt.Errorf("retrying: %w", &llm.Error{Provider: "scripted", Kind: llm.ErrRateLimited, RetryAfter: time.Second})))},
		{"synthetic ids", CaseToolCall, respond(toolCalls(llm.ToolCall{ID: "synth_1", Synthetic: true, Name: WeatherTool, Args: json.RawMessage(`{"city":"Lima"}`)}))},
		{"reasoning beside text", CaseText, respond(&llm.Response{
			Message:      llm.Message{Role: llm.Assistant, Parts: []llm.Part{{Kind: llm.KindReasoning, Text: "greet"}, llm.TextPart("Hello "), llm.TextPart("from wagent.")}},
			FinishReason: llm.FinishStop,
			Usage:        llm.Usage{InputTokens: 1, OutputTokens: 1},
		})},
		{"structured with spaces", CaseStructured, NewScripted(Reply(" {\n  \"order_id\": \"A-1001\"\n}"))},
		{"cancelled without reaching the model", CaseCancelled, NewScripted()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Empty(t, check(t, tt.p, tt.c))
		})
	}
}
