package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// ListerStore is a store with the [store.ConversationLister] capability.
type ListerStore interface {
	store.ConversationStore
	store.ConversationLister
}

// RunLister checks the store that newStore returns against every clause of
// the [store.ConversationLister] contract, each in its own subtest on a
// fresh store from newStore, as [Run] does.
func RunLister(t *testing.T, newStore func(t *testing.T) ListerStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[ListerStore]{
		{"Conversations", []capClause[ListerStore]{
			{"lists the tenant's conversations only", testListTenant},
			{"lists every tenant's with AllTenants", testListAllTenants},
			{"orders by last activity latest first", testListOrder},
			{"filters by owner", testListOwner},
			{"filters by operator and unclaimed", testListOperator},
			{"filters by idle time", testListIdle},
			{"returns at most Limit and DefaultConversationLimit by default", testListLimit},
			{"pages with cursors returning each conversation once", testListPages},
			{"rejects invalid queries", testListInvalid},
			{"returns the conversations as Conversation does", testListSame},
		}},
		{"Context", []capClause[ListerStore]{
			{"a cancelled call fails", testListCancelled},
		}},
	})
}

type listerFactory = func(t *testing.T) ListerStore

// later returns the n-th second of a base time after any time the store
// assigns itself (CreatedAt), so that the activity the suite sets decides
// the order: UTC, whole seconds.
func later(n int) time.Time {
	return time.Now().UTC().Truncate(time.Hour).Add(48*time.Hour + time.Duration(n)*time.Second)
}

// handed opens the conversation of user in tenant and sets its handoff,
// with Since the suite's n-th later second.
func handed(t *testing.T, s store.ConversationStore, tenant channel.TenantID, user channel.UserID, owner store.Owner, operator string, n int) store.Conversation {
	t.Helper()
	c, err := s.OpenConversation(t.Context(), addr(tenant, user))
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	c, err = s.SetHandoff(t.Context(), tenant, c.ID, store.Handoff{Owner: owner, Operator: operator, Reason: "operator_claim", Since: later(n)})
	require.NoError(t, err, "SetHandoff: replaces who owns the conversation")
	return c
}

func list(t *testing.T, s store.ConversationLister, q store.ConversationQuery) []store.Conversation {
	t.Helper()
	cs, err := s.Conversations(t.Context(), q)
	require.NoError(t, err, "Conversations: lists the conversations matching a valid query")
	return cs
}

