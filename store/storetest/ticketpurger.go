package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// TicketPurgerStore is a [TicketStore] with the [store.TicketPurger]
// capability.
type TicketPurgerStore interface {
	TicketStore
	store.TicketPurger
}

// RunTicketPurger checks the store that newStore returns against every
// clause of the [store.TicketPurger] contract, each in its own subtest on a
// fresh store, as [Run] does. newStore must give the store now as its
// clock (Options.Now of the built-in stores): the suite sets the times at
// which tickets are created and updated through it. The clauses on the
// query (status, Before, Tenant, Channel, Except, Limit, idempotence) run
// once deleting and once anonymizing.
func RunTicketPurger(t *testing.T, newStore func(t *testing.T, now func() time.Time) TicketPurgerStore) {
	t.Helper()
	fresh := func(t *testing.T) ticketPurgerFixture {
		t.Helper()
		c := &suiteClock{now: at(0)}
		s := newStore(t, c.Now)
		require.NotNil(t, s, "newStore returns a store")
		return ticketPurgerFixture{s: s, clock: c}
	}
	perAction := func(test func(t *testing.T, newStore ticketPurgerFactory, anonymize bool)) func(t *testing.T, newStore ticketPurgerFactory) {
		return func(t *testing.T, newStore ticketPurgerFactory) {
			t.Run("Delete", func(t *testing.T) { test(t, newStore, false) })
			t.Run("Anonymize", func(t *testing.T) { test(t, newStore, true) })
		}
	}
	runGroups(t, fresh, []capGroup[ticketPurgerFixture]{
		{"Action", []capClause[ticketPurgerFixture]{
			{"deletes closed tickets with their notes and never gives their numbers again", testTicketPurgeDelete},
			{"Anonymize clears the text and keeps number, subject, status and times", testTicketPurgeAnonymize},
		}},
		{"Query", []capClause[ticketPurgerFixture]{
			{"never touches a ticket that is not closed", perAction(testTicketPurgeNotClosed)},
			{"selects tickets last updated before Before", perAction(testTicketPurgeBefore)},
			{"selects tickets of Tenant or of every tenant", perAction(testTicketPurgeTenant)},
			{"selects tickets whose subject is on Channel or on every channel", perAction(testTicketPurgeChannel)},
			{"never touches tickets of subjects in Except", perAction(testTicketPurgeExcept)},
			{"changes at most Limit tickets and reports whether more remain", perAction(testTicketPurgeLimit)},
			{"changes nothing the second time", perAction(testTicketPurgeIdempotent)},
			{"a negative Limit is ErrInvalid", testTicketPurgeInvalid},
		}},
		{"Context", []capClause[ticketPurgerFixture]{
			{"a cancelled call fails and changes nothing", testTicketPurgeCancelled},
		}},
	})
}

type ticketPurgerFixture struct {
	s     TicketPurgerStore
	clock *suiteClock
}

type ticketPurgerFactory = func(t *testing.T) ticketPurgerFixture

// suiteClock is the clock the suite gives a store.
type suiteClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *suiteClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *suiteClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// ticketCutoff is the Before of the ticket purge clauses: tickets last
// updated before second 100 are old.
var ticketCutoff = at(100)

// closedTicket opens a ticket for the user at from at second n, with a
// summary and a note, closes it at second n, and returns it as stored.
func closedTicket(t *testing.T, f ticketPurgerFixture, from channel.Address, n int) store.Ticket {
	t.Helper()
	return ticketWith(t, f, from, n, store.TicketClosed)
}

