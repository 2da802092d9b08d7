package privacy_test

import (
	"context"
	"fmt"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
)

// A customer grants marketing consent in the widget and withdraws it by
// writing BAJA on WhatsApp; the ledger keeps both, with the message as
// evidence, and its hash chain verifies.
func ExampleLedger() {
	ctx := context.Background()
	l := privacy.NewMemoryLedger()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, r := range []privacy.ConsentRecord{
		{Tenant: "tienda-sol", Subject: "s-1", Purpose: privacy.PurposeMarketing, Granted: true,
			Basis: privacy.BasisConsent, Method: "widget", PolicyVersion: "2026-11", Time: at},
		{Tenant: "tienda-sol", Subject: "s-1", Purpose: privacy.PurposeMarketing, Granted: false, Method: "chat_keyword",
			Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: "wamid.HBgL", Text: "BAJA"}, Time: at.Add(48 * time.Hour)},
	} {
		if err := l.Record(ctx, r); err != nil {
			panic(err)
		}
	}
	st, err := l.State(ctx, "tienda-sol", "s-1", privacy.PurposeMarketing)
	if err != nil {
		panic(err)
	}
	fmt.Println(st.Status, st.Since.Format(time.DateOnly))
	fmt.Println("chain intact:", l.Verify(ctx) == nil)
	// Output:
	// withdrawn 2026-12-03
	// chain intact: true
}

// Keywords recognizes consent commands whatever their case and accents.
func ExampleKeywords() {
	k, err := privacy.NewKeywords(privacy.DefaultKeywords())
	if err != nil {
		panic(err)
	}
	for _, text := range []string{"stop", "Cancelar", "BAJA, gracias", "stop by the store", "cancelar mi pedido"} {
		if kw, ok := k.Match(text); ok {
			fmt.Printf("%q: grant %v of %s\n", text, kw.Grant, kw.Purpose)
		} else {
			fmt.Printf("%q: not a command\n", text)
		}
	}
	// Output:
	// "stop": grant false of marketing
	// "Cancelar": grant false of marketing
	// "BAJA, gracias": grant false of marketing
	// "stop by the store": not a command
	// "cancelar mi pedido": not a command
}
