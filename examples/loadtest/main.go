package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	exitSetup  = 3
)

// config is a run's configuration, from the flags.
type config struct {
	messages, contacts, concurrency int
	duplicates, rate                float64
	targets                         []string
	bot                             string
	bots                            int
	store                           string
	env                             []string
	botLog                          string
	webhookPath                     string
	graphAddr                       string
	latency, jitter                 time.Duration
	fail5xx, fail429, hang          float64
	statuses                        []string
	statusDelay                     time.Duration
	statusWorkers                   int
	token, appSecret, verifyToken   string
	phoneNumberID                   string
	killAfter, kills                int
	drain, settle, timeout, startup time.Duration
	json                            bool
	seed                            uint64
	run                             string
}

// list is a repeatable flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.messages, "n", 10000, "messages to send")
	fs.IntVar(&c.contacts, "contacts", 500, "users writing to the bot")
	fs.IntVar(&c.concurrency, "concurrency", 64, "users writing at once (webhook deliveries in flight)")
	fs.Float64Var(&c.duplicates, "duplicates", 0.05, "fraction of messages delivered twice at once")
	fs.Float64Var(&c.rate, "rate", 0, "messages per second at most (0: as fast as the bot acknowledges)")
	var targets, env list
	fs.Var(&targets, "target", "webhook URL of a running bot (repeatable; deliveries are spread between them)")
	fs.StringVar(&c.bot, "bot", "", "command that runs the bot under test (a binary path, or 'go run ./examples/whatsapp')")
	fs.IntVar(&c.bots, "bots", 1, "instances of -bot to start, all on -store")
	fs.StringVar(&c.store, "store", "memory", "STORE of the bots started with -bot: memory, sqlite:PATH or postgres:DSN")
	fs.Var(&env, "env", "KEY=VALUE added to the environment of the bots started with -bot (repeatable)")
	fs.StringVar(&c.botLog, "bot-log", "", "file receiving the output of the bots started with -bot (default: standard error)")
	fs.StringVar(&c.webhookPath, "webhook-path", "/webhooks/whatsapp", "path of the webhook on the bots started with -bot")
	fs.StringVar(&c.graphAddr, "graph-addr", "127.0.0.1:0", "address of the fake Graph API")
	fs.DurationVar(&c.latency, "latency", 0, "latency of every Graph API answer")
	fs.DurationVar(&c.jitter, "jitter", 0, "random extra latency, up to this much")
	fs.Float64Var(&c.fail5xx, "fail-5xx", 0, "fraction of message sends answered 500 (code 131000)")
	fs.Float64Var(&c.fail429, "fail-429", 0, "fraction of message sends answered 429 (code 130429, throughput)")
	fs.Float64Var(&c.hang, "hang", 0, "fraction of accepted message sends whose connection is closed unanswered")
	statuses := fs.String("statuses", "sent", "statuses posted back for each accepted message, comma-separated (sent, delivered, read), or none")
	fs.DurationVar(&c.statusDelay, "status-delay", 0, "how long after accepting a message its statuses are posted")
	fs.IntVar(&c.statusWorkers, "status-workers", 8, "status webhooks in flight at once")
	fs.StringVar(&c.token, "token", "loadtest-access-token", "access token the Graph API accepts")
	fs.StringVar(&c.appSecret, "app-secret", "loadtest-app-secret", "app secret signing webhooks and appsecret_proof")
	fs.StringVar(&c.verifyToken, "verify-token", "loadtest-verify-token", "webhook verify token given to the bots")
	fs.StringVar(&c.phoneNumberID, "phone-number-id", "106540352242922", "the business phone number id")
	fs.IntVar(&c.killAfter, "kill-after", 0, "kill the first bot (SIGKILL) once this many messages are acknowledged, then restart it")
	fs.IntVar(&c.kills, "kills", 1, "how many times to kill the bot, every -kill-after acknowledged messages")
	fs.DurationVar(&c.drain, "drain", time.Minute, "how long to wait for replies after the last progress")
	fs.DurationVar(&c.settle, "settle", time.Second, "how long to keep watching for late (doubled) replies once every message is answered")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Minute, "the whole run at most")
	fs.DurationVar(&c.startup, "startup", 3*time.Minute, "how long a bot may take to listen (go run compiles first)")
	fs.BoolVar(&c.json, "json", false, "print the summary as JSON")
	fs.Uint64Var(&c.seed, "seed", 0, "seed of the duplicate choices (0: random)")
	fs.StringVar(&c.run, "run", "", "run id tagging the messages (default: random)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, t := range targets {
		for _, u := range strings.Split(t, ",") {
			if u = strings.TrimSpace(u); u != "" {
				c.targets = append(c.targets, u)
			}
		}
	}
	c.env = env
	if *statuses != "none" && *statuses != "" {
		for _, s := range strings.Split(*statuses, ",") {
			c.statuses = append(c.statuses, strings.TrimSpace(s))
		}
	}
	return c, c.validate()
}

