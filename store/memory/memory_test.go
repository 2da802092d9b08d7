package memory_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.ConversationStore {
		s := memory.New(nil)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		return s
	})
}

func TestPurger(t *testing.T) {
	storetest.RunPurger(t, func(t *testing.T) storetest.PurgerStore { return newStore(t) })
}

func TestEraser(t *testing.T) {
	storetest.RunEraser(t, func(t *testing.T) storetest.EraserStore { return newStore(t) })
}

func TestExporter(t *testing.T) {
	storetest.RunExporter(t, func(t *testing.T) storetest.ExporterStore { return newStore(t) })
}

func TestLeaser(t *testing.T) {
	storetest.RunLeaser(t, func(t *testing.T) storetest.LeaserStore { return newStore(t) })
}

func newStore(t *testing.T) *memory.Store {
	s := memory.New(nil)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func from(user string) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: channel.UserID(user)}
}

func text(id, user string) channel.Message {
	return channel.Message{ID: channel.MessageID(id), From: from(user), Type: channel.TypeText, Text: "hola"}
}

func TestClose(t *testing.T) {
	s := memory.New(nil)
	a, err := s.AppendInbound(t.Context(), text("wamid.1", "51900000001"))
	require.NoError(t, err)
	r, err := s.Append(t.Context(), store.Message{Tenant: "tienda-sol", Conversation: a.Conversation.ID, Role: store.Assistant})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")

	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
	}{
		{"AppendInbound", func() error { _, err := s.AppendInbound(ctx, text("wamid.2", "51900000001")); return err }},
		{"Append", func() error {
			_, err := s.Append(ctx, store.Message{Tenant: "tienda-sol", Conversation: a.Conversation.ID, Role: store.Assistant})
			return err
		}},
		{"Message", func() error { _, err := s.Message(ctx, "tienda-sol", a.Message.ID); return err }},
		{"History", func() error {
			_, err := s.History(ctx, "tienda-sol", a.Conversation.ID, store.HistoryQuery{})
			return err
		}},
		{"Pending", func() error { _, err := s.Pending(ctx, store.PendingQuery{}); return err }},
		{"SetProcessing", func() error {
			return s.SetProcessing(ctx, "tienda-sol", a.Message.ID, store.Processing{State: store.ProcessDone})
		}},
		{"UpdateDelivery", func() error {
			_, err := s.UpdateDelivery(ctx, "tienda-sol", store.DeliveryUpdate{ID: r.ID, State: channel.Sent})
			return err
		}},
		{"OpenConversation", func() error { _, err := s.OpenConversation(ctx, from("51900000002")); return err }},
		{"Conversation", func() error { _, err := s.Conversation(ctx, "tienda-sol", a.Conversation.ID); return err }},
		{"SetHandoff", func() error {
			_, err := s.SetHandoff(ctx, "tienda-sol", a.Conversation.ID, store.Handoff{Owner: store.OwnerHuman})
			return err
		}},
		{"Subject", func() error { _, err := s.Subject(ctx, from("51900000001")); return err }},
		{"Purge", func() error {
			_, err := s.Purge(ctx, store.PurgeQuery{Scope: store.PurgeContent, Before: time.Now()})
			return err
		}},
		{"Erase", func() error { _, err := s.Erase(ctx, "tienda-sol", a.Conversation.Subject); return err }},
		{"Export", func() error { _, err := s.Export(ctx, "tienda-sol", a.Conversation.Subject); return err }},
		{"Lease", func() error { _, err := s.Lease(ctx, "tienda-sol", a.Conversation.ID, "w", time.Minute); return err }},
		{"Release", func() error { return s.Release(ctx, "tienda-sol", a.Conversation.ID, "w") }},
		{"LeasePending", func() error { _, err := s.LeasePending(ctx, "w", time.Minute, 1); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.call(), store.ErrClosed)
		})
	}
}

