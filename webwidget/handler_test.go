package webwidget_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/webwidget"
)

// assertSecurityHeaders checks the headers every answer carries.
func assertSecurityHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
}

func TestAssets(t *testing.T) {
	f := newFixture(t, nil)
	total := 0
	for _, a := range []struct{ path, contentType string }{
		{"/widget.js", "text/javascript; charset=utf-8"},
		{"/widget.css", "text/css; charset=utf-8"},
	} {
		t.Run(a.path, func(t *testing.T) {
			// Loaded by a tag on any page: no Origin to check.
			resp, body := f.do(t, req{method: "GET", path: a.path, origin: "-"})
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, a.contentType, resp.Header.Get("Content-Type"))
			assert.Equal(t, "cross-origin", resp.Header.Get("Cross-Origin-Resource-Policy"))
			assertSecurityHeaders(t, resp)
			require.NotEmpty(t, resp.Header.Get("ETag"))
			total += len(body)

			resp, _ = f.do(t, req{method: "GET", path: a.path, origin: "-", header: http.Header{"If-None-Match": {resp.Header.Get("ETag")}}})
			assert.Equal(t, http.StatusNotModified, resp.StatusCode)
		})
	}
	t.Run("under 30 KB together", func(t *testing.T) {
		t.Logf("widget.js + widget.css: %d bytes", total)
		assert.Less(t, total, 30_000)
	})
	t.Run("the script uses no eval, inline styles or innerHTML", func(t *testing.T) {
		_, js := f.do(t, req{method: "GET", path: "/widget.js", origin: "-"})
		for _, banned := range []string{"eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "'style'", "cssText"} {
			assert.NotContains(t, js, banned)
		}
	})
}

func TestConfig(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name   string
		path   string
		origin string
		header http.Header
		status int
	}{
		{"allowed origin", "/config?site=" + site, "", nil, http.StatusOK},
		{"allowed subdomain", "/config?site=" + site, "https://www.tiendasol.example", nil, http.StatusOK},
		{"same-origin page without Origin", "/config?site=" + site, "-", http.Header{"Sec-Fetch-Site": {"same-origin"}}, http.StatusOK},
		{"other site's origin", "/config?site=" + site, "https://other.example", nil, http.StatusForbidden},
		{"lookalike origin", "/config?site=" + site, "https://tiendasol.example.evil.example", nil, http.StatusForbidden},
		{"http instead of https", "/config?site=" + site, "http://tiendasol.example", nil, http.StatusForbidden},
		{"null origin", "/config?site=" + site, "null", nil, http.StatusForbidden},
		{"cross-site without Origin", "/config?site=" + site, "-", http.Header{"Sec-Fetch-Site": {"cross-site"}}, http.StatusForbidden},
		{"no Origin at all", "/config?site=" + site, "-", nil, http.StatusForbidden},
		{"unknown site", "/config?site=nope", "", nil, http.StatusNotFound},
		{"no site", "/config", "", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, req{method: "GET", path: tc.path, origin: tc.origin, header: tc.header})
			require.Equal(t, tc.status, resp.StatusCode, body)
			assertSecurityHeaders(t, resp)
			if tc.status != http.StatusOK {
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "no CORS for a refused request")
				assert.JSONEq(t, `{"error":"`+map[int]string{403: "origin", 404: "unknown_site"}[tc.status]+`"}`, body)
				return
			}
			if tc.origin != "-" {
				want := tc.origin
				if want == "" {
					want = origin
				}
				assert.Equal(t, want, resp.Header.Get("Access-Control-Allow-Origin"))
				assert.Contains(t, resp.Header.Values("Vary"), "Origin")
			}
			var c map[string]any
			require.NoError(t, json.Unmarshal([]byte(body), &c))
			assert.Equal(t, "Tienda Sol", c["name"])
			assert.Equal(t, "#ffd700", c["color"])
			assert.Equal(t, "#000000", c["on_color"], "black text contrasts more with gold")
			assert.Equal(t, "Hello! How can I help?", c["greeting"])
			assert.Equal(t, webwidget.DefaultPrivacyNotice, c["notice"])
			assert.Equal(t, policy, c["policy_url"])
			assert.EqualValues(t, webwidget.DefaultMaxMessageBytes, c["max_message_bytes"])
			assert.Equal(t, false, c["erase"], "the memory store cannot erase and no hook is set")
			assert.Equal(t, "Open chat", c["labels"].(map[string]any)["open"])
		})
	}
}

