package instagramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/wagent/wagent/internal/meta"
)

// Request is a request the fake API received.
type Request struct {
	Method string // GET or POST
	// Path is the URL path, version included ("/v25.0/1784.../messages").
	Path   string
	Query  url.Values  // the URL's query: fields, appsecret_proof
	Header http.Header // Authorization, Content-Type, ...
	Body   []byte      // as received
}

// Op names what the request did, as instagram.RequestInfo.Op does:
// "send", "read" (mark_seen), "typing" (typing_on, typing_off), "profile",
// or "" for anything else.
func (r Request) Op() string {
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/messages"):
		var b struct {
			SenderAction string `json:"sender_action"`
		}
		_ = json.Unmarshal(r.Body, &b)
		switch b.SenderAction {
		case "":
			return "send"
		case "mark_seen":
			return "read"
		}
		return "typing"
	case r.Method == http.MethodGet:
		return "profile"
	}
	return ""
}

// Response is a scripted answer.
type Response struct {
	Status int         // HTTP status; 0 means 200
	Header http.Header // extra headers, such as Retry-After
	Body   string      // the JSON answered
	// Hang, when set, makes the server read the request and then close the
	// connection without answering, as a network failure after the request
	// was written would.
	Hang bool
}

// GraphError returns the answer of a Graph API error with HTTP status,
// code and subcode.
func GraphError(status, code, subcode int, message string) Response {
	e := map[string]any{"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjK"}
	if subcode != 0 {
		e["error_subcode"] = subcode
	}
	body, _ := json.Marshal(map[string]any{"error": e})
	return Response{Status: status, Body: string(body), Header: http.Header{"Content-Type": {"application/json"}}}
}

// Profile is what the fake's User Profile API answers for a user.
type Profile struct {
	Name     string
	Username string
}

// Server is a fake Graph API for Instagram messaging. Create one with
// [NewServer] and point instagram.Options.BaseURL at [Server.URL].
type Server struct {
	// URL is the base URL of the fake, for Options.BaseURL.
	URL string

	token     string
	appSecret string
	srv       *httptest.Server

	mu       sync.Mutex
	requests []Request
	script   []Response
	closed   map[string]bool
	profiles map[string]Profile
	ids      int
	changed  chan struct{}
}

// NewServer starts a fake Graph API that accepts the access token token
// and, when appSecret is not empty, requires appsecret_proof. Close it
// when done.
func NewServer(token, appSecret string) *Server {
	s := &Server{token: token, appSecret: appSecret, closed: make(map[string]bool), profiles: make(map[string]Profile), changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// Script queues answers for the next message sends (not sender actions),
// in order. Sends beyond the script are checked and accepted.
func (s *Server) Script(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// CloseWindow makes the standard 24-hour window of the user igsid closed:
// sends to them without the HUMAN_AGENT tag fail with code 10, subcode
// 2534022, as the API answers.
func (s *Server) CloseWindow(igsid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed[igsid] = true
}

// SetProfile sets what the User Profile API answers for igsid.
func (s *Server) SetProfile(igsid string, p Profile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[igsid] = p
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Sent returns the message sends received so far (op "send"), in order.
func (s *Server) Sent() []Request { return s.Filter("send") }

// Filter returns the requests received so far with the given op.
func (s *Server) Filter(op string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Op() == op {
			out = append(out, r)
		}
	}
	return out
}

// Wait blocks until at least n requests with op ("" for any) have been
// received, and returns them, or returns ctx's error.
func (s *Server) Wait(ctx context.Context, op string, n int) ([]Request, error) {
	for {
		s.mu.Lock()
		changed := s.changed
		var got []Request
		for _, r := range s.requests {
			if op == "" || r.Op() == op {
				got = append(got, r)
			}
		}
		s.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return got, fmt.Errorf("instagramtest: %d %q requests received, waiting for %d: %w", len(got), op, n, ctx.Err())
		}
	}
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	s.record(req)

	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" || s.token != "" && token != s.token {
		write(w, GraphError(http.StatusUnauthorized, 190, 0, "Invalid OAuth access token - Cannot parse access token"))
		return
	}
	if s.appSecret != "" && r.URL.Query().Get("appsecret_proof") != meta.AppSecretProof(token, s.appSecret) {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "Invalid appsecret_proof provided in the API argument"))
		return
	}
	// Paths are /{version}/{ig-id or me}/messages and /{version}/{igsid}.
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case len(parts) == 3 && r.Method == http.MethodPost && parts[2] == "messages":
		s.messages(w, r, req)
	case len(parts) == 2 && r.Method == http.MethodGet:
		s.profile(w, parts[1], r.URL.Query().Get("fields"))
	default:
		write(w, GraphError(http.StatusBadRequest, 100, 33, "Unsupported request"))
	}
}

// sendBody is the Send API's request body, decoded strictly.
type sendBody struct {
	Recipient *struct {
		ID string `json:"id"`
	} `json:"recipient"`
	MessagingType string       `json:"messaging_type"`
	Tag           string       `json:"tag"`
	SenderAction  string       `json:"sender_action"`
	Message       *sendMessage `json:"message"`
}

type sendMessage struct {
	Text         string `json:"text"`
	QuickReplies []struct {
		ContentType string `json:"content_type"`
		Title       string `json:"title"`
		Payload     string `json:"payload"`
	} `json:"quick_replies"`
	Attachment *struct {
		Type    string `json:"type"`
		Payload struct {
			URL          string `json:"url"`
			TemplateType string `json:"template_type"`
			Elements     []struct {
				Title         string `json:"title"`
				ImageURL      string `json:"image_url"`
				Subtitle      string `json:"subtitle"`
				DefaultAction *struct {
					Type string `json:"type"`
					URL  string `json:"url"`
				} `json:"default_action"`
				Buttons []struct {
					Type    string `json:"type"`
					Title   string `json:"title"`
					URL     string `json:"url"`
					Payload string `json:"payload"`
				} `json:"buttons"`
			} `json:"elements"`
		} `json:"payload"`
	} `json:"attachment"`
}

