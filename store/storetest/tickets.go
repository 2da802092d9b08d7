package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// TicketStore is a store that keeps support tickets: the built-in
// [store.TicketSystem].
type TicketStore interface {
	store.ConversationStore
	store.TicketSystem
}

// TicketEraserStore is a [TicketStore] that is also a [store.Eraser]: its
// erasure must cover tickets.
type TicketEraserStore interface {
	TicketStore
	store.Eraser
}

// RunTickets checks the store that newStore returns against every clause
// of the [store.TicketSystem] contract, each in its own subtest on a fresh
// store from newStore, as [Run] does.
func RunTickets(t *testing.T, newStore func(t *testing.T) TicketStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[TicketStore]{
		{"CreateTicket", []capClause[TicketStore]{
			{"opens a ticket with the next number of the tenant", testTicketCreate},
			{"never gives a number twice, also when calls race", testTicketNumbersRace},
			{"numbers each tenant on its own", testTicketNumbersPerTenant},
			{"rejects what breaks the contract with ErrInvalid", testTicketCreateInvalid},
			{"a subject or conversation of another tenant is ErrNotFound", testTicketCreateOtherTenant},
		}},
		{"Ticket", []capClause[TicketStore]{
			{"returns the ticket, and ErrNotFound for another tenant or an unknown number", testTicketGet},
			{"returned values belong to the caller", testTicketCopies},
		}},
		{"Tickets", []capClause[TicketStore]{
			{"selects by subject or conversation, latest created first", testTicketList},
			{"filters by status and limits", testTicketListFilter},
			{"never lists another tenant's or subject's tickets", testTicketListScoped},
			{"a query without tenant or subject and conversation is ErrInvalid", testTicketListInvalid},
		}},
		{"AddTicketNote", []capClause[TicketStore]{
			{"appends notes in order and updates UpdatedAt", testTicketNotes},
			{"rejects empty notes with ErrInvalid and another tenant's ticket with ErrNotFound", testTicketNoteInvalid},
		}},
		{"SetTicketStatus", []capClause[TicketStore]{
			{"changes the status and updates UpdatedAt", testTicketStatus},
			{"rejects an unknown status with ErrInvalid and another tenant's ticket with ErrNotFound", testTicketStatusInvalid},
		}},
		{"Context", []capClause[TicketStore]{
			{"a cancelled call fails and changes nothing", testTicketCancelled},
		}},
	})
}

// RunTicketErasure checks that [store.Eraser.Erase] deletes the subject's
// tickets, leaves other subjects' alone, and that numbers are not given
// again afterwards.
func RunTicketErasure(t *testing.T, newStore func(t *testing.T) TicketEraserStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[TicketEraserStore]{
		{"Erase", []capClause[TicketEraserStore]{
			{"deletes the subject's tickets and no other", testTicketErase},
		}},
	})
}

// ticketSubject opens the conversation of user in tenant.
func ticketSubject(t *testing.T, s store.ConversationStore, tenant channel.TenantID, user channel.UserID) store.Conversation {
	t.Helper()
	c, err := s.OpenConversation(t.Context(), addr(tenant, user))
	require.NoError(t, err)
	return c
}

func newTicket(c store.Conversation, title string) store.NewTicket {
	return store.NewTicket{Tenant: c.Address.Tenant, Subject: c.Subject, Conversation: c.ID, Title: title, Summary: "Pedido llegó incompleto."}
}

func mustTicket(t *testing.T, s store.TicketSystem, n store.NewTicket) store.Ticket {
	t.Helper()
	tk, err := s.CreateTicket(t.Context(), n)
	require.NoError(t, err, "CreateTicket opens a ticket")
	return tk
}

