package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/whatsapp"
)

// buildBot builds examples/whatsapp, the bot under test, and returns the
// binary's path.
func buildBot(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "wabot")
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	out, err := exec.CommandContext(t.Context(), gobin, "build", "-o", bin, "github.com/wagent/wagent/examples/whatsapp").CombinedOutput()
	require.NoError(t, err, "building examples/whatsapp: %s", out)
	return bin
}

// testConfig is a small run's configuration.
func testConfig(t *testing.T, args ...string) config {
	t.Helper()
	cfg, err := parseFlags(append([]string{"-settle", "200ms", "-drain", "20s", "-seed", "7"}, args...), io.Discard)
	require.NoError(t, err)
	return cfg
}

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"nothing to test", nil, "give -bot to start the bot under test, or -target to reach a running one"},
		{"both", []string{"-bot", "x", "-target", "http://a"}, "-bot and -target exclude each other"},
		{"fractions", []string{"-target", "http://a", "-duplicates", "2"}, "-duplicates must be a fraction between 0 and 1"},
		{"no send can succeed", []string{"-target", "http://a", "-fail-5xx", "0.5", "-fail-429", "0.5"}, "-fail-5xx and -fail-429 leave no send to succeed"},
		{"kill needs a bot", []string{"-target", "http://a", "-kill-after", "10"}, "-kill-after needs -bot"},
		{"statuses", []string{"-target", "http://a", "-statuses", "sent,seen"}, `-statuses: unknown status "seen"`},
		{"env", []string{"-bot", "x", "-env", "NOEQUALS"}, `-env "NOEQUALS": use KEY=VALUE`},
		{"counts", []string{"-target", "http://a", "-n", "0"}, "-n, -contacts and -concurrency must be positive"},
		{"run id", []string{"-target", "http://a", "-run", "a.b"}, "-run must not contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, &stdout, &stderr)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr.String(), tt.want)
			assert.Empty(t, stdout.String())
		})
	}
	t.Run("lists", func(t *testing.T) {
		cfg := testConfig(t, "-target", "http://a/w,http://b/w", "-target", "http://c/w", "-statuses", "sent, delivered", "-env", "A=1", "-env", "B=x=y")
		assert.Equal(t, []string{"http://a/w", "http://b/w", "http://c/w"}, cfg.targets)
		assert.Equal(t, []string{"sent", "delivered"}, cfg.statuses)
		assert.Equal(t, []string{"A=1", "B=x=y"}, cfg.env)
		cfg = testConfig(t, "-target", "http://a", "-statuses", "none")
		assert.Empty(t, cfg.statuses)
	})
}

// TestExampleBotUnderLoad runs examples/whatsapp (memory store, echo
// model, its default configuration) under a load it can answer within its
// defaults (30 messages a minute per contact, 80 requests a second to the
// Graph API), with duplicates and injected Graph API failures: every
// acknowledged message gets exactly one reply, in order.
func TestExampleBotUnderLoad(t *testing.T) {
	bin := buildBot(t)
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{
		"-bot", bin, "-n", "300", "-contacts", "100", "-concurrency", "16", "-duplicates", "0.2", "-seed", "3",
		"-rate", "30", "-fail-5xx", "0.05", "-fail-429", "0.05", "-statuses", "sent,delivered",
		"-settle", "500ms", "-json",
	}, &stdout, &stderr)
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	var s summary
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &s))
	assert.True(t, s.OK)
	assert.Equal(t, 300, s.Acked)
	assert.Equal(t, 300, s.Answered)
	assert.Zero(t, s.Lost+s.Doubled+s.OutOfOrder+s.Misrouted+s.Unmatched)
	assert.Positive(t, s.Duplicates, "some messages were delivered twice")
	assert.Positive(t, s.Graph.Injected5xx+s.Graph.Injected429, "some sends failed and were retried")
	assert.Equal(t, s.Graph.Accepted, int64(s.Replies))
	assert.Equal(t, 2*s.Graph.Accepted, s.Graph.Statuses, "sent and delivered for each reply")
	assert.Positive(t, s.AcksPerSecond)
	assert.Positive(t, s.E2EPerSecond)
	assert.Positive(t, s.AckP99ms)
}

// fakeBot is a webhook that acknowledges every message and answers each
// one replies times (0: never) through a whatsapp.Client, to check that
// the load test catches what a broken bot does.
type fakeBot struct {
	replies int
	mu      sync.Mutex
	client  *whatsapp.Client
}

func (b *fakeBot) Receive(ctx context.Context, in channel.Inbound) error {
	b.mu.Lock()
	c := b.client
	b.mu.Unlock()
	for _, m := range in.Messages {
		for range b.replies {
			if _, err := c.Send(context.WithoutCancel(ctx), channel.Outbound{To: m.From, Text: "echo: " + m.Text}); err != nil {
				return err
			}
		}
	}
	return nil
}

func TestCatchesABrokenBot(t *testing.T) {
	tests := []struct {
		name    string
		replies int
		check   func(t *testing.T, s summary)
	}{
		{"never answers: lost", 0, func(t *testing.T, s summary) {
			assert.Equal(t, 40, s.Lost)
			assert.Zero(t, s.Doubled)
		}},
		{"answers twice: doubled", 2, func(t *testing.T, s summary) {
			assert.Zero(t, s.Lost)
			assert.Equal(t, 40, s.Doubled)
			assert.Equal(t, 40, s.ExtraReplies)
			assert.Equal(t, 40, s.OutOfOrder, "each second reply goes back to an answered message")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := &fakeBot{replies: tt.replies}
			hook, err := whatsapp.NewWebhook(fb, whatsapp.WebhookOptions{AppSecrets: []string{"loadtest-app-secret"}, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			srv := httptest.NewServer(hook)
			defer srv.Close()
			r := &runner{cfg: testConfig(t, "-target", srv.URL, "-n", "40", "-contacts", "10", "-duplicates", "0", "-drain", "300ms", "-statuses", "none"), stderr: io.Discard}
			r.graphReady = func(url string) {
				c, err := whatsapp.New(whatsapp.StaticToken("loadtest-access-token"), &whatsapp.Options{BaseURL: url, AppSecret: "loadtest-app-secret", PairBurst: 1000, Logger: slog.New(slog.DiscardHandler)})
				require.NoError(t, err)
				fb.mu.Lock()
				fb.client = c
				fb.mu.Unlock()
			}
			s, err := r.run(t.Context())
			require.NoError(t, err)
			assert.False(t, s.OK)
			assert.Equal(t, 40, s.Acked)
			tt.check(t, s)
			var out bytes.Buffer
			s.writeText(&out)
			assert.Contains(t, out.String(), "FAILED")
		})
	}
}

func TestBotThatCannotStart(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"-bot", "false"}, &stdout, &stderr)
	assert.Equal(t, exitSetup, code)
	assert.Contains(t, stderr.String(), "the bot exited before listening")
	code = run(t.Context(), []string{"-bot", filepath.Join(t.TempDir(), "missing")}, &stdout, &stderr)
	assert.Equal(t, exitSetup, code)
	assert.True(t, strings.Contains(stderr.String(), "starting bot1"), stderr.String())
}
