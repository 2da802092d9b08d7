package llmtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

func userReq(text string) *llm.Request {
	return &llm.Request{Messages: []llm.Message{llm.UserText(text)}}
}

// texts calls Generate n times and returns the answers' texts, failing on
// any error.
func texts(t *testing.T, s *llmtest.Scripted, n int) []string {
	t.Helper()
	var out []string
	for range n {
		resp, err := s.Generate(t.Context(), userReq("hi"))
		require.NoError(t, err)
		out = append(out, resp.Message.Text())
	}
	return out
}

func requireExhausted(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, llm.ErrInvalidRequest)
	var e *llm.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "scripted", e.Provider)
	assert.EqualError(t, e.Err, "llmtest: script exhausted")
	assert.False(t, llm.Retryable(err))
}

func TestScriptedName(t *testing.T) {
	assert.Equal(t, "scripted", llmtest.NewScripted().Name())
}

func TestScriptedFIFO(t *testing.T) {
	s := llmtest.NewScripted(llmtest.Reply("a"), llmtest.Reply("b"))
	s.Push(llmtest.Reply("c"), llmtest.Reply("d"))
	assert.Equal(t, []string{"a", "b", "c"}, texts(t, s, 3))
	s.Push(llmtest.Reply("e"))
	assert.Equal(t, []string{"d", "e"}, texts(t, s, 2))

	_, err := s.Generate(t.Context(), userReq("hi"))
	requireExhausted(t, err)
	assert.Equal(t, 6, s.Calls(), "an exhausted call counts")
}

func TestScriptedDefault(t *testing.T) {
	s := llmtest.NewScripted(llmtest.Reply("first"))
	s.SetDefault(llmtest.Reply("again"))
	assert.Equal(t, []string{"first", "again", "again"}, texts(t, s, 3))

	s.Push(llmtest.Reply("pushed"))
	assert.Equal(t, []string{"pushed", "again"}, texts(t, s, 2), "the script comes before the default")

	s.SetDefault(llmtest.Step{})
	_, err := s.Generate(t.Context(), userReq("hi"))
	requireExhausted(t, err)
}

func TestScriptedZeroValue(t *testing.T) {
	var s llmtest.Scripted
	_, err := s.Generate(t.Context(), userReq("hi"))
	requireExhausted(t, err)
	assert.Len(t, s.Requests(), 1, "recording is on by default")
}

func TestScriptedSteps(t *testing.T) {
	boom := errors.New("boom")
	resp := &llm.Response{Message: llm.AssistantText("from func"), FinishReason: llm.FinishLength}
	answer := func(context.Context, *llm.Request) (*llm.Response, error) { return resp, nil }
	tests := []struct {
		name     string
		step     llmtest.Step
		wantText string
		wantErr  error
	}{
		{"reply", llmtest.Reply("hello"), "hello", nil},
		{"fail returns the error as is", llmtest.Fail(boom), "", boom},
		{"func", llmtest.Func(answer), "from func", nil},
		{"func error", llmtest.Func(func(context.Context, *llm.Request) (*llm.Response, error) { return nil, boom }), "", boom},
		{"raw response", llmtest.Step{Response: resp}, "from func", nil},
		{"zero step", llmtest.Step{}, "", llm.ErrInvalidRequest},
		{"fail nil", llmtest.Fail(nil), "", llm.ErrInvalidRequest},
		{"response and error", llmtest.Step{Response: resp, Err: boom}, "", llm.ErrInvalidRequest},
		{"error and func", llmtest.Step{Err: boom, Func: answer}, "", llm.ErrInvalidRequest},
		{"all three", llmtest.Step{Response: resp, Err: boom, Func: answer}, "", llm.ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := llmtest.NewScripted(tt.step).Generate(t.Context(), userReq("hi"))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantText, got.Message.Text())
		})
	}
}

func TestScriptedInvalidStepError(t *testing.T) {
	_, err := llmtest.NewScripted(llmtest.Step{}).Generate(t.Context(), userReq("hi"))
	var e *llm.Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "scripted", e.Provider)
	assert.EqualError(t, e.Err, "llmtest: step must set exactly one of Response, Err and Func")
}

