package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/console"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// A customer asks for a person; Ana sees the conversation waiting in the
// console, claims it and replies through the conversation's channel.
func Example() {
	ctx := context.Background()
	st := memory.New(nil)
	wa := channeltest.NewRecorder(channel.WhatsApp) // the WhatsApp channel in production
	turns := make(chan agent.TurnInfo, 1)
	a, err := agent.New(agent.Config{
		Store:          st,
		Model:          llmtest.NewScripted(),
		Channels:       []channel.Channel{wa},
		CoalesceWindow: -1,
		Hooks:          agent.Hooks{TurnDone: func(ti agent.TurnInfo) { turns <- ti }},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	go a.Run(ctx)
	defer a.Shutdown(ctx)
	audit, err := privacy.NewAudit(privacy.NewMemoryStorage(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := console.New(a, st, &console.Options{
		// The host's authentication: here a header its proxy sets.
		Operator: func(r *http.Request) (string, error) { return r.Header.Get("X-Staff"), nil },
		Tenants:  []channel.TenantID{"tienda-sol"},
		Audit:    audit,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(ctx)
	mux := http.NewServeMux()
	mux.Handle("/console/", http.StripPrefix("/console", c))

	customer := channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: "51987654321"}
	_ = a.Receive(ctx, channel.Inbound{Messages: []channel.Message{{ID: "wamid.1", From: customer, Type: channel.TypeText, Text: "quiero hablar con una persona"}}})
	<-turns

	call := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("X-Staff", "ana")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		return rec
	}
	var queue struct {
		Conversations []struct {
			ID       store.ConversationID `json:"id"`
			Customer string               `json:"customer"`
		} `json:"conversations"`
	}
	_ = json.NewDecoder(call("GET", "/console/api/tenants/tienda-sol/queue", "").Body).Decode(&queue)
	fmt.Println("waiting:", queue.Conversations[0].Customer)
	conv := "/console/api/tenants/tienda-sol/conversations/" + string(queue.Conversations[0].ID)
	fmt.Println("claim:", call("POST", conv+"/claim", "{}").Code)
	fmt.Println("reply:", call("POST", conv+"/reply", `{"text":"Hola, soy Ana. ¿En qué te ayudo?"}`).Code)
	for _, out := range wa.Sent() {
		fmt.Println("sent:", out.Text)
	}
	entries, _ := audit.Entries(ctx, privacy.AuditQuery{Tenant: "tienda-sol"})
	fmt.Println("audited views:", len(entries))
	fmt.Println("view:", call("GET", conv, "").Code)
	entries, _ = audit.Entries(ctx, privacy.AuditQuery{Tenant: "tienda-sol"})
	fmt.Println("audited views:", len(entries), entries[0].Event.Actor, entries[0].Event.Action)
	// Output:
	// waiting: •••4321
	// claim: 200
	// reply: 201
	// sent: A person from our team will reply here shortly.
	// sent: Hola, soy Ana. ¿En qué te ayudo?
	// audited views: 0
	// view: 200
	// audited views: 1 operator:ana operator_view
}
