package llm

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"time"
)

// Defaults of [RetryOptions].
const (
	// DefaultMaxAttempts is how many calls Retry makes in all, the first
	// one included.
	DefaultMaxAttempts = 3
	// DefaultInitialBackoff is the wait before the first retry when the
	// provider did not say how long to wait.
	DefaultInitialBackoff = 500 * time.Millisecond
	// DefaultMaxBackoff caps the exponential backoff.
	DefaultMaxBackoff = 20 * time.Second
	// DefaultMaxRetryAfter is the longest Error.RetryAfter that Retry waits
	// for.
	DefaultMaxRetryAfter = time.Minute
)

// RetryOptions configures [Retry]. The zero value, like a nil
// *RetryOptions, uses the defaults.
type RetryOptions struct {
	// MaxAttempts is how many calls are made in all, the first one
	// included. 0 means DefaultMaxAttempts; 1 turns retrying off (the
	// wrapper then only applies AttemptTimeout).
	MaxAttempts int
	// InitialBackoff is the wait before the first retry when the failure
	// says nothing of when to try again; it doubles for each later retry,
	// up to MaxBackoff. Each wait is drawn at random between half the
	// backoff and the whole of it (jitter), so that callers that failed
	// together do not retry together. 0 means DefaultInitialBackoff.
	InitialBackoff time.Duration
	// MaxBackoff caps the backoff. 0 means DefaultMaxBackoff.
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest wait a provider may ask for with
	// Error.RetryAfter. A failure that asks for longer is returned at
	// once, so that a [Fallback] around the wrapper can move on. 0 means
	// DefaultMaxRetryAfter.
	MaxRetryAfter time.Duration
	// AttemptTimeout bounds each attempt, 0 for no bound beyond the
	// caller's context. An attempt that runs out of time fails with
	// [ErrUnavailable] (and is retried as such); for a stream it bounds
	// the whole attempt, reading included.
	AttemptTimeout time.Duration
	// Sleep waits for d, or until ctx is done and then returns ctx.Err().
	// nil uses a timer. Tests set it to record the waits instead of
	// sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Retry returns a Provider that calls p again when a call fails with an
// error for which [Retryable] reports true ([ErrRateLimited],
// [ErrUnavailable]), up to RetryOptions.MaxAttempts calls in all. Other
// failures, and cancellation, are returned at once.
//
// Before each retry it waits for the failure's Error.RetryAfter when the
// provider gave one (and returns the failure instead when that is longer
// than MaxRetryAfter), and otherwise for an exponential backoff with
// jitter. It does not wait when ctx's deadline would pass first: it returns
// the failure then. When ctx is done while waiting, it returns an error
// wrapping ctx.Err(), not classified as any sentinel.
//
// The returned Provider has p's Name, and implements [Streamer] when p
// does. A stream is retried only while it has yielded nothing: once a chunk
// reached the caller, a failure ends the stream as it is, since the caller
// may already have shown the text.
//
// Retry is meant to be the only layer that retries: the adapters in wagent
// leave their SDKs' own retries off. Wrap it in [Fallback], not the other
// way round, so that each provider gets its retries before the next one is
// tried. The returned Provider is safe for concurrent use if p is.
func Retry(p Provider, opts *RetryOptions) Provider {
	if p == nil {
		return nilProvider{}
	}
	r := &retrier{p: p}
	if opts != nil {
		r.o = *opts
	}
	if r.o.MaxAttempts <= 0 {
		r.o.MaxAttempts = DefaultMaxAttempts
	}
	if r.o.InitialBackoff <= 0 {
		r.o.InitialBackoff = DefaultInitialBackoff
	}
	if r.o.MaxBackoff <= 0 {
		r.o.MaxBackoff = DefaultMaxBackoff
	}
	if r.o.MaxRetryAfter <= 0 {
		r.o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if r.o.Sleep == nil {
		r.o.Sleep = sleep
	}
	if s, ok := p.(Streamer); ok {
		return &retryStreamer{retrier: r, s: s}
	}
	return r
}

type retrier struct {
	p Provider
	o RetryOptions
}

type retryStreamer struct {
	*retrier
	s Streamer
}

var (
	_ Provider = (*retrier)(nil)
	_ Streamer = (*retryStreamer)(nil)
)

func (r *retrier) Name() string { return r.p.Name() }

func (r *retrier) Generate(ctx context.Context, req *Request) (*Response, error) {
	for attempt := 1; ; attempt++ {
		actx, cancel := r.attemptContext(ctx)
		resp, err := r.p.Generate(actx, req)
		err = r.attemptError(ctx, actx, err)
		cancel()
		if err == nil {
			return resp, nil
		}
		if werr := r.wait(ctx, attempt, err); werr != nil {
			return nil, werr
		}
	}
}

func (r *retryStreamer) Stream(ctx context.Context, req *Request) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		for attempt := 1; ; attempt++ {
			actx, cancel := r.attemptContext(ctx)
			yielded, stopped := false, false
			var failure error
			for c, err := range r.s.Stream(actx, req) {
				if err != nil {
					failure = r.attemptError(ctx, actx, err)
					break
				}
				yielded = true
				if !yield(c, nil) {
					stopped = true
					break
				}
			}
			cancel()
			switch {
			case stopped || failure == nil:
				return
			case yielded:
				yield(Chunk{}, failure)
				return
			}
			if werr := r.wait(ctx, attempt, failure); werr != nil {
				yield(Chunk{}, werr)
				return
			}
		}
	}
}

