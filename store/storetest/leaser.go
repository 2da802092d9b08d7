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

// LeaserStore is a store with the [store.Leaser] capability.
type LeaserStore interface {
	store.ConversationStore
	store.Leaser
}

// RunLeaser checks the store that newStore returns against every clause of
// the [store.Leaser] contract, each in its own subtest on a fresh store from
// newStore, as [Run] does.
//
// The store keeps time with its own clock, the wall clock or a database
// server's, which must not be more than a minute off the test's. The suite
// never sleeps: the clauses about expiry lease for 20ms and call the store
// until the lease has expired, for up to 10s; the others lease for an hour.
func RunLeaser(t *testing.T, newStore func(t *testing.T) LeaserStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[LeaserStore]{
		{"Lease", []capClause[LeaserStore]{
			{"grants a free conversation exclusively until it expires", testLeaseExclusive},
			{"the holder renews its lease until now plus d", testLeaseRenew},
			{"grants a conversation whose lease expired", testLeaseExpired},
			{"reports a conversation not of the tenant as not found", testLeaseNotFound},
		}},
		{"Release", []capClause[LeaserStore]{
			{"ends the holder's lease", testRelease},
			{"changes nothing for an owner that does not hold the lease", testReleaseNotHeld},
		}},
		{"LeasePending", []capClause[LeaserStore]{
			{"leases conversations with pending records oldest first", testLeasePending},
			{"leases at most limit conversations", testLeasePendingLimit},
			{"skips conversations leased by others until their lease expires", testLeasePendingSkips},
			{"gives racing owners disjoint sets", testLeasePendingRacing},
		}},
		{"Context", []capClause[LeaserStore]{
			{"a cancelled call fails and changes nothing", testLeaseCancelled},
		}},
	})
}

// shortLease is how long the clauses about expiry lease a conversation
// for, and expiryWait how long they wait at most for such a lease to
// expire; longLease is longer than any clause runs.
const (
	shortLease = 20 * time.Millisecond
	expiryWait = 10 * time.Second
	longLease  = time.Hour
)

type leaserFactory = func(t *testing.T) LeaserStore

func lease(t *testing.T, s LeaserStore, conv store.Conversation, owner string, d time.Duration) bool {
	t.Helper()
	ok, err := s.Lease(t.Context(), conv.Address.Tenant, conv.ID, owner, d)
	require.NoError(t, err, "Lease: leases a conversation of the tenant")
	return ok
}

// eventuallyLeased polls Lease for owner until it succeeds.
func eventuallyLeased(t *testing.T, s LeaserStore, conv store.Conversation, owner string, clause string) {
	t.Helper()
	require.Eventually(t, func() bool {
		ok, err := s.Lease(t.Context(), conv.Address.Tenant, conv.ID, owner, longLease)
		return assert.NoError(t, err, "Lease: leases a conversation of the tenant") && ok
	}, expiryWait, 2*time.Millisecond, clause)
}

func leasePending(t *testing.T, s LeaserStore, owner string, d time.Duration, limit int) []store.Lease {
	t.Helper()
	ls, err := s.LeasePending(t.Context(), owner, d, limit)
	require.NoError(t, err, "LeasePending: leases conversations with pending records")
	return ls
}

func leased(ls []store.Lease) []store.ConversationID {
	out := make([]store.ConversationID, len(ls))
	for i, l := range ls {
		out[i] = l.Conversation
	}
	return out
}

func opened(t *testing.T, s store.ConversationStore, at channel.Address) store.Conversation {
	t.Helper()
	c, err := s.OpenConversation(t.Context(), at)
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	return c
}

// Lease

func testLeaseExclusive(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	conv := opened(t, s, addr(tenantA, userA))
	other := opened(t, s, addr(tenantA, userB))
	require.True(t, lease(t, s, conv, "worker-a", longLease), "Lease: grants owner a conversation nobody holds, and reports that owner holds it")
	const c = "Lease: grants owner the conversation unless another owner holds a lease that has not expired"
	assert.False(t, lease(t, s, conv, "worker-b", longLease), c)
	assert.False(t, lease(t, s, conv, "worker-b", shortLease), c)
	assert.True(t, lease(t, s, other, "worker-b", longLease), c+" (a lease holds one conversation)")
	assert.True(t, lease(t, s, conv, "worker-a", longLease), "Lease: the holder renews the lease by calling again")
	assert.False(t, lease(t, s, conv, "worker-b", longLease), c+" (after a renewal)")
}

func testLeaseRenew(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	conv := opened(t, s, addr(tenantA, userA))
	require.True(t, lease(t, s, conv, "worker-a", longLease), "Lease: grants owner a conversation nobody holds")
	require.True(t, lease(t, s, conv, "worker-a", shortLease), "Lease: the holder renews the lease by calling again")
	eventuallyLeased(t, s, conv, "worker-b", "Lease: a renewal grants the holder the conversation until now plus d, also when that is sooner than before")
	assert.False(t, lease(t, s, conv, "worker-a", longLease), "Lease: grants owner the conversation unless another owner holds a lease that has not expired")
}