func testTicketCreate(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	c := ticketSubject(t, s, tenantA, userA)
	tk := mustTicket(t, s, newTicket(c, "Missing item"))
	assert.Equal(t, store.TicketNumberFor(1), tk.Number, "the first ticket of a tenant is TicketNumberFor(1)")
	assert.Equal(t, tenantA, tk.Tenant)
	assert.Equal(t, c.Subject, tk.Subject)
	assert.Equal(t, c.ID, tk.Conversation)
	assert.Equal(t, "Missing item", tk.Title)
	assert.Equal(t, "Pedido llegó incompleto.", tk.Summary)
	assert.Equal(t, store.TicketOpen, tk.Status, "a new ticket is open")
	assert.Empty(t, tk.Notes)
	assert.False(t, tk.CreatedAt.IsZero(), "CreateTicket sets CreatedAt")
	assert.Equal(t, tk.CreatedAt, tk.UpdatedAt, "a new ticket was updated when it was created")

	n := newTicket(c, "Second")
	n.Conversation, n.Status = "", store.TicketPending
	second := mustTicket(t, s, n)
	assert.Equal(t, store.TicketNumberFor(2), second.Number, "CreateTicket gives the next number of the tenant")
	assert.Equal(t, store.TicketPending, second.Status, "CreateTicket keeps the initial status given")
	assert.Empty(t, second.Conversation, "a ticket needs no conversation")

	got, err := s.Ticket(t.Context(), tenantA, tk.Number)
	require.NoError(t, err)
	assert.Equal(t, tk, got, "Ticket returns the ticket as created")
}

func testTicketNumbersRace(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	c := ticketSubject(t, s, tenantA, userA)
	const n = 20
	numbers := make([]store.TicketNumber, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, err := s.CreateTicket(context.Background(), newTicket(c, fmt.Sprintf("case %d", i)))
			numbers[i], errs[i] = tk.Number, err
		}()
	}
	wg.Wait()
	seen := map[store.TicketNumber]bool{}
	for i := range n {
		require.NoError(t, errs[i])
		assert.False(t, seen[numbers[i]], "CreateTicket never gives a number twice in a tenant, also when calls race: %s given twice", numbers[i])
		seen[numbers[i]] = true
	}
	for i := 1; i <= n; i++ {
		assert.True(t, seen[store.TicketNumberFor(int64(i))], "racing calls take the numbers in sequence: %s missing", store.TicketNumberFor(int64(i)))
	}
}

func testTicketNumbersPerTenant(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	a := mustTicket(t, s, newTicket(ticketSubject(t, s, tenantA, userA), "A"))
	b := mustTicket(t, s, newTicket(ticketSubject(t, s, tenantB, userA), "B"))
	assert.Equal(t, a.Number, b.Number, "each tenant numbers its tickets on its own")
	got, err := s.Ticket(t.Context(), tenantB, b.Number)
	require.NoError(t, err)
	assert.Equal(t, "B", got.Title, "a number finds the ticket of the tenant asked for")
}

func testTicketCreateInvalid(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	c := ticketSubject(t, s, tenantA, userA)
	other := ticketSubject(t, s, tenantA, userB)
	long := make([]byte, store.MaxTicketTitle+1)
	for i := range long {
		long[i] = 'x'
	}
	for name, edit := range map[string]func(*store.NewTicket){
		"empty tenant":                    func(n *store.NewTicket) { n.Tenant = "" },
		"empty subject":                   func(n *store.NewTicket) { n.Subject = "" },
		"empty title":                     func(n *store.NewTicket) { n.Title = "  " },
		"title too long":                  func(n *store.NewTicket) { n.Title = string(long) },
		"unknown status":                  func(n *store.NewTicket) { n.Status = "lost" },
		"conversation of another subject": func(n *store.NewTicket) { n.Conversation = other.ID },
	} {
		n := newTicket(c, "Missing item")
		edit(&n)
		_, err := s.CreateTicket(t.Context(), n)
		assert.ErrorIs(t, err, store.ErrInvalid, "CreateTicket returns ErrInvalid for %s", name)
	}
	tickets, err := s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: c.Subject})
	require.NoError(t, err)
	assert.Empty(t, tickets, "a rejected ticket is not created")
	tk := mustTicket(t, s, newTicket(c, "Valid"))
	assert.Equal(t, store.TicketNumberFor(1), tk.Number, "a rejected ticket takes no number")
}

