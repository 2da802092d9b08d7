package agent_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

// classifier answers a classification request with answer, and fails the
// test's turn if the request is not one.
func classifier(answer string) llmtest.Step {
	return llmtest.Func(func(_ context.Context, req *llm.Request) (*llm.Response, error) {
		if req.ResponseFormat == nil || req.ResponseFormat.Name != "intent" || len(req.Tools) > 0 {
			return nil, errors.New("expected a classification request")
		}
		return &llm.Response{Message: llm.AssistantText(answer), FinishReason: llm.FinishStop, Usage: llmtest.StepUsage()}, nil
	})
}

func classifications(f *fixture) int {
	n := 0
	for _, r := range f.model.Requests() {
		if r.ResponseFormat != nil {
			n++
		}
	}
	return n
}

func TestIntentTagsAreStoredAndVisibleToHooks(t *testing.T) {
	var mu sync.Mutex
	var routed []agent.RouteInfo
	f := setup(t, func(c *agent.Config) {
		c.Intents.Enabled = true
		c.Routing.Rule = func(_ context.Context, ri agent.RouteInfo) string {
			mu.Lock()
			defer mu.Unlock()
			routed = append(routed, ri)
			return ""
		}
	},
		classifier(`{"intent":"order_status","sentiment":"neutral","order_number":"1001","product":"taza","email":"rosa@example.com","date":"2026-11-20"}`),
		llmtest.Reply("Tu pedido 1001 está en camino."))
	f.receive(t, text("wamid.i1", "51900000201", "¿dónde está mi pedido 1001? mi correo es rosa@example.com"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Answered, ti.Outcome)
	assert.Equal(t, "order_status", ti.Intent, "TurnInfo carries the intent")
	assert.Equal(t, store.SentimentNeutral, ti.Sentiment)
	assert.Equal(t, 2*llmtest.StepUsage().InputTokens, ti.Usage.InputTokens, "the classifier's usage is counted")

	reqs := f.model.Requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, reqs[0].System, "- order_status: ")
	assert.Contains(t, string(reqs[0].ResponseFormat.Schema), `"complaint"`, "the schema lists the intent set")
	assert.Equal(t, []llm.Message{llm.UserText("¿dónde está mi pedido 1001? mi correo es rosa@example.com")}, reqs[0].Messages)
	assert.Nil(t, reqs[1].ResponseFormat, "the answer is free text")

	tags, err := f.store.Tags(t.Context(), tenant, ti.Message)
	require.NoError(t, err, "the tags are stored with the message")
	assert.Equal(t, store.Tags{Intent: "order_status", Sentiment: store.SentimentNeutral, OrderNumber: "1001", Product: "taza", Email: "rosa@example.com", Date: "2026-11-20", Source: "model", Time: tags.Time}, tags)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, routed, 1)
	assert.True(t, tags.Time.Equal(routed[0].Tags.Time))
	routed[0].Tags.Time = tags.Time
	assert.Equal(t, tags, routed[0].Tags, "routing rules see the tags")
	assert.Equal(t, ti.Conversation, routed[0].Conversation)
}

func TestUnknownIntentIsOtherAndClassifierFailureIsNotFatal(t *testing.T) {
	f := setup(t, func(c *agent.Config) { c.Intents.Enabled = true },
		classifier(`{"intent":"weather","sentiment":"happy","order_number":"","product":"","email":"","date":""}`),
		llmtest.Reply("hola"),
		classifier(`not json`),
		llmtest.Reply("hola otra vez"))
	f.receive(t, text("wamid.u1", "51900000211", "¿lloverá?"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, "other", ti.Intent, "an intent outside the set is other")
	assert.Empty(t, ti.Sentiment, "an unknown sentiment is left out")

	f.receive(t, text("wamid.u2", "51900000211", "hola"))
	ti = f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Answered, ti.Outcome, "a failing classifier does not keep the customer from an answer")
	assert.Empty(t, ti.Intent)
	_, err := f.store.Tags(t.Context(), tenant, ti.Message)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestRuleHandoff(t *testing.T) {
	tests := []struct {
		name    string
		routing agent.RoutingConfig
		answer  string
		reason  string
	}{
		{"on a configured intent", agent.RoutingConfig{HandoffIntents: []string{"complaint"}},
			`{"intent":"complaint","sentiment":"neutral","order_number":"","product":"","email":"","date":""}`, "rule_intent"},
		{"on human_request by default", agent.RoutingConfig{},
			`{"intent":"human_request","sentiment":"neutral","order_number":"","product":"","email":"","date":""}`, "rule_intent"},
		{"on negative sentiment", agent.RoutingConfig{HandoffOnNegative: true},
			`{"intent":"support","sentiment":"negative","order_number":"","product":"","email":"","date":""}`, "rule_sentiment"},
		{"on the host's rule", agent.RoutingConfig{Rule: func(_ context.Context, ri agent.RouteInfo) string {
			if ri.Tags.Email == "ceo@example.com" {
				return "vip"
			}
			return ""
		}}, `{"intent":"support","sentiment":"neutral","order_number":"","product":"","email":"ceo@example.com","date":""}`, "vip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var events []agent.HandoffEvent
			var mu sync.Mutex
			f := setup(t, func(c *agent.Config) {
				c.Intents.Enabled, c.Routing = true, tt.routing
				c.Handoff.Notify = func(_ context.Context, e agent.HandoffEvent) {
					mu.Lock()
					defer mu.Unlock()
					events = append(events, e)
				}
			}, classifier(tt.answer))
			f.receive(t, text("wamid.r1", "51900000221", "esto es un desastre"))
			ti := f.waitTurns(t, 1)[0]
			assert.Equal(t, agent.Answered, ti.Outcome)
			assert.Equal(t, "handoff", ti.Reason)
			assert.Equal(t, 1, f.model.Calls(), "the model is not asked to answer once a rule handed over")
			conv, err := f.store.Conversation(t.Context(), tenant, ti.Conversation)
			require.NoError(t, err)
			assert.Equal(t, store.OwnerHuman, conv.Handoff.Owner)
			assert.Equal(t, tt.reason, conv.Handoff.Reason)
			sent := f.ch.Sent()
			require.Len(t, sent, 1)
			assert.Equal(t, channel.Text(agent.DefaultHandoffNotice), sent[0].Text)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, events, 1)
			assert.Equal(t, tt.reason, events[0].Reason)
		})
	}
}