func (r *retrier) attemptContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.o.AttemptTimeout > 0 {
		return context.WithTimeout(ctx, r.o.AttemptTimeout)
	}
	return ctx, func() {}
}

// attemptError turns the failure of an attempt cut short by AttemptTimeout,
// while ctx is still live, into ErrUnavailable: the provider was too slow.
func (r *retrier) attemptError(ctx, actx context.Context, err error) error {
	if err == nil || actx == ctx || ctx.Err() != nil || actx.Err() == nil {
		return err
	}
	return &Error{Provider: r.p.Name(), Kind: ErrUnavailable, Err: &attemptTimeoutError{d: r.o.AttemptTimeout}}
}

type attemptTimeoutError struct{ d time.Duration }

func (e *attemptTimeoutError) Error() string { return "attempt timed out after " + e.d.String() }

// wait decides whether the failure err of the given attempt is retried. It
// returns nil after waiting when it is, and otherwise the error to return.
func (r *retrier) wait(ctx context.Context, attempt int, err error) error {
	if ctx.Err() != nil || !Retryable(err) || attempt >= r.o.MaxAttempts {
		return r.final(attempt, err)
	}
	d := r.backoff(attempt)
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		if e.RetryAfter > r.o.MaxRetryAfter {
			return r.final(attempt, err)
		}
		d = e.RetryAfter
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return r.final(attempt, err)
	}
	if serr := r.o.Sleep(ctx, d); serr != nil {
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("llm: retry: %w while waiting to retry after: %s", cerr, err.Error())
		}
		return serr
	}
	return nil
}

// final returns the error that ends the calls, noting how many were made.
func (r *retrier) final(attempts int, err error) error {
	if attempts == 1 {
		return err
	}
	return fmt.Errorf("llm: retry: gave up after %d attempts: %w", attempts, err)
}

// backoff returns the wait before retry number attempt (1 for the first
// retry): a random duration between half of min(MaxBackoff,
// InitialBackoff*2^(attempt-1)) and the whole of it.
func (r *retrier) backoff(attempt int) time.Duration {
	b := r.o.InitialBackoff
	for i := 1; i < attempt && b < r.o.MaxBackoff; i++ {
		b *= 2
	}
	b = min(b, r.o.MaxBackoff)
	half := b / 2
	return half + rand.N(b-half+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// nilProvider is what the wrappers return for a nil Provider: every call
// fails with ErrInvalidRequest, so that a configuration mistake shows up as
// an error rather than a panic.
type nilProvider struct{}

func (nilProvider) Name() string { return "nil" }

func (nilProvider) Generate(ctx context.Context, _ *Request) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("llm: %w", err)
	}
	return nil, &Error{Provider: "nil", Kind: ErrInvalidRequest, Err: errors.New("llm: no provider configured")}
}
