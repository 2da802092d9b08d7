package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/store"
)

// ExporterStore is a store with the [store.Exporter] capability.
type ExporterStore interface {
	store.ConversationStore
	store.Exporter
}

// RunExporter checks the store that newStore returns against every clause
// of the [store.Exporter] contract, each in its own subtest on a fresh store
// from newStore, as [Run] does.
func RunExporter(t *testing.T, newStore func(t *testing.T) ExporterStore) {
	t.Helper()
	runGroups(t, newStore, []capGroup[ExporterStore]{
		{"Export", []capClause[ExporterStore]{
			{"returns the subject its conversations and all their records", testExport},
			{"orders records by conversation then turn and id", testExportOrder},
			{"returns a subject without records", testExportEmpty},
			{"leaves out other subjects and tenants", testExportOthers},
			{"reports unknown subjects and other tenants' subjects as not found", testExportNotFound},
			{"shares no memory with values returned", testExportCopies},
		}},
		{"Context", []capClause[ExporterStore]{
			{"a cancelled call fails", testExportCancelled},
		}},
	})
}

type exporterFactory = func(t *testing.T) ExporterStore

func export(t *testing.T, s ExporterStore, subj store.SubjectID) store.Export {
	t.Helper()
	e, err := s.Export(t.Context(), tenantA, subj)
	require.NoError(t, err, "Export: returns everything the store holds about a subject of the tenant")
	return e
}

func normExport(e store.Export) store.Export {
	e.Subject = normSubject(e.Subject)
	convs := make([]store.Conversation, len(e.Conversations))
	for i, c := range e.Conversations {
		convs[i] = normConversation(c)
	}
	e.Conversations = convs
	e.Messages = normMessages(e.Messages)
	return e
}

func testExport(t *testing.T, newStore exporterFactory) {
	s := newStore(t)
	from := addr(tenantA, erasedUser)
	conv, _ := erasable(t, s, from)
	subj, err := s.Subject(t.Context(), from)
	require.NoError(t, err, "Subject: returns the subject whose address is addr")

	e := export(t, s, conv.Subject)
	const c = "Export: returns the subject, its conversations and all their records, as the store keeps them"
	assert.Equal(t, normSubject(subj), normSubject(e.Subject), c+" (the subject)")
	assert.Equal(t, []store.Conversation{normConversation(conv)}, normExport(e).Conversations, c+" (the conversations)")
	assert.Equal(t, normMessages(history(t, s, tenantA, conv.ID, store.HistoryQuery{})), normExport(e).Messages, c+" (the records)")
}

func testExportOrder(t *testing.T, newStore exporterFactory) {
	s := newStore(t)
	conv, m1, m2, r1, r2 := turns(t, s)
	c, err := s.Conversation(t.Context(), tenantA, conv)
	require.NoError(t, err, "Conversation: returns the conversation with the given id")
	e := export(t, s, c.Subject)
	assert.Equal(t, []store.MessageID{m1.ID, r1.ID, m2.ID, r2.ID}, ids(e.Messages), "Export: Messages are ordered by conversation, then by (Turn, ID)")
}

func testExportEmpty(t *testing.T, newStore exporterFactory) {
	s := newStore(t)
	conv, err := s.OpenConversation(t.Context(), addr(tenantA, userA))
	require.NoError(t, err, "OpenConversation: creates the conversation with addr when there is none")
	e := export(t, s, conv.Subject)
	const c = "Export: returns the subject and its conversations, also when they hold no records"
	assert.Equal(t, conv.Subject, e.Subject.ID, c)
	assert.Equal(t, addr(tenantA, userA), e.Subject.Address, c)
	assert.Equal(t, []store.Conversation{normConversation(conv)}, normExport(e).Conversations, c)
	assert.Empty(t, e.Messages, c)
}

func testExportOthers(t *testing.T, newStore exporterFactory) {
	s := newStore(t)
	conv, recs := erasable(t, s, addr(tenantA, erasedUser))
	erasable(t, s, addr(tenantB, erasedUser))
	erasable(t, s, addr(tenantA, userB))
	e := export(t, s, conv.Subject)
	const c = "Export: returns the subject's data only, never another subject's or another tenant's"
	assert.Equal(t, ids(recs), ids(e.Messages), c)
	for _, m := range e.Messages {
		assert.Equal(t, tenantA, m.Tenant, c)
		assert.Equal(t, conv.ID, m.Conversation, c)
	}
}

func testExportNotFound(t *testing.T, newStore exporterFactory) {
	s := newStore(t)
	conv, _ := erasable(t, s, addr(tenantA, erasedUser))
	tests := []struct {
		name string
		call func() error
	}{
		{"subject of another tenant", func() error { _, err := s.Export(t.Context(), tenantB, conv.Subject); return err }},
		{"unknown subject", func() error { _, err := s.Export(t.Context(), tenantA, "no-such-subject"); return err }},
		{"empty subject", func() error { _, err := s.Export(t.Context(), tenantA, ""); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.call(), store.ErrNotFound, "Export: an unknown subject is ErrNotFound; a subject of another tenant is unknown")
		})
	}
}

func testExportCopies(t *testing.T, newStore exporterFactory) {
	s := newStore(t)
	a := receive(t, s, copied())
	_, err := s.Append(t.Context(), richReply(a.Conversation, a.Message.ID))
	require.NoError(t, err, "Append: records a valid assistant reply")
	want := normExport(export(t, s, a.Conversation.Subject))
	e := export(t, s, a.Conversation.Subject)
	for i := range e.Messages {
		scribble(&e.Messages[i])
	}
	e.Subject.Profile.Name = "scribbled"
	assert.Equal(t, want, normExport(export(t, s, a.Conversation.Subject)), "values returned belong to the caller: changing them does not change what the store keeps")
}

func testExportCancelled(t *testing.T, newStore exporterFactory) {
	s := newStore(t)
	conv, _ := erasable(t, s, addr(tenantA, erasedUser))
	_, err := s.Export(cancelled(t), tenantA, conv.Subject)
	require.ErrorIs(t, err, context.Canceled, "when ctx is done, the method returns an error wrapping ctx.Err()")
}