// ticketWith opens a ticket for the user at from at second n, with a
// summary and a note, gives it status at second n, and returns it as
// stored.
func ticketWith(t *testing.T, f ticketPurgerFixture, from channel.Address, n int, status store.TicketStatus) store.Ticket {
	t.Helper()
	f.clock.set(at(n))
	c, err := f.s.OpenConversation(t.Context(), from)
	require.NoError(t, err, "OpenConversation: opens the conversation of addr")
	tk := mustTicket(t, f.s, store.NewTicket{Tenant: from.Tenant, Subject: c.Subject, Conversation: c.ID,
		Title: "Pedido incompleto de Ana Quispe", Summary: "Faltó la chompa de alpaca talla M, pedido 4471."})
	_, err = f.s.AddTicketNote(t.Context(), from.Tenant, tk.Number, store.TicketNote{Author: "customer", Text: "Me llamo Ana, mi número es +51 900 000 001."})
	require.NoError(t, err, "AddTicketNote: appends a valid note")
	tk, err = f.s.SetTicketStatus(t.Context(), from.Tenant, tk.Number, status)
	require.NoError(t, err, "SetTicketStatus: changes the status")
	return tk
}

func purgeTickets(t *testing.T, s store.TicketPurger, q store.TicketPurgeQuery) store.PurgeResult {
	t.Helper()
	r, err := s.PurgeTickets(t.Context(), q)
	require.NoError(t, err, "PurgeTickets: applies a valid query")
	return r
}

// assertTicketsPurged checks that the tickets were deleted, or anonymized
// as [store.Ticket.Anonymized] says.
func assertTicketsPurged(t *testing.T, s store.TicketSystem, anonymize bool, tks []store.Ticket, clause string) {
	t.Helper()
	for _, tk := range tks {
		got, err := s.Ticket(t.Context(), tk.Tenant, tk.Number)
		if !anonymize {
			assert.ErrorIs(t, err, store.ErrNotFound, clause+" (a deleted ticket is not found)")
			continue
		}
		want, _ := tk.Anonymized()
		if assert.NoError(t, err, clause+" (an anonymized ticket is kept)") {
			assert.Equal(t, want, got, clause+" (anonymized as Ticket.Anonymized says)")
		}
	}
}

// assertTicketsUntouched checks that the tickets are kept as they were.
func assertTicketsUntouched(t *testing.T, s store.TicketSystem, tks []store.Ticket, clause string) {
	t.Helper()
	for _, tk := range tks {
		got, err := s.Ticket(t.Context(), tk.Tenant, tk.Number)
		if assert.NoError(t, err, clause+" (the ticket is kept)") {
			assert.Equal(t, tk, got, clause)
		}
	}
}

// Action

func testTicketPurgeDelete(t *testing.T, newStore ticketPurgerFactory) {
	f := newStore(t)
	from := addr(tenantA, userA)
	old := []store.Ticket{closedTicket(t, f, from, 0), closedTicket(t, f, from, 10)}
	recent := closedTicket(t, f, from, 150)

	r := purgeTickets(t, f.s, store.TicketPurgeQuery{Before: ticketCutoff})
	const c = "PurgeTickets: deletes the closed tickets last updated before Before, with their notes"
	assert.Equal(t, store.PurgeResult{Records: len(old)}, r, "PurgeTickets: reports how many tickets it deleted, and no more remain")
	assertTicketsPurged(t, f.s, false, old, c)
	assertTicketsUntouched(t, f.s, []store.Ticket{recent}, "PurgeTickets: tickets updated at Before or later are not touched")
	list, err := f.s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: recent.Subject})
	require.NoError(t, err, "Tickets: lists the subject's tickets")
	assert.Equal(t, []store.Ticket{recent}, list, c+" (Tickets no longer lists them)")

	f.clock.set(at(200))
	next := mustTicket(t, f.s, store.NewTicket{Tenant: tenantA, Subject: recent.Subject, Title: "Otro caso"})
	assert.Equal(t, store.TicketNumberFor(4), next.Number, "TicketSystem: numbers are never given twice in a tenant, also after a ticket was purged")
}

