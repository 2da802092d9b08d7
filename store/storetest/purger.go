package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// PurgerStore is a store with the [store.Purger] capability.
type PurgerStore interface {
	store.ConversationStore
	store.Purger
}

// RunPurger checks the store that newStore returns against every clause of
// the [store.Purger] contract, each in its own subtest on a fresh store from
// newStore, as [Run] does. The clauses on the query (Before, Tenant,
// Channel, Except, pending records, Limit, idempotence) run once for each
// [store.PurgeScope].
func RunPurger(t *testing.T, newStore func(t *testing.T) PurgerStore) {
	t.Helper()
	runGroups(t, newStore, purgerGroups())
}

type purgerFactory = func(t *testing.T) PurgerStore

func purgerGroups() []capGroup[PurgerStore] {
	perScope := func(test func(t *testing.T, newStore purgerFactory, scope store.PurgeScope)) func(t *testing.T, newStore purgerFactory) {
		return func(t *testing.T, newStore purgerFactory) {
			for _, sc := range scopes {
				t.Run(sc.name, func(t *testing.T) { test(t, newStore, sc.scope) })
			}
		}
	}
	return []capGroup[PurgerStore]{
		{"Scope", []capClause[PurgerStore]{
			{"PurgeContent replaces records by WithoutContent and keeps their metadata", testPurgeContent},
			{"PurgeMedia removes media references only", testPurgeMedia},
			{"PurgeRecords deletes records and keeps conversations and subjects", testPurgeRecords},
		}},
		{"Query", []capClause[PurgerStore]{
			{"selects records whose Time is before Before", perScope(testPurgeBefore)},
			{"selects records of Tenant or of every tenant", perScope(testPurgeTenant)},
			{"selects records of Channel or of every channel", perScope(testPurgeChannel)},
			{"never touches records of subjects in Except", perScope(testPurgeExcept)},
			{"never touches inbound records still pending", perScope(testPurgePending)},
			{"changes at most Limit records and reports whether more remain", perScope(testPurgeLimit)},
			{"changes nothing the second time", perScope(testPurgeIdempotent)},
		}},
		{"Context", []capClause[PurgerStore]{
			{"a cancelled call fails and changes nothing", testPurgeCancelled},
		}},
	}
}

var scopes = []struct {
	name  string
	scope store.PurgeScope
}{
	{"PurgeContent", store.PurgeContent},
	{"PurgeMedia", store.PurgeMedia},
	{"PurgeRecords", store.PurgeRecords},
}

// cutoff is the Before of the purge clauses: records made before second 100
// are old.
var cutoff = at(100)

// answered records a turn at second n: an inbound text message from from
// with a sender profile, handled, and the assistant's reply, sent. It
// returns both records as kept.
func answered(t *testing.T, s store.ConversationStore, id string, from channel.Address, n int) []store.Message {
	t.Helper()
	m := text(id, from, "¿Tienen la chompa de alpaca en talla M?", n)
	m.Sender = channel.Profile{Name: "Ana Quispe", Phone: channel.Phone(from.User)}
	return handled(t, s, m, store.Message{
		Role:     store.Assistant,
		Time:     at(n),
		Parts:    []llm.Part{llm.TextPart("Sí, la tenemos en talla M.")},
		Outbound: &channel.Outbound{To: from, Text: "Sí, la tenemos en talla M.", Correlation: "r-" + id},
	})
}

// illustrated records a turn at second n with media on both sides: an image
// with a caption from from, handled, and a reply with an image part and an
// image sent with a caption. It returns both records as kept.
func illustrated(t *testing.T, s store.ConversationStore, id string, from channel.Address, n int) []store.Message {
	t.Helper()
	m := text(id, from, "¿Tienen esta en talla M?", n)
	m.Type = channel.TypeImage
	m.Media = &channel.Media{Kind: channel.Image, ID: "media-" + id, MIMEType: "image/jpeg", SHA256: "6b86b273ff34fce1", Size: 48213}
	return handled(t, s, m, store.Message{
		Role: store.Assistant,
		Time: at(n),
		Parts: []llm.Part{
			{Kind: llm.KindImage, MIMEType: "image/jpeg", URL: "https://example.com/m/" + id},
			llm.TextPart("Sí, en talla M, mira:"),
		},
		Outbound: &channel.Outbound{To: from, Text: "Sí, en talla M, mira:", Correlation: "r-" + id,
			Media: &channel.Media{Kind: channel.Image, URL: "https://example.com/p/chompa.jpg"}},
	})
}

