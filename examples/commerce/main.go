package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
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
	"github.com/wagent/wagent/channel/instagram"
	"github.com/wagent/wagent/commerce"
	"github.com/wagent/wagent/examples/internal/setup"
	"github.com/wagent/wagent/webwidget"
	"github.com/wagent/wagent/whatsapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Getenv, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

// site is the widget's site key, the tenant of web conversations.
const site channel.TenantID = "tienda-sol"

// meta is the configuration of one Meta channel.
type meta struct {
	on                                    bool
	token, appSecret, verifyToken, tenant string
	apiURL                                string
}

// metaConfig reads prefix_ACCESS_TOKEN and the rest: all unset is off,
// some set is an error naming the first missing variable.
func metaConfig(getenv func(string) string, prefix, idName, defURL string) (meta, error) {
	names := []string{prefix + "_ACCESS_TOKEN", prefix + "_APP_SECRET", prefix + "_VERIFY_TOKEN", prefix + "_" + idName}
	vals := make([]string, len(names))
	set := 0
	for i, n := range names {
		vals[i] = strings.TrimSpace(getenv(n))
		if vals[i] != "" {
			set++
		}
	}
	m := meta{token: vals[0], appSecret: vals[1], verifyToken: vals[2], tenant: vals[3],
		apiURL: cmp.Or(strings.TrimSpace(getenv(prefix+"_API_URL")), defURL)}
	if set == 0 {
		return m, nil
	}
	for i, n := range names {
		if vals[i] == "" {
			return m, fmt.Errorf("missing environment variable %s (set all of %s or none)", n, strings.Join(names, ", "))
		}
	}
	m.on = true
	return m, nil
}

// app is the wired example.
type app struct {
	handler    http.Handler
	agent      *agent.Agent
	widget     *webwidget.Widget
	shop       *commerce.Memory
	adminToken string
	// generated reports that adminToken was made up (ADMIN_TOKEN unset).
	generated bool
	channels  []string
}

// run serves until ctx is done and returns the exit code.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	return serve(ctx, getenv, stdout, stderr, nil)
}

// serve is run; ready, when not nil, is given the wired shop once it
// serves (tests look at its orders).
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, ready func(*app)) int {
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "commerce:", err)
		return code
	}
	wa, err := metaConfig(getenv, "WHATSAPP", "PHONE_NUMBER_ID", whatsapp.DefaultBaseURL)
	if err != nil {
		return fail(exitConfig, err)
	}
	ig, err := metaConfig(getenv, "INSTAGRAM", "ACCOUNT_ID", instagram.DefaultBaseURL)
	if err != nil {
		return fail(exitConfig, err)
	}
	addr := cmp.Or(strings.TrimSpace(getenv("ADDR")), ":8080")
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	model, err := setup.NewModel(ctx, getenv, nil)
	if err != nil {
		return fail(exitConfig, err)
	}
	st, err := setup.OpenStore(ctx, getenv, &setup.Options{DefaultStore: "sqlite:commerce.db"})
	if err != nil {
		if errors.Is(err, setup.ErrConfig) {
			return fail(exitConfig, err)
		}
		return fail(exitFailed, err)
	}
	defer st.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fail(exitFailed, fmt.Errorf("ADDR=%s: %w", addr, err))
	}
	base, origins, err := setup.Origins(ln.Addr(), getenv("PUBLIC_URL"))
	if err != nil {
		ln.Close()
		return fail(exitConfig, err)
	}
	a, err := build(getenv, st, model, wa, ig, log, stdout, base, origins)
	if err != nil {
		ln.Close()
		return fail(exitConfig, err)
	}
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
	ran := make(chan error, 1)
	go func() { ran <- a.agent.Run(context.WithoutCancel(ctx)) }()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "commerce is running on %s (channels: %s)\n  shop: %s/\n  console: %s/console/\n  privacy API: %s/admin/privacy/\n  admin token: %s%s\n  model: %s, store: %s\n",
		base, strings.Join(a.channels, ", "), base, base, base, a.adminToken, tokenNote(a.generated), model.Description, st.Description)

	if ready != nil {
		ready(a)
	}
	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-served:
		log.Error("commerce: server stopped", slog.Any("err", err))
		code = exitFailed
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = a.widget.Close(sctx)
	_ = srv.Shutdown(sctx)
	_ = a.agent.Shutdown(sctx)
	if err := <-ran; err != nil && !errors.Is(err, agent.ErrClosed) && !errors.Is(err, context.Canceled) && code == exitOK {
		log.Error("commerce: agent", slog.Any("err", err))
		code = exitFailed
	}
	fmt.Fprintln(stdout, "stopped")
	return code
}

