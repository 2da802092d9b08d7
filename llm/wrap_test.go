package llm_test

import (
	"context"
	"errors"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

// A *rate.Limiter is what Limit is meant to be given.
var _ llm.Limiter = (*rate.Limiter)(nil)

func failure(kind error) *llm.Error {
	return &llm.Error{Provider: "scripted", Kind: kind, Err: errors.New("test failure")}
}

// sleeps records the waits of a Retry instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func userRequest() *llm.Request {
	return &llm.Request{Messages: []llm.Message{llm.UserText("hi")}}
}

// streamAttempt is what one call to fakeStreamer.Stream yields: chunks, then
// err if not nil.
type streamAttempt struct {
	chunks []llm.Chunk
	err    error
}

// fakeStreamer streams its attempts in order; Generate is the Scripted's.
type fakeStreamer struct {
	*llmtest.Scripted
	mu       sync.Mutex
	attempts []streamAttempt
	streams  int
}

func (f *fakeStreamer) Stream(ctx context.Context, _ *llm.Request) iter.Seq2[llm.Chunk, error] {
	return func(yield func(llm.Chunk, error) bool) {
		f.mu.Lock()
		f.streams++
		if len(f.attempts) == 0 {
			f.mu.Unlock()
			yield(llm.Chunk{}, failure(llm.ErrInvalidRequest))
			return
		}
		a := f.attempts[0]
		f.attempts = f.attempts[1:]
		f.mu.Unlock()
		if err := ctx.Err(); err != nil {
			yield(llm.Chunk{}, err)
			return
		}
		for _, c := range a.chunks {
			if !yield(c, nil) {
				return
			}
		}
		if a.err != nil {
			yield(llm.Chunk{}, a.err)
		}
	}
}

func (f *fakeStreamer) streamCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.streams
}

func final(text string) llm.Chunk {
	return llm.Chunk{Text: text, Response: &llm.Response{Message: llm.AssistantText(text), FinishReason: llm.FinishStop}}
}

func collect(seq iter.Seq2[llm.Chunk, error]) (texts []string, last *llm.Response, err error) {
	for c, e := range seq {
		if e != nil {
			return texts, last, e
		}
		texts = append(texts, c.Text)
		if c.Response != nil {
			last = c.Response
		}
	}
	return texts, last, nil
}

