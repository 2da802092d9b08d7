package console_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/console"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

const (
	shop  channel.TenantID = "tienda-sol"
	other channel.TenantID = "ferreteria-luna"
)

// windowed is a recording WhatsApp channel with a 24-hour
// customer-service window.
type windowed struct{ *channeltest.Recorder }

func (windowed) ServiceWindow() time.Duration { return 24 * time.Hour }

var _ channel.Windowed = windowed{}

// fixture is a running agent over a memory store and a recording channel,
// with a console mounted under /console/.
type fixture struct {
	store   *memory.Store
	ch      *channeltest.Recorder
	model   *llmtest.Scripted
	agent   *agent.Agent
	audit   *privacy.Audit
	console *console.Console
	mux     *http.ServeMux
	turns   chan agent.TurnInfo
}

func setup(t *testing.T, edit func(*console.Options), steps ...llmtest.Step) *fixture {
	t.Helper()
	f := &fixture{
		store: memory.New(nil),
		ch:    channeltest.NewRecorder(channel.WhatsApp),
		model: llmtest.NewScripted(steps...),
		turns: make(chan agent.TurnInfo, 100),
	}
	a, err := agent.New(agent.Config{
		Store:          f.store,
		Model:          f.model,
		Channels:       []channel.Channel{windowed{f.ch}},
		CoalesceWindow: -1,
		Logger:         testLogger(t),
		Hooks:          agent.Hooks{TurnDone: func(ti agent.TurnInfo) { f.turns <- ti }},
	})
	require.NoError(t, err)
	f.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	f.audit, err = privacy.NewAudit(privacy.NewMemoryStorage(), nil)
	require.NoError(t, err)
	opts := console.Options{
		Operator: func(r *http.Request) (string, error) { return r.Header.Get("X-Staff"), nil },
		Tenants:  []channel.TenantID{shop, other},
		Audit:    f.audit,
		Logger:   testLogger(t),
	}
	if edit != nil {
		edit(&opts)
	}
	f.console, err = console.New(a, f.store, &opts)
	require.NoError(t, err)
	f.mux = http.NewServeMux()
	f.mux.Handle("/console/", http.StripPrefix("/console", f.console))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		assert.NoError(t, f.console.Close(sctx))
		assert.NoError(t, a.Shutdown(sctx))
		cancel()
		<-ran
	})
	return f
}

// customer returns the address of a WhatsApp user of tenant.
func customer(tenant channel.TenantID, user string) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(user)}
}

// write has the customer at from write text, sent at when (now when
// zero), and waits for the turn.
func (f *fixture) write(t *testing.T, from channel.Address, id, text string, when time.Time) store.ConversationID {
	t.Helper()
	m := channel.Message{ID: channel.MessageID(id), From: from, Time: when, Type: channel.TypeText, Text: channel.Text(text),
		Sender: channel.Profile{Name: "Rosa Quispe", Phone: channel.Phone(from.User)}}
	require.NoError(t, f.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{m}}))
	select {
	case ti := <-f.turns:
		return ti.Conversation
	case <-time.After(10 * time.Second):
		t.Fatal("no turn")
	}
	return ""
}

// waiting has a customer ask for a person and returns the conversation.
func (f *fixture) waiting(t *testing.T, from channel.Address, id string) store.ConversationID {
	t.Helper()
	return f.write(t, from, id, "quiero hablar con una persona", time.Time{})
}

// call makes a request as operator (none when empty) with a JSON body
// (none when empty).
func (f *fixture) call(t *testing.T, operator, method, path, body string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, "/console"+path, rd)
	if operator != "" {
		req.Header.Set("X-Staff", operator)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	f.mux.ServeHTTP(rec, req)
	return rec
}

func convPath(tenant channel.TenantID, id store.ConversationID) string {
	return "/api/tenants/" + string(tenant) + "/conversations/" + string(id)
}

// decode decodes a JSON answer with status want.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder, want int) T {
	t.Helper()
	require.Equal(t, want, rec.Code, "status; body: %s", rec.Body.String())
	assert.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	var v T
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &v), rec.Body.String())
	return v
}

type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// refused checks an error answer.
func refused(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) apiError {
	t.Helper()
	e := decode[apiError](t, rec, status)
	assert.Equal(t, code, e.Error)
	assert.NotEmpty(t, e.Message)
	return e
}

type summary struct {
	ID       store.ConversationID `json:"id"`
	Customer string               `json:"customer"`
	Owner    string               `json:"owner"`
	Operator string               `json:"operator"`
	Mine     bool                 `json:"mine"`
	Reason   string               `json:"reason"`
}

type queueAnswer struct {
	Conversations []summary `json:"conversations"`
	Next          string    `json:"next"`
}

type messageAnswer struct {
	ID       store.MessageID `json:"id"`
	Role     string          `json:"role"`
	Kind     string          `json:"kind"`
	Text     string          `json:"text"`
	Delivery string          `json:"delivery"`
}

type viewAnswer struct {
	Conversation struct {
		summary
		Name           string    `json:"name"`
		Phone          string    `json:"phone"`
		WindowClosesAt time.Time `json:"window_closes_at"`
		WindowClosed   bool      `json:"window_closed"`
	} `json:"conversation"`
	Messages []messageAnswer `json:"messages"`
}

// testLogger logs warnings and errors to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
