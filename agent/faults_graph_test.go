package agent_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

const (
	graphToken  = "faults-token"
	graphSecret = "faults-app-secret"
)

// fault is what the network does to one message send.
type fault int

const (
	pass    fault = iota
	fail500       // 500, code 131000: something went wrong
	fail429       // 429, code 130429: throughput rate limit hit
	lost          // the API took the message; its answer never came back
	dropped       // written, then the connection died before the API read it
)

// faultTransport sits between the whatsapp client and the fake Cloud API
// and breaks message sends as plan says, by the attempt number at each
// message (its biz_opaque_callback_data). Read receipts and typing
// indicators pass.
type faultTransport struct {
	base http.RoundTripper
	plan func(correlation string, attempt int) fault

	mu       sync.Mutex
	attempts map[string]int
	order    []string // correlations, in the order of their first attempt
	injected map[fault]int
}

func newFaultTransport(plan func(string, int) fault) *faultTransport {
	return &faultTransport{base: http.DefaultTransport.(*http.Transport).Clone(), plan: plan, attempts: map[string]int{}, injected: map[fault]int{}}
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/messages") {
		return f.base.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	var m struct {
		Status      string `json:"status"`
		Correlation string `json:"biz_opaque_callback_data"`
	}
	if json.Unmarshal(body, &m) != nil || m.Status != "" {
		return f.base.RoundTrip(req)
	}
	f.mu.Lock()
	attempt := f.attempts[m.Correlation]
	if attempt == 0 {
		f.order = append(f.order, m.Correlation)
	}
	f.attempts[m.Correlation]++
	what := f.plan(m.Correlation, attempt)
	f.injected[what]++
	f.mu.Unlock()
	answer := func(r whatsapptest.Response) (*http.Response, error) {
		return &http.Response{StatusCode: r.Status, Header: r.Header, Body: io.NopCloser(strings.NewReader(r.Body)), Request: req}, nil
	}
	switch what {
	case fail500:
		return answer(whatsapptest.GraphError(http.StatusInternalServerError, 131000, 0, "(#131000) Something went wrong"))
	case fail429:
		return answer(whatsapptest.GraphError(http.StatusTooManyRequests, 130429, 0, "(#130429) Rate limit hit"))
	case lost:
		if resp, err := f.base.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
		return nil, errors.New("read: connection reset by peer")
	case dropped:
		if trace := httptrace.ContextClientTrace(req.Context()); trace != nil && trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{})
		}
		return nil, errors.New("read: connection reset by peer")
	}
	return f.base.RoundTrip(req)
}

// first returns the correlation of the first message sent.
func (f *faultTransport) first() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.order[0]
}

func (f *faultTransport) count(what fault) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.injected[what]
}

func (f *faultTransport) tries(correlation string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[correlation]
}