func TestRetry(t *testing.T) {
	t.Run("retries retryable failures with growing jittered backoff", func(t *testing.T) {
		s := &sleeps{}
		p := llmtest.NewScripted(llmtest.Fail(failure(llm.ErrUnavailable)), llmtest.Fail(failure(llm.ErrRateLimited)), llmtest.Reply("ok"))
		r := llm.Retry(p, &llm.RetryOptions{InitialBackoff: time.Second, Sleep: s.sleep})
		resp, err := r.Generate(t.Context(), userRequest())
		require.NoError(t, err)
		assert.Equal(t, "ok", resp.Message.Text())
		assert.Equal(t, 3, p.Calls())
		w := s.waits()
		require.Len(t, w, 2)
		assert.GreaterOrEqual(t, w[0], 500*time.Millisecond)
		assert.LessOrEqual(t, w[0], time.Second)
		assert.GreaterOrEqual(t, w[1], time.Second)
		assert.LessOrEqual(t, w[1], 2*time.Second)
	})

	t.Run("backoff is capped by MaxBackoff", func(t *testing.T) {
		s := &sleeps{}
		steps := []llmtest.Step{}
		for range 5 {
			steps = append(steps, llmtest.Fail(failure(llm.ErrUnavailable)))
		}
		p := llmtest.NewScripted(append(steps, llmtest.Reply("ok"))...)
		r := llm.Retry(p, &llm.RetryOptions{MaxAttempts: 6, InitialBackoff: time.Second, MaxBackoff: 3 * time.Second, Sleep: s.sleep})
		_, err := r.Generate(t.Context(), userRequest())
		require.NoError(t, err)
		for _, d := range s.waits() {
			assert.LessOrEqual(t, d, 3*time.Second)
		}
		assert.GreaterOrEqual(t, s.waits()[4], 1500*time.Millisecond)
	})

	t.Run("honours RetryAfter", func(t *testing.T) {
		s := &sleeps{}
		limited := failure(llm.ErrRateLimited)
		limited.RetryAfter = 7 * time.Second
		p := llmtest.NewScripted(llmtest.Fail(limited), llmtest.Reply("ok"))
		_, err := llm.Retry(p, &llm.RetryOptions{Sleep: s.sleep}).Generate(t.Context(), userRequest())
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{7 * time.Second}, s.waits())
	})

	t.Run("does not wait for a RetryAfter above MaxRetryAfter", func(t *testing.T) {
		s := &sleeps{}
		limited := failure(llm.ErrRateLimited)
		limited.RetryAfter = time.Hour
		p := llmtest.NewScripted(llmtest.Fail(limited), llmtest.Reply("ok"))
		_, err := llm.Retry(p, &llm.RetryOptions{Sleep: s.sleep}).Generate(t.Context(), userRequest())
		require.ErrorIs(t, err, llm.ErrRateLimited)
		assert.Equal(t, 1, p.Calls())
		assert.Empty(t, s.waits())
	})

	t.Run("does not wait past the deadline", func(t *testing.T) {
		s := &sleeps{}
		limited := failure(llm.ErrRateLimited)
		limited.RetryAfter = 50 * time.Minute
		p := llmtest.NewScripted(llmtest.Fail(limited), llmtest.Reply("ok"))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
		defer cancel()
		_, err := llm.Retry(p, &llm.RetryOptions{MaxRetryAfter: time.Hour, Sleep: s.sleep}).Generate(ctx, userRequest())
		require.ErrorIs(t, err, llm.ErrRateLimited)
		assert.Equal(t, 1, p.Calls())
		assert.Empty(t, s.waits())
	})

	for _, kind := range []error{llm.ErrInvalidRequest, llm.ErrContextTooLong, llm.ErrAuth, llm.ErrContentBlocked} {
		t.Run("does not retry "+kind.Error(), func(t *testing.T) {
			s := &sleeps{}
			p := llmtest.NewScripted(llmtest.Fail(failure(kind)), llmtest.Reply("ok"))
			_, err := llm.Retry(p, &llm.RetryOptions{Sleep: s.sleep}).Generate(t.Context(), userRequest())
			require.ErrorIs(t, err, kind)
			assert.Equal(t, 1, p.Calls())
			assert.Empty(t, s.waits())
		})
	}

	t.Run("does not retry an unclassified error", func(t *testing.T) {
		plain := errors.New("boom")
		p := llmtest.NewScripted(llmtest.Fail(plain), llmtest.Reply("ok"))
		_, err := llm.Retry(p, &llm.RetryOptions{Sleep: (&sleeps{}).sleep}).Generate(t.Context(), userRequest())
		require.ErrorIs(t, err, plain)
		assert.Equal(t, 1, p.Calls())
	})

	t.Run("gives up after MaxAttempts with the last failure", func(t *testing.T) {
		s := &sleeps{}
		p := llmtest.NewScripted()
		p.SetDefault(llmtest.Fail(failure(llm.ErrUnavailable)))
		_, err := llm.Retry(p, &llm.RetryOptions{MaxAttempts: 4, Sleep: s.sleep}).Generate(t.Context(), userRequest())
		require.ErrorIs(t, err, llm.ErrUnavailable)
		var e *llm.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "scripted", e.Provider)
		assert.Contains(t, err.Error(), "4 attempts")
		assert.Equal(t, 4, p.Calls())
		assert.Len(t, s.waits(), 3)
	})

	t.Run("MaxAttempts 1 does not retry", func(t *testing.T) {
		p := llmtest.NewScripted(llmtest.Fail(failure(llm.ErrUnavailable)), llmtest.Reply("ok"))
		_, err := llm.Retry(p, &llm.RetryOptions{MaxAttempts: 1}).Generate(t.Context(), userRequest())
		require.ErrorIs(t, err, llm.ErrUnavailable)
		assert.Equal(t, 1, p.Calls())
	})

	t.Run("cancellation while waiting is the context's error, unclassified", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		p := llmtest.NewScripted(llmtest.Fail(failure(llm.ErrUnavailable)), llmtest.Reply("ok"))
		r := llm.Retry(p, &llm.RetryOptions{Sleep: func(ctx context.Context, _ time.Duration) error {
			cancel()
			return ctx.Err()
		}})
		_, err := r.Generate(ctx, userRequest())
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, llm.Retryable(err), "a cancelled call must not look retryable")
		var e *llm.Error
		assert.False(t, errors.As(err, &e))
		assert.Equal(t, 1, p.Calls())
	})

	t.Run("a cancelled context is not retried", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		p := llmtest.NewScripted(llmtest.Reply("ok"))
		_, err := llm.Retry(p, nil).Generate(ctx, userRequest())
		require.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, p.Calls())
	})

	t.Run("an attempt that times out is unavailable and retried", func(t *testing.T) {
		s := &sleeps{}
		p := llmtest.NewScripted(llmtest.Func(func(ctx context.Context, _ *llm.Request) (*llm.Response, error) {
			<-ctx.Done() // the attempt's deadline
			return nil, ctx.Err()
		}), llmtest.Reply("ok"))
		r := llm.Retry(p, &llm.RetryOptions{AttemptTimeout: time.Millisecond, Sleep: s.sleep})
		resp, err := r.Generate(t.Context(), userRequest())
		require.NoError(t, err)
		assert.Equal(t, "ok", resp.Message.Text())
		assert.Len(t, s.waits(), 1)
	})

	t.Run("an attempt timeout is reported as ErrUnavailable", func(t *testing.T) {
		p := llmtest.NewScripted()
		p.SetDefault(llmtest.Func(func(ctx context.Context, _ *llm.Request) (*llm.Response, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}))
		r := llm.Retry(p, &llm.RetryOptions{MaxAttempts: 2, AttemptTimeout: time.Millisecond, Sleep: (&sleeps{}).sleep})
		_, err := r.Generate(t.Context(), userRequest())
		require.ErrorIs(t, err, llm.ErrUnavailable)
		assert.NotErrorIs(t, err, context.DeadlineExceeded, "the caller's context did not expire")
		assert.Contains(t, err.Error(), "attempt timed out")
	})

	t.Run("keeps the name and the streaming capability", func(t *testing.T) {
		plain := llm.Retry(llmtest.NewScripted(), nil)
		assert.Equal(t, "scripted", plain.Name())
		_, ok := plain.(llm.Streamer)
		assert.False(t, ok, "Retry must not claim a capability the provider lacks")
		_, ok = llm.Retry(&fakeStreamer{Scripted: llmtest.NewScripted()}, nil).(llm.Streamer)
		assert.True(t, ok)
	})

	t.Run("a nil provider fails as an invalid request", func(t *testing.T) {
		_, err := llm.Retry(nil, nil).Generate(t.Context(), userRequest())
		require.ErrorIs(t, err, llm.ErrInvalidRequest)
	})

	t.Run("safe for concurrent use", func(t *testing.T) {
		p := llmtest.NewScripted()
		p.SetDefault(llmtest.Reply("ok"))
		r := llm.Retry(p, &llm.RetryOptions{Sleep: (&sleeps{}).sleep})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := r.Generate(t.Context(), userRequest())
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		assert.Equal(t, 8, p.Calls())
	})
}