func TestScriptedFuncGetsCallArguments(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "v")
	req := userReq("hi")
	s := llmtest.NewScripted(llmtest.Func(func(gotCtx context.Context, got *llm.Request) (*llm.Response, error) {
		assert.Equal(t, "v", gotCtx.Value(key{}))
		assert.Same(t, req, got)
		return &llm.Response{Message: llm.AssistantText(got.Messages[0].Text())}, nil
	}))
	resp, err := s.Generate(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "hi", resp.Message.Text())
}

// A Func step runs outside the lock: while it blocks, the Scripted can still
// be used.
func TestScriptedFuncMayBlock(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s := llmtest.NewScripted(llmtest.Func(func(ctx context.Context, _ *llm.Request) (*llm.Response, error) {
		close(entered)
		<-release
		return &llm.Response{Message: llm.AssistantText("released")}, nil
	}))
	done := make(chan string)
	go func() {
		resp, err := s.Generate(context.Background(), userReq("hi"))
		assert.NoError(t, err)
		done <- resp.Message.Text()
	}()
	<-entered
	s.Push(llmtest.Reply("next"))
	assert.Equal(t, 1, s.Calls())
	assert.Equal(t, []string{"next"}, texts(t, s, 1))
	close(release)
	assert.Equal(t, "released", <-done)
}

func TestScriptedCancelled(t *testing.T) {
	tests := []struct {
		name string
		ctx  func(t *testing.T) context.Context
		want error
	}{
		{"cancelled", func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}, context.Canceled},
		{"deadline exceeded", func(t *testing.T) context.Context {
			ctx, cancel := context.WithDeadline(t.Context(), time.Unix(0, 0))
			t.Cleanup(cancel)
			return ctx
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := llmtest.NewScripted(llmtest.Reply("kept"))
			resp, err := s.Generate(tt.ctx(t), userReq("hi"))
			require.ErrorIs(t, err, tt.want)
			assert.Nil(t, resp)
			assert.Zero(t, s.Calls(), "a call with a done context is not counted")
			assert.Empty(t, s.Requests(), "a call with a done context is not recorded")
			assert.Equal(t, []string{"kept"}, texts(t, s, 1), "a call with a done context consumes no step")
		})
	}
}

func TestScriptedRecording(t *testing.T) {
	s := llmtest.NewScripted()
	s.SetDefault(llmtest.Reply("ok"))

	req := userReq("first")
	_, err := s.Generate(t.Context(), req)
	require.NoError(t, err)
	req.Messages[0].Parts[0].Text = "changed by the caller"
	req.Messages = append(req.Messages, llm.UserText("appended"))

	got := s.Requests()
	require.Len(t, got, 1)
	assert.Equal(t, userReq("first"), got[0], "a recorded request is a deep copy")
	got[0].Messages[0].Parts[0].Text = "changed by the reader"
	assert.Equal(t, userReq("first"), s.Requests()[0], "Requests returns copies")

	s.SetRecording(false)
	_, err = s.Generate(t.Context(), userReq("second"))
	require.NoError(t, err)
	s.SetRecording(true)
	_, err = s.Generate(t.Context(), userReq("third"))
	require.NoError(t, err)

	assert.Equal(t, []*llm.Request{userReq("first"), userReq("third")}, s.Requests(),
		"turning recording off keeps what was recorded and skips the calls made meanwhile")
	assert.Equal(t, 3, s.Calls(), "calls are counted whether recorded or not")
}

func TestScriptedConcurrent(t *testing.T) {
	const n = 64
	s := llmtest.NewScripted()
	want := make(map[string]bool, n)
	for i := range n {
		s.Push(llmtest.Reply("reply " + strconv.Itoa(i)))
		want["reply "+strconv.Itoa(i)] = true
	}

	var wg sync.WaitGroup
	replies := make(chan string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				s.SetRecording(true) // concurrent configuration must be safe too
			}
			resp, err := s.Generate(context.Background(), userReq("question "+strconv.Itoa(i)))
			if assert.NoError(t, err) {
				replies <- resp.Message.Text()
			}
			_ = s.Calls()
		}()
	}
	wg.Wait()
	close(replies)

	got := make(map[string]bool, n)
	for r := range replies {
		got[r] = true
	}
	assert.Equal(t, want, got, "every step is answered exactly once")
	assert.Equal(t, n, s.Calls())
	questions := make(map[string]bool, n)
	for _, r := range s.Requests() {
		questions[r.Messages[0].Text()] = true
	}
	assert.Len(t, questions, n, "every request is recorded once")
}

