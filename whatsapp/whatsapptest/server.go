package whatsapptest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/wagent/wagent/internal/meta"
)

// Request is a request the fake API received.
type Request struct {
	Method string // GET or POST
	// Path is the URL path, version included ("/v25.0/123/messages").
	Path   string
	Query  url.Values  // the URL's query: appsecret_proof, phone_number_id
	Header http.Header // Authorization, Content-Type, ...
	Body   []byte      // as received
}

// Op names what the request did, as whatsapp.RequestInfo.Op does:
// "send", "read", "typing", "upload", "media", "download"; for the
// Business Management API "templates", "template", "template.create",
// "template.edit", "template.delete", "phone_numbers", "profile",
// "profile.update", "upload.session" and "upload.file"; or "" for
// anything else.
func (r Request) Op() string {
	parts := strings.Split(strings.Trim(r.Path, "/"), "/")
	if len(parts) == 3 {
		switch parts[2] + " " + r.Method {
		case "message_templates GET":
			return "templates"
		case "message_templates POST":
			return "template.create"
		case "message_templates DELETE":
			return "template.delete"
		case "phone_numbers GET":
			return "phone_numbers"
		case "whatsapp_business_profile GET":
			return "profile"
		case "whatsapp_business_profile POST":
			return "profile.update"
		case "uploads POST":
			return "upload.session"
		}
	}
	if len(parts) == 2 && strings.HasPrefix(parts[1], "upload:") {
		return "upload.file"
	}
	if len(parts) == 2 && r.Query.Has("fields") && r.Method == http.MethodGet {
		return "template"
	}
	if len(parts) == 2 && r.Method == http.MethodPost {
		return "template.edit"
	}
	switch {
	case strings.HasPrefix(r.Path, "/download/"):
		return "download"
	case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/messages"):
		var b struct {
			Status          string          `json:"status"`
			TypingIndicator json.RawMessage `json:"typing_indicator"`
		}
		_ = json.Unmarshal(r.Body, &b)
		switch {
		case b.Status == "read" && b.TypingIndicator != nil:
			return "typing"
		case b.Status == "read":
			return "read"
		}
		return "send"
	case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/media"):
		return "upload"
	case r.Method == http.MethodGet:
		return "media"
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
// code and subcode, shaped as the Cloud API's.
func GraphError(status, code, subcode int, message string) Response {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{
		"message":       message,
		"type":          "OAuthException",
		"code":          code,
		"error_subcode": subcode,
		"error_data":    map[string]any{"messaging_product": "whatsapp", "details": message},
		"fbtrace_id":    "AbCdEfGhIjK",
	}})
	return Response{Status: status, Body: string(body), Header: http.Header{"Content-Type": {"application/json"}}}
}

// Media is media the fake API holds.
type Media struct {
	Content  []byte // what a download returns
	MIMEType string // such as "image/jpeg"
	Filename string // as uploaded
}

// Server is a fake WhatsApp Cloud API. Create one with [NewServer] and
// point whatsapp.Options.BaseURL at [Server.URL].
type Server struct {
	// URL is the base URL of the fake, for Options.BaseURL.
	URL string

	token     string
	appSecret string
	srv       *httptest.Server

	mu       sync.Mutex
	requests []Request
	script   []Response
	media    map[string]Media
	expire   int
	ids      int
	changed  chan struct{}
	mgmt     management
}

// NewServer starts a fake Cloud API that accepts the access token token
// and, when appSecret is not empty, requires appsecret_proof on Graph API
// calls. Close it when done.
func NewServer(token, appSecret string) *Server {
	s := &Server{token: token, appSecret: appSecret, media: make(map[string]Media), changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close shuts the fake down.
func (s *Server) Close() { s.srv.Close() }

// Script queues answers for the next message sends (POST .../messages that
// are not read receipts or typing indicators), in order. Sends beyond the
// script are accepted.
func (s *Server) Script(rs ...Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, rs...)
}

// AddMedia stores media and returns its id, as an upload would.
func (s *Server) AddMedia(m Media) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids++
	id := strconv.Itoa(1000000 + s.ids)
	s.media[id] = m
	return id
}

