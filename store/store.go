package store

import (
	"context"
	"errors"

	"github.com/wagent/wagent/channel"
)

// Sentinel errors returned by stores, possibly wrapped.
var (
	// ErrNotFound: no such record in this tenant. A record that exists in
	// another tenant is reported as not found too.
	ErrNotFound = errors.New("store: not found")
	// ErrInvalid: the argument breaks the contract (empty tenant, missing
	// provider id, wrong role); the store did not change.
	ErrInvalid = errors.New("store: invalid argument")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store: closed")
)

// ConversationStore keeps conversations, their messages and the delivery
// and processing state of each message. It is the ConversationStore
// contract of wagent; store/storetest checks an implementation clause by
// clause.
//
// Every method is safe for concurrent use. ctx bounds the call: when it is
// done before the store commits, the method returns an error wrapping
// ctx.Err() and changes nothing. After the store is closed, methods return
// an error wrapping [ErrClosed].
//
// Every record belongs to a tenant, and every method is scoped by one: a
// store never returns or changes a record of another tenant than the one
// asked for, and reports such records as [ErrNotFound].
//
// Values passed in are copied; values returned belong to the caller. A store
// never keeps or shares memory with its callers.
type ConversationStore interface {
	// AppendInbound records m, received from m.From, exactly once. The
	// idempotency key is (m.From.Channel, m.From.Tenant, m.ID): when a message
	// with the key was recorded before, AppendInbound changes nothing and
	// returns the earlier record with Duplicate set, also when many calls
	// with the same key race. Otherwise it creates the subject and
	// conversation of m.From if needed, updates the subject's profile from
	// m.Sender and the conversation's LastInboundAt (the latest message time
	// seen, never moving backwards), and records m with role [User], Time
	// m.Time (now when zero), Turn equal to its ID and processing state
	// [ProcessPending]. When it returns nil the record is durable.
	//
	// Stores keep times to at least microsecond precision, and the JSON
	// fields of m (Raw, Reply.Data) as equivalent JSON.
	//
	// It returns [ErrInvalid] when m.ID or any field of m.From is empty.
	AppendInbound(ctx context.Context, m channel.Message) (Appended, error)

	// Append records a message that is not an inbound one: an assistant
	// reply, tool results, an operator's message or note. It assigns ID and,
	// when zero, Time (now) and Turn (the new ID), keeps every other field
	// as given, and returns the record. A non-zero Turn names a record of
	// the same conversation (the message being answered). It returns
	// [ErrInvalid] for role [User], an unknown role or an empty tenant, and
	// [ErrNotFound] when the conversation is not the tenant's.
	Append(ctx context.Context, m Message) (Message, error)

	// Message returns the record with the given id.
	Message(ctx context.Context, tenant channel.TenantID, id MessageID) (Message, error)

	// History returns the conversation's records whose Turn is at most
	// q.Through (all when zero), at most q.Limit of them (all when zero):
	// the last ones, returned oldest first, ordered by (Turn, ID).
	History(ctx context.Context, tenant channel.TenantID, conv ConversationID, q HistoryQuery) ([]Message, error)

	// Pending returns inbound records still in state [ProcessPending],
	// ordered by ID, filtered by q. Work that was recorded but not finished
	// is found here after a restart. A query naming a conversation without
	// its tenant is [ErrInvalid].
	Pending(ctx context.Context, q PendingQuery) ([]Message, error)

	// SetProcessing replaces the processing state of an inbound record. It
	// returns [ErrInvalid] when the record is not an inbound one.
	SetProcessing(ctx context.Context, tenant channel.TenantID, id MessageID, p Processing) error

	// UpdateDelivery merges u into the delivery state of an outbound record
	// with [Delivery.Merge], atomically, so that concurrent and out-of-order
	// updates never move the state backwards. The record is the one with ID
	// u.ID when that is set, otherwise the one of the tenant whose
	// ProviderID is u.ProviderID; neither set, or an inbound record, is
	// [ErrInvalid]. A record without a provider id takes u.ProviderID; one
	// that has a provider id keeps it. It returns the updated record.
	UpdateDelivery(ctx context.Context, tenant channel.TenantID, u DeliveryUpdate) (Message, error)

	// OpenConversation returns the conversation with addr, creating it (and
	// its subject) when there is none.
	OpenConversation(ctx context.Context, addr channel.Address) (Conversation, error)

	// Conversation returns the conversation with the given id.
	Conversation(ctx context.Context, tenant channel.TenantID, id ConversationID) (Conversation, error)

	// SetHandoff replaces who owns the conversation and returns it updated.
	SetHandoff(ctx context.Context, tenant channel.TenantID, id ConversationID, h Handoff) (Conversation, error)

	// Subject returns the data subject known at addr: the one whose address
	// is addr, or else the one on addr's channel and tenant whose profile
	// phone equals addr.User, so that a person can be found by phone number
	// when the channel keys them by another id.
	Subject(ctx context.Context, addr channel.Address) (Subject, error)
}
