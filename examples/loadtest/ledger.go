package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The ledger keeps the books of a run: which message each contact sent,
// which were acknowledged, and which replies the Graph API received for
// them. Every inbound text carries a tag "<run.contact.seq>"; the echo model
// repeats the text, so a reply names the messages it answers. A reply to
// several messages answered together (coalesced) names each of them.

// tag returns the text of message seq of contact in run.
func tag(run string, contact, seq int) string {
	return "<" + run + "." + strconv.Itoa(contact) + "." + strconv.Itoa(seq) + ">"
}

// ref names one message: a contact and its sequence number.
type ref struct{ contact, seq int }

// parseTags returns the messages of run that text names, in the order they
// appear, and whether text holds tags of other runs (left by an earlier run
// on the same store).
func parseTags(run, text string) (refs []ref, foreign bool) {
	for {
		i := strings.IndexByte(text, '<')
		if i < 0 {
			return refs, foreign
		}
		text = text[i+1:]
		j := strings.IndexByte(text, '>')
		if j < 0 {
			return refs, foreign
		}
		body := text[:j]
		text = text[j+1:]
		r, c, ok := strings.Cut(body, ".")
		if !ok {
			continue
		}
		cs, ss, ok := strings.Cut(c, ".")
		if !ok {
			continue
		}
		contact, err1 := strconv.Atoi(cs)
		seq, err2 := strconv.Atoi(ss)
		if err1 != nil || err2 != nil || contact < 0 || seq < 0 {
			continue
		}
		if r != run {
			foreign = true
			continue
		}
		refs = append(refs, ref{contact, seq})
	}
}

// waID returns the phone number (wa_id) of contact.
func waID(contact int) string { return fmt.Sprintf("1555%07d", contact) }

// contactOf returns the contact whose wa_id is id.
func contactOf(id string) (int, bool) {
	rest, ok := strings.CutPrefix(id, "1555")
	if !ok || len(rest) != 7 {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil
}

type message struct {
	sent    time.Time // first delivery attempt
	acked   bool
	replies int
}

type contactBook struct {
	msgs []message
	// last is the highest sequence number answered so far; replies must
	// name later messages only.
	last int
}

// ledger is safe for concurrent use.
type ledger struct {
	run string

	mu         sync.Mutex
	contacts   []contactBook
	total      int // messages planned
	acked      int
	covered    int // acknowledged messages with at least one reply
	doubled    int // messages with more than one reply
	extra      int // replies beyond the first, summed over messages
	outOfOrder int // replies naming a message not after the previous reply's
	misrouted  int // tags of another contact than the reply's recipient
	unmatched  int // replies that name no message of this run
	foreign    int // replies to messages of an earlier run
	replies    int
	first      time.Time // first delivery attempt
	lastAck    time.Time
	lastReply  time.Time
	ackLat     []time.Duration
	changed    chan struct{}
}

func newLedger(run string, messages, contacts int) *ledger {
	l := &ledger{run: run, contacts: make([]contactBook, contacts), total: messages, changed: make(chan struct{})}
	for c := range l.contacts {
		n := messages / contacts
		if c < messages%contacts {
			n++
		}
		l.contacts[c] = contactBook{msgs: make([]message, n), last: -1}
	}
	l.ackLat = make([]time.Duration, 0, messages+messages/10)
	return l
}

// notifyLocked wakes the waiters; l.mu must be held.
func (l *ledger) notifyLocked() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// sending records the first delivery attempt of a message.
func (l *ledger) sending(r ref, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := &l.contacts[r.contact].msgs[r.seq]
	if m.sent.IsZero() {
		m.sent = at
	}
	if l.first.IsZero() || at.Before(l.first) {
		l.first = at
	}
}

// delivered records one delivery answered 200 after latency.
func (l *ledger) delivered(latency time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ackLat = append(l.ackLat, latency)
}

// ack records that a message was acknowledged, and returns how many
// messages are acknowledged now.
func (l *ledger) ack(r ref, at time.Time) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := &l.contacts[r.contact].msgs[r.seq]
	if m.acked {
		return l.acked
	}
	m.acked = true
	l.acked++
	if m.replies > 0 {
		l.covered++
	}
	if at.After(l.lastAck) {
		l.lastAck = at
	}
	l.notifyLocked()
	return l.acked
}

