package agent

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// contactLimits holds a rate limiter per conversation, for the abuse limit
// of Config.ContactLimit. Entries idle for a while are forgotten by sweep,
// so memory follows the contacts active in the last minutes.
type contactLimits struct {
	perMinute int // <= 0: no limit
	mu        sync.Mutex
	m         map[lane]*contactLimit
}

type contactLimit struct {
	lim      *rate.Limiter
	noticed  bool // told about the limit since last under it
	lastSeen time.Time
}

// take consumes n messages from the contact's allowance at now. It reports
// whether they may be answered, and, when not, whether the contact should
// be told (the first time since they were last under the limit).
func (c *contactLimits) take(l lane, n int, now time.Time) (ok, notify bool) {
	if c.perMinute <= 0 {
		return true, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cl := c.m[l]
	if cl == nil {
		cl = &contactLimit{lim: rate.NewLimiter(rate.Limit(float64(c.perMinute)/60), c.perMinute)}
		c.m[l] = cl
	}
	cl.lastSeen = now
	if cl.lim.AllowN(now, n) {
		cl.noticed = false
		return true, false
	}
	notify = !cl.noticed
	cl.noticed = true
	return false, notify
}

// sweep forgets contacts not seen for two minutes: by then their allowance
// is full again.
func (c *contactLimits) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for l, cl := range c.m {
		if now.Sub(cl.lastSeen) > 2*time.Minute {
			delete(c.m, l)
		}
	}
}
