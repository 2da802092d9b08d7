package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/fold"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// HandoffConfig configures how conversations move between the AI and human
// operators. The zero value hands over when a customer asks for a person
// (in English, Spanish or Portuguese) or when the model calls the built-in
// handoff_to_human tool, and tells the customer with [DefaultHandoffNotice].
type HandoffConfig struct {
	// Phrases are what customers write to ask for a person, matched as
	// whole words, ignoring case and accents. Nil: [DefaultHandoffPhrases].
	Phrases []string
	// DisableTool removes the built-in handoff_to_human tool, with which
	// the model hands over when it cannot help.
	DisableTool bool
	// Notice is told to the customer when a human takes over (default
	// [DefaultHandoffNotice]).
	Notice string
	// Hours are the business hours of the operators; nil means always
	// staffed. Outside them OutOfHours (default
	// [DefaultOutOfHoursNotice]) is told instead of Notice.
	Hours      *BusinessHours
	OutOfHours string
	// Notify, when set, is called when a conversation is handed to a human,
	// for every customer message while a human owns it, and when it returns
	// to the AI: the host alerts its team (webhook, e-mail, chat). It is
	// called synchronously from the turn and must return quickly.
	Notify func(context.Context, HandoffEvent)
	// IdleTimeout returns to the AI, with reason "timeout", a conversation
	// a human owns in which nothing happened for this long: no customer
	// message, no operator message or note, no change of owner. Run
	// looks for such conversations every RecoveryInterval. Zero: never.
	IdleTimeout time.Duration
}

// DefaultHandoffPhrases are the phrases with which customers ask for a
// person, in English, Spanish and Portuguese.
var DefaultHandoffPhrases = []string{
	"talk to a human", "speak to a human", "talk to a person", "speak to a person", "real person",
	"human agent", "talk to an agent", "speak to an agent", "talk to someone", "live agent",
	"customer service representative",
	"hablar con una persona", "hablar con un humano", "hablar con alguien", "hablar con un asesor",
	"hablar con un agente", "agente humano", "persona real", "quiero un humano", "atencion humana",
	"falar com uma pessoa", "falar com um humano", "falar com alguem", "falar com atendente",
	"falar com um atendente", "atendente humano", "pessoa real", "atendimento humano",
}

// Default notices told to the customer.
const (
	DefaultHandoffNotice    = "A person from our team will reply here shortly."
	DefaultOutOfHoursNotice = "A person from our team will reply here when we are back, during business hours."
)

// BusinessHours are the hours operators answer: from Open to Close (times
// of day) on Days, in Location.
type BusinessHours struct {
	// Location is the business's time zone; nil means UTC.
	Location *time.Location
	// Days are the open days; empty means every day.
	Days []time.Weekday
	// Open and Close are offsets from midnight, such as 9*time.Hour and
	// 18*time.Hour. Close before Open spans midnight.
	Open, Close time.Duration
}

// Contains reports whether t falls within the business hours.
func (h BusinessHours) Contains(t time.Time) bool {
	loc := h.Location
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	y, m, d := t.Date()
	since := t.Sub(time.Date(y, m, d, 0, 0, 0, 0, loc))
	day := t.Weekday()
	if h.Close < h.Open && since < h.Close { // after midnight: yesterday's shift
		day = (day + 6) % 7
		since += 24 * time.Hour
	}
	if len(h.Days) > 0 && !containsDay(h.Days, day) {
		return false
	}
	end := h.Close
	if end < h.Open {
		end += 24 * time.Hour
	}
	return since >= h.Open && since < end
}

func containsDay(days []time.Weekday, d time.Weekday) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}

// HandoffKind is what a [HandoffEvent] reports.
type HandoffKind string

// Handoff events.
const (
	HandedToHuman   HandoffKind = "handed_to_human"  // a human now owns the conversation
	CustomerWrote   HandoffKind = "customer_message" // the customer wrote while a human owns it
	ReturnedToAI    HandoffKind = "returned_to_ai"   // the AI answers again
	OperatorReplied HandoffKind = "operator_reply"   // an operator's message went out
)

