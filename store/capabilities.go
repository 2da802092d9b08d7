package store

import (
	"context"
	"time"

	"github.com/wagent/wagent/channel"
)

// The interfaces below are optional capabilities of a [ConversationStore],
// discovered by type assertion. The privacy engine needs [Purger], [Eraser]
// and [Exporter]; several agent instances sharing one store need [Leaser].
// Each has its conformance suite in store/storetest. Like ConversationStore,
// every method is safe for concurrent use, bounded by ctx, scoped by tenant,
// and returns [ErrClosed] after the store is closed.

// Purger deletes or strips old records, for retention policies.
type Purger interface {
	// Purge applies q to at most q.Limit records and reports how many it
	// changed and whether more remain, so that a runner can work in batches
	// with pauses between them and resume after a restart. Records of
	// subjects in q.Except are never touched. Inbound records still pending
	// are never touched: they have not been answered yet.
	Purge(ctx context.Context, q PurgeQuery) (PurgeResult, error)
}

// PurgeScope is what a purge removes.
type PurgeScope uint8

// Purge scopes.
const (
	// PurgeContent replaces records by [Message.WithoutContent]: what was
	// said goes, ids, times and states stay (metadata-only mode).
	PurgeContent PurgeScope = iota + 1
	// PurgeMedia removes media references only.
	PurgeMedia
	// PurgeRecords deletes records entirely. Conversations and subjects
	// stay until their subject is erased.
	PurgeRecords
)

// DefaultPurgeLimit is the batch size of a PurgeQuery with a zero Limit.
const DefaultPurgeLimit = 1000

// PurgeQuery selects the records a purge applies to: those of Tenant (every
// tenant when empty) and Channel (every channel when empty) whose Time is
// before Before and that still hold what Scope removes.
type PurgeQuery struct {
	Tenant  channel.TenantID
	Channel channel.Name
	Scope   PurgeScope
	Before  time.Time
	// Except lists subjects whose records must be kept: legal holds.
	Except []SubjectID
	// Limit caps the records changed by one call (default
	// [DefaultPurgeLimit]).
	Limit int
}

// PurgeResult is the outcome of one [Purger.Purge] call.
type PurgeResult struct {
	// Records is how many records were changed or deleted.
	Records int
	// More reports that records matching the query remain.
	More bool
}

// Eraser deletes everything a store holds about a data subject, for
// erasure requests.
type Eraser interface {
	// Erase deletes the subject, its conversations and all their records,
	// and indexes that could find them (provider ids, phone numbers). It is
	// idempotent: erasing an erased or unknown subject erases nothing and
	// returns a zero Erased with a nil error.
	Erase(ctx context.Context, tenant channel.TenantID, subject SubjectID) (Erased, error)
}

// Erased counts what an erasure deleted. It holds no personal data, so it
// can be kept as the receipt of the erasure.
type Erased struct {
	Subjects      int `json:"subjects"`
	Conversations int `json:"conversations"`
	Messages      int `json:"messages"`
}

// Exporter returns everything a store holds about a data subject, for
// access and portability requests.
type Exporter interface {
	// Export returns the subject, its conversations and all their records,
	// oldest first. An unknown subject is [ErrNotFound].
	Export(ctx context.Context, tenant channel.TenantID, subject SubjectID) (Export, error)
}

// Export is a data subject's data as a store holds it.
type Export struct {
	Subject       Subject        `json:"subject"`
	Conversations []Conversation `json:"conversations"`
	// Messages are ordered by conversation, then by (Turn, ID).
	Messages []Message `json:"messages"`
}

// Leaser is implemented by stores that several agent instances share: a
// conversation's pending messages are processed only by the instance that
// holds its lease, which keeps each conversation in order across instances
// and lets the others take over the work of an instance that crashed once
// its lease expires.
type Leaser interface {
	// Lease grants owner the conversation until now plus d, unless another
	// owner holds a lease that has not expired; the holder renews it by
	// calling again. It reports whether owner holds the lease afterwards.
	Lease(ctx context.Context, tenant channel.TenantID, conv ConversationID, owner string, d time.Duration) (bool, error)
	// Release ends owner's lease on the conversation early. Releasing a
	// lease one does not hold changes nothing.
	Release(ctx context.Context, tenant channel.TenantID, conv ConversationID, owner string) error
	// LeasePending leases to owner, for d, up to limit conversations that
	// have pending inbound records and no unexpired lease of another owner,
	// those with the oldest pending record first, and returns them. Calls
	// racing from several instances get disjoint sets.
	LeasePending(ctx context.Context, owner string, d time.Duration, limit int) ([]Lease, error)
}

// Lease is a conversation leased to an owner.
type Lease struct {
	Tenant       channel.TenantID
	Conversation ConversationID
	Owner        string
	Until        time.Time
}

// WithoutContent returns m with what was said removed and what is needed to
// account for it kept: ids, times, role, turn, the sender's address, the
// message type, provider error codes, and the processing and delivery
// states. Inbound keeps ID, From, Time, Type and Errors; Parts are dropped;
// Outbound keeps To and Correlation. ContentRemoved is set. Every store
// strips content with this one rule.
func (m Message) WithoutContent() Message {
	if m.Inbound != nil {
		m.Inbound = &channel.Message{
			ID:     m.Inbound.ID,
			From:   m.Inbound.From,
			Time:   m.Inbound.Time,
			Type:   m.Inbound.Type,
			Errors: append([]channel.ErrorInfo(nil), m.Inbound.Errors...),
		}
	}
	m.Parts = nil
	if m.Outbound != nil {
		m.Outbound = &channel.Outbound{To: m.Outbound.To, Correlation: m.Outbound.Correlation}
	}
	m.ContentRemoved = true
	return m
}

// WithoutMedia returns m with its media references removed (inbound and
// outbound media, template header media, media parts), and reports whether
// there were any.
func (m Message) WithoutMedia() (Message, bool) {
	m = m.Clone()
	removed := false
	if m.Inbound != nil && m.Inbound.Media != nil {
		m.Inbound.Media, removed = nil, true
	}
	if o := m.Outbound; o != nil {
		if o.Media != nil {
			o.Media, removed = nil, true
		}
		if o.Template != nil && o.Template.Header != nil && o.Template.Header.Media != nil {
			o.Template.Header.Media, removed = nil, true
		}
	}
	for i := range m.Parts {
		if p := &m.Parts[i]; p.Data != nil || p.URL != "" {
			p.Data, p.URL, removed = nil, "", true
		}
	}
	return m, removed
}

// ProcessingBatcher is implemented by stores that set the processing state
// of several inbound records in one durable write. The agent records the
// outcome of a turn that answered several messages at once with it: one
// commit for the turn instead of one per message.
type ProcessingBatcher interface {
	// SetProcessingBatch applies each update, in order, to the inbound
	// record of tenant it names, as [ConversationStore.SetProcessing]
	// does, atomically: every update or none. Records that do not exist
	// (erased or purged since they were read, or another tenant's) are
	// passed by and their ids returned, in the order given; that is no
	// error. A record that is not inbound is [ErrInvalid], and then
	// nothing changes. An empty batch changes nothing.
	SetProcessingBatch(ctx context.Context, tenant channel.TenantID, updates []ProcessingUpdate) (missing []MessageID, err error)
}

// ProcessingUpdate is one update of a [ProcessingBatcher] batch.
type ProcessingUpdate struct {
	ID         MessageID
	Processing Processing
}
