package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/store"
)

// operators is the agent's state for the people who take over
// conversations: the subscribers to handoff events, and the conversations
// handed to a human since the agent started, which the idle sweep looks
// at when the store cannot list conversations. The zero value is ready.
type operators struct {
	mu    sync.Mutex
	subs  []subscriber
	next  uint64
	human map[lane]struct{}
}

type subscriber struct {
	id uint64
	f  func(context.Context, HandoffEvent)
}

// Subscribe calls f with every handoff event from now on, after
// HandoffConfig.Notify, until the returned cancel function is called: an
// operator console updates its screens, a bridge alerts a team. Several
// subscribers may be registered; each is called in the order they
// subscribed, synchronously from the goroutine that caused the event (a
// turn, an operator's request, the idle sweep), so it must return quickly
// and must not call back into the agent's operator methods. cancel may be
// called more than once; after it returns, f is not called again unless a
// call is in flight.
func (a *Agent) Subscribe(f func(context.Context, HandoffEvent)) (cancel func()) {
	if f == nil {
		return func() {}
	}
	o := &a.ops
	o.mu.Lock()
	o.next++
	id := o.next
	// Copy on write: publish reads the slice without holding the lock.
	o.subs = append(o.subs[:len(o.subs):len(o.subs)], subscriber{id: id, f: f})
	o.mu.Unlock()
	return func() {
		o.mu.Lock()
		defer o.mu.Unlock()
		for i, s := range o.subs {
			if s.id == id {
				next := make([]subscriber, 0, len(o.subs)-1)
				o.subs = append(append(next, o.subs[:i]...), o.subs[i+1:]...)
				return
			}
		}
	}
}

// publish tells the subscribers about e, and keeps track of the
// conversations humans own for the idle sweep.
func (a *Agent) publish(ctx context.Context, e HandoffEvent) {
	o := &a.ops
	o.mu.Lock()
	l := lane{tenant: e.Tenant, conv: e.Conversation}
	switch e.Kind {
	case HandedToHuman:
		if o.human == nil {
			o.human = make(map[lane]struct{})
		}
		o.human[l] = struct{}{}
	case ReturnedToAI:
		delete(o.human, l)
	}
	subs := o.subs
	o.mu.Unlock()
	for _, s := range subs {
		s.f(ctx, e)
	}
}

// CloseConversation ends the case an operator handled: the conversation
// returns to the AI with reason "closed", and subscribers see a
// [ReturnedToAI] event with that reason. It fails with [ErrNotOwner] unless
// a human owns the conversation and it is unclaimed or claimed by
// operator.
func (a *Agent) CloseConversation(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, operator string) (store.Conversation, error) {
	if operator == "" {
		return store.Conversation{}, errors.New("agent: close: operator is required")
	}
	c, err := a.cfg.Store.Conversation(ctx, tenant, conv)
	if err != nil {
		return c, fmt.Errorf("agent: close: %w", err)
	}
	if c.Handoff.Owner != store.OwnerHuman || (c.Handoff.Operator != "" && c.Handoff.Operator != operator) {
		return c, ErrNotOwner
	}
	return a.Release(ctx, tenant, conv, operator, "closed")
}

// ReplyWindow reports when the customer-service window of conv closes on
// its channel for an operator's reply: after it, only a template message
// reaches the customer (WhatsApp: 24 hours after the customer last wrote;
// Instagram, whose human agents have a longer window
// ([channel.HumanWindowed]): 7 days). ok is false when the channel has no
// such window, is not one of the agent's, or the customer never wrote.
func (a *Agent) ReplyWindow(conv store.Conversation) (closes time.Time, ok bool) {
	return window(a.channels[conv.Address.Channel], conv, true)
}

// Idle sweep limits: how many conversations one sweep returns at most, in
// pages of idlePage, and how many of a conversation's latest records are
// searched for an operator's message or note.
const (
	idlePage      = 100
	idleMaxPages  = 10
	idleRecentLog = 50
)

