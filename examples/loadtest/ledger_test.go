package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTags(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		refs    []ref
		foreign bool
	}{
		{"one message", "echo: order <r1.3.0>", []ref{{3, 0}}, false},
		{"a burst answered at once", "echo: order <r1.3.4>order <r1.3.5>order <r1.3.6>", []ref{{3, 4}, {3, 5}, {3, 6}}, false},
		{"no tag", "You are sending messages faster than we can answer.", nil, false},
		{"another run", "echo: order <r0.3.0>", nil, true},
		{"mixed runs", "echo: <r0.1.1> <r1.1.2>", []ref{{1, 2}}, true},
		{"malformed tags are ignored", "<r1.x.1> <r1.1> <r1.1.-2> <r1.2.2", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, foreign := parseTags("r1", tt.text)
			assert.Equal(t, tt.refs, refs)
			assert.Equal(t, tt.foreign, foreign)
		})
	}
}

func TestContactNumbers(t *testing.T) {
	for _, c := range []int{0, 7, 499, 9_999_999} {
		got, ok := contactOf(waID(c))
		require.True(t, ok, waID(c))
		assert.Equal(t, c, got)
	}
	_, ok := contactOf("16505551234")
	assert.False(t, ok)
}

// book runs a script of acknowledgements and replies through a ledger of
// 2 contacts with 3 messages each, and returns its tally.
func book(acks []ref, replies [][2]string) tally {
	l := newLedger("r", 6, 2)
	now := time.Now()
	for _, a := range acks {
		l.sending(a, now)
		l.ack(a, now)
	}
	for _, r := range replies {
		l.reply(r[0], r[1], now)
	}
	return l.tally()
}

func all() []ref { return []ref{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {0, 2}, {1, 2}} }

func TestLedger(t *testing.T) {
	c0, c1 := waID(0), waID(1)
	tests := []struct {
		name    string
		acks    []ref
		replies [][2]string
		want    tally
	}{
		{"every message answered once, in order", all(), [][2]string{
			{c0, "echo: <r.0.0>"}, {c1, "echo: <r.1.0>"}, {c0, "echo: <r.0.1>"}, {c1, "echo: <r.1.1>"}, {c0, "echo: <r.0.2>"}, {c1, "echo: <r.1.2>"},
		}, tally{Messages: 6, Acked: 6, Replies: 6, Answered: 6}},
		{"a coalesced reply answers each message it names", all(), [][2]string{
			{c0, "echo: <r.0.0><r.0.1><r.0.2>"}, {c1, "echo: <r.1.0>"}, {c1, "echo: <r.1.1><r.1.2>"},
		}, tally{Messages: 6, Acked: 6, Replies: 3, Answered: 6}},
		{"an acknowledged message without a reply is lost", all(), [][2]string{
			{c0, "echo: <r.0.0>"}, {c0, "echo: <r.0.2>"}, {c1, "echo: <r.1.0><r.1.1><r.1.2>"},
		}, tally{Messages: 6, Acked: 6, Replies: 3, Answered: 5, Lost: 1}},
		{"a message never acknowledged is not lost, only unacknowledged", all()[:4], [][2]string{
			{c0, "echo: <r.0.0><r.0.1>"}, {c1, "echo: <r.1.0><r.1.1>"},
		}, tally{Messages: 6, Acked: 4, Unacked: 2, Replies: 2, Answered: 4}},
		{"a second reply to a message doubles it (and goes back in order)", all(), [][2]string{
			{c0, "echo: <r.0.0>"}, {c0, "echo: <r.0.1>"}, {c0, "echo: <r.0.1>"}, {c0, "echo: <r.0.2>"}, {c1, "echo: <r.1.0><r.1.1><r.1.2>"}, {c1, "echo: <r.1.2>"},
		}, tally{Messages: 6, Acked: 6, Replies: 6, Answered: 6, Doubled: 2, ExtraReplies: 2, OutOfOrder: 2}},
		{"a reply to an earlier message after a later one is out of order", all(), [][2]string{
			{c0, "echo: <r.0.1>"}, {c0, "echo: <r.0.0>"}, {c0, "echo: <r.0.2>"}, {c1, "echo: <r.1.0><r.1.2><r.1.1>"},
		}, tally{Messages: 6, Acked: 6, Replies: 4, Answered: 6, OutOfOrder: 2}},
		{"a reply to another contact is misrouted", all(), [][2]string{
			{c0, "echo: <r.0.0><r.0.1><r.0.2>"}, {c0, "echo: <r.1.0>"}, {c1, "echo: <r.1.1><r.1.2>"},
		}, tally{Messages: 6, Acked: 6, Replies: 3, Answered: 5, Lost: 1, Misrouted: 1}},
		{"notices and earlier runs' replies are counted apart", all(), [][2]string{
			{c0, "echo: <r.0.0><r.0.1><r.0.2>"}, {c1, "echo: <r.1.0><r.1.1><r.1.2>"}, {c1, "Please wait a minute."}, {c0, "echo: <old.0.0>"},
		}, tally{Messages: 6, Acked: 6, Replies: 4, Answered: 6, Unmatched: 1, Foreign: 1}},
		{"nothing acknowledged: unacknowledged, not lost", nil, nil, tally{Messages: 6, Unacked: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := book(tt.acks, tt.replies)
			got.AckDuration, got.E2EDuration, got.AckP50, got.AckP99, got.AckMax, got.Deliveries = 0, 0, 0, 0, 0, 0
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestReplyBeforeAckIsCovered(t *testing.T) {
	l := newLedger("r", 1, 1)
	now := time.Now()
	l.sending(ref{0, 0}, now)
	l.reply(waID(0), "echo: <r.0.0>", now) // the bot answered before its 200 arrived
	acked, covered, _ := l.progress()
	assert.Equal(t, 0, acked)
	assert.Equal(t, 0, covered)
	l.ack(ref{0, 0}, now.Add(time.Millisecond))
	acked, covered, _ = l.progress()
	assert.Equal(t, 1, acked)
	assert.Equal(t, 1, covered)
	assert.Zero(t, l.tally().Lost)
}

func TestPercentiles(t *testing.T) {
	d := make([]time.Duration, 0, 100)
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	p50, p99, top := percentiles(d)
	assert.Equal(t, 50*time.Millisecond, p50)
	assert.Equal(t, 99*time.Millisecond, p99)
	assert.Equal(t, 100*time.Millisecond, top)
	p50, p99, top = percentiles(nil)
	assert.Zero(t, p50+p99+top)
}
