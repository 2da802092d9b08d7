package agent_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
)

const apology = "Sorry, we cannot answer right now. We will write back soon."

// flaky is a model that fails with err for its first n calls, then echoes.
type flaky struct {
	name  string
	n     int64
	err   error
	calls atomic.Int64
}

func (f *flaky) Name() string { return f.name }

func (f *flaky) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if f.calls.Add(1) <= f.n {
		return nil, f.err
	}
	return llmtest.Echo{Prefix: "re: "}.Generate(ctx, req)
}

func modelErr(provider string, kind error) *llm.Error {
	return &llm.Error{Provider: provider, Kind: kind, StatusCode: 503}
}

// TestFaultsModelErrors injects model failures under several contacts
// writing at once, with the degradation the host configured: a fallback
// provider (llm.Fallback), retries around the provider (llm.Retry), the
// agent's own retries of the turn, an apology. Whatever happens, every
// message is answered once, in order, and each customer gets at most one
// apology per message, only for a message whose first attempt failed.
func TestFaultsModelErrors(t *testing.T) {
	const contacts, perContact = 8, 4
	total := int64(contacts * perContact)
	fastRetry := &llm.RetryOptions{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	tests := []struct {
		name string
		// model returns the provider the agent uses and the ones it wraps.
		model func() (llm.Provider, []*flaky)
		// apologies: exactly this many, or -1 for "one per message that
		// failed at its first attempt".
		apologies int
		retries   bool // the agent retried turns
	}{
		{"primary down: the fallback answers", func() (llm.Provider, []*flaky) {
			down := &flaky{name: "primary", n: 1 << 30, err: modelErr("primary", llm.ErrUnavailable)}
			backup := &flaky{name: "backup"}
			return llm.Fallback(down, backup), []*flaky{down, backup}
		}, 0, false},
		{"rate limited for a while: llm.Retry absorbs it", func() (llm.Provider, []*flaky) {
			// At most 2 failures: no turn can use up its 3 attempts.
			limited := &flaky{name: "primary", n: 2, err: modelErr("primary", llm.ErrRateLimited)}
			return llm.Retry(limited, fastRetry), []*flaky{limited}
		}, 0, false},
		{"both providers down for a while: apology, then retried until answered", func() (llm.Provider, []*flaky) {
			down := &flaky{name: "primary", n: 1 << 30, err: modelErr("primary", llm.ErrUnavailable)}
			backup := &flaky{name: "backup", n: 12, err: modelErr("backup", llm.ErrRateLimited)}
			return llm.Fallback(down, backup), []*flaky{down, backup}
		}, -1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model, parts := tt.model()
			st := newMemory()
			ch := newRecorder()
			a := runAgent(t, agent.Config{Store: st, Model: model, Channels: []channel.Channel{ch}, CoalesceWindow: -1, ContactLimit: -1,
				Apology: apology, MaxAttempts: 20, RetryDelay: time.Millisecond, RecoveryInterval: 5 * time.Millisecond})
			var wg sync.WaitGroup
			for c := range contacts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perContact {
						assert.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("model", c, i)}}))
					}
				}()
			}
			wg.Wait()
			waitIdle(t, st)

			answers, apologies := map[channel.UserID][]string{}, 0
			for _, o := range ch.Sent() {
				if o.Text == apology {
					apologies++
					continue
				}
				answers[o.To.User] = append(answers[o.To.User], string(o.Text))
			}
			assert.Equal(t, wantReplies("re: ", contacts, perContact), answers, "every message answered once, in order")
			failedFirst := 0
			pending, err := st.Pending(t.Context(), store.PendingQuery{})
			require.NoError(t, err)
			require.Empty(t, pending)
			for c := range contacts {
				conv, err := st.OpenConversation(t.Context(), addr(contact(c)))
				require.NoError(t, err)
				for _, m := range inbound(t, st, conv.ID) {
					assert.Equal(t, store.ProcessDone, m.Processing.State)
					if m.Processing.Attempts > 1 {
						failedFirst++
					}
				}
			}
			want := tt.apologies
			if want < 0 {
				want = failedFirst
				assert.Positive(t, failedFirst, "some turns failed at first")
			}
			assert.Equal(t, want, apologies, "one apology per message whose first attempt failed")
			assert.Equal(t, tt.retries, a.agent.Stats().Retries > 0)
			assert.Equal(t, total, a.agent.Stats().Answered)
			for _, p := range parts {
				assert.Positive(t, p.calls.Load(), "%s was called", p.name)
			}
		})
	}
}

// TestFaultsModelRejection is a failure that retrying cannot mend (the
// provider rejects the request): the fallback is not tried, the customer
// is told once, the message fails for good and the next one is answered.
func TestFaultsModelRejection(t *testing.T) {
	reject := &flaky{name: "primary", n: 1, err: &llm.Error{Provider: "primary", Kind: llm.ErrInvalidRequest, StatusCode: 400}}
	backup := &flaky{name: "backup"}
	st := newMemory()
	ch := newRecorder()
	turns := make(chan agent.TurnInfo, 10)
	a := runAgent(t, agent.Config{Store: st, Model: llm.Fallback(reject, backup), Channels: []channel.Channel{ch}, CoalesceWindow: -1,
		Apology: apology, RetryDelay: time.Millisecond, RecoveryInterval: 5 * time.Millisecond,
		Hooks: agent.Hooks{TurnDone: func(ti agent.TurnInfo) { turns <- ti }}})
	require.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("reject", 0, 0)}}))
	ti := <-turns
	assert.Equal(t, agent.Failed, ti.Outcome)
	assert.Equal(t, "model_invalid_request", ti.Reason)
	assert.Zero(t, backup.calls.Load(), "another provider would reject it too")
	require.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("reject", 0, 1)}}))
	assert.Equal(t, agent.Answered, (<-turns).Outcome)
	waitIdle(t, st)
	var texts []string
	for _, o := range ch.Sent() {
		texts = append(texts, string(o.Text))
	}
	assert.Equal(t, []string{apology, "re: c0 m1"}, texts)
	m, err := st.Message(t.Context(), tenant, ti.Message)
	require.NoError(t, err)
	assert.Equal(t, store.ProcessFailed, m.Processing.State)
	assert.Equal(t, int64(0), a.agent.Stats().Retries)
}
