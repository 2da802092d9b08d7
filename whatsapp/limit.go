package whatsapp

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// limits holds the token buckets of a client: one per business number
// (throughput) and one per business number and user (pair rate limit).
type limits struct {
	mu        sync.Mutex
	tenants   map[channel.TenantID]*limiter
	pairs     map[channel.Address]*limiter
	lastSweep time.Time
}

// pairSweepSize is the number of pair limiters above which idle ones are
// dropped, so that a client that talks to many users keeps bounded memory.
const pairSweepSize = 4096

func (l *limits) init() {
	l.tenants = make(map[channel.TenantID]*limiter)
	l.pairs = make(map[channel.Address]*limiter)
}

func (l *limits) tenant(t channel.TenantID, perSecond int) *limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.tenants[t]
	if lim == nil {
		lim = &limiter{bucket: rate.NewLimiter(rate.Limit(perSecond), perSecond)}
		l.tenants[t] = lim
	}
	return lim
}

func (l *limits) pair(a channel.Address, interval time.Duration, burst int) *limiter {
	a.Channel = ""
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.pairs[a]
	if lim == nil {
		if len(l.pairs) >= pairSweepSize && now.Sub(l.lastSweep) > interval {
			l.sweep(now, interval*time.Duration(burst))
		}
		lim = &limiter{bucket: rate.NewLimiter(rate.Every(interval), burst)}
		l.pairs[a] = lim
	}
	return lim
}

// sweep drops the pair limiters that have been idle long enough to be full
// again and are not paused: a fresh one behaves the same.
func (l *limits) sweep(now time.Time, refill time.Duration) {
	l.lastSweep = now
	for a, lim := range l.pairs {
		lim.mu.Lock()
		idle := now.Sub(lim.used) > refill && !now.Before(lim.until)
		lim.mu.Unlock()
		if idle {
			delete(l.pairs, a)
		}
	}
}

// limiter is a token bucket that can also be paused, after the API said a
// limit was hit.
type limiter struct {
	mu      sync.Mutex
	bucket  *rate.Limiter
	until   time.Time // paused until then
	strikes int       // consecutive pauses, for exponential pair backoff
	used    time.Time
}

// wait takes a token, waiting for one (and for a pause to end) as long as
// ctx allows. It reports whether it had to wait. When a pause outlasts
// ctx's deadline it returns at once with an error wrapping
// channel.ErrRateLimited that says how long is left.
func (l *limiter) wait(ctx context.Context) (waited bool, err error) {
	for {
		l.mu.Lock()
		now := time.Now()
		if d := l.until.Sub(now); d > 0 {
			l.mu.Unlock()
			waited = true
			if !meta.Fits(ctx, d) {
				return waited, &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrRateLimited, RetryAfter: d}
			}
			if err := meta.Sleep(ctx, d); err != nil {
				return waited, err
			}
			continue
		}
		r := l.bucket.ReserveN(now, 1)
		l.used = now
		l.mu.Unlock()
		d := r.DelayFrom(now)
		if d <= 0 {
			return waited, nil
		}
		if err := meta.Sleep(ctx, d); err != nil {
			r.Cancel()
			return true, err
		}
		return true, nil
	}
}

// pause makes the limiter wait at least d from now before its next token.
func (l *limiter) pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.until) {
		l.until = until
	}
}

// strike records one more consecutive pair rate limit hit and returns the
// backoff it calls for: base×4^n, n counting from 0, capped at one hour.
func (l *limiter) strike(base time.Duration) time.Duration {
	l.mu.Lock()
	n := l.strikes
	l.strikes++
	l.mu.Unlock()
	d := base
	for range n {
		if d >= time.Hour {
			break
		}
		d *= 4
	}
	d = min(d, time.Hour)
	l.pause(d)
	return d
}

// ok resets the strikes after a message went through.
func (l *limiter) ok() {
	l.mu.Lock()
	l.strikes = 0
	l.mu.Unlock()
}
