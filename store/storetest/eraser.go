package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// EraserStore is a store with the [store.Eraser] capability.
type EraserStore interface {
	store.ConversationStore
	store.Eraser
}

// RunEraser checks the store that newStore returns against every clause of
// the [store.Eraser] contract, each in its own subtest on a fresh store from
// newStore, as [Run] does.
func RunEraser(t *testing.T, newStore func(t *testing.T) EraserStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[EraserStore]{
		{"Erase", []capClause[EraserStore]{
			{"deletes the subject its conversations and all their records", testErase},
			{"deletes the indexes that could find them", testEraseIndexes},
			{"counts a subject without records", testEraseEmpty},
			{"leaves other subjects and tenants untouched", testEraseOthers},
			{"erases nothing for a subject of another tenant", testEraseOtherTenant},
			{"erases nothing the second time or for an unknown subject", testEraseIdempotent},
		}},
		{"Context", []capClause[EraserStore]{
			{"a cancelled call fails and changes nothing", testEraseCancelled},
		}},
	})
}

type eraserFactory = func(t *testing.T) EraserStore

// The subject the erasure clauses erase: known by a channel user id and,
// from its profile, by a phone number.
const (
	erasedUser  channel.UserID = "bsuid-7f3a9c"
	erasedPhone channel.Phone  = "51987654321"
)

// erasable records, for the subject at from, two answered turns, a message
// still pending and an operator's message already sent, and returns the
// conversation and the records. The provider ids of the records are
// providerID(from, n) for n from 1 to 3 (inbound), "out." with the id of
// the first two (the replies), and providerID(from, 4) (the operator's).
func erasable(t *testing.T, s store.ConversationStore, from channel.Address) (store.Conversation, []store.Message) {
	t.Helper()
	m := text(providerID(from, 1), from, "quiero borrar mis datos", 0)
	m.Sender = channel.Profile{Name: "Ana Quispe", Phone: erasedPhone, Locale: "es_PE"}
	recs := handled(t, s, m, store.Message{Role: store.Assistant, Time: at(1), Outbound: &channel.Outbound{To: from, Text: "Claro, Ana."}})
	recs = append(recs, illustrated(t, s, providerID(from, 2), from, 2)...)
	op, err := s.Append(t.Context(), store.Message{Tenant: from.Tenant, Conversation: recs[0].Conversation, Role: store.Operator, Time: at(3),
		ProviderID: channel.MessageID(providerID(from, 4)), Outbound: &channel.Outbound{To: from, Text: "Soy Luis, te ayudo."}})
	require.NoError(t, err, "Append: records an operator message already sent")
	recs = append(recs, op)
	recs = append(recs, receive(t, s, text(providerID(from, 3), from, "¿listo?", 4)).Message)
	conv, err := s.Conversation(t.Context(), from.Tenant, recs[0].Conversation)
	require.NoError(t, err, "Conversation: returns the conversation with the given id")
	return conv, recs
}

// providerID returns the provider id of erasable's n-th message from
// from: the same for the same user under another tenant or channel.
func providerID(from channel.Address, n int) string {
	return fmt.Sprintf("wamid.%s.%d", from.User, n)
}

// view is what a store shows of the subject at an address.
type view struct {
	Subject      store.Subject
	Conversation store.Conversation
	History      []store.Message
	Pending      []store.Message
}

func viewOf(t *testing.T, s store.ConversationStore, at channel.Address) view {
	t.Helper()
	subj, err := s.Subject(t.Context(), at)
	require.NoError(t, err, "Subject: returns the subject whose address is addr")
	conv, err := s.OpenConversation(t.Context(), at)
	require.NoError(t, err, "OpenConversation: returns the conversation with addr")
	return view{
		Subject:      normSubject(subj),
		Conversation: normConversation(conv),
		History:      normMessages(history(t, s, at.Tenant, conv.ID, store.HistoryQuery{})),
		Pending:      normMessages(pending(t, s, store.PendingQuery{Tenant: at.Tenant, Conversation: conv.ID})),
	}
}