func convIDs(cs []store.Conversation) []store.ConversationID {
	out := make([]store.ConversationID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testListTenant(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	a := handed(t, s, tenantA, userA, store.OwnerHuman, "", 1)
	handed(t, s, tenantB, userA, store.OwnerHuman, "", 2)
	b := handed(t, s, tenantA, userB, store.OwnerAI, "", 3)
	got := list(t, s, store.ConversationQuery{Tenant: tenantA})
	assert.Equal(t, []store.ConversationID{b.ID, a.ID}, convIDs(got), "Conversations: never returns a conversation of another tenant than q.Tenant")
	assert.Empty(t, list(t, s, store.ConversationQuery{Tenant: "nobody"}), "Conversations: a tenant without conversations lists none")
}

func testListAllTenants(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	a := handed(t, s, tenantA, userA, store.OwnerHuman, "", 1)
	b := handed(t, s, tenantB, userA, store.OwnerHuman, "", 2)
	got := list(t, s, store.ConversationQuery{AllTenants: true})
	assert.Equal(t, []store.ConversationID{b.ID, a.ID}, convIDs(got), "Conversations: AllTenants lists the conversations of every tenant")
}

func testListOrder(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	c1 := handed(t, s, tenantA, userA, store.OwnerAI, "", 10)
	c2 := handed(t, s, tenantA, userB, store.OwnerAI, "", 20)
	c3 := handed(t, s, tenantA, userC, store.OwnerAI, "", 30)
	const c = "Conversations: most recent activity first (the latest of CreatedAt, LastInboundAt and Handoff.Since)"
	assert.Equal(t, []store.ConversationID{c3.ID, c2.ID, c1.ID}, convIDs(list(t, s, store.ConversationQuery{Tenant: tenantA})), c+" (Handoff.Since)")

	// The customer of c1 writes: c1 comes first.
	m := text("wamid.list.1", addr(tenantA, userA), "hola", 0)
	m.Time = later(40)
	receive(t, s, m)
	got := list(t, s, store.ConversationQuery{Tenant: tenantA})
	assert.Equal(t, []store.ConversationID{c1.ID, c3.ID, c2.ID}, convIDs(got), c+" (LastInboundAt)")
	require.Len(t, got, 3)
	assert.True(t, got[0].LastActivity().Equal(later(40)), "Conversation.LastActivity: the customer's latest message")
}

func testListOwner(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	ai := handed(t, s, tenantA, userA, store.OwnerAI, "", 1)
	human := handed(t, s, tenantA, userB, store.OwnerHuman, "", 2)
	claimed := handed(t, s, tenantA, userC, store.OwnerHuman, "ana", 3)
	for _, tt := range []struct {
		owner store.OwnerFilter
		want  []store.ConversationID
	}{
		{store.AnyOwner, []store.ConversationID{claimed.ID, human.ID, ai.ID}},
		{store.OwnedByAI, []store.ConversationID{ai.ID}},
		{store.OwnedByHuman, []store.ConversationID{claimed.ID, human.ID}},
	} {
		got := list(t, s, store.ConversationQuery{Tenant: tenantA, Owner: tt.owner})
		assert.Equal(t, tt.want, convIDs(got), "Conversations: Owner filters by Handoff.Owner (filter %d)", tt.owner)
	}
}

func testListOperator(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	waiting := handed(t, s, tenantA, userA, store.OwnerHuman, "", 1)
	ana := handed(t, s, tenantA, userB, store.OwnerHuman, "ana", 2)
	handed(t, s, tenantA, userC, store.OwnerHuman, "luis", 3)
	handed(t, s, tenantB, userA, store.OwnerHuman, "ana", 4)
	assert.Equal(t, []store.ConversationID{ana.ID}, convIDs(list(t, s, store.ConversationQuery{Tenant: tenantA, Operator: "ana"})),
		"Conversations: Operator matches the conversations whose Handoff.Operator is Operator")
	assert.Equal(t, []store.ConversationID{waiting.ID}, convIDs(list(t, s, store.ConversationQuery{Tenant: tenantA, Owner: store.OwnedByHuman, Unclaimed: true})),
		"Conversations: Unclaimed matches the conversations without an operator")
}

func testListIdle(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	old := handed(t, s, tenantA, userA, store.OwnerHuman, "ana", 10)
	handed(t, s, tenantA, userB, store.OwnerHuman, "ana", 20)
	edge := handed(t, s, tenantB, userA, store.OwnerHuman, "", 15)
	const c = "Conversations: IdleBefore matches the conversations whose last activity is before it"
	assert.Equal(t, []store.ConversationID{old.ID}, convIDs(list(t, s, store.ConversationQuery{Tenant: tenantA, IdleBefore: later(15)})), c)
	assert.Equal(t, []store.ConversationID{old.ID}, convIDs(list(t, s, store.ConversationQuery{AllTenants: true, Owner: store.OwnedByHuman, IdleBefore: later(15)})),
		c+" (strictly before: activity at IdleBefore is not idle)")
	assert.Equal(t, []store.ConversationID{edge.ID, old.ID}, convIDs(list(t, s, store.ConversationQuery{AllTenants: true, IdleBefore: later(16)})), c)

	// A customer message is activity.
	m := text("wamid.idle.1", addr(tenantA, userA), "¿hay alguien?", 0)
	m.Time = later(30)
	receive(t, s, m)
	assert.Empty(t, list(t, s, store.ConversationQuery{Tenant: tenantA, IdleBefore: later(15)}), c+" (a customer's message is activity)")
}

func testListLimit(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	var all []store.ConversationID
	for i := range store.DefaultConversationLimit + 3 {
		c := handed(t, s, tenantA, channel.UserID(fmt.Sprintf("5190001%04d", i)), store.OwnerHuman, "", i)
		all = append([]store.ConversationID{c.ID}, all...)
	}
	got := list(t, s, store.ConversationQuery{Tenant: tenantA, Limit: 2})
	assert.Equal(t, all[:2], convIDs(got), "Conversations: returns at most q.Limit, the first in order")
	got = list(t, s, store.ConversationQuery{Tenant: tenantA})
	assert.Equal(t, all[:store.DefaultConversationLimit], convIDs(got), "Conversations: a zero Limit returns at most DefaultConversationLimit")
}

func testListPages(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	// Seven conversations, three of them with the same activity.
	want := map[store.ConversationID]bool{}
	for i, n := range []int{5, 3, 3, 3, 9, 1, 7} {
		c := handed(t, s, tenantA, channel.UserID(fmt.Sprintf("5190002%04d", i)), store.OwnerHuman, "", n)
		want[c.ID] = true
	}
	handed(t, s, tenantB, userA, store.OwnerHuman, "", 4)
	whole := list(t, s, store.ConversationQuery{Tenant: tenantA})
	require.Len(t, whole, len(want), "Conversations: lists every matching conversation")

	const c = "Conversations: paging with the cursor of each page's last conversation returns every conversation once, in the listing's order"
	var paged []store.Conversation
	q := store.ConversationQuery{Tenant: tenantA, Limit: 2}
	for range 10 {
		page := list(t, s, q)
		paged = append(paged, page...)
		if len(page) < q.Limit {
			break
		}
		q.After = page[len(page)-1].Cursor()
	}
	assert.Equal(t, convIDs(whole), convIDs(paged), c)
	seen := map[store.ConversationID]bool{}
	for _, cv := range paged {
		assert.False(t, seen[cv.ID], c+" (no conversation twice)")
		seen[cv.ID] = true
	}
	assert.Equal(t, want, seen, c)
	for i := 1; i < len(paged); i++ {
		assert.False(t, paged[i].LastActivity().After(paged[i-1].LastActivity()), "Conversations: most recent activity first")
	}
	// The same query pages the same way again: ties keep their order.
	again := list(t, s, store.ConversationQuery{Tenant: tenantA})
	assert.Equal(t, convIDs(whole), convIDs(again), "Conversations: ties are broken in an order the store keeps")
}

func testListInvalid(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	handed(t, s, tenantA, userA, store.OwnerHuman, "", 1)
	for name, q := range map[string]store.ConversationQuery{
		"no tenant":                 {},
		"tenant and AllTenants":     {Tenant: tenantA, AllTenants: true},
		"unknown owner":             {Tenant: tenantA, Owner: 7},
		"operator and unclaimed":    {Tenant: tenantA, Operator: "ana", Unclaimed: true},
		"negative limit":            {Tenant: tenantA, Limit: -1},
		"cursor with a time, no id": {Tenant: tenantA, After: store.ConversationCursor{Activity: later(1)}},
	} {
		_, err := s.Conversations(t.Context(), q)
		assert.ErrorIs(t, err, store.ErrInvalid, "Conversations: a query that fails ConversationQuery.Check is ErrInvalid (%s)", name)
	}
}

func testListSame(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	m := quoting("wamid.same.1", addr(tenantA, userA), 0)
	m.Time = later(5)
	a := receive(t, s, m)
	_, err := s.SetHandoff(t.Context(), tenantA, a.Conversation.ID, store.Handoff{Owner: store.OwnerHuman, Operator: "ana", Reason: "tool", Since: later(3)})
	require.NoError(t, err, "SetHandoff: replaces who owns the conversation")
	want, err := s.Conversation(t.Context(), tenantA, a.Conversation.ID)
	require.NoError(t, err, "Conversation: returns the conversation with the given id")
	got := list(t, s, store.ConversationQuery{Tenant: tenantA})
	require.Len(t, got, 1, "Conversations: lists the tenant's conversation")
	assert.Equal(t, normConversation(want), normConversation(got[0]), "Conversations: returns each conversation field for field as Conversation does")
}

func testListCancelled(t *testing.T, newStore listerFactory) {
	s := newStore(t)
	handed(t, s, tenantA, userA, store.OwnerHuman, "", 1)
	_, err := s.Conversations(cancelled(t), store.ConversationQuery{Tenant: tenantA})
	assert.ErrorIs(t, err, context.Canceled, "Conversations: when ctx is done the call fails with an error wrapping ctx.Err()")
}
