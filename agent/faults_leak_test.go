package agent_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store/sqlite"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// TestFaultsNoGoroutineLeaks checks that an agent leaves no goroutine
// behind once stopped, whether shut down or killed in the middle of its
// work: workers, the recovery loop, coalescing and typing timers, and,
// with the whole stack, the store's and the HTTP client's.
func TestFaultsNoGoroutineLeaks(t *testing.T) {
	load := func(t *testing.T, a *agent.Agent, n int) {
		var wg sync.WaitGroup
		for c := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n / 10 {
					assert.NoError(t, a.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("leak", c, i)}}))
				}
			}()
		}
		wg.Wait()
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"shut down after a burst", func(t *testing.T) {
			ch := newRecorder()
			a := runAgent(t, agent.Config{Store: newMemory(), Model: llmtest.Echo{}, Channels: []channel.Channel{ch},
				CoalesceWindow: 5 * time.Millisecond, TypingInterval: time.Millisecond, ContactLimit: -1})
			load(t, a.agent, 100)
			_, err := ch.Wait(t.Context(), 10)
			require.NoError(t, err)
			a.shutdown(t)
		}},
		{"killed mid-stream", func(t *testing.T) {
			ch := newRecorder()
			a := runAgent(t, agent.Config{Store: newMemory(), Model: llmtest.Echo{}, Channels: []channel.Channel{ch},
				CoalesceWindow: 5 * time.Millisecond, TypingInterval: time.Millisecond, ContactLimit: -1})
			load(t, a.agent, 100)
			a.kill(t)
			assert.NoError(t, a.agent.Shutdown(t.Context()), "Shutdown after the kill stops the timers still waiting")
		}},
		{"webhook, whatsapp client and SQLite", func(t *testing.T) {
			api := whatsapptest.NewServer(graphToken, graphSecret)
			defer api.Close()
			tr := http.DefaultTransport.(*http.Transport).Clone()
			defer tr.CloseIdleConnections()
			wa, err := whatsapp.New(whatsapp.StaticToken(graphToken), &whatsapp.Options{BaseURL: api.URL, AppSecret: graphSecret,
				HTTPClient: &http.Client{Transport: tr}, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "leak.db"), nil)
			require.NoError(t, err)
			defer st.Close()
			a := runAgent(t, agent.Config{Store: st, Model: llmtest.Echo{}, Channels: []channel.Channel{wa}, CoalesceWindow: -1, ContactLimit: -1})
			hook, err := whatsapp.NewWebhook(a.agent, whatsapp.WebhookOptions{AppSecrets: []string{graphSecret}, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)
			srv := httptest.NewServer(hook)
			defer srv.Close()
			client := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
			defer client.CloseIdleConnections()
			for i := range 20 {
				m := msg("leak", i%5, i/5)
				body := whatsapptest.TextDelivery(string(tenant), contact(i%5), "", string(m.ID), string(m.Text), time.Now())
				resp, err := client.Do(whatsapptest.NewDelivery(srv.URL, body, graphSecret))
				require.NoError(t, err)
				resp.Body.Close()
				require.Equal(t, http.StatusOK, resp.StatusCode)
			}
			_, err = api.Wait(t.Context(), "send", 20)
			require.NoError(t, err)
			a.shutdown(t)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			tt.run(t)
			noLeaks(t, before)
		})
	}
}
