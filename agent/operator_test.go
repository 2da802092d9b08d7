package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
)

// subscription collects the events of one agent.Subscribe subscriber.
type subscription chan agent.HandoffEvent

func subscribe(t *testing.T, a *agent.Agent) subscription {
	s := make(subscription, 100)
	t.Cleanup(a.Subscribe(func(_ context.Context, e agent.HandoffEvent) { s <- e }))
	return s
}

// next returns the next event of kind, skipping others.
func (s subscription) next(t *testing.T, kind agent.HandoffKind) agent.HandoffEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-s:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

func TestSubscribe(t *testing.T) {
	var ev events
	f := setup(t, func(c *agent.Config) { c.Handoff.Notify = ev.notify })
	first, second := subscribe(t, f.agent), make(subscription, 10)
	cancel := f.agent.Subscribe(func(_ context.Context, e agent.HandoffEvent) { second <- e })
	noop := f.agent.Subscribe(nil)
	noop()

	f.receive(t, text("wamid.1", "51900000080", "quiero hablar con una persona"))
	f.waitTurns(t, 1)
	conv := f.waitConv(t, "51900000080")
	for _, s := range []subscription{first, second} {
		e := s.next(t, agent.HandedToHuman)
		assert.Equal(t, agent.HandoffEvent{Kind: agent.HandedToHuman, Tenant: tenant, Conversation: conv, Message: e.Message, Reason: "customer_request"}, e)
	}
	assert.Equal(t, []agent.HandoffKind{agent.HandedToHuman}, ev.kinds(), "Notify is still called")

	cancel()
	cancel() // idempotent
	_, err := f.agent.Claim(t.Context(), tenant, conv, "ana")
	require.NoError(t, err)
	e := first.next(t, agent.HandedToHuman)
	assert.Equal(t, "ana", e.Operator)
	assert.Empty(t, second, "a cancelled subscriber is not called")
}

func TestOperatorRepliesClosesAndTheAIAnswersAgain(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("Hola, soy el asistente."), llmtest.Reply("De nada."))
	sub := subscribe(t, f.agent)
	ctx := t.Context()
	f.receive(t, text("wamid.1", "51900000081", "hola"))
	f.waitTurns(t, 1)
	conv := f.waitConv(t, "51900000081")

	_, err := f.agent.CloseConversation(ctx, tenant, conv, "ana")
	assert.ErrorIs(t, err, agent.ErrNotOwner, "the AI owns it: there is nothing to close")
	_, err = f.agent.Claim(ctx, tenant, conv, "ana")
	require.NoError(t, err)
	_, err = f.agent.Reply(ctx, tenant, conv, "ana", "Soy Ana, ¿te ayudo con tu pedido?")
	require.NoError(t, err)
	sent, err := f.ch.Wait(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, "Soy Ana, ¿te ayudo con tu pedido?", string(sent[1].Text), "the operator's reply goes out through the conversation's channel")
	assert.Equal(t, addr("51900000081"), sent[1].To)

	f.receive(t, text("wamid.2", "51900000081", "sí, el A-1001"))
	assert.Equal(t, agent.Skipped, f.waitTurns(t, 1)[0].Outcome, "the AI is silent while a human owns it")
	assert.Equal(t, 1, f.model.Calls())
	assert.Equal(t, agent.CustomerWrote, sub.next(t, agent.CustomerWrote).Kind)

	_, err = f.agent.CloseConversation(ctx, tenant, conv, "luis")
	assert.ErrorIs(t, err, agent.ErrNotOwner, "only the operator who holds it closes it")
	_, err = f.agent.CloseConversation(ctx, tenant, "c999", "ana")
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = f.agent.CloseConversation(ctx, tenant, conv, "")
	assert.Error(t, err)
	c, err := f.agent.CloseConversation(ctx, tenant, conv, "ana")
	require.NoError(t, err)
	assert.Equal(t, store.OwnerAI, c.Handoff.Owner)
	assert.Equal(t, "closed", c.Handoff.Reason)
	e := sub.next(t, agent.ReturnedToAI)
	assert.Equal(t, "closed", e.Reason)
	assert.Equal(t, "ana", e.Operator)

	f.receive(t, text("wamid.3", "51900000081", "gracias"))
	assert.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome, "back with the AI")
	sent, err = f.ch.Wait(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, "De nada.", string(sent[2].Text))
	assert.Equal(t, 2, f.model.Calls())
}

func TestIdleTimeoutReturnsTheConversation(t *testing.T) {
	f := setup(t, func(c *agent.Config) {
		c.Handoff.IdleTimeout = time.Millisecond
		c.RecoveryInterval = 20 * time.Millisecond
	}, llmtest.Reply("Hola de nuevo, ¿en qué te ayudo?"))
	sub := subscribe(t, f.agent)
	f.receive(t, text("wamid.1", "51900000082", "talk to a human please"))
	f.waitTurns(t, 1)
	conv := f.waitConv(t, "51900000082")
	assert.Equal(t, agent.HandedToHuman, sub.next(t, agent.HandedToHuman).Kind)

	e := sub.next(t, agent.ReturnedToAI)
	assert.Equal(t, agent.HandoffEvent{Kind: agent.ReturnedToAI, Tenant: tenant, Conversation: conv, Reason: "timeout"}, e)
	c, err := f.store.Conversation(t.Context(), tenant, conv)
	require.NoError(t, err)
	assert.Equal(t, store.Handoff{Owner: store.OwnerAI, Reason: "timeout", Since: c.Handoff.Since}, c.Handoff)

	f.receive(t, text("wamid.2", "51900000082", "¿sigue ahí alguien?"))
	assert.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome, "the AI answers again after the timeout")
	assert.Equal(t, 1, f.model.Calls())
}