func erase(t *testing.T, s EraserStore, tenant channel.TenantID, subj store.SubjectID) store.Erased {
	t.Helper()
	e, err := s.Erase(t.Context(), tenant, subj)
	require.NoError(t, err, "Erase: erases a subject")
	return e
}

func testErase(t *testing.T, newStore eraserFactory) {
	s := newStore(t)
	from := addr(tenantA, erasedUser)
	conv, recs := erasable(t, s, from)

	e := erase(t, s, tenantA, conv.Subject)
	const c = "Erase: deletes the subject, its conversations and all their records"
	assert.Equal(t, store.Erased{Subjects: 1, Conversations: 1, Messages: len(recs)}, e, "Erased: counts what the erasure deleted")
	_, err := s.Subject(t.Context(), from)
	assert.ErrorIs(t, err, store.ErrNotFound, c+" (Subject at its address)")
	_, err = s.Conversation(t.Context(), tenantA, conv.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, c+" (Conversation)")
	_, err = s.History(t.Context(), tenantA, conv.ID, store.HistoryQuery{})
	assert.ErrorIs(t, err, store.ErrNotFound, c+" (History)")
	for _, m := range recs {
		_, err := s.Message(t.Context(), tenantA, m.ID)
		assert.ErrorIs(t, err, store.ErrNotFound, c+" (Message)")
	}
	assert.Empty(t, pending(t, s, store.PendingQuery{}), c+" (Pending)")
}

func testEraseIndexes(t *testing.T, newStore eraserFactory) {
	s := newStore(t)
	from := addr(tenantA, erasedUser)
	conv, recs := erasable(t, s, from)
	erase(t, s, tenantA, conv.Subject)

	const c = "Erase: deletes the indexes that could find the subject and its records (provider ids, phone numbers)"
	_, err := s.Subject(t.Context(), addr(tenantA, channel.UserID(erasedPhone)))
	assert.ErrorIs(t, err, store.ErrNotFound, c+" (Subject by phone)")
	for _, pid := range []string{"out." + providerID(from, 1), "out." + providerID(from, 2), providerID(from, 4)} {
		_, err = s.UpdateDelivery(t.Context(), tenantA, store.DeliveryUpdate{ProviderID: channel.MessageID(pid), State: channel.Read})
		assert.ErrorIs(t, err, store.ErrNotFound, c+" (UpdateDelivery by provider id)")
	}

	a, err := s.AppendInbound(t.Context(), text(providerID(from, 1), from, "hola otra vez", 10))
	require.NoError(t, err, "AppendInbound: a valid message is recorded")
	const ck = c + " (the idempotency key of an erased message is free: the same provider id is a new message)"
	assert.False(t, a.Duplicate, ck)
	for _, m := range recs {
		assert.NotEqual(t, m.ID, a.Message.ID, ck)
	}
	assert.NotEqual(t, conv.ID, a.Conversation.ID, c+" (a new conversation is created for the address)")
	assert.NotEqual(t, conv.Subject, a.Conversation.Subject, c+" (a new subject is created for the address)")
	subj, err := s.Subject(t.Context(), from)
	require.NoError(t, err, "Subject: returns the subject whose address is addr")
	assert.Equal(t, channel.Profile{}, subj.Profile, c+" (the new subject knows nothing of the erased profile)")
	_, err = s.Subject(t.Context(), addr(tenantA, channel.UserID(erasedPhone)))
	assert.ErrorIs(t, err, store.ErrNotFound, c+" (Subject by phone)")
}

func testEraseEmpty(t *testing.T, newStore eraserFactory) {
	s := newStore(t)
	conv, err := s.OpenConversation(t.Context(), addr(tenantA, userA))
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	e := erase(t, s, tenantA, conv.Subject)
	assert.Equal(t, store.Erased{Subjects: 1, Conversations: 1}, e, "Erased: counts what the erasure deleted")
	_, err = s.Conversation(t.Context(), tenantA, conv.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "Erase: deletes the subject's conversations")
}

