package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/sqlite"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

const (
	token         = "example-token"
	appSecret     = "example-app-secret"
	verifyToken   = "example-verify-token"
	phoneNumberID = "106540352242922"
)

func env(api string, extra map[string]string) func(string) string {
	m := map[string]string{
		"WHATSAPP_ACCESS_TOKEN":    token,
		"WHATSAPP_APP_SECRET":      appSecret,
		"WHATSAPP_VERIFY_TOKEN":    verifyToken,
		"WHATSAPP_PHONE_NUMBER_ID": phoneNumberID,
		"WHATSAPP_API_URL":         api,
		"ADDR":                     "127.0.0.1:0",
		"LOG_LEVEL":                "warn",
	}
	for k, v := range extra {
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// lines is an io.Writer that hands each line written to a channel.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan string
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil {
			l.buf.WriteString(line)
			return len(p), nil
		}
		l.ch <- strings.TrimSpace(line)
	}
}

// TestRoundTrip starts the bot on the SQLite store with the echo model and
// a fake Cloud API: a signed webhook in, the reply out at the API, a read
// status back, and after the bot stopped, the database holds the
// conversation with the reply's delivery state.
func TestRoundTrip(t *testing.T) {
	api := whatsapptest.NewServer(token, appSecret) // requires appsecret_proof
	defer api.Close()
	dbPath := filepath.Join(t.TempDir(), "wagent.db")
	b := startBot(t, env(api.URL, map[string]string{"STORE": "sqlite:" + dbPath}))
	assert.Contains(t, b.banner, "store sqlite "+dbPath+", model echo")
	assert.Contains(t, b.banner, "staff not mounted (set ADMIN_TOKEN)")
	base, ctx, stderr := b.base, t.Context(), &b.stderr

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(base + "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=42")
	require.NoError(t, err)
	challenge, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "42", string(challenge))

	b.deliver(t, whatsapptest.TextDelivery(phoneNumberID, "16505551234", "US.13491208655302741918", "wamid.EXAMPLE0001", "hola", time.Now()))

	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	sent, err := api.Wait(wctx, "send", 1)
	require.NoError(t, err, stderr.String())
	var msg struct {
		Recipient string `json:"recipient"`
		Biz       string `json:"biz_opaque_callback_data"`
		Text      struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	require.NoError(t, json.Unmarshal(sent[0].Body, &msg))
	assert.Equal(t, "US.13491208655302741918", msg.Recipient)
	assert.Equal(t, "echo: hola", msg.Text.Body)
	assert.Equal(t, "/v25.0/"+phoneNumberID+"/messages", sent[0].Path)
	assert.NotEmpty(t, sent[0].Query.Get("appsecret_proof"))

	// The status is recorded before the webhook answers 200.
	b.deliver(t, whatsapptest.StatusDelivery(phoneNumberID, "16505551234", "wamid.FAKE000001", "read", msg.Biz, 0, time.Now()))

	assert.Equal(t, 0, b.stop(t), stderr.String())
	assert.NotContains(t, stderr.String(), token)
	assert.NotContains(t, stderr.String(), "16505551234")

	// What the bot recorded is in the database file.
	st, err := sqlite.Open(t.Context(), dbPath, nil)
	require.NoError(t, err)
	defer st.Close()
	conv, err := st.OpenConversation(t.Context(), channel.Address{Channel: channel.WhatsApp, Tenant: phoneNumberID, User: "US.13491208655302741918"})
	require.NoError(t, err)
	hist, err := st.History(t.Context(), phoneNumberID, conv.ID, store.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, hist, 2, "the message and the reply")
	assert.Equal(t, channel.MessageID("wamid.EXAMPLE0001"), hist[0].ProviderID)
	assert.Equal(t, store.ProcessDone, hist[0].Processing.State)
	require.NotNil(t, hist[1].Outbound)
	assert.Equal(t, channel.MessageID("wamid.FAKE000001"), hist[1].ProviderID)
	assert.Equal(t, channel.Read, hist[1].Delivery.State, "the status webhook updated the delivery record")
}

// bot is examples/whatsapp running in the test.
type bot struct {
	base   string // http://host:port
	banner string // the "listening on" line
	stderr syncBuffer
	cancel context.CancelFunc
	code   chan int
}

// startBot runs the bot with getenv until the test ends or stop is called.
func startBot(t *testing.T, getenv func(string) string) *bot {
	t.Helper()
	out := &lines{ch: make(chan string, 16)}
	ctx, cancel := context.WithCancel(t.Context())
	b := &bot{cancel: cancel, code: make(chan int, 1)}
	go func() { b.code <- run(ctx, getenv, out, &b.stderr) }()
	t.Cleanup(func() { b.stop(t) })
	select {
	case line := <-out.ch:
		require.True(t, strings.HasPrefix(line, "listening on http://"), line)
		b.banner, b.base = line, strings.Fields(strings.TrimPrefix(line, "listening on "))[0]
	case c := <-b.code:
		t.Fatalf("run exited with %d: %s", c, b.stderr.String())
	}
	return b
}

