package console

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/wagent/wagent/channel"
)

// The hub fans the console's events out to the open streams of each
// tenant and keeps the latest of them, so that a stream that reconnects
// with Last-Event-ID gets what it missed. Event ids are "<epoch>-<seq>":
// the epoch is random per console, so that an id from before a restart is
// recognized as such and the page reloads its data instead.

const (
	// hubBuffer is how many recent events are kept for resuming streams.
	hubBuffer = 512
	// subBuffer is how many events a slow stream may lag behind before it
	// is dropped (the page reconnects and resumes).
	subBuffer = 64
)

var errTooManyStreams = errors.New("console: too many event streams")

type event struct {
	seq    uint64
	tenant channel.TenantID
	name   string
	data   []byte
}

type subscription struct {
	tenant channel.TenantID
	ch     chan event
}

type hub struct {
	epoch string
	max   int

	mu     sync.Mutex
	seq    uint64
	recent []event // the last hubBuffer events, oldest first
	subs   map[*subscription]struct{}
	closed bool
}

func newHub(maxStreams int) *hub {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return &hub{epoch: hex.EncodeToString(b), max: maxStreams, subs: make(map[*subscription]struct{})}
}

func (h *hub) id(seq uint64) string { return h.epoch + "-" + strconv.FormatUint(seq, 10) }

// publish sends an event to the streams of tenant.
func (h *hub) publish(tenant channel.TenantID, name string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.seq++
	e := event{seq: h.seq, tenant: tenant, name: name, data: data}
	if len(h.recent) == hubBuffer {
		copy(h.recent, h.recent[1:])
		h.recent = h.recent[:hubBuffer-1]
	}
	h.recent = append(h.recent, e)
	for s := range h.subs {
		if s.tenant != tenant {
			continue
		}
		select {
		case s.ch <- e:
		default: // too slow: drop it; the page resumes from its last id
			close(s.ch)
			delete(h.subs, s)
		}
	}
}

// subscribe opens a stream of tenant's events. With the id of the last
// event a page saw, it also returns the events after it, or reload when
// they cannot be told (the id is of another epoch, or older than what is
// kept): the page then fetches everything again.
func (h *hub) subscribe(tenant channel.TenantID, lastID string) (s *subscription, replay []event, reload bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false, errClosed
	}
	if len(h.subs) >= h.max {
		return nil, nil, false, errTooManyStreams
	}
	if lastID != "" {
		epoch, n, ok := strings.Cut(lastID, "-")
		seq, perr := strconv.ParseUint(n, 10, 64)
		oldest := h.seq + 1
		if len(h.recent) > 0 {
			oldest = h.recent[0].seq
		}
		switch {
		case !ok || perr != nil || epoch != h.epoch || seq > h.seq || seq+1 < oldest:
			reload = true
		default:
			for _, e := range h.recent {
				if e.seq > seq && e.tenant == tenant {
					replay = append(replay, e)
				}
			}
		}
	}
	s = &subscription{tenant: tenant, ch: make(chan event, subBuffer)}
	h.subs[s] = struct{}{}
	return s, replay, reload, nil
}

func (h *hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

// close ends every stream.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		close(s.ch)
		delete(h.subs, s)
	}
}
