package main

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/examples/internal/setup"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/webwidget"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		if errors.Is(err, setup.ErrConfig) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// site is the widget's site key, the tenant of every web conversation.
const site channel.TenantID = "tienda-sol"

// run listens on ADDR and serves the demo until ctx is done.
func run(ctx context.Context, getenv func(string) string, out io.Writer) error {
	addr := cmp.Or(strings.TrimSpace(getenv("ADDR")), "localhost:8080")
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("ADDR=%s: %w", addr, err)
	}
	return serve(ctx, ln, options{Getenv: getenv, Out: out})
}

// options are what serve and newDemo take from main or a test.
type options struct {
	Getenv func(string) string
	// Out receives the start-up lines.
	Out io.Writer
	// Tools are more tools for the model, after order_status: where a
	// ticket or commerce tool plugs in.
	Tools []agent.Tool
	// Logger receives the logs (nil: warnings and errors on stderr).
	Logger *slog.Logger
}

func (o options) out() io.Writer {
	if o.Out == nil {
		return io.Discard
	}
	return o.Out
}

// serve runs the demo on ln until ctx is done, then shuts it down
// gracefully. It closes ln.
func serve(ctx context.Context, ln net.Listener, o options) error {
	public, origins, err := setup.Origins(ln.Addr(), o.Getenv("PUBLIC_URL"))
	if err != nil {
		ln.Close()
		return err
	}
	d, err := newDemo(ctx, o, public, origins)
	if err != nil {
		ln.Close()
		return err
	}
	// The agent runs until Shutdown: a cancelled ctx must not abandon the
	// turns in progress, they finish during the graceful shutdown below.
	ran := make(chan error, 1)
	go func() { ran <- d.agent.Run(context.WithoutCancel(ctx)) }()
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	d.banner(o.out(), public)

	var serveErr error
	select {
	case serveErr = <-served: // the listener failed
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	errs := []error{serveErr,
		d.widget.Close(sctx), // ends the event streams, which Shutdown would wait for
		srv.Shutdown(sctx),
		d.agent.Shutdown(sctx),
		<-ran,
		d.store.Close(),
	}
	return errors.Join(errs...)
}

// demo is the wired demo: the handler to serve and what to stop.
type demo struct {
	handler http.Handler
	agent   *agent.Agent
	widget  *webwidget.Widget
	store   setup.Store
	model   setup.Model
	// adminToken protects the privacy admin API; generated reports that
	// it was made up because ADMIN_TOKEN is unset.
	adminToken string
	generated  bool
	dataDir    string
	// privacyIn says where the privacy records are kept.
	privacyIn string
}

// newDemo wires the demo: the store and model of the environment, the
// privacy engine, the widget as the agent's channel, and the routes. public
// is the URL people open, origins the page origins allowed to embed the
// widget.
func newDemo(ctx context.Context, o options, public string, origins []string) (*demo, error) {
	getenv := o.Getenv
	out := o.out()
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	d := &demo{dataDir: dataDir(getenv)}
	if err := os.MkdirAll(d.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("DATA_DIR=%s: %w", d.dataDir, err)
	}
	model, err := setup.NewModel(ctx, getenv, &setup.Options{Fallback: offlineModel{}})
	if err != nil {
		return nil, err
	}
	st, err := setup.OpenStore(ctx, getenv, &setup.Options{DefaultStore: "sqlite:" + filepath.Join(d.dataDir, "quickstart.db")})
	if err != nil {
		return nil, err
	}
	d.model, d.store = model, st
	ok := false
	defer func() {
		if !ok {
			st.Close()
		}
	}()
	d.adminToken = strings.TrimSpace(getenv("ADMIN_TOKEN"))
	if d.adminToken == "" {
		d.adminToken, d.generated = setup.RandomHex(24), true
	}
	secret, err := setup.WidgetSecret(getenv, d.dataDir, st.Kind)
	if err != nil {
		return nil, err
	}

	// The privacy engine: consent ledger, data-subject requests, legal
	// holds and the audit log, kept in the conversation store when it can
	// keep them (store/sqlite and store/postgres do), else in memory.
	priv, err := setup.NewPrivacy(st.ConversationStore, log)
	if err != nil {
		return nil, err
	}
	d.privacyIn = priv.Where()

	greeting := "Hello! How can I help you today?"
	if model.Kind == "fallback" {
		greeting = "Hello! I am the offline demo assistant of Tienda Sol: I answer from the shop's FAQ and catalog. Ask about shipping, returns, sizes or an order such as A-1001."
	}
	w, err := webwidget.New(st.ConversationStore, &webwidget.Options{
		Secret: secret,
		Sites: []webwidget.Site{{
			Key:              site,
			Name:             shopName,
			Color:            "#9a3f1c",
			Greeting:         greeting,
			PrivacyPolicyURL: public + "/privacy",
			AllowedOrigins:   origins,
		}},
		// "Delete my data" in the widget goes through the privacy engine,
		// so that the erasure is audited and respects legal holds.
		Erase:  eraseVisitor(priv.Requests),
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	d.widget = w
	a, err := agent.New(agent.Config{
		Store:    st.ConversationStore,
		Model:    model.Provider,
		Channels: []channel.Channel{w},
		Instructions: "You are the assistant of Tienda Sol, an alpaca-wool shop in Miraflores, Lima. " +
			"Answer briefly, in the customer's language, only from what the shop's FAQ and catalog say; " +
			"look orders up with order_status; hand over to a person when the customer asks for one.",
		Tools: append([]agent.Tool{orderStatusTool()}, o.Tools...),
		Handoff: agent.HandoffConfig{
			// Nobody answers for the team in this demo: a conversation
			// handed to a person returns to the assistant when it has
			// been quiet for a while.
			IdleTimeout: handoffIdle,
			Notify:      notify(out),
		},
		Consent: priv.Ledger,
		Privacy: agent.PrivacyConfig{Requests: priv.Requests, Audit: priv.Audit},
		Logger:  log,
	})
	if err != nil {
		return nil, err
	}
	d.agent = a
	pages, err := newPages()
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	pages.mount(mux)
	mux.Handle("/chat/", http.StripPrefix("/chat", w.Handler(a)))
	// The privacy admin API and the operator console, behind the admin
	// token (a host puts its own authentication here instead).
	if err := priv.MountStaff(mux, a, st.ConversationStore, setup.Staff{
		Token: d.adminToken, Name: "quickstart", Tenants: []channel.TenantID{site}, Logger: log,
	}); err != nil {
		return nil, err
	}
	d.handler = mux
	ok = true
	return d, nil
}

// handoffIdle is how long a conversation handed to a person stays with
// the team without activity before the assistant answers again.
const handoffIdle = 5 * time.Minute

// notify prints the handoffs, for the team watching the terminal.
func notify(out io.Writer) func(context.Context, agent.HandoffEvent) {
	return func(_ context.Context, e agent.HandoffEvent) {
		switch e.Kind {
		case agent.HandedToHuman:
			fmt.Fprintf(out, "handoff: conversation %s of %s is waiting for a person (%s); it returns to the assistant after %v without activity\n",
				e.Conversation, e.Tenant, e.Reason, handoffIdle)
		case agent.ReturnedToAI:
			fmt.Fprintf(out, "handoff: conversation %s of %s is back with the assistant (%s)\n", e.Conversation, e.Tenant, e.Reason)
		}
	}
}

// eraseVisitor erases a widget visitor through the privacy engine: an
// erasure request, verified (the visitor holds their own token), fulfilled
// at once. A visitor who never wrote has nothing to erase.
func eraseVisitor(requests *privacy.Requests) func(context.Context, channel.Address) error {
	return func(ctx context.Context, visitor channel.Address) error {
		r, err := requests.Submit(ctx, privacy.Submission{Type: privacy.RequestErasure, Address: visitor,
			Origin: privacy.OriginAPI, Actor: privacy.ActorSubject, Verified: true})
		if err == nil {
			_, err = requests.Fulfil(ctx, r.ID, privacy.ActorSubject)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}
}

// banner prints where everything is.
func (d *demo) banner(out io.Writer, public string) {
	tokenNote := "from ADMIN_TOKEN"
	if d.generated {
		tokenNote = "generated for this run; set ADMIN_TOKEN to choose one"
	}
	model := d.model.Description
	if d.model.Kind == "fallback" {
		model = "offline demo (answers from the shop's FAQ; set OPENAI_API_KEY or GEMINI_API_KEY for a real model)"
	}
	fmt.Fprintf(out, `wagent quickstart is running (Ctrl-C to stop)
  shop:         %[1]s/
  console:      %[1]s/console/  (sign in with the admin token)
  privacy API:  %[1]s/admin/privacy/  (Authorization: Bearer <admin token>)
  admin token:  %[2]s  (%[3]s)
  model:        %[4]s
  store:        %[5]s
  privacy data: consent ledger, requests, holds and audit log in %[7]s
  try:          curl -H "Authorization: Bearer %[2]s" '%[1]s/admin/privacy/requests?tenant=%[6]s'
`, public, d.adminToken, tokenNote, model, d.store.Description, site, d.privacyIn)
}

// dataDir returns DATA_DIR, or wagent-quickstart in the user's cache
// directory (the system's temporary directory when there is none).
func dataDir(getenv func(string) string) string {
	if dir := strings.TrimSpace(getenv("DATA_DIR")); dir != "" {
		return dir
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "wagent-quickstart")
}

//go:embed site
var siteFS embed.FS

// pages serves the shop's site.
type pages struct {
	index, product, privacy *template.Template
	static                  http.Handler
}

func newPages() (*pages, error) {
	parse := func(name string) (*template.Template, error) {
		return template.ParseFS(siteFS, "site/layout.html", "site/"+name)
	}
	var p pages
	var err error
	if p.index, err = parse("index.html"); err != nil {
		return nil, err
	}
	if p.product, err = parse("product.html"); err != nil {
		return nil, err
	}
	if p.privacy, err = parse("privacy.html"); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(siteFS, "site")
	if err != nil {
		return nil, err
	}
	p.static = http.StripPrefix("/static/", http.FileServerFS(sub))
	return &p, nil
}

// page is what the templates show.
type page struct {
	Title    string
	Site     channel.TenantID
	Products []product
	FAQ      []faqEntry
	Product  *product
}

func (p *pages) mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		p.render(w, p.index, page{Title: "Alpaca wool from Lima", Products: catalog, FAQ: faq})
	})
	mux.HandleFunc("GET /products/{slug}", func(w http.ResponseWriter, r *http.Request) {
		for i := range catalog {
			if catalog[i].Slug == r.PathValue("slug") {
				p.render(w, p.product, page{Title: catalog[i].Name.EN, Product: &catalog[i]})
				return
			}
		}
		http.NotFound(w, r)
	})
	mux.HandleFunc("GET /privacy", func(w http.ResponseWriter, r *http.Request) {
		p.render(w, p.privacy, page{Title: "Privacy"})
	})
	mux.Handle("GET /static/style.css", p.static)
}

func (p *pages) render(w http.ResponseWriter, t *template.Template, data page) {
	data.Site = site
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// The widget adds no inline script or style: a strict policy works.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' https: data:; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	if err := t.ExecuteTemplate(w, "page", data); err != nil {
		http.Error(w, "page failed", http.StatusInternalServerError)
	}
}