func TestNow(t *testing.T) {
	now := time.Date(2025, time.March, 14, 15, 9, 26, 0, time.UTC)
	s := memory.New(&memory.Options{Now: func() time.Time { return now }})
	a, err := s.AppendInbound(t.Context(), text("wamid.1", "51900000001"))
	require.NoError(t, err)
	assert.Equal(t, now, a.Message.Time, "an inbound message without a time is recorded now")
	assert.Equal(t, now, a.Conversation.CreatedAt)
	assert.Equal(t, now, a.Conversation.LastInboundAt)
	r, err := s.Append(t.Context(), store.Message{Tenant: "tienda-sol", Conversation: a.Conversation.ID, Role: store.Assistant})
	require.NoError(t, err)
	assert.Equal(t, now, r.Time)
}

// TestInvalid covers the choices the memory store makes where the contract
// leaves them open.
func TestInvalid(t *testing.T) {
	s := memory.New(nil)
	a, err := s.AppendInbound(t.Context(), text("wamid.1", "51900000001"))
	require.NoError(t, err)
	ctx := t.Context()
	tests := []struct {
		name string
		call func() error
	}{
		{"append without role", func() error {
			_, err := s.Append(ctx, store.Message{Tenant: "tienda-sol", Conversation: a.Conversation.ID})
			return err
		}},
		{"append negative turn", func() error {
			_, err := s.Append(ctx, store.Message{Tenant: "tienda-sol", Conversation: a.Conversation.ID, Role: store.Note, Turn: -1})
			return err
		}},
		{"history negative limit", func() error {
			_, err := s.History(ctx, "tienda-sol", a.Conversation.ID, store.HistoryQuery{Limit: -1})
			return err
		}},
		{"pending conversation without tenant", func() error {
			_, err := s.Pending(ctx, store.PendingQuery{Conversation: a.Conversation.ID})
			return err
		}},
		{"update delivery without id", func() error {
			_, err := s.UpdateDelivery(ctx, "tienda-sol", store.DeliveryUpdate{State: channel.Read})
			return err
		}},
		{"update delivery of inbound", func() error {
			_, err := s.UpdateDelivery(ctx, "tienda-sol", store.DeliveryUpdate{ID: a.Message.ID, State: channel.Read})
			return err
		}},
		{"subject of incomplete address", func() error {
			_, err := s.Subject(ctx, channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.call(), store.ErrInvalid)
		})
	}
}

// TestPendingQueue runs many records through pending and back, so that the
// lazy removal compacts the queues.
func TestPendingQueue(t *testing.T) {
	s := memory.New(nil)
	ctx := t.Context()
	var all []store.MessageID
	for i := range 200 {
		a, err := s.AppendInbound(ctx, text(fmt.Sprintf("wamid.%d", i), fmt.Sprintf("5190000%04d", i%3)))
		require.NoError(t, err)
		all = append(all, a.Message.ID)
	}
	// Finish every record but each seventh, from the middle outwards and
	// from the head, then bring some back.
	want := map[store.MessageID]bool{}
	for i, id := range all {
		if i%7 == 0 {
			want[id] = true
			continue
		}
		require.NoError(t, s.SetProcessing(ctx, "tienda-sol", id, store.Processing{State: store.ProcessDone}))
	}
	for _, i := range []int{5, 50, 150, 199} {
		require.NoError(t, s.SetProcessing(ctx, "tienda-sol", all[i], store.Processing{State: store.ProcessPending, Attempts: 1}))
		want[all[i]] = true
	}
	p, err := s.Pending(ctx, store.PendingQuery{})
	require.NoError(t, err)
	got := map[store.MessageID]bool{}
	for i, m := range p {
		got[m.ID] = true
		if i > 0 {
			assert.Less(t, p[i-1].ID, m.ID, "pending records come in id order")
		}
	}
	assert.Equal(t, want, got)

	n := 0
	for _, user := range []string{"51900000000", "51900000001", "51900000002"} {
		c, err := s.OpenConversation(ctx, from(user))
		require.NoError(t, err)
		p, err := s.Pending(ctx, store.PendingQuery{Tenant: "tienda-sol", Conversation: c.ID})
		require.NoError(t, err)
		n += len(p)
	}
	assert.Equal(t, len(want), n, "every pending record is in its conversation's queue")
}

