package llmtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/wagent/wagent/llm"
)

// Step is one scripted answer of a [Scripted] provider. Exactly one field is
// set; a Step with none or several set makes Generate fail with
// [llm.ErrInvalidRequest]. Build Steps with [Reply], [ToolCalls], [Fail] and
// [Func].
type Step struct {
	// Response is answered as a deep copy, fresh for every call, so a Step
	// can be used more than once and callers may keep or modify what they
	// get.
	Response *llm.Response
	// Err is returned as is.
	Err error
	// Func is called with the context and request given to Generate, outside
	// the provider's lock, and its results are returned as they are. Like a
	// provider, it must not modify the request or keep it.
	Func func(ctx context.Context, req *llm.Request) (*llm.Response, error)
}

// StepUsage returns the Usage of the responses built by [Reply] and
// [ToolCalls]: 10 input tokens and 5 output tokens.
func StepUsage() llm.Usage { return llm.Usage{InputTokens: 10, OutputTokens: 5} }

// Reply returns a Step answering an assistant message with one text part,
// text, with [llm.FinishStop] and [StepUsage].
func Reply(text string) Step {
	return Step{Response: &llm.Response{
		Message:      llm.AssistantText(text),
		FinishReason: llm.FinishStop,
		Usage:        StepUsage(),
	}}
}

// ToolCalls returns a Step answering an assistant message with one tool call
// part per call, in order, with [llm.FinishToolCalls] and [StepUsage]. A
// call with an empty ID gets "call_<n>", n being its position in calls
// counting from 1. The calls, arguments included, are copied.
func ToolCalls(calls ...llm.ToolCall) Step {
	parts := make([]llm.Part, len(calls))
	for i, c := range calls {
		if c.ID == "" {
			c.ID = "call_" + strconv.Itoa(i+1)
		}
		c.Args = bytes.Clone(c.Args)
		parts[i] = llm.ToolCallPart(c)
	}
	return Step{Response: &llm.Response{
		Message:      llm.Message{Role: llm.Assistant, Parts: parts},
		FinishReason: llm.FinishToolCalls,
		Usage:        StepUsage(),
	}}
}

// Fail returns a Step that fails with err. Use an [*llm.Error] to simulate a
// provider failure:
//
//	llmtest.Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrRateLimited, RetryAfter: time.Second})
func Fail(err error) Step { return Step{Err: err} }

// Func returns a Step that answers with f, for answers that depend on the
// request or that must block until a test lets them go.
func Func(f func(ctx context.Context, req *llm.Request) (*llm.Response, error)) Step {
	return Step{Func: f}
}

// Scripted is a fake [llm.Provider] that answers with a script of Steps, in
// order, and records the requests it gets. It is the model used by the
// tests, examples and benchmarks of wagent.
//
// When the script is exhausted, Scripted answers with the default Step set
// by [Scripted.SetDefault] if any, and otherwise fails with an [*llm.Error]
// of kind [llm.ErrInvalidRequest] ("llmtest: script exhausted").
//
// Recording is on by default; turn it off with [Scripted.SetRecording] in
// benchmarks, where Generate then allocates only the response.
//
// The zero value is an empty script with recording on. A Scripted is safe
// for concurrent use; it must not be copied after first use.
type Scripted struct {
	mu          sync.Mutex
	steps       []Step
	def         Step
	hasDef      bool
	noRecording bool
	requests    []*llm.Request
	calls       int
}

var _ llm.Provider = (*Scripted)(nil)

// NewScripted returns a Scripted provider that answers with steps, in
// order.
func NewScripted(steps ...Step) *Scripted {
	s := &Scripted{}
	s.Push(steps...)
	return s
}

// Name implements [llm.Provider]. It returns "scripted".
func (s *Scripted) Name() string { return "scripted" }

// Generate implements [llm.Provider]. If ctx is done it returns an error
// wrapping ctx.Err() without recording, counting or consuming anything.
// Otherwise it counts the call, records a deep copy of req if recording is
// on, and answers with the next Step, the default Step when the script is
// exhausted, or an [*llm.Error] of kind [llm.ErrInvalidRequest] when there
// is neither.
func (s *Scripted) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("llmtest: scripted: %w", err)
	}
	s.mu.Lock()
	s.calls++
	if !s.noRecording {
		s.requests = append(s.requests, req.Clone())
	}
	var step Step
	switch {
	case len(s.steps) > 0:
		step = s.steps[0]
		s.steps[0] = Step{} // release what the step holds
		s.steps = s.steps[1:]
	case s.hasDef:
		step = s.def
	default:
		s.mu.Unlock()
		return nil, s.failure("llmtest: script exhausted")
	}
	s.mu.Unlock()

	switch {
	case step.Response != nil && step.Err == nil && step.Func == nil:
		return step.Response.Clone(), nil
	case step.Err != nil && step.Response == nil && step.Func == nil:
		return nil, step.Err
	case step.Func != nil && step.Response == nil && step.Err == nil:
		return step.Func(ctx, req)
	default:
		return nil, s.failure("llmtest: step must set exactly one of Response, Err and Func")
	}
}

func (s *Scripted) failure(msg string) error {
	return &llm.Error{Provider: s.Name(), Kind: llm.ErrInvalidRequest, Err: errors.New(msg)}
}

// Push appends steps to the script.
func (s *Scripted) Push(steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, steps...)
}

// SetDefault sets the Step answered whenever the script is exhausted. The
// zero Step removes the default.
func (s *Scripted) SetDefault(step Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.def = step
	s.hasDef = step.Response != nil || step.Err != nil || step.Func != nil
}

// SetRecording turns the recording of requests on or off. Turning it off
// keeps what was recorded so far.
func (s *Scripted) SetRecording(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noRecording = !on
}

// Requests returns deep copies of the requests recorded so far, in call
// order.
func (s *Scripted) Requests() []*llm.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	reqs := make([]*llm.Request, len(s.requests))
	for i, r := range s.requests {
		reqs[i] = r.Clone()
	}
	return reqs
}

// Calls returns how many calls to Generate were answered so far, recorded or
// not. Calls made with a done context are not counted.
func (s *Scripted) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}