func TestRepeatedFailuresHandOver(t *testing.T) {
	t.Run("the model said twice it cannot help", func(t *testing.T) {
		f := setup(t, func(c *agent.Config) { c.Routing.MaxFailures = 2 },
			llmtest.Reply("Lo siento, no puedo ayudar con eso."),
			llmtest.Reply("Tu pedido llegará mañana."),
			llmtest.Reply("Sorry, I can't help with that."),
			llmtest.Reply("I'm unable to help with this one either."))
		const user = "51900000231"
		for i, body := range []string{"¿factura?", "¿mi pedido?", "¿garantía?", "¿devolución?"} {
			f.receive(t, text("wamid.f"+string(rune('1'+i)), user, body))
			f.waitTurns(t, 1)
		}
		conv, err := f.store.OpenConversation(t.Context(), addr(user))
		require.NoError(t, err)
		assert.Equal(t, store.OwnerHuman, conv.Handoff.Owner, "two answers in a row saying it cannot help hand the conversation over")
		assert.Equal(t, "rule_failures", conv.Handoff.Reason)
		var texts []channel.Text
		for _, o := range f.ch.Sent() {
			texts = append(texts, o.Text)
		}
		assert.Equal(t, []channel.Text{"Lo siento, no puedo ayudar con eso.", "Tu pedido llegará mañana.", "Sorry, I can't help with that.",
			"I'm unable to help with this one either.", agent.DefaultHandoffNotice}, texts,
			"a good answer resets the count; the handoff follows the answer that reached it")
	})
	t.Run("turns failed twice in a row", func(t *testing.T) {
		bad := &llm.Error{Provider: "scripted", Kind: llm.ErrInvalidRequest}
		f := setup(t, func(c *agent.Config) { c.Routing.MaxFailures = 2 }, llmtest.Fail(bad), llmtest.Fail(bad))
		const user = "51900000232"
		for i := range 2 {
			f.receive(t, text("wamid.g"+string(rune('1'+i)), user, "hola"))
			assert.Equal(t, agent.Failed, f.waitTurns(t, 1)[0].Outcome)
		}
		f.receive(t, text("wamid.g3", user, "¿hay alguien?"))
		ti := f.waitTurns(t, 1)[0]
		assert.Equal(t, "handoff", ti.Reason)
		assert.Equal(t, 2, f.model.Calls(), "the third message goes to a person without asking the model")
		conv, err := f.store.Conversation(t.Context(), tenant, ti.Conversation)
		require.NoError(t, err)
		assert.Equal(t, store.OwnerHuman, conv.Handoff.Owner)
		assert.Equal(t, "rule_failures", conv.Handoff.Reason)
	})
}

func TestCheapPathMakesNoClassifierCall(t *testing.T) {
	shop := newShop(t)
	f := setup(t, func(c *agent.Config) { c.Intents.Enabled, c.Orders = true, shop }, llmtest.Reply("¡Gracias por tu pedido!"))

	f.receive(t, text("wamid.h1", "51900000241", "quiero hablar con una persona"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, "handoff", ti.Reason)
	assert.Equal(t, "human_request", ti.Intent)
	tags, err := f.store.Tags(t.Context(), tenant, ti.Message)
	require.NoError(t, err)
	assert.Equal(t, "rule", tags.Source)
	assert.Zero(t, f.model.Calls(), "a handoff phrase decides without the model")

	f.receive(t, cart("wamid.h2", "51900000242"))
	ti = f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Answered, ti.Outcome)
	assert.Equal(t, "purchase_inquiry", ti.Intent)
	assert.Equal(t, 1, f.model.Calls(), "a cart is answered without a classifier call")
	assert.Zero(t, classifications(f))
}

func TestPrivacyCommandIsTaggedWithoutTheClassifier(t *testing.T) {
	f := setup(t, func(c *agent.Config) {
		c.Intents.Enabled = true
		c.Consent = ledger{status: privacy.ConsentUnknown}
	})
	f.receive(t, text("wamid.s1", "51900000251", "STOP"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, "privacy_request", ti.Intent)
	assert.Zero(t, f.model.Calls(), "a privacy command decides without the model")
	tags, err := f.store.Tags(t.Context(), tenant, ti.Message)
	require.NoError(t, err)
	assert.Equal(t, store.Tags{Intent: "privacy_request", Source: "rule", Time: tags.Time}, tags)
}