func TestRetryStream(t *testing.T) {
	t.Run("retries a stream that failed before yielding", func(t *testing.T) {
		s := &sleeps{}
		f := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{
			{err: failure(llm.ErrUnavailable)},
			{chunks: []llm.Chunk{{Text: "o"}, final("k")}},
		}}
		r := llm.Retry(f, &llm.RetryOptions{Sleep: s.sleep}).(llm.Streamer)
		texts, resp, err := collect(r.Stream(t.Context(), userRequest()))
		require.NoError(t, err)
		assert.Equal(t, []string{"o", "k"}, texts)
		require.NotNil(t, resp)
		assert.Equal(t, 2, f.streamCalls())
		assert.Len(t, s.waits(), 1)
	})

	t.Run("never retries after a chunk was yielded", func(t *testing.T) {
		s := &sleeps{}
		f := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{
			{chunks: []llm.Chunk{{Text: "Hel"}}, err: failure(llm.ErrUnavailable)},
			{chunks: []llm.Chunk{final("Hello")}},
		}}
		r := llm.Retry(f, &llm.RetryOptions{Sleep: s.sleep}).(llm.Streamer)
		texts, _, err := collect(r.Stream(t.Context(), userRequest()))
		require.ErrorIs(t, err, llm.ErrUnavailable)
		assert.Equal(t, []string{"Hel"}, texts)
		assert.Equal(t, 1, f.streamCalls())
		assert.Empty(t, s.waits())
	})

	t.Run("stopping early stops the stream", func(t *testing.T) {
		f := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{
			{chunks: []llm.Chunk{{Text: "a"}, {Text: "b"}, final("c")}},
		}}
		r := llm.Retry(f, nil).(llm.Streamer)
		n := 0
		for range r.Stream(t.Context(), userRequest()) {
			n++
			break
		}
		assert.Equal(t, 1, n)
	})

	t.Run("gives up with the last failure", func(t *testing.T) {
		f := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{
			{err: failure(llm.ErrUnavailable)}, {err: failure(llm.ErrAuth)},
		}}
		r := llm.Retry(f, &llm.RetryOptions{Sleep: (&sleeps{}).sleep}).(llm.Streamer)
		_, _, err := collect(r.Stream(t.Context(), userRequest()))
		require.ErrorIs(t, err, llm.ErrAuth)
		assert.Equal(t, 2, f.streamCalls())
	})
}