func testTicketPurgeAnonymize(t *testing.T, newStore ticketPurgerFactory) {
	f := newStore(t)
	from := addr(tenantA, userA)
	old := closedTicket(t, f, from, 0)
	recent := closedTicket(t, f, from, 150)

	r := purgeTickets(t, f.s, store.TicketPurgeQuery{Before: ticketCutoff, Anonymize: true})
	const c = "TicketPurgeQuery.Anonymize: the title, the summary and the text of every note become empty; number, subject, conversation, status, times and the notes' authors and times stay"
	assert.Equal(t, store.PurgeResult{Records: 1}, r, "PurgeTickets: reports how many tickets it changed, and no more remain")
	got, err := f.s.Ticket(t.Context(), tenantA, old.Number)
	require.NoError(t, err, c+" (the ticket is kept)")
	assert.Empty(t, got.Title, c)
	assert.Empty(t, got.Summary, c)
	require.Len(t, got.Notes, len(old.Notes), c+" (the notes stay)")
	for i, n := range got.Notes {
		assert.Empty(t, n.Text, c)
		assert.Equal(t, old.Notes[i].Author, n.Author, c)
		assert.Equal(t, old.Notes[i].Time, n.Time, c)
	}
	assert.Equal(t, old.Number, got.Number, c)
	assert.Equal(t, old.Subject, got.Subject, c)
	assert.Equal(t, old.Conversation, got.Conversation, c)
	assert.Equal(t, old.Status, got.Status, c)
	assert.Equal(t, old.CreatedAt, got.CreatedAt, c)
	assert.Equal(t, old.UpdatedAt, got.UpdatedAt, c+" (anonymizing does not update UpdatedAt)")
	assertTicketsUntouched(t, f.s, []store.Ticket{recent}, "PurgeTickets: tickets updated at Before or later are not touched")
}

// Query

func testTicketPurgeNotClosed(t *testing.T, newStore ticketPurgerFactory, anonymize bool) {
	f := newStore(t)
	from := addr(tenantA, userA)
	var kept []store.Ticket
	for i, st := range []store.TicketStatus{store.TicketOpen, store.TicketPending, store.TicketResolved} {
		kept = append(kept, ticketWith(t, f, from, i, st))
	}
	closed := closedTicket(t, f, from, 5)

	r := purgeTickets(t, f.s, store.TicketPurgeQuery{Before: ticketCutoff, Anonymize: anonymize})
	const c = "PurgeTickets: only closed tickets are purged; an open, pending or resolved ticket is never touched, however old"
	assert.Equal(t, store.PurgeResult{Records: 1}, r, c)
	assertTicketsUntouched(t, f.s, kept, c)
	assertTicketsPurged(t, f.s, anonymize, []store.Ticket{closed}, c)
}

func testTicketPurgeBefore(t *testing.T, newStore ticketPurgerFactory, anonymize bool) {
	f := newStore(t)
	from := addr(tenantA, userA)
	old := closedTicket(t, f, from, 99)
	atCutoff := closedTicket(t, f, from, 100)
	// Created long ago, but a note was added since.
	revived := closedTicket(t, f, from, 1)
	f.clock.set(at(120))
	revived, err := f.s.AddTicketNote(t.Context(), tenantA, revived.Number, store.TicketNote{Author: "Rosa", Text: "Cliente volvió a escribir."})
	require.NoError(t, err, "AddTicketNote: appends a valid note")

	r := purgeTickets(t, f.s, store.TicketPurgeQuery{Anonymize: anonymize})
	assert.Equal(t, store.PurgeResult{}, r, "TicketPurgeQuery: selects tickets last updated before Before; none is before the zero time")
	assertTicketsUntouched(t, f.s, []store.Ticket{old, atCutoff, revived}, "TicketPurgeQuery: none is before the zero time")

	r = purgeTickets(t, f.s, store.TicketPurgeQuery{Before: ticketCutoff, Anonymize: anonymize})
	const c = "TicketPurgeQuery: selects the tickets whose UpdatedAt is before Before"
	assert.Equal(t, store.PurgeResult{Records: 1}, r, c)
	assertTicketsPurged(t, f.s, anonymize, []store.Ticket{old}, c)
	assertTicketsUntouched(t, f.s, []store.Ticket{atCutoff, revived}, c+" (a ticket updated at Before or after it, also one created long before, is not touched)")
}

