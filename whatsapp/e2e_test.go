package whatsapp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// bot is an agent wired to a whatsapp.Client talking to a fake Cloud API,
// behind the webhook served on a loopback server.
type bot struct {
	api      *whatsapptest.Server
	store    *memory.Store
	agent    *agent.Agent
	hook     *httptest.Server
	received chan agent.ReceivedInfo
	turns    chan agent.TurnInfo
	statuses chan agent.StatusInfo
}

func newBot(t *testing.T, model *llmtest.Scripted) *bot {
	t.Helper()
	b := &bot{
		api:      whatsapptest.NewServer(token, ""),
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
	b.hook = httptest.NewServer(newWebhook(t, a, whatsapp.WebhookOptions{}))
	t.Cleanup(b.hook.Close)
	return b
}

func (b *bot) deliver(t *testing.T, body []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(whatsapptest.NewDelivery(b.hook.URL, body, appSecret))
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
	now := time.Now().Truncate(time.Second)
	b.deliver(t, whatsapptest.TextDelivery(string(tenant), waID, bsuid, "wamid.E2E0001", "¿Hacen envíos a Lima?", now))

	rcv := wait(t, b.received)
	assert.False(t, rcv.Duplicate)
	turn := wait(t, b.turns)
	require.Equal(t, agent.Answered, turn.Outcome, "reason %q: %v", turn.Reason, turn.Err)

	sent := b.api.Sent()
	require.Len(t, sent, 1)
	var body map[string]any
	require.NoError(t, json.Unmarshal(sent[0].Body, &body))
	correlation, _ := body["biz_opaque_callback_data"].(string)
	require.NotEmpty(t, correlation)
	assert.JSONEq(t, `{
		"messaging_product": "whatsapp",
		"recipient_type": "individual",
		"recipient": "`+bsuid+`",
		"biz_opaque_callback_data": "`+correlation+`",
		"type": "text",
		"text": {"body": "¡Hola! Sí, enviamos a todo Lima."}
	}`, string(sent[0].Body), "the reply goes to the user's business-scoped id")
	typing := b.api.Filter("typing")
	require.NotEmpty(t, typing, "the agent showed the typing indicator")
	assert.JSONEq(t, `{"messaging_product":"whatsapp","status":"read","message_id":"wamid.E2E0001","typing_indicator":{"type":"text"}}`, string(typing[0].Body))

	// Statuses come back, out of order: read before delivered.
	b.deliver(t, whatsapptest.StatusDelivery(string(tenant), waID, "wamid.FAKE000001", "read", correlation, 0, now.Add(2*time.Second)))
	b.deliver(t, whatsapptest.StatusDelivery(string(tenant), waID, "wamid.FAKE000001", "delivered", correlation, 0, now.Add(time.Second)))
	for range 2 {
		st := wait(t, b.statuses)
		assert.NotZero(t, st.Message, "the status found its record")
		assert.NoError(t, st.Err)
	}

	hist, err := b.store.History(t.Context(), tenant, rcv.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	var reply *store.Message
	for i := range hist {
		if hist[i].Outbound != nil {
			reply = &hist[i]
		}
	}
	require.NotNil(t, reply, "the reply is recorded")
	assert.Equal(t, channel.MessageID("wamid.FAKE000001"), reply.ProviderID)
	assert.Equal(t, channel.Read, reply.Delivery.State, "read stays read when delivered arrives late")
	assert.Equal(t, 1, reply.Delivery.Attempts)

	conv, err := b.store.Conversation(t.Context(), tenant, rcv.Conversation)
	require.NoError(t, err)
	assert.Equal(t, channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: bsuid}, conv.Address, "keyed on the business-scoped user id")
	subj, err := b.store.Subject(t.Context(), conv.Address)
	require.NoError(t, err)
	assert.Equal(t, channel.Phone(waID), subj.Profile.Phone)
}

func TestEndToEndFailedStatus(t *testing.T) {
	b := newBot(t, llmtest.NewScripted(llmtest.Reply("Hola")))
	now := time.Now().Truncate(time.Second)
	b.deliver(t, whatsapptest.TextDelivery(string(tenant), waID, "", "wamid.E2E0002", "hola", now))
	rcv := wait(t, b.received)
	require.Equal(t, agent.Answered, wait(t, b.turns).Outcome)
	sent := b.api.Sent()
	require.Len(t, sent, 1)
	var body struct {
		To  string `json:"to"`
		Biz string `json:"biz_opaque_callback_data"`
	}
	require.NoError(t, json.Unmarshal(sent[0].Body, &body))
	assert.Equal(t, waID, body.To, "no user id in the payload: the reply goes to the phone number")

	b.deliver(t, whatsapptest.StatusDelivery(string(tenant), waID, "wamid.FAKE000001", "failed", body.Biz, 131047, now.Add(time.Second)))
	st := wait(t, b.statuses)
	assert.Equal(t, 131047, st.ErrorCode)
	hist, err := b.store.History(t.Context(), tenant, rcv.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	last := hist[len(hist)-1]
	require.NotNil(t, last.Outbound)
	assert.Equal(t, channel.Failed, last.Delivery.State)
	assert.Equal(t, 131047, last.Delivery.ErrorCode)
}

func TestEndToEndRedeliveryAnsweredOnce(t *testing.T) {
	b := newBot(t, llmtest.NewScripted(llmtest.Reply("Hola, ¿en qué te ayudo?")))
	body := whatsapptest.TextDelivery(string(tenant), waID, bsuid, "wamid.E2E0003", "hola", time.Now())
	b.deliver(t, body)
	b.deliver(t, body) // Meta delivers at least once
	assert.False(t, wait(t, b.received).Duplicate)
	assert.True(t, wait(t, b.received).Duplicate, "the redelivery is recognized")
	require.Equal(t, agent.Answered, wait(t, b.turns).Outcome)

	sctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, b.agent.Shutdown(sctx)) // waits for every turn: nothing more can be sent
	assert.Len(t, b.api.Sent(), 1, "one reply")
	assert.Equal(t, int64(1), b.agent.Stats().Answered)
}

// reply returns the outbound record of the conversation, and the
// correlation its send carried.
func (b *bot) reply(t *testing.T, conv store.ConversationID) store.Message {
	t.Helper()
	hist, err := b.store.History(t.Context(), tenant, conv, store.HistoryQuery{})
	require.NoError(t, err)
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].Outbound != nil {
			return hist[i]
		}
	}
	t.Fatal("no outbound record")
	return store.Message{}
}

