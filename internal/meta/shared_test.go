package meta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/wagent/wagent/channel"
)

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		width func(rune) int
		want  []string
	}{
		{"fits", "Hello there.", 20, UTF16Width, []string{"Hello there."}},
		{"paragraphs", "First paragraph here.\n\nSecond one.", 25, UTF16Width, []string{"First paragraph here.", "Second one."}},
		{"lines", "line one is here\nline two", 20, UTF16Width, []string{"line one is here", "line two"}},
		{"sentences", "One sentence. Two sentence. Three.", 30, UTF16Width, []string{"One sentence. Two sentence.", "Three."}},
		{"words", "alpha beta gamma delta", 12, UTF16Width, []string{"alpha beta", "gamma delta"}},
		{"no space", "abcdefghij", 4, UTF16Width, []string{"abcd", "efgh", "ij"}},
		{"emoji count two units", "😀😀😀", 4, UTF16Width, []string{"😀😀", "😀"}},
		{"emoji count four bytes", "😀😀😀", 8, UTF8Width, []string{"😀😀", "😀"}},
		{"bytes: accents count two", "ééééé", 4, UTF8Width, []string{"éé", "éé", "é"}},
		{"limit below one rune", "😀😀", 2, UTF8Width, []string{"😀", "😀"}},
		{"full-width stop", "日本語の文。次の文です", 6, UTF16Width, []string{"日本語の文。", "次の文です"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitText(tt.text, tt.limit, tt.width)
			assert.Equal(t, tt.want, got)
			for _, p := range got {
				assert.True(t, utf8.ValidString(p))
			}
		})
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("Hello there. How are you?\n\nFine.", 10, false)
	f.Add(strings.Repeat("😀 añ", 50), 7, true)
	f.Fuzz(func(t *testing.T, s string, limit int, bytesWide bool) {
		if limit < 4 || limit > 5000 || !utf8.ValidString(s) {
			return
		}
		width := UTF16Width
		if bytesWide {
			width = UTF8Width
		}
		parts := SplitText(s, limit, width)
		var b strings.Builder
		for _, p := range parts {
			if Width(p, width) > limit {
				t.Fatalf("part of width %d over %d", Width(p, width), limit)
			}
			b.WriteString(p)
		}
		strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if strip(b.String()) != strip(s) {
			t.Fatal("content lost")
		}
	})
}

func TestFlexAndMarshal(t *testing.T) {
	var v struct {
		S FlexString `json:"s"`
		I FlexInt    `json:"i"`
	}
	for _, tt := range []struct {
		in   string
		s    FlexString
		i    FlexInt
		fail bool
	}{
		{`{"s":"1739321024","i":"42"}`, "1739321024", 42, false},
		{`{"s":1739321024,"i":42}`, "1739321024", 42, false},
		{`{"s":true,"i":{"x":1}}`, "", 0, false},
		{`{"s":null,"i":"4.0"}`, "", 4, false},
	} {
		v.S, v.I = "", 0
		require.NoError(t, json.Unmarshal([]byte(tt.in), &v), tt.in)
		assert.Equal(t, tt.s, v.S, tt.in)
		assert.Equal(t, tt.i, v.I, tt.in)
	}
	b, err := Marshal(map[string]string{"text": "<b> & </b>"})
	require.NoError(t, err)
	assert.Equal(t, `{"text":"<b> & </b>"}`, string(b))
	_, err = Marshal(func() {})
	assert.ErrorContains(t, err, "meta: encoding the request")
}

func TestSyntaxOnly(t *testing.T) {
	var v struct{ Entry []int }
	err := json.Unmarshal([]byte(`{"Entry": "secret text"}`), &v)
	require.Error(t, err)
	assert.NotContains(t, SyntaxOnly(err).Error(), "secret")
	assert.Contains(t, SyntaxOnly(err).Error(), "unexpected JSON string")
	err = json.Unmarshal([]byte(`{"a": secret`), &v)
	assert.Equal(t, "invalid JSON at offset 7", SyntaxOnly(err).Error())
	assert.Equal(t, "invalid JSON", SyntaxOnly(errors.New("x: secret")).Error())
}

