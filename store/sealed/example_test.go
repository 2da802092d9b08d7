package sealed_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/store/sealed"
)

func Example() {
	ctx := context.Background()
	// In production the secrets come from a secret manager and the key
	// storage is durable (store/sqlite or store/postgres Keys).
	ring, err := seal.NewKeyring(seal.KeyringConfig{
		Keys:        []seal.Key{{ID: "2026-01", Secret: seal.NewSecret()}},
		Primary:     "2026-01",
		IndexSecret: seal.NewSecret(),
	})
	if err != nil {
		log.Fatal(err)
	}
	inner := memory.New(nil)
	s, err := sealed.New(inner, ring, &seal.MemoryKeyStorage{}, nil)
	if err != nil {
		log.Fatal(err)
	}

	customer := channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: "51900000001"}
	a, err := s.AppendInbound(ctx, channel.Message{ID: "wamid.1", From: customer, Type: channel.TypeText,
		Text: "¿Tienen la chompa en talla M?", Sender: channel.Profile{Name: "Ana Quispe", Phone: "51900000001"}})
	if err != nil {
		log.Fatal(err)
	}
	got, _ := s.Message(ctx, customer.Tenant, a.Message.ID)
	fmt.Println(got.Inbound.From.User, got.Inbound.Text)

	raw, _ := inner.Message(ctx, customer.Tenant, a.Message.ID)
	fmt.Println(raw.Inbound.From.User == customer.User, raw.Inbound.Text[:5])

	subj, _ := s.Subject(ctx, customer)
	fmt.Println(subj.Profile.Name)

	// The optional capabilities are the inner store's, found through the
	// wrapper with store.Capability.
	eraser, ok := store.Capability[store.Eraser](s)
	if !ok {
		log.Fatal("the inner store cannot erase")
	}
	if _, err := eraser.Erase(ctx, customer.Tenant, a.Conversation.Subject); err != nil {
		log.Fatal(err)
	}
	_, err = s.Message(ctx, customer.Tenant, a.Message.ID)
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// 51900000001 ¿Tienen la chompa en talla M?
	// false wgs1:
	// Ana Quispe
	// true
}
