package webwidget

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
)

var (
	//go:embed assets/widget.js
	widgetJS []byte
	//go:embed assets/widget.css
	widgetCSS []byte
)

// Response headers.
const (
	// apiCSP is the Content-Security-Policy of every response: the
	// widget's own resources are data, never documents to render or frame.
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

	allowMethods = "GET, POST, DELETE"
	allowHeaders = "Authorization, Content-Type, Last-Event-ID"
	// preflightMaxAge is how long browsers may cache a preflight answer.
	preflightMaxAge = "600"
	// retryMillis is the reconnection delay the event stream suggests.
	retryMillis = "3000"
)

// Errors the handler maps to statuses in httpStatus. errBadToken is in
// token.go, errTooManyStreams in hub.go, *rateLimitError in limit.go.
var (
	errUnknownSite = errors.New("webwidget: unknown site key")
	errOrigin      = errors.New("webwidget: origin not allowed for the site")
	errTooLarge    = errors.New("webwidget: message too large")
	errBadRequest  = errors.New("webwidget: bad request")
	errNoEraser    = errors.New("webwidget: no way to erase data is configured")
	errNoReceiver  = errors.New("webwidget: no receiver")
)

// httpStatus is the one table that turns errors into HTTP statuses and the
// codes the script sees.
func httpStatus(err error) (status int, code string) {
	var rl *rateLimitError
	switch {
	case errors.Is(err, errUnknownSite):
		return http.StatusNotFound, "unknown_site"
	case errors.Is(err, errOrigin):
		return http.StatusForbidden, "origin"
	case errors.Is(err, errBadToken):
		return http.StatusUnauthorized, "token"
	case errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, "bad_request"
	case errors.As(err, &rl), errors.Is(err, errTooManyStreams):
		return http.StatusTooManyRequests, "rate_limited"
	case errors.Is(err, errNoEraser):
		return http.StatusNotImplemented, "not_supported"
	case errors.Is(err, channel.ErrClosed), errors.Is(err, errNoReceiver):
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

// clientIDRE matches the ids the script gives visitors' messages; they are
// random (128 bits or more), so that no visitor can guess another's.
var clientIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// Handler returns the HTTP handler of the widget, whose visitors' messages
// go to recv (the agent). Mount it under a prefix ending in a slash with
// [net/http.StripPrefix], the prefix without its slash stripped:
//
//	mux.Handle("/chat/", http.StripPrefix("/chat", w.Handler(a)))
//
// and embed the widget with <script src="https://shop.example/chat/widget.js"
// data-site="SITE_KEY" async></script>. The script finds every other
// endpoint next to its own URL, so any prefix works. Paths, relative to
// the mount point:
//
//	GET    /widget.js, /widget.css  the script and its stylesheet (public)
//	GET    /config?site=K           the site's name, colour, greeting, notice and texts
//	POST   /session?site=K          a new visitor token, or a refreshed one for the bearer
//	GET    /history?site=K          the bearer's conversation and a cursor for /events
//	POST   /messages?site=K         a visitor message {"id","text","reply"}; 202 once recorded
//	GET    /events?site=K           server-sent events: message, typing, reload
//	DELETE /data?site=K             erase the bearer's data; 204
//
// Every endpoint but the two assets checks the Origin header against the
// site's allowed origins (403) and answers CORS, preflight included.
// Endpoints after /session need "Authorization: Bearer <token>" (401).
// Errors are JSON {"error": code}. Handler may be called more than once;
// the handlers share the widget. With a nil recv, POST /messages answers
// 503.
func (w *Widget) Handler(recv channel.Receiver) http.Handler {
	h := &handler{w: w, recv: recv, mux: http.NewServeMux()}
	h.mux.Handle("GET /widget.js", asset(widgetJS, "text/javascript; charset=utf-8"))
	h.mux.Handle("GET /widget.css", asset(widgetCSS, "text/css; charset=utf-8"))
	h.mux.HandleFunc("GET /config", h.api(false, h.config))
	h.mux.HandleFunc("POST /session", h.api(false, h.session))
	h.mux.HandleFunc("GET /history", h.api(true, h.history))
	h.mux.HandleFunc("POST /messages", h.api(true, h.send))
	h.mux.HandleFunc("GET /events", h.api(true, h.events))
	h.mux.HandleFunc("DELETE /data", h.api(true, h.erase))
	return h
}

type handler struct {
	w    *Widget
	recv channel.Receiver
	mux  *http.ServeMux
}

func (h *handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	hd := rw.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", apiCSP)
	if r.Method == http.MethodOptions {
		h.preflight(rw, r)
		return
	}
	h.mux.ServeHTTP(rw, r)
}

// asset serves an embedded file to any page: scripts and stylesheets
// loaded by a tag carry no Origin to check.
func asset(body []byte, contentType string) http.Handler {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Type", contentType)
		hd.Set("Cache-Control", "public, max-age=600")
		hd.Set("ETag", etag)
		hd.Set("Cross-Origin-Resource-Policy", "cross-origin")
		http.ServeContent(rw, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// request is what the api wrapper established about a request.
type request struct {
	site *site
	// visitor is the bearer's address, for authenticated endpoints.
	visitor channel.Address
}

// api wraps an endpoint: it finds the site, checks the origin and answers
// CORS, refuses requests after Close, verifies the bearer's token when auth
// is set, and turns the endpoint's error into a status.
func (h *handler) api(auth bool, f func(http.ResponseWriter, *http.Request, *request) error) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Cache-Control", "no-store")
		req := &request{}
		err := h.admit(rw, r, req, auth)
		if err == nil {
			err = f(rw, r, req)
		}
		if err != nil {
			h.fail(rw, r, req, err)
		}
	}
}

func (h *handler) admit(rw http.ResponseWriter, r *http.Request, req *request, auth bool) error {
	req.site = h.w.cfg.sites[channel.TenantID(r.URL.Query().Get("site"))]
	if req.site == nil {
		return errUnknownSite
	}
	if !originAllowed(r, req.site) {
		return errOrigin
	}
	hd := rw.Header()
	hd.Add("Vary", "Origin")
	if o := r.Header.Get("Origin"); o != "" {
		hd.Set("Access-Control-Allow-Origin", o)
		hd.Set("Access-Control-Expose-Headers", "Retry-After")
	}
	if h.w.isClosed() {
		return channel.ErrClosed
	}
	if auth {
		c, err := h.verify(r, req.site.Key)
		if err != nil {
			return err
		}
		req.visitor = channel.Address{Channel: channel.WebWidget, Tenant: c.Site, User: c.Visitor}
	}
	return nil
}

// originAllowed checks the Origin header against the site's allowed
// origins. Browsers send Origin with every cross-origin request and every
// POST; only same-origin GETs go without, and those they mark
// "Sec-Fetch-Site: same-origin". A request with neither is refused.
func originAllowed(r *http.Request, s *site) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	return s.allows(o)
}

// verify checks the bearer token of r for the site.
func (h *handler) verify(r *http.Request, key channel.TenantID) (claims, error) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return claims{}, errBadToken
	}
	c, _, err := verifyToken(h.w.secrets, strings.TrimSpace(tok), key, h.w.cfg.TokenTTL, h.w.cfg.Now())
	return c, err
}