// BenchmarkAppendInbound appends distinct messages from 500 contacts, from
// at least 32 goroutines at once.
func BenchmarkAppendInbound(b *testing.B) {
	s := memory.New(nil)
	b.Cleanup(func() { s.Close() })
	msgs := make([]channel.Message, b.N)
	for i := range msgs {
		msgs[i] = text(fmt.Sprintf("wamid.bench.%d", i), fmt.Sprintf("5190%07d", i%500))
	}
	var next atomic.Int64
	b.SetParallelism((32 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := s.AppendInbound(ctx, msgs[next.Add(1)-1]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkHistory reads a window of 10 records from a conversation of
// 1,000.
func BenchmarkHistory(b *testing.B) {
	s := memory.New(nil)
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	var conv store.ConversationID
	var last store.MessageID
	for i := range 500 {
		a, err := s.AppendInbound(ctx, text(fmt.Sprintf("wamid.%d", i), "51900000001"))
		if err != nil {
			b.Fatal(err)
		}
		conv, last = a.Conversation.ID, a.Message.ID
		_, err = s.Append(ctx, store.Message{Tenant: "tienda-sol", Conversation: conv, Turn: a.Message.ID, Role: store.Assistant,
			Parts: []llm.Part{llm.TextPart("Sí, la tenemos en talla M.")}, Outbound: &channel.Outbound{To: from("51900000001"), Text: "Sí, la tenemos en talla M."}})
		if err != nil {
			b.Fatal(err)
		}
	}
	q := store.HistoryQuery{Through: last, Limit: 10}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		h, err := s.History(ctx, "tienda-sol", conv, q)
		if err != nil || len(h) != 10 {
			b.Fatal(len(h), err)
		}
	}
}

// BenchmarkTurn makes the store calls of one agent turn: append the
// inbound message, read its conversation and a history of 10, append the
// reply, record its delivery and the outcome.
func BenchmarkTurn(b *testing.B) {
	s := memory.New(nil)
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	msgs := make([]channel.Message, b.N)
	for i := range msgs {
		msgs[i] = text(fmt.Sprintf("wamid.bench.%d", i), fmt.Sprintf("5190%07d", i%100))
	}
	body := channel.Text("Gracias por escribir a Tienda Sol, te ayudo enseguida.")
	b.ReportAllocs()
	b.ResetTimer()
	for i := range msgs {
		a, err := s.AppendInbound(ctx, msgs[i])
		if err != nil {
			b.Fatal(err)
		}
		m := a.Message
		conv, err := s.Conversation(ctx, m.Tenant, m.Conversation)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.History(ctx, m.Tenant, m.Conversation, store.HistoryQuery{Through: m.ID, Limit: 10}); err != nil {
			b.Fatal(err)
		}
		r, err := s.Append(ctx, store.Message{Tenant: m.Tenant, Conversation: m.Conversation, Turn: m.ID, Role: store.Assistant,
			Parts: []llm.Part{llm.TextPart(string(body))}, Outbound: &channel.Outbound{To: conv.Address, Text: body}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.UpdateDelivery(ctx, m.Tenant, store.DeliveryUpdate{ID: r.ID, ProviderID: channel.MessageID("out." + msgs[i].ID), State: channel.Sent, Attempts: 1}); err != nil {
			b.Fatal(err)
		}
		if err := s.SetProcessing(ctx, m.Tenant, m.ID, store.Processing{State: store.ProcessDone, Attempts: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestProcessingBatcher(t *testing.T) {
	storetest.RunProcessingBatcher(t, func(t *testing.T) storetest.ProcessingBatcherStore { return newStore(t) })
}
