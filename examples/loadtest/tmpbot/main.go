// Command whatsapp runs a WhatsApp assistant on the Cloud API, configured
// only by environment variables:
//
//	WHATSAPP_ACCESS_TOKEN     required: a system-user access token
//	WHATSAPP_APP_SECRET       required: the Meta app secret (webhook signatures, appsecret_proof)
//	WHATSAPP_VERIFY_TOKEN     required: the token set with the webhook in the app dashboard
//	WHATSAPP_PHONE_NUMBER_ID  required: the business phone number this bot answers
//	WHATSAPP_API_URL          default https://graph.facebook.com
//	ADDR                      default :8080
//	STORE                     memory (default; sqlite:PATH and postgres:DSN are coming)
//	LLM                       echo, openai or gemini (default: by which of OPENAI_API_KEY,
//	                          GEMINI_API_KEY is set, else echo; only echo in this build)
//	LOG_LEVEL                 debug, info (default), warn or error
//
// It serves the webhook at /webhooks/whatsapp (point the app's webhook
// there, subscribed to the "messages" field) and a health check at
// /healthz, and stops gracefully on SIGINT or SIGTERM: the server first,
// then the agent, which finishes the replies in progress.
//
//	WHATSAPP_ACCESS_TOKEN=... WHATSAPP_APP_SECRET=... WHATSAPP_VERIFY_TOKEN=... \
//	WHATSAPP_PHONE_NUMBER_ID=... go run ./examples/whatsapp
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
	_ "net/http/pprof"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/store/postgres"
	"github.com/wagent/wagent/store/sqlite"
	"github.com/wagent/wagent/whatsapp"
	"strconv"
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

type config struct {
	token, appSecret, verifyToken string
	phoneNumberID                 channel.TenantID
	apiURL, addr, store, llm      string
	logLevel                      slog.Level
}

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
		store:         cmp.Or(getenv("STORE"), "memory"),
		llm:           getenv("LLM"),
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
	if c.llm == "" {
		switch {
		case getenv("OPENAI_API_KEY") != "":
			c.llm = "openai"
		case getenv("GEMINI_API_KEY") != "":
			c.llm = "gemini"
		default:
			c.llm = "echo"
		}
	}
	if err := c.logLevel.UnmarshalText([]byte(cmp.Or(getenv("LOG_LEVEL"), "info"))); err != nil {
		return c, fmt.Errorf("LOG_LEVEL=%s: use debug, info, warn or error", getenv("LOG_LEVEL"))
	}
	return c, nil
}

// openStore opens the store STORE names.
func openStore(spec string) (store.ConversationStore, func(), error) {
	kind, _, _ := strings.Cut(spec, ":")
	switch kind {
	case "memory":
		st := memory.New(nil)
		return st, func() { st.Close() }, nil
	case "sqlite":
		_, arg, _ := strings.Cut(spec, ":")
		st, err := sqlite.Open(context.Background(), arg, nil)
		if err != nil {
			return nil, nil, err
		}
		return st, func() { st.Close() }, nil
	case "postgres":
		_, arg, _ := strings.Cut(spec, ":")
		st, err := postgres.Open(context.Background(), arg, nil)
		if err != nil {
			return nil, nil, err
		}
		return st, func() { st.Close() }, nil
	}
	return nil, nil, fmt.Errorf("STORE=%s: use memory, sqlite:PATH or postgres:DSN", spec)
}

// openModel returns the model LLM names.
func openModel(name string) (llm.Provider, error) {
	switch name {
	case "echo":
		return llmtest.Echo{Prefix: "echo: "}, nil
	case "openai", "gemini":
		return nil, fmt.Errorf("LLM=%s: not available in this build yet", name)
	}
	return nil, fmt.Errorf("LLM=%s: use echo, openai or gemini", name)
}

// run runs the bot until ctx is done and returns the process's exit code.
func run(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := configure(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	st, closeStore, err := openStore(cfg.store)
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	defer closeStore()
	model, err := openModel(cfg.llm)
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}

	wa, err := whatsapp.New(whatsapp.StaticToken(cfg.token), &whatsapp.Options{
		BaseURL:    cfg.apiURL,
		AppSecret:  cfg.appSecret,
		Throughput: envInt(getenv, "WHATSAPP_THROUGHPUT"),
		PairBurst:  envInt(getenv, "WHATSAPP_PAIR_BURST"),
		Logger:     log,
	})
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	var chn channel.Channel = wa
	if k := envInt(getenv, "WHATSAPP_CLIENTS"); k > 1 {
		m := &multi{Client: wa}
		for range k {
			c, _ := whatsapp.New(whatsapp.StaticToken(cfg.token), &whatsapp.Options{BaseURL: cfg.apiURL, AppSecret: cfg.appSecret,
				Throughput: envInt(getenv, "WHATSAPP_THROUGHPUT"), PairBurst: envInt(getenv, "WHATSAPP_PAIR_BURST"), Logger: log})
			m.cs = append(m.cs, c)
		}
		chn = m
	}
	if p := getenv("PPROF_ADDR"); p != "" {
		go http.ListenAndServe(p, nil)
	}
	a, err := agent.New(agent.Config{
		Store:            st,
		Model:            model,
		Channels:         []channel.Channel{chn},
		Instructions:     "You are the WhatsApp assistant of a small shop. Be brief and kind.",
		Logger:           log,
		ContactLimit:     envInt(getenv, "CONTACT_LIMIT"),
		CoalesceWindow:   envDur(getenv, "COALESCE_WINDOW"),
		ResendAfter:      envDur(getenv, "RESEND_AFTER"),
		RetryDelay:       envDur(getenv, "RETRY_DELAY"),
		RecoveryInterval: envDur(getenv, "RECOVERY_INTERVAL"),
		Workers:          envInt(getenv, "WORKERS"),
		Instance:         getenv("INSTANCE"),
	})
	if err != nil {
		fmt.Fprintln(stderr, "whatsapp:", err)
		return exitConfig
	}
	hook, err := whatsapp.NewWebhook(a, whatsapp.WebhookOptions{
		AppSecrets:  []string{cfg.appSecret},
		VerifyToken: cfg.verifyToken,
		Tenants:     []channel.TenantID{cfg.phoneNumberID},
		Logger:      log,
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
	fmt.Fprintf(stdout, "listening on http://%s (webhook /webhooks/whatsapp, phone number %s, store %s, model %s)\n",
		ln.Addr(), cfg.phoneNumberID, cfg.store, cfg.llm)

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
	if err := <-agentDone; err != nil && !errors.Is(err, context.Canceled) && code == exitOK {
		log.Error("whatsapp: agent", slog.Any("err", err))
		code = exitFailed
	}
	fmt.Fprintln(stdout, "stopped")
	return code
}

func envInt(getenv func(string) string, k string) int {
	n, _ := strconv.Atoi(getenv(k))
	return n
}

func envDur(getenv func(string) string, k string) time.Duration {
	d, _ := time.ParseDuration(getenv(k))
	return d
}

type multi struct {
	*whatsapp.Client
	cs []*whatsapp.Client
	n  atomic.Uint64
}

func (m *multi) pick() *whatsapp.Client { return m.cs[m.n.Add(1)%uint64(len(m.cs))] }

func (m *multi) Send(ctx context.Context, out channel.Outbound) (channel.SendResult, error) {
	return m.pick().Send(ctx, out)
}

func (m *multi) Typing(ctx context.Context, to channel.Address, id channel.MessageID) error {
	return m.pick().Typing(ctx, to, id)
}
