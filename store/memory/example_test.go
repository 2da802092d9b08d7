package memory_test

import (
	"context"
	"fmt"
	"log"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

func Example() {
	ctx := context.Background()
	s := memory.New(nil)
	defer s.Close()

	customer := channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: "51900000001"}
	in, err := s.AppendInbound(ctx, channel.Message{
		ID:   "wamid.1",
		From: customer,
		Type: channel.TypeText,
		Text: "¿Tienen la chompa de alpaca en talla M?",
	})
	if err != nil {
		log.Fatal(err)
	}

	answer := "Sí, la tenemos en talla M."
	_, err = s.Append(ctx, store.Message{
		Tenant:       customer.Tenant,
		Conversation: in.Conversation.ID,
		Turn:         in.Message.ID,
		Role:         store.Assistant,
		Parts:        []llm.Part{llm.TextPart(answer)},
		Outbound:     &channel.Outbound{To: customer, Text: channel.Text(answer)},
	})
	if err != nil {
		log.Fatal(err)
	}

	history, err := s.History(ctx, customer.Tenant, in.Conversation.ID, store.HistoryQuery{Limit: 10})
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range history {
		switch {
		case m.Inbound != nil:
			fmt.Printf("%s: %s\n", m.Role, m.Inbound.Text)
		default:
			fmt.Printf("%s: %s\n", m.Role, llm.Message{Parts: m.Parts}.Text())
		}
	}
	// Output:
	// user: ¿Tienen la chompa de alpaca en talla M?
	// assistant: Sí, la tenemos en talla M.
}
