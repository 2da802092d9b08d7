package sealed_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// BenchmarkAppendInbound measures what sealing adds to AppendInbound over
// the memory store: a WhatsApp-like text message with the sender's name
// and phone, from one of 64 subjects.
func BenchmarkAppendInbound(b *testing.B) {
	run := func(b *testing.B, s store.ConversationStore) {
		m := channel.Message{Type: channel.TypeText, Time: t0, Text: "¿Tienen la chompa de alpaca en talla M?",
			Sender: channel.Profile{Name: "Ana Quispe"}}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			user := "519000" + strconv.Itoa(10000+i%64)
			m.ID = channel.MessageID("wamid." + strconv.Itoa(i))
			m.From = from(user)
			m.Sender.Phone = channel.Phone(user)
			if _, err := s.AppendInbound(b.Context(), m); err != nil {
				b.Fatal(err)
			}
			i++
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, memory.New(nil)) })
	b.Run("sealed", func(b *testing.B) {
		s := wrap(b, memory.New(nil), newRing(b, kOld.ID, kOld), &seal.MemoryKeyStorage{})
		run(b, s)
	})
}

// BenchmarkHistory measures opening a window of 20 records of one
// subject.
func BenchmarkHistory(b *testing.B) {
	run := func(b *testing.B, s store.ConversationStore) {
		var conv store.ConversationID
		for i := range 20 {
			a, err := s.AppendInbound(b.Context(), channel.Message{ID: channel.MessageID("wamid." + strconv.Itoa(i)), From: from(phone),
				Time: t0, Type: channel.TypeText, Text: "¿Tienen la chompa de alpaca en talla M?"})
			require.NoError(b, err)
			conv = a.Conversation.ID
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.History(b.Context(), tenant, conv, store.HistoryQuery{Limit: 20}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) { run(b, memory.New(nil)) })
	b.Run("sealed", func(b *testing.B) {
		run(b, wrap(b, memory.New(nil), newRing(b, kOld.ID, kOld), &seal.MemoryKeyStorage{}))
	})
}
