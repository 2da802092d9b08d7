package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/store"
)

// ProcessingBatcherStore is a store with the [store.ProcessingBatcher]
// capability.
type ProcessingBatcherStore interface {
	store.ConversationStore
	store.ProcessingBatcher
}

// RunProcessingBatcher checks the store that newStore returns against
// every clause of the [store.ProcessingBatcher] contract, each in its own
// subtest on a fresh store from newStore, as [Run] does.
func RunProcessingBatcher(t *testing.T, newStore func(t *testing.T) ProcessingBatcherStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[ProcessingBatcherStore]{
		{"SetProcessingBatch", []capClause[ProcessingBatcherStore]{
			{"applies every update, in order, and nothing else", testBatchApplies},
			{"passes by unknown and other tenants' records and returns them", testBatchMissing},
			{"a record that is not inbound is ErrInvalid and nothing changes", testBatchInvalid},
			{"an empty batch changes nothing", testBatchEmpty},
			{"a cancelled call fails and changes nothing", testBatchCancelled},
		}},
	})
}

func testBatchApplies(t *testing.T, newStore func(t *testing.T) ProcessingBatcherStore) {
	s := newStore(t)
	m1, m2, m3, _ := pendingFixture(t, s)
	done := store.Processing{State: store.ProcessDone, Attempts: 1, UpdatedAt: at(20)}
	again := store.Processing{State: store.ProcessPending, Attempts: 2, Reason: "model_unavailable", UpdatedAt: at(21)}
	missing, err := s.SetProcessingBatch(t.Context(), tenantA, []store.ProcessingUpdate{
		{ID: m1.Message.ID, Processing: done},
		{ID: m2.Message.ID, Processing: done},
		{ID: m2.Message.ID, Processing: again},
	})
	require.NoError(t, err, "SetProcessingBatch: applies the updates of inbound records")
	assert.Empty(t, missing, "SetProcessingBatch: no record is missing")
	const c = "SetProcessingBatch: replaces the processing state of each record, the later update of a record last, and nothing else"
	for _, w := range []struct {
		m store.Message
		p store.Processing
	}{{m1.Message, done}, {m2.Message, again}, {m3.Message, m3.Message.Processing}} {
		want := w.m
		want.Processing = w.p
		assert.Equal(t, normMessage(want), normMessage(message(t, s, w.m.Tenant, w.m.ID)), c)
	}
	var ids []store.MessageID
	for _, m := range pending(t, s, store.PendingQuery{Tenant: tenantA}) {
		ids = append(ids, m.ID)
	}
	assert.NotContains(t, ids, m1.Message.ID, "SetProcessingBatch: a record done is no longer pending")
	assert.Contains(t, ids, m2.Message.ID, "SetProcessingBatch: a record set pending is pending")
}

func testBatchMissing(t *testing.T, newStore func(t *testing.T) ProcessingBatcherStore) {
	s := newStore(t)
	m1, _, _, m4 := pendingFixture(t, s)
	require.NotEqual(t, tenantA, m4.Message.Tenant, "the fixture's fourth message is of another tenant")
	done := store.Processing{State: store.ProcessDone, Attempts: 1, UpdatedAt: at(20)}
	unknown := m1.Message.ID + 1000
	missing, err := s.SetProcessingBatch(t.Context(), tenantA, []store.ProcessingUpdate{
		{ID: unknown, Processing: done},
		{ID: m1.Message.ID, Processing: done},
		{ID: m4.Message.ID, Processing: done},
	})
	require.NoError(t, err, "SetProcessingBatch: a missing record is no error")
	assert.Equal(t, []store.MessageID{unknown, m4.Message.ID}, missing, "SetProcessingBatch: returns the missing records in the order given")
	assert.Equal(t, store.ProcessDone, message(t, s, tenantA, m1.Message.ID).Processing.State, "SetProcessingBatch: the records found are updated")
	assert.Equal(t, normMessage(m4.Message), normMessage(message(t, s, m4.Message.Tenant, m4.Message.ID)),
		"SetProcessingBatch: another tenant's record is not touched")
}

func testBatchInvalid(t *testing.T, newStore func(t *testing.T) ProcessingBatcherStore) {
	s := newStore(t)
	m1, m2, _, _ := pendingFixture(t, s)
	r := reply(t, s, m1.Message, "hola")
	done := store.Processing{State: store.ProcessDone, Attempts: 1, UpdatedAt: at(20)}
	_, err := s.SetProcessingBatch(t.Context(), tenantA, []store.ProcessingUpdate{
		{ID: m1.Message.ID, Processing: done}, {ID: r.ID, Processing: done}, {ID: m2.Message.ID, Processing: done},
	})
	require.ErrorIs(t, err, store.ErrInvalid, "SetProcessingBatch: a record that is not inbound is ErrInvalid")
	const c = "SetProcessingBatch: after ErrInvalid nothing changed"
	assert.Equal(t, normMessage(m1.Message), normMessage(message(t, s, tenantA, m1.Message.ID)), c)
	assert.Equal(t, normMessage(m2.Message), normMessage(message(t, s, tenantA, m2.Message.ID)), c)
	assert.Equal(t, normMessage(r), normMessage(message(t, s, tenantA, r.ID)), c)
}

func testBatchEmpty(t *testing.T, newStore func(t *testing.T) ProcessingBatcherStore) {
	s := newStore(t)
	m1, _, _, _ := pendingFixture(t, s)
	missing, err := s.SetProcessingBatch(t.Context(), tenantA, nil)
	require.NoError(t, err, "SetProcessingBatch: an empty batch is no error")
	assert.Empty(t, missing)
	assert.Equal(t, normMessage(m1.Message), normMessage(message(t, s, tenantA, m1.Message.ID)), "SetProcessingBatch: an empty batch changes nothing")
}

func testBatchCancelled(t *testing.T, newStore func(t *testing.T) ProcessingBatcherStore) {
	s := newStore(t)
	m1, _, _, _ := pendingFixture(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.SetProcessingBatch(ctx, tenantA, []store.ProcessingUpdate{{ID: m1.Message.ID, Processing: store.Processing{State: store.ProcessDone}}})
	require.ErrorIs(t, err, context.Canceled, "SetProcessingBatch: a cancelled call returns the context's error")
	assert.Equal(t, normMessage(m1.Message), normMessage(message(t, s, tenantA, m1.Message.ID)), "SetProcessingBatch: a cancelled call changes nothing")
}