func TestPreflight(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		name, path, origin string
		status             int
	}{
		{"allowed", "/messages?site=" + site, origin, http.StatusNoContent},
		{"events", "/events?site=" + site, origin, http.StatusNoContent},
		{"erase", "/data?site=" + site, origin, http.StatusNoContent},
		{"wrong origin", "/messages?site=" + site, "https://evil.example", http.StatusForbidden},
		{"other site's origin", "/messages?site=other-shop", origin, http.StatusForbidden},
		{"no origin", "/messages?site=" + site, "-", http.StatusForbidden},
		{"unknown site", "/messages?site=nope", origin, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, _ := f.do(t, req{method: "OPTIONS", path: tc.path, origin: tc.origin, header: http.Header{
				"Access-Control-Request-Method":  {"POST"},
				"Access-Control-Request-Headers": {"authorization,content-type"},
			}})
			require.Equal(t, tc.status, resp.StatusCode)
			assertSecurityHeaders(t, resp)
			if tc.status != http.StatusNoContent {
				assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
				return
			}
			assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, "GET, POST, DELETE", resp.Header.Get("Access-Control-Allow-Methods"))
			assert.Equal(t, "Authorization, Content-Type, Last-Event-ID", resp.Header.Get("Access-Control-Allow-Headers"))
			assert.Equal(t, "600", resp.Header.Get("Access-Control-Max-Age"))
			assert.Empty(t, resp.Header.Get("Access-Control-Allow-Credentials"), "no cookies, no credentials")
		})
	}
}

// forge returns tok with its payload replaced by claims, keeping the old
// signature, or signed with secret when it is set.
func forge(t *testing.T, tok string, claims map[string]any, secret []byte) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	signed := "v1." + base64.RawURLEncoding.EncodeToString(payload)
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	if secret != nil {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte("wagent/webwidget visitor token\x00"))
		mac.Write([]byte(signed))
		sig = base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	return signed + "." + sig
}