func TestReadBody(t *testing.T) {
	body := bytes.Repeat([]byte("a"), 100)
	for _, tt := range []struct {
		name   string
		length int64
		max    int64
		tooBig bool
	}{
		{"fits", 100, 100, false},
		{"content-length over", 100, 99, true},
		{"no content-length, over while reading", -1, 99, true},
		{"no content-length, fits", -1, 100, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(bytes.NewReader(body)))
			req.ContentLength = tt.length
			got, err := ReadBody(httptest.NewRecorder(), req, tt.max)
			if tt.tooBig {
				var mbe *http.MaxBytesError
				require.ErrorAs(t, err, &mbe)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, body, got)
		})
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(rate.Inf, 1)
	waited, err := l.Wait(t.Context())
	require.NoError(t, err)
	assert.False(t, waited)

	l.Pause(time.Hour)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	waited, err = l.Wait(ctx)
	assert.True(t, waited)
	var pe *PauseError
	require.ErrorAs(t, err, &pe, "a pause that outlasts the deadline fails at once")
	assert.Greater(t, pe.Left, 59*time.Minute)

	s := NewLimiter(rate.Inf, 1)
	assert.Equal(t, time.Millisecond, s.Strike(time.Millisecond))
	assert.Equal(t, 4*time.Millisecond, s.Strike(time.Millisecond))
	assert.Equal(t, 16*time.Millisecond, s.Strike(time.Millisecond))
	s.Reset()
	assert.Equal(t, time.Millisecond, s.Strike(time.Millisecond), "reset forgets the strikes")
	assert.Equal(t, time.Hour, NewLimiter(rate.Inf, 1).Strike(2*time.Hour), "capped at one hour")

	// A bucket of one token per hour: the second Wait waits until ctx ends.
	b := NewLimiter(rate.Every(time.Hour), 1)
	_, err = b.Wait(t.Context())
	require.NoError(t, err)
	cctx, ccancel := context.WithCancel(t.Context())
	ccancel()
	waited, err = b.Wait(cctx)
	assert.True(t, waited)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestLimiters(t *testing.T) {
	var s Limiters[string]
	s.SweepAbove = 2
	a := s.Get("a", rate.Inf, 1, 0)
	assert.Same(t, a, s.Get("a", rate.Inf, 1, 0), "one limiter per key")
	s.Get("b", rate.Inf, 1, 0)
	paused := s.Get("c", rate.Inf, 1, 0)
	paused.Pause(time.Hour)
	_ = s.Get("d", rate.Inf, 1, 0) // sweeps a and b: idle; c is paused
	assert.Equal(t, 2, s.Len())
	assert.Same(t, paused, s.Get("c", rate.Inf, 1, 0), "a paused limiter is kept")
}

// caller returns a Caller against a server answering with answers in turn.
func caller(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) (*Caller, *[]Attempt, func() int) {
	c, seen, n, _ := callerURL(t, answers...)
	return c, seen, n
}

// serverURLs maps a Caller made by callerURL to its server's URL.
var serverURLs sync.Map

func callerURL(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) (*Caller, *[]Attempt, func() int, string) {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		i := n
		n++
		mu.Unlock()
		if i < len(answers) {
			answers[i](w, r)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(srv.Close)
	var seen []Attempt
	c := &Caller{
		Channel: "test",
		HTTP:    srv.Client(),
		Backoff: Backoff{Base: time.Millisecond, Max: time.Millisecond},
		Classify: func(status int, h http.Header, body []byte, now time.Time) *channel.Error {
			e := &channel.Error{Channel: "test", HTTPStatus: status, Kind: ClassifyStatus(status), RetryAfter: RetryAfter(h, now)}
			if g := ParseGraphError(status, body); g != nil {
				e.Code, e.Err = g.Code, g
			}
			return e
		},
		Observe: func(a Attempt) { seen = append(seen, a) },
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return n }
	serverURLs.Store(c, srv.URL)
	t.Cleanup(func() { serverURLs.Delete(c) })
	return c, &seen, count, srv.URL
}

func graphErr(status, code int) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(status)
		io.WriteString(w, `{"error":{"message":"failed","code":`+itoa(code)+`}}`)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func hang(w http.ResponseWriter, r *http.Request) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
}

