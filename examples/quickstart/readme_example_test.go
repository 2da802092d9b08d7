package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/webwidget"
	"github.com/wagent/wagent/whatsapp"
)

type orderQuery struct {
	Order string `json:"order" description:"Order number, such as A-1001"`
}

// orderStatus is the host's own code, offered to the model as a tool.
func orderStatus(ctx context.Context, q orderQuery) (string, error) {
	return "shipped", nil
}

// Example_mountOnYourMux is the quick start of README.md, verbatim between
// the markers (TestReadmeQuickStart checks it): the agent on the host's own
// http.ServeMux, answering on WhatsApp and on the website. The requests
// after the markers are what Meta and the widget's script send.
func Example_mountOnYourMux() {
	ctx := context.Background()
	token, appSecret, verifyToken := "EAAG-token", "app-secret", "verify-token" // from your secret store
	secret := []byte("32 or more random bytes from your secret store")
	// README quick start begins
	st := memory.New(nil) // embedded and durable: sqlite.Open(ctx, "wagent.db", nil); several instances: postgres.Open
	wa, err1 := whatsapp.New(whatsapp.StaticToken(token), nil)
	web, err2 := webwidget.New(st, &webwidget.Options{Secret: secret, Sites: []webwidget.Site{{
		Key: "tienda-sol", Name: "Tienda Sol", PrivacyPolicyURL: "https://tiendasol.example/privacy",
		AllowedOrigins: []string{"https://tiendasol.example"}}}})
	a, err3 := agent.New(agent.Config{
		Store:        st,
		Model:        llmtest.Echo{Prefix: "echo: "}, // or openai.New(key, nil), gemini.New(ctx, key, nil)
		Channels:     []channel.Channel{wa, web},
		Instructions: "You are the assistant of Tienda Sol, a shop in Lima.",
		Tools:        []agent.Tool{agent.NewTool("order_status", "Status of an order", orderStatus)},
	})
	hook, err4 := whatsapp.NewWebhook(a, whatsapp.WebhookOptions{AppSecrets: []string{appSecret}, VerifyToken: verifyToken})
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		log.Fatal(err)
	}
	go a.Run(ctx)         // workers and crash recovery
	defer a.Shutdown(ctx) // drains the turns in progress
	defer web.Close(ctx)  // ends the widget's event streams

	mux := http.NewServeMux() // your application's mux
	mux.Handle("/webhooks/whatsapp", hook)
	mux.Handle("/chat/", http.StripPrefix("/chat", web.Handler(a)))
	// pages embed <script src="/chat/widget.js" data-site="tienda-sol" async></script>
	// README quick start ends

	call := func(method, path, bearer, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Origin", "https://tiendasol.example")
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		return rec
	}
	// Meta's verification handshake when the webhook URL is saved.
	hs := call("GET", "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=verify-token&hub.challenge=1158201444", "", "")
	fmt.Println("handshake:", hs.Code, hs.Body.String())
	// A visitor writes in the widget.
	var session struct{ Token string }
	_ = json.NewDecoder(call("POST", "/chat/session?site=tienda-sol", "", "").Body).Decode(&session)
	sent := call("POST", "/chat/messages?site=tienda-sol", session.Token, `{"id":"5f0c7e1e9a6b4d2c","text":"hola"}`)
	fmt.Println("message:", sent.Code)
	// Output:
	// handshake: 200 1158201444
	// message: 202
}

// TestReadmeQuickStart keeps README.md's quick start identical to the
// example above, which the compiler checks and go test runs.
func TestReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	src, err := os.ReadFile("readme_example_test.go")
	require.NoError(t, err)
	_, block, ok := strings.Cut(string(readme), "## Quick start")
	require.True(t, ok, "README.md has a Quick start section")
	_, block, ok = strings.Cut(block, "```go\n")
	require.True(t, ok, "the quick start has a Go block")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)

	_, code, _ := strings.Cut(string(src), "// README quick start begins\n")
	code, _, _ = strings.Cut(code, "\t// README quick start ends")
	var lines []string
	for _, l := range strings.SplitAfter(code, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	require.Equal(t, strings.Join(lines, ""), block, "README.md's quick start must be the code of Example_mountOnYourMux")
	require.LessOrEqual(t, strings.Count(block, "\n"), 30, "the quick start stays short")
}