// handled records m, marks it done, and appends r answering it, sent.
func handled(t *testing.T, s store.ConversationStore, m channel.Message, r store.Message) []store.Message {
	t.Helper()
	a := receive(t, s, m)
	err := s.SetProcessing(t.Context(), a.Message.Tenant, a.Message.ID, store.Processing{State: store.ProcessDone, Attempts: 1, UpdatedAt: m.Time})
	require.NoError(t, err, "SetProcessing: replaces the processing state of an inbound record")
	r.Tenant, r.Conversation, r.Turn = a.Message.Tenant, a.Conversation.ID, a.Message.ID
	out, err := s.Append(t.Context(), r)
	require.NoError(t, err, "Append: records a valid assistant reply")
	_, err = s.UpdateDelivery(t.Context(), out.Tenant, store.DeliveryUpdate{ID: out.ID, ProviderID: "out." + m.ID, State: channel.Sent, Attempts: 1, Time: m.Time})
	require.NoError(t, err, "UpdateDelivery: updates the record with ID u.ID")
	return []store.Message{message(t, s, a.Message.Tenant, a.Message.ID), message(t, s, out.Tenant, out.ID)}
}

func purge(t *testing.T, s PurgerStore, q store.PurgeQuery) store.PurgeResult {
	t.Helper()
	r, err := s.Purge(t.Context(), q)
	require.NoError(t, err, "Purge: applies a valid query")
	return r
}

// purged returns what a purge with scope makes of m: the record kept, or
// deleted.
func purged(scope store.PurgeScope, m store.Message) (kept store.Message, deleted bool) {
	switch scope {
	case store.PurgeContent:
		return m.WithoutContent(), false
	case store.PurgeMedia:
		m, _ = m.WithoutMedia()
		return m, false
	}
	return store.Message{}, true
}

// assertPurged checks that the records ms were purged with scope.
func assertPurged(t *testing.T, s store.ConversationStore, scope store.PurgeScope, ms []store.Message, clause string) {
	t.Helper()
	for _, m := range ms {
		want, deleted := purged(scope, m)
		got, err := s.Message(t.Context(), m.Tenant, m.ID)
		if deleted {
			assert.ErrorIs(t, err, store.ErrNotFound, clause+" (PurgeRecords deletes records entirely: Message reports them as not found)")
			continue
		}
		if assert.NoError(t, err, clause+" (the record is kept)") {
			assert.Equal(t, normMessage(want), normMessage(got), clause)
		}
	}
}

// assertUntouched checks that the records ms are kept as they were.
func assertUntouched(t *testing.T, s store.ConversationStore, ms []store.Message, clause string) {
	t.Helper()
	for _, m := range ms {
		got, err := s.Message(t.Context(), m.Tenant, m.ID)
		if assert.NoError(t, err, clause+" (the record is kept)") {
			assert.Equal(t, normMessage(m), normMessage(got), clause)
		}
	}
}

