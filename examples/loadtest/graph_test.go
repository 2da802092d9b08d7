package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/whatsapp"
)

const (
	testToken  = "lt-token"
	testSecret = "lt-secret"
	testPhone  = "106540352242922"
)

// statusSink is a channel.Receiver that collects the statuses a webhook
// parses.
type statusSink struct {
	mu       sync.Mutex
	statuses []channel.Status
}

func (s *statusSink) Receive(_ context.Context, in channel.Inbound) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses = append(s.statuses, in.Statuses...)
	return nil
}

// fakeAPI starts the fake Graph API with cfg (credentials filled in) and
// returns it, its URL and a whatsapp.Client calling it without retries.
func fakeAPI(t *testing.T, cfg graphConfig) (*graphAPI, *ledger, *whatsapp.Client) {
	t.Helper()
	cfg.token, cfg.appSecret, cfg.phoneNumberID = testToken, testSecret, testPhone
	led := newLedger("r", 10, 2)
	g := newGraphAPI(cfg, led)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, led, client(t, srv.URL, testToken, testSecret)
}

// client returns a whatsapp.Client calling url without retries.
func client(t *testing.T, url, token, appSecret string) *whatsapp.Client {
	t.Helper()
	c, err := whatsapp.New(whatsapp.StaticToken(token), &whatsapp.Options{BaseURL: url, AppSecret: appSecret, MaxAttempts: 1,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	return c
}

func to(contact int) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: testPhone, User: channel.UserID(waID(contact))}
}

func TestGraphAPIAnswersAsTheCloudAPI(t *testing.T) {
	g, led, c := fakeAPI(t, graphConfig{})
	res, err := c.Send(t.Context(), channel.Outbound{To: to(1), Text: "echo: order <r.1.0>", Correlation: "m7"})
	require.NoError(t, err)
	require.Len(t, res.IDs, 1)
	assert.True(t, strings.HasPrefix(string(res.IDs[0]), "wamid."), res.IDs[0])
	require.NoError(t, c.Typing(t.Context(), to(1), "wamid.in1"))
	require.NoError(t, c.MarkRead(t.Context(), to(1), "wamid.in1"))

	assert.Equal(t, graphCounts{Sends: 1, Accepted: 1, Typing: 1, Read: 1}, g.counts())
	tl := led.tally()
	assert.Equal(t, 1, tl.Replies)
	assert.Equal(t, 1, tl.Answered, "the accepted message is booked against the message it names")
}

func TestGraphAPIRefusesWhatTheCloudAPIRefuses(t *testing.T) {
	g := newGraphAPI(graphConfig{token: testToken, appSecret: testSecret, phoneNumberID: testPhone}, newLedger("r", 1, 1))
	srv := httptest.NewServer(g)
	defer srv.Close()
	other := to(1)
	other.Tenant = "999999999999999"
	tests := []struct {
		name          string
		token, secret string
		to            channel.Address
		kind          error
		code          int
	}{
		{"wrong token", "stolen", testSecret, to(1), channel.ErrAuth, 190},
		{"no appsecret_proof", testToken, "", to(1), channel.ErrInvalidMessage, 100},
		{"another phone number", testToken, testSecret, other, channel.ErrInvalidMessage, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client(t, srv.URL, tt.token, tt.secret).Send(t.Context(), channel.Outbound{To: tt.to, Text: "hola"})
			assert.ErrorIs(t, err, tt.kind)
			var ce *channel.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.code, ce.Code)
		})
	}
	assert.Equal(t, graphCounts{Refused: 3}, g.counts(), "nothing refused is counted as sent")
}

func TestGraphAPIInjectsFaults(t *testing.T) {
	tests := []struct {
		name   string
		cfg    graphConfig
		kind   error
		code   int
		status int
		booked int // replies booked in the ledger
	}{
		{"500 something went wrong", graphConfig{fail5xx: 1}, channel.ErrUnavailable, 131000, 500, 0},
		{"429 throughput", graphConfig{fail5xx: 0, fail429: 1}, channel.ErrRateLimited, 130429, 429, 0},
		{"accepted but unanswered", graphConfig{hang: 1}, channel.ErrUncertain, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, led, c := fakeAPI(t, tt.cfg)
			_, err := c.Send(t.Context(), channel.Outbound{To: to(0), Text: "echo: <r.0.0>"})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			var ce *channel.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.code, ce.Code)
			assert.Equal(t, tt.status, ce.HTTPStatus)
			var ge *whatsapp.GraphError
			if tt.code != 0 {
				require.True(t, errors.As(err, &ge), "a Graph error body")
				assert.Equal(t, "OAuthException", ge.Type)
				assert.NotEmpty(t, ge.TraceID)
			}
			assert.Equal(t, tt.booked, led.tally().Replies)
			assert.Equal(t, int64(1), g.counts().Sends)
		})
	}
}

func TestGraphAPILatency(t *testing.T) {
	_, _, c := fakeAPI(t, graphConfig{latency: 30 * time.Millisecond})
	start := time.Now()
	require.NoError(t, c.Typing(t.Context(), to(0), "wamid.x"))
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
}

func TestGraphAPIPostsStatusesBack(t *testing.T) {
	g, _, c := fakeAPI(t, graphConfig{statuses: []string{"sent", "delivered"}})
	sink := &statusSink{}
	hook, err := whatsapp.NewWebhook(sink, whatsapp.WebhookOptions{AppSecrets: []string{testSecret}, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	// The first delivery fails: the fake delivers again, as Meta does.
	var calls int
	var mu sync.Mutex
	bot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		hook.ServeHTTP(w, r)
	}))
	defer bot.Close()

	res, err := c.Send(t.Context(), channel.Outbound{To: to(1), Text: "echo: <r.1.0>", Correlation: "wagent:42"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.postStatuses(ctx, http.DefaultClient, func() []string { return []string{bot.URL} }, 2)
	}()
	require.Eventually(t, func() bool { return g.outq.pending() == 0 }, 10*time.Second, time.Millisecond, "statuses not delivered")
	cancel()
	<-done
	sink.mu.Lock()
	defer sink.mu.Unlock()
	states := map[channel.DeliveryState]bool{}
	for _, s := range sink.statuses {
		assert.Equal(t, res.IDs[0], s.MessageID)
		assert.Equal(t, "wagent:42", s.Correlation, "biz_opaque_callback_data comes back")
		assert.Equal(t, channel.UserID(waID(1)), s.Recipient.User)
		assert.Equal(t, channel.TenantID(testPhone), s.Recipient.Tenant)
		states[s.State] = true
	}
	assert.Equal(t, map[channel.DeliveryState]bool{channel.Sent: true, channel.Delivered: true}, states)
	assert.Equal(t, int64(2), g.counts().Statuses)
	assert.Equal(t, int64(1), g.counts().StatusFails)
	assert.Zero(t, g.outq.pending())
}
