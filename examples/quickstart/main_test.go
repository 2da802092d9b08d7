package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/examples/internal/setup"
)

// env is a test environment: no API key, a fresh data directory.
func env(t *testing.T, vars map[string]string) func(string) string {
	m := map[string]string{"DATA_DIR": t.TempDir()}
	for k, v := range vars {
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// running is the demo started in-process on 127.0.0.1:0.
type running struct {
	url    string
	origin string
	out    *syncBuffer
	stop   func() error
}

// start runs serve as main does and stops it when the test ends.
func start(t *testing.T, getenv func(string) string, tools ...agent.Tool) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, options{Getenv: getenv, Out: out, Tools: tools}) }()
	r := &running{url: "http://" + ln.Addr().String(), out: out}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	r.origin = "http://localhost:" + port
	var once sync.Once
	var stopErr error
	r.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = context.DeadlineExceeded
			}
		})
		return stopErr
	}
	t.Cleanup(func() { require.NoError(t, r.stop(), "graceful shutdown") })
	// The banner is printed once the server is serving.
	deadline := time.After(30 * time.Second)
	for !strings.Contains(out.String(), "privacy API") {
		select {
		case err := <-done:
			done <- err
			require.NoError(t, err, "serve returned before serving")
			t.Fatal("serve returned before serving")
		case <-deadline:
			t.Fatal("the banner was not printed")
		case <-time.After(10 * time.Millisecond):
		}
	}
	return r
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func get(t *testing.T, url string, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// visitor is a browser with the widget open, doing what widget.js does.
type visitor struct {
	t      *testing.T
	r      *running
	token  string
	events chan event
	n      int
}

type event struct {
	Name string
	Data struct {
		Role     string `json:"role"`
		Text     string `json:"text"`
		ClientID string `json:"client_id"`
	}
}

// api calls the widget's endpoint as the script does: same origin, the
// site key in the query, the visitor token as a bearer token.
func (v *visitor) api(method, path string, body any, ctx context.Context) *http.Response {
	v.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(v.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, v.r.url+"/chat/"+path+"?site=tienda-sol", rd)
	require.NoError(v.t, err)
	req.Header.Set("Origin", v.r.origin)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if v.token != "" {
		req.Header.Set("Authorization", "Bearer "+v.token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(v.t, err)
	return resp
}

// open starts a visitor session and its event stream.
func open(t *testing.T, r *running) *visitor {
	t.Helper()
	v := &visitor{t: t, r: r, events: make(chan event, 64)}
	resp := v.api(http.MethodPost, "session", nil, t.Context())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var s struct{ Token string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&s))
	resp.Body.Close()
	require.NotEmpty(t, s.Token)
	v.token = s.Token

	resp = v.api(http.MethodGet, "events", nil, t.Context())
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.Name != "" {
					v.events <- e
				}
				e = event{}
			case strings.HasPrefix(line, "event: "):
				e.Name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &e.Data)
			}
		}
	}()
	return v
}

// say posts a message as the widget does and returns the next assistant
// or system message from the event stream.
func (v *visitor) say(text string) string {
	v.t.Helper()
	v.n++
	id := strings.Repeat("0", 15) + string(rune('a'+v.n)) + "1234567890abcdef"
	resp := v.api(http.MethodPost, "messages", map[string]string{"id": id, "text": text}, v.t.Context())
	resp.Body.Close()
	require.Equal(v.t, http.StatusAccepted, resp.StatusCode)
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-v.events:
			if e.Name == "message" && e.Data.Role != "visitor" {
				return e.Data.Text
			}
		case <-timeout:
			v.t.Fatalf("no answer to %q", text)
			return ""
		}
	}
}

