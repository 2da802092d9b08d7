package webwidget_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/webwidget"
)

const (
	site     = "tienda-sol"
	origin   = "https://tiendasol.example"
	policy   = "https://tiendasol.example/privacy"
	waitLong = 10 * time.Second // bounds waits that succeed at once when the code works
)

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

// clock is a settable clock for tokens and rate limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// storeReceiver is a channel.Receiver that records messages in a store, as
// the agent does, without answering them.
type storeReceiver struct {
	st store.ConversationStore

	mu   sync.Mutex
	got  []channel.Message
	fail error
}

func (r *storeReceiver) Receive(ctx context.Context, in channel.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	for _, m := range in.Messages {
		if _, err := r.st.AppendInbound(ctx, m); err != nil {
			return err
		}
		r.got = append(r.got, m)
	}
	return nil
}

func (r *storeReceiver) messages() []channel.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channel.Message(nil), r.got...)
}

// onlyStore hides the optional capabilities of a store.
type onlyStore struct{ store.ConversationStore }

// fixture is a widget served by an httptest server.
type fixture struct {
	w     *webwidget.Widget
	st    *memory.Store
	clock *clock
	recv  *storeReceiver
	srv   *httptest.Server
}

func testOptions(c *clock) *webwidget.Options {
	return &webwidget.Options{
		Secret: testSecret,
		Sites: []webwidget.Site{{
			Key:              site,
			Name:             "Tienda Sol",
			Color:            "#ffd700",
			Greeting:         "Hello! How can I help?",
			PrivacyPolicyURL: policy,
			AllowedOrigins:   []string{origin, "https://*.tiendasol.example"},
		}, {
			Key:              "other-shop",
			Name:             "Other Shop",
			PrivacyPolicyURL: "https://other.example/privacy",
			AllowedOrigins:   []string{"https://other.example"},
		}},
		Now:    c.Now,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// newFixture serves a widget over a memory store, with its options changed
// by edit, and a receiver that records messages in the store.
func newFixture(t *testing.T, edit func(*webwidget.Options)) *fixture {
	t.Helper()
	f := &fixture{st: memory.New(nil), clock: newClock()}
	opts := testOptions(f.clock)
	if edit != nil {
		edit(opts)
	}
	w, err := webwidget.New(onlyStore{f.st}, opts)
	require.NoError(t, err)
	f.w = w
	f.recv = &storeReceiver{st: f.st}
	f.srv = httptest.NewServer(w.Handler(f.recv))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		require.NoError(t, w.Close(ctx))
		f.srv.Close()
	})
	return f
}

// req is a request to the widget's handler.
type req struct {
	method, path string // path with its query
	token        string
	origin       string // "-" for none; "" for the site's origin
	header       http.Header
	body         string
}

// do sends r and returns the response with its body read.
func (f *fixture) do(t *testing.T, r req) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	hr, err := http.NewRequestWithContext(t.Context(), r.method, f.srv.URL+r.path, body)
	require.NoError(t, err)
	for k, v := range r.header {
		hr.Header[k] = v
	}
	switch r.origin {
	case "":
		hr.Header.Set("Origin", origin)
	case "-":
	default:
		hr.Header.Set("Origin", r.origin)
	}
	if r.token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.body != "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.srv.Client().Do(hr)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// token gets a new visitor token for the site.
func (f *fixture) token(t *testing.T) string {
	t.Helper()
	resp, body := f.do(t, req{method: "POST", path: "/session?site=" + site})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var s struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	require.NotEmpty(t, s.Token)
	return s.Token
}

// visitor is the address a token names, read from its payload.
func visitor(t *testing.T, tok string) channel.Address {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c struct {
		Site    string `json:"s"`
		Visitor string `json:"v"`
	}
	require.NoError(t, json.Unmarshal(raw, &c))
	return channel.Address{Channel: channel.WebWidget, Tenant: channel.TenantID(c.Site), User: channel.UserID(c.Visitor)}
}

// post sends a visitor message and returns the status.
func (f *fixture) post(t *testing.T, tok, id, text string) int {
	t.Helper()
	b, err := json.Marshal(map[string]string{"id": id, "text": text})
	require.NoError(t, err)
	resp, body := f.do(t, req{method: "POST", path: "/messages?site=" + site, token: tok, body: string(b)})
	if resp.StatusCode != http.StatusAccepted {
		t.Logf("POST /messages: %d %s", resp.StatusCode, body)
	}
	return resp.StatusCode
}

