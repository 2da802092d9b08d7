package agent_test

import (
	"context"
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

// stuck is a channel whose first send never reaches the API: it reports on
// caught and waits for the agent to die.
type stuck struct {
	*channeltest.Recorder
	caught chan struct{}
	first  chan struct{} // holds one token until the first send
}

func (s *stuck) Send(ctx context.Context, out channel.Outbound) (channel.SendResult, error) {
	select {
	case <-s.first:
		close(s.caught)
		<-ctx.Done()
		return channel.SendResult{}, ctx.Err()
	default:
	}
	return s.Recorder.Send(ctx, out)
}

// TestFaultsCoalescedRetryKeepsTheEarlierReply is about coalescing (the
// default of Config.CoalesceWindow) meeting an unsettled reply. The reply
// to a customer's message is recorded, and its send does not complete: the
// agent dies during it, or the API's answer is lost (channel.ErrUncertain).
// The message stays pending and waits. Before it is tried again, the
// customer writes again; the next attempt then answers both messages in
// one turn. The reply recorded for the first message must still reach the
// customer once (sent again when it never went out), and the new message
// must get its own answer.
func TestFaultsCoalescedRetryKeepsTheEarlierReply(t *testing.T) {
	config := func(ch channel.Channel, st store.ConversationStore) agent.Config {
		return agent.Config{Store: st, Model: llmtest.Echo{Prefix: "re: "}, Channels: []channel.Channel{ch},
			CoalesceWindow: 20 * time.Millisecond, ContactLimit: -1,
			ResendAfter: 30 * time.Millisecond, RetryDelay: 50 * time.Millisecond, RecoveryInterval: 5 * time.Millisecond}
	}
	tests := []struct {
		name string
		run  func(t *testing.T) *channeltest.Recorder
	}{
		{"the agent died during the send", func(t *testing.T) *channeltest.Recorder {
			st := newMemory()
			ch := &stuck{Recorder: newRecorder(), caught: make(chan struct{}), first: make(chan struct{}, 1)}
			ch.first <- struct{}{}
			a := runAgent(t, config(ch, st))
			require.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("co", 0, 0)}}))
			<-ch.caught
			a.kill(t)
			b, err := agent.New(config(ch, st))
			require.NoError(t, err)
			// The customer writes again while the agent is down.
			require.NoError(t, b.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("co", 0, 1)}}))
			startAgent(t, b)
			waitIdle(t, st)
			return ch.Recorder
		}},
		{"the API's answer was lost", func(t *testing.T) *channeltest.Recorder {
			st := newMemory()
			ch := newRecorder()
			// The request was written; no answer came (it never reached
			// the API, but the agent cannot know that).
			ch.FailNext(&channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, Err: channel.ErrUncertain})
			turns := make(chan agent.TurnInfo, 10)
			cfg := config(ch, st)
			cfg.Hooks.TurnDone = func(ti agent.TurnInfo) { turns <- ti }
			a := runAgent(t, cfg)
			require.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("co", 0, 0)}}))
			require.Equal(t, "send_unknown", (<-turns).Reason)
			// The customer writes again before the retry.
			require.NoError(t, a.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg("co", 0, 1)}}))
			waitIdle(t, st)
			return ch
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := tt.run(t)
			got := repliesByContact(ch.Sent())[channel.UserID(contact(0))]
			assert.Contains(t, got, "re: c0 m0", "the reply recorded for the first message never reached the customer (agent: reconcile looks for an earlier reply of the latest message only, not of every message the coalesced turn answers)")
			assert.Equal(t, []string{"re: c0 m0", "re: c0 m1"}, got, "each message answered once, in order")
		})
	}
}
