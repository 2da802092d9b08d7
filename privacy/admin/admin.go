package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

// Role is what a [Principal] may do.
type Role string

// Roles.
const (
	// RoleOperator submits and tracks requests for the customers they
	// serve, and sends verification codes.
	RoleOperator Role = "operator"
	// RolePrivacyOfficer also fulfils, denies and extends requests,
	// downloads exports, places and lifts holds and reads the audit log.
	// Requests a privacy officer submits count as verified.
	RolePrivacyOfficer Role = "privacy_officer"
	// RoleAdmin may call every route; requests an admin submits are
	// verified by the subject's code, like an operator's.
	RoleAdmin Role = "admin"
)

// Principal is who calls, as the host's authentication knows them.
type Principal struct {
	// ID identifies the staff member in the audit log ("ana"). It must not
	// be personal data of a customer.
	ID   string
	Role Role
	// Tenants are the tenants the principal may act on; empty means every
	// tenant.
	Tenants []channel.TenantID
}

// actor names p in the audit log: "privacy_officer:ana".
func (p Principal) actor() string { return string(p.Role) + ":" + p.ID }

// may reports whether p may act on tenant.
func (p Principal) may(tenant channel.TenantID) bool {
	return len(p.Tenants) == 0 || slices.Contains(p.Tenants, tenant)
}

// Errors of authorization. An [Authorizer] returns an error wrapping
// ErrForbidden for a caller it knows who may not use the interface (403),
// and any other error for a caller it does not know (401).
var (
	ErrUnauthenticated = errors.New("admin: unauthenticated")
	ErrForbidden       = errors.New("admin: forbidden")
)

// Authorizer tells who makes a call. It is called for every call, from
// many goroutines at once.
type Authorizer interface {
	Authorize(r *http.Request) (Principal, error)
}