// HandoffEvent tells the host about a conversation that needs or had a
// human. It holds ids, never message text.
type HandoffEvent struct {
	Kind         HandoffKind
	Tenant       channel.TenantID
	Conversation store.ConversationID
	// Message is the record concerned: the customer's message, or the
	// operator's.
	Message store.MessageID
	// Reason says why the conversation was handed over ("customer_request",
	// "tool", "operator_claim", "rule") or returned ("operator_release",
	// "closed").
	Reason   string
	Operator string
}

// The built-in tool with which the model hands a conversation to a human.
const handoffTool = "handoff_to_human"

var handoffToolDef = llm.Tool{
	Name:        handoffTool,
	Description: "Hand the conversation to a human operator when the customer asks for a person, is upset, or needs something you cannot do. The customer is told a person will reply; do not answer after calling it.",
	Parameters:  json.RawMessage(`{"type":"object","properties":{"reason":{"type":"string","description":"Why a human is needed, in a few words, without personal data."}},"additionalProperties":false}`),
}

// wantsHuman reports whether a customer message of msgs asks for a person.
func (a *Agent) wantsHuman(msgs []store.Message) bool {
	phrases := a.cfg.Handoff.Phrases
	if phrases == nil {
		phrases = DefaultHandoffPhrases
	}
	for _, m := range msgs {
		if m.Inbound == nil || m.Inbound.Type != channel.TypeText {
			continue
		}
		for _, p := range phrases {
			if fold.Contains(string(m.Inbound.Text), p) {
				return true
			}
		}
	}
	return false
}

// handOver gives the turn's conversation to a human and tells the customer.
func (t *turn) handOver(reason string) outcome {
	a := t.a
	conv, err := a.cfg.Store.SetHandoff(t.ctx, t.m.Tenant, t.conv.ID, store.Handoff{Owner: store.OwnerHuman, Reason: reason, Since: time.Now()})
	if err != nil {
		return fail("store", err)
	}
	t.conv = conv
	a.notify(t.ctx, HandoffEvent{Kind: HandedToHuman, Tenant: t.m.Tenant, Conversation: conv.ID, Message: t.m.ID, Reason: reason})
	if _, err := t.deliver(store.System, nil, channel.Outbound{To: conv.Address, Text: channel.Text(a.handoffNotice(time.Now()))}); err != nil && !errors.Is(err, errAbandoned) {
		a.log.LogAttrs(t.ctx, slog.LevelWarn, "agent: sending the handoff notice failed",
			slog.String(logkey.Tenant, string(t.m.Tenant)), slog.String(logkey.Conversation, string(conv.ID)), slog.Any(logkey.Error, err))
	}
	return outcome{kind: Answered, reason: "handoff"}
}

func (a *Agent) handoffNotice(now time.Time) string {
	h := a.cfg.Handoff
	if h.Hours != nil && !h.Hours.Contains(now) {
		return cmp.Or(h.OutOfHours, DefaultOutOfHoursNotice)
	}
	return cmp.Or(h.Notice, DefaultHandoffNotice)
}

func (a *Agent) notify(ctx context.Context, e HandoffEvent) {
	if f := a.cfg.Handoff.Notify; f != nil {
		f(ctx, e)
	}
	a.publish(ctx, e)
}

// Errors of the operator API.
var (
	// ErrNotOwner: the conversation is owned by the AI or by another
	// operator.
	ErrNotOwner = errors.New("agent: the conversation is not owned by this operator")
	// ErrEmptyMessage: there is nothing to send.
	ErrEmptyMessage = errors.New("agent: empty message")
)

// Claim gives the conversation to operator: from now on the AI does not
// answer it, and the customer's messages are for the operator. Claiming a
// conversation another operator holds takes it over.
func (a *Agent) Claim(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, operator string) (store.Conversation, error) {
	if operator == "" {
		return store.Conversation{}, errors.New("agent: claim: operator is required")
	}
	c, err := a.cfg.Store.SetHandoff(ctx, tenant, conv, store.Handoff{Owner: store.OwnerHuman, Operator: operator, Reason: "operator_claim", Since: time.Now()})
	if err != nil {
		return c, fmt.Errorf("agent: claim: %w", err)
	}
	a.notify(ctx, HandoffEvent{Kind: HandedToHuman, Tenant: tenant, Conversation: conv, Reason: "operator_claim", Operator: operator})
	return c, nil
}

