package console

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

var (
	//go:embed assets/index.html
	pageHTML []byte
	//go:embed assets/console.js
	consoleJS []byte
	//go:embed assets/console.css
	consoleCSS []byte
)

// Defaults for the zero values of [Options].
const (
	// DefaultHistoryLimit is how many of a conversation's latest records
	// the conversation view shows.
	DefaultHistoryLimit = 200
	// DefaultMaxMessageBytes caps an operator's reply or note.
	DefaultMaxMessageBytes = 4096
	// DefaultHeartbeat is how often an idle event stream sends a comment,
	// so that proxies keep it open.
	DefaultHeartbeat = 25 * time.Second
	// DefaultMaxStreams caps the event streams open at once.
	DefaultMaxStreams = 256
	// DefaultQueueLimit is the page size of the queue.
	DefaultQueueLimit = 50
)

// Options configures a [Console]. Operator, Tenants and Audit are
// required.
type Options struct {
	// Operator returns the identity of the operator making the request, as
	// the host's authentication established it (a session cookie, a
	// header set by the host's proxy). An empty identity or an error
	// refuses the request with 401. It is called for every request.
	Operator func(*http.Request) (string, error)
	// Tenants are the tenants (businesses) whose conversations operators
	// of this console may see.
	Tenants []channel.TenantID
	// Allow, when set, narrows Tenants per operator: a tenant of Tenants
	// for which it returns false is refused with 403.
	Allow func(r *http.Request, operator string, tenant channel.TenantID) bool
	// Audit is the privacy audit log: every view of a conversation is
	// recorded there as a [privacy.AuditOperatorView] by
	// "operator:<identity>", before the conversation is shown.
	Audit *privacy.Audit

	// HistoryLimit is how many of a conversation's latest records are
	// shown (default [DefaultHistoryLimit]).
	HistoryLimit int
	// MaxMessageBytes caps a reply or a note (default
	// [DefaultMaxMessageBytes]).
	MaxMessageBytes int
	// Heartbeat is how often an idle event stream sends a comment
	// (default [DefaultHeartbeat]).
	Heartbeat time.Duration
	// MaxStreams caps the event streams open at once (default
	// [DefaultMaxStreams]); beyond it /events answers 429.
	MaxStreams int
	// Logger receives the console's logs (nil: [slog.Default]). Refused
	// requests log at Debug, failures at Warn; never message text.
	Logger *slog.Logger
}

// Console is the operator console: an [http.Handler] serving a JSON API
// and a small web page, with which the business's people see the
// conversations waiting for a human, read them, claim them, reply, write
// internal notes, hand them back to the AI and close them, with live
// updates. Create it with [New]; it is safe for concurrent use.
type Console struct {
	a       *agent.Agent
	st      store.ConversationStore
	lister  store.ConversationLister
	opts    Options
	log     *slog.Logger
	tenants map[channel.TenantID]bool
	mux     *http.ServeMux
	hub     *hub

	mu          sync.Mutex
	closed      bool
	unsubscribe func()
	streams     sync.WaitGroup
}

// New returns a console over the agent a and its store st, which must
// implement [store.ConversationLister] for the queue. It reports every
// problem of opts at once. It starts no goroutines: it subscribes to a's
// handoff events, until [Console.Close].
func New(a *agent.Agent, st store.ConversationStore, opts *Options) (*Console, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	var errs []error
	if a == nil {
		errs = append(errs, errors.New("console: an agent is required"))
	}
	lister, ok := store.Capability[store.ConversationLister](st)
	switch {
	case st == nil:
		errs = append(errs, errors.New("console: a store is required"))
	case !ok:
		errs = append(errs, errors.New("console: the store cannot list conversations (store.ConversationLister)"))
	}
	if o.Operator == nil {
		errs = append(errs, errors.New("console: Options.Operator is required"))
	}
	if len(o.Tenants) == 0 {
		errs = append(errs, errors.New("console: Options.Tenants needs at least one tenant"))
	}
	for i, t := range o.Tenants {
		if t == "" {
			errs = append(errs, fmt.Errorf("console: Options.Tenants[%d] is empty", i))
		}
	}
	if o.Audit == nil {
		errs = append(errs, errors.New("console: Options.Audit is required: every view of a conversation is audited"))
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"HistoryLimit", int64(o.HistoryLimit)},
		{"MaxMessageBytes", int64(o.MaxMessageBytes)},
		{"Heartbeat", int64(o.Heartbeat)},
		{"MaxStreams", int64(o.MaxStreams)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("console: Options.%s must not be negative", f.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.HistoryLimit == 0 {
		o.HistoryLimit = DefaultHistoryLimit
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.MaxStreams == 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	c := &Console{
		a:       a,
		st:      st,
		lister:  lister,
		opts:    o,
		log:     log,
		tenants: make(map[channel.TenantID]bool, len(o.Tenants)),
		mux:     http.NewServeMux(),
		hub:     newHub(o.MaxStreams),
	}
	for _, t := range o.Tenants {
		c.tenants[t] = true
	}
	c.routes()
	c.unsubscribe = a.Subscribe(c.handoffEvent)
	return c, nil
}

// Close ends the event streams, stops following the agent's events, and
// makes every later request answer 503. It waits for the streams to end,
// or for ctx. Close is idempotent.
func (c *Console) Close(ctx context.Context) error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		c.unsubscribe()
		c.hub.close()
	}
	c.mu.Unlock()
	done := make(chan struct{})
	go func() {
		c.streams.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("console: close: %w", ctx.Err())
	}
}

// startStream counts a stream unless the console is closed.
func (c *Console) startStream() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.streams.Add(1)
	return true
}

