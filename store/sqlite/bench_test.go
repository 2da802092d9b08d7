package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/sqlite"
)

func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchText(id, user string) channel.Message {
	return channel.Message{
		ID:     channel.MessageID(id),
		From:   channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: channel.UserID(user)},
		Type:   channel.TypeText,
		Text:   "¿Tienen la chompa de alpaca en talla M?",
		Sender: channel.Profile{Name: "Ana Quispe", Phone: channel.Phone(user)},
	}
}

// BenchmarkAppendInbound appends distinct messages from 500 contacts, from
// 32 goroutines at once: webhook acknowledgements, each durable when it
// returns.
func BenchmarkAppendInbound(b *testing.B) {
	s := benchStore(b)
	msgs := make([]channel.Message, b.N)
	for i := range msgs {
		msgs[i] = benchText(fmt.Sprintf("wamid.bench.%d", i), fmt.Sprintf("5190%07d", i%500))
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
	s := benchStore(b)
	ctx := context.Background()
	var conv store.ConversationID
	var last store.MessageID
	body := "Sí, la tenemos en talla M."
	for i := range 500 {
		a, err := s.AppendInbound(ctx, benchText(fmt.Sprintf("wamid.%d", i), "51900000001"))
		if err != nil {
			b.Fatal(err)
		}
		conv, last = a.Conversation.ID, a.Message.ID
		_, err = s.Append(ctx, store.Message{Tenant: "tienda-sol", Conversation: conv, Turn: a.Message.ID, Role: store.Assistant,
			Parts: []llm.Part{llm.TextPart(body)}, Outbound: &channel.Outbound{To: a.Conversation.Address, Text: channel.Text(body)}})
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

// BenchmarkTurn makes the store calls of one agent turn, one turn at a
// time: append the inbound message, read its conversation and a history of
// 10, append the reply, record its delivery and the outcome. Four of the
// six calls are durable writes.
func BenchmarkTurn(b *testing.B) {
	s := benchStore(b)
	ctx := context.Background()
	msgs := make([]channel.Message, b.N)
	for i := range msgs {
		msgs[i] = benchText(fmt.Sprintf("wamid.bench.%d", i), fmt.Sprintf("5190%07d", i%100))
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
