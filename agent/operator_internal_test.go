package agent

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// unlisted hides the memory store's ConversationLister, so that the
// sweep falls back to the conversations it saw handed over.
type unlisted struct{ store.ConversationStore }

func TestSweepIdle(t *testing.T) {
	const timeout = time.Hour
	for _, tt := range []struct {
		name string
		wrap func(*memory.Store) store.ConversationStore
	}{
		{"with a lister", func(s *memory.Store) store.ConversationStore { return s }},
		{"without a lister", func(s *memory.Store) store.ConversationStore { return unlisted{s} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			mem := memory.New(nil)
			a, err := New(Config{Store: tt.wrap(mem), Model: llmtest.NewScripted(), Channels: []channel.Channel{channeltest.NewRecorder(channel.WhatsApp)},
				Handoff: HandoffConfig{IdleTimeout: timeout}})
			require.NoError(t, err)
			var returned []HandoffEvent
			defer a.Subscribe(func(_ context.Context, e HandoffEvent) {
				if e.Kind == ReturnedToAI {
					returned = append(returned, e)
				}
			})()
			at := func(user string) channel.Address {
				return channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: channel.UserID(user)}
			}
			idle, err := mem.OpenConversation(ctx, at("51900000090"))
			require.NoError(t, err)
			busy, err := mem.OpenConversation(ctx, at("51900000091"))
			require.NoError(t, err)
			written, err := mem.OpenConversation(ctx, at("51900000092"))
			require.NoError(t, err)
			aiOwned, err := mem.OpenConversation(ctx, at("51900000093"))
			require.NoError(t, err)
			t0 := time.Now()
			for _, c := range []store.Conversation{idle, busy, written} {
				_, err := a.Claim(ctx, "tienda-sol", c.ID, "ana")
				require.NoError(t, err)
			}
			// Ana writes a note in busy, the customer of written writes,
			// 90 minutes after the claims.
			_, err = mem.Append(ctx, store.Message{Tenant: "tienda-sol", Conversation: busy.ID, Role: store.Note, Time: t0.Add(90 * time.Minute),
				Outbound: &channel.Outbound{Text: "llamar mañana"}})
			require.NoError(t, err)
			_, err = mem.AppendInbound(ctx, channel.Message{ID: "wamid.1", From: at("51900000092"), Time: t0.Add(90 * time.Minute), Type: channel.TypeText, Text: "hola"})
			require.NoError(t, err)

			assert.Zero(t, a.sweepIdle(ctx, t0.Add(timeout/2)), "nothing is idle before the timeout")
			assert.Equal(t, 1, a.sweepIdle(ctx, t0.Add(2*timeout)), "idle for the timeout: returned")
			require.Len(t, returned, 1)
			assert.Equal(t, HandoffEvent{Kind: ReturnedToAI, Tenant: "tienda-sol", Conversation: idle.ID, Reason: "timeout", Operator: "ana"}, returned[0])
			c, err := mem.Conversation(ctx, "tienda-sol", idle.ID)
			require.NoError(t, err)
			assert.Equal(t, store.OwnerAI, c.Handoff.Owner)
			assert.Equal(t, "timeout", c.Handoff.Reason)
			for _, id := range []store.ConversationID{busy.ID, written.ID} {
				c, err := mem.Conversation(ctx, "tienda-sol", id)
				require.NoError(t, err)
				assert.Equal(t, store.OwnerHuman, c.Handoff.Owner, "an operator's note and a customer's message are activity")
			}
			c, err = mem.Conversation(ctx, "tienda-sol", aiOwned.ID)
			require.NoError(t, err)
			assert.Equal(t, "", c.Handoff.Reason, "conversations the AI owns are untouched")

			assert.Equal(t, 2, a.sweepIdle(ctx, t0.Add(3*timeout)), "idle again for the timeout after the activity")
			assert.Zero(t, a.sweepIdle(ctx, t0.Add(4*timeout)), "returned once")
			assert.Len(t, returned, 3)
		})
	}
}

func TestSweepIdleDisabled(t *testing.T) {
	mem := memory.New(nil)
	a, err := New(Config{Store: mem, Model: llmtest.NewScripted(), Channels: []channel.Channel{channeltest.NewRecorder(channel.WhatsApp)}})
	require.NoError(t, err)
	c, err := mem.OpenConversation(t.Context(), channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: "51900000094"})
	require.NoError(t, err)
	_, err = a.Claim(t.Context(), "tienda-sol", c.ID, "ana")
	require.NoError(t, err)
	assert.Zero(t, a.sweepIdle(t.Context(), time.Now().Add(1000*time.Hour)), "a zero IdleTimeout never returns a conversation")
}
