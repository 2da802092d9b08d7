package instagram_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/instagram"
	"github.com/wagent/wagent/channel/instagram/instagramtest"
)

// printer is a receiver that prints what the webhook hands over.
type printer struct{}

func (printer) Receive(_ context.Context, in channel.Inbound) error {
	for _, m := range in.Messages {
		fmt.Println("message", m.Type, "from", m.From.Tenant, "text:", string(m.Text))
	}
	for _, s := range in.Statuses {
		fmt.Println("status", s.State, "of", s.MessageID)
	}
	return nil
}

func Example() {
	api := instagramtest.NewServer("token", "")
	defer api.Close()
	ig, err := instagram.New(instagram.StaticToken("token"), &instagram.Options{BaseURL: api.URL, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	hook, err := instagram.NewWebhook(printer{}, instagram.WebhookOptions{
		AppSecrets: []string{"app-secret"}, VerifyToken: "verify", Client: ig, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(hook)
	defer srv.Close()

	now := time.Now()
	for _, body := range [][]byte{
		instagramtest.TextDelivery("17841400000000001", "1234567890123456", "mid.1", "Hola", now),
		instagramtest.ReadDelivery("17841400000000001", "1234567890123456", "mid.out.1", now),
	} {
		resp, err := http.DefaultClient.Do(instagramtest.NewDelivery(srv.URL, body, "app-secret"))
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}

	res, err := ig.Send(context.Background(), channel.Outbound{
		To:   channel.Address{Channel: channel.Instagram, Tenant: "17841400000000001", User: "1234567890123456"},
		Text: "¡Hola! ¿En qué te ayudo?",
		Interactive: &channel.Interactive{Buttons: []channel.Button{
			{ID: "orders", Title: "Mis pedidos"}, {ID: "human", Title: "Hablar con alguien"},
		}},
	})
	fmt.Println("sent", res.IDs, err)
	// Output:
	// message text from 17841400000000001 text: Hola
	// status read of mid.out.1
	// sent [aWdfZAFAKE000001] <nil>
}