func (c *config) validate() error {
	var errs []error
	if c.messages <= 0 || c.contacts <= 0 || c.concurrency <= 0 {
		errs = append(errs, errors.New("-n, -contacts and -concurrency must be positive"))
	}
	if c.contacts > 9_999_999 {
		errs = append(errs, errors.New("-contacts must be at most 9999999"))
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"duplicates", c.duplicates}, {"fail-5xx", c.fail5xx}, {"fail-429", c.fail429}, {"hang", c.hang}} {
		if f.v < 0 || f.v > 1 {
			errs = append(errs, fmt.Errorf("-%s must be a fraction between 0 and 1", f.name))
		}
	}
	if c.fail5xx+c.fail429 >= 1 {
		errs = append(errs, errors.New("-fail-5xx and -fail-429 leave no send to succeed"))
	}
	if c.rate < 0 || c.latency < 0 || c.jitter < 0 || c.killAfter < 0 || c.kills < 0 || c.statusDelay < 0 || c.statusWorkers <= 0 {
		errs = append(errs, errors.New("-rate, -latency, -jitter, -kill-after, -kills and -status-delay must not be negative, -status-workers must be positive"))
	}
	switch {
	case c.bot == "" && len(c.targets) == 0:
		errs = append(errs, errors.New("give -bot to start the bot under test, or -target to reach a running one"))
	case c.bot != "" && len(c.targets) > 0:
		errs = append(errs, errors.New("-bot and -target exclude each other"))
	case c.bot != "" && c.bots <= 0:
		errs = append(errs, errors.New("-bots must be positive"))
	case c.bot == "" && c.killAfter > 0:
		errs = append(errs, errors.New("-kill-after needs -bot"))
	}
	for _, s := range c.statuses {
		switch s {
		case "sent", "delivered", "read":
		default:
			errs = append(errs, fmt.Errorf("-statuses: unknown status %q", s))
		}
	}
	for _, kv := range c.env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			errs = append(errs, fmt.Errorf("-env %q: use KEY=VALUE", kv))
		}
	}
	if c.run != "" && strings.ContainsAny(c.run, ".<> ") {
		errs = append(errs, errors.New("-run must not contain '.', '<', '>' or spaces"))
	}
	return errors.Join(errs...)
}

// summary is the report of a run.
type summary struct {
	Run               string      `json:"run"`
	Store             string      `json:"store,omitempty"`
	Targets           int         `json:"targets"`
	Contacts          int         `json:"contacts"`
	Concurrency       int         `json:"concurrency"`
	DuplicateFraction float64     `json:"duplicate_fraction"`
	Duplicates        int64       `json:"duplicates_delivered"`
	DeliveryFailures  int64       `json:"delivery_failures"`
	AckSeconds        float64     `json:"ack_seconds"`
	AcksPerSecond     float64     `json:"acks_per_second"`
	AckP50ms          float64     `json:"ack_p50_ms"`
	AckP99ms          float64     `json:"ack_p99_ms"`
	AckMaxms          float64     `json:"ack_max_ms"`
	E2ESeconds        float64     `json:"e2e_seconds"`
	E2EPerSecond      float64     `json:"e2e_messages_per_second"`
	Kills             int         `json:"kills"`
	Graph             graphCounts `json:"graph"`
	tally
	OK bool `json:"ok"`
}

