package meta

import (
	"context"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces requests with a token bucket (golang.org/x/time/rate) that
// can also be paused, after the API said a limit was hit, and that counts
// consecutive hits for an exponential backoff. Create one with
// [NewLimiter]. It is safe for concurrent use.
type Limiter struct {
	mu      sync.Mutex
	bucket  *rate.Limiter
	until   time.Time // paused until then
	strikes int       // consecutive strikes, for exponential backoff
	used    time.Time
}

// NewLimiter returns a Limiter that allows r tokens per second in bursts of
// burst.
func NewLimiter(r rate.Limit, burst int) *Limiter {
	return &Limiter{bucket: rate.NewLimiter(r, burst)}
}

// PauseError is returned by [Limiter.Wait] when the limiter is paused for
// longer than the context's deadline allows: the caller fails at once, and
// Left says how long the pause still lasts.
type PauseError struct {
	Left time.Duration
}

// Error implements error.
func (e *PauseError) Error() string {
	return "meta: rate limited for another " + strconv.FormatInt(e.Left.Milliseconds(), 10) + "ms, past the deadline"
}

// Wait takes a token, waiting for one (and for a pause to end) as long as
// ctx allows. It reports whether it had to wait. When a pause outlasts
// ctx's deadline it returns at once with a [*PauseError]; when ctx is done
// while waiting, ctx.Err().
func (l *Limiter) Wait(ctx context.Context) (waited bool, err error) {
	for {
		l.mu.Lock()
		now := time.Now()
		if d := l.until.Sub(now); d > 0 {
			l.mu.Unlock()
			waited = true
			if !Fits(ctx, d) {
				return waited, &PauseError{Left: d}
			}
			if err := Sleep(ctx, d); err != nil {
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
		if err := Sleep(ctx, d); err != nil {
			r.Cancel()
			return true, err
		}
		return true, nil
	}
}

// Pause makes the limiter wait at least d from now before its next token.
func (l *Limiter) Pause(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.until) {
		l.until = until
	}
}

// Strike records one more consecutive limit hit, pauses the limiter for
// base×4^n (n counting the strikes before this one, capped at one hour)
// and returns that pause.
func (l *Limiter) Strike(base time.Duration) time.Duration {
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
	l.Pause(d)
	return d
}

// Reset forgets the strikes, after a request went through.
func (l *Limiter) Reset() {
	l.mu.Lock()
	l.strikes = 0
	l.mu.Unlock()
}

// idle reports whether the limiter was last used more than refill before
// now and is not paused: a fresh one would behave the same.
func (l *Limiter) idle(now time.Time, refill time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return now.Sub(l.used) > refill && !now.Before(l.until)
}

// Limiters holds one [Limiter] per key (a business account, a user), made
// on first use, and drops idle ones once there are many, so that a client
// that talks to many users keeps bounded memory. The zero value is ready
// to use; it is safe for concurrent use.
type Limiters[K comparable] struct {
	// SweepAbove is the number of limiters above which idle ones are
	// dropped when a new one is made (0: 4096).
	SweepAbove int

	mu        sync.Mutex
	m         map[K]*Limiter
	lastSweep time.Time
}

// Get returns the limiter of key, making it with r and burst when there is
// none. A limiter unused for refill (the time its bucket takes to fill
// again) and not paused may be dropped and made afresh later.
func (s *Limiters[K]) Get(key K, r rate.Limit, burst int, refill time.Duration) *Limiter {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[K]*Limiter)
	}
	l := s.m[key]
	if l == nil {
		above := s.SweepAbove
		if above <= 0 {
			above = 4096
		}
		if len(s.m) >= above && now.Sub(s.lastSweep) > refill/time.Duration(max(1, burst)) {
			s.lastSweep = now
			for k, old := range s.m {
				if old.idle(now, refill) {
					delete(s.m, k)
				}
			}
		}
		l = NewLimiter(r, burst)
		s.m[key] = l
	}
	return l
}

// Len returns the number of limiters held.
func (s *Limiters[K]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