func (c *Console) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Errors the handler maps to statuses in httpStatus.
var (
	errUnauthenticated = errors.New("console: no operator identity")
	errForbidden       = errors.New("console: tenant not allowed for the operator")
	errCrossSite       = errors.New("console: cross-site request refused")
	errBadRequest      = errors.New("console: bad request")
	errTooLarge        = errors.New("console: message too large")
	errMediaType       = errors.New("console: the body must be application/json")
	errClosed          = errors.New("console: closed")
)

// httpStatus is the one table that turns errors into HTTP statuses, the
// codes the page sees, and the words shown to the operator. The words
// never come from the error, which may hold detail for the logs only.
func httpStatus(err error) (status int, code, message string) {
	switch {
	case errors.Is(err, errUnauthenticated):
		return http.StatusUnauthorized, "unauthenticated", "Sign in to use the console."
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, "forbidden", "You may not see this business's conversations."
	case errors.Is(err, errCrossSite):
		return http.StatusForbidden, "cross_site", "Requests must come from the console's own page."
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, "not_found", "No such conversation."
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", "The message is too long."
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType, "unsupported_media_type", "Send JSON."
	case errors.Is(err, errBadRequest), errors.Is(err, agent.ErrEmptyMessage), errors.Is(err, store.ErrInvalid):
		return http.StatusBadRequest, "bad_request", "The request is not valid."
	case errors.Is(err, agent.ErrNotOwner):
		return http.StatusConflict, "not_owner", "Claim the conversation first: the AI or another operator owns it."
	case errors.Is(err, channel.ErrWindowClosed):
		return http.StatusConflict, "window_closed", "The customer last wrote more than 24 hours ago, so the channel only delivers an approved template message now. Send a template, or wait for the customer to write."
	case errors.Is(err, errTooManyStreams):
		return http.StatusTooManyRequests, "too_many_streams", "Too many open consoles; try again shortly."
	case errors.Is(err, channel.ErrUndeliverable), errors.Is(err, channel.ErrInvalidMessage), errors.Is(err, channel.ErrUnsupported):
		return http.StatusUnprocessableEntity, "undeliverable", "The channel refused the message."
	case errors.Is(err, channel.ErrRateLimited), errors.Is(err, channel.ErrUnavailable), errors.Is(err, channel.ErrAuth), errors.Is(err, channel.ErrUncertain):
		return http.StatusBadGateway, "send_failed", "The channel could not send the message now; it is recorded, try again later."
	case errors.Is(err, errClosed), errors.Is(err, channel.ErrClosed), errors.Is(err, store.ErrClosed):
		return http.StatusServiceUnavailable, "unavailable", "The console is shutting down."
	}
	return http.StatusInternalServerError, "internal", "Something went wrong; it was logged."
}

// Security headers. The page loads its own script and stylesheet only,
// talks to its own origin only, and may not be framed.
const (
	pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	apiCSP  = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	// retryMillis is the reconnection delay the event stream suggests.
	retryMillis = "3000"
)

// ServeHTTP implements [http.Handler]. Mount the console under a prefix
// ending in a slash, with the prefix without its slash stripped, behind
// the host's authentication:
//
//	mux.Handle("/console/", requireStaff(http.StripPrefix("/console", c)))
//
// Paths, relative to the mount point:
//
//	GET  /                                         the page
//	GET  /console.js, /console.css                 its script and stylesheet
//	GET  /api/me                                   the operator and their tenants
//	GET  /api/tenants/{t}/queue?cursor=C           human-owned conversations, unclaimed first
//	GET  /api/tenants/{t}/conversations/{id}?after=M  the conversation and its records (after record M); audited
//	POST /api/tenants/{t}/conversations/{id}/claim    the operator takes it
//	POST /api/tenants/{t}/conversations/{id}/reply    {"text"}: sent through its channel by the claimer; 201
//	POST /api/tenants/{t}/conversations/{id}/notes    {"text"}: an internal note; 201
//	POST /api/tenants/{t}/conversations/{id}/release  back to the AI
//	POST /api/tenants/{t}/conversations/{id}/close    closed: back to the AI
//	GET  /api/tenants/{t}/events                   server-sent events, resumable with Last-Event-ID
//
// Errors are JSON {"error": code, "message": words for the operator}.
// POSTs must carry a JSON body ("{}" will do) and come from the console's
// own origin.
func (c *Console) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	hd := rw.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Content-Security-Policy", apiCSP)
	c.mux.ServeHTTP(rw, r)
}