// fail answers err with its status and logs it: refusals at Debug,
// failures of the widget or what it calls at Warn.
func (h *handler) fail(rw http.ResponseWriter, r *http.Request, req *request, err error) {
	status, code := httpStatus(err)
	var rl *rateLimitError
	switch {
	case errors.As(err, &rl):
		rw.Header().Set("Retry-After", retryAfter(rl.after))
	case errors.Is(err, errTooManyStreams):
		rw.Header().Set("Retry-After", retryAfter(h.w.cfg.Heartbeat))
	case status == http.StatusServiceUnavailable:
		rw.Header().Set("Retry-After", "5")
	}
	level := slog.LevelDebug
	if status >= 500 && status != http.StatusNotImplemented {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String(logkey.Reason, code), slog.Int(logkey.Code, status), slog.Any(logkey.Error, err)}
	if req.site != nil {
		attrs = append(attrs, slog.String(logkey.Tenant, string(req.site.Key)))
	}
	if !req.visitor.IsZero() {
		attrs = append(attrs, slog.Any(logkey.Address, req.visitor))
	}
	h.w.log.LogAttrs(r.Context(), level, "webwidget: request refused", attrs...)
	writeJSON(rw, status, struct {
		Error string `json:"error"`
	}{code})
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json; charset=utf-8")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(v)
}

