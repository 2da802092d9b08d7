package instagram_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/instagram"
	"github.com/wagent/wagent/channel/instagram/instagramtest"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// bot is an agent wired to an instagram.Client talking to a fake Graph
// API, behind the webhook served on a loopback server.
type bot struct {
	api      *instagramtest.Server
	store    *memory.Store
	agent    *agent.Agent
	hook     *httptest.Server
	received chan agent.ReceivedInfo
	turns    chan agent.TurnInfo
	statuses chan agent.StatusInfo

	mu     sync.Mutex
	echoes []instagram.Echo
}

func newBot(t *testing.T, model *llmtest.Scripted) *bot {
	t.Helper()
	b := &bot{
		api:      instagramtest.NewServer(token, ""),
		store:    memory.New(nil),
		received: make(chan agent.ReceivedInfo, 16),
		turns:    make(chan agent.TurnInfo, 16),
		statuses: make(chan agent.StatusInfo, 16),
	}
	t.Cleanup(b.api.Close)
	client := newClientFor(t, b.api, nil)
	a, err := agent.New(agent.Config{
		Store:          b.store,
		Model:          model,
		Channels:       []channel.Channel{client},
		Instructions:   "You are the assistant of Tienda Sol.",
		CoalesceWindow: -1,
		Logger:         slog.New(slog.DiscardHandler),
		Hooks: agent.Hooks{
			Received: func(i agent.ReceivedInfo) { b.received <- i },
			TurnDone: func(i agent.TurnInfo) { b.turns <- i },
			Status:   func(i agent.StatusInfo) { b.statuses <- i },
		},
	})
	require.NoError(t, err)
	b.agent = a
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		assert.NoError(t, a.Shutdown(sctx))
		cancel()
		<-ran
	})
	b.hook = httptest.NewServer(newWebhook(t, a, instagram.WebhookOptions{Client: client, Hooks: instagram.WebhookHooks{
		Echo: func(e instagram.Echo) {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.echoes = append(b.echoes, e)
		},
	}}))
	t.Cleanup(b.hook.Close)
	return b
}

func (b *bot) deliver(t *testing.T, body []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(instagramtest.NewDelivery(b.hook.URL, body, appSecret))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting for the agent")
		panic("unreachable")
	}
}

