package agent_test

import (
	"context"
	"encoding/json"
	"sync"
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

// events records handoff events.
type events struct {
	mu  sync.Mutex
	got []agent.HandoffEvent
}

func (e *events) notify(_ context.Context, ev agent.HandoffEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) kinds() []agent.HandoffKind {
	e.mu.Lock()
	defer e.mu.Unlock()
	var k []agent.HandoffKind
	for _, ev := range e.got {
		k = append(k, ev.Kind)
	}
	return k
}

func sentTexts(f *fixture) []string {
	var texts []string
	for _, o := range f.ch.Sent() {
		texts = append(texts, string(o.Text))
	}
	return texts
}

func TestCustomerAsksForAPerson(t *testing.T) {
	for _, ask := range []string{"I want to TALK TO A HUMAN", "¿Puedo hablar con una persona, por favor?", "quero falar com um atendente"} {
		t.Run(ask, func(t *testing.T) {
			var ev events
			f := setup(t, func(c *agent.Config) { c.Handoff.Notify = ev.notify }, llmtest.Reply("should not be sent"))
			f.receive(t, text("wamid.1", "51900000070", ask))
			ti := f.waitTurns(t, 1)[0]
			assert.Equal(t, agent.Answered, ti.Outcome)
			assert.Equal(t, "handoff", ti.Reason)
			assert.Zero(t, f.model.Calls(), "the model is not asked")
			assert.Equal(t, []string{agent.DefaultHandoffNotice}, sentTexts(f))
			conv, err := f.store.Conversation(t.Context(), tenant, ti.Conversation)
			require.NoError(t, err)
			assert.Equal(t, store.OwnerHuman, conv.Handoff.Owner)
			assert.Equal(t, "customer_request", conv.Handoff.Reason)
			assert.Equal(t, []agent.HandoffKind{agent.HandedToHuman}, ev.kinds())
		})
	}
}

func TestModelHandsOver(t *testing.T) {
	var ev events
	f := setup(t, func(c *agent.Config) { c.Handoff.Notify = ev.notify },
		llmtest.ToolCalls(llm.ToolCall{ID: "h1", Name: "handoff_to_human", Args: json.RawMessage(`{"reason":"refund over limit"}`)}))
	f.receive(t, text("wamid.1", "51900000071", "I was charged twice, I want my money back"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Answered, ti.Outcome)
	assert.Equal(t, 1, f.model.Calls(), "no answer from the model after the handoff")
	assert.Equal(t, []string{agent.DefaultHandoffNotice}, sentTexts(f))
	conv, err := f.store.Conversation(t.Context(), tenant, ti.Conversation)
	require.NoError(t, err)
	assert.Equal(t, store.OwnerHuman, conv.Handoff.Owner)
	assert.Equal(t, "tool", conv.Handoff.Reason)

	// While the human owns it, customer messages go to the operator.
	f.receive(t, text("wamid.2", "51900000071", "hello?"))
	assert.Equal(t, agent.Skipped, f.waitTurns(t, 1)[0].Outcome)
	assert.Equal(t, []agent.HandoffKind{agent.HandedToHuman, agent.CustomerWrote}, ev.kinds())
	assert.Len(t, f.ch.Sent(), 1, "the AI stays silent")
}

func TestOperatorClaimsRepliesAndReleases(t *testing.T) {
	var ev events
	f := setup(t, func(c *agent.Config) { c.Handoff.Notify = ev.notify })
	f.model.SetDefault(echoLast())
	f.receive(t, text("wamid.1", "51900000072", "hola"))
	ti := f.waitTurns(t, 1)[0]
	conv := ti.Conversation
	ctx := t.Context()

	_, err := f.agent.Reply(ctx, tenant, conv, "ana", "Hola, soy Ana")
	assert.ErrorIs(t, err, agent.ErrNotOwner, "the AI owns it until someone claims it")

	_, err = f.agent.Claim(ctx, tenant, conv, "ana")
	require.NoError(t, err)
	_, err = f.agent.Reply(ctx, tenant, conv, "luis", "Hola")
	assert.ErrorIs(t, err, agent.ErrNotOwner, "another operator must claim first")
	rec, err := f.agent.Reply(ctx, tenant, conv, "ana", "Hola, soy Ana. ¿En qué te ayudo?")
	require.NoError(t, err)
	assert.Equal(t, store.Operator, rec.Role)
	_, err = f.agent.Note(ctx, tenant, conv, "ana", "cliente frecuente")
	require.NoError(t, err)
	_, err = f.agent.Reply(ctx, tenant, conv, "ana", "  ")
	assert.ErrorIs(t, err, agent.ErrEmptyMessage)

	f.receive(t, text("wamid.2", "51900000072", "quiero cambiar mi pedido"))
	assert.Equal(t, agent.Skipped, f.waitTurns(t, 1)[0].Outcome, "the AI is silent while Ana owns it")

	_, err = f.agent.Release(ctx, tenant, conv, "ana", "")
	require.NoError(t, err)
	f.receive(t, text("wamid.3", "51900000072", "gracias"))
	assert.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome, "back with the AI")

	sent := sentTexts(f)
	require.Len(t, sent, 3)
	assert.Equal(t, []string{"re: hola", "Hola, soy Ana. ¿En qué te ayudo?"}, sent[:2])
	reqs := f.model.Requests()
	last := reqs[len(reqs)-1].Messages
	var assistantSaid, userSaid []string
	for _, m := range last {
		for _, p := range m.Parts {
			if m.Role == llm.Assistant {
				assistantSaid = append(assistantSaid, p.Text)
			} else {
				userSaid = append(userSaid, p.Text)
			}
			assert.NotContains(t, p.Text, "cliente frecuente", "notes are never shown to the model")
		}
	}
	assert.Contains(t, assistantSaid, "Hola, soy Ana. ¿En qué te ayudo?", "the model sees what the operator said")
	assert.Equal(t, []string{"hola", "quiero cambiar mi pedido", "gracias"}, userSaid, "and what the customer told the operator")
	hist, err := f.store.History(ctx, tenant, conv, store.HistoryQuery{})
	require.NoError(t, err)
	var op store.Message
	for _, m := range hist {
		if m.Role == store.Operator {
			op = m
		}
	}
	assert.Equal(t, channel.Sent, op.Delivery.State, "operator replies are tracked like any reply")
	assert.Equal(t, []agent.HandoffKind{agent.HandedToHuman, agent.OperatorReplied, agent.CustomerWrote, agent.ReturnedToAI}, ev.kinds())
}

func TestOutOfHoursNotice(t *testing.T) {
	closed := &agent.BusinessHours{Open: 0, Close: 0} // never open
	f := setup(t, func(c *agent.Config) { c.Handoff.Hours = closed; c.Handoff.OutOfHours = "Volvemos mañana a las 9." })
	f.receive(t, text("wamid.1", "51900000073", "hablar con un asesor"))
	f.waitTurns(t, 1)
	assert.Equal(t, []string{"Volvemos mañana a las 9."}, sentTexts(f))
}

func TestBusinessHours(t *testing.T) {
	lima, err := time.LoadLocation("America/Lima")
	if err != nil {
		lima = time.FixedZone("PET", -5*3600)
	}
	weekdays := agent.BusinessHours{Location: lima, Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}, Open: 9 * time.Hour, Close: 18 * time.Hour}
	night := agent.BusinessHours{Location: lima, Days: []time.Weekday{time.Friday}, Open: 22 * time.Hour, Close: 2 * time.Hour}
	at := func(day, hour, minute int) time.Time { return time.Date(2026, 11, day, hour, minute, 0, 0, lima) } // 2026-11-23 is a Monday
	tests := []struct {
		name string
		h    agent.BusinessHours
		t    time.Time
		want bool
	}{
		{"monday morning", weekdays, at(23, 9, 0), true},
		{"monday before opening", weekdays, at(23, 8, 59), false},
		{"monday at closing", weekdays, at(23, 18, 0), false},
		{"sunday", weekdays, at(22, 12, 0), false},
		{"friday night shift", night, at(27, 23, 0), true},
		{"after midnight belongs to friday's shift", night, at(28, 1, 30), true},
		{"saturday after the shift", night, at(28, 2, 0), false},
		{"thursday night", night, at(26, 23, 0), false},
		{"in another zone", weekdays, time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC), true}, // 09:00 in Lima
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.h.Contains(tt.t))
		})
	}
}

func TestHandoffToolNameIsReserved(t *testing.T) {
	own := agent.NewTool("handoff_to_human", "mine", func(context.Context, struct{}) (string, error) { return "", nil })
	_, err := agent.New(agent.Config{Store: newMemory(), Model: llmtest.Echo{}, Channels: []channel.Channel{newRecorder()}, Tools: []agent.Tool{own}})
	assert.ErrorContains(t, err, "built-in handoff tool")
	_, err = agent.New(agent.Config{Store: newMemory(), Model: llmtest.Echo{}, Channels: []channel.Channel{newRecorder()}, Tools: []agent.Tool{own}, Handoff: agent.HandoffConfig{DisableTool: true}})
	assert.NoError(t, err)
}
