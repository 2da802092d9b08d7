package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/webwidget"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	spanish := flag.Bool("es", false, "show the widget in Spanish")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *spanish); err != nil {
		fmt.Fprintln(os.Stderr, "widgetdemo:", err)
		os.Exit(1)
	}
}

const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Tienda Sol</title></head>
<body>
<h1>Tienda Sol</h1>
<p>Alpaca wool from Lima. The chat button is at the bottom right.</p>
<script src="/chat/widget.js" data-site="tienda-sol" async></script>
</body>
</html>`

// newServer wires the demo: a memory store, an echo model, the widget as
// the agent's channel. It returns the HTTP handler and the agent and
// widget to run and stop.
func newServer(origin string, spanish bool) (http.Handler, *agent.Agent, *webwidget.Widget, error) {
	secret := make([]byte, 32)
	_, _ = rand.Read(secret) // a fresh secret per run: visitors start over after a restart
	labels := webwidget.EnglishLabels()
	if spanish {
		labels = webwidget.SpanishLabels()
	}
	st := memory.New(nil)
	w, err := webwidget.New(st, &webwidget.Options{
		Secret: secret,
		Sites: []webwidget.Site{{
			Key:              "tienda-sol",
			Name:             "Tienda Sol",
			Color:            "#0b6e4f",
			Greeting:         "Hello! I repeat what you write (offline demo). Type \"menu\" for quick replies.",
			PrivacyPolicyURL: "https://example.com/privacy",
			AllowedOrigins:   []string{origin},
			Labels:           labels,
		}},
		Erase: func(ctx context.Context, who channel.Address) error { return nil }, // the privacy engine's job
	})
	if err != nil {
		return nil, nil, nil, err
	}
	a, err := agent.New(agent.Config{
		Store:    st,
		Model:    llmtest.Echo{Prefix: "You said: "},
		Channels: []channel.Channel{menuChannel{w}},
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return nil, nil, nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/chat/", http.StripPrefix("/chat", w.Handler(a)))
	mux.HandleFunc("GET /{$}", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https:")
		fmt.Fprint(rw, page)
	})
	return mux, a, w, nil
}

func run(ctx context.Context, addr string, spanish bool) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	origin := "http://" + ln.Addr().String()
	h, a, w, err := newServer(origin, spanish)
	if err != nil {
		return err
	}
	go a.Run(ctx)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("widgetdemo: open %s in a browser (Ctrl-C to stop)\n", origin)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(w.Close(sctx), srv.Shutdown(sctx), a.Shutdown(sctx))
}

// menuChannel turns the reply to "menu" into buttons, to show quick-reply
// chips: the agent sends text, the channel's Send takes any Outbound.
type menuChannel struct{ *webwidget.Widget }

func (m menuChannel) Send(ctx context.Context, out channel.Outbound) (channel.SendResult, error) {
	if strings.EqualFold(strings.TrimSpace(string(out.Text)), "You said: menu") {
		out.Text = "What would you like to do?"
		out.Interactive = &channel.Interactive{Buttons: []channel.Button{
			{ID: "hours", Title: "Opening hours"}, {ID: "shipping", Title: "Shipping"}, {ID: "human", Title: "Talk to a person"},
		}}
	}
	return m.Widget.Send(ctx, out)
}