// cloudAPI is the fake Cloud API and a whatsapp client that reaches it
// through a faultTransport, retrying fast.
func cloudAPI(t *testing.T, plan func(string, int) fault) (*whatsapptest.Server, *whatsapp.Client, *faultTransport) {
	t.Helper()
	api := whatsapptest.NewServer(graphToken, graphSecret)
	t.Cleanup(api.Close)
	ft := newFaultTransport(plan)
	t.Cleanup(ft.base.(*http.Transport).CloseIdleConnections)
	wa, err := whatsapp.New(whatsapp.StaticToken(graphToken), &whatsapp.Options{
		BaseURL: api.URL, AppSecret: graphSecret, HTTPClient: &http.Client{Transport: ft},
		RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond,
		Throughput: whatsapp.MaxThroughput, PairBurst: 1000,
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	return api, wa, ft
}

// accepted returns the texts the API accepted, by recipient, and how many
// times it accepted each correlation.
func accepted(t *testing.T, api *whatsapptest.Server) (map[channel.UserID][]string, map[string]int) {
	t.Helper()
	byUser, byCorr := map[channel.UserID][]string{}, map[string]int{}
	for _, r := range api.Sent() {
		var m struct {
			To   string `json:"to"`
			Text struct {
				Body string `json:"body"`
			} `json:"text"`
			Correlation string `json:"biz_opaque_callback_data"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &m))
		byUser[channel.UserID(m.To)] = append(byUser[channel.UserID(m.To)], m.Text.Body)
		byCorr[m.Correlation]++
	}
	return byUser, byCorr
}

// TestFaultsGraphAPIErrorsAreRetried sends through the whatsapp client to
// a Cloud API that answers many sends with 500 (131000) or 429 (130429) a
// few times before taking them: every message is answered exactly once,
// in order, and no failure reaches the agent.
func TestFaultsGraphAPIErrorsAreRetried(t *testing.T) {
	plan := func(corr string, attempt int) fault {
		h := fnv.New32a()
		h.Write([]byte(corr))
		failures := int(h.Sum32() % 4) // 0 to 3, within the client's 4 attempts
		switch {
		case attempt >= failures:
			return pass
		case (int(h.Sum32()/4)+attempt)%2 == 0:
			return fail500
		default:
			return fail429
		}
	}
	api, wa, ft := cloudAPI(t, plan)
	st := newMemory()
	a := runAgent(t, agent.Config{Store: st, Model: llmtest.Echo{Prefix: "re: "}, Channels: []channel.Channel{wa}, CoalesceWindow: -1, ContactLimit: -1})

	const contacts, perContact = 15, 6
	var wg sync.WaitGroup
	for c := range contacts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perContact {
				assert.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("graph", c, i)}}))
			}
		}()
	}
	wg.Wait()
	waitIdle(t, st)

	byUser, byCorr := accepted(t, api)
	assert.Equal(t, wantReplies("re: ", contacts, perContact), byUser, "every message answered once, in order")
	for corr, n := range byCorr {
		assert.Equal(t, 1, n, "%s accepted %d times", corr, n)
	}
	assert.Positive(t, ft.count(fail500))
	assert.Positive(t, ft.count(fail429))
	assert.Equal(t, int64(ft.count(fail500)+ft.count(fail429)), wa.Stats().Retries, "each failure was retried by the client")
	assert.Zero(t, a.agent.Stats().SendErrors)
	assert.Equal(t, int64(contacts*perContact), a.agent.Stats().Answered)
}

// TestFaultsGraphAPIOutage makes every attempt at one message fail: the
// client gives up after its attempts, the outbound record is marked failed
// with the API's code, the TurnDone hook reports it, and the contact's
// next message is answered.
func TestFaultsGraphAPIOutage(t *testing.T) {
	tests := []struct {
		name   string
		fault  fault
		code   int
		reason string
	}{
		{"500 at every attempt", fail500, 131000, "send_unavailable"},
		{"429 at every attempt", fail429, 130429, "send_rate_limited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first string // the correlation of the first reply sent
			api, wa, ft := cloudAPI(t, func(corr string, _ int) fault {
				if first == "" {
					first = corr
				}
				if corr == first {
					return tt.fault
				}
				return pass
			})
			st := newMemory()
			turns := make(chan agent.TurnInfo, 10)
			a := runAgent(t, agent.Config{Store: st, Model: llmtest.Echo{Prefix: "re: "}, Channels: []channel.Channel{wa}, CoalesceWindow: -1,
				Hooks: agent.Hooks{TurnDone: func(ti agent.TurnInfo) { turns <- ti }}})
			require.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg(tt.name, 0, 0)}}))
			ti := <-turns
			assert.Equal(t, agent.Failed, ti.Outcome)
			assert.Equal(t, tt.reason, ti.Reason)
			var ce *channel.Error
			require.ErrorAs(t, ti.Err, &ce)
			assert.Equal(t, tt.code, ce.Code)
			assert.Equal(t, whatsapp.DefaultMaxAttempts, ft.tries(first), "bounded retries")

			id, ok := store.ParseCorrelation(first)
			require.True(t, ok)
			reply, err := st.Message(t.Context(), tenant, id)
			require.NoError(t, err)
			assert.Equal(t, channel.Failed, reply.Delivery.State)
			assert.Equal(t, tt.code, reply.Delivery.ErrorCode)
			assert.Equal(t, whatsapp.DefaultMaxAttempts, reply.Delivery.Attempts)

			require.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg(tt.name, 0, 1)}}))
			assert.Equal(t, agent.Answered, (<-turns).Outcome, "the next message is not held back")
			byUser, _ := accepted(t, api)
			assert.Equal(t, map[channel.UserID][]string{channel.UserID(contact(0)): {"re: c0 m1"}}, byUser)
		})
	}
}

// TestFaultsUncertainSendIsReconciled loses the answer to a send: the
// agent cannot know whether the reply went out, so it waits, holding the
// contact's later messages back. If the API took it, its status webhook
// (biz_opaque_callback_data) says so and the reply is not sent again; if
// the API never got it, no status comes and the same reply is sent once
// more after ResendAfter.
func TestFaultsUncertainSendIsReconciled(t *testing.T) {
	tests := []struct {
		name        string
		fault       fault
		resendAfter time.Duration
		status      bool // the API posts a status for the reply
		reason      string
	}{
		{"the API took it: its status settles it", lost, time.Hour, true, "already_sent"},
		{"the API never got it: sent again", dropped, 100 * time.Millisecond, false, "resent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first string // the correlation of the first reply sent
			api, wa, ft := cloudAPI(t, func(corr string, attempt int) fault {
				if first == "" {
					first = corr
				}
				if corr == first && attempt == 0 {
					return tt.fault
				}
				return pass
			})
			st := newMemory()
			turns := make(chan agent.TurnInfo, 20)
			a := runAgent(t, agent.Config{Store: st, Model: llmtest.Echo{Prefix: "re: "}, Channels: []channel.Channel{wa}, CoalesceWindow: -1,
				ResendAfter: tt.resendAfter, RetryDelay: 20 * time.Millisecond, MaxAttempts: 50, RecoveryInterval: 5 * time.Millisecond,
				Hooks: agent.Hooks{TurnDone: func(ti agent.TurnInfo) { turns <- ti }}})
			hook, err := whatsapp.NewWebhook(a.agent, whatsapp.WebhookOptions{AppSecrets: []string{graphSecret}, Logger: slog.New(slog.DiscardHandler)})
			require.NoError(t, err)

			require.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("u", 0, 0), msg("u", 0, 1)}}))
			ti := <-turns
			require.Equal(t, agent.Retrying, ti.Outcome)
			require.Equal(t, "send_unknown", ti.Reason)
			assert.Equal(t, 1, ft.count(tt.fault))
			if tt.status {
				body := whatsapptest.StatusDelivery(string(tenant), contact(0), "wamid.lost-answer", "sent", ft.first(), 0, time.Now())
				rr := httptest.NewRecorder()
				hook.ServeHTTP(rr, whatsapptest.NewDelivery("/webhooks/whatsapp", body, graphSecret))
				require.Equal(t, http.StatusOK, rr.Code)
			}
			var settled agent.TurnInfo
			for settled = range turns {
				if settled.Outcome != agent.Retrying {
					break
				}
				require.Equal(t, "send_unknown", settled.Reason)
			}
			assert.Equal(t, agent.Answered, settled.Outcome)
			assert.Equal(t, tt.reason, settled.Reason)
			assert.Equal(t, agent.Answered, (<-turns).Outcome, "the next message waited, then was answered")
			waitIdle(t, st)

			byUser, byCorr := accepted(t, api)
			assert.Equal(t, map[channel.UserID][]string{channel.UserID(contact(0)): {"re: c0 m0", "re: c0 m1"}}, byUser, "one reply each, in order")
			assert.Equal(t, 1, byCorr[ft.first()], fmt.Sprintf("the reply %s went out once", ft.first()))
		})
	}
}
