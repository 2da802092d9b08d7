package instagram

import (
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
)

// maxWindows bounds the users whose last message a client remembers. Past
// it, entries older than HumanAgentWindow are dropped; users beyond it are
// not remembered, and the API decides for them.
const maxWindows = 1 << 17

// windows remembers when each user last wrote, as the webhook reports it,
// so that Send knows the messaging window without a request. It only
// knows what this process heard: a user it has no record of is "unknown",
// and the Graph API's answer decides.
type windows struct {
	mu        sync.Mutex
	last      map[channel.Address]time.Time
	lastSweep time.Time
}

// observe records a message of the user at a, sent at t (now when zero or
// in the future).
func (w *windows) observe(a channel.Address, t time.Time) {
	now := time.Now()
	if t.IsZero() || t.After(now) {
		t = now
	}
	a.Channel = channel.Instagram
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == nil {
		w.last = make(map[channel.Address]time.Time)
	}
	if prev, ok := w.last[a]; ok {
		if t.After(prev) {
			w.last[a] = t
		}
		return
	}
	if len(w.last) >= maxWindows && now.Sub(w.lastSweep) > time.Minute {
		w.lastSweep = now
		for k, v := range w.last {
			if now.Sub(v) > HumanAgentWindow {
				delete(w.last, k)
			}
		}
	}
	if len(w.last) < maxWindows {
		w.last[a] = t
	}
}

// since returns how long ago the user at a last wrote, and false when this
// client has no record of it.
func (w *windows) since(a channel.Address) (time.Duration, bool) {
	a.Channel = channel.Instagram
	w.mu.Lock()
	t, ok := w.last[a]
	w.mu.Unlock()
	if !ok {
		return 0, false
	}
	return time.Since(t), true
}
