package privacytest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy"
)

// RunHolds checks the storage that newStorage returns against every
// clause of the [privacy.HoldStorage] contract, each in its own subtest on
// a fresh storage, and runs [privacy.Holds] over it.
func RunHolds(t *testing.T, newStorage func(t *testing.T) privacy.HoldStorage) {
	t.Helper()
	runGroups(t, newStorage, []group[privacy.HoldStorage]{
		{"PutHold", []clause[privacy.HoldStorage]{
			{"stores a hold that ListHolds returns field for field", testPutHold},
			{"replaces the hold of the tenant with the same ID, which keeps its place", testPutHoldReplaces},
		}},
		{"ListHolds", []clause[privacy.HoldStorage]{
			{"returns no holds for a tenant without any", testListHoldsEmpty},
			{"returns every hold, lifted and expired ones included, in the order first put", testListHoldsAll},
		}},
		{"Tenancy", []clause[privacy.HoldStorage]{
			{"keeps each tenant's holds apart, even with the same ID", testHoldsIsolation},
		}},
		{"Context", []clause[privacy.HoldStorage]{
			{"a call with a cancelled context fails and stores nothing", testHoldsCancelled},
		}},
		{"Holds", []clause[privacy.HoldStorage]{
			{"Holds over the storage place, check, lift and list holds", testHoldsEngine},
		}},
	})
}

func hold(id string, n int) privacy.Hold {
	return privacy.Hold{ID: id, Tenant: tenantA, Subject: "s1", Reason: "litigio 2026-114", PlacedBy: "officer:luz",
		Placed: at(n), Expires: at(n + 60*24*90)}
}

func normHolds(hs []privacy.Hold) []privacy.Hold {
	out := make([]privacy.Hold, len(hs))
	for i, h := range hs {
		h.Placed, h.Expires, h.Lifted = utc(h.Placed), utc(h.Expires), utc(h.Lifted)
		out[i] = h
	}
	return out
}

func testPutHold(t *testing.T, newStorage func(*testing.T) privacy.HoldStorage) {
	s := newStorage(t)
	h := hold("hold_1", 1)
	require.NoError(t, s.PutHold(t.Context(), h))
	whole := privacy.Hold{ID: "hold_2", Tenant: tenantA, Reason: "orden judicial", PlacedBy: "admin:root", Placed: at(2)}
	require.NoError(t, s.PutHold(t.Context(), whole))
	got, err := s.ListHolds(t.Context(), tenantA)
	require.NoError(t, err)
	assert.Equal(t, []privacy.Hold{h, whole}, normHolds(got),
		"PutHold stores h, and ListHolds returns it field for field: a hold of the whole tenant has no subject, one without expiry a zero Expires")
}

func testPutHoldReplaces(t *testing.T, newStorage func(*testing.T) privacy.HoldStorage) {
	s := newStorage(t)
	a, b, c := hold("hold_a", 1), hold("hold_b", 2), hold("hold_c", 3)
	for _, h := range []privacy.Hold{a, b, c} {
		require.NoError(t, s.PutHold(t.Context(), h))
	}
	lifted := b
	lifted.Lifted, lifted.LiftedBy = at(10), "officer:luz"
	require.NoError(t, s.PutHold(t.Context(), lifted))
	got, err := s.ListHolds(t.Context(), tenantA)
	require.NoError(t, err)
	assert.Equal(t, []privacy.Hold{a, lifted, c}, normHolds(got),
		"PutHold replaces the hold of h.Tenant with h.ID, which ListHolds still returns in the order it was first put")
}

func testListHoldsEmpty(t *testing.T, newStorage func(*testing.T) privacy.HoldStorage) {
	s := newStorage(t)
	got, err := s.ListHolds(t.Context(), tenantA)
	require.NoError(t, err)
	assert.Empty(t, got, "ListHolds returns no holds for a tenant without any")
}