func TestScriptedFreshCopies(t *testing.T) {
	step := llmtest.ToolCalls(llm.ToolCall{ID: "c1", Name: "lookup", Args: json.RawMessage(`{"q":"x"}`)})
	want := *step.Response
	s := llmtest.NewScripted(step)
	s.SetDefault(step)

	first, err := s.Generate(t.Context(), userReq("hi"))
	require.NoError(t, err)
	require.NotSame(t, step.Response, first)
	first.Message.Parts[0].ToolCall.ID = "changed"
	first.Message.Parts[0].ToolCall.Args[2] = 'Q'
	first.Message.Parts = append(first.Message.Parts, llm.TextPart("appended"))
	first.Usage.InputTokens = 1000

	for range 2 {
		again, err := s.Generate(t.Context(), userReq("hi"))
		require.NoError(t, err)
		assert.Equal(t, &want, again, "each call answers a fresh copy of the step's response")
	}
}

func TestReply(t *testing.T) {
	resp, err := llmtest.NewScripted(llmtest.Reply("Hello.")).Generate(t.Context(), userReq("hi"))
	require.NoError(t, err)
	assert.Equal(t, &llm.Response{
		Message:      llm.AssistantText("Hello."),
		FinishReason: llm.FinishStop,
		Usage:        llmtest.StepUsage(),
	}, resp)
	assert.Positive(t, resp.Usage.InputTokens)
	assert.Positive(t, resp.Usage.OutputTokens)
}

func TestToolCalls(t *testing.T) {
	args := json.RawMessage(`{"city":"Lima"}`)
	step := llmtest.ToolCalls(
		llm.ToolCall{Name: "get_weather", Args: args},
		llm.ToolCall{ID: "mine", Name: "get_time"},
		llm.ToolCall{Name: "get_weather", Args: json.RawMessage(`{"city":"Cusco"}`)},
	)
	args[2] = 'X' // the step holds its own copy

	resp, err := llmtest.NewScripted(step).Generate(t.Context(), userReq("hi"))
	require.NoError(t, err)
	assert.Equal(t, llm.Assistant, resp.Message.Role)
	assert.Equal(t, llm.FinishToolCalls, resp.FinishReason)
	assert.Equal(t, llmtest.StepUsage(), resp.Usage)
	assert.Equal(t, []llm.ToolCall{
		{ID: "call_1", Name: "get_weather", Args: json.RawMessage(`{"city":"Lima"}`)},
		{ID: "mine", Name: "get_time"},
		{ID: "call_3", Name: "get_weather", Args: json.RawMessage(`{"city":"Cusco"}`)},
	}, resp.Message.ToolCalls())
}

func TestScriptedAllocs(t *testing.T) {
	s := llmtest.NewScripted()
	s.SetDefault(llmtest.Reply("ok"))
	s.SetRecording(false)
	ctx, req := context.Background(), userReq("hi")
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := s.Generate(ctx, req); err != nil {
			t.Fatal(err)
		}
	})
	assert.LessOrEqual(t, allocs, 2.0, "a reply costs its response and its parts, no more")
}

func BenchmarkScriptedGenerate(b *testing.B) {
	req := &llm.Request{
		System: "You are a shop assistant.",
		Messages: []llm.Message{
			llm.UserText("Weather in Lima?"),
			{Role: llm.Assistant, Parts: []llm.Part{llm.ToolCallPart(llm.ToolCall{ID: "c1", Name: "get_weather", Args: json.RawMessage(`{"city":"Lima"}`)})}},
			{Role: llm.ToolRole, Parts: []llm.Part{llm.ToolResultPart(llm.ToolResult{CallID: "c1", Name: "get_weather", Content: `{"temp_c":19}`})}},
		},
	}
	for _, recording := range []bool{false, true} {
		b.Run("recording="+strconv.FormatBool(recording), func(b *testing.B) {
			s := llmtest.NewScripted()
			s.SetDefault(llmtest.Reply("It is 19 °C in Lima."))
			s.SetRecording(recording)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Generate(b.Context(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
