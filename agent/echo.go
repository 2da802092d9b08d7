package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/store"
)

var _ channel.EchoRecorder = (*Agent)(nil)

// RecordEcho implements [channel.EchoRecorder]: it records m, an echo of a
// message the business sent from another app or inbox (a person answering
// in the Instagram app), in the conversation with m.From, as an operator's
// message already sent, so that the history the model and the console see
// has it. The AI never answers an echo. An echo of a message this agent
// sent, or one recorded before (a redelivery), is recognized by its
// provider id and recorded nothing more.
func (a *Agent) RecordEcho(ctx context.Context, m channel.Message) error {
	if m.ID == "" || m.From.Channel == "" || m.From.Tenant == "" || m.From.User == "" {
		return fmt.Errorf("agent: echo: the message id and the customer's address are required: %w", store.ErrInvalid)
	}
	// A Pending update changes nothing: it only finds the record.
	_, err := a.cfg.Store.UpdateDelivery(ctx, m.From.Tenant, store.DeliveryUpdate{ProviderID: m.ID, State: channel.Pending})
	switch {
	case err == nil:
		return nil // sent by this agent, or recorded already
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("agent: echo: %w", err)
	}
	conv, err := a.cfg.Store.OpenConversation(ctx, m.From)
	if err != nil {
		return fmt.Errorf("agent: echo: %w", err)
	}
	out := &channel.Outbound{To: m.From, Text: m.Text, Media: m.Media, Human: true}
	rec, err := a.cfg.Store.Append(ctx, store.Message{
		Tenant: m.From.Tenant, Conversation: conv.ID, Role: store.Operator, Time: m.Time,
		Outbound: out, ProviderID: m.ID,
		Delivery: store.Delivery{State: channel.Sent, UpdatedAt: m.Time},
	})
	if err != nil {
		return fmt.Errorf("agent: echo: %w", err)
	}
	a.log.LogAttrs(ctx, slog.LevelDebug, "agent: echo recorded",
		slog.String(logkey.Tenant, string(m.From.Tenant)), slog.String(logkey.Conversation, string(conv.ID)),
		slog.Int64(logkey.Message, int64(rec.ID)))
	return nil
}