// products seeds the shop's catalog; prices are in céntimos.
var products = []commerce.Product{
	{ID: "sweater-alpaca", Name: "Alpaca sweater", Description: "Hand-knitted baby alpaca sweater, sizes S to XL", Price: commerce.Money{Amount: 28900, Currency: "PEN"}, Stock: 12, URL: "/"},
	{ID: "scarf-alpaca", Name: "Alpaca scarf", Description: "Soft scarf in natural colours", Price: commerce.Money{Amount: 9900, Currency: "PEN"}, Stock: 30},
	{ID: "beanie-alpaca", Name: "Alpaca beanie", Description: "Warm beanie, one size", Price: commerce.Money{Amount: 5900, Currency: "PEN"}, Stock: 0},
}

// profile is the business profile of every tenant of the shop.
var profile = agent.BusinessProfile{
	Name:     "Tienda Sol",
	About:    "an alpaca-wool shop in Miraflores, Lima",
	Returns:  "unused items within 30 days, refund to the original payment",
	Shipping: "Lima 1-2 working days (PEN 10), rest of Peru 3-5 working days (PEN 20)",
	Hours:    "Monday to Saturday 9:00-19:00 Lima time",
}

// build wires the shop: catalog, channels, agent, privacy engine, routes.
func build(getenv func(string) string, st setup.Store, model setup.Model, wa, ig meta, log *slog.Logger, out io.Writer, base string, origins []string) (*app, error) {
	a := &app{shop: &commerce.Memory{}, adminToken: strings.TrimSpace(getenv("ADMIN_TOKEN"))}
	if a.adminToken == "" {
		a.adminToken, a.generated = setup.RandomHex(24), true
	}
	tenants := []channel.TenantID{site}
	for _, p := range products {
		if err := a.shop.SetProduct(site, p); err != nil {
			return nil, err
		}
		for _, m := range []meta{wa, ig} {
			if m.on {
				if err := a.shop.SetProduct(channel.TenantID(m.tenant), p); err != nil {
					return nil, err
				}
			}
		}
	}
	// The privacy records live beside the conversations when the store
	// can keep them (store/sqlite and store/postgres do), else in memory.
	priv, err := setup.NewPrivacy(st.ConversationStore, log)
	if err != nil {
		return nil, err
	}
	// Visitors keep their conversation across restarts: the widget's
	// signing secret is WIDGET_SECRET, or kept in DATA_DIR.
	secret, err := setup.WidgetSecret(getenv, cmp.Or(strings.TrimSpace(getenv("DATA_DIR")), "."), st.Kind)
	if err != nil {
		return nil, err
	}
	w, err := webwidget.New(st.ConversationStore, &webwidget.Options{
		Secret: secret,
		Sites: []webwidget.Site{{Key: site, Name: profile.Name, Greeting: "Hello! Ask me about our alpaca products or your order.",
			PrivacyPolicyURL: base + "/privacy", AllowedOrigins: origins}},
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	a.widget = w
	chans := []channel.Channel{w}
	a.channels = []string{"widget"}
	var waClient *whatsapp.Client
	if wa.on {
		waClient, err = whatsapp.New(whatsapp.StaticToken(wa.token), &whatsapp.Options{BaseURL: wa.apiURL, AppSecret: wa.appSecret, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("WHATSAPP_API_URL: %w", err)
		}
		chans = append(chans, waClient)
		tenants = append(tenants, channel.TenantID(wa.tenant))
		a.channels = append(a.channels, "whatsapp")
	}
	var igClient *instagram.Client
	if ig.on {
		igClient, err = instagram.New(instagram.StaticToken(ig.token), &instagram.Options{BaseURL: ig.apiURL, AppSecret: ig.appSecret, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("INSTAGRAM_API_URL: %w", err)
		}
		chans = append(chans, igClient)
		tenants = append(tenants, channel.TenantID(ig.tenant))
		a.channels = append(a.channels, "instagram")
	}
	ag, err := agent.New(agent.Config{
		Store:        st.ConversationStore,
		Model:        model.Provider,
		Channels:     chans,
		Instructions: "You are the assistant of Tienda Sol. Answer briefly in the customer's language; search the catalog before naming products.",
		Catalog:      a.shop,
		Orders:       a.shop,
		Business:     func(channel.TenantID) agent.BusinessProfile { return profile },
		Handoff: agent.HandoffConfig{IdleTimeout: 5 * time.Minute, Notify: func(_ context.Context, e agent.HandoffEvent) {
			if e.Kind == agent.HandedToHuman {
				fmt.Fprintf(out, "handoff: conversation %s of %s is waiting for a person\n", e.Conversation, e.Tenant)
			}
		}},
		Consent: priv.Ledger,
		Privacy: agent.PrivacyConfig{Requests: priv.Requests, Audit: priv.Audit},
		Logger:  log,
	})
	if err != nil {
		return nil, err
	}
	a.agent = ag
	mux := http.NewServeMux()
	if wa.on {
		hook, err := whatsapp.NewWebhook(ag, whatsapp.WebhookOptions{AppSecrets: []string{wa.appSecret}, VerifyToken: wa.verifyToken,
			Tenants: []channel.TenantID{channel.TenantID(wa.tenant)}, Hooks: whatsapp.WebhookHooks{Account: waClient.Observe}, Logger: log})
		if err != nil {
			return nil, err
		}
		mux.Handle("/webhooks/whatsapp", hook)
	}
	if ig.on {
		hook, err := instagram.NewWebhook(ag, instagram.WebhookOptions{AppSecrets: []string{ig.appSecret}, VerifyToken: ig.verifyToken,
			Tenants: []channel.TenantID{channel.TenantID(ig.tenant)}, Client: igClient, Logger: log})
		if err != nil {
			return nil, err
		}
		mux.Handle("/webhooks/instagram", hook)
	}
	if err := priv.MountStaff(mux, ag, st.ConversationStore, setup.Staff{Token: a.adminToken, Name: "commerce", Tenants: tenants, Logger: log}); err != nil {
		return nil, err
	}
	mux.Handle("/chat/", http.StripPrefix("/chat", w.Handler(ag)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = productPage.Execute(w, struct {
			Site    channel.TenantID
			Product commerce.Product
		}{site, products[0]})
	})
	mux.HandleFunc("GET /privacy", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "Tienda Sol keeps your messages to answer you and deletes them on request.\n")
	})
	a.handler = mux
	return a, nil
}

var productPage = template.Must(template.New("p").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Product.Name}} - Tienda Sol</title></head>
<body><h1>{{.Product.Name}}</h1><p>{{.Product.Description}}</p><p>{{.Product.Price}}</p>
<script src="/chat/widget.js" data-site="{{.Site}}" defer></script></body></html>
`))

// tokenNote says where the admin token came from.
func tokenNote(generated bool) string {
	if generated {
		return "  (generated for this run; set ADMIN_TOKEN to choose one)"
	}
	return ""
}