func (c *Console) routes() {
	c.mux.Handle("GET /{$}", asset(pageHTML, "text/html; charset=utf-8", pageCSP))
	c.mux.Handle("GET /console.js", asset(consoleJS, "text/javascript; charset=utf-8", apiCSP))
	c.mux.Handle("GET /console.css", asset(consoleCSS, "text/css; charset=utf-8", apiCSP))
	c.mux.HandleFunc("GET /api/me", c.api(false, c.me))
	c.mux.HandleFunc("GET /api/tenants/{tenant}/queue", c.api(true, c.queue))
	c.mux.HandleFunc("GET /api/tenants/{tenant}/conversations/{id}", c.api(true, c.conversation))
	c.mux.HandleFunc("POST /api/tenants/{tenant}/conversations/{id}/claim", c.api(true, c.claim))
	c.mux.HandleFunc("POST /api/tenants/{tenant}/conversations/{id}/reply", c.api(true, c.reply))
	c.mux.HandleFunc("POST /api/tenants/{tenant}/conversations/{id}/notes", c.api(true, c.note))
	c.mux.HandleFunc("POST /api/tenants/{tenant}/conversations/{id}/release", c.api(true, c.release))
	c.mux.HandleFunc("POST /api/tenants/{tenant}/conversations/{id}/close", c.api(true, c.closeConv))
	c.mux.HandleFunc("GET /api/tenants/{tenant}/events", c.api(true, c.events))
	c.mux.HandleFunc("/api/", func(rw http.ResponseWriter, r *http.Request) {
		c.fail(rw, r, &request{}, fmt.Errorf("%w: no such endpoint", store.ErrNotFound))
	})
}

// asset serves an embedded file. The page is no-store: it is the
// operator's tool, not a cacheable document.
func asset(body []byte, contentType, csp string) http.Handler {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Type", contentType)
		hd.Set("Content-Security-Policy", csp)
		hd.Set("Cache-Control", "no-cache")
		hd.Set("ETag", etag)
		http.ServeContent(rw, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// request is what the api wrapper established about a request.
type request struct {
	operator string
	tenant   channel.TenantID
}

// api wraps an endpoint: it refuses requests after Close, establishes the
// operator, checks cross-site POSTs and the tenant when tenant is set, and
// turns the endpoint's error into a status.
func (c *Console) api(tenant bool, f func(http.ResponseWriter, *http.Request, *request) error) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "no-store")
		req := &request{}
		err := c.admit(r, req, tenant)
		if err == nil {
			err = f(rw, r, req)
		}
		if err != nil {
			c.fail(rw, r, req, err)
		}
	}
}

func (c *Console) admit(r *http.Request, req *request, tenant bool) error {
	if c.isClosed() {
		return errClosed
	}
	op, err := c.opts.Operator(r)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnauthenticated, err)
	}
	if op == "" {
		return errUnauthenticated
	}
	req.operator = op
	if r.Method == http.MethodPost {
		if err := sameOrigin(r); err != nil {
			return err
		}
	}
	if tenant {
		req.tenant = channel.TenantID(r.PathValue("tenant"))
		if !c.allowed(r, op, req.tenant) {
			return errForbidden
		}
	}
	return nil
}

func (c *Console) allowed(r *http.Request, operator string, t channel.TenantID) bool {
	return c.tenants[t] && (c.opts.Allow == nil || c.opts.Allow(r, operator, t))
}

// sameOrigin refuses POSTs another site's page makes with the operator's
// cookies: browsers mark them with Sec-Fetch-Site, and with an Origin
// that is not the console's host; a JSON content type cannot be sent
// cross-origin without a preflight, which the console never answers.
func sameOrigin(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return errCrossSite
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return errCrossSite
		}
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); !strings.EqualFold(strings.TrimSpace(mt), "application/json") {
		return errMediaType
	}
	return nil
}

// fail answers err with its status and logs it: refusals at Debug,
// failures at Warn.
func (c *Console) fail(rw http.ResponseWriter, r *http.Request, req *request, err error) {
	status, code, message := httpStatus(err)
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelWarn
	}
	if status == http.StatusServiceUnavailable {
		rw.Header().Set("Retry-After", "5")
	}
	attrs := []slog.Attr{slog.String(logkey.Reason, code), slog.Int(logkey.Code, status), slog.Any(logkey.Error, err)}
	if req.tenant != "" {
		attrs = append(attrs, slog.String(logkey.Tenant, string(req.tenant)))
	}
	c.log.LogAttrs(r.Context(), level, "console: request refused", attrs...)
	writeJSON(rw, status, errorView{Error: code, Message: message})
}

type errorView struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

// tenantsOf returns the tenants operator may see, in the order of
// Options.Tenants.
func (c *Console) tenantsOf(r *http.Request, operator string) []channel.TenantID {
	out := []channel.TenantID{}
	for _, t := range c.opts.Tenants {
		if c.allowed(r, operator, t) && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}
