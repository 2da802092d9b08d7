package store

import (
	"context"
	"fmt"
	"time"

	"github.com/wagent/wagent/channel"
)

// ConversationLister is implemented by stores that can list conversations:
// the queue of an operator console, and the sweep that returns idle
// human-owned conversations to the AI. Its conformance suite is
// storetest.RunLister. Like [ConversationStore], Conversations is safe for
// concurrent use, bounded by ctx, and returns [ErrClosed] after the store
// is closed.
type ConversationLister interface {
	// Conversations returns the conversations that match q, most recent
	// activity first ([Conversation.LastActivity], latest first), ties
	// broken by ID in an order the store chooses and keeps, at most
	// q.Limit of them, starting after q.After. Paging through a listing
	// with the [Conversation.Cursor] of the last conversation of each page
	// returns every conversation that matched once; one whose activity
	// changes between pages moves, and may be missed or seen twice.
	//
	// It never returns a conversation of another tenant than q.Tenant
	// unless q.AllTenants is set. A query that fails [ConversationQuery.Check]
	// is [ErrInvalid].
	Conversations(ctx context.Context, q ConversationQuery) ([]Conversation, error)
}

// OwnerFilter selects conversations by who owns them.
type OwnerFilter uint8

// Owner filters. The zero value matches every conversation.
const (
	AnyOwner     OwnerFilter = iota // owned by the AI or a human
	OwnedByAI                       // Handoff.Owner is OwnerAI
	OwnedByHuman                    // Handoff.Owner is OwnerHuman
)

// DefaultConversationLimit is the page size of a ConversationQuery with a
// zero Limit.
const DefaultConversationLimit = 100

// ConversationQuery selects the conversations of
// [ConversationLister.Conversations]. Every condition set must hold.
type ConversationQuery struct {
	// Tenant is the tenant whose conversations are listed. It is required
	// unless AllTenants is set.
	Tenant channel.TenantID
	// AllTenants lists the conversations of every tenant, for work the
	// engine does across tenants (the idle sweep); Tenant must then be
	// empty. It is never set on behalf of an operator.
	AllTenants bool
	// Owner filters by owner.
	Owner OwnerFilter
	// Operator, when set, matches the conversations whose Handoff.Operator
	// is Operator.
	Operator string
	// Unclaimed matches the conversations without an operator
	// (Handoff.Operator empty); it excludes Operator.
	Unclaimed bool
	// IdleBefore, when set, matches the conversations whose last activity
	// is before it.
	IdleBefore time.Time
	// Limit is the most conversations to return (default
	// [DefaultConversationLimit]).
	Limit int
	// After, when set, is the cursor of the last conversation of the
	// previous page: the listing continues after it.
	After ConversationCursor
}

// ConversationCursor is a position in a listing of conversations: the
// last activity and the id of a conversation.
type ConversationCursor struct {
	Activity time.Time      `json:"activity"`
	ID       ConversationID `json:"id"`
}

// IsZero reports whether c is the zero cursor, the start of a listing.
func (c ConversationCursor) IsZero() bool { return c.ID == "" && c.Activity.IsZero() }

// LastActivity is when something last happened in the conversation that
// stores know of: the latest of CreatedAt, LastInboundAt (the customer
// wrote) and Handoff.Since (its owner changed). Listings are ordered by it.
func (c Conversation) LastActivity() time.Time {
	t := c.CreatedAt
	if c.LastInboundAt.After(t) {
		t = c.LastInboundAt
	}
	if c.Handoff.Since.After(t) {
		t = c.Handoff.Since
	}
	return t
}

// Cursor returns the position of c in a listing, to continue after it.
func (c Conversation) Cursor() ConversationCursor {
	return ConversationCursor{Activity: c.LastActivity(), ID: c.ID}
}

// Check reports whether q is a valid query: a tenant, or AllTenants
// without one; a known Owner; not both Operator and Unclaimed; a Limit
// that is not negative; a cursor with an id when it has a time. The error
// wraps [ErrInvalid]. Stores call it first, so that every store refuses
// the same queries.
func (q ConversationQuery) Check() error {
	switch {
	case q.Tenant == "" && !q.AllTenants:
		return fmt.Errorf("store: conversation query without a tenant: %w", ErrInvalid)
	case q.Tenant != "" && q.AllTenants:
		return fmt.Errorf("store: conversation query with a tenant and AllTenants: %w", ErrInvalid)
	case q.Owner > OwnedByHuman:
		return fmt.Errorf("store: conversation query with unknown owner filter %d: %w", q.Owner, ErrInvalid)
	case q.Operator != "" && q.Unclaimed:
		return fmt.Errorf("store: conversation query with an operator and Unclaimed: %w", ErrInvalid)
	case q.Limit < 0:
		return fmt.Errorf("store: conversation query with a negative limit: %w", ErrInvalid)
	case !q.After.IsZero() && q.After.ID == "":
		return fmt.Errorf("store: conversation cursor without an id: %w", ErrInvalid)
	}
	return nil
}

// Matches reports whether c meets the conditions of q, the cursor and the
// limit aside.
func (q ConversationQuery) Matches(c Conversation) bool {
	switch {
	case !q.AllTenants && c.Address.Tenant != q.Tenant:
		return false
	case q.Owner == OwnedByAI && c.Handoff.Owner != OwnerAI:
		return false
	case q.Owner == OwnedByHuman && c.Handoff.Owner != OwnerHuman:
		return false
	case q.Operator != "" && c.Handoff.Operator != q.Operator:
		return false
	case q.Unclaimed && c.Handoff.Operator != "":
		return false
	case !q.IdleBefore.IsZero() && !c.LastActivity().Before(q.IdleBefore):
		return false
	}
	return true
}

// PageSize returns the number of conversations q asks for: Limit, or
// [DefaultConversationLimit] when it is zero.
func (q ConversationQuery) PageSize() int {
	if q.Limit > 0 {
		return q.Limit
	}
	return DefaultConversationLimit
}