func (s summary) failed() bool {
	return s.Lost+s.Doubled+s.OutOfOrder+s.Misrouted > 0 || s.Unacked > 0
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func (s summary) writeText(w io.Writer) {
	fmt.Fprintf(w, "loadtest %s: %d messages from %d contacts, %d at once, %.1f%% delivered twice, %d target(s), store %s\n",
		s.Run, s.Messages, s.Contacts, s.Concurrency, 100*s.DuplicateFraction, s.Targets, s.Store)
	fmt.Fprintf(w, "  acks     %d acknowledged in %.2fs: %.0f/s; ack latency p50 %.2f ms, p99 %.2f ms, max %.1f ms; %d unacknowledged; %d duplicates; %d failed deliveries retried\n",
		s.Acked, s.AckSeconds, s.AcksPerSecond, s.AckP50ms, s.AckP99ms, s.AckMaxms, s.Unacked, s.Duplicates, s.DeliveryFailures)
	fmt.Fprintf(w, "  replies  %d replies answered %d messages in %.2fs: %.0f messages/s end to end\n",
		s.Replies, s.Answered, s.E2ESeconds, s.E2EPerSecond)
	fmt.Fprintf(w, "  graph    %d sends (%d accepted, %d 500s and %d 429s injected, %d hung up), %d typing, %d read, %d refused; %d statuses delivered, %d redelivered\n",
		s.Graph.Sends, s.Graph.Accepted, s.Graph.Injected5xx, s.Graph.Injected429, s.Graph.Hung, s.Graph.Typing, s.Graph.Read, s.Graph.Refused, s.Graph.Statuses, s.Graph.StatusFails)
	if s.Kills > 0 {
		fmt.Fprintf(w, "  faults   %d bot(s) killed with SIGKILL and restarted\n", s.Kills)
	}
	verdict := "OK"
	if !s.OK {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "  result   lost %d, doubled %d (%d extra replies), out of order %d, misrouted %d; %d replies without a tag, %d to earlier runs: %s\n",
		s.Lost, s.Doubled, s.ExtraReplies, s.OutOfOrder, s.Misrouted, s.Unmatched, s.Foreign, verdict)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitUsage
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return exitUsage
	}
	r := &runner{cfg: cfg, stderr: stderr}
	s, err := r.run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest:", err)
		return exitSetup
	}
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(s)
	} else {
		s.writeText(stdout)
	}
	if !s.OK {
		return exitFailed
	}
	return exitOK
}

// runner runs one load test.
type runner struct {
	cfg    config
	stderr io.Writer
	// quiesce, when set, is called once every message is answered and the
	// statuses are delivered, before the settle period: the crash test
	// waits there until the bot's store has nothing pending.
	quiesce func(ctx context.Context) error
	// started, when set, is called with the bots once they listen.
	started func(bots []*bot)
	// graphReady, when set, is called with the fake Graph API's URL once
	// it listens.
	graphReady func(url string)
}

