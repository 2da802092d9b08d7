package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

func TestRoundTrip(t *testing.T) {
	api := whatsapptest.NewServer(token, appSecret) // requires appsecret_proof
	defer api.Close()
	out := &lines{ch: make(chan string, 16)}
	var stderr bytes.Buffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	code := make(chan int, 1)
	go func() { code <- run(ctx, env(api.URL, nil), out, &stderr) }()

	var base string
	select {
	case line := <-out.ch:
		require.True(t, strings.HasPrefix(line, "listening on http://"), line)
		base = strings.Fields(strings.TrimPrefix(line, "listening on "))[0]
	case c := <-code:
		t.Fatalf("run exited with %d: %s", c, stderr.String())
	}

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	resp, err = http.Get(base + "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=42")
	require.NoError(t, err)
	challenge, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "42", string(challenge))

	body := whatsapptest.TextDelivery(phoneNumberID, "16505551234", "US.13491208655302741918", "wamid.EXAMPLE0001", "hola", time.Now())
	resp, err = http.DefaultClient.Do(whatsapptest.NewDelivery(base+"/webhooks/whatsapp", body, appSecret))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
	defer wcancel()
	sent, err := api.Wait(wctx, "send", 1)
	require.NoError(t, err, stderr.String())
	var msg struct {
		Recipient string `json:"recipient"`
		Text      struct {
			Body string `json:"body"`
		} `json:"text"`
	}
	require.NoError(t, json.Unmarshal(sent[0].Body, &msg))
	assert.Equal(t, "US.13491208655302741918", msg.Recipient)
	assert.Equal(t, "echo: hola", msg.Text.Body)
	assert.Equal(t, "/v25.0/"+phoneNumberID+"/messages", sent[0].Path)
	assert.NotEmpty(t, sent[0].Query.Get("appsecret_proof"))

	cancel() // SIGINT
	select {
	case c := <-code:
		assert.Equal(t, 0, c, stderr.String())
	case <-time.After(35 * time.Second):
		t.Fatal("run did not stop")
	}
	assert.NotContains(t, stderr.String(), token)
	assert.NotContains(t, stderr.String(), "16505551234")
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
		{"sqlite", map[string]string{"STORE": "sqlite:wagent.db"}, "whatsapp: STORE=sqlite: not available in this build yet\n"},
		{"postgres", map[string]string{"STORE": "postgres:postgres://localhost/wagent"}, "whatsapp: STORE=postgres: not available in this build yet\n"},
		{"unknown store", map[string]string{"STORE": "redis"}, "whatsapp: STORE=redis: use memory, sqlite:PATH or postgres:DSN\n"},
		{"openai", map[string]string{"LLM": "openai"}, "whatsapp: LLM=openai: not available in this build yet\n"},
		{"gemini by its key", map[string]string{"GEMINI_API_KEY": "k"}, "whatsapp: LLM=gemini: not available in this build yet\n"},
		{"unknown llm", map[string]string{"LLM": "eliza"}, "whatsapp: LLM=eliza: use echo, openai or gemini\n"},
		{"log level", map[string]string{"LOG_LEVEL": "loud"}, "whatsapp: LOG_LEVEL=loud: use debug, info, warn or error\n"},
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

func TestListenFailure(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), env("http://127.0.0.1:1", map[string]string{"ADDR": "256.0.0.1:99999"}), &stdout, &stderr)
	assert.Equal(t, 1, code)
	sc := bufio.NewScanner(&stderr)
	require.True(t, sc.Scan())
	assert.Contains(t, sc.Text(), "whatsapp: ADDR:")
}