// stop stops the bot as SIGINT would and returns its exit code.
func (b *bot) stop(t *testing.T) int {
	t.Helper()
	b.cancel()
	select {
	case c, ok := <-b.code:
		if !ok {
			return 0 // stopped already
		}
		close(b.code)
		return c
	case <-time.After(35 * time.Second):
		t.Fatal("run did not stop")
		return -1
	}
}

// deliver posts a signed webhook body to the bot and checks the 200.
func (b *bot) deliver(t *testing.T, body []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(whatsapptest.NewDelivery(b.base+"/webhooks/whatsapp", body, appSecret))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestDefaultStoreIsSQLite(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	api := whatsapptest.NewServer(token, appSecret)
	defer api.Close()
	out := &lines{ch: make(chan string, 16)}
	var stderr syncBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- run(ctx, env(api.URL, nil), out, &stderr) }()
	select {
	case line := <-out.ch:
		assert.Contains(t, line, "store sqlite wagent.db")
	case c := <-code:
		t.Fatalf("run exited with %d: %s", c, stderr.String())
	}
	cancel()
	assert.Equal(t, 0, <-code, stderr.String())
	_, err := os.Stat(filepath.Join(dir, "wagent.db"))
	assert.NoError(t, err, "the database file is created in the working directory")
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of run and
// the reads of the test.
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

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"missing token", map[string]string{"WHATSAPP_ACCESS_TOKEN": ""}, "whatsapp: missing required environment variable WHATSAPP_ACCESS_TOKEN\n"},
		{"missing several", map[string]string{"WHATSAPP_APP_SECRET": "", "WHATSAPP_PHONE_NUMBER_ID": ""},
			"whatsapp: missing required environment variable WHATSAPP_APP_SECRET, WHATSAPP_PHONE_NUMBER_ID\n"},
		{"sqlite without a file", map[string]string{"STORE": "sqlite:"}, "whatsapp: STORE=sqlite needs a file, as in sqlite:wagent.db\n"},
		{"postgres without a dsn", map[string]string{"STORE": "postgres:"}, "whatsapp: STORE=postgres needs a DSN, as in postgres:postgres://user@localhost:5432/wagent\n"},
		{"unknown store", map[string]string{"STORE": "redis"}, "whatsapp: STORE=redis: use memory, sqlite:PATH or postgres:DSN\n"},
		{"throughput too high", map[string]string{"WHATSAPP_THROUGHPUT": "5000"}, "whatsapp: WHATSAPP_THROUGHPUT=5000: use a whole number from 1 to 1000\n"},
		{"contact limit not a number", map[string]string{"CONTACT_LIMIT": "many"}, "whatsapp: CONTACT_LIMIT=many: use a whole number from 1 to 1048576 (or off)\n"},
		{"openai without a key", map[string]string{"LLM": "openai"}, "whatsapp: LLM=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)\n"},
		{"gemini without a key", map[string]string{"LLM": "gemini"}, "whatsapp: LLM=gemini needs GEMINI_API_KEY\n"},
		{"unknown llm", map[string]string{"LLM": "eliza"}, "whatsapp: LLM=eliza: use openai, gemini or echo\n"},
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, "whatsapp: LOG_LEVEL=loud: use debug, info, warn or error\n"},
		{"admin token too short", map[string]string{"ADMIN_TOKEN": "secret"}, "whatsapp: ADMIN_TOKEN is too short: use at least 16 characters\n"},
		{"metadata only", map[string]string{"METADATA_ONLY": "maybe"}, "whatsapp: METADATA_ONLY=maybe: use on or off\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), env("http://127.0.0.1:1", tt.env), &stdout, &stderr)
			assert.Equal(t, 2, code)
			assert.Equal(t, tt.want, stderr.String(), "one clear line")
			assert.Empty(t, stdout.String())
		})
	}
}

func TestStoreOpenFailure(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "file"), []byte("x"), 0o600))
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), env("http://127.0.0.1:1", map[string]string{"STORE": "sqlite:" + filepath.Join(dir, "file", "db")}), &stdout, &stderr)
	assert.Equal(t, 1, code, "a store that cannot be opened is a failure, not a configuration error")
	assert.True(t, strings.HasPrefix(stderr.String(), "whatsapp: STORE=sqlite:"), stderr.String())
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line")
}

func TestListenFailure(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), env("http://127.0.0.1:1", map[string]string{"ADDR": "256.0.0.1:99999", "STORE": "memory"}), &stdout, &stderr)
	assert.Equal(t, 1, code)
	sc := bufio.NewScanner(&stderr)
	require.True(t, sc.Scan())
	assert.Contains(t, sc.Text(), "whatsapp: ADDR:")
}