func correlationOf(t *testing.T, r whatsapptest.Request) string {
	t.Helper()
	var body struct {
		Biz string `json:"biz_opaque_callback_data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &body))
	require.NotEmpty(t, body.Biz)
	return body.Biz
}

// TestEndToEndStatusMerge delivers statuses out of order and from several
// devices: the delivery record only moves forward, and a failure reported
// after a delivery keeps the delivery and records the error.
func TestEndToEndStatusMerge(t *testing.T) {
	type st struct {
		status string
		code   int
	}
	tests := []struct {
		name     string
		statuses []st
		want     channel.DeliveryState
		code     int
	}{
		{"delivered after read never downgrades", []st{{"sent", 0}, {"read", 0}, {"delivered", 0}}, channel.Read, 0},
		{"failed after delivered: both recorded", []st{{"delivered", 0}, {"failed", 131026}}, channel.Delivered, 131026},
		{"delivered after failed: another device got it", []st{{"failed", 131026}, {"delivered", 0}}, channel.Delivered, 131026},
		{"played after read", []st{{"read", 0}, {"played", 0}, {"delivered", 0}}, channel.Played, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBot(t, llmtest.NewScripted(llmtest.Reply("Hola")))
			now := time.Now().Truncate(time.Second)
			b.deliver(t, whatsapptest.TextDelivery(string(tenant), waID, bsuid, "wamid.MERGE0001", "hola", now))
			rcv := wait(t, b.received)
			require.Equal(t, agent.Answered, wait(t, b.turns).Outcome)
			sent := b.api.Sent()
			require.Len(t, sent, 1)
			corr := correlationOf(t, sent[0])
			for i, s := range tt.statuses {
				b.deliver(t, whatsapptest.StatusDelivery(string(tenant), waID, "wamid.FAKE000001", s.status, corr, s.code, now.Add(time.Duration(i+1)*time.Second)))
				assert.NotZero(t, wait(t, b.statuses).Message)
			}
			rec := b.reply(t, rcv.Conversation)
			assert.Equal(t, tt.want, rec.Delivery.State)
			assert.Equal(t, tt.code, rec.Delivery.ErrorCode)
		})
	}
}

// TestEndToEndSendFailures: the retries of a send and the last error code
// land on the outbound record.
func TestEndToEndSendFailures(t *testing.T) {
	tests := []struct {
		name     string
		script   []whatsapptest.Response
		state    channel.DeliveryState
		attempts int
		code     int
	}{
		{"retried, then sent", []whatsapptest.Response{whatsapptest.GraphError(500, 131000, 0, "Something went wrong")}, channel.Sent, 2, 0},
		{"undeliverable: not retried", []whatsapptest.Response{whatsapptest.GraphError(400, 131026, 0, "Message undeliverable")}, channel.Failed, 1, 131026},
		{"window closed at send time", []whatsapptest.Response{whatsapptest.GraphError(400, 131047, 0, "Re-engagement message")}, channel.Failed, 1, 131047},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBot(t, llmtest.NewScripted(llmtest.Reply("Hola")))
			b.api.Script(tt.script...)
			b.deliver(t, whatsapptest.TextDelivery(string(tenant), waID, bsuid, "wamid.FAIL0001", "hola", time.Now()))
			rcv := wait(t, b.received)
			wait(t, b.turns)
			rec := b.reply(t, rcv.Conversation)
			assert.Equal(t, tt.state, rec.Delivery.State)
			assert.Equal(t, tt.attempts, rec.Delivery.Attempts)
			assert.Equal(t, tt.code, rec.Delivery.ErrorCode)
		})
	}
}

// TestEndToEndInboundImage: an image the user sends is resolved and
// downloaded from the Cloud API with the token, checked against its
// sha256, and handed to the model as an image part.
func TestEndToEndInboundImage(t *testing.T) {
	model := llmtest.NewScripted(llmtest.Reply("It is a scarf."))
	b := newBot(t, model)
	content := []byte("\xff\xd8\xff\xe0 a tiny jpeg")
	sum := sha256.Sum256(content)
	id := b.api.AddMedia(whatsapptest.Media{Content: content, MIMEType: "image/jpeg"})
	b.deliver(t, whatsapptest.MediaDelivery(string(tenant), waID, bsuid, "wamid.IMG0001", "image", id, "image/jpeg",
		base64.StdEncoding.EncodeToString(sum[:]), "What is this?", time.Now()))
	wait(t, b.received)
	require.Equal(t, agent.Answered, wait(t, b.turns).Outcome)

	reqs := model.Requests()
	require.Len(t, reqs, 1)
	var image *llm.Part
	for _, m := range reqs[0].Messages {
		for i := range m.Parts {
			if m.Parts[i].Kind == llm.KindImage {
				image = &m.Parts[i]
			}
		}
	}
	require.NotNil(t, image, "the image reached the model")
	assert.Equal(t, content, image.Data)
	assert.Equal(t, "image/jpeg", image.MIMEType)
	assert.Len(t, b.api.Filter("media"), 1)
	downloads := b.api.Filter("download")
	require.Len(t, downloads, 1)
	assert.Equal(t, "Bearer "+token, downloads[0].Header.Get("Authorization"))
}
