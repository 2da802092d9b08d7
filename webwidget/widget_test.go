package webwidget_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/webwidget"
)

func TestNewValidation(t *testing.T) {
	valid := func() *webwidget.Options { return testOptions(newClock()) }
	_, err := webwidget.New(memory.New(nil), valid())
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		edit func(o *webwidget.Options)
		want string
	}{
		{"no secret", func(o *webwidget.Options) { o.Secret = nil }, "Options.Secret must be at least 32 bytes"},
		{"short secret", func(o *webwidget.Options) { o.Secret = []byte("short") }, "Options.Secret must be at least 32 bytes"},
		{"short previous secret", func(o *webwidget.Options) { o.PreviousSecrets = [][]byte{[]byte("x")} }, "Options.PreviousSecrets[0]"},
		{"no sites", func(o *webwidget.Options) { o.Sites = nil }, "Options.Sites needs at least one site"},
		{"bad key", func(o *webwidget.Options) { o.Sites[0].Key = "tienda sol" }, "Options.Sites[0].Key must be"},
		{"duplicate key", func(o *webwidget.Options) { o.Sites[1].Key = site }, `two sites have the key "tienda-sol"`},
		{"no name", func(o *webwidget.Options) { o.Sites[0].Name = " " }, "Options.Sites[0].Name is required"},
		{"bad colour", func(o *webwidget.Options) { o.Sites[0].Color = "red" }, "Options.Sites[0].Color must be #rrggbb"},
		{"no policy", func(o *webwidget.Options) { o.Sites[1].PrivacyPolicyURL = "" }, "Options.Sites[1].PrivacyPolicyURL"},
		{"script policy", func(o *webwidget.Options) { o.Sites[1].PrivacyPolicyURL = "javascript:alert(1)" }, "Options.Sites[1].PrivacyPolicyURL"},
		{"no origins", func(o *webwidget.Options) { o.Sites[0].AllowedOrigins = nil }, "Options.Sites[0].AllowedOrigins needs at least one origin"},
		{"origin with a path", func(o *webwidget.Options) { o.Sites[0].AllowedOrigins = []string{"https://shop.example/chat"} }, "is not an origin"},
		{"bare wildcard", func(o *webwidget.Options) { o.Sites[0].AllowedOrigins = []string{"*"} }, "is not an origin"},
		{"wildcard in the middle", func(o *webwidget.Options) { o.Sites[0].AllowedOrigins = []string{"https://shop.*.example"} }, "a wildcard origin is"},
		{"negative", func(o *webwidget.Options) { o.MaxMessageBytes = -1 }, "Options.MaxMessageBytes must not be negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := valid()
			tc.edit(o)
			_, err := webwidget.New(memory.New(nil), o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "webwidget: "), err.Error())
		})
	}

	t.Run("every problem at once", func(t *testing.T) {
		_, err := webwidget.New(nil, nil)
		require.Error(t, err)
		for _, want := range []string{"a store is required", "Options.Secret", "Options.Sites"} {
			assert.Contains(t, err.Error(), want)
		}
	})
}

func TestLabels(t *testing.T) {
	for _, l := range []webwidget.Labels{webwidget.EnglishLabels(), webwidget.SpanishLabels()} {
		b, err := json.Marshal(l)
		require.NoError(t, err)
		var m map[string]string
		require.NoError(t, json.Unmarshal(b, &m))
		for k, v := range m {
			assert.NotEmpty(t, v, "label %s", k)
		}
	}
	f := newFixture(t, func(o *webwidget.Options) { o.Sites[0].Labels = webwidget.Labels{Send: "Enviar"} })
	_, body := f.do(t, req{method: "GET", path: "/config?site=" + site})
	assert.Contains(t, body, `"send":"Enviar"`)
	assert.Contains(t, body, `"open":"Open chat"`, "labels not given are the English ones")
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
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

// TestLogsHoldNoPersonalData runs a conversation with debug logs and checks
// that neither what the visitor wrote, nor the reply, nor the visitor's
// id, token or address appears in them.
func TestLogsHoldNoPersonalData(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	const said, answered = "my card is 4111 1111 1111 1111", "Please never share your card number here."
	f, _, turns := agentFixture(t, llmtest.NewScripted(llmtest.Reply(answered)), func(o *webwidget.Options) {
		o.Logger = logger
		o.Erase = func(context.Context, channel.Address) error { return nil }
	})
	tok := f.token(t)
	h := f.history(t, tok)
	s := f.openEvents(t, tok, h.Cursor)
	require.Equal(t, http.StatusAccepted, f.post(t, tok, "logged-message-0001", said))
	waitTurn(t, turns)
	for e := s.next(t); e.Name != "message" || e.message(t).Role != "assistant"; e = s.next(t) {
	}
	resp, _ := f.do(t, req{method: "GET", path: "/history?site=" + site, token: tok + "x"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = f.do(t, req{method: "DELETE", path: "/data?site=" + site, token: tok})
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	out := logs.String()
	require.Contains(t, out, "webwidget: message received", "the test saw the widget's logs")
	require.Contains(t, out, "webwidget: message sent")
	for _, secret := range []string{said, "4111 1111", answered, string(visitor(t, tok).User), tok, "127.0.0.1"} {
		assert.NotContains(t, out, secret)
	}
}