// countingLimiter counts waits and fails with err.
type countingLimiter struct {
	mu    sync.Mutex
	waits int
	err   error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.err
}

func TestLimit(t *testing.T) {
	t.Run("waits before every call", func(t *testing.T) {
		l := &countingLimiter{}
		p := llmtest.NewScripted(llmtest.Reply("a"), llmtest.Reply("b"))
		lp := llm.Limit(p, l)
		assert.Equal(t, "scripted", lp.Name())
		for range 2 {
			_, err := lp.Generate(t.Context(), userRequest())
			require.NoError(t, err)
		}
		assert.Equal(t, 2, l.waits)
	})

	t.Run("a limiter refusal is rate limited and does not reach the provider", func(t *testing.T) {
		l := &countingLimiter{err: errors.New("rate: Wait(n=1) would exceed context deadline")}
		p := llmtest.NewScripted(llmtest.Reply("a"))
		_, err := llm.Limit(p, l).Generate(t.Context(), userRequest())
		require.ErrorIs(t, err, llm.ErrRateLimited)
		var e *llm.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "scripted", e.Provider)
		assert.Zero(t, p.Calls())
	})

	t.Run("cancellation is the context's error", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := llm.Limit(llmtest.NewScripted(llmtest.Reply("a")), &countingLimiter{}).Generate(ctx, userRequest())
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, llm.Retryable(err))
	})

	t.Run("a real rate.Limiter paces calls", func(t *testing.T) {
		p := llmtest.NewScripted()
		p.SetDefault(llmtest.Reply("a"))
		lp := llm.Limit(p, rate.NewLimiter(rate.Inf, 1))
		_, err := lp.Generate(t.Context(), userRequest())
		require.NoError(t, err)
	})

	t.Run("a nil limiter returns the provider", func(t *testing.T) {
		p := llmtest.NewScripted()
		assert.Same(t, p, llm.Limit(p, nil))
	})

	t.Run("streams wait too", func(t *testing.T) {
		l := &countingLimiter{}
		f := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{{chunks: []llm.Chunk{final("ok")}}}}
		s, ok := llm.Limit(f, l).(llm.Streamer)
		require.True(t, ok)
		_, resp, err := collect(s.Stream(t.Context(), userRequest()))
		require.NoError(t, err)
		assert.Equal(t, "ok", resp.Message.Text())
		assert.Equal(t, 1, l.waits)
		_, ok = llm.Limit(llmtest.NewScripted(), l).(llm.Streamer)
		assert.False(t, ok)
	})
}

