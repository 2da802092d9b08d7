package webwidget

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimitError: a rate limit was hit; the handler answers 429 with
// Retry-After.
type rateLimitError struct {
	what  string // "visitor", "ip", "streams"
	after time.Duration
}

func (e *rateLimitError) Error() string {
	return fmt.Sprintf("webwidget: %s rate limit exceeded, retry in %s", e.what, e.after)
}

// retryAfter returns the Retry-After header value for d: whole seconds,
// rounded up, at least 1.
func retryAfter(d time.Duration) string {
	return fmt.Sprint(max(1, int64(math.Ceil(d.Seconds()))))
}

// limiters holds one token bucket per key (a visitor, an IP address).
// Buckets idle long enough to be full again are forgotten, so memory
// follows the keys active recently. It is safe for concurrent use.
type limiters struct {
	what  string
	limit Limit

	mu        sync.Mutex
	m         map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	last time.Time
}

func newLimiters(what string, l Limit) *limiters {
	return &limiters{what: what, limit: l, m: make(map[string]*bucket)}
}

// allow takes one token from key's bucket at now, or returns a
// *rateLimitError saying how long to wait for one.
func (l *limiters) allow(key string, now time.Time) error {
	if l.limit.Every < 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	full := l.limit.Every * time.Duration(l.limit.Burst) // time to refill an empty bucket
	if now.Sub(l.lastSweep) >= max(full, time.Minute) {
		l.lastSweep = now
		for k, b := range l.m {
			if now.Sub(b.last) > full {
				delete(l.m, k)
			}
		}
	}
	b := l.m[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.limit.Every), l.limit.Burst)}
		l.m[key] = b
	}
	b.last = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return &rateLimitError{what: l.what, after: l.limit.Every}
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return &rateLimitError{what: l.what, after: d}
	}
	return nil
}

// remoteIP is the default Options.ClientIP: the host of r.RemoteAddr.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