// ExpireDownloads makes the next n media downloads fail with 404, as an
// expired media URL does.
func (s *Server) ExpireDownloads(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire += n
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
			return got, fmt.Errorf("whatsapptest: %d %q requests received, waiting for %d: %w", len(got), op, n, ctx.Err())
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

	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	// Paths are /{version}/{id} and /{version}/{id}/{edge}.
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if s.manage(w, r, req, scheme, token, parts) {
		return
	}
	if scheme != "Bearer" || s.token != "" && token != s.token {
		write(w, GraphError(http.StatusUnauthorized, 190, 0, "Invalid OAuth access token - Cannot parse access token"))
		return
	}
	if strings.HasPrefix(r.URL.Path, "/download/") {
		s.download(w, strings.TrimPrefix(r.URL.Path, "/download/"))
		return
	}
	if s.appSecret != "" && r.URL.Query().Get("appsecret_proof") != meta.AppSecretProof(token, s.appSecret) {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "Invalid appsecret_proof provided in the API argument"))
		return
	}
	switch {
	case len(parts) == 3 && r.Method == http.MethodPost && parts[2] == "messages":
		s.messages(w, r, req)
	case len(parts) == 3 && r.Method == http.MethodPost && parts[2] == "media":
		s.upload(w, r, body)
	case len(parts) == 2 && r.Method == http.MethodGet:
		s.resolve(w, parts[1])
	default:
		write(w, GraphError(http.StatusBadRequest, 100, 33, "Unsupported request"))
	}
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request, req Request) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "Content-Type must be application/json"))
		return
	}
	var m struct {
		MessagingProduct string `json:"messaging_product"`
		To               string `json:"to"`
		Recipient        string `json:"recipient"`
		Status           string `json:"status"`
	}
	if err := json.Unmarshal(req.Body, &m); err != nil || m.MessagingProduct != "whatsapp" {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "(#100) Invalid parameter"))
		return
	}
	if m.Status != "" {
		write(w, Response{Status: http.StatusOK, Body: `{"success":true}`})
		return
	}
	s.mu.Lock()
	var scripted *Response
	if len(s.script) > 0 {
		scripted = &s.script[0]
		s.script = s.script[1:]
	}
	s.ids++
	id := fmt.Sprintf("wamid.FAKE%06d", s.ids)
	s.mu.Unlock()
	if scripted != nil {
		if scripted.Hang {
			hang(w)
			return
		}
		write(w, *scripted)
		return
	}
	contact := map[string]string{"input": m.To, "wa_id": m.To}
	if m.To == "" {
		contact = map[string]string{"input": m.Recipient, "user_id": m.Recipient}
	}
	body, _ := json.Marshal(map[string]any{
		"messaging_product": "whatsapp",
		"contacts":          []any{contact},
		"messages":          []any{map[string]string{"id": id}},
	})
	write(w, Response{Status: http.StatusOK, Body: string(body)})
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, body []byte) {
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "multipart/form-data expected"))
		return
	}
	mr := multipart.NewReader(strings.NewReader(string(body)), params["boundary"])
	var m Media
	var product string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		data, _ := io.ReadAll(p)
		switch p.FormName() {
		case "messaging_product":
			product = string(data)
		case "type":
			m.MIMEType = string(data)
		case "file":
			m.Content, m.Filename = data, p.FileName()
		}
	}
	if product != "whatsapp" || m.Content == nil || m.MIMEType == "" {
		write(w, GraphError(http.StatusBadRequest, 100, 0, "(#100) The parameter messaging_product, type and file are required"))
		return
	}
	id := s.AddMedia(m)
	write(w, Response{Status: http.StatusOK, Body: `{"id":"` + id + `"}`})
}

func (s *Server) resolve(w http.ResponseWriter, id string) {
	s.mu.Lock()
	m, ok := s.media[id]
	s.mu.Unlock()
	if !ok {
		write(w, GraphError(http.StatusBadRequest, 100, 33, "Unsupported get request. Object does not exist"))
		return
	}
	sum := sha256.Sum256(m.Content)
	body, _ := json.Marshal(map[string]any{
		"messaging_product": "whatsapp",
		"url":               s.URL + "/download/" + id,
		"mime_type":         m.MIMEType,
		"sha256":            hex.EncodeToString(sum[:]),
		"file_size":         len(m.Content),
		"id":                id,
	})
	write(w, Response{Status: http.StatusOK, Body: string(body)})
}

func (s *Server) download(w http.ResponseWriter, id string) {
	s.mu.Lock()
	m, ok := s.media[id]
	expired := s.expire > 0
	if expired {
		s.expire--
	}
	s.mu.Unlock()
	if !ok || expired {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", m.MIMEType)
	w.Header().Set("Content-Length", strconv.Itoa(len(m.Content)))
	w.Write(m.Content)
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
		http.Error(w, "whatsapptest: cannot hang up on this connection", http.StatusBadGateway)
		return
	}
	if conn, _, err := hj.Hijack(); err == nil {
		conn.Close()
	}
}