func testLeaseExpired(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	conv := opened(t, s, addr(tenantA, userA))
	require.True(t, lease(t, s, conv, "worker-a", shortLease), "Lease: grants owner a conversation nobody holds")
	eventuallyLeased(t, s, conv, "worker-b", "Lease: grants the conversation once the other owner's lease has expired")
	assert.False(t, lease(t, s, conv, "worker-a", longLease), "Lease: the former holder whose lease expired does not hold it any more")
}

func testLeaseNotFound(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	conv := opened(t, s, addr(tenantA, userA))
	tests := []struct {
		name   string
		tenant channel.TenantID
		conv   store.ConversationID
	}{
		{"conversation of another tenant", tenantB, conv.ID},
		{"unknown conversation", tenantA, "no-such-conversation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := s.Lease(t.Context(), tt.tenant, tt.conv, "worker-b", longLease)
			require.ErrorIs(t, err, store.ErrNotFound, "Lease: scoped by tenant: a conversation that is not the tenant's is ErrNotFound")
			assert.False(t, ok, "Lease: reports whether owner holds the lease afterwards")
		})
	}
	assert.True(t, lease(t, s, conv, "worker-a", longLease), "Lease: a failed call changes nothing")
}

// Release

func testRelease(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	conv := opened(t, s, addr(tenantA, userA))
	require.True(t, lease(t, s, conv, "worker-a", longLease), "Lease: grants owner a conversation nobody holds")
	err := s.Release(t.Context(), tenantA, conv.ID, "worker-a")
	require.NoError(t, err, "Release: ends owner's lease on the conversation early")
	assert.True(t, lease(t, s, conv, "worker-b", longLease), "Release: ends owner's lease early: another owner may lease the conversation")
}

func testReleaseNotHeld(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	conv := opened(t, s, addr(tenantA, userA))
	free := opened(t, s, addr(tenantA, userB))
	require.True(t, lease(t, s, conv, "worker-a", longLease), "Lease: grants owner a conversation nobody holds")
	const c = "Release: releasing a lease one does not hold changes nothing"
	require.NoError(t, s.Release(t.Context(), tenantA, conv.ID, "worker-b"), c)
	require.NoError(t, s.Release(t.Context(), tenantA, free.ID, "worker-b"), c+" (a conversation nobody holds)")
	if err := s.Release(t.Context(), tenantB, conv.ID, "worker-a"); err != nil {
		require.ErrorIs(t, err, store.ErrNotFound, c+" (a conversation of another tenant: nil or ErrNotFound)")
	}
	assert.False(t, lease(t, s, conv, "worker-b", longLease), c+" (the holder keeps its lease)")
	assert.True(t, lease(t, s, free, "worker-c", longLease), c+" (a free conversation stays free)")
}

// LeasePending

// pendingConversations records, in this order: m1 answered in conv x, m2
// pending in conv y, m3 pending in conv z of tenant B, m4 pending in conv x,
// and m5 answered in conv w. Conversations with pending records, oldest
// pending record first: y, z, x.
func pendingConversations(t *testing.T, s store.ConversationStore) (x, y, z, w store.Conversation) {
	t.Helper()
	done := func(a store.Appended) {
		err := s.SetProcessing(t.Context(), a.Message.Tenant, a.Message.ID, store.Processing{State: store.ProcessDone})
		require.NoError(t, err, "SetProcessing: replaces the processing state of an inbound record")
	}
	a1 := receive(t, s, text("wamid.1", addr(tenantA, userA), "hola", 0))
	done(a1)
	a2 := receive(t, s, text("wamid.2", addr(tenantA, userB), "hola", 1))
	a3 := receive(t, s, text("wamid.3", addr(tenantB, userA), "hola", 2))
	receive(t, s, text("wamid.4", addr(tenantA, userA), "¿hay talla M?", 3))
	a5 := receive(t, s, text("wamid.5", addr(tenantA, userC), "gracias", 4))
	done(a5)
	return a1.Conversation, a2.Conversation, a3.Conversation, a5.Conversation
}

func testLeasePending(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	x, y, z, w := pendingConversations(t, s)
	before := time.Now()
	ls := leasePending(t, s, "worker-a", longLease, 10)
	after := time.Now()
	const c = "LeasePending: leases to owner the conversations that have pending inbound records, those with the oldest pending record first, and returns them"
	assert.Equal(t, []store.ConversationID{y.ID, z.ID, x.ID}, leased(ls), c)
	for i, conv := range []store.Conversation{y, z, x} {
		if i >= len(ls) {
			break
		}
		l := ls[i]
		assert.Equal(t, conv.Address.Tenant, l.Tenant, c+" (Lease.Tenant)")
		assert.Equal(t, "worker-a", l.Owner, c+" (Lease.Owner)")
		assert.WithinRange(t, l.Until, before.Add(longLease-time.Minute), after.Add(longLease+time.Minute), "LeasePending: leases for d (Lease.Until is now plus d)")
		assert.False(t, lease(t, s, conv, "worker-b", longLease), c+" (the conversations returned are leased to owner)")
	}
	assert.True(t, lease(t, s, w, "worker-b", longLease), "LeasePending: a conversation without pending records is not leased")
}