func TestQuickstartServesShopWidgetAndAdmin(t *testing.T) {
	r := start(t, env(t, map[string]string{"ADMIN_TOKEN": "s3cret-admin-token"}))

	out := r.out.String()
	assert.Contains(t, out, "shop:")
	assert.Contains(t, out, "/admin/privacy/")
	assert.Contains(t, out, "s3cret-admin-token")
	assert.Contains(t, out, "offline demo")
	assert.Contains(t, out, "sqlite ")
	assert.Contains(t, out, "audit log in the store")
	assert.Contains(t, out, "/console/")

	status, body := get(t, r.url+"/", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `<script src="/chat/widget.js" data-site="tienda-sol" async></script>`)
	assert.Contains(t, body, "Alpaca poncho")
	status, body = get(t, r.url+"/products/sweater", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "S/ 260")
	assert.Contains(t, body, `data-site="tienda-sol"`)
	status, _ = get(t, r.url+"/products/llama", nil)
	assert.Equal(t, http.StatusNotFound, status)
	status, body = get(t, r.url+"/static/style.css", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, ".swatch-poncho")

	status, body = get(t, r.url+"/chat/widget.js", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "wagent web widget")

	v := open(t, r)
	assert.Equal(t, faq[0].Answer.EN, v.say("Do you ship to Cusco?"), "the shipping answer of the FAQ")
	assert.Equal(t, faq[1].Answer.ES, v.say("¿Puedo devolver una chompa?")[:len(faq[1].Answer.ES)], "Spanish, from the FAQ")
	assert.Equal(t, "Order status: shipped on 20 November, arriving in Cusco on 24 November.", v.say("where is order a-1001?"))

	// The privacy admin API: bearer token only.
	status, _ = get(t, r.url+"/admin/privacy/requests?tenant=tienda-sol", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = get(t, r.url+"/admin/privacy/requests?tenant=tienda-sol", http.Header{"Authorization": {"Bearer wrong"}})
	assert.Equal(t, http.StatusUnauthorized, status)
	status, body = get(t, r.url+"/admin/privacy/requests?tenant=tienda-sol", http.Header{"Authorization": {"Bearer s3cret-admin-token"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"requests"`)
	status, body = get(t, r.url+"/admin/privacy/audit?tenant=tienda-sol", http.Header{"Authorization": {"Bearer s3cret-admin-token"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "admin", "the calls above are in the audit log")

	// "Delete my data" in the widget erases through the privacy engine.
	resp := v.api(http.MethodDelete, "data", nil, t.Context())
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	status, body = get(t, r.url+"/admin/privacy/requests?tenant=tienda-sol&type=erasure", http.Header{"Authorization": {"Bearer s3cret-admin-token"}})
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `"completed"`)
}

func TestQuickstartGeneratesAdminToken(t *testing.T) {
	r := start(t, env(t, nil))
	out := r.out.String()
	i := strings.Index(out, "admin token:")
	require.GreaterOrEqual(t, i, 0, out)
	token := strings.Fields(out[i+len("admin token:"):])[0]
	assert.Len(t, token, 48, "24 random bytes in hex")
	assert.Contains(t, out, "generated")
	status, _ := get(t, r.url+"/admin/privacy/requests", nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	status, _ = get(t, r.url+"/admin/privacy/requests", http.Header{"Authorization": {"Bearer " + token}})
	assert.Equal(t, http.StatusOK, status)
}

func TestQuickstartOpensTicketsAndHandsOff(t *testing.T) {
	r := start(t, env(t, nil))
	v := open(t, r)

	// The SQLite store keeps tickets, so the agent offers its built-in
	// create_ticket tool, and the offline model uses it.
	assert.Regexp(t, `^I am sorry about that\. I opened ticket T-\d+ for you; our team will follow up in this chat\.$`,
		v.say("My poncho arrived damaged, there is a hole in it"))
	// Not one of the agent's handoff phrases: the model calls the tool.
	assert.Equal(t, agent.DefaultHandoffNotice, v.say("I need a human, please"))
	assert.Regexp(t, `handoff: conversation \S+ of tienda-sol is waiting for a person \(tool\)`, r.out.String(), "the team is told")
}

func TestQuickstartRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"model", map[string]string{"LLM": "eliza"}, "LLM=eliza"},
		{"store", map[string]string{"STORE": "mongo:x"}, "STORE=mongo"},
		{"public url", map[string]string{"PUBLIC_URL": "shop.example"}, "PUBLIC_URL=shop.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			err = serve(t.Context(), ln, options{Getenv: env(t, tc.vars), Out: io.Discard})
			require.ErrorIs(t, err, setup.ErrConfig)
			assert.ErrorContains(t, err, tc.want)
			_, err = net.Dial("tcp", ln.Addr().String())
			assert.Error(t, err, "the listener is closed")
		})
	}
}

func TestOrigins(t *testing.T) {
	for _, tc := range []struct {
		addr, public string
		wantPublic   string
		wantOrigins  []string
	}{
		{"127.0.0.1:8080", "", "http://localhost:8080", []string{"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"}},
		{"[::]:8080", "", "http://localhost:8080", []string{"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"}},
		{"192.168.1.5:9000", "", "http://192.168.1.5:9000", []string{"http://localhost:9000", "http://127.0.0.1:9000", "http://[::1]:9000", "http://192.168.1.5:9000"}},
		{"127.0.0.1:8080", "https://shop.example/path", "https://shop.example", []string{"http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080", "https://shop.example"}},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.addr)
		require.NoError(t, err)
		public, list, err := setup.Origins(addr, tc.public)
		require.NoError(t, err)
		assert.Equal(t, tc.wantPublic, public, tc.addr)
		assert.Equal(t, tc.wantOrigins, list, tc.addr)
	}
}

// TestQuickstartConsoleTakesOver: a customer asks for a person in the
// widget; an operator signed in with the admin token finds the
// conversation in the console's queue, claims it and replies, and the
// reply reaches the customer's widget.
func TestQuickstartConsoleTakesOver(t *testing.T) {
	r := start(t, env(t, map[string]string{"ADMIN_TOKEN": "s3cret-admin-token"}))
	v := open(t, r)
	notice := v.say("I want to talk to a human, please")
	assert.Contains(t, strings.ToLower(notice), "person")

	status, page := get(t, r.url+"/console/", http.Header{"Accept": {"text/html"}})
	assert.Equal(t, http.StatusUnauthorized, status, "the console asks for the admin token")
	assert.Contains(t, page, "Admin token")

	op := func(method, path string, body any) (int, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			require.NoError(t, err)
			rd = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(t.Context(), method, r.url+"/console/api/tenants/tienda-sol/"+path, rd)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer s3cret-admin-token")
		req.Header.Set("Origin", r.url) // the console's own page
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, b
	}
	status, body := op(http.MethodGet, "queue", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var queue struct {
		Conversations []struct {
			ID    string `json:"id"`
			Owner string `json:"owner"`
		} `json:"conversations"`
	}
	require.NoError(t, json.Unmarshal(body, &queue))
	require.Len(t, queue.Conversations, 1, "the conversation waits for a person")
	id := queue.Conversations[0].ID

	status, body = op(http.MethodPost, "conversations/"+id+"/claim", map[string]string{})
	require.Equal(t, http.StatusOK, status, string(body))
	status, body = op(http.MethodPost, "conversations/"+id+"/reply", map[string]string{"text": "Hi, this is Ana from Tienda Sol."})
	require.Equal(t, http.StatusCreated, status, string(body))

	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-v.events:
			if e.Name == "message" && strings.Contains(e.Data.Text, "Ana from Tienda Sol") {
				return
			}
		case <-timeout:
			t.Fatal("the operator's reply never reached the widget")
		}
	}
}
