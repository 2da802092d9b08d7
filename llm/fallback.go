package llm

import (
	"context"
	"fmt"
	"iter"
	"strings"
)

// Fallback returns a Provider that calls primary and, when it fails with
// [ErrUnavailable] or [ErrRateLimited] (the errors for which [Retryable]
// reports true), calls the providers of more in order until one answers.
// Any other failure ([ErrInvalidRequest], [ErrContextTooLong], [ErrAuth],
// [ErrContentBlocked], an unclassified error) is returned at once: another
// provider would refuse the request too, or the caller must act first. So
// is cancellation: when ctx is done, no further provider is called and the
// error wraps ctx.Err().
//
// When every provider failed, the error returned is classified as the last
// failure (errors.Is and errors.As see it, [*Error] included) and its
// message lists all of them.
//
// Its Name is "fallback(" followed by the providers' names separated by
// commas and ")". Response.Model tells which model answered; the failures
// name the provider that failed in Error.Provider. Nil providers in more
// are skipped.
//
// The returned Provider implements [Streamer] when primary does. A stream
// moves on to the next provider only while it has yielded nothing; a
// provider in more that does not stream is called with Generate and its
// answer yielded as one chunk.
//
// Tool-call ids and Part.Opaque state are specific to the provider that
// produced them: adapters replay only their own Opaque state and handle
// another provider's history as documented in their packages. The returned
// Provider is safe for concurrent use if the providers are.
func Fallback(primary Provider, more ...Provider) Provider {
	if primary == nil {
		return nilProvider{}
	}
	f := &fallback{ps: []Provider{primary}}
	names := []string{primary.Name()}
	for _, p := range more {
		if p != nil {
			f.ps = append(f.ps, p)
			names = append(names, p.Name())
		}
	}
	f.name = "fallback(" + strings.Join(names, ",") + ")"
	if _, ok := primary.(Streamer); ok {
		return &fallbackStreamer{f}
	}
	return f
}

type fallback struct {
	ps   []Provider
	name string
}

type fallbackStreamer struct{ *fallback }

var (
	_ Provider = (*fallback)(nil)
	_ Streamer = (*fallbackStreamer)(nil)
)

func (f *fallback) Name() string { return f.name }

func (f *fallback) Generate(ctx context.Context, req *Request) (*Response, error) {
	var errs []error
	for _, p := range f.ps {
		resp, err := p.Generate(ctx, req)
		if err == nil {
			return resp, nil
		}
		errs = append(errs, err)
		if !f.moveOn(ctx, err) {
			break
		}
	}
	return nil, f.failure(ctx, errs)
}

func (f *fallbackStreamer) Stream(ctx context.Context, req *Request) iter.Seq2[Chunk, error] {
	return func(yield func(Chunk, error) bool) {
		var errs []error
		for _, p := range f.ps {
			yielded := false
			var failure error
			for c, err := range stream(ctx, p, req) {
				if err != nil {
					failure = err
					break
				}
				yielded = true
				if !yield(c, nil) {
					return
				}
			}
			switch {
			case failure == nil:
				return
			case yielded:
				yield(Chunk{}, failure)
				return
			}
			errs = append(errs, failure)
			if !f.moveOn(ctx, failure) {
				break
			}
		}
		yield(Chunk{}, f.failure(ctx, errs))
	}
}

// stream streams from p, or answers with one chunk when p does not stream.
func stream(ctx context.Context, p Provider, req *Request) iter.Seq2[Chunk, error] {
	if s, ok := p.(Streamer); ok {
		return s.Stream(ctx, req)
	}
	return func(yield func(Chunk, error) bool) {
		resp, err := p.Generate(ctx, req)
		if err != nil {
			yield(Chunk{}, err)
			return
		}
		c := Chunk{Response: resp}
		if resp != nil {
			var text, reasoning strings.Builder
			for _, part := range resp.Message.Parts {
				switch part.Kind {
				case KindText:
					text.WriteString(part.Text)
				case KindReasoning:
					reasoning.WriteString(part.Text)
				}
			}
			c.Text, c.Reasoning = text.String(), reasoning.String()
		}
		yield(c, nil)
	}
}

func (f *fallback) moveOn(ctx context.Context, err error) bool {
	return ctx.Err() == nil && Retryable(err)
}

// failure returns the error of a call in which every provider tried failed.
func (f *fallback) failure(ctx context.Context, errs []error) error {
	last := errs[len(errs)-1]
	if err := ctx.Err(); err != nil && Retryable(last) {
		// The last provider failed in a way that looks retryable because ctx
		// ended; report the cancellation, unclassified.
		return fmt.Errorf("llm: %s: %w", f.name, err)
	}
	if len(errs) == 1 {
		return last
	}
	return &fallbackError{errs: errs}
}

// fallbackError is the failure of every provider of a Fallback. It is
// classified as the last one.
type fallbackError struct{ errs []error }

func (e *fallbackError) Error() string {
	var b strings.Builder
	b.WriteString("llm: fallback: all providers failed: ")
	for i, err := range e.errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(err.Error())
	}
	return b.String()
}

func (e *fallbackError) Unwrap() error { return e.errs[len(e.errs)-1] }