func testLeasePendingLimit(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	x, y, z, _ := pendingConversations(t, s)
	const c = "LeasePending: leases up to limit conversations, those with the oldest pending record first"
	assert.Equal(t, []store.ConversationID{y.ID, z.ID}, leased(leasePending(t, s, "worker-a", longLease, 2)), c)
	assert.Equal(t, []store.ConversationID{y.ID}, leased(leasePending(t, s, "worker-a", longLease, 1)), c+" (owner's own leases are leased again)")
	assert.Equal(t, []store.ConversationID{x.ID}, leased(leasePending(t, s, "worker-b", longLease, 2)), c+" (conversations leased to another owner are skipped)")
	assert.Empty(t, leasePending(t, s, "worker-c", longLease, 2), c+" (nothing is left)")
}

func testLeasePendingSkips(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	x, y, z, _ := pendingConversations(t, s)
	require.True(t, lease(t, s, y, "worker-b", longLease), "Lease: grants owner a conversation nobody holds")
	require.True(t, lease(t, s, x, "worker-b", shortLease), "Lease: grants owner a conversation nobody holds")
	const c = "LeasePending: leases conversations that have no unexpired lease of another owner"
	first := leasePending(t, s, "worker-a", longLease, 10)
	assert.NotContains(t, leased(first), y.ID, c)
	assert.Contains(t, leased(first), z.ID, c)
	require.Eventually(t, func() bool {
		ls, err := s.LeasePending(t.Context(), "worker-a", longLease, 10)
		return assert.NoError(t, err, "LeasePending: leases conversations with pending records") &&
			assert.ObjectsAreEqual([]store.ConversationID{z.ID, x.ID}, leased(ls))
	}, expiryWait, 2*time.Millisecond, c+" (a conversation whose lease expired is leased again)")
	assert.False(t, lease(t, s, x, "worker-b", longLease), c+" (the former holder lost it)")
}

func testLeasePendingRacing(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	const convs, owners, limit = 20, 8, 3
	want := map[store.ConversationID]bool{}
	for i := range convs {
		a := receive(t, s, text(fmt.Sprintf("wamid.%d", i), addr(tenantA, channel.UserID(fmt.Sprintf("5190000%04d", i))), "hola", i))
		want[a.Conversation.ID] = true
	}
	got := make([][]store.Lease, owners)
	errs := make([]error, owners)
	racing(owners, func(i int) {
		got[i], errs[i] = s.LeasePending(t.Context(), fmt.Sprintf("worker-%d", i), longLease, limit)
	})
	const c = "LeasePending: calls racing from several instances get disjoint sets"
	seen := map[store.ConversationID]string{}
	for i := range owners {
		require.NoError(t, errs[i], c)
		assert.LessOrEqual(t, len(got[i]), limit, "LeasePending: leases up to limit conversations")
		for _, l := range got[i] {
			owner := fmt.Sprintf("worker-%d", i)
			assert.Equal(t, owner, l.Owner, c)
			if prev, dup := seen[l.Conversation]; dup {
				assert.Failf(t, c, "conversation %s leased to %s and %s", l.Conversation, prev, owner)
			}
			seen[l.Conversation] = owner
		}
	}
	assert.Len(t, seen, convs, "LeasePending: the racing calls together lease every conversation with pending records, when their limits add up to enough")
	for id := range seen {
		assert.True(t, want[id], c)
	}
}

// Context

func testLeaseCancelled(t *testing.T, newStore leaserFactory) {
	s := newStore(t)
	x, y, _, _ := pendingConversations(t, s)
	require.True(t, lease(t, s, x, "worker-a", longLease), "Lease: grants owner a conversation nobody holds")
	const ce = "when ctx is done before the store commits, the method returns an error wrapping ctx.Err()"
	const cn = "when ctx is done before the store commits, the method changes nothing"

	_, err := s.Lease(cancelled(t), tenantA, y.ID, "worker-b", longLease)
	require.ErrorIs(t, err, context.Canceled, ce+" (Lease)")
	err = s.Release(cancelled(t), tenantA, x.ID, "worker-a")
	require.ErrorIs(t, err, context.Canceled, ce+" (Release)")
	_, err = s.LeasePending(cancelled(t), "worker-b", longLease, 10)
	require.ErrorIs(t, err, context.Canceled, ce+" (LeasePending)")

	assert.False(t, lease(t, s, x, "worker-c", longLease), cn+" (Release)")
	assert.True(t, lease(t, s, y, "worker-c", longLease), cn+" (Lease, LeasePending)")
}
