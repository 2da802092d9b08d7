package meta

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff computes the waits between retries: exponential from Base,
// doubling with each attempt up to Max, with full jitter (a uniformly
// random wait between half the exponential value and the value), so that
// many clients failing together do not retry together.
type Backoff struct {
	Base time.Duration // the wait before the first retry
	Max  time.Duration // the longest wait; 0 means no cap
}

// Delay returns the wait before retry number retry (1 for the first
// retry). A non-positive Base gives 0.
func (b Backoff) Delay(retry int) time.Duration {
	if b.Base <= 0 {
		return 0
	}
	d := b.Base
	for i := 1; i < retry && (b.Max <= 0 || d < b.Max); i++ {
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		d = b.Max
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// RetryAfter returns how long the answer with header h asks the client to
// wait, 0 when it does not say: the standard Retry-After header (seconds or
// an HTTP date, relative to now), or the Graph API's
// X-Business-Use-Case-Usage estimated_time_to_regain_access (minutes),
// whichever is longer.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	var d time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s > 0 {
			d = time.Duration(s) * time.Second
		} else if t, err := http.ParseTime(v); err == nil && t.After(now) {
			d = t.Sub(now)
		}
	}
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		var usage map[string][]struct {
			Minutes json.Number `json:"estimated_time_to_regain_access"`
		}
		if json.Unmarshal([]byte(v), &usage) == nil {
			for _, list := range usage {
				for _, u := range list {
					if m := atoi(u.Minutes); m > 0 && time.Duration(m)*time.Minute > d {
						d = time.Duration(m) * time.Minute
					}
				}
			}
		}
	}
	return d
}

// Sleep waits for d or until ctx is done, whichever comes first, and
// returns ctx.Err() in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Fits reports whether waiting d from now ends before ctx's deadline, so
// that a retry after the wait still has time to run. A ctx without a
// deadline always fits.
func Fits(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > d
}