func testTicketPurgeTenant(t *testing.T, newStore ticketPurgerFactory, anonymize bool) {
	f := newStore(t)
	a := closedTicket(t, f, addr(tenantA, userA), 0)
	b := closedTicket(t, f, addr(tenantB, userA), 0)

	r := purgeTickets(t, f.s, store.TicketPurgeQuery{Tenant: tenantB, Before: ticketCutoff, Anonymize: anonymize})
	const c = "TicketPurgeQuery: selects the tickets of Tenant"
	assert.Equal(t, store.PurgeResult{Records: 1}, r, c)
	assertTicketsPurged(t, f.s, anonymize, []store.Ticket{b}, c)
	assertTicketsUntouched(t, f.s, []store.Ticket{a}, c+" (tickets of other tenants are not touched)")

	a2 := closedTicket(t, f, addr(tenantA, userB), 1)
	r = purgeTickets(t, f.s, store.TicketPurgeQuery{Before: ticketCutoff, Anonymize: anonymize})
	const ce = "TicketPurgeQuery: an empty Tenant selects the tickets of every tenant"
	assert.Equal(t, store.PurgeResult{Records: 2}, r, ce)
	assertTicketsPurged(t, f.s, anonymize, []store.Ticket{a, a2}, ce)
}

func testTicketPurgeChannel(t *testing.T, newStore ticketPurgerFactory, anonymize bool) {
	f := newStore(t)
	wa := closedTicket(t, f, addr(tenantA, userA), 0)
	web := closedTicket(t, f, channel.Address{Channel: channel.WebWidget, Tenant: tenantA, User: "visitor-1"}, 0)
	ig := closedTicket(t, f, channel.Address{Channel: channel.Instagram, Tenant: tenantA, User: "ig-1"}, 0)

	r := purgeTickets(t, f.s, store.TicketPurgeQuery{Tenant: tenantA, Channel: channel.WebWidget, Before: ticketCutoff, Anonymize: anonymize})
	const c = "TicketPurgeQuery: selects the tickets whose subject is on Channel"
	assert.Equal(t, store.PurgeResult{Records: 1}, r, c)
	assertTicketsPurged(t, f.s, anonymize, []store.Ticket{web}, c)
	assertTicketsUntouched(t, f.s, []store.Ticket{wa, ig}, c+" (tickets of subjects on other channels are not touched)")

	r = purgeTickets(t, f.s, store.TicketPurgeQuery{Tenant: tenantA, Before: ticketCutoff, Anonymize: anonymize})
	const ce = "TicketPurgeQuery: an empty Channel selects the tickets of every channel"
	assert.Equal(t, store.PurgeResult{Records: 2}, r, ce)
	assertTicketsPurged(t, f.s, anonymize, []store.Ticket{wa, ig}, ce)
}

func testTicketPurgeExcept(t *testing.T, newStore ticketPurgerFactory, anonymize bool) {
	f := newStore(t)
	held := closedTicket(t, f, addr(tenantA, userA), 0)
	other := closedTicket(t, f, addr(tenantA, userB), 1)
	alsoHeld := closedTicket(t, f, addr(tenantA, userC), 2)

	r := purgeTickets(t, f.s, store.TicketPurgeQuery{Before: ticketCutoff, Anonymize: anonymize,
		Except: []store.SubjectID{held.Subject, alsoHeld.Subject, "no-such-subject"}})
	const c = "PurgeTickets: tickets of subjects in q.Except are never touched (legal holds)"
	assert.Equal(t, store.PurgeResult{Records: 1}, r, c)
	assertTicketsUntouched(t, f.s, []store.Ticket{held, alsoHeld}, c)
	assertTicketsPurged(t, f.s, anonymize, []store.Ticket{other}, "PurgeTickets: tickets of subjects not in q.Except are purged")
}