// preflight answers CORS preflight requests for the site named in the
// query.
func (h *handler) preflight(rw http.ResponseWriter, r *http.Request) {
	s := h.w.cfg.sites[channel.TenantID(r.URL.Query().Get("site"))]
	o := r.Header.Get("Origin")
	hd := rw.Header()
	hd.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	switch {
	case s == nil:
		h.fail(rw, r, &request{}, errUnknownSite)
		return
	case o == "" || !s.allows(o):
		h.fail(rw, r, &request{site: s}, errOrigin)
		return
	}
	hd.Set("Access-Control-Allow-Origin", o)
	hd.Set("Access-Control-Allow-Methods", allowMethods)
	hd.Set("Access-Control-Allow-Headers", allowHeaders)
	hd.Set("Access-Control-Max-Age", preflightMaxAge)
	rw.WriteHeader(http.StatusNoContent)
}

// configView is the answer of /config.
type configView struct {
	Site            channel.TenantID `json:"site"`
	Name            string           `json:"name"`
	Color           string           `json:"color"`
	OnColor         string           `json:"on_color"`
	Greeting        string           `json:"greeting,omitempty"`
	Notice          string           `json:"notice"`
	PolicyURL       string           `json:"policy_url"`
	MaxMessageBytes int              `json:"max_message_bytes"`
	Erase           bool             `json:"erase"`
	Labels          Labels           `json:"labels"`
}

func (h *handler) config(rw http.ResponseWriter, r *http.Request, req *request) error {
	s := req.site
	rw.Header().Set("Cache-Control", "max-age=300")
	writeJSON(rw, http.StatusOK, configView{
		Site:            s.Key,
		Name:            s.Name,
		Color:           strings.ToLower(s.Color),
		OnColor:         s.onColor,
		Greeting:        s.Greeting,
		Notice:          s.PrivacyNotice,
		PolicyURL:       s.PrivacyPolicyURL,
		MaxMessageBytes: h.w.cfg.MaxMessageBytes,
		Erase:           h.w.eraser() != nil,
		Labels:          s.Labels,
	})
	return nil
}

// sessionView is the answer of /session.
type sessionView struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// session issues a token: for a new visitor, or, with a valid bearer
// token, a fresh one for the same visitor.
func (h *handler) session(rw http.ResponseWriter, r *http.Request, req *request) error {
	now := h.w.cfg.Now()
	if err := h.w.perIP.allow(h.w.cfg.ClientIP(r), now); err != nil {
		return err
	}
	var visitor channel.UserID
	if r.Header.Get("Authorization") != "" {
		c, err := h.verify(r, req.site.Key)
		if err != nil {
			return err
		}
		visitor = c.Visitor
	} else {
		visitor = newVisitorID()
		h.w.log.LogAttrs(r.Context(), slog.LevelDebug, "webwidget: new visitor",
			slog.String(logkey.Tenant, string(req.site.Key)))
	}
	tok := issueToken(h.w.cfg.Secret, claims{Site: req.site.Key, Visitor: visitor, Issued: now.Unix()})
	writeJSON(rw, http.StatusOK, sessionView{Token: tok, ExpiresAt: time.Unix(now.Unix(), 0).Add(h.w.cfg.TokenTTL).UTC()})
	return nil
}