// reply records a message the Graph API accepted for the user to, with
// text.
func (l *ledger) reply(to, text string, at time.Time) {
	refs, foreign := parseTags(l.run, text)
	recipient, okRecipient := contactOf(to)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.replies++
	if at.After(l.lastReply) {
		l.lastReply = at
	}
	defer l.notifyLocked()
	if len(refs) == 0 {
		if foreign {
			l.foreign++
		} else {
			l.unmatched++
		}
		return
	}
	ordered := true
	for _, r := range refs {
		if r.contact >= len(l.contacts) || r.seq >= len(l.contacts[r.contact].msgs) {
			l.unmatched++
			continue
		}
		if !okRecipient || r.contact != recipient {
			l.misrouted++
			continue
		}
		b := &l.contacts[r.contact]
		m := &b.msgs[r.seq]
		m.replies++
		switch m.replies {
		case 1:
			if m.acked {
				l.covered++
			}
		case 2:
			l.doubled++
			l.extra++
		default:
			l.extra++
		}
		if r.seq <= b.last {
			ordered = false
		}
		b.last = max(b.last, r.seq)
	}
	if !ordered {
		l.outOfOrder++
	}
}

// progress returns the acknowledged messages, how many of them have a
// reply, and a channel closed at the next change.
func (l *ledger) progress() (acked, covered int, changed <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.acked, l.covered, l.changed
}

// tally is the ledger's account of a run.
type tally struct {
	Messages     int           `json:"messages"`
	Acked        int           `json:"acked"`
	Unacked      int           `json:"unacked"`
	Replies      int           `json:"replies"`
	Answered     int           `json:"answered"`
	Lost         int           `json:"lost"`
	Doubled      int           `json:"doubled"`
	ExtraReplies int           `json:"extra_replies"`
	OutOfOrder   int           `json:"out_of_order"`
	Misrouted    int           `json:"misrouted"`
	Unmatched    int           `json:"unmatched_replies"`
	Foreign      int           `json:"foreign_replies"`
	AckDuration  time.Duration `json:"-"`
	E2EDuration  time.Duration `json:"-"`
	AckP50       time.Duration `json:"-"`
	AckP99       time.Duration `json:"-"`
	AckMax       time.Duration `json:"-"`
	Deliveries   int           `json:"-"`
}

func (l *ledger) tally() tally {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := tally{
		Messages: l.total, Acked: l.acked, Unacked: l.total - l.acked, Replies: l.replies,
		Doubled: l.doubled, ExtraReplies: l.extra, OutOfOrder: l.outOfOrder, Misrouted: l.misrouted,
		Unmatched: l.unmatched, Foreign: l.foreign, Deliveries: len(l.ackLat),
	}
	for _, b := range l.contacts {
		for _, m := range b.msgs {
			switch {
			case m.replies > 0:
				t.Answered++
			case m.acked:
				t.Lost++
			}
		}
	}
	if !l.first.IsZero() {
		if !l.lastAck.IsZero() {
			t.AckDuration = l.lastAck.Sub(l.first)
		}
		if !l.lastReply.IsZero() {
			t.E2EDuration = l.lastReply.Sub(l.first)
		}
	}
	t.AckP50, t.AckP99, t.AckMax = percentiles(l.ackLat)
	return t
}

// percentiles returns the median, the 99th percentile and the maximum of d
// (nearest rank), sorting d.
func percentiles(d []time.Duration) (p50, p99, top time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(d))+0.999999) - 1
		return d[min(max(i, 0), len(d)-1)]
	}
	return rank(0.50), rank(0.99), d[len(d)-1]
}
