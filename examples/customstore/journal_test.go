package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/storetest"
)

// The conformance suite, unchanged: what every store adapter must pass.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.ConversationStore {
		j, err := Open(filepath.Join(t.TempDir(), "journal.jsonl"))
		require.NoError(t, err)
		t.Cleanup(func() { j.Close() })
		return j
	})
}

var rosa = channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: "51987654321"}

// fill records a conversation: an inbound message, a reply, its delivery,
// its processing, a handoff.
func fill(t *testing.T, j *Journal) store.Conversation {
	t.Helper()
	ctx := t.Context()
	ap, err := j.AppendInbound(ctx, channel.Message{ID: "wamid.1", From: rosa, Type: channel.TypeText, Text: "¿Envían a Cusco?",
		Sender: channel.Profile{Name: "Rosa", Phone: "51987654321"}})
	require.NoError(t, err)
	r, err := j.Append(ctx, store.Message{Tenant: rosa.Tenant, Conversation: ap.Conversation.ID, Turn: ap.Message.ID, Role: store.Assistant,
		Outbound: &channel.Outbound{To: rosa, Text: "Sí, en 3 días."}})
	require.NoError(t, err)
	_, err = j.UpdateDelivery(ctx, rosa.Tenant, store.DeliveryUpdate{ID: r.ID, ProviderID: "wamid.out.1", State: channel.Delivered})
	require.NoError(t, err)
	require.NoError(t, j.SetProcessing(ctx, rosa.Tenant, ap.Message.ID, store.Processing{State: store.ProcessDone}))
	conv, err := j.SetHandoff(ctx, rosa.Tenant, ap.Conversation.ID, store.Handoff{Owner: store.OwnerHuman, Operator: "ana"})
	require.NoError(t, err)
	return conv
}

func snapshot(t *testing.T, j *Journal, conv store.ConversationID) ([]store.Message, store.Conversation, store.Subject) {
	t.Helper()
	h, err := j.History(t.Context(), rosa.Tenant, conv, store.HistoryQuery{})
	require.NoError(t, err)
	c, err := j.Conversation(t.Context(), rosa.Tenant, conv)
	require.NoError(t, err)
	s, err := j.Subject(t.Context(), rosa)
	require.NoError(t, err)
	return h, c, s
}

func TestReopenRebuildsTheSameState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := Open(path)
	require.NoError(t, err)
	conv := fill(t, j)
	h1, c1, s1 := snapshot(t, j, conv.ID)
	require.NoError(t, j.Close())

	j, err = Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { j.Close() })
	h2, c2, s2 := snapshot(t, j, conv.ID)
	assert.Equal(t, h1, h2, "records, ids, times and states replayed")
	assert.Equal(t, c1, c2)
	assert.Equal(t, s1, s2)
	ap, err := j.AppendInbound(t.Context(), channel.Message{ID: "wamid.1", From: rosa, Type: channel.TypeText, Text: "again"})
	require.NoError(t, err)
	assert.True(t, ap.Duplicate, "the idempotency key survives a restart")
	ap, err = j.AppendInbound(t.Context(), channel.Message{ID: "wamid.2", From: rosa, Type: channel.TypeText, Text: "new"})
	require.NoError(t, err)
	assert.Greater(t, ap.Message.ID, h1[len(h1)-1].ID, "ids keep increasing after a restart")
}

func TestTornLastLineIsDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	j, err := Open(path)
	require.NoError(t, err)
	conv := fill(t, j)
	h1, _, _ := snapshot(t, j, conv.ID)
	require.NoError(t, j.Close())
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"op":"inbound","at":"2026-`) // a crash in the middle of a write
	require.NoError(t, err)
	require.NoError(t, f.Close())

	j, err = Open(path)
	require.NoError(t, err)
	h2, _, _ := snapshot(t, j, conv.ID)
	assert.Equal(t, h1, h2)
	_, err = j.AppendInbound(t.Context(), channel.Message{ID: "wamid.3", From: rosa, Type: channel.TypeText, Text: "after the crash"})
	require.NoError(t, err)
	require.NoError(t, j.Close())
	j, err = Open(path)
	require.NoError(t, err, "the torn line was cut off, so the file stays readable")
	t.Cleanup(func() { j.Close() })
	h3, _, _ := snapshot(t, j, conv.ID)
	assert.Len(t, h3, len(h1)+1)
}

func TestCorruptLineIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	require.NoError(t, os.WriteFile(path, []byte("not json\n{}\n"), 0o600))
	_, err := Open(path)
	require.Error(t, err, "a damaged line in the middle is not silently dropped")
	assert.Contains(t, err.Error(), "journal: line 1")
}

func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), path, &out))
	got := out.String()
	assert.Contains(t, got, "reply: echo: hello, journal\n")
	assert.Contains(t, got, "2 records in the conversation")
	assert.Contains(t, got, "  user: hello, journal\n")
	assert.Contains(t, got, "  assistant: echo: hello, journal (sent)\n")
	require.NoError(t, run(t.Context(), path, &out), "a second run appends to the same file")
	assert.Equal(t, 2, strings.Count(out.String(), "reply: "))
}

// Each change is written and synced before it is applied: the figure is
// the disk's fsync latency.
func BenchmarkJournalAppendInbound(b *testing.B) {
	j, err := Open(filepath.Join(b.TempDir(), "journal.jsonl"))
	require.NoError(b, err)
	defer j.Close()
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := j.AppendInbound(ctx, channel.Message{ID: channel.MessageID("wamid." + strconv.Itoa(i)), From: rosa, Type: channel.TypeText, Text: "¿Envían a Cusco?"}); err != nil {
			b.Fatal(err)
		}
	}
}