// wireMessage is a message as the script gets it.
type wireMessage struct {
	ID       int64  `json:"id"`
	ClientID string `json:"client_id"`
	Role     string `json:"role"`
	Text     string `json:"text"`
	Header   string `json:"header"`
	Footer   string `json:"footer"`
	Chips    []struct {
		ID, Title, Kind string
	} `json:"chips"`
	Media *struct {
		Kind, URL string
	} `json:"media"`
	Location *struct {
		Name, URL string
	} `json:"location"`
}

type historyAnswer struct {
	Messages []wireMessage `json:"messages"`
	Cursor   string        `json:"cursor"`
}

func (f *fixture) history(t *testing.T, tok string) historyAnswer {
	t.Helper()
	resp, body := f.do(t, req{method: "GET", path: "/history?site=" + site, token: tok})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var h historyAnswer
	require.NoError(t, json.Unmarshal([]byte(body), &h))
	return h
}

// sseEvent is one server-sent event, or a comment when Comment is set.
type sseEvent struct {
	ID, Name, Data, Comment string
}

func (e sseEvent) message(t *testing.T) wireMessage {
	t.Helper()
	require.Equal(t, "message", e.Name)
	var m wireMessage
	require.NoError(t, json.Unmarshal([]byte(e.Data), &m))
	return m
}

// stream is an open event stream.
type stream struct {
	resp   *http.Response
	events chan sseEvent // closed at the end of the stream
	cancel context.CancelFunc
}

// openEvents opens the event stream with tok, resuming after lastID when
// it is set, and fails the test unless the answer is 200.
func (f *fixture) openEvents(t *testing.T, tok, lastID string) *stream {
	t.Helper()
	s, status := f.tryEvents(t, tok, lastID)
	require.Equal(t, http.StatusOK, status)
	return s
}

func (f *fixture) tryEvents(t *testing.T, tok, lastID string) (*stream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	hr, err := http.NewRequestWithContext(ctx, "GET", f.srv.URL+"/events?site="+site, nil)
	require.NoError(t, err)
	hr.Header.Set("Origin", origin)
	hr.Header.Set("Authorization", "Bearer "+tok)
	if lastID != "" {
		hr.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := f.srv.Client().Do(hr)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	s := &stream{resp: resp, events: make(chan sseEvent, 64), cancel: cancel}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		r := bufio.NewReader(resp.Body)
		var e sseEvent
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if e != (sseEvent{}) {
					s.events <- e
				}
				e = sseEvent{}
			case strings.HasPrefix(line, ":"):
				e.Comment = strings.TrimSpace(line[1:])
			default:
				k, v, _ := strings.Cut(line, ": ")
				switch k {
				case "id":
					e.ID = v
				case "event":
					e.Name = v
				case "data":
					e.Data += v
				}
			}
		}
	}()
	t.Cleanup(s.close)
	return s, resp.StatusCode
}

func (s *stream) close() { s.cancel() }

// next returns the next event, skipping the retry hint and comments.
func (s *stream) next(t *testing.T) sseEvent {
	t.Helper()
	for {
		select {
		case e, ok := <-s.events:
			require.True(t, ok, "the stream ended")
			if e.Name == "" && e.Data == "" {
				continue // retry hint or comment
			}
			return e
		case <-time.After(waitLong):
			t.Fatal("no event")
		}
	}
}

// nextComment returns the next comment line.
func (s *stream) nextComment(t *testing.T) string {
	t.Helper()
	for {
		select {
		case e, ok := <-s.events:
			require.True(t, ok, "the stream ended")
			if e.Comment != "" {
				return e.Comment
			}
		case <-time.After(waitLong):
			t.Fatal("no comment")
		}
	}
}

// ended waits for the end of the stream, failing on any further event.
func (s *stream) ended(t *testing.T) {
	t.Helper()
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				return
			}
			require.True(t, e.Name == "" && e.Data == "", "unexpected event %+v", e)
		case <-time.After(waitLong):
			t.Fatal("the stream did not end")
		}
	}
}

// text sends a text reply to addr through the widget as the agent would,
// without a record.
func text(addr channel.Address, s string) channel.Outbound {
	return channel.Outbound{To: addr, Text: channel.Text(s)}
}