// historyView is the answer of /history.
type historyView struct {
	Messages []message `json:"messages"`
	// Cursor is the Last-Event-ID to open /events with: every message
	// event after it is replayed.
	Cursor string `json:"cursor"`
}

func (h *handler) history(rw http.ResponseWriter, r *http.Request, req *request) error {
	// The cursor is taken first: what happens after it is replayed on the
	// stream, what happened before it is in the history (or both: the
	// script shows a record once).
	cursor := h.w.hub.cursor(req.visitor, h.w.cfg.Now())
	msgs, err := h.w.history(r.Context(), req.visitor)
	if err != nil {
		return err
	}
	writeJSON(rw, http.StatusOK, historyView{Messages: msgs, Cursor: cursor})
	return nil
}

// sendBody is the body of POST /messages.
type sendBody struct {
	// ID is the client's id of the message, reused when the POST is
	// retried; the agent answers a message id once.
	ID   string `json:"id"`
	Text string `json:"text"`
	// Reply is set when the visitor tapped a quick-reply chip; Text is then
	// the chip's title.
	Reply *struct {
		ID   string `json:"id"`
		Kind string `json:"kind"`
	} `json:"reply,omitempty"`
}

func (h *handler) send(rw http.ResponseWriter, r *http.Request, req *request) error {
	if h.recv == nil {
		return errNoReceiver
	}
	now := h.w.cfg.Now()
	if err := h.w.perIP.allow(h.w.cfg.ClientIP(r), now); err != nil {
		return err
	}
	if err := h.w.perVis.allow(string(req.visitor.Tenant)+"\x00"+string(req.visitor.User), now); err != nil {
		return err
	}
	limit := h.w.cfg.MaxMessageBytes
	// JSON may spell a byte in up to six ("\u00e9"); the text is checked
	// after decoding.
	body := http.MaxBytesReader(rw, r.Body, int64(6*limit+1024))
	var in sendBody
	dec := json.NewDecoder(body)
	if err := dec.Decode(&in); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errTooLarge
		}
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: data after the message", errBadRequest)
	}
	switch {
	case !clientIDRE.MatchString(in.ID):
		return fmt.Errorf("%w: id must be 16-64 letters, digits, '-' or '_'", errBadRequest)
	case len(in.Text) > limit:
		return errTooLarge
	case strings.TrimSpace(in.Text) == "" || !utf8.ValidString(in.Text):
		return fmt.Errorf("%w: empty text", errBadRequest)
	case in.Reply != nil && (in.Reply.ID == "" || len(in.Reply.ID) > 256 ||
		(in.Reply.Kind != string(channel.ReplyButton) && in.Reply.Kind != string(channel.ReplyList))):
		return fmt.Errorf("%w: reply needs an id and kind button or list", errBadRequest)
	}
	m := channel.Message{ID: channel.MessageID(in.ID), From: req.visitor, Time: now, Type: channel.TypeText, Text: channel.Text(in.Text)}
	if in.Reply != nil {
		m.Type, m.Text = channel.TypeInteractive, ""
		m.Reply = &channel.Reply{Kind: channel.ReplyKind(in.Reply.Kind), ID: in.Reply.ID, Title: channel.Text(in.Text)}
	}
	// The visitor's other tabs show the message too. It goes out before
	// the message is handed on, so that it comes before the reply; a retry
	// of a message that failed is shown once (by its id).
	echo, _ := json.Marshal(message{ClientID: in.ID, Role: roleVisitor, Time: now, Text: in.Text})
	h.w.hub.publish(req.visitor, eventMessage, echo, now)
	if err := h.recv.Receive(r.Context(), channel.Inbound{Messages: []channel.Message{m}}); err != nil {
		return fmt.Errorf("webwidget: receiving a message: %w", err)
	}
	h.w.log.LogAttrs(r.Context(), slog.LevelDebug, "webwidget: message received",
		slog.Any(logkey.Address, req.visitor), slog.String(logkey.ProviderID, in.ID))
	writeJSON(rw, http.StatusAccepted, struct {
		ID string `json:"id"`
	}{in.ID})
	return nil
}

