package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/examples/internal/setup"
	"github.com/wagent/wagent/whatsapp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "templates" {
		os.Exit(templates(ctx, os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(run(ctx, os.Getenv, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitConfig = 2
)

// DefaultStore is the store used when STORE is unset: the embedded
// database, so that replies and statuses survive a restart.
const DefaultStore = "sqlite:wagent.db"

type config struct {
	token, appSecret, verifyToken string
	phoneNumberID                 channel.TenantID
	apiURL, addr                  string
	throughput, contactLimit      int
	instance                      string
	adminToken                    string
	metadataOnly                  bool
	logLevel                      slog.Level
}

// minAdminToken is the shortest ADMIN_TOKEN accepted: it guards every
// customer's data.
const minAdminToken = 16

// retentionEvery is how often the retention policy is applied.
const retentionEvery = time.Hour

// configure reads the configuration from getenv. Its error is one line
// naming what is wrong.
func configure(getenv func(string) string) (config, error) {
	c := config{
		token:         getenv("WHATSAPP_ACCESS_TOKEN"),
		appSecret:     getenv("WHATSAPP_APP_SECRET"),
		verifyToken:   getenv("WHATSAPP_VERIFY_TOKEN"),
		phoneNumberID: channel.TenantID(getenv("WHATSAPP_PHONE_NUMBER_ID")),
		apiURL:        cmp.Or(getenv("WHATSAPP_API_URL"), whatsapp.DefaultBaseURL),
		addr:          cmp.Or(getenv("ADDR"), ":8080"),
	}
	var missing []string
	for _, v := range []struct{ name, value string }{
		{"WHATSAPP_ACCESS_TOKEN", c.token},
		{"WHATSAPP_APP_SECRET", c.appSecret},
		{"WHATSAPP_VERIFY_TOKEN", c.verifyToken},
		{"WHATSAPP_PHONE_NUMBER_ID", string(c.phoneNumberID)},
	} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("missing required environment variable %s", strings.Join(missing, ", "))
	}
	var err error
	if c.throughput, err = intSetting(getenv, "WHATSAPP_THROUGHPUT", whatsapp.DefaultThroughput, 1, whatsapp.MaxThroughput); err != nil {
		return c, err
	}
	if v := strings.TrimSpace(getenv("CONTACT_LIMIT")); strings.EqualFold(v, "off") {
		c.contactLimit = -1
	} else if c.contactLimit, err = intSetting(getenv, "CONTACT_LIMIT", agent.DefaultContactLimit, 1, 1<<20); err != nil {
		return c, fmt.Errorf("%w (or off)", err)
	}
	c.instance = strings.TrimSpace(getenv("INSTANCE"))
	if c.adminToken = strings.TrimSpace(getenv("ADMIN_TOKEN")); c.adminToken != "" && len(c.adminToken) < minAdminToken {
		return c, fmt.Errorf("ADMIN_TOKEN is too short: use at least %d characters", minAdminToken)
	}
	switch v := strings.ToLower(strings.TrimSpace(getenv("METADATA_ONLY"))); v {
	case "", "off", "false", "0":
	case "on", "true", "1":
		c.metadataOnly = true
	default:
		return c, fmt.Errorf("METADATA_ONLY=%s: use on or off", v)
	}
	if err := c.logLevel.UnmarshalText([]byte(cmp.Or(getenv("LOG_LEVEL"), "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL=%s: use debug, info, warn or error", getenv("LOG_LEVEL"))
	}
	return c, nil
}

// intSetting reads the integer variable name, def when unset, and checks
// that it lies in [lo, hi].
func intSetting(getenv func(string) string, name string, def, lo, hi int) (int, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s=%s: use a whole number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// run runs the bot until ctx is done and returns the process's exit code.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := configure(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	model, err := setup.NewModel(ctx, getenv, nil)
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	st, err := setup.OpenStore(ctx, getenv, &setup.Options{DefaultStore: DefaultStore})
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		if errors.Is(err, setup.ErrConfig) {
			return exitConfig
		}
		return exitFailed
	}
	defer st.Close()

	wa, err := whatsapp.New(whatsapp.StaticToken(cfg.token), &whatsapp.Options{
		BaseURL:    cfg.apiURL,
		AppSecret:  cfg.appSecret,
		Throughput: cfg.throughput,
		Logger:     log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	instance := cfg.instance
	if instance == "" && st.Kind == "postgres" {
		// Several processes may share the database: each needs a name.
		host, _ := os.Hostname()
		instance = fmt.Sprintf("%s:%d", cmp.Or(host, "wagent"), os.Getpid())
	}
	priv, err := setup.NewPrivacy(st.ConversationStore, log)
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitFailed
	}
	retention, err := priv.Retention(st.ConversationStore, []channel.TenantID{cfg.phoneNumberID}, cfg.metadataOnly, log)
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitFailed
	}
	a, err := agent.New(agent.Config{
		Store:        st.ConversationStore,
		Model:        model.Provider,
		Channels:     []channel.Channel{wa},
		Instructions: "You are the WhatsApp assistant of a small shop. Be brief and kind.",
		ContactLimit: cfg.contactLimit,
		Instance:     instance,
		Consent:      priv.Ledger,
		Privacy:      agent.PrivacyConfig{Requests: priv.Requests, Audit: priv.Audit},
		Logger:       log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	hook, err := whatsapp.NewWebhook(a, whatsapp.WebhookOptions{
		AppSecrets:  []string{cfg.appSecret},
		VerifyToken: cfg.verifyToken,
		Tenants:     []channel.TenantID{cfg.phoneNumberID},
		// Throughput upgrades and template status changes reach the client.
		Hooks:  whatsapp.WebhookHooks{Account: wa.Observe},
		Logger: log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}

	mux := http.NewServeMux()
	mux.Handle("/webhooks/whatsapp", hook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	staff := "not mounted (set ADMIN_TOKEN)"
	if cfg.adminToken != "" {
		if err := priv.MountStaff(mux, a, st.ConversationStore, setup.Staff{
			Token: cfg.adminToken, Name: "whatsapp", Tenants: []channel.TenantID{cfg.phoneNumberID}, Logger: log,
		}); err != nil {
			fmt.Fprintln(stderr, "whatsapp:", err)
			return exitFailed
		}
		staff = "/console/ and /admin/privacy/"
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp: ADDR:", err)
		return exitFailed
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	agentDone := make(chan error, 1)
	go func() { agentDone <- a.Run(runCtx) }()
	serveDone := make(chan error, 1)
	go func() { serveDone <- srv.Serve(ln) }()
	purgeDone := make(chan struct{})
	go func() {
		defer close(purgeDone)
		setup.KeepPurging(runCtx, retention, retentionEvery, log)
	}()
	fmt.Fprintf(stdout, "listening on http://%s (webhook /webhooks/whatsapp, phone number %s, store %s, model %s, staff %s)\n",
		ln.Addr(), cfg.phoneNumberID, st.Description, model.Description, staff)

	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-serveDone:
		log.Error("whatsapp: server stopped", slog.Any("err", err))
		code = exitFailed
	case err := <-agentDone:
		log.Error("whatsapp: agent stopped", slog.Any("err", err))
		code = exitFailed
	}

	// Stop taking deliveries, then let the agent finish the replies in
	// progress; what it does not finish stays recorded for the next start.
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("whatsapp: server shutdown", slog.Any("err", err))
	}
	if err := a.Shutdown(sctx); err != nil {
		log.Warn("whatsapp: agent shutdown", slog.Any("err", err))
	}
	cancelRun()
	<-purgeDone
	// ErrClosed: the stop came before Run began, which is a clean stop too.
	if err := <-agentDone; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, agent.ErrClosed) && code == exitOK {
		log.Error("whatsapp: agent", slog.Any("err", err))
		code = exitFailed
	}
	fmt.Fprintln(stdout, "stopped")
	return code
}