func testTicketCreateOtherTenant(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	c := ticketSubject(t, s, tenantB, userA)
	n := newTicket(c, "Missing item")
	n.Tenant = tenantA
	_, err := s.CreateTicket(t.Context(), n)
	assert.ErrorIs(t, err, store.ErrNotFound, "a subject of another tenant is ErrNotFound")
	mine := ticketSubject(t, s, tenantA, userA)
	n = newTicket(mine, "Missing item")
	n.Conversation = c.ID
	_, err = s.CreateTicket(t.Context(), n)
	assert.ErrorIs(t, err, store.ErrNotFound, "a conversation of another tenant is ErrNotFound")
	n = newTicket(mine, "Missing item")
	n.Subject = "s999999"
	n.Conversation = ""
	_, err = s.CreateTicket(t.Context(), n)
	assert.ErrorIs(t, err, store.ErrNotFound, "an unknown subject is ErrNotFound")
}

func testTicketGet(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	tk := mustTicket(t, s, newTicket(ticketSubject(t, s, tenantA, userA), "Missing item"))
	got, err := s.Ticket(t.Context(), tenantA, tk.Number)
	require.NoError(t, err)
	assert.Equal(t, tk.Number, got.Number)
	_, err = s.Ticket(t.Context(), tenantB, tk.Number)
	assert.ErrorIs(t, err, store.ErrNotFound, "a ticket of another tenant is reported as not found")
	_, err = s.Ticket(t.Context(), tenantA, store.TicketNumberFor(99))
	assert.ErrorIs(t, err, store.ErrNotFound, "an unknown number is ErrNotFound")
	_, err = s.Ticket(t.Context(), tenantA, "not a number")
	assert.ErrorIs(t, err, store.ErrNotFound, "a malformed number is ErrNotFound")
}

func testTicketCopies(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	tk := mustTicket(t, s, newTicket(ticketSubject(t, s, tenantA, userA), "Missing item"))
	tk, err := s.AddTicketNote(t.Context(), tenantA, tk.Number, store.TicketNote{Author: "assistant", Text: "first"})
	require.NoError(t, err)
	tk.Notes[0].Text = "changed by the caller"
	got, err := s.Ticket(t.Context(), tenantA, tk.Number)
	require.NoError(t, err)
	assert.Equal(t, "first", got.Notes[0].Text, "values returned belong to the caller: changing them changes nothing in the store")
}

func testTicketList(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	c := ticketSubject(t, s, tenantA, userA)
	first := mustTicket(t, s, newTicket(c, "first"))
	n := newTicket(c, "second, without conversation")
	n.Conversation = ""
	second := mustTicket(t, s, n)
	third := mustTicket(t, s, newTicket(c, "third"))

	got, err := s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: c.Subject})
	require.NoError(t, err)
	assert.Equal(t, []store.TicketNumber{third.Number, second.Number, first.Number}, numbersOf(got), "Tickets selects the subject's tickets, the latest created first")

	got, err = s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Conversation: c.ID})
	require.NoError(t, err)
	assert.Equal(t, []store.TicketNumber{third.Number, first.Number}, numbersOf(got), "Tickets selects the conversation's tickets")

	none, err := s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: ticketSubject(t, s, tenantA, userB).Subject})
	require.NoError(t, err, "a subject without tickets gives none and a nil error")
	assert.Empty(t, none)
}

func testTicketListFilter(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	c := ticketSubject(t, s, tenantA, userA)
	var all []store.Ticket
	for i := range 12 {
		all = append(all, mustTicket(t, s, newTicket(c, fmt.Sprintf("case %d", i))))
	}
	_, err := s.SetTicketStatus(t.Context(), tenantA, all[3].Number, store.TicketResolved)
	require.NoError(t, err)
	_, err = s.SetTicketStatus(t.Context(), tenantA, all[10].Number, store.TicketClosed)
	require.NoError(t, err)
	got, err := s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: c.Subject, Statuses: []store.TicketStatus{store.TicketResolved, store.TicketClosed}})
	require.NoError(t, err)
	assert.Equal(t, []store.TicketNumber{all[10].Number, all[3].Number}, numbersOf(got), "Tickets keeps the tickets with one of Statuses")
	got, err = s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: c.Subject, Limit: 3})
	require.NoError(t, err)
	assert.Equal(t, []store.TicketNumber{all[11].Number, all[10].Number, all[9].Number}, numbersOf(got), "Limit keeps the latest created (numbers past T-1009 order as numbers, not as text)")
}

