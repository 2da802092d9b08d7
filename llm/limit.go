package llm

import (
	"context"
	"fmt"
	"iter"
)

// Limiter paces calls. Wait blocks until a call may proceed, or fails when
// ctx is done or when it can tell that the wait would outlast ctx's
// deadline. A *golang.org/x/time/rate.Limiter is a Limiter.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Limit returns a Provider that waits for l before each call to p, to stay
// under the provider's rate limits (requests per minute) rather than be
// refused. A nil l returns p itself.
//
// When Wait fails because ctx is done, the call fails with an error
// wrapping ctx.Err(), not classified as any sentinel. When Wait fails for
// another reason, such as a rate.Limiter seeing that the wait would outlast
// ctx's deadline, the call fails with an [*Error] of kind [ErrRateLimited]
// without reaching p, so that a [Fallback] around the wrapper can move on.
//
// The returned Provider has p's Name, and implements [Streamer] when p
// does; a stream waits for l before it starts. Put Limit inside [Retry],
// so that every attempt is paced. The returned Provider is safe for
// concurrent use if p and l are.
func Limit(p Provider, l Limiter) Provider {
	if p == nil {
		return nilProvider{}
	}
	if l == nil {
		return p
	}
	lp := &limited{p: p, l: l}
	if s, ok := p.(Streamer); ok {
		return &limitedStreamer{limited: lp, s: s}
	}
	return lp
}

type limited struct {
	p Provider
	l Limiter
}

type limitedStreamer struct {
	*limited
	s Streamer
}

var (
	_ Provider = (*limited)(nil)
	_ Streamer = (*limitedStreamer)(nil)
)

func (lp *limited) Name() string { return lp.p.Name() }

func (lp *limited) Generate(ctx context.Context, req *Request) (*Response, error) {
	if err := lp.wait(ctx); err != nil {
		return nil, err
	}
	return lp.p.Generate(ctx, req)
}

func (lp *limitedStreamer) Stream(ctx context.Context, req *Request) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		if err := lp.wait(ctx); err != nil {
			yield(Chunk{}, err)
			return
		}
		for c, err := range lp.s.Stream(ctx, req) {
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

func (lp *limited) wait(ctx context.Context) error {
	err := lp.l.Wait(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("llm: limit: %w", ctx.Err())
	}
	return &Error{Provider: lp.p.Name(), Kind: ErrRateLimited, Err: fmt.Errorf("llm: limit: %w", err)}
}
