package webwidget_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/webwidget"
)

// The host gives the widget to the agent as a channel and mounts its
// handler, with the agent as the receiver, under /chat/. The requests below
// are what the widget's script makes in the visitor's browser.
func Example() {
	st := memory.New(nil)
	w, err := webwidget.New(st, &webwidget.Options{
		Secret: []byte("use 32 or more random bytes from your secret store"),
		Sites: []webwidget.Site{{
			Key:              "tienda-sol",
			Name:             "Tienda Sol",
			Greeting:         "¡Hola! ¿En qué te ayudo?",
			PrivacyPolicyURL: "https://tiendasol.example/privacidad",
			AllowedOrigins:   []string{"https://tiendasol.example"},
			Labels:           webwidget.SpanishLabels(),
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	turns := make(chan agent.TurnInfo, 1)
	a, err := agent.New(agent.Config{
		Store:    st,
		Model:    llmtest.NewScripted(llmtest.Reply("Enviamos a todo el Perú en 3 días.")),
		Channels: []channel.Channel{w},
		Hooks:    agent.Hooks{TurnDone: func(ti agent.TurnInfo) { turns <- ti }},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	go a.Run(ctx)
	defer a.Shutdown(ctx)
	defer w.Close(ctx) // before the HTTP server's Shutdown: it ends the event streams

	mux := http.NewServeMux()
	mux.Handle("/chat/", http.StripPrefix("/chat", w.Handler(a)))

	// The page loads <script src="https://tiendasol.example/chat/widget.js"
	// data-site="tienda-sol" async>, which asks for a visitor token when the
	// visitor writes, and sends the message.
	call := func(method, path, token, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Origin", "https://tiendasol.example")
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		return rec
	}
	var session struct{ Token string }
	json.NewDecoder(call("POST", "/chat/session?site=tienda-sol", "", "").Body).Decode(&session)
	sent := call("POST", "/chat/messages?site=tienda-sol", session.Token, `{"id":"5f0c7e1e9a6b4d2c","text":"¿Envían a Cusco?"}`)
	fmt.Println("sent:", sent.Code)
	<-turns

	// After a reload the script restores the conversation.
	var history struct {
		Messages []struct{ Role, Text string }
	}
	json.NewDecoder(call("GET", "/chat/history?site=tienda-sol", session.Token, "").Body).Decode(&history)
	for _, m := range history.Messages {
		fmt.Printf("%s: %s\n", m.Role, m.Text)
	}
	// Output:
	// sent: 202
	// visitor: ¿Envían a Cusco?
	// assistant: Enviamos a todo el Perú en 3 días.
}