func TestFallback(t *testing.T) {
	for _, kind := range []error{llm.ErrUnavailable, llm.ErrRateLimited} {
		t.Run("moves on for "+kind.Error(), func(t *testing.T) {
			a := llmtest.NewScripted(llmtest.Fail(failure(kind)))
			b := llmtest.NewScripted(llmtest.Reply("from b"))
			resp, err := llm.Fallback(a, b).Generate(t.Context(), userRequest())
			require.NoError(t, err)
			assert.Equal(t, "from b", resp.Message.Text())
			assert.Equal(t, 1, a.Calls())
			assert.Equal(t, 1, b.Calls())
		})
	}

	for _, kind := range []error{llm.ErrInvalidRequest, llm.ErrContextTooLong, llm.ErrAuth, llm.ErrContentBlocked} {
		t.Run("does not move on for "+kind.Error(), func(t *testing.T) {
			a := llmtest.NewScripted(llmtest.Fail(failure(kind)))
			b := llmtest.NewScripted(llmtest.Reply("from b"))
			_, err := llm.Fallback(a, b).Generate(t.Context(), userRequest())
			require.ErrorIs(t, err, kind)
			assert.Zero(t, b.Calls())
		})
	}

	t.Run("does not move on when the context is done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		a := llmtest.NewScripted(llmtest.Func(func(context.Context, *llm.Request) (*llm.Response, error) {
			cancel()
			return nil, failure(llm.ErrUnavailable)
		}))
		b := llmtest.NewScripted(llmtest.Reply("from b"))
		_, err := llm.Fallback(a, b).Generate(ctx, userRequest())
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, llm.Retryable(err))
		assert.Zero(t, b.Calls())
	})

	t.Run("when all fail, the error is the last one and lists all", func(t *testing.T) {
		a := llmtest.NewScripted(llmtest.Fail(failure(llm.ErrRateLimited)))
		b := llmtest.NewScripted(llmtest.Fail(&llm.Error{Provider: "b", Kind: llm.ErrUnavailable, StatusCode: 503}))
		_, err := llm.Fallback(a, b).Generate(t.Context(), userRequest())
		require.ErrorIs(t, err, llm.ErrUnavailable)
		assert.NotErrorIs(t, err, llm.ErrRateLimited, "the failure is classified as the last one")
		var e *llm.Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "b", e.Provider)
		assert.Contains(t, err.Error(), "rate limited")
		assert.Contains(t, err.Error(), "HTTP 503")
	})

	t.Run("names its providers and skips nil ones", func(t *testing.T) {
		f := llm.Fallback(llmtest.NewScripted(), nil, llmtest.Echo{})
		assert.Equal(t, "fallback(scripted,echo)", f.Name())
		_, ok := f.(llm.Streamer)
		assert.False(t, ok)
	})

	t.Run("retry inside fallback", func(t *testing.T) {
		s := &sleeps{}
		a := llmtest.NewScripted()
		a.SetDefault(llmtest.Fail(failure(llm.ErrUnavailable)))
		b := llmtest.NewScripted(llmtest.Reply("from b"))
		f := llm.Fallback(llm.Retry(a, &llm.RetryOptions{Sleep: s.sleep}), b)
		resp, err := f.Generate(t.Context(), userRequest())
		require.NoError(t, err)
		assert.Equal(t, "from b", resp.Message.Text())
		assert.Equal(t, llm.DefaultMaxAttempts, a.Calls())
	})
}

func TestFallbackStream(t *testing.T) {
	t.Run("moves on to a provider that does not stream", func(t *testing.T) {
		a := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{{err: failure(llm.ErrUnavailable)}}}
		b := llmtest.NewScripted(llmtest.Reply("from b"))
		s, ok := llm.Fallback(a, b).(llm.Streamer)
		require.True(t, ok)
		texts, resp, err := collect(s.Stream(t.Context(), userRequest()))
		require.NoError(t, err)
		assert.Equal(t, []string{"from b"}, texts)
		require.NotNil(t, resp)
		assert.Equal(t, "from b", resp.Message.Text())
	})

	t.Run("does not move on after a chunk was yielded", func(t *testing.T) {
		a := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{{chunks: []llm.Chunk{{Text: "par"}}, err: failure(llm.ErrUnavailable)}}}
		b := llmtest.NewScripted(llmtest.Reply("from b"))
		s := llm.Fallback(a, b).(llm.Streamer)
		texts, _, err := collect(s.Stream(t.Context(), userRequest()))
		require.ErrorIs(t, err, llm.ErrUnavailable)
		assert.Equal(t, []string{"par"}, texts)
		assert.Zero(t, b.Calls())
	})

	t.Run("does not move on for a bad request", func(t *testing.T) {
		a := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{{err: failure(llm.ErrContextTooLong)}}}
		b := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{{chunks: []llm.Chunk{final("b")}}}}
		s := llm.Fallback(a, b).(llm.Streamer)
		_, _, err := collect(s.Stream(t.Context(), userRequest()))
		require.ErrorIs(t, err, llm.ErrContextTooLong)
		assert.Zero(t, b.streamCalls())
	})

	t.Run("a failing provider that does not stream", func(t *testing.T) {
		a := &fakeStreamer{Scripted: llmtest.NewScripted(), attempts: []streamAttempt{{err: failure(llm.ErrRateLimited)}}}
		b := llmtest.NewScripted(llmtest.Fail(failure(llm.ErrUnavailable)))
		s := llm.Fallback(a, b).(llm.Streamer)
		_, _, err := collect(s.Stream(t.Context(), userRequest()))
		require.ErrorIs(t, err, llm.ErrUnavailable)
		assert.Contains(t, err.Error(), "rate limited")
	})
}
