package webwidget

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
)

// The hub fans events out to the event streams of each visitor and keeps
// the latest of them for resuming a stream.
//
// Event ids are "<epoch>.<seq>": epoch is random per Widget (per process),
// seq counts every event the Widget numbered, for all visitors, so the ids
// of one visitor's events increase (with gaps). A client resumes with the id
// of the last event it saw; the hub replays the visitor's buffered events
// after it, or, when it cannot prove that nothing after it was lost, sends
// a reload event: the id is from another epoch, older than what the
// visitor's state knows, or older than an event the buffer dropped.
//
// Typing events are not numbered: a typing indicator replayed late would be
// wrong, so they go only to the streams open at the time.

// Event names on the wire.
const (
	eventMessage = "message"
	eventTyping  = "typing"
	eventReload  = "reload"
)

// errTooManyStreams: the visitor has Options.MaxStreams streams open.
var errTooManyStreams = errors.New("webwidget: too many event streams")

// subscriberBuffer is how many events may wait for a slow stream; one more
// closes it, and its client resumes from the visitor's buffer.
const subscriberBuffer = 32

// sweepEvery is how often idle visitor states are looked for.
const sweepEvery = time.Minute

type event struct {
	seq  uint64 // 0 for events that are not numbered (typing)
	name string
	data []byte
}

type subscriber struct {
	ch chan event // closed by the hub when the stream must end
}

// visitorState is what the hub knows of one visitor: created when the
// visitor reads its history or opens a stream, forgotten after
// ResumeWindow without a stream.
type visitorState struct {
	// since is the hub's sequence when the state was created: every later
	// event of the visitor is in ring, or was dropped from it.
	since uint64
	// dropped is the seq of the latest event dropped from the full ring.
	dropped  uint64
	ring     []event // oldest first
	subs     map[*subscriber]struct{}
	lastSeen time.Time
}

type hub struct {
	epoch   string
	size    int           // ring capacity
	window  time.Duration // how long a visitor without streams is kept
	maxSubs int

	mu        sync.Mutex
	seq       uint64
	visitors  map[channel.Address]*visitorState
	lastSweep time.Time
	closed    bool
}

func newHub(size int, window time.Duration, maxSubs int) *hub {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return &hub{
		epoch:    hex.EncodeToString(b[:]),
		size:     size,
		window:   window,
		maxSubs:  maxSubs,
		visitors: make(map[channel.Address]*visitorState),
	}
}

func (h *hub) id(seq uint64) string { return h.epoch + "." + strconv.FormatUint(seq, 10) }

// parseID returns the seq of an event id of this hub's epoch.
func (h *hub) parseID(id string) (uint64, bool) {
	epoch, seq, ok := strings.Cut(id, ".")
	if !ok || epoch != h.epoch {
		return 0, false
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	return n, err == nil
}

// stateLocked returns the visitor's state, creating it. h.mu must be held.
func (h *hub) stateLocked(addr channel.Address, now time.Time) *visitorState {
	h.sweepLocked(now)
	st := h.visitors[addr]
	if st == nil {
		st = &visitorState{since: h.seq, subs: make(map[*subscriber]struct{})}
		h.visitors[addr] = st
	}
	st.lastSeen = now
	return st
}

// sweepLocked forgets visitors without streams not seen for the resume
// window, at most once per sweepEvery. h.mu must be held.
func (h *hub) sweepLocked(now time.Time) {
	if now.Sub(h.lastSweep) < sweepEvery {
		return
	}
	h.lastSweep = now
	for addr, st := range h.visitors {
		if len(st.subs) == 0 && now.Sub(st.lastSeen) > h.window {
			delete(h.visitors, addr)
		}
	}
}

// cursor returns the id a client that has just read the visitor's history
// resumes from: every event numbered after it is buffered for the visitor.
// It must be taken before the history is read.
func (h *hub) cursor(addr channel.Address, now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stateLocked(addr, now)
	return h.id(h.seq)
}

// subscribe opens a stream for the visitor resuming after the event id last
// ("" for none: live events only). It returns the events to replay first,
// or reload when the client must reload its history instead (no
// subscriber is registered then).
func (h *hub) subscribe(addr channel.Address, last string, now time.Time) (sub *subscriber, replay []event, reload bool, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, nil, false, channel.ErrClosed
	}
	st := h.stateLocked(addr, now)
	if len(st.subs) >= h.maxSubs {
		return nil, nil, false, errTooManyStreams
	}
	if last != "" {
		seq, ok := h.parseID(last)
		if !ok || seq < st.since || seq < st.dropped || seq > h.seq {
			return nil, nil, true, nil
		}
		for _, e := range st.ring {
			if e.seq > seq {
				replay = append(replay, e)
			}
		}
	}
	sub = &subscriber{ch: make(chan event, subscriberBuffer)}
	st.subs[sub] = struct{}{}
	return sub, replay, false, nil
}

// unsubscribe ends sub's registration.
func (h *hub) unsubscribe(addr channel.Address, sub *subscriber, now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.visitors[addr]
	if st == nil {
		return
	}
	if _, ok := st.subs[sub]; ok {
		delete(st.subs, sub)
		close(sub.ch)
	}
	st.lastSeen = now
}

// publish numbers an event for the visitor, buffers it when the visitor is
// known (has read its history or opened a stream within the resume
// window), hands it to the visitor's open streams, and returns its id. A
// stream too slow to take it is closed; its client resumes.
func (h *hub) publish(addr channel.Address, name string, data []byte, now time.Time) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sweepLocked(now)
	h.seq++
	e := event{seq: h.seq, name: name, data: data}
	if st := h.visitors[addr]; st != nil {
		if len(st.ring) == h.size {
			st.dropped = st.ring[0].seq
			st.ring[0] = event{}
			st.ring = st.ring[1:]
		}
		st.ring = append(st.ring, e)
		for sub := range st.subs {
			select {
			case sub.ch <- e:
			default:
				delete(st.subs, sub)
				close(sub.ch)
			}
		}
	}
	return h.id(e.seq)
}

// signal hands an unnumbered event to the visitor's open streams, skipping
// those that are busy.
func (h *hub) signal(addr channel.Address, name string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.visitors[addr]
	if st == nil {
		return
	}
	for sub := range st.subs {
		select {
		case sub.ch <- event{name: name, data: data}:
		default:
		}
	}
}

// drop ends the visitor's streams and forgets its events, after an
// erasure.
func (h *hub) drop(addr channel.Address) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st := h.visitors[addr]; st != nil {
		for sub := range st.subs {
			close(sub.ch)
		}
		delete(h.visitors, addr)
	}
}

// close ends every stream and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, st := range h.visitors {
		for sub := range st.subs {
			close(sub.ch)
		}
		st.subs = map[*subscriber]struct{}{}
	}
}
