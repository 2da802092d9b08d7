package postgres_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/postgres"
)

// BenchmarkAppendInbound appends distinct messages from 500 contacts, from
// 32 goroutines at once, each append a durable transaction, through one
// pool of 32 connections.
func BenchmarkAppendInbound(b *testing.B) {
	const writers, contacts = 32, 500
	s := open(b, freshSchema(b), &postgres.Options{MaxConns: writers})
	ctx := context.Background()
	// The contacts' conversations exist, as they do in a running service.
	for i := range contacts {
		if _, err := s.OpenConversation(ctx, from(fmt.Sprintf("5190%07d", i))); err != nil {
			b.Fatal(err)
		}
	}
	run := b.Name() // distinct provider ids for every round of b.N
	msgs := make([]channel.Message, b.N)
	for i := range msgs {
		msgs[i] = text(fmt.Sprintf("wamid.%s.%d.%d", run, b.N, i), fmt.Sprintf("5190%07d", i%contacts), "¿Tienen la chompa de alpaca en talla M?")
		msgs[i].Sender = channel.Profile{Name: "Ana Quispe"}
	}
	var next atomic.Int64
	b.SetParallelism((writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a, err := s.AppendInbound(ctx, msgs[next.Add(1)-1])
			if err != nil {
				b.Error(err)
				return
			}
			if a.Duplicate {
				b.Error("a new message was reported as a duplicate")
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
	s := fresh(b)
	ctx := context.Background()
	var conv store.ConversationID
	var last store.MessageID
	for i := range 500 {
		a, err := s.AppendInbound(ctx, text(fmt.Sprintf("wamid.%d", i), "51900000001", "hola"))
		if err != nil {
			b.Fatal(err)
		}
		conv, last = a.Conversation.ID, a.Message.ID
		body := channel.Text("Sí, la tenemos en talla M.")
		if _, err := s.Append(ctx, store.Message{Tenant: tenant, Conversation: conv, Turn: last, Role: store.Assistant,
			Outbound: &channel.Outbound{To: from("51900000001"), Text: body}}); err != nil {
			b.Fatal(err)
		}
	}
	q := store.HistoryQuery{Through: last, Limit: 10}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		h, err := s.History(ctx, tenant, conv, q)
		if err != nil || len(h) != 10 {
			b.Fatal(len(h), err)
		}
	}
}