func testTicketPurgeLimit(t *testing.T, newStore ticketPurgerFactory, anonymize bool) {
	f := newStore(t)
	var old []store.Ticket
	for i := range 5 {
		old = append(old, closedTicket(t, f, addr(tenantA, userA), i))
	}
	q := store.TicketPurgeQuery{Before: ticketCutoff, Anonymize: anonymize, Limit: 2}
	const c = "PurgeTickets: changes at most q.Limit tickets and reports whether more remain"
	assert.Equal(t, store.PurgeResult{Records: 2, More: true}, purgeTickets(t, f.s, q), c)
	assert.Equal(t, store.PurgeResult{Records: 2, More: true}, purgeTickets(t, f.s, q), c)
	assert.Equal(t, store.PurgeResult{Records: 1}, purgeTickets(t, f.s, q), c+" (More is false when the batch took the last tickets)")
	assertTicketsPurged(t, f.s, anonymize, old, c)
	assert.Equal(t, store.PurgeResult{}, purgeTickets(t, f.s, q), c+" (nothing is left)")

	var more []store.Ticket
	for i := range 3 {
		more = append(more, closedTicket(t, f, addr(tenantA, userB), i))
	}
	q.Limit = 3
	assert.Equal(t, store.PurgeResult{Records: 3}, purgeTickets(t, f.s, q), c+" (More is false when exactly Limit tickets were left)")
	assertTicketsPurged(t, f.s, anonymize, more, c)

	var zero []store.Ticket
	for i := range 3 {
		zero = append(zero, closedTicket(t, f, addr(tenantA, userC), i))
	}
	q.Limit = 0
	assert.Equal(t, store.PurgeResult{Records: len(zero)}, purgeTickets(t, f.s, q), "TicketPurgeQuery: a zero Limit caps the tickets changed by one call at DefaultPurgeLimit")
	assertTicketsPurged(t, f.s, anonymize, zero, c)
}

func testTicketPurgeIdempotent(t *testing.T, newStore ticketPurgerFactory, anonymize bool) {
	f := newStore(t)
	from := addr(tenantA, userA)
	old := []store.Ticket{closedTicket(t, f, from, 0), closedTicket(t, f, from, 1)}
	q := store.TicketPurgeQuery{Before: ticketCutoff, Anonymize: anonymize}
	purgeTickets(t, f.s, q)

	const c = "TicketPurgeQuery: selects the tickets that still hold what the purge removes, so a second purge changes nothing"
	assert.Equal(t, store.PurgeResult{}, purgeTickets(t, f.s, q), c)
	assertTicketsPurged(t, f.s, anonymize, old, c)
	if anonymize {
		r := purgeTickets(t, f.s, store.TicketPurgeQuery{Before: ticketCutoff})
		assert.Equal(t, store.PurgeResult{Records: len(old)}, r, "PurgeTickets: deleting selects anonymized tickets too: they are still tickets")
		assertTicketsPurged(t, f.s, false, old, "PurgeTickets: deletes anonymized tickets")
	}
}

func testTicketPurgeInvalid(t *testing.T, newStore ticketPurgerFactory) {
	f := newStore(t)
	tk := closedTicket(t, f, addr(tenantA, userA), 0)
	_, err := f.s.PurgeTickets(t.Context(), store.TicketPurgeQuery{Before: ticketCutoff, Limit: -1})
	assert.ErrorIs(t, err, store.ErrInvalid, "PurgeTickets: a query with a negative Limit is ErrInvalid")
	assertTicketsUntouched(t, f.s, []store.Ticket{tk}, "PurgeTickets: an invalid query changes nothing")
}

// Context

func testTicketPurgeCancelled(t *testing.T, newStore ticketPurgerFactory) {
	for _, anonymize := range []bool{false, true} {
		t.Run(fmt.Sprintf("Anonymize=%t", anonymize), func(t *testing.T) {
			f := newStore(t)
			tk := closedTicket(t, f, addr(tenantA, userA), 0)
			_, err := f.s.PurgeTickets(cancelled(t), store.TicketPurgeQuery{Before: ticketCutoff, Anonymize: anonymize})
			require.ErrorIs(t, err, context.Canceled, "when ctx is done before the store commits, the method returns an error wrapping ctx.Err()")
			assertTicketsUntouched(t, f.s, []store.Ticket{tk}, "when ctx is done before the store commits, the method changes nothing")
		})
	}
}