func testEraseOthers(t *testing.T, newStore eraserFactory) {
	s := newStore(t)
	from := addr(tenantA, erasedUser)
	conv, _ := erasable(t, s, from)
	// The same user and provider ids under another tenant, and another
	// user of the tenant with the same phone.
	erasable(t, s, addr(tenantB, erasedUser))
	other := text("wamid.1", addr(tenantA, userB), "hola", 5)
	other.Sender = channel.Profile{Name: "Luis", Phone: erasedPhone}
	handled(t, s, other, store.Message{Role: store.Assistant, Time: at(6), Outbound: &channel.Outbound{To: other.From, Text: "hola"}})
	widget := channel.Address{Channel: channel.WebWidget, Tenant: tenantA, User: erasedUser}
	erasable(t, s, widget)

	kept := []channel.Address{addr(tenantB, erasedUser), addr(tenantA, userB), widget}
	before := make([]view, len(kept))
	for i, at := range kept {
		before[i] = viewOf(t, s, at)
	}
	erase(t, s, tenantA, conv.Subject)
	const c = "Erase: deletes the subject's data only; other subjects, of this tenant or another, are untouched"
	for i, at := range kept {
		assert.Equal(t, before[i], viewOf(t, s, at), c)
	}
	got, err := s.UpdateDelivery(t.Context(), tenantB, store.DeliveryUpdate{ProviderID: channel.MessageID(providerID(from, 4)), State: channel.Read})
	require.NoError(t, err, c+" (another tenant's record with the same provider id is found)")
	assert.Equal(t, channel.Read, got.Delivery.State, c)
	a, err := s.AppendInbound(t.Context(), text(providerID(from, 1), addr(tenantB, erasedUser), "hola", 10))
	require.NoError(t, err, "AppendInbound: a duplicate is not an error")
	assert.True(t, a.Duplicate, c+" (another tenant's idempotency keys stay)")
}

func testEraseOtherTenant(t *testing.T, newStore eraserFactory) {
	s := newStore(t)
	from := addr(tenantA, erasedUser)
	conv, _ := erasable(t, s, from)
	before := viewOf(t, s, from)
	e, err := s.Erase(t.Context(), tenantB, conv.Subject)
	require.NoError(t, err, "Erase: erasing an unknown subject erases nothing and returns a nil error")
	const c = "Erase: scoped by tenant: a subject of another tenant is unknown, and erasing it erases nothing"
	assert.Equal(t, store.Erased{}, e, c)
	assert.Equal(t, before, viewOf(t, s, from), c)
}

func testEraseIdempotent(t *testing.T, newStore eraserFactory) {
	s := newStore(t)
	conv, _ := erasable(t, s, addr(tenantA, erasedUser))
	kept, _ := erasable(t, s, addr(tenantA, userB))
	erase(t, s, tenantA, conv.Subject)
	before := viewOf(t, s, kept.Address)

	const c = "Erase: is idempotent: erasing an erased or unknown subject erases nothing and returns a zero Erased with a nil error"
	tests := []struct {
		name string
		subj store.SubjectID
	}{
		{"erased subject", conv.Subject},
		{"unknown subject", "no-such-subject"},
		{"empty subject", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := s.Erase(t.Context(), tenantA, tt.subj)
			require.NoError(t, err, c)
			assert.Equal(t, store.Erased{}, e, c)
			assert.Equal(t, before, viewOf(t, s, kept.Address), c)
		})
	}
}

func testEraseCancelled(t *testing.T, newStore eraserFactory) {
	s := newStore(t)
	from := addr(tenantA, erasedUser)
	conv, _ := erasable(t, s, from)
	before := viewOf(t, s, from)
	_, err := s.Erase(cancelled(t), tenantA, conv.Subject)
	require.ErrorIs(t, err, context.Canceled, "when ctx is done before the store commits, the method returns an error wrapping ctx.Err()")
	assert.Equal(t, before, viewOf(t, s, from), "when ctx is done before the store commits, the method changes nothing")
}
