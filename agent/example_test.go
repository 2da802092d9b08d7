package agent_test

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
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store/memory"
)

func Example() {
	wa := channeltest.NewRecorder(channel.WhatsApp) // stands in for the WhatsApp channel
	a, err := agent.New(agent.Config{
		Store:        memory.New(nil),
		Model:        llmtest.NewScripted(llmtest.Reply("¡Hola! Abrimos de 9 a 18 h.")),
		Channels:     []channel.Channel{wa},
		Instructions: "You are the assistant of Tienda Sol, a shop in Lima.",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	go a.Run(ctx)
	defer a.Shutdown(ctx)

	// What the WhatsApp webhook handler does for each delivery:
	err = a.Receive(ctx, channel.Inbound{Messages: []channel.Message{{
		ID:   "wamid.HBgLNTE5ODc2NTQzMjEVAgASGBQzQTk",
		From: channel.Address{Channel: channel.WhatsApp, Tenant: "1098765432", User: "51987654321"},
		Type: channel.TypeText,
		Text: "¿A qué hora abren?",
	}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	sent, _ := wa.Wait(ctx, 1)
	fmt.Printf("to %s: %s\n", sent[0].To.User, sent[0].Text)
	// Output: to 51987654321: ¡Hola! Abrimos de 9 a 18 h.
}

func ExampleNewTool() {
	type args struct {
		Order string `json:"order" description:"The order number, such as A-1001"`
	}
	status := agent.NewTool("order_status", "Tell the status of an order",
		func(ctx context.Context, in args) (string, error) {
			return "shipped", nil
		})
	fmt.Println(string(status.Definition().Parameters))
	// Output: {"type":"object","properties":{"order":{"type":"string","description":"The order number, such as A-1001"}},"required":["order"],"additionalProperties":false}
}

// A host mounts the agent behind its own HTTP handler: here a minimal JSON
// endpoint; the channel packages provide the real ones (WhatsApp webhook,
// web widget). The handler answers once the message is durable; the reply
// goes out asynchronously through the channel.
func ExampleAgent_Receive() {
	web := channeltest.NewRecorder("web")
	a, _ := agent.New(agent.Config{
		Store:    memory.New(nil),
		Model:    llmtest.Echo{Prefix: "you said: "},
		Channels: []channel.Channel{web},
	})
	ctx := context.Background()
	go a.Run(ctx)
	defer a.Shutdown(ctx)

	mux := http.NewServeMux()
	mux.HandleFunc("POST /messages", func(w http.ResponseWriter, r *http.Request) {
		var m channel.Message
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&m); err != nil {
			http.Error(w, "bad message", http.StatusBadRequest)
			return
		}
		if err := a.Receive(r.Context(), channel.Inbound{Messages: []channel.Message{m}}); err != nil {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted) // durable: safe to acknowledge
	})

	body := `{"id":"m-1","from":{"channel":"web","tenant":"shop-1","user":"visitor-7"},"type":"text","text":"hello"}`
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("POST", "/messages", strings.NewReader(body)))
	sent, _ := web.Wait(ctx, 1)
	fmt.Println(rec.Code, sent[0].Text)
	// Output: 202 you said: hello
}