func TestCaller(t *testing.T) {
	t.Run("success decodes the answer and sends the token", func(t *testing.T) {
		var got http.Header
		var body []byte
		c, seen, n := caller(t, func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Clone()
			body, _ = io.ReadAll(r.Body)
			io.WriteString(w, `{"message_id":"m1"}`)
		})
		var out struct {
			MessageID string `json:"message_id"`
		}
		res, err := c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Body: []byte(`{"a":1}`), ContentType: "application/json", Token: "tok", Out: &out})
		require.NoError(t, err)
		assert.Equal(t, "m1", out.MessageID)
		assert.Equal(t, 1, res.Attempts)
		assert.Equal(t, http.StatusOK, res.HTTPStatus)
		assert.Equal(t, "Bearer tok", got.Get("Authorization"))
		assert.Equal(t, "application/json", got.Get("Content-Type"))
		assert.Equal(t, `{"a":1}`, string(body))
		assert.Equal(t, 1, n())
		require.Len(t, *seen, 1)
		assert.Equal(t, Attempt{Op: "send", Number: 1, Status: 200, Elapsed: (*seen)[0].Elapsed}, (*seen)[0])
	})
	t.Run("retryable failures are retried, bounded", func(t *testing.T) {
		c, seen, n := caller(t, graphErr(500, 1), graphErr(500, 2), graphErr(500, 2))
		_, err := c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Attempts: 3})
		require.ErrorIs(t, err, channel.ErrUnavailable)
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 3, ce.Attempts)
		assert.Equal(t, 2, ce.Code)
		assert.Equal(t, 3, n())
		assert.Len(t, *seen, 3)
		assert.Equal(t, 1, (*seen)[0].Code)
	})
	t.Run("500 then 200", func(t *testing.T) {
		var befores int
		c, _, n := caller(t, graphErr(503, 2))
		res, err := c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Attempts: 3, Before: func(context.Context) error { befores++; return nil }})
		require.NoError(t, err)
		assert.Equal(t, 2, res.Attempts)
		assert.Equal(t, 2, n())
		assert.Equal(t, 1, befores, "Before runs before each retry")
	})
	t.Run("permanent failures are not retried", func(t *testing.T) {
		c, _, n := caller(t, graphErr(400, 100))
		_, err := c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Attempts: 3})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.Equal(t, 1, n())
	})
	t.Run("OnError's wait past the deadline returns at once", func(t *testing.T) {
		c, _, n := caller(t, graphErr(429, 4))
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		_, err := c.Do(ctx, Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Attempts: 3, OnError: func(*channel.Error) time.Duration { return time.Hour }})
		require.ErrorIs(t, err, channel.ErrRateLimited)
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, time.Hour, ce.RetryAfter)
		assert.Equal(t, 1, n())
	})
	t.Run("an unknown outcome is not retried unless idempotent", func(t *testing.T) {
		c, _, n := caller(t, hang)
		_, err := c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Attempts: 3})
		require.ErrorIs(t, err, channel.ErrUncertain)
		assert.ErrorIs(t, err, channel.ErrUnavailable)
		assert.Equal(t, 1, n())

		c, _, n = caller(t, hang)
		_, err = c.Do(t.Context(), Call{Op: "read", Method: http.MethodPost, URL: urlOf(c), Attempts: 3, Idempotent: true})
		require.NoError(t, err)
		assert.Equal(t, 2, n())
	})
	t.Run("an answer that is not the expected JSON is uncertain", func(t *testing.T) {
		c, _, _ := caller(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>") })
		var out struct{}
		_, err := c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Out: &out})
		require.ErrorIs(t, err, channel.ErrUncertain)
	})
	t.Run("ctx done while backing off keeps the failure", func(t *testing.T) {
		c, _, _ := caller(t, graphErr(500, 2))
		c.Backoff = Backoff{Base: time.Hour}
		ctx, cancel := context.WithCancel(t.Context())
		c.Observe = func(Attempt) { cancel() }
		_, err := c.Do(ctx, Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Attempts: 3})
		require.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, channel.ErrUnavailable)
	})
	t.Run("connection refused is retried and certain", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		u := srv.URL
		srv.Close()
		c := &Caller{Channel: "test", HTTP: http.DefaultClient, Backoff: Backoff{Base: time.Millisecond}, Classify: func(int, http.Header, []byte, time.Time) *channel.Error { return nil }}
		_, err := c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: u + "/x?appsecret_proof=SECRETPROOF", Attempts: 2})
		require.ErrorIs(t, err, channel.ErrUnavailable)
		assert.NotErrorIs(t, err, channel.ErrUncertain)
		assert.NotContains(t, err.Error(), "SECRETPROOF", "the URL is left out")
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 2, ce.Attempts)
	})
	t.Run("extra headers and another scheme", func(t *testing.T) {
		var got http.Header
		c, _, _ := caller(t, func(w http.ResponseWriter, r *http.Request) { got = r.Header.Clone() })
		_, err := c.Do(t.Context(), Call{Op: "upload.file", Method: http.MethodPost, URL: urlOf(c), Token: "tok", Auth: "OAuth",
			Header: http.Header{"File_offset": {"0"}}})
		require.NoError(t, err)
		assert.Equal(t, "OAuth tok", got.Get("Authorization"))
		assert.Equal(t, []string{"0"}, got["File_offset"], "the header is sent as given")
	})
	t.Run("MaxAttempts lowers the attempts of a failure", func(t *testing.T) {
		c, _, n := caller(t, graphErr(500, 7), graphErr(500, 7), graphErr(500, 7))
		c.MaxAttempts = func(e *channel.Error) int {
			if e.Code == 7 {
				return 2
			}
			return 0
		}
		_, err := c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Attempts: 5})
		require.ErrorIs(t, err, channel.ErrUnavailable)
		assert.Equal(t, 2, n(), "code 7 is worth one retry")

		c, _, n = caller(t, graphErr(500, 8), graphErr(500, 8))
		c.MaxAttempts = func(*channel.Error) int { return 0 }
		_, err = c.Do(t.Context(), Call{Op: "send", Method: http.MethodPost, URL: urlOf(c), Attempts: 3})
		require.NoError(t, err)
		assert.Equal(t, 3, n(), "no limit: Call.Attempts bounds the call")
	})
	t.Run("stream", func(t *testing.T) {
		c, _, _ := caller(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "content") })
		res, err := c.Do(t.Context(), Call{Op: "download", Method: http.MethodGet, URL: urlOf(c), Stream: true})
		require.NoError(t, err)
		b, _ := io.ReadAll(res.Stream)
		res.Stream.Close()
		assert.Equal(t, "content", string(b))
	})
}