func TestEndToEnd(t *testing.T) {
	b := newBot(t, llmtest.NewScripted(llmtest.Reply("¡Hola! Sí, enviamos a todo Lima.")))
	now := time.Now().Truncate(time.Millisecond)
	b.deliver(t, instagramtest.TextDelivery(string(tenant), igsid, "aWdfZAG1fE2E0001", "¿Hacen envíos a Lima?", now))

	rcv := wait(t, b.received)
	assert.False(t, rcv.Duplicate)
	assert.Equal(t, channel.Instagram, rcv.Channel)
	turn := wait(t, b.turns)
	require.Equal(t, agent.Answered, turn.Outcome, "reason %q: %v", turn.Reason, turn.Err)

	sent := b.api.Sent()
	require.Len(t, sent, 1)
	assert.JSONEq(t, `{
		"recipient": {"id": "`+igsid+`"},
		"messaging_type": "RESPONSE",
		"message": {"text": "¡Hola! Sí, enviamos a todo Lima."}
	}`, string(sent[0].Body), "the reply goes to the user's IGSID, from the account that received the message")
	assert.Equal(t, "/v25.0/"+string(tenant)+"/messages", sent[0].Path)
	assert.NotEmpty(t, b.api.Filter("typing"), "the agent showed the typing indicator")
	assert.NotEmpty(t, b.api.Filter("read"), "which marks the conversation seen")

	// The echo of the reply, then delivery and read, out of order.
	b.deliver(t, instagramtest.ReadDelivery(string(tenant), igsid, "aWdfZAFAKE000001", now.Add(3*time.Second)))
	b.deliver(t, instagramtest.EchoDelivery(string(tenant), igsid, "aWdfZAFAKE000001", "¡Hola! Sí, enviamos a todo Lima.", now.Add(time.Second)))
	b.deliver(t, instagramtest.DeliveryReceipt(string(tenant), igsid, []string{"aWdfZAFAKE000001"}, now.Add(2*time.Second)))
	for range 3 {
		st := wait(t, b.statuses)
		assert.NotZero(t, st.Message, "the status found its record by the message id")
		assert.NoError(t, st.Err)
	}
	select {
	case r := <-b.received:
		t.Fatalf("the echo was received as a customer message: %+v", r)
	default:
	}
	b.mu.Lock()
	assert.Len(t, b.echoes, 1, "the echo went to the hook")
	b.mu.Unlock()

	hist, err := b.store.History(t.Context(), tenant, rcv.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	var reply *store.Message
	inbound := 0
	for i := range hist {
		if hist[i].Outbound != nil {
			reply = &hist[i]
		}
		if hist[i].Inbound != nil {
			inbound++
		}
	}
	assert.Equal(t, 1, inbound, "the echo is not recorded as the customer's")
	require.NotNil(t, reply, "the reply is recorded")
	assert.Equal(t, channel.MessageID("aWdfZAFAKE000001"), reply.ProviderID)
	assert.Equal(t, channel.Read, reply.Delivery.State, "read stays read when the echo and delivery arrive late")

	conv, err := b.store.Conversation(t.Context(), tenant, rcv.Conversation)
	require.NoError(t, err)
	assert.Equal(t, channel.Address{Channel: channel.Instagram, Tenant: tenant, User: igsid}, conv.Address, "keyed on the IGSID, tenant the account")
}

func TestEndToEndEchoOfAPersonIsNotAnswered(t *testing.T) {
	b := newBot(t, llmtest.NewScripted(llmtest.Reply("should not be sent")))
	echo := instagramtest.EchoDelivery(string(tenant), igsid, "aWdfZAG1fHUMAN01", "Hi, Ana from the shop here", time.Now())
	b.deliver(t, echo)
	st := wait(t, b.statuses)
	assert.Zero(t, st.Message, "a message this agent did not send: nothing to update")
	b.deliver(t, echo) // Meta delivers at least once
	wait(t, b.statuses)

	// What the person sent is in the conversation, once, as the
	// business's message already sent.
	conv, err := b.store.OpenConversation(t.Context(), channel.Address{Channel: channel.Instagram, Tenant: tenant, User: igsid})
	require.NoError(t, err)
	hist, err := b.store.History(t.Context(), tenant, conv.ID, store.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, hist, 1, "recorded once, redelivery included")
	assert.Equal(t, store.Operator, hist[0].Role)
	require.NotNil(t, hist[0].Outbound)
	assert.Equal(t, channel.Text("Hi, Ana from the shop here"), hist[0].Outbound.Text)
	assert.Equal(t, channel.MessageID("aWdfZAG1fHUMAN01"), hist[0].ProviderID)
	assert.Equal(t, channel.Sent, hist[0].Delivery.State)
	sctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.agent.Shutdown(sctx))
	assert.Empty(t, b.api.Requests(), "nothing answered")
	assert.Zero(t, b.agent.Stats().Answered)
	b.mu.Lock()
	defer b.mu.Unlock()
	require.Len(t, b.echoes, 2, "the hook sees every delivery of the echo")
	assert.Equal(t, channel.Text("Hi, Ana from the shop here"), b.echoes[0].Message.Text)
}

func TestEndToEndRedeliveryAnsweredOnce(t *testing.T) {
	b := newBot(t, llmtest.NewScripted(llmtest.Reply("Hola, ¿en qué te ayudo?")))
	body := instagramtest.TextDelivery(string(tenant), igsid, "aWdfZAG1fE2E0003", "hola", time.Now())
	b.deliver(t, body)
	b.deliver(t, body) // Meta delivers at least once
	assert.False(t, wait(t, b.received).Duplicate)
	assert.True(t, wait(t, b.received).Duplicate, "the redelivery is recognized")
	require.Equal(t, agent.Answered, wait(t, b.turns).Outcome)

	sctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.agent.Shutdown(sctx))
	assert.Len(t, b.api.Sent(), 1, "one reply")
}
