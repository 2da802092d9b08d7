package whatsapp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// A client sends to a business-scoped user id or a phone number; the
// fake Cloud API stands in for graph.facebook.com.
func ExampleClient_Send() {
	api := whatsapptest.NewServer("EAAG-token", "")
	defer api.Close()
	wa, err := whatsapp.New(whatsapp.StaticToken("EAAG-token"), &whatsapp.Options{BaseURL: api.URL})
	if err != nil {
		panic(err)
	}
	res, err := wa.Send(context.Background(), channel.Outbound{
		To:   channel.Address{Channel: channel.WhatsApp, Tenant: "106540352242922", User: "US.13491208655302741918"},
		Text: "Your order A-1001 ships today.",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.IDs, res.Attempts)
	fmt.Println(string(api.Sent()[0].Body))
	// Output:
	// [wamid.FAKE000001] 1
	// {"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.13491208655302741918","type":"text","text":{"body":"Your order A-1001 ships today."}}
}

type printReceiver struct{}

func (printReceiver) Receive(_ context.Context, in channel.Inbound) error {
	for _, m := range in.Messages {
		fmt.Println(m.Type, m.From.Tenant, m.From.User, m.Sender.Phone, m.Text)
	}
	return nil
}

// The webhook checks the signature, parses the delivery and hands it to
// the receiver (the agent) before answering 200.
func ExampleWebhook() {
	hook, err := whatsapp.NewWebhook(printReceiver{}, whatsapp.WebhookOptions{
		AppSecrets:  []string{"app-secret"},
		VerifyToken: "verify-token",
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(hook)
	defer srv.Close()

	body := whatsapptest.TextDelivery("106540352242922", "16505551234", "US.13491208655302741918", "wamid.1", "hola", time.Unix(1739321024, 0))
	resp, err := http.DefaultClient.Do(whatsapptest.NewDelivery(srv.URL, body, "app-secret"))
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// text 106540352242922 US.13491208655302741918 16505551234 hola
	// 200
}

// A template is built and validated before it is submitted for review;
// a broken one names every rule it breaks.
func ExampleNewTemplate() {
	api := whatsapptest.NewServer("", "")
	defer api.Close()
	api.AddAccount(whatsapptest.Account{ID: "102290129340398", Token: "merchant-token"})
	wa, err := whatsapp.New(whatsapp.StaticToken("platform-token"), &whatsapp.Options{BaseURL: api.URL})
	if err != nil {
		panic(err)
	}
	merchant := whatsapp.Account{ID: "102290129340398", Credentials: whatsapp.StaticToken("merchant-token")}

	spec, err := whatsapp.NewTemplate("order_shipped", "en_US", whatsapp.TemplateUtility).
		Body("Hi {{1}}, order {{2}} is on its way.", "Ana", "A-1234").
		QuickReply("Track it").
		Build()
	if err != nil {
		panic(err)
	}
	created, err := wa.CreateTemplate(context.Background(), merchant, spec)
	if err != nil {
		panic(err)
	}
	fmt.Println(created.Status)

	_, err = whatsapp.NewTemplate("Order Shipped", "en_US", whatsapp.TemplateUtility).
		Body("Hi {{2}}", "Ana").
		Build()
	fmt.Println(err)
	// Output:
	// PENDING
	// channel: whatsapp: invalid message: whatsapp: template: name: only lower-case letters, digits and underscores
	// body: variables must be numbered {{1}} to {{1}} without gaps; {{1}} is missing
}
