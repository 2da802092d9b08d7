package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/store"
)

// TaggerStore is a store with the [store.Tagger] capability.
type TaggerStore interface {
	store.ConversationStore
	store.Tagger
}

// TaggerEraserStore is a [TaggerStore] that is also a [store.Eraser].
type TaggerEraserStore interface {
	TaggerStore
	store.Eraser
}

// RunTagger checks the store that newStore returns against every clause
// of the [store.Tagger] contract, as [Run] does.
func RunTagger(t *testing.T, newStore func(t *testing.T) TaggerStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[TaggerStore]{
		{"SetTags", []capClause[TaggerStore]{
			{"stores the tags of an inbound record and replaces them", testTagsSet},
			{"rejects invalid tags and records that are not inbound with ErrInvalid", testTagsInvalid},
			{"a record of another tenant is ErrNotFound", testTagsOtherTenant},
			{"a cancelled call fails and changes nothing", testTagsCancelled},
		}},
	})
}

// RunTaggerErasure checks that [store.Eraser.Erase] deletes the tags of
// the subject's records.
func RunTaggerErasure(t *testing.T, newStore func(t *testing.T) TaggerEraserStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[TaggerEraserStore]{
		{"Erase", []capClause[TaggerEraserStore]{
			{"deletes the tags of the subject's records", func(t *testing.T, newStore func(t *testing.T) TaggerEraserStore) {
				s := newStore(t)
				ap, err := s.AppendInbound(t.Context(), text("wamid.tag1", addr(tenantA, userA), "mi correo es ana@example.com", 0))
				require.NoError(t, err)
				require.NoError(t, s.SetTags(t.Context(), tenantA, ap.Message.ID, store.Tags{Intent: "support", Email: "ana@example.com", Source: "model"}))
				_, err = s.Erase(t.Context(), tenantA, ap.Conversation.Subject)
				require.NoError(t, err)
				_, err = s.Tags(t.Context(), tenantA, ap.Message.ID)
				assert.ErrorIs(t, err, store.ErrNotFound, "Erase deletes the tags of the subject's records")
			}},
		}},
	})
}

func testTagsSet(t *testing.T, newStore func(t *testing.T) TaggerStore) {
	s := newStore(t)
	ap, err := s.AppendInbound(t.Context(), text("wamid.tag1", addr(tenantA, userA), "¿dónde está mi pedido 4411?", 0))
	require.NoError(t, err)
	_, err = s.Tags(t.Context(), tenantA, ap.Message.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "a record without tags is ErrNotFound")
	want := store.Tags{Intent: "order_status", Sentiment: store.SentimentNeutral, OrderNumber: "4411", Product: "taza", Email: "ana@example.com", Date: "2026-11-20", Source: "model", Time: at(3)}
	require.NoError(t, s.SetTags(t.Context(), tenantA, ap.Message.ID, want))
	got, err := s.Tags(t.Context(), tenantA, ap.Message.ID)
	require.NoError(t, err)
	assert.Equal(t, want, got, "Tags returns the tags as set")
	require.NoError(t, s.SetTags(t.Context(), tenantA, ap.Message.ID, store.Tags{Intent: "complaint", Source: "rule"}))
	got, err = s.Tags(t.Context(), tenantA, ap.Message.ID)
	require.NoError(t, err)
	assert.Equal(t, "complaint", got.Intent, "SetTags replaces the tags")
	assert.Empty(t, got.OrderNumber, "SetTags replaces every field")
	assert.False(t, got.Time.IsZero(), "tags without a time are given now")
}

func testTagsInvalid(t *testing.T, newStore func(t *testing.T) TaggerStore) {
	s := newStore(t)
	ap, err := s.AppendInbound(t.Context(), text("wamid.tag1", addr(tenantA, userA), "hola", 0))
	require.NoError(t, err)
	assert.ErrorIs(t, s.SetTags(t.Context(), tenantA, ap.Message.ID, store.Tags{}), store.ErrInvalid, "empty intent is ErrInvalid")
	reply, err := s.Append(t.Context(), store.Message{Tenant: tenantA, Conversation: ap.Conversation.ID, Turn: ap.Message.ID, Role: store.Assistant})
	require.NoError(t, err)
	assert.ErrorIs(t, s.SetTags(t.Context(), tenantA, reply.ID, store.Tags{Intent: "greeting"}), store.ErrInvalid, "a record that is not inbound is ErrInvalid")
	_, err = s.Tags(t.Context(), tenantA, ap.Message.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "rejected tags are not stored")
}

func testTagsOtherTenant(t *testing.T, newStore func(t *testing.T) TaggerStore) {
	s := newStore(t)
	ap, err := s.AppendInbound(t.Context(), text("wamid.tag1", addr(tenantA, userA), "hola", 0))
	require.NoError(t, err)
	assert.ErrorIs(t, s.SetTags(t.Context(), tenantB, ap.Message.ID, store.Tags{Intent: "greeting"}), store.ErrNotFound, "a record of another tenant is ErrNotFound")
	assert.ErrorIs(t, s.SetTags(t.Context(), tenantA, 999999, store.Tags{Intent: "greeting"}), store.ErrNotFound, "an unknown record is ErrNotFound")
	require.NoError(t, s.SetTags(t.Context(), tenantA, ap.Message.ID, store.Tags{Intent: "greeting"}))
	_, err = s.Tags(t.Context(), tenantB, ap.Message.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "the tags of another tenant's record are ErrNotFound")
}

func testTagsCancelled(t *testing.T, newStore func(t *testing.T) TaggerStore) {
	s := newStore(t)
	ap, err := s.AppendInbound(t.Context(), text("wamid.tag1", addr(tenantA, userA), "hola", 0))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, s.SetTags(ctx, tenantA, ap.Message.ID, store.Tags{Intent: "greeting"}), context.Canceled)
	_, err = s.Tags(t.Context(), tenantA, ap.Message.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "a cancelled SetTags changes nothing")
}
