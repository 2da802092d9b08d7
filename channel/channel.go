package channel

import (
	"context"
	"io"
	"time"
)

// Name identifies a messaging channel. It is part of every [Address] and of
// the idempotency key of every inbound message.
type Name string

// The channels wagent ships adapters for. Third-party adapters pick their own
// lower-case name.
const (
	WhatsApp  Name = "whatsapp"
	WebWidget Name = "webwidget"
	Instagram Name = "instagram"
)

// TenantID identifies the business a message belongs to: the WhatsApp
// phone_number_id, the widget's site key, the Instagram account id. Every
// record wagent keeps carries one, and no query crosses tenants.
type TenantID string

// MessageID is a message identifier assigned by the channel's provider (a
// WhatsApp wamid, an Instagram mid, a widget client id). Together with the
// channel and the tenant it is the idempotency key of an inbound message.
type MessageID string

// Address names one party on one channel for one tenant. For an inbound
// message it is the sender; for an [Outbound] message, the recipient.
type Address struct {
	Channel Name     `json:"channel"`
	Tenant  TenantID `json:"tenant"`
	User    UserID   `json:"user"`
}

// IsZero reports whether a is the zero Address.
func (a Address) IsZero() bool { return a == Address{} }

// Channel sends messages to the users of one messaging service.
//
// Implementations must be safe for concurrent use: the agent sends replies
// for many conversations at once. Messages to one [Address] are sent one at a
// time and in order by the agent; a channel must not reorder them.
type Channel interface {
	// Name returns the channel's name, the value of Address.Channel for every
	// address this channel serves. It must not change over the channel's life.
	Name() Name

	// Send delivers out to out.To and returns the provider's ids for what it
	// sent: one id normally, several when the channel had to split the
	// message (WhatsApp text over 4096 characters). A nil error means the
	// provider accepted the message, not that it was delivered; delivery is
	// reported later as a [Status].
	//
	// ctx bounds the whole call including the channel's own retries. Send
	// validates out before any request and returns an error wrapping
	// [ErrInvalidMessage] when it breaks the channel's limits, or
	// [ErrUnsupported] when the channel cannot send that kind of message.
	// Provider failures wrap one of [ErrWindowClosed], [ErrRateLimited],
	// [ErrUnavailable], [ErrAuth] or [ErrUndeliverable]; [Retryable] tells
	// whether trying again later may succeed.
	Send(ctx context.Context, out Outbound) (SendResult, error)
}

// SendResult is the result of a successful [Channel.Send].
type SendResult struct {
	// IDs are the provider's ids of the messages sent, in order.
	IDs []MessageID
	// Attempts is how many requests the send took, the channel's own
	// retries included; 0 means 1.
	Attempts int
}

// Receiver takes what a channel's webhook or socket received. The agent
// implements it; a channel's inbound handler calls it.
type Receiver interface {
	// Receive records every message and status of in. When it returns nil,
	// each message has been durably recorded (or recognized as a duplicate
	// of one recorded before) and the channel may acknowledge the delivery to
	// its provider; processing continues asynchronously. On error, the
	// channel must not acknowledge, so that the provider delivers again.
	//
	// ctx bounds the recording only, never the processing that follows.
	// Receive is safe for concurrent use. It returns an error wrapping
	// [ErrClosed] when the receiver no longer accepts input.
	Receive(ctx context.Context, in Inbound) error
}

// EchoRecorder is implemented by receivers that record echoes: messages
// the business sent from another app or inbox, which the provider reports
// back ([Message.Echo] set). The agent implements it. A channel's webhook
// that reports echoes hands each to its receiver's RecordEcho, when the
// receiver has one, before it acknowledges the delivery; on error it does
// not acknowledge, so that the provider delivers again. Recording an echo
// twice records it once; an echo is never answered by the AI.
type EchoRecorder interface {
	RecordEcho(ctx context.Context, m Message) error
}

// Inbound is what one delivery from a provider carries: a webhook POST may
// batch many messages and statuses.
type Inbound struct {
	Messages []Message
	Statuses []Status
}

// The optional capabilities below are discovered by type assertion on a
// [Channel]. A published interface never gains a method; new capabilities are
// added as new interfaces.

// ReadMarker is implemented by channels that can show the user that their
// message was read.
type ReadMarker interface {
	// MarkRead marks the message id received from the user at to as read.
	// It is best-effort: the agent logs a failure and goes on.
	MarkRead(ctx context.Context, to Address, id MessageID) error
}

// TypingIndicator is implemented by channels that can show that a reply is
// being written.
type TypingIndicator interface {
	// Typing shows a typing indicator to to while a reply to the message id
	// is being prepared. On WhatsApp this also marks id as read, so the agent
	// does not call [ReadMarker.MarkRead] on channels that implement both.
	// The indicator disappears when the reply is sent or after a
	// channel-specific time (WhatsApp: 25 s); callers may call it again.
	Typing(ctx context.Context, to Address, id MessageID) error
}

// Windowed is implemented by channels that accept free-form messages only
// within a customer-service window after the user's latest message
// (WhatsApp and Instagram: 24 hours). Outside it the agent does not attempt
// a free-form reply: it sends its configured template, or records the reply
// as failed with [ErrWindowClosed].
type Windowed interface {
	// ServiceWindow returns the window's length. It must not change.
	ServiceWindow() time.Duration
}

// HumanWindowed is implemented by [Windowed] channels that give messages a
// person wrote ([Outbound.Human] set) a longer window than automated ones
// (Instagram: 7 days, with the HUMAN_AGENT message tag). The agent sets
// Human on operators' replies and holds them to this window instead.
type HumanWindowed interface {
	Windowed
	// HumanAgentWindow returns the window of messages with Outbound.Human
	// set, no shorter than ServiceWindow. It must not change.
	HumanAgentWindow() time.Duration
}

// MediaFetcher is implemented by channels whose inbound media must be
// downloaded from the provider.
type MediaFetcher interface {
	// FetchMedia opens the content of m, received from tenant. The caller
	// must close the returned reader. Implementations cap the size they
	// read and verify the checksum when the provider gives one, returning an
	// error wrapping [ErrInvalidMessage] on a mismatch.
	FetchMedia(ctx context.Context, tenant TenantID, m Media) (io.ReadCloser, error)
}