// sweepIdle returns to the AI, with reason "timeout", the human-owned
// conversations in which nothing happened for HandoffConfig.IdleTimeout
// before now: no customer message, no change of owner, no operator
// message or note. It finds them with the store's
// [store.ConversationLister] when it has one, and otherwise among the
// conversations handed over since the agent started. It reports how many
// it returned.
func (a *Agent) sweepIdle(ctx context.Context, now time.Time) int {
	d := a.cfg.Handoff.IdleTimeout
	if d <= 0 {
		return 0
	}
	cutoff := now.Add(-d)
	var candidates []store.Conversation
	var err error
	if l, ok := store.Capability[store.ConversationLister](a.cfg.Store); ok {
		candidates, err = idleListed(ctx, l, cutoff)
	} else {
		candidates, err = a.idleTracked(ctx, cutoff)
	}
	if err != nil && ctx.Err() == nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "agent: looking for idle conversations failed", slog.Any(logkey.Error, err))
	}
	n := 0
	for _, c := range candidates {
		if ctx.Err() != nil {
			break
		}
		ok, err := a.returnIdle(ctx, c, cutoff)
		if err != nil && ctx.Err() == nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "agent: returning an idle conversation to the AI failed",
				slog.String(logkey.Tenant, string(c.Address.Tenant)), slog.String(logkey.Conversation, string(c.ID)), slog.Any(logkey.Error, err))
		}
		if ok {
			n++
		}
	}
	return n
}

// idleListed lists the human-owned conversations idle since before
// cutoff, of every tenant.
func idleListed(ctx context.Context, l store.ConversationLister, cutoff time.Time) ([]store.Conversation, error) {
	q := store.ConversationQuery{AllTenants: true, Owner: store.OwnedByHuman, IdleBefore: cutoff, Limit: idlePage}
	var out []store.Conversation
	for range idleMaxPages {
		page, err := l.Conversations(ctx, q)
		out = append(out, page...)
		if err != nil || len(page) < idlePage {
			return out, err
		}
		q.After = page[len(page)-1].Cursor()
	}
	return out, nil
}

// idleTracked finds, among the conversations handed to a human since the
// agent started, those still human-owned and idle since before cutoff,
// and forgets those no longer human-owned.
func (a *Agent) idleTracked(ctx context.Context, cutoff time.Time) ([]store.Conversation, error) {
	a.ops.mu.Lock()
	lanes := make([]lane, 0, len(a.ops.human))
	for l := range a.ops.human {
		lanes = append(lanes, l)
	}
	a.ops.mu.Unlock()
	var out []store.Conversation
	var errs []error
	for _, l := range lanes {
		c, err := a.cfg.Store.Conversation(ctx, l.tenant, l.conv)
		switch {
		case errors.Is(err, store.ErrNotFound) || (err == nil && c.Handoff.Owner != store.OwnerHuman):
			a.ops.mu.Lock()
			delete(a.ops.human, l)
			a.ops.mu.Unlock()
		case err != nil:
			errs = append(errs, err)
		case c.LastActivity().Before(cutoff):
			out = append(out, c)
		}
	}
	return out, errors.Join(errs...)
}

// returnIdle returns c to the AI unless an operator wrote in it since
// cutoff or its owner changed since it was listed.
func (a *Agent) returnIdle(ctx context.Context, c store.Conversation, cutoff time.Time) (bool, error) {
	tenant := c.Address.Tenant
	recent, err := a.cfg.Store.History(ctx, tenant, c.ID, store.HistoryQuery{Limit: idleRecentLog})
	if err != nil {
		return false, err
	}
	for _, r := range recent {
		if (r.Role == store.Operator || r.Role == store.Note) && !r.Time.Before(cutoff) {
			return false, nil // the operator is on it
		}
	}
	// Read it again just before: an operator may have claimed it meanwhile.
	cur, err := a.cfg.Store.Conversation(ctx, tenant, c.ID)
	if err != nil {
		return false, err
	}
	if cur.Handoff.Owner != store.OwnerHuman || cur.Handoff.Operator != c.Handoff.Operator ||
		!cur.Handoff.Since.Equal(c.Handoff.Since) || !cur.LastActivity().Before(cutoff) {
		return false, nil
	}
	if _, err := a.Release(ctx, tenant, c.ID, cur.Handoff.Operator, "timeout"); err != nil {
		return false, err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "agent: idle conversation returned to the AI",
		slog.String(logkey.Tenant, string(tenant)), slog.String(logkey.Conversation, string(c.ID)), slog.String(logkey.Reason, "timeout"))
	return true, nil
}