func testTicketListScoped(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	a := ticketSubject(t, s, tenantA, userA)
	b := ticketSubject(t, s, tenantA, userB)
	other := ticketSubject(t, s, tenantB, userA)
	mustTicket(t, s, newTicket(a, "A's"))
	mustTicket(t, s, newTicket(b, "B's"))
	mustTicket(t, s, newTicket(other, "other tenant's"))
	got, err := s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: a.Subject})
	require.NoError(t, err)
	require.Len(t, got, 1, "Tickets returns only the subject's tickets")
	assert.Equal(t, "A's", got[0].Title)
	got, err = s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantB, Subject: a.Subject})
	require.NoError(t, err)
	assert.Empty(t, got, "a subject of another tenant has no tickets in this one")
	got, err = s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantB, Conversation: a.ID})
	require.NoError(t, err)
	assert.Empty(t, got, "a conversation of another tenant has no tickets in this one")
}

func testTicketListInvalid(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	c := ticketSubject(t, s, tenantA, userA)
	for name, q := range map[string]store.TicketQuery{
		"no tenant":                  {Subject: c.Subject},
		"no subject or conversation": {Tenant: tenantA},
		"negative limit":             {Tenant: tenantA, Subject: c.Subject, Limit: -1},
	} {
		_, err := s.Tickets(t.Context(), q)
		assert.ErrorIs(t, err, store.ErrInvalid, "Tickets returns ErrInvalid for a query with %s", name)
	}
}

func testTicketNotes(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	tk := mustTicket(t, s, newTicket(ticketSubject(t, s, tenantA, userA), "Missing item"))
	_, err := s.AddTicketNote(t.Context(), tenantA, tk.Number, store.TicketNote{Author: "customer", Text: "Falta una taza."})
	require.NoError(t, err)
	got, err := s.AddTicketNote(t.Context(), tenantA, tk.Number, store.TicketNote{Author: "Lucía", Text: "Reenviamos la taza.", Time: at(5)})
	require.NoError(t, err)
	require.Len(t, got.Notes, 2, "AddTicketNote appends")
	assert.Equal(t, "customer", got.Notes[0].Author)
	assert.Equal(t, "Falta una taza.", got.Notes[0].Text)
	assert.False(t, got.Notes[0].Time.IsZero(), "a note without a time is given now")
	assert.Equal(t, store.TicketNote{Author: "Lucía", Text: "Reenviamos la taza.", Time: at(5)}, got.Notes[1], "notes are kept as given, in order")
	assert.False(t, got.UpdatedAt.Before(tk.UpdatedAt), "AddTicketNote updates UpdatedAt")
	again, err := s.Ticket(t.Context(), tenantA, tk.Number)
	require.NoError(t, err)
	assert.Equal(t, got, again, "the notes are stored")
}

func testTicketNoteInvalid(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	tk := mustTicket(t, s, newTicket(ticketSubject(t, s, tenantA, userA), "Missing item"))
	_, err := s.AddTicketNote(t.Context(), tenantA, tk.Number, store.TicketNote{Author: "customer", Text: " "})
	assert.ErrorIs(t, err, store.ErrInvalid, "an empty note is ErrInvalid")
	_, err = s.AddTicketNote(t.Context(), tenantA, tk.Number, store.TicketNote{Text: "no author"})
	assert.ErrorIs(t, err, store.ErrInvalid, "a note without author is ErrInvalid")
	_, err = s.AddTicketNote(t.Context(), tenantB, tk.Number, store.TicketNote{Author: "x", Text: "intruder"})
	assert.ErrorIs(t, err, store.ErrNotFound, "a ticket of another tenant is ErrNotFound")
	got, err := s.Ticket(t.Context(), tenantA, tk.Number)
	require.NoError(t, err)
	assert.Empty(t, got.Notes, "rejected notes are not added")
}