// check returns what the Send API would refuse in b, or "".
func check(b sendBody) string {
	if b.Recipient == nil || b.Recipient.ID == "" {
		return "(#100) The parameter recipient is required"
	}
	if b.SenderAction != "" {
		if b.Message != nil || b.MessagingType != "" {
			return "(#100) sender_action cannot be sent with other fields"
		}
		if !slices.Contains([]string{"mark_seen", "typing_on", "typing_off"}, b.SenderAction) {
			return "(#100) Invalid sender_action"
		}
		return ""
	}
	if b.Message == nil {
		return "(#100) The parameter message is required"
	}
	switch b.MessagingType {
	case "RESPONSE", "UPDATE":
		if b.Tag != "" {
			return "(#100) A tag needs messaging_type MESSAGE_TAG"
		}
	case "MESSAGE_TAG":
		if b.Tag != "HUMAN_AGENT" {
			return "(#100) Invalid tag"
		}
	case "":
	default:
		return "(#100) Invalid messaging_type"
	}
	m := b.Message
	if (m.Text == "") == (m.Attachment == nil) {
		return "(#100) A message has either text or an attachment"
	}
	if len(m.Text) > 1000 {
		return "(#100) Message text is longer than 1000 bytes"
	}
	if len(m.QuickReplies) > 13 {
		return "(#100) At most 13 quick replies"
	}
	for _, q := range m.QuickReplies {
		if q.ContentType != "text" || q.Title == "" || utf8.RuneCountInString(q.Title) > 20 || q.Payload == "" {
			return "(#100) Invalid quick reply"
		}
	}
	if a := m.Attachment; a != nil {
		switch a.Type {
		case "image", "video", "audio", "file":
			if a.Payload.URL == "" || a.Payload.TemplateType != "" {
				return "(#100) An attachment needs a url"
			}
		case "template":
			p := a.Payload
			if p.TemplateType != "generic" || len(p.Elements) == 0 || len(p.Elements) > 10 {
				return "(#100) A generic template has 1 to 10 elements"
			}
			for _, e := range p.Elements {
				if e.Title == "" || utf8.RuneCountInString(e.Title) > 80 || utf8.RuneCountInString(e.Subtitle) > 80 || len(e.Buttons) > 3 {
					return "(#100) Invalid template element"
				}
				if e.DefaultAction != nil && (e.DefaultAction.Type != "web_url" || e.DefaultAction.URL == "") {
					return "(#100) Invalid default_action"
				}
				for _, bt := range e.Buttons {
					ok := bt.Title != "" && (bt.Type == "postback" && bt.Payload != "" && bt.URL == "" || bt.Type == "web_url" && bt.URL != "" && bt.Payload == "")
					if !ok {
						return "(#100) Invalid button"
					}
				}
			}
		default:
			return "(#100) Invalid attachment type"
		}
	}
	return ""
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request, req Request) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "Content-Type must be application/json"))
		return
	}
	var b sendBody
	dec := json.NewDecoder(bytes.NewReader(req.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "(#100) Invalid parameter"))
		return
	}
	if msg := check(b); msg != "" {
		write(w, GraphError(http.StatusBadRequest, 100, 0, msg))
		return
	}
	if b.SenderAction != "" {
		write(w, Response{Body: `{"recipient_id":"` + b.Recipient.ID + `"}`})
		return
	}
	s.mu.Lock()
	var scripted *Response
	if len(s.script) > 0 {
		scripted = &s.script[0]
		s.script = s.script[1:]
	}
	closed := s.closed[b.Recipient.ID] && b.Tag != "HUMAN_AGENT"
	if scripted == nil && !closed {
		s.ids++
	}
	id := fmt.Sprintf("aWdfZAFAKE%06d", s.ids)
	s.mu.Unlock()
	switch {
	case scripted != nil && scripted.Hang:
		hang(w)
	case scripted != nil:
		write(w, *scripted)
	case closed:
		write(w, GraphError(http.StatusBadRequest, 10, 2534022, "(#10) This message is sent outside of allowed window."))
	default:
		body, _ := json.Marshal(map[string]string{"recipient_id": b.Recipient.ID, "message_id": id})
		write(w, Response{Body: string(body)})
	}
}

func (s *Server) profile(w http.ResponseWriter, igsid, fields string) {
	s.mu.Lock()
	p, ok := s.profiles[igsid]
	s.mu.Unlock()
	if !ok {
		write(w, GraphError(http.StatusBadRequest, 100, 33, "Unsupported get request. Object with ID does not exist"))
		return
	}
	out := map[string]string{"id": igsid}
	for _, f := range strings.Split(fields, ",") {
		switch f {
		case "name":
			out["name"] = p.Name
		case "username":
			out["username"] = p.Username
		}
	}
	body, _ := json.Marshal(out)
	write(w, Response{Body: string(body)})
}

func write(w http.ResponseWriter, r Response) {
	for k, v := range r.Header {
		w.Header()[k] = v
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	status := r.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, r.Body)
}

// hang closes the connection without an answer.
func hang(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "instagramtest: cannot hang up on this connection", http.StatusBadGateway)
		return
	}
	if conn, _, err := hj.Hijack(); err == nil {
		conn.Close()
	}
}