func randomID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *runner) run(ctx context.Context) (summary, error) {
	cfg := r.cfg
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	if cfg.run == "" {
		cfg.run = randomID()
	}
	if cfg.seed == 0 {
		cfg.seed = uint64(time.Now().UnixNano())
	}
	led := newLedger(cfg.run, cfg.messages, cfg.contacts)
	hc := &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        4 * (cfg.concurrency + cfg.statusWorkers),
		MaxIdleConnsPerHost: 2 * (cfg.concurrency + cfg.statusWorkers),
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
	defer hc.CloseIdleConnections()

	// The Graph API.
	graph := newGraphAPI(graphConfig{
		token: cfg.token, appSecret: cfg.appSecret, phoneNumberID: cfg.phoneNumberID,
		latency: cfg.latency, jitter: cfg.jitter, fail5xx: cfg.fail5xx, fail429: cfg.fail429, hang: cfg.hang,
		statuses: cfg.statuses, statusDelay: cfg.statusDelay,
	}, led)
	ln, err := net.Listen("tcp", cfg.graphAddr)
	if err != nil {
		return summary{}, fmt.Errorf("-graph-addr: %w", err)
	}
	srv := &http.Server{Handler: graph, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	graphURL := "http://" + ln.Addr().String()
	if r.graphReady != nil {
		r.graphReady(graphURL)
	}

	// The bots.
	var bots []*bot
	targets := cfg.targets
	if cfg.bot != "" {
		logs := io.Writer(&syncWriter{w: r.stderr})
		if cfg.botLog != "" {
			f, err := os.Create(cfg.botLog)
			if err != nil {
				return summary{}, fmt.Errorf("-bot-log: %w", err)
			}
			defer f.Close()
			logs = &syncWriter{w: f}
		}
		env := append([]string{
			"WHATSAPP_ACCESS_TOKEN=" + cfg.token,
			"WHATSAPP_APP_SECRET=" + cfg.appSecret,
			"WHATSAPP_VERIFY_TOKEN=" + cfg.verifyToken,
			"WHATSAPP_PHONE_NUMBER_ID=" + cfg.phoneNumberID,
			"WHATSAPP_API_URL=" + graphURL,
			"STORE=" + cfg.store,
			"LLM=echo",
			"LOG_LEVEL=error",
		}, cfg.env...)
		for i := range cfg.bots {
			b := &bot{name: fmt.Sprintf("bot%d", i+1), argv: strings.Fields(cfg.bot), env: env, logs: logs}
			bots = append(bots, b)
		}
		defer func() {
			for _, b := range bots {
				b.kill()
			}
		}()
		// Instances start one after the other: they migrate the store.
		for _, b := range bots {
			if err := b.start(ctx, cfg.startup); err != nil {
				return summary{}, err
			}
			targets = append(targets, b.url()+cfg.webhookPath)
		}
		if r.started != nil {
			r.started(bots)
		}
	}
	targetsOf := func() []string { return targets }

	// Statuses flow back while the messages go in.
	statusCtx, stopStatuses := context.WithCancel(context.WithoutCancel(ctx))
	var statusDone sync.WaitGroup
	statusDone.Add(1)
	go func() {
		defer statusDone.Done()
		graph.postStatuses(statusCtx, hc, targetsOf, cfg.statusWorkers)
	}()
	defer func() {
		stopStatuses()
		statusDone.Wait()
	}()

	// The crashes: kill number k comes once k*killAfter messages are
	// acknowledged, and the next one only after the bot is back.
	var kills atomic.Int64
	killErr := make(chan error, cfg.kills)
	var killing atomic.Bool
	onAck := func(acked int) {
		k := int(kills.Load())
		if cfg.killAfter == 0 || len(bots) == 0 || k >= cfg.kills || acked < (k+1)*cfg.killAfter || !killing.CompareAndSwap(false, true) {
			return
		}
		go func() {
			defer killing.Store(false)
			bots[0].kill()
			kills.Add(1)
			if err := bots[0].start(ctx, cfg.startup); err != nil {
				killErr <- err
			}
		}()
	}

	d := &driver{
		cfg: driverConfig{
			messages: cfg.messages, contacts: cfg.contacts, concurrency: cfg.concurrency,
			duplicates: cfg.duplicates, rate: cfg.rate, phoneNumberID: cfg.phoneNumberID, appSecret: cfg.appSecret, seed: cfg.seed,
		},
		hc: hc, led: led, targets: targetsOf, onAck: onAck,
	}
	d.run(ctx)
	for killing.Load() && ctx.Err() == nil { // a restart in progress
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-killErr:
		return summary{}, fmt.Errorf("restarting after a kill: %w", err)
	default:
	}

	// Wait for the replies: until every acknowledged message has one, or
	// nothing moved for cfg.drain.
	r.waitAnswered(ctx, led, cfg.drain)
	r.waitStatuses(ctx, graph, cfg.drain)
	if r.quiesce != nil {
		if err := r.quiesce(ctx); err != nil {
			fmt.Fprintln(r.stderr, "loadtest: waiting for the bot to finish:", err)
		}
	}
	select {
	case <-time.After(cfg.settle):
	case <-ctx.Done():
	}
	for _, b := range bots {
		if err := b.stop(30 * time.Second); err != nil {
			fmt.Fprintln(r.stderr, "loadtest:", err)
		}
	}

	t := led.tally()
	s := summary{
		Run: cfg.run, Store: cfg.store, Targets: len(targets), Contacts: cfg.contacts, Concurrency: cfg.concurrency,
		DuplicateFraction: cfg.duplicates, Duplicates: d.dups.Load(), DeliveryFailures: d.failures.Load(),
		AckSeconds: t.AckDuration.Seconds(), AcksPerSecond: perSecond(t.Acked, t.AckDuration),
		AckP50ms: ms(t.AckP50), AckP99ms: ms(t.AckP99), AckMaxms: ms(t.AckMax),
		E2ESeconds: t.E2EDuration.Seconds(), E2EPerSecond: perSecond(t.Answered, t.E2EDuration),
		Kills: int(kills.Load()), Graph: graph.counts(), tally: t,
	}
	if cfg.bot == "" {
		s.Store = ""
	}
	s.OK = !s.failed()
	return s, nil
}

// waitAnswered waits until every acknowledged message is answered, or
// until nothing changed for quiet, or ctx is done.
func (r *runner) waitAnswered(ctx context.Context, led *ledger, quiet time.Duration) {
	timer := time.NewTimer(quiet)
	defer timer.Stop()
	for {
		acked, covered, changed := led.progress()
		if covered >= acked {
			return
		}
		select {
		case <-changed:
			timer.Reset(quiet)
		case <-timer.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// waitStatuses waits until the statuses of every accepted message were
// delivered, at most limit.
func (r *runner) waitStatuses(ctx context.Context, g *graphAPI, limit time.Duration) {
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for g.outq.pending() > 0 && time.Now().Before(deadline) {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}
