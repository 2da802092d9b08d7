package whatsapp

import (
	"context"
	"errors"
	"time"

	"golang.org/x/time/rate"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// limits holds the token buckets of a client: one per business number
// (throughput) and one per business number and user (pair rate limit),
// made on first use; idle pair limiters are dropped once there are many.
type limits struct {
	tenants meta.Limiters[channel.TenantID]
	pairs   meta.Limiters[channel.Address]
}

func (l *limits) tenant(t channel.TenantID, perSecond int) *limiter {
	return &limiter{l.tenants.Get(t, rate.Limit(perSecond), perSecond, time.Second)}
}

func (l *limits) pair(a channel.Address, interval time.Duration, burst int) *limiter {
	a.Channel = ""
	return &limiter{l.pairs.Get(a, rate.Every(interval), burst, interval*time.Duration(burst))}
}

// limiter is a shared token bucket that can be paused, with errors in the
// terms of package channel.
type limiter struct{ *meta.Limiter }

// wait takes a token, waiting for one (and for a pause to end) as long as
// ctx allows. It reports whether it had to wait. When a pause outlasts
// ctx's deadline it returns at once with an error wrapping
// channel.ErrRateLimited that says how long is left.
func (l *limiter) wait(ctx context.Context) (bool, error) {
	waited, err := l.Wait(ctx)
	var pe *meta.PauseError
	if errors.As(err, &pe) {
		return waited, &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrRateLimited, RetryAfter: pe.Left}
	}
	return waited, err
}

// pause makes the limiter wait at least d from now before its next token.
func (l *limiter) pause(d time.Duration) { l.Pause(d) }

// strike records one more consecutive pair rate limit hit and returns the
// backoff it calls for: base×4^n, n counting from 0, capped at one hour.
func (l *limiter) strike(base time.Duration) time.Duration { return l.Strike(base) }

// ok resets the strikes after a message went through.
func (l *limiter) ok() { l.Reset() }