func TestTokens(t *testing.T) {
	f := newFixture(t, nil)
	alice := f.token(t)
	bob := f.token(t)
	require.NotEqual(t, visitor(t, alice), visitor(t, bob), "each new session is a new visitor")
	require.Equal(t, http.StatusAccepted, f.post(t, alice, "alice-message-0001", "my order is A-1001"))

	aliceAddr := visitor(t, alice)
	now := f.clock.Now().Unix()
	flip := []byte(alice)
	flip[len(flip)-3] ^= 1
	otherSecret := []byte("another-secret-another-secret-another-secret")

	for _, tc := range []struct {
		name, token string
	}{
		{"empty", ""},
		{"garbage", "not-a-token"},
		{"no signature", alice[:strings.LastIndexByte(alice, '.')]},
		{"altered signature", string(flip)},
		{"bob's payload with alice's id, bob's signature", forge(t, bob, map[string]any{"s": site, "v": aliceAddr.User, "t": now}, nil)},
		{"signed with another secret", forge(t, bob, map[string]any{"s": site, "v": aliceAddr.User, "t": now}, otherSecret)},
		{"another site's token", forge(t, bob, map[string]any{"s": "other-shop", "v": aliceAddr.User, "t": now}, testSecret)},
		{"issued in the future", forge(t, bob, map[string]any{"s": site, "v": aliceAddr.User, "t": now + 3600}, testSecret)},
		{"issued too long ago", forge(t, bob, map[string]any{"s": site, "v": aliceAddr.User, "t": now - int64(webwidget.DefaultTokenTTL/time.Second)}, testSecret)},
		{"malformed visitor id", forge(t, bob, map[string]any{"s": site, "v": "../alice", "t": now}, testSecret)},
		{"other version", "v2" + alice[2:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []req{
				{method: "GET", path: "/history?site=" + site},
				{method: "GET", path: "/events?site=" + site},
				{method: "POST", path: "/messages?site=" + site, body: `{"id":"forged-message-0001","text":"hi"}`},
				{method: "POST", path: "/session?site=" + site},
				{method: "DELETE", path: "/data?site=" + site},
			} {
				if tc.token == "" && r.path == "/session?site="+site {
					continue // no token asks for a new one
				}
				r.token = tc.token
				if tc.token == "" {
					r.header = http.Header{"Authorization": {"Bearer"}}
				}
				resp, body := f.do(t, r)
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s %s: %s", r.method, r.path, body)
				assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"), "the script can read the 401")
			}
		})
	}

	t.Run("a token is for its site only", func(t *testing.T) {
		resp, _ := f.do(t, req{method: "GET", path: "/history?site=other-shop", origin: "https://other.example", token: alice})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})

	t.Run("one visitor never reads another's history", func(t *testing.T) {
		h := f.history(t, alice)
		require.Len(t, h.Messages, 1)
		assert.Equal(t, "my order is A-1001", h.Messages[0].Text)
		assert.Equal(t, "alice-message-0001", h.Messages[0].ClientID)
		assert.Equal(t, "visitor", h.Messages[0].Role)
		assert.Empty(t, f.history(t, bob).Messages)
	})

	t.Run("a visitor who never wrote is not recorded", func(t *testing.T) {
		assert.Empty(t, f.history(t, f.token(t)).Messages)
		_, err := f.st.Subject(t.Context(), visitor(t, bob))
		assert.Error(t, err, "reading an empty history creates no subject")
	})

	t.Run("refresh keeps the visitor and extends the token", func(t *testing.T) {
		f.clock.Advance(webwidget.DefaultTokenTTL - time.Hour)
		resp, body := f.do(t, req{method: "POST", path: "/session?site=" + site, token: alice})
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		var s struct {
			Token     string    `json:"token"`
			ExpiresAt time.Time `json:"expires_at"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &s))
		assert.Equal(t, aliceAddr, visitor(t, s.Token))
		assert.Equal(t, f.clock.Now().Add(webwidget.DefaultTokenTTL), s.ExpiresAt)

		f.clock.Advance(2 * time.Hour)
		resp, _ = f.do(t, req{method: "GET", path: "/history?site=" + site, token: alice})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the old token expired")
		resp, _ = f.do(t, req{method: "POST", path: "/session?site=" + site, token: alice})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "an expired token cannot be refreshed")
		assert.Len(t, f.history(t, s.Token).Messages, 1, "the refreshed one reads the same conversation")
	})
}

func TestSecretRotation(t *testing.T) {
	old := newFixture(t, nil)
	tok := old.token(t)
	rotated := newFixture(t, func(o *webwidget.Options) {
		o.Secret = []byte("the-new-secret-the-new-secret-the-new-secret")
		o.PreviousSecrets = [][]byte{testSecret}
	})
	rotated.clock.Advance(time.Minute)
	resp, body := rotated.do(t, req{method: "POST", path: "/session?site=" + site, token: tok})
	require.Equal(t, http.StatusOK, resp.StatusCode, "tokens signed with a previous secret are accepted")
	var s struct{ Token string }
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	assert.Equal(t, visitor(t, tok), visitor(t, s.Token))
	resp, _ = old.do(t, req{method: "GET", path: "/history?site=" + site, token: s.Token})
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the refreshed token is signed with the new secret")
}

func TestMessages(t *testing.T) {
	f := newFixture(t, func(o *webwidget.Options) {
		o.MaxMessageBytes = 100
		o.VisitorLimit.Every = -1 // TestRateLimits tests it
	})
	tok := f.token(t)
	addr := visitor(t, tok)

	t.Run("text", func(t *testing.T) {
		resp, body := f.do(t, req{method: "POST", path: "/messages?site=" + site, token: tok, body: `{"id":"0123456789abcdef","text":"¿Tienen envíos?"}`})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
		assert.JSONEq(t, `{"id":"0123456789abcdef"}`, body)
		assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		got := f.recv.messages()
		require.Len(t, got, 1)
		m := got[0]
		assert.Equal(t, channel.MessageID("0123456789abcdef"), m.ID, "the client's id is the message id")
		assert.Equal(t, addr, m.From)
		assert.Equal(t, channel.TypeText, m.Type)
		assert.Equal(t, channel.Text("¿Tienen envíos?"), m.Text)
		assert.Equal(t, f.clock.Now(), m.Time, "the server's clock, not the browser's")
	})

	t.Run("quick reply", func(t *testing.T) {
		resp, body := f.do(t, req{method: "POST", path: "/messages?site=" + site, token: tok, body: `{"id":"0123456789abcdeg","text":"Track my order","reply":{"id":"track","kind":"button"}}`})
		require.Equal(t, http.StatusAccepted, resp.StatusCode, body)
		got := f.recv.messages()
		m := got[len(got)-1]
		assert.Equal(t, channel.TypeInteractive, m.Type)
		assert.Equal(t, &channel.Reply{Kind: channel.ReplyButton, ID: "track", Title: "Track my order"}, m.Reply)
		assert.Empty(t, m.Text)
		h := f.history(t, tok)
		assert.Equal(t, "Track my order", h.Messages[len(h.Messages)-1].Text, "history shows the chip's title")
	})

	before := len(f.recv.messages())
	long := strings.Repeat("a", 101)
	for _, tc := range []struct {
		name   string
		body   string
		token  string
		status int
	}{
		{"text over the limit", `{"id":"0123456789abcdeh","text":"` + long + `"}`, tok, http.StatusRequestEntityTooLarge},
		{"multi-byte text over the limit", `{"id":"0123456789abcdeh","text":"` + strings.Repeat("é", 51) + `"}`, tok, http.StatusRequestEntityTooLarge},
		{"body over the limit", `{"id":"0123456789abcdeh","text":"hi","pad":"` + strings.Repeat("x", 2000) + `"}`, tok, http.StatusRequestEntityTooLarge},
		{"no id", `{"text":"hi"}`, tok, http.StatusBadRequest},
		{"short id", `{"id":"1","text":"hi"}`, tok, http.StatusBadRequest},
		{"id with other characters", `{"id":"0123456789abcdef/../x","text":"hi"}`, tok, http.StatusBadRequest},
		{"empty text", `{"id":"0123456789abcdeh","text":"  "}`, tok, http.StatusBadRequest},
		{"not JSON", `hello`, tok, http.StatusBadRequest},
		{"two objects", `{"id":"0123456789abcdeh","text":"hi"}{}`, tok, http.StatusBadRequest},
		{"reply of unknown kind", `{"id":"0123456789abcdeh","text":"hi","reply":{"id":"x","kind":"flow"}}`, tok, http.StatusBadRequest},
		{"no token", `{"id":"0123456789abcdeh","text":"hi"}`, "", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, req{method: "POST", path: "/messages?site=" + site, token: tc.token, body: tc.body})
			assert.Equal(t, tc.status, resp.StatusCode, body)
			assertSecurityHeaders(t, resp)
		})
	}
	assert.Len(t, f.recv.messages(), before, "refused messages are not received")

	t.Run("wrong origin", func(t *testing.T) {
		resp, _ := f.do(t, req{method: "POST", path: "/messages?site=" + site, token: tok, origin: "https://evil.example", body: `{"id":"0123456789abcdei","text":"hi"}`})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	})

	t.Run("receiver failing", func(t *testing.T) {
		f.recv.mu.Lock()
		f.recv.fail = errors.Join(errors.New("shutting down"), channel.ErrClosed)
		f.recv.mu.Unlock()
		resp, body := f.do(t, req{method: "POST", path: "/messages?site=" + site, token: tok, body: `{"id":"0123456789abcdej","text":"hi"}`})
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
		assert.JSONEq(t, `{"error":"unavailable"}`, body, "no detail for the browser")
	})
}

func TestRateLimits(t *testing.T) {
	t.Run("per visitor", func(t *testing.T) {
		f := newFixture(t, func(o *webwidget.Options) { o.VisitorLimit = webwidget.Limit{Every: time.Minute, Burst: 2} })
		tok, other := f.token(t), f.token(t)
		require.Equal(t, http.StatusAccepted, f.post(t, tok, "limit-message-0001", "one"))
		require.Equal(t, http.StatusAccepted, f.post(t, tok, "limit-message-0002", "two"))
		resp, body := f.do(t, req{method: "POST", path: "/messages?site=" + site, token: tok, body: `{"id":"limit-message-0003","text":"three"}`})
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "60", resp.Header.Get("Retry-After"))
		assert.Equal(t, "Retry-After", resp.Header.Get("Access-Control-Expose-Headers"), "the script can read Retry-After")
		assert.JSONEq(t, `{"error":"rate_limited"}`, body)
		assert.Equal(t, http.StatusAccepted, f.post(t, other, "limit-message-0004", "another visitor is not limited"))

		f.clock.Advance(30 * time.Second)
		resp, _ = f.do(t, req{method: "POST", path: "/messages?site=" + site, token: tok, body: `{"id":"limit-message-0003","text":"three"}`})
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		assert.Equal(t, "30", resp.Header.Get("Retry-After"))
		f.clock.Advance(30 * time.Second)
		assert.Equal(t, http.StatusAccepted, f.post(t, tok, "limit-message-0003", "three"))
		assert.Len(t, f.recv.messages(), 4, "refused messages were not received")
	})

	t.Run("per IP", func(t *testing.T) {
		f := newFixture(t, func(o *webwidget.Options) {
			o.IPLimit = webwidget.Limit{Every: 10 * time.Second, Burst: 3}
			o.VisitorLimit = webwidget.Limit{Every: -1}
		})
		a, b := f.token(t), f.token(t) // two requests
		require.Equal(t, http.StatusAccepted, f.post(t, a, "ip-limit-message-1", "one"))
		assert.Equal(t, http.StatusTooManyRequests, f.post(t, b, "ip-limit-message-2", "two"), "visitors share their IP's limit")
		resp, _ := f.do(t, req{method: "POST", path: "/session?site=" + site})
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "new tokens count too")
		assert.Equal(t, "10", resp.Header.Get("Retry-After"))
		f.clock.Advance(10 * time.Second)
		assert.Equal(t, http.StatusAccepted, f.post(t, b, "ip-limit-message-2", "two"))
	})

	t.Run("client IP from the host", func(t *testing.T) {
		f := newFixture(t, func(o *webwidget.Options) {
			o.IPLimit = webwidget.Limit{Every: time.Minute, Burst: 1}
			o.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
		})
		for _, ip := range []string{"192.0.2.1", "192.0.2.2"} {
			resp, _ := f.do(t, req{method: "POST", path: "/session?site=" + site, header: http.Header{"X-Test-Client": {ip}}})
			assert.Equal(t, http.StatusOK, resp.StatusCode, ip)
		}
		resp, _ := f.do(t, req{method: "POST", path: "/session?site=" + site, header: http.Header{"X-Test-Client": {"192.0.2.1"}}})
		assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	})
}

func TestErase(t *testing.T) {
	t.Run("calls the hook", func(t *testing.T) {
		erased := make(chan channel.Address, 1)
		f := newFixture(t, func(o *webwidget.Options) {
			o.Erase = func(ctx context.Context, who channel.Address) error {
				erased <- who
				return nil
			}
		})
		_, body := f.do(t, req{method: "GET", path: "/config?site=" + site})
		assert.Contains(t, body, `"erase":true`)
		tok := f.token(t)
		h := f.history(t, tok)
		s := f.openEvents(t, tok, h.Cursor)
		_, err := f.w.Send(t.Context(), text(visitor(t, tok), "kept for resuming"))
		require.NoError(t, err)
		s.next(t)

		resp, body := f.do(t, req{method: "DELETE", path: "/data?site=" + site, token: tok})
		require.Equal(t, http.StatusNoContent, resp.StatusCode, body)
		assert.Equal(t, origin, resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, visitor(t, tok), <-erased)
		s.ended(t)
		resumed := f.openEvents(t, tok, h.Cursor)
		assert.Equal(t, "reload", resumed.next(t).Name, "the events kept for the visitor were forgotten")
	})

	t.Run("hook failing", func(t *testing.T) {
		f := newFixture(t, func(o *webwidget.Options) {
			o.Erase = func(context.Context, channel.Address) error { return errors.New("privacy engine down") }
		})
		resp, body := f.do(t, req{method: "DELETE", path: "/data?site=" + site, token: f.token(t)})
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		assert.JSONEq(t, `{"error":"internal"}`, body)
	})

	t.Run("the store's Eraser by default", func(t *testing.T) {
		st := &erasingStore{ConversationStore: memory.New(nil)}
		w, err := webwidget.New(st, testOptions(newClock()))
		require.NoError(t, err)
		f := &fixture{w: w, st: st.ConversationStore.(*memory.Store), clock: newClock()}
		f.recv = &storeReceiver{st: st}
		f.srv = httptest.NewServer(w.Handler(f.recv))
		defer f.srv.Close()
		tok, never := f.token(t), f.token(t)
		require.Equal(t, http.StatusAccepted, f.post(t, tok, "erase-message-0001", "hello"))
		subj, err := st.Subject(t.Context(), visitor(t, tok))
		require.NoError(t, err)
		for _, tk := range []string{tok, never} {
			resp, body := f.do(t, req{method: "DELETE", path: "/data?site=" + site, token: tk})
			require.Equal(t, http.StatusNoContent, resp.StatusCode, body)
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		assert.Equal(t, []store.SubjectID{subj.ID}, st.erased, "the subject is erased; a visitor who never wrote has none")
	})

	t.Run("nothing to erase with", func(t *testing.T) {
		f := newFixture(t, nil) // no hook, and a store that is no store.Eraser
		resp, body := f.do(t, req{method: "DELETE", path: "/data?site=" + site, token: f.token(t)})
		assert.Equal(t, http.StatusNotImplemented, resp.StatusCode)
		assert.JSONEq(t, `{"error":"not_supported"}`, body)
	})

	t.Run("needs the visitor's token", func(t *testing.T) {
		var called atomic.Bool
		f := newFixture(t, func(o *webwidget.Options) {
			o.Erase = func(context.Context, channel.Address) error { called.Store(true); return nil }
		})
		resp, _ := f.do(t, req{method: "DELETE", path: "/data?site=" + site})
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, _ = f.do(t, req{method: "DELETE", path: "/data?site=" + site, token: f.token(t), origin: "https://evil.example"})
		assert.Equal(t, http.StatusForbidden, resp.StatusCode)
		assert.False(t, called.Load())
	})
}

// erasingStore is a store.Eraser that records what it is asked to erase.
type erasingStore struct {
	store.ConversationStore
	mu     sync.Mutex
	erased []store.SubjectID
}

func (s *erasingStore) Erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Erased, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.erased = append(s.erased, subject)
	return store.Erased{Subjects: 1}, nil
}

func TestClose(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(t)
	s := f.openEvents(t, tok, "")
	ctx, cancel := context.WithTimeout(t.Context(), waitLong)
	defer cancel()
	require.NoError(t, f.w.Close(ctx), "Close waits for the open streams")
	s.ended(t)

	resp, _ := f.do(t, req{method: "GET", path: "/history?site=" + site, token: tok})
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	_, err := f.w.Send(t.Context(), text(visitor(t, tok), "late"))
	assert.ErrorIs(t, err, channel.ErrClosed)
	assert.ErrorIs(t, f.w.Typing(t.Context(), visitor(t, tok), "m"), channel.ErrClosed)
	require.NoError(t, f.w.Close(ctx), "Close is idempotent")
}

func TestUnknownPath(t *testing.T) {
	f := newFixture(t, nil)
	resp, _ := f.do(t, req{method: "GET", path: "/secrets"})
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assertSecurityHeaders(t, resp)
	resp, _ = f.do(t, req{method: "PUT", path: "/messages?site=" + site})
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}