// urlOf returns the URL of the server c talks to.
func urlOf(c *Caller) string {
	u, _ := serverURLs.Load(c)
	return u.(string) + "/v1/x"
}

func TestClassifyStatus(t *testing.T) {
	for status, want := range map[int]error{500: channel.ErrUnavailable, 503: channel.ErrUnavailable, 429: channel.ErrRateLimited,
		401: channel.ErrAuth, 403: channel.ErrAuth, 400: channel.ErrInvalidMessage, 404: channel.ErrInvalidMessage} {
		assert.Equal(t, want, ClassifyStatus(status), status)
	}
}

func TestReadSignedAndHandshake(t *testing.T) {
	body := []byte(`{"object":"instagram"}`)
	for _, tt := range []struct {
		name   string
		body   []byte
		sig    string
		max    int64
		status int
		err    error
	}{
		{"valid", body, Sign(body, "s"), 100, 200, nil},
		{"wrong signature", body, Sign(body, "other"), 100, 401, ErrBadSignature},
		{"missing signature", body, "", 100, 401, ErrBadSignature},
		{"too large", body, Sign(body, "s"), 10, 413, ErrBodyTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tt.body))
			if tt.sig != "" {
				req.Header.Set(SignatureHeader, tt.sig)
			}
			got, status, err := ReadSigned(httptest.NewRecorder(), req, tt.max, []string{"s"})
			assert.Equal(t, tt.status, status)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.body, got)
		})
	}
	rec := httptest.NewRecorder()
	assert.True(t, AnswerHandshake(rec, httptest.NewRequest(http.MethodGet, "/?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=42", nil), "tok"))
	assert.Equal(t, 200, rec.Code)
	assert.Equal(t, "42", rec.Body.String())
	assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
	rec = httptest.NewRecorder()
	assert.False(t, AnswerHandshake(rec, httptest.NewRequest(http.MethodGet, "/?hub.mode=subscribe&hub.verify_token=no&hub.challenge=42", nil), "tok"))
	assert.Equal(t, 403, rec.Code)
}
