package agent_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
)

// crashy is the Cloud API as a crash finds it: sends numbered trapAt and
// trapAt+1 are in flight when the agent dies. The first never reached the
// API (the kill came first); the second did, and went out, but its answer
// never came back. Each reports on trapped when it is caught, then waits
// for the kill.
type crashy struct {
	*channeltest.Recorder
	trapAt  int64
	n       atomic.Int64
	trapped chan struct{}
}

func (c *crashy) Send(ctx context.Context, out channel.Outbound) (channel.SendResult, error) {
	switch c.n.Add(1) {
	case c.trapAt:
		c.trapped <- struct{}{}
		<-ctx.Done()
		return channel.SendResult{}, ctx.Err()
	case c.trapAt + 1:
		if _, err := c.Recorder.Send(ctx, out); err != nil {
			return channel.SendResult{}, err
		}
		c.trapped <- struct{}{}
		<-ctx.Done()
		return channel.SendResult{}, &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, Err: channel.ErrUncertain}
	}
	return c.Recorder.Send(ctx, out)
}

// TestFaultsKillMidStream kills an agent (its Run context cancelled, no
// Shutdown) while contacts keep writing and turns are in flight, then
// starts a new agent on a new handle of the same SQLite file or PostgreSQL
// schema. Deliveries go on to the new agent; the Cloud API posts the
// statuses of what went out. Every acknowledged message is answered
// exactly once, in order: the reply that never reached the API is sent
// again after ResendAfter, the one that went out unconfirmed is found sent
// by its status and not repeated, and what was recorded but not processed
// is picked up by the recovery scan.
func TestFaultsKillMidStream(t *testing.T) {
	for _, d := range durables(t) {
		t.Run(d.name, func(t *testing.T) {
			const contacts, perContact = 20, 10
			run := fmt.Sprintf("kill-%s", d.name)
			ch := &crashy{Recorder: newRecorder(), trapAt: 60, trapped: make(chan struct{}, 2)}
			var reasons sync.Map // reason -> count, of the second agent's turns
			config := func(st store.ConversationStore, hooks agent.Hooks) agent.Config {
				return agent.Config{
					Store: st, Model: llmtest.Echo{Prefix: "re: "}, Channels: []channel.Channel{ch},
					CoalesceWindow: -1, ContactLimit: -1,
					ResendAfter: 50 * time.Millisecond, RetryDelay: time.Millisecond, RecoveryInterval: 10 * time.Millisecond,
					Hooks: hooks,
				}
			}
			first := runAgent(t, config(d.open(t), agent.Hooks{}))
			var target atomic.Pointer[agent.Agent]
			target.Store(first.agent)

			var wg sync.WaitGroup
			for c := range contacts {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range perContact {
						m := msg(run, c, i)
						// Acknowledged once Receive returns nil, whichever
						// agent took it.
						assert.NoError(t, target.Load().Receive(t.Context(), channel.Inbound{Messages: []channel.Message{m}}))
					}
				}()
			}
			for range 2 {
				select {
				case <-ch.trapped:
				case <-t.Context().Done():
					t.Fatal("the trapped sends never came")
				}
			}
			first.kill(t)

			st := d.open(t)
			second, err := agent.New(config(st, agent.Hooks{TurnDone: func(ti agent.TurnInfo) {
				n, _ := reasons.LoadOrStore(ti.Reason, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
			}}))
			require.NoError(t, err)
			// What Meta posts meanwhile: a status for every message that
			// went out, including the one the killed agent never saw
			// confirmed.
			require.NoError(t, second.Receive(t.Context(), channel.Inbound{Statuses: statusesOf(ch.Recorder)}))
			target.Store(second)
			startAgent(t, second)
			wg.Wait()
			waitIdle(t, st)

			assert.Equal(t, wantReplies("re: ", contacts, perContact), repliesByContact(ch.Sent()),
				"every message answered exactly once, in order, across the crash")
			count := func(reason string) int64 {
				if n, ok := reasons.Load(reason); ok {
					return n.(*atomic.Int64).Load()
				}
				return 0
			}
			// Other sends starting as the agent died were abandoned too.
			assert.GreaterOrEqual(t, count("resent"), int64(1), "the reply that never reached the API was sent again")
			assert.Equal(t, int64(1), count("already_sent"), "the reply that went out unconfirmed was recognized by its status")
		})
	}
}