func testTicketStatus(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	tk := mustTicket(t, s, newTicket(ticketSubject(t, s, tenantA, userA), "Missing item"))
	for _, st := range []store.TicketStatus{store.TicketPending, store.TicketResolved, store.TicketOpen, store.TicketClosed} {
		got, err := s.SetTicketStatus(t.Context(), tenantA, tk.Number, st)
		require.NoError(t, err)
		assert.Equal(t, st, got.Status, "SetTicketStatus changes the status")
		assert.False(t, got.UpdatedAt.Before(tk.UpdatedAt), "SetTicketStatus updates UpdatedAt")
		again, err := s.Ticket(t.Context(), tenantA, tk.Number)
		require.NoError(t, err)
		assert.Equal(t, st, again.Status, "the status is stored")
	}
}

func testTicketStatusInvalid(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	tk := mustTicket(t, s, newTicket(ticketSubject(t, s, tenantA, userA), "Missing item"))
	_, err := s.SetTicketStatus(t.Context(), tenantA, tk.Number, "lost")
	assert.ErrorIs(t, err, store.ErrInvalid, "an unknown status is ErrInvalid")
	_, err = s.SetTicketStatus(t.Context(), tenantB, tk.Number, store.TicketClosed)
	assert.ErrorIs(t, err, store.ErrNotFound, "a ticket of another tenant is ErrNotFound")
	got, err := s.Ticket(t.Context(), tenantA, tk.Number)
	require.NoError(t, err)
	assert.Equal(t, store.TicketOpen, got.Status, "a rejected change changes nothing")
}

func testTicketCancelled(t *testing.T, newStore func(t *testing.T) TicketStore) {
	s := newStore(t)
	c := ticketSubject(t, s, tenantA, userA)
	tk := mustTicket(t, s, newTicket(c, "Missing item"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.CreateTicket(ctx, newTicket(c, "cancelled"))
	assert.ErrorIs(t, err, context.Canceled, "a cancelled CreateTicket returns an error wrapping ctx.Err()")
	_, err = s.AddTicketNote(ctx, tenantA, tk.Number, store.TicketNote{Author: "x", Text: "y"})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = s.SetTicketStatus(ctx, tenantA, tk.Number, store.TicketClosed)
	assert.ErrorIs(t, err, context.Canceled)
	got, err := s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: c.Subject})
	require.NoError(t, err)
	require.Len(t, got, 1, "a cancelled CreateTicket changes nothing")
	assert.Equal(t, store.TicketOpen, got[0].Status, "a cancelled SetTicketStatus changes nothing")
	assert.Empty(t, got[0].Notes, "a cancelled AddTicketNote changes nothing")
}

func testTicketErase(t *testing.T, newStore func(t *testing.T) TicketEraserStore) {
	s := newStore(t)
	a := ticketSubject(t, s, tenantA, userA)
	b := ticketSubject(t, s, tenantA, userB)
	ta := mustTicket(t, s, newTicket(a, "A's"))
	_, err := s.AddTicketNote(t.Context(), tenantA, ta.Number, store.TicketNote{Author: "customer", Text: "datos personales"})
	require.NoError(t, err)
	tb := mustTicket(t, s, newTicket(b, "B's"))
	_, err = s.Erase(t.Context(), tenantA, a.Subject)
	require.NoError(t, err)
	_, err = s.Ticket(t.Context(), tenantA, ta.Number)
	assert.ErrorIs(t, err, store.ErrNotFound, "Erase deletes the subject's tickets")
	got, err := s.Tickets(t.Context(), store.TicketQuery{Tenant: tenantA, Subject: a.Subject})
	require.NoError(t, err)
	assert.Empty(t, got, "an erased subject has no tickets")
	_, err = s.Ticket(t.Context(), tenantA, tb.Number)
	assert.NoError(t, err, "Erase leaves other subjects' tickets")
	next := mustTicket(t, s, newTicket(b, "after"))
	assert.Equal(t, store.TicketNumberFor(3), next.Number, "a number is never given again, also after an erasure")
}

func numbersOf(ts []store.Ticket) []store.TicketNumber {
	var out []store.TicketNumber
	for _, t := range ts {
		out = append(out, t.Number)
	}
	return out
}