// Release returns the conversation to the AI. reason is recorded
// ("operator_release" when empty; "closed" when the operator closes the
// case). Messages the customer sent while the human owned it are not
// answered by the AI afterwards: they were the operator's.
func (a *Agent) Release(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, operator, reason string) (store.Conversation, error) {
	reason = cmp.Or(reason, "operator_release")
	c, err := a.cfg.Store.SetHandoff(ctx, tenant, conv, store.Handoff{Owner: store.OwnerAI, Operator: operator, Reason: reason, Since: time.Now()})
	if err != nil {
		return c, fmt.Errorf("agent: release: %w", err)
	}
	a.notify(ctx, HandoffEvent{Kind: ReturnedToAI, Tenant: tenant, Conversation: conv, Reason: reason, Operator: operator})
	return c, nil
}

// Reply sends text from operator to the customer of the conversation,
// through its channel, recorded with role store.Operator like any reply
// (delivery statuses update it). The operator must own the conversation.
// The message is marked as written by a person (channel.Outbound.Human),
// so a channel with a longer window for human agents
// ([channel.HumanWindowed], Instagram: 7 days) sends it under that
// window. Outside the channel's customer-service window, Config.WindowTemplate is
// sent instead, or the reply fails with channel.ErrWindowClosed.
func (a *Agent) Reply(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, operator string, text string) (store.Message, error) {
	t, err := a.operatorTurn(ctx, tenant, conv, operator, text)
	if err != nil {
		return store.Message{}, err
	}
	rec, err := t.deliver(store.Operator, nil, channel.Outbound{To: t.conv.Address, Text: channel.Text(text), Human: true})
	if err != nil {
		return rec, fmt.Errorf("agent: reply: %w", err)
	}
	a.notify(ctx, HandoffEvent{Kind: OperatorReplied, Tenant: tenant, Conversation: conv, Message: rec.ID, Operator: operator})
	return rec, nil
}

// Note records an internal note of operator on the conversation. Notes are
// never sent to the customer nor shown to the model.
func (a *Agent) Note(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, operator string, text string) (store.Message, error) {
	if strings.TrimSpace(text) == "" {
		return store.Message{}, ErrEmptyMessage
	}
	if operator == "" {
		return store.Message{}, errors.New("agent: note: operator is required")
	}
	rec, err := a.cfg.Store.Append(ctx, store.Message{Tenant: tenant, Conversation: conv, Role: store.Note,
		Outbound: &channel.Outbound{Text: channel.Text(text)}})
	if err != nil {
		return rec, fmt.Errorf("agent: note: %w", err)
	}
	return rec, nil
}

// operatorTurn prepares the sending of an operator's message: the
// conversation must be owned by operator and its channel known.
func (a *Agent) operatorTurn(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, operator, text string) (*turn, error) {
	if strings.TrimSpace(text) == "" {
		return nil, ErrEmptyMessage
	}
	c, err := a.cfg.Store.Conversation(ctx, tenant, conv)
	if err != nil {
		return nil, fmt.Errorf("agent: reply: %w", err)
	}
	if c.Handoff.Owner != store.OwnerHuman || (c.Handoff.Operator != "" && c.Handoff.Operator != operator) || operator == "" {
		return nil, ErrNotOwner
	}
	ch := a.channels[c.Address.Channel]
	if ch == nil {
		return nil, fmt.Errorf("agent: reply: no channel named %q", c.Address.Channel)
	}
	// An operator's message starts its own turn (Turn 0: the store uses the
	// record's id), after everything recorded so far.
	return &turn{a: a, ctx: ctx, conv: c, ch: ch, m: store.Message{Tenant: tenant, Conversation: conv}, operator: true}, nil
}