func join(parts ...[]store.Message) []store.Message {
	var out []store.Message
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// Scope

func testPurgeContent(t *testing.T, newStore purgerFactory) {
	s := newStore(t)
	from := addr(tenantA, userA)
	old := join(answered(t, s, "wamid.1", from, 0), illustrated(t, s, "wamid.2", from, 10))
	recent := answered(t, s, "wamid.3", from, 150)

	r := purge(t, s, store.PurgeQuery{Scope: store.PurgeContent, Before: cutoff})
	const c = "PurgeContent replaces records by Message.WithoutContent: what was said goes, ids, times and states stay"
	assert.Equal(t, store.PurgeResult{Records: len(old)}, r, "Purge: reports how many records it changed, and no more remain")
	assertPurged(t, s, store.PurgeContent, old, c)
	for _, m := range old {
		got := message(t, s, m.Tenant, m.ID)
		assert.True(t, got.ContentRemoved, c+" (ContentRemoved is set)")
		assert.Empty(t, got.Parts, c+" (Parts are dropped)")
	}
	assertUntouched(t, s, recent, "Purge: records whose Time is not before Before are not touched")
	h := history(t, s, tenantA, old[0].Conversation, store.HistoryQuery{})
	var want []store.Message
	for _, m := range old {
		want = append(want, m.WithoutContent())
	}
	assert.Equal(t, normMessages(append(want, recent...)), normMessages(h), c+" (History returns them so, in their order)")
}

func testPurgeMedia(t *testing.T, newStore purgerFactory) {
	s := newStore(t)
	from := addr(tenantA, userA)
	plain := answered(t, s, "wamid.1", from, 0)
	media := illustrated(t, s, "wamid.2", from, 10)

	r := purge(t, s, store.PurgeQuery{Scope: store.PurgeMedia, Before: cutoff})
	const c = "PurgeMedia removes media references only (Message.WithoutMedia): inbound and outbound media and media parts; text stays"
	assert.Equal(t, store.PurgeResult{Records: len(media)}, r, "Purge: reports how many records it changed; records without media do not hold what PurgeMedia removes")
	assertPurged(t, s, store.PurgeMedia, media, c)
	for _, m := range media {
		got := message(t, s, m.Tenant, m.ID)
		assert.False(t, got.ContentRemoved, c+" (the content is not removed)")
	}
	assertUntouched(t, s, plain, "Purge: records that do not hold what the scope removes are not touched")
}

func testPurgeRecords(t *testing.T, newStore purgerFactory) {
	s := newStore(t)
	from := addr(tenantA, userA)
	old := join(answered(t, s, "wamid.1", from, 0), illustrated(t, s, "wamid.2", from, 10))
	recent := answered(t, s, "wamid.3", from, 150)
	conv, err := s.Conversation(t.Context(), tenantA, old[0].Conversation)
	require.NoError(t, err, "Conversation: returns the conversation with the given id")
	subj, err := s.Subject(t.Context(), from)
	require.NoError(t, err, "Subject: returns the subject whose address is addr")

	r := purge(t, s, store.PurgeQuery{Scope: store.PurgeRecords, Before: cutoff})
	const c = "PurgeRecords deletes records entirely"
	assert.Equal(t, store.PurgeResult{Records: len(old)}, r, "Purge: reports how many records it deleted, and no more remain")
	assertPurged(t, s, store.PurgeRecords, old, c)
	assertUntouched(t, s, recent, "Purge: records whose Time is not before Before are not touched")
	assert.Equal(t, ids(recent), ids(history(t, s, tenantA, conv.ID, store.HistoryQuery{})), c+" (History no longer returns them)")

	const cs = "PurgeRecords: conversations and subjects stay until their subject is erased"
	gotConv, err := s.Conversation(t.Context(), tenantA, conv.ID)
	require.NoError(t, err, cs)
	assert.Equal(t, normConversation(conv), normConversation(gotConv), cs)
	gotSubj, err := s.Subject(t.Context(), from)
	require.NoError(t, err, cs)
	assert.Equal(t, normSubject(subj), normSubject(gotSubj), cs)
}

// Query

func testPurgeBefore(t *testing.T, newStore purgerFactory, scope store.PurgeScope) {
	s := newStore(t)
	from := addr(tenantA, userA)
	old := illustrated(t, s, "wamid.1", from, 99)
	atCutoff := illustrated(t, s, "wamid.2", from, 100)
	recent := illustrated(t, s, "wamid.3", from, 101)

	r := purge(t, s, store.PurgeQuery{Scope: scope})
	assert.Equal(t, store.PurgeResult{}, r, "PurgeQuery: selects records whose Time is before Before; none is before the zero time")
	assertUntouched(t, s, join(old, atCutoff, recent), "PurgeQuery: selects records whose Time is before Before; none is before the zero time")

	r = purge(t, s, store.PurgeQuery{Scope: scope, Before: cutoff})
	const c = "PurgeQuery: selects the records whose Time is before Before"
	assert.Equal(t, store.PurgeResult{Records: len(old)}, r, c)
	assertPurged(t, s, scope, old, c)
	assertUntouched(t, s, join(atCutoff, recent), c+" (a record at Before or after it is not touched)")
}

func testPurgeTenant(t *testing.T, newStore purgerFactory, scope store.PurgeScope) {
	s := newStore(t)
	a := illustrated(t, s, "wamid.1", addr(tenantA, userA), 0)
	b := illustrated(t, s, "wamid.1", addr(tenantB, userA), 0)

	r := purge(t, s, store.PurgeQuery{Scope: scope, Before: cutoff, Tenant: tenantB})
	const c = "PurgeQuery: selects the records of Tenant"
	assert.Equal(t, store.PurgeResult{Records: len(b)}, r, c)
	assertPurged(t, s, scope, b, c)
	assertUntouched(t, s, a, c+" (records of other tenants are not touched)")

	a2 := illustrated(t, s, "wamid.2", addr(tenantA, userB), 1)
	r = purge(t, s, store.PurgeQuery{Scope: scope, Before: cutoff})
	const ce = "PurgeQuery: an empty Tenant selects the records of every tenant"
	assert.Equal(t, store.PurgeResult{Records: len(a) + len(a2)}, r, ce)
	assertPurged(t, s, scope, join(a, a2), ce)
}

func testPurgeChannel(t *testing.T, newStore purgerFactory, scope store.PurgeScope) {
	s := newStore(t)
	wa := illustrated(t, s, "msg.1", addr(tenantA, userA), 0)
	web := illustrated(t, s, "msg.1", channel.Address{Channel: channel.WebWidget, Tenant: tenantA, User: "visitor-1"}, 0)
	ig := illustrated(t, s, "msg.1", channel.Address{Channel: channel.Instagram, Tenant: tenantA, User: "ig-1"}, 0)

	r := purge(t, s, store.PurgeQuery{Scope: scope, Before: cutoff, Channel: channel.WebWidget})
	const c = "PurgeQuery: selects the records of Channel"
	assert.Equal(t, store.PurgeResult{Records: len(web)}, r, c)
	assertPurged(t, s, scope, web, c)
	assertUntouched(t, s, join(wa, ig), c+" (records of other channels are not touched)")

	r = purge(t, s, store.PurgeQuery{Scope: scope, Before: cutoff, Tenant: tenantA})
	const ce = "PurgeQuery: an empty Channel selects the records of every channel"
	assert.Equal(t, store.PurgeResult{Records: len(wa) + len(ig)}, r, ce)
	assertPurged(t, s, scope, join(wa, ig), ce)
}

func testPurgeExcept(t *testing.T, newStore purgerFactory, scope store.PurgeScope) {
	s := newStore(t)
	held := illustrated(t, s, "wamid.1", addr(tenantA, userA), 0)
	other := illustrated(t, s, "wamid.2", addr(tenantA, userB), 1)
	alsoHeld := illustrated(t, s, "wamid.3", addr(tenantA, userC), 2)
	subj := func(u channel.UserID) store.SubjectID {
		got, err := s.Subject(t.Context(), addr(tenantA, u))
		require.NoError(t, err, "Subject: returns the subject whose address is addr")
		return got.ID
	}

	r := purge(t, s, store.PurgeQuery{Scope: scope, Before: cutoff, Except: []store.SubjectID{subj(userA), subj(userC)}})
	const c = "Purge: records of subjects in q.Except are never touched (legal holds)"
	assert.Equal(t, store.PurgeResult{Records: len(other)}, r, c)
	assertUntouched(t, s, join(held, alsoHeld), c)
	assertPurged(t, s, scope, other, "Purge: records of subjects not in q.Except are purged")
}

func testPurgePending(t *testing.T, newStore purgerFactory, scope store.PurgeScope) {
	s := newStore(t)
	from := addr(tenantA, userA)
	done := illustrated(t, s, "wamid.1", from, 0)
	m := text("wamid.2", from, "¿y en azul?", 1)
	m.Type = channel.TypeImage
	m.Media = &channel.Media{Kind: channel.Image, ID: "media-2", MIMEType: "image/jpeg"}
	waiting := receive(t, s, m).Message
	// A failed record is not pending: it may be purged.
	failed := receive(t, s, text("wamid.3", from, "¿hola?", 2)).Message
	err := s.SetProcessing(t.Context(), tenantA, failed.ID, store.Processing{State: store.ProcessFailed, Reason: "model_unavailable"})
	require.NoError(t, err, "SetProcessing: replaces the processing state of an inbound record")
	failed = message(t, s, tenantA, failed.ID)
	changed := done
	if scope != store.PurgeMedia { // the failed record holds no media
		changed = append(changed, failed)
	}

	r := purge(t, s, store.PurgeQuery{Scope: scope, Before: cutoff})
	const c = "Purge: inbound records still pending are never touched: they have not been answered yet"
	assert.Equal(t, store.PurgeResult{Records: len(changed)}, r, c)
	assertUntouched(t, s, []store.Message{waiting}, c)
	assert.Equal(t, []store.MessageID{waiting.ID}, ids(pending(t, s, store.PendingQuery{})), c+" (the record is still pending)")
	assertPurged(t, s, scope, changed, "Purge: records of the query that are not pending inbound records are purged")
	if scope == store.PurgeMedia {
		assertUntouched(t, s, []store.Message{failed}, "Purge: records that do not hold what the scope removes are not touched")
	}
}

func testPurgeLimit(t *testing.T, newStore purgerFactory, scope store.PurgeScope) {
	s := newStore(t)
	var old []store.Message
	for i := range 3 {
		old = append(old, illustrated(t, s, fmt.Sprintf("wamid.%d", i), addr(tenantA, userA), i)...)
	}
	q := store.PurgeQuery{Scope: scope, Before: cutoff, Limit: 4}
	const c = "Purge: applies q to at most q.Limit records and reports how many it changed and whether more remain"
	assert.Equal(t, store.PurgeResult{Records: 4, More: true}, purge(t, s, q), c)
	assert.Equal(t, store.PurgeResult{Records: 2, More: false}, purge(t, s, q), c)
	assert.Equal(t, store.PurgeResult{}, purge(t, s, q), c)
	assertPurged(t, s, scope, old, c+" (batches add up to the whole purge)")

	var more []store.Message
	for i := range 3 {
		more = append(more, illustrated(t, s, fmt.Sprintf("wamid.more.%d", i), addr(tenantA, userB), i)...)
	}
	q.Limit = 3
	assert.Equal(t, store.PurgeResult{Records: 3, More: true}, purge(t, s, q), c)
	assert.Equal(t, store.PurgeResult{Records: 3, More: false}, purge(t, s, q), c+" (More is false when the batch took the last records)")
	assertPurged(t, s, scope, more, c)

	var zero []store.Message
	for i := range 3 {
		zero = append(zero, illustrated(t, s, fmt.Sprintf("wamid.zero.%d", i), addr(tenantA, userC), i)...)
	}
	q.Limit = 0
	assert.Equal(t, store.PurgeResult{Records: len(zero)}, purge(t, s, q), "PurgeQuery: a zero Limit caps the records changed by one call at DefaultPurgeLimit")
	assertPurged(t, s, scope, zero, c)
}

func testPurgeIdempotent(t *testing.T, newStore purgerFactory, scope store.PurgeScope) {
	s := newStore(t)
	from := addr(tenantA, userA)
	old := join(illustrated(t, s, "wamid.1", from, 0), answered(t, s, "wamid.2", from, 1))
	q := store.PurgeQuery{Scope: scope, Before: cutoff}
	purge(t, s, q)
	after := make([]store.Message, 0, len(old))
	for _, m := range old {
		if got, err := s.Message(t.Context(), m.Tenant, m.ID); err == nil {
			after = append(after, got)
		}
	}

	const c = "PurgeQuery: selects the records that still hold what Scope removes, so a second purge changes nothing"
	assert.Equal(t, store.PurgeResult{}, purge(t, s, q), c)
	assertUntouched(t, s, after, c)
	if scope == store.PurgeContent {
		r := purge(t, s, store.PurgeQuery{Scope: store.PurgeMedia, Before: cutoff})
		assert.Equal(t, store.PurgeResult{}, r, "PurgeQuery: records whose content was removed hold no media for PurgeMedia to remove")
		assertUntouched(t, s, after, c)
	}
}

// Context

func testPurgeCancelled(t *testing.T, newStore purgerFactory) {
	for _, sc := range scopes {
		t.Run(sc.name, func(t *testing.T) {
			s := newStore(t)
			old := illustrated(t, s, "wamid.1", addr(tenantA, userA), 0)
			_, err := s.Purge(cancelled(t), store.PurgeQuery{Scope: sc.scope, Before: cutoff})
			require.ErrorIs(t, err, context.Canceled, "when ctx is done before the store commits, the method returns an error wrapping ctx.Err()")
			assertUntouched(t, s, old, "when ctx is done before the store commits, the method changes nothing")
		})
	}
}