// AuthorizerFunc adapts a function to [Authorizer].
type AuthorizerFunc func(r *http.Request) (Principal, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(r *http.Request) (Principal, error) { return f(r) }

// BearerToken returns an [Authorizer] that admits calls carrying
// "Authorization: Bearer <token>" as p, compared in constant time, for
// hosts with a single administration token. An empty token admits
// nobody.
func BearerToken(token string, p Principal) Authorizer {
	want := []byte("Bearer " + token)
	return AuthorizerFunc(func(r *http.Request) (Principal, error) {
		got := []byte(r.Header.Get("Authorization"))
		if token == "" || subtle.ConstantTimeCompare(got, want) != 1 {
			return Principal{}, ErrUnauthenticated
		}
		return p, nil
	})
}

// Defaults of [Config].
const (
	// DefaultMaxBodyBytes caps the body of a call.
	DefaultMaxBodyBytes = 64 << 10
	// DefaultListLimit is how many requests or audit entries a list
	// returns when the call sets no limit; MaxListLimit is the most it
	// may ask.
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Config configures a [Handler]. Requests, Audit and Authorizer are
// required.
type Config struct {
	// Requests handles the data-subject requests. To send verification
	// codes it needs a Sender (the agent is one).
	Requests *privacy.Requests
	// Audit receives an entry for every call, and is what GET audit reads.
	Audit *privacy.Audit
	// Holds places and lifts legal holds. Nil: the hold routes answer 501.
	Holds *privacy.Holds
	// Authorizer tells who calls.
	Authorizer Authorizer
	// MaxBodyBytes caps request bodies (default [DefaultMaxBodyBytes]);
	// larger bodies answer 413.
	MaxBodyBytes int64
	// Logger receives the detail of failed calls (nil: [slog.Default]).
	Logger *slog.Logger
}

// Handler is the administration interface. Create it with [New].
type Handler struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux // every route and a catch-all
	routes *http.ServeMux // the routes alone, to tell 404 from 405
}

var _ http.Handler = (*Handler)(nil)

// New returns the handler of cfg, or an error naming what is missing.
func New(cfg Config) (*Handler, error) {
	var errs []error
	if cfg.Requests == nil {
		errs = append(errs, errors.New("admin: Config.Requests is required"))
	}
	if cfg.Audit == nil {
		errs = append(errs, errors.New("admin: Config.Audit is required: every call is audited"))
	}
	if cfg.Authorizer == nil {
		errs = append(errs, errors.New("admin: Config.Authorizer is required"))
	}
	if cfg.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("admin: Config.MaxBodyBytes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	h := &Handler{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), routes: http.NewServeMux()}
	if h.log == nil {
		h.log = slog.Default()
	}
	for _, rt := range h.table() {
		hf := h.serve(rt)
		h.mux.HandleFunc(rt.pattern, hf)
		h.routes.HandleFunc(rt.pattern, hf)
	}
	h.mux.HandleFunc("/", h.serve(route{name: "unknown_route", fn: h.unknown}))
	return h, nil
}

// ServeHTTP implements [http.Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// route is one route: its pattern, its name in the audit log, the roles
// that may call it (none listed: any authenticated principal) and what it
// does.
type route struct {
	pattern string
	name    string
	roles   []Role
	fn      func(c *call) (int, any, error)
}

var (
	everyone = []Role{RoleOperator, RolePrivacyOfficer, RoleAdmin}
	officers = []Role{RolePrivacyOfficer, RoleAdmin}
)

// table is the routes and who may call them.
func (h *Handler) table() []route {
	return []route{
		{"POST /requests", "submit_request", everyone, h.submit},
		{"GET /requests", "list_requests", everyone, h.list},
		{"GET /requests/{id}", "get_request", everyone, h.get},
		{"POST /requests/{id}/code", "send_code", everyone, h.sendCode},
		{"POST /requests/{id}/fulfil", "fulfil_request", officers, h.fulfil},
		{"POST /requests/{id}/deny", "deny_request", officers, h.deny},
		{"POST /requests/{id}/extend", "extend_request", officers, h.extend},
		{"GET /requests/{id}/export", "export_request", officers, h.export},
		{"GET /audit", "read_audit", officers, h.readAudit},
		{"GET /holds", "list_holds", officers, h.listHolds},
		{"POST /holds", "place_hold", officers, h.placeHold},
		{"POST /holds/{id}/lift", "lift_hold", officers, h.liftHold},
	}
}

// call is one call being served: who calls, and what it concerns, for
// its audit entry.
type call struct {
	h *Handler
	w http.ResponseWriter
	r *http.Request
	p Principal

	tenant  channel.TenantID
	subject store.SubjectID
	request privacy.RequestID
	// raw, when set, is the answer's body as is (an export); rawName its
	// file name.
	raw     []byte
	rawName string
}

// Handler errors, mapped by [StatusOf].
var (
	errBadJSON  = errors.New("admin: malformed request body")
	errTooLarge = errors.New("admin: request body too large")
	errNotReady = errors.New("admin: not ready")
	errNoRoute  = errors.New("admin: no such route")
	errMethod   = errors.New("admin: method not allowed")
)

// statuses is the one table from errors to HTTP statuses and the generic
// codes and messages of the answers. The first match wins.
var statuses = []struct {
	err     error
	status  int
	code    string
	message string
}{
	{ErrForbidden, http.StatusForbidden, "forbidden", "forbidden"},
	{ErrUnauthenticated, http.StatusUnauthorized, "unauthenticated", "authentication required"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "too_large", "request body too large"},
	{errBadJSON, http.StatusBadRequest, "bad_request", "malformed request body"},
	{errNoRoute, http.StatusNotFound, "not_found", "not found"},
	{errMethod, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"},
	{store.ErrNotFound, http.StatusNotFound, "not_found", "not found"},
	{store.ErrInvalid, http.StatusBadRequest, "invalid", "invalid request"},
	{errNotReady, http.StatusConflict, "not_ready", "not ready"},
	{privacy.ErrLegalHold, http.StatusConflict, "legal_hold", "under a legal hold"},
	{privacy.ErrVerification, http.StatusConflict, "verification_failed", "verification failed"},
	{privacy.ErrConflict, http.StatusConflict, "conflict", "changed concurrently, try again"},
	{privacy.ErrUnsupported, http.StatusNotImplemented, "unsupported", "not supported by this configuration"},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "timeout", "timed out"},
}

// StatusOf returns the HTTP status and the error code an error answers
// with: 500 and "internal" for errors of no known kind.
func StatusOf(err error) (status int, code string) {
	s, c, _ := classify(err)
	return s, c
}

func classify(err error) (int, string, string) {
	for _, s := range statuses {
		if errors.Is(err, s.err) {
			return s.status, s.code, s.message
		}
	}
	return http.StatusInternalServerError, "internal", "internal error"
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// auditTimeout bounds the audit entry of a call, whatever the caller's
// context.
const auditTimeout = 10 * time.Second

// serve returns the http.HandlerFunc of rt: authorization, the route's
// work, the audit entry, the answer.
func (h *Handler) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{h: h, w: w, r: r}
		status, body, err := h.run(c, rt)
		if err != nil {
			status, _, _ = classify(err)
		}
		actor := "unauthenticated"
		if c.p.ID != "" {
			actor = c.p.actor()
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
		_, aerr := h.cfg.Audit.Log(ctx, privacy.AuditEvent{Actor: actor, Action: privacy.AuditAdmin, Tenant: c.tenant,
			Subject: c.subject, Request: c.request, Detail: rt.name + ":" + strconv.Itoa(status)})
		cancel()
		if aerr != nil {
			// Nothing is disclosed that was not audited.
			err, c.raw = fmt.Errorf("admin: auditing the call: %w", aerr), nil
		}
		if err != nil {
			h.fail(c, rt, err)
			return
		}
		if c.raw != nil {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Disposition", `attachment; filename="`+c.rawName+`"`)
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(status)
			w.Write(c.raw)
			return
		}
		writeJSON(w, status, body)
	}
}

// run authorizes the call and does the route's work.
func (h *Handler) run(c *call, rt route) (int, any, error) {
	p, err := h.cfg.Authorizer.Authorize(c.r)
	if err != nil {
		if errors.Is(err, ErrForbidden) {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if p.ID == "" || !slices.Contains(everyone, p.Role) {
		return 0, nil, fmt.Errorf("admin: principal without id or with an unknown role: %w", ErrForbidden)
	}
	c.p = p
	if rt.roles != nil && !slices.Contains(rt.roles, p.Role) {
		// The refusal lands in the chain of the tenant asked about.
		c.tenant = channel.TenantID(c.r.URL.Query().Get("tenant"))
		return 0, nil, fmt.Errorf("admin: %s may not %s: %w", p.Role, rt.name, ErrForbidden)
	}
	return rt.fn(c)
}

func (h *Handler) fail(c *call, rt route, err error) {
	status, code, message := classify(err)
	level := slog.LevelDebug
	if status >= 500 {
		level = slog.LevelError
	}
	h.log.LogAttrs(c.r.Context(), level, "admin: call failed",
		slog.String(logkey.Op, rt.name), slog.Int(logkey.HTTPStatus, status), slog.String(logkey.Tenant, string(c.tenant)),
		slog.String(logkey.Request, string(c.request)), slog.Any(logkey.Error, err))
	if status == http.StatusUnauthorized {
		c.w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if status == http.StatusMethodNotAllowed {
		c.w.Header().Set("Allow", allowed(h.routes, c.r))
	}
	var b errorBody
	b.Error.Code, b.Error.Message = code, message
	writeJSON(c.w, status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// allowed returns the methods the routes accept at r's path.
func allowed(routes *http.ServeMux, r *http.Request) string {
	var ms []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := routes.Handler(r2); p != "" {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, ", ")
}

// unknown answers paths that are no route: 405 when another method is
// one, 404 otherwise.
func (h *Handler) unknown(c *call) (int, any, error) {
	if allowed(h.routes, c.r) != "" {
		return 0, nil, errMethod
	}
	return 0, nil, errNoRoute
}

// decode reads the call's JSON body into v: one JSON value, no unknown
// fields, at most MaxBodyBytes.
func (c *call) decode(v any) error {
	body := http.MaxBytesReader(c.w, c.r.Body, c.h.cfg.MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if dec.Decode(&struct{}{}) != io.EOF {
			err = errors.New("more than one JSON value")
		}
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return errTooLarge
	case err != nil:
		return fmt.Errorf("%w: %w", errBadJSON, err)
	}
	return nil
}

// scope checks that the principal may act on tenant and notes it for the
// audit entry.
func (c *call) scope(tenant channel.TenantID) error {
	if tenant == "" {
		return fmt.Errorf("admin: tenant is required: %w", store.ErrInvalid)
	}
	if !c.p.may(tenant) {
		return fmt.Errorf("admin: tenant not allowed: %w", ErrForbidden)
	}
	c.tenant = tenant
	return nil
}

// load returns the request of the path's id, as not found when it is of a
// tenant the principal may not see.
func (c *call) load() (privacy.Request, error) {
	id := privacy.RequestID(c.r.PathValue("id"))
	r, err := c.h.cfg.Requests.Request(c.r.Context(), id)
	if err != nil {
		return privacy.Request{}, err
	}
	if !c.p.may(r.Tenant) {
		return privacy.Request{}, fmt.Errorf("admin: request: %w", store.ErrNotFound)
	}
	c.note(r)
	return r, nil
}

// note records what request r concerns, for the audit entry.
func (c *call) note(r privacy.Request) {
	c.tenant, c.subject, c.request = r.Tenant, r.Subject, r.ID
}

// Subject is a data subject as calls name them: the channel and the id on
// it (a WhatsApp wa_id, a user id, a widget visitor id).
type Subject struct {
	Channel channel.Name   `json:"channel"`
	ID      channel.UserID `json:"id"`
}

// channels are the channels a subject may be named on.
var channels = []channel.Name{channel.WhatsApp, channel.WebWidget, channel.Instagram}

func (s Subject) address(tenant channel.TenantID) (channel.Address, error) {
	if !slices.Contains(channels, s.Channel) {
		return channel.Address{}, fmt.Errorf("admin: unknown channel: %w", store.ErrInvalid)
	}
	if s.ID == "" || len(s.ID) > 256 {
		return channel.Address{}, fmt.Errorf("admin: subject id missing or too long: %w", store.ErrInvalid)
	}
	return channel.Address{Channel: s.Channel, Tenant: tenant, User: s.ID}, nil
}

// Submission is the body of POST requests.
type Submission struct {
	Type    privacy.RequestType `json:"type"`
	Subject Subject             `json:"subject"`
	Tenant  channel.TenantID    `json:"tenant"`
	// Lang is the language the subject is answered in.
	Lang string `json:"lang,omitempty"`
	// Purposes are what a consent withdrawal withdraws (default
	// marketing).
	Purposes []privacy.Purpose `json:"purposes,omitempty"`
	// Rectify holds the corrected fields of a rectification.
	Rectify *Profile `json:"rectify,omitempty"`
}

// Profile holds the fields of a rectification.
type Profile struct {
	Name     string `json:"name,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Username string `json:"username,omitempty"`
	Locale   string `json:"locale,omitempty"`
}

func (h *Handler) submit(c *call) (int, any, error) {
	var in Submission
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if err := c.scope(in.Tenant); err != nil {
		return 0, nil, err
	}
	if !slices.Contains(privacy.RequestTypes(), in.Type) {
		return 0, nil, fmt.Errorf("admin: unknown request type: %w", store.ErrInvalid)
	}
	addr, err := in.Subject.address(in.Tenant)
	if err != nil {
		return 0, nil, err
	}
	if len(in.Purposes) > 16 || len(in.Lang) > 16 {
		return 0, nil, fmt.Errorf("admin: too many purposes or bad language: %w", store.ErrInvalid)
	}
	sub := privacy.Submission{Type: in.Type, Address: addr, Origin: privacy.OriginAdmin, Actor: c.p.actor(),
		Verified: c.p.Role == RolePrivacyOfficer, Lang: in.Lang, Purposes: in.Purposes}
	if in.Rectify != nil {
		sub.Rectify = &channel.Profile{Name: channel.Text(in.Rectify.Name), Phone: channel.Phone(in.Rectify.Phone),
			Username: channel.Text(in.Rectify.Username), Locale: in.Rectify.Locale}
	}
	ctx := c.r.Context()
	open, err := h.cfg.Requests.Find(ctx, privacy.RequestQuery{Tenant: addr.Tenant, User: addr.User, Type: in.Type, Open: true})
	if err != nil {
		return 0, nil, err
	}
	status := http.StatusCreated
	if slices.ContainsFunc(open, func(r privacy.Request) bool { return r.Address == addr }) {
		status = http.StatusOK // the open request of the subject is answered
	}
	r, err := h.cfg.Requests.Submit(ctx, sub)
	if err != nil {
		return 0, nil, err
	}
	c.note(r)
	if status == http.StatusCreated {
		c.w.Header().Set("Location", "requests/"+string(r.ID))
	}
	return status, view(r), nil
}

// RequestList is the answer of GET requests.
type RequestList struct {
	Requests []Request `json:"requests"`
}

func (h *Handler) list(c *call) (int, any, error) {
	q := c.r.URL.Query()
	query := privacy.RequestQuery{Tenant: channel.TenantID(q.Get("tenant")), Type: privacy.RequestType(q.Get("type"))}
	if query.Tenant != "" {
		if err := c.scope(query.Tenant); err != nil {
			return 0, nil, err
		}
	} else if len(c.p.Tenants) > 0 {
		return 0, nil, fmt.Errorf("admin: tenant is required: %w", store.ErrInvalid)
	}
	if query.Type != "" && !slices.Contains(privacy.RequestTypes(), query.Type) {
		return 0, nil, fmt.Errorf("admin: unknown request type: %w", store.ErrInvalid)
	}
	for _, s := range q["status"] {
		st := privacy.RequestStatus(s)
		if !slices.Contains(requestStatuses, st) {
			return 0, nil, fmt.Errorf("admin: unknown request status: %w", store.ErrInvalid)
		}
		query.Status = append(query.Status, st)
	}
	switch q.Get("open") {
	case "", "false":
	case "true":
		query.Open = true
	default:
		return 0, nil, fmt.Errorf("admin: open is true or false: %w", store.ErrInvalid)
	}
	if id := q.Get("subject_id"); id != "" {
		query.Subject = store.SubjectID(id)
	}
	limit, err := limitOf(q.Get("limit"))
	if err != nil {
		return 0, nil, err
	}
	query.Limit = limit
	rs, err := h.cfg.Requests.Find(c.r.Context(), query)
	if err != nil {
		return 0, nil, err
	}
	out := RequestList{Requests: make([]Request, 0, len(rs))}
	for _, r := range rs {
		out.Requests = append(out.Requests, view(r))
	}
	return http.StatusOK, out, nil
}

var requestStatuses = []privacy.RequestStatus{privacy.StatusReceived, privacy.StatusVerifying, privacy.StatusInProgress,
	privacy.StatusExtended, privacy.StatusCompleted, privacy.StatusDenied}

func limitOf(s string) (int, error) {
	if s == "" {
		return DefaultListLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxListLimit {
		return 0, fmt.Errorf("admin: limit is 1 to %d: %w", MaxListLimit, store.ErrInvalid)
	}
	return n, nil
}

func (h *Handler) get(c *call) (int, any, error) {
	r, err := c.load()
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(r), nil
}

func (h *Handler) sendCode(c *call) (int, any, error) {
	r, err := c.load()
	if err != nil {
		return 0, nil, err
	}
	if r, err = h.cfg.Requests.SendCode(c.r.Context(), r.ID); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(r), nil
}

func (h *Handler) fulfil(c *call) (int, any, error) {
	r, err := c.load()
	if err != nil {
		return 0, nil, err
	}
	if r, err = h.cfg.Requests.Fulfil(c.r.Context(), r.ID, c.p.actor()); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(r), nil
}

// Reason is the body of the routes that deny or extend a request.
type Reason struct {
	Reason string `json:"reason"`
}

func (c *call) reason() (string, error) {
	var in Reason
	if err := c.decode(&in); err != nil {
		return "", err
	}
	if in.Reason == "" || len(in.Reason) > 200 {
		return "", fmt.Errorf("admin: reason missing or too long: %w", store.ErrInvalid)
	}
	return in.Reason, nil
}

func (h *Handler) deny(c *call) (int, any, error) {
	r, err := c.load()
	if err != nil {
		return 0, nil, err
	}
	reason, err := c.reason()
	if err != nil {
		return 0, nil, err
	}
	if r, err = h.cfg.Requests.Deny(c.r.Context(), r.ID, c.p.actor(), reason); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(r), nil
}

func (h *Handler) extend(c *call) (int, any, error) {
	r, err := c.load()
	if err != nil {
		return 0, nil, err
	}
	reason, err := c.reason()
	if err != nil {
		return 0, nil, err
	}
	if r, err = h.cfg.Requests.Extend(c.r.Context(), r.ID, c.p.actor(), reason); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, view(r), nil
}

func (h *Handler) export(c *call) (int, any, error) {
	r, err := c.load()
	if err != nil {
		return 0, nil, err
	}
	if r.Type != privacy.RequestAccess && r.Type != privacy.RequestExport {
		return 0, nil, fmt.Errorf("admin: a %s request has no export: %w", r.Type, store.ErrInvalid)
	}
	if r.Status != privacy.StatusCompleted {
		return 0, nil, fmt.Errorf("admin: export of a request that is %s: %w", r.Status, errNotReady)
	}
	b, err := h.cfg.Requests.Bundle(c.r.Context(), r.ID, c.p.actor())
	if err != nil {
		return 0, nil, err
	}
	raw, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return 0, nil, fmt.Errorf("admin: encoding the export: %w", err)
	}
	c.raw, c.rawName = raw, "export-"+string(r.ID)+".json"
	return http.StatusOK, nil, nil
}

// AuditPage is the answer of GET audit. Next is the sequence number to
// pass as after for the following page; zero when there is none.
type AuditPage struct {
	Entries []privacy.AuditEntry `json:"entries"`
	Next    uint64               `json:"next,omitempty"`
}

func (h *Handler) readAudit(c *call) (int, any, error) {
	q := c.r.URL.Query()
	if err := c.scope(channel.TenantID(q.Get("tenant"))); err != nil {
		return 0, nil, err
	}
	query := privacy.AuditQuery{Tenant: c.tenant, Subject: store.SubjectID(q.Get("subject_id")),
		Request: privacy.RequestID(q.Get("request")), Action: privacy.AuditAction(q.Get("action"))}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, nil, fmt.Errorf("admin: after is a sequence number: %w", store.ErrInvalid)
		}
		query.After = n
	}
	limit, err := limitOf(q.Get("limit"))
	if err != nil {
		return 0, nil, err
	}
	query.Limit = limit
	es, err := h.cfg.Audit.Entries(c.r.Context(), query)
	if err != nil {
		return 0, nil, err
	}
	page := AuditPage{Entries: es}
	if page.Entries == nil {
		page.Entries = []privacy.AuditEntry{}
	}
	if len(es) == limit {
		page.Next = es[len(es)-1].Seq
	}
	return http.StatusOK, page, nil
}

// HoldList is the answer of GET holds.
type HoldList struct {
	Holds []privacy.Hold `json:"holds"`
}

func (h *Handler) holds() (*privacy.Holds, error) {
	if h.cfg.Holds == nil {
		return nil, fmt.Errorf("admin: no holds configured: %w", privacy.ErrUnsupported)
	}
	return h.cfg.Holds, nil
}

func (h *Handler) listHolds(c *call) (int, any, error) {
	hs, err := h.holds()
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	if err := c.scope(channel.TenantID(q.Get("tenant"))); err != nil {
		return 0, nil, err
	}
	var list []privacy.Hold
	switch q.Get("active") {
	case "true":
		list, err = hs.Active(c.r.Context(), c.tenant)
	case "", "false":
		list, err = hs.List(c.r.Context(), c.tenant)
	default:
		return 0, nil, fmt.Errorf("admin: active is true or false: %w", store.ErrInvalid)
	}
	if err != nil {
		return 0, nil, err
	}
	if list == nil {
		list = []privacy.Hold{}
	}
	return http.StatusOK, HoldList{Holds: list}, nil
}

// HoldPlacement is the body of POST holds: the tenant, the subject held
// (by store id or by channel id; neither holds the whole tenant), the
// reason (without personal data) and an optional expiry.
type HoldPlacement struct {
	Tenant    channel.TenantID `json:"tenant"`
	SubjectID store.SubjectID  `json:"subject_id,omitempty"`
	Subject   *Subject         `json:"subject,omitempty"`
	Reason    string           `json:"reason"`
	Expires   time.Time        `json:"expires,omitzero"`
}

func (h *Handler) placeHold(c *call) (int, any, error) {
	hs, err := h.holds()
	if err != nil {
		return 0, nil, err
	}
	var in HoldPlacement
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if err := c.scope(in.Tenant); err != nil {
		return 0, nil, err
	}
	if len(in.Reason) > 200 {
		return 0, nil, fmt.Errorf("admin: reason too long: %w", store.ErrInvalid)
	}
	subject := in.SubjectID
	if in.Subject != nil {
		if subject != "" {
			return 0, nil, fmt.Errorf("admin: name the subject once: %w", store.ErrInvalid)
		}
		addr, err := in.Subject.address(in.Tenant)
		if err != nil {
			return 0, nil, err
		}
		if subject, err = h.cfg.Requests.SubjectAt(c.r.Context(), addr); err != nil {
			return 0, nil, err
		}
		if subject == "" {
			return 0, nil, fmt.Errorf("admin: nobody at that address: %w", store.ErrNotFound)
		}
	}
	c.subject = subject
	hold, err := hs.Place(c.r.Context(), privacy.Hold{Tenant: in.Tenant, Subject: subject, Reason: in.Reason,
		PlacedBy: c.p.actor(), Expires: in.Expires})
	if err != nil {
		return 0, nil, err
	}
	c.w.Header().Set("Location", "holds/"+hold.ID)
	return http.StatusCreated, hold, nil
}

// HoldLift is the body of POST holds/{id}/lift.
type HoldLift struct {
	Tenant channel.TenantID `json:"tenant"`
}

func (h *Handler) liftHold(c *call) (int, any, error) {
	hs, err := h.holds()
	if err != nil {
		return 0, nil, err
	}
	var in HoldLift
	if err := c.decode(&in); err != nil {
		return 0, nil, err
	}
	if err := c.scope(in.Tenant); err != nil {
		return 0, nil, err
	}
	hold, err := hs.Lift(c.r.Context(), in.Tenant, c.r.PathValue("id"), c.p.actor())
	if err != nil {
		return 0, nil, err
	}
	c.subject = hold.Subject
	return http.StatusOK, hold, nil
}

// Request is a data-subject request as the interface shows it: its
// progress, without the verification code's hash, the evidence text or
// rectified fields.
type Request struct {
	ID     privacy.RequestID     `json:"id"`
	Type   privacy.RequestType   `json:"type"`
	Status privacy.RequestStatus `json:"status"`
	Tenant channel.TenantID      `json:"tenant"`
	// Subject is the subject's channel and id; the id is empty once the
	// subject was erased.
	Subject   Subject           `json:"subject"`
	SubjectID store.SubjectID   `json:"subject_id,omitempty"`
	Origin    privacy.Origin    `json:"origin"`
	Actor     string            `json:"actor"`
	Lang      string            `json:"lang,omitempty"`
	Purposes  []privacy.Purpose `json:"purposes,omitempty"`
	Reason    string            `json:"reason,omitempty"`
	Received  time.Time         `json:"received"`
	Due       time.Time         `json:"due"`
	Clock     string            `json:"clock"`
	Verified  time.Time         `json:"verified,omitzero"`
	Completed time.Time         `json:"completed,omitzero"`
	// Verification tells how the identity check goes, while it goes.
	Verification *Verification           `json:"verification,omitempty"`
	Receipt      *privacy.ErasureReceipt `json:"receipt,omitempty"`
	Notice       string                  `json:"notice,omitempty"`
}

// Verification is the progress of a request's identity check.
type Verification struct {
	CodesSent int       `json:"codes_sent"`
	Attempts  int       `json:"attempts"`
	Expires   time.Time `json:"expires,omitzero"`
}

func view(r privacy.Request) Request {
	v := Request{ID: r.ID, Type: r.Type, Status: r.Status, Tenant: r.Tenant,
		Subject: Subject{Channel: r.Address.Channel, ID: r.Address.User}, SubjectID: r.Subject,
		Origin: r.Origin, Actor: r.Actor, Lang: r.Lang, Purposes: r.Purposes, Reason: r.Reason,
		Received: r.Received, Due: r.Due, Clock: r.Clock, Verified: r.Verified, Completed: r.Completed,
		Receipt: r.Receipt, Notice: r.Notice}
	if vr := r.Verification; vr.Codes > 0 {
		v.Verification = &Verification{CodesSent: vr.Codes, Attempts: vr.Attempts, Expires: vr.Expires}
	}
	return v
}
