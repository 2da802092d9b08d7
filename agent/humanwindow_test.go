package agent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// humanWindowed is a recorder whose human agents have a longer window, like
// Instagram.
type humanWindowed struct{ windowed }

func (humanWindowed) HumanAgentWindow() time.Duration { return 7 * 24 * time.Hour }

var _ channel.HumanWindowed = humanWindowed{}

func TestOperatorRepliesAreMarkedHuman(t *testing.T) {
	f := setup(t, nil)
	f.model.SetDefault(echoLast())
	f.receive(t, text("wamid.1", "51900000090", "hola"))
	conv := f.waitTurns(t, 1)[0].Conversation
	_, err := f.agent.Claim(t.Context(), tenant, conv, "ana")
	require.NoError(t, err)
	_, err = f.agent.Reply(t.Context(), tenant, conv, "ana", "Hola, soy Ana")
	require.NoError(t, err)

	sent := f.ch.Sent()
	require.Len(t, sent, 2)
	assert.False(t, sent[0].Human, "the AI's answer is not a person's")
	assert.True(t, sent[1].Human, "an operator's reply is sent as written by a person")
	hist, err := f.store.History(t.Context(), tenant, conv, store.HistoryQuery{})
	require.NoError(t, err)
	last := hist[len(hist)-1]
	require.Equal(t, store.Operator, last.Role)
	require.NotNil(t, last.Outbound)
	assert.True(t, last.Outbound.Human, "and recorded so")
}

func TestReplyWindow(t *testing.T) {
	wrote := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		ch     channel.Channel
		conv   func(store.Conversation) store.Conversation
		closes time.Time
		ok     bool
	}{
		{"no window", channeltest.NewRecorder(channel.WebWidget), nil, time.Time{}, false},
		{"service window", windowed{channeltest.NewRecorder(channel.WebWidget)}, nil, wrote.Add(24 * time.Hour), true},
		{"longer window for human agents", humanWindowed{windowed{channeltest.NewRecorder(channel.WebWidget)}}, nil, wrote.Add(7 * 24 * time.Hour), true},
		{"customer never wrote", windowed{channeltest.NewRecorder(channel.WebWidget)},
			func(c store.Conversation) store.Conversation { c.LastInboundAt = time.Time{}; return c }, time.Time{}, false},
		{"channel not the agent's", windowed{channeltest.NewRecorder(channel.WebWidget)},
			func(c store.Conversation) store.Conversation { c.Address.Channel = channel.Instagram; return c }, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// ReplyWindow needs no running agent.
			a, err := agent.New(agent.Config{Store: memory.New(nil), Model: llmtest.NewScripted(), Channels: []channel.Channel{tt.ch}})
			require.NoError(t, err)
			conv := store.Conversation{Address: channel.Address{Channel: channel.WebWidget, Tenant: tenant, User: "v-1"}, LastInboundAt: wrote}
			if tt.conv != nil {
				conv = tt.conv(conv)
			}
			closes, ok := a.ReplyWindow(conv)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.closes, closes)
		})
	}
}

// TestOperatorReplyInHumanWindow: three days after the customer wrote, the
// assistant may not answer, but an operator may on a channel whose human
// agents have seven days (Instagram), and not on one without (WhatsApp).
func TestOperatorReplyInHumanWindow(t *testing.T) {
	for _, tt := range []struct {
		name string
		wrap func(*channeltest.Recorder) channel.Channel
		sent bool
	}{
		{"human window", func(r *channeltest.Recorder) channel.Channel { return humanWindowed{windowed{r}} }, true},
		{"service window only", func(r *channeltest.Recorder) channel.Channel { return windowed{r} }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, func(c *agent.Config) { c.Channels = []channel.Channel{tt.wrap(c.Channels[0].(*channeltest.Recorder))} })
			f.model.SetDefault(echoLast())
			late := text("wamid.late", "51900000091", "¿siguen ahí?")
			late.Time = time.Now().Add(-72 * time.Hour)
			f.receive(t, late)
			conv := f.waitTurns(t, 1)[0].Conversation
			assert.Empty(t, f.ch.Sent(), "the assistant's window closed after 24 hours")
			_, err := f.agent.Claim(t.Context(), tenant, conv, "ana")
			require.NoError(t, err)
			_, err = f.agent.Reply(t.Context(), tenant, conv, "ana", "Sí, aquí estamos")
			if !tt.sent {
				assert.ErrorIs(t, err, channel.ErrWindowClosed)
				assert.Empty(t, f.ch.Sent())
				return
			}
			require.NoError(t, err)
			sent := f.ch.Sent()
			require.Len(t, sent, 1)
			assert.True(t, sent[0].Human)
		})
	}
}