// events streams the visitor's events until the client goes, the stream
// falls too far behind (the client resumes), the visitor's data is erased
// or the widget is closed.
func (h *handler) events(rw http.ResponseWriter, r *http.Request, req *request) error {
	if !h.w.startStream() {
		return channel.ErrClosed
	}
	defer h.w.streams.Done()
	sub, replay, reload, err := h.w.hub.subscribe(req.visitor, r.Header.Get("Last-Event-ID"), h.w.cfg.Now())
	if err != nil {
		return err
	}
	if sub != nil {
		defer h.w.hub.unsubscribe(req.visitor, sub, h.w.cfg.Now())
	}
	rc := http.NewResponseController(rw)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's WriteTimeout
	hd := rw.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("X-Accel-Buffering", "no")
	rw.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteString("retry: " + retryMillis + "\n\n")
	if reload {
		h.w.log.LogAttrs(r.Context(), slog.LevelDebug, "webwidget: stream cannot resume, client reloads",
			slog.Any(logkey.Address, req.visitor))
		writeEvent(&buf, "", eventReload, []byte("{}"))
		_, _ = rw.Write(buf.Bytes())
		_ = rc.Flush()
		return nil
	}
	for _, e := range replay {
		writeEvent(&buf, h.w.hub.id(e.seq), e.name, e.data)
	}
	if _, err := rw.Write(buf.Bytes()); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	heartbeat := time.NewTicker(h.w.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		buf.Reset()
		select {
		case e, ok := <-sub.ch:
			if !ok {
				return nil
			}
			id := ""
			if e.seq != 0 {
				id = h.w.hub.id(e.seq)
			}
			writeEvent(&buf, id, e.name, e.data)
		case <-heartbeat.C:
			buf.WriteString(": heartbeat\n\n")
		case <-r.Context().Done():
			return nil
		}
		if _, err := rw.Write(buf.Bytes()); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// writeEvent writes one server-sent event. data is JSON, which holds no
// line breaks.
func writeEvent(buf *bytes.Buffer, id, name string, data []byte) {
	if id != "" {
		buf.WriteString("id: " + id + "\n")
	}
	buf.WriteString("event: " + name + "\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}

// erase deletes the visitor's data through Options.Erase and forgets the
// events kept for them.
func (h *handler) erase(rw http.ResponseWriter, r *http.Request, req *request) error {
	if err := h.w.perIP.allow(h.w.cfg.ClientIP(r), h.w.cfg.Now()); err != nil {
		return err
	}
	erase := h.w.eraser()
	if erase == nil {
		return errNoEraser
	}
	// The erasure completes even if the visitor closes the page.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), eraseTimeout)
	defer cancel()
	if err := erase(ctx, req.visitor); err != nil {
		h.w.log.LogAttrs(ctx, slog.LevelError, "webwidget: erasing a visitor's data failed",
			slog.Any(logkey.Address, req.visitor), slog.Any(logkey.Error, err))
		return fmt.Errorf("webwidget: erasing a visitor's data: %w", err)
	}
	h.w.hub.drop(req.visitor)
	h.w.log.LogAttrs(ctx, slog.LevelInfo, "webwidget: visitor data erased", slog.Any(logkey.Address, req.visitor))
	rw.WriteHeader(http.StatusNoContent)
	return nil
}

// eraseTimeout bounds an erasure.
const eraseTimeout = 30 * time.Second