func testListHoldsAll(t *testing.T, newStorage func(*testing.T) privacy.HoldStorage) {
	s := newStorage(t)
	active := hold("hold_active", 1)
	expired := hold("hold_expired", 2)
	expired.Expires = at(3)
	lifted := hold("hold_lifted", 3)
	lifted.Lifted, lifted.LiftedBy = at(4), "officer:luz"
	future := hold("hold_future", 100)
	for _, h := range []privacy.Hold{active, expired, lifted, future} {
		require.NoError(t, s.PutHold(t.Context(), h))
	}
	got, err := s.ListHolds(t.Context(), tenantA)
	require.NoError(t, err)
	require.Equal(t, []privacy.Hold{active, expired, lifted, future}, normHolds(got),
		"ListHolds returns every hold of tenant, lifted and expired ones included, in the order they were first put")
	now := at(50)
	var live []string
	for _, h := range got {
		if h.Active(now) {
			live = append(live, h.ID)
		}
	}
	assert.Equal(t, []string{"hold_active"}, live, "the holds come back with the times that decide whether they hold")
}

func testHoldsIsolation(t *testing.T, newStorage func(*testing.T) privacy.HoldStorage) {
	s := newStorage(t)
	a := hold("hold_1", 1)
	b := hold("hold_1", 2)
	b.Tenant, b.Reason = tenantB, "otra causa"
	require.NoError(t, s.PutHold(t.Context(), a))
	require.NoError(t, s.PutHold(t.Context(), b))
	got, err := s.ListHolds(t.Context(), tenantA)
	require.NoError(t, err)
	assert.Equal(t, []privacy.Hold{a}, normHolds(got), "PutHold replaces only the hold of h.Tenant with h.ID: another tenant's hold with that ID is its own")
	got, err = s.ListHolds(t.Context(), tenantB)
	require.NoError(t, err)
	assert.Equal(t, []privacy.Hold{b}, normHolds(got), "ListHolds returns only the tenant's holds")
}

func testHoldsCancelled(t *testing.T, newStorage func(*testing.T) privacy.HoldStorage) {
	s := newStorage(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.PutHold(ctx, hold("hold_1", 1))
	assert.ErrorIs(t, err, context.Canceled, "PutHold with a cancelled context returns an error wrapping the context's")
	_, err = s.ListHolds(ctx, tenantA)
	assert.Error(t, err, "ListHolds with a cancelled context fails")
	got, err := s.ListHolds(t.Context(), tenantA)
	require.NoError(t, err)
	assert.Empty(t, got, "PutHold with a cancelled context stores nothing")
}

func testHoldsEngine(t *testing.T, newStorage func(*testing.T) privacy.HoldStorage) {
	s := newStorage(t)
	now := at(0)
	hs, err := privacy.NewHolds(s, &privacy.HoldsOptions{Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := t.Context()
	h, err := hs.Place(ctx, privacy.Hold{Tenant: tenantA, Subject: "s1", Reason: "litigio 2026-114", PlacedBy: "officer:luz"})
	require.NoError(t, err)
	require.ErrorIs(t, hs.Check(ctx, tenantA, "s1"), privacy.ErrLegalHold, "a hold placed through the storage holds the subject")
	require.NoError(t, hs.Check(ctx, tenantA, "s2"), "a subject's hold does not hold another subject")
	require.NoError(t, hs.Check(ctx, tenantB, "s1"), "a hold of one tenant does not hold another's subject")
	now = at(5)
	_, err = hs.Lift(ctx, tenantA, h.ID, "officer:luz")
	require.NoError(t, err)
	require.NoError(t, hs.Check(ctx, tenantA, "s1"), "a hold lifted through the storage no longer holds")
	all, err := hs.List(ctx, tenantA)
	require.NoError(t, err)
	require.Len(t, all, 1, "lifting replaces the hold rather than adding one")
	assert.True(t, all[0].Lifted.Equal(at(5)), "the storage keeps when the hold was lifted")
	assert.Equal(t, "officer:luz", all[0].LiftedBy)
}
