package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
)

// ConversationID identifies a conversation. Stores assign it; it is opaque,
// non-empty and unique within the store.
type ConversationID string

// SubjectID identifies a data subject, the person behind a channel
// identity. Stores assign it; it is opaque, non-empty and unique within the
// store.
type SubjectID string

// MessageID identifies a message record. Stores assign it: positive, unique
// within the store, and increasing in the order records of one conversation
// were made. It is not the provider's id ([channel.MessageID]).
type MessageID int64

// Conversation is the thread between a business (tenant) and one user on one
// channel.
type Conversation struct {
	ID ConversationID `json:"id"`
	// Address is the user's address; Address.Tenant is the conversation's
	// tenant.
	Address channel.Address `json:"address"`
	Subject SubjectID       `json:"subject"`
	// Handoff tells who answers the user: the AI or a human operator.
	Handoff Handoff `json:"handoff"`
	// CreatedAt is when the conversation was first recorded.
	CreatedAt time.Time `json:"created_at"`
	// LastInboundAt is the time of the user's latest message. Channels with a
	// customer-service window (WhatsApp, 24 hours) measure it from here.
	LastInboundAt time.Time `json:"last_inbound_at,omitzero"`
}

// Owner is who answers a conversation.
type Owner uint8

// Owners. The zero value is the AI.
const (
	OwnerAI Owner = iota
	OwnerHuman
)

// String returns "ai" or "human".
func (o Owner) String() string {
	switch o {
	case OwnerAI:
		return "ai"
	case OwnerHuman:
		return "human"
	}
	return fmt.Sprintf("Owner(%d)", uint8(o))
}

// MarshalText implements [encoding.TextMarshaler].
func (o Owner) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (o *Owner) UnmarshalText(b []byte) error {
	switch string(b) {
	case "ai":
		*o = OwnerAI
	case "human":
		*o = OwnerHuman
	default:
		return fmt.Errorf("store: unknown owner %q", b)
	}
	return nil
}

// Handoff is the ownership state of a conversation. While a human owns it,
// the agent does not answer.
type Handoff struct {
	Owner Owner `json:"owner"`
	// Operator identifies the human who claimed the conversation, if any.
	Operator string `json:"operator,omitempty"`
	// Reason says why ownership last changed ("customer_request", "tool",
	// "operator_claim", "timeout"); it never holds message text.
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since,omitzero"`
}

// Subject is a data subject: the person a channel identity belongs to, as a
// business knows them. Privacy requests (access, export, erasure) start from
// a subject.
type Subject struct {
	ID      SubjectID       `json:"id"`
	Address channel.Address `json:"address"`
	// Profile is the latest profile the channel reported.
	Profile   channel.Profile `json:"profile,omitzero"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// Role is who a message record is from.
type Role string

// Roles of message records.
const (
	User      Role = "user"      // the customer (recorded by AppendInbound only)
	Assistant Role = "assistant" // the model: text and tool calls
	Tool      Role = "tool"      // results of the assistant's tool calls
	Operator  Role = "operator"  // a human operator's message to the customer
	Note      Role = "note"      // an operator's internal note, never sent
	System    Role = "system"    // a notice from the business or the agent to the customer
)

// Message is a record of a conversation.
type Message struct {
	ID           MessageID        `json:"id"`
	Tenant       channel.TenantID `json:"tenant"`
	Conversation ConversationID   `json:"conversation"`
	// Turn is the ID of the inbound message whose turn this record belongs
	// to: its own ID for an inbound message, the ID of the message being
	// answered for replies and tool results. Records are ordered by (Turn,
	// ID), so that a reply follows the message it answers even when later
	// messages were recorded before it.
	Turn MessageID `json:"turn"`
	Role Role      `json:"role"`
	Time time.Time `json:"time"`
	// ProviderID is the channel provider's id: of the received message, or
	// of the sent one once the provider accepted it.
	ProviderID channel.MessageID `json:"provider_id,omitempty"`

	// Inbound is the message as received, for role User.
	Inbound *channel.Message `json:"inbound,omitempty"`
	// Parts is the model's message for roles Assistant and Tool, replayed
	// as history: text, tool calls with their ids, tool results, and
	// provider state kept verbatim.
	Parts []llm.Part `json:"parts,omitempty"`
	// Outbound is what was or will be sent to the customer, for roles
	// Assistant, Operator and System; nil when nothing is to be sent.
	Outbound *channel.Outbound `json:"outbound,omitempty"`

	// Processing is the state of an inbound record.
	Processing Processing `json:"processing,omitzero"`
	// Delivery is the state of an outbound record.
	Delivery Delivery `json:"delivery,omitzero"`

	// ContentRemoved reports that a retention purge removed what was said
	// (see [Message.WithoutContent]); the record's metadata remains.
	ContentRemoved bool `json:"content_removed,omitempty"`
}

// ProcessState is how far the agent got with an inbound message.
type ProcessState uint8

// Processing states. The zero value is pending.
const (
	ProcessPending ProcessState = iota // recorded, not yet handled
	ProcessDone                        // answered
	ProcessSkipped                     // deliberately not answered (human owns, objection...)
	ProcessFailed                      // handling failed; Processing.Reason says why
)

var processStateNames = [...]string{"pending", "done", "skipped", "failed"}

// String returns the lower-case name of s.
func (s ProcessState) String() string {
	if int(s) < len(processStateNames) {
		return processStateNames[s]
	}
	return fmt.Sprintf("ProcessState(%d)", uint8(s))
}

// MarshalText implements [encoding.TextMarshaler].
func (s ProcessState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (s *ProcessState) UnmarshalText(b []byte) error {
	for i, n := range processStateNames {
		if n == string(b) {
			*s = ProcessState(i)
			return nil
		}
	}
	return fmt.Errorf("store: unknown process state %q", b)
}

// Processing is the processing state of an inbound record.
type Processing struct {
	State ProcessState `json:"state"`
	// Attempts counts the times handling was tried.
	Attempts int `json:"attempts,omitempty"`
	// Reason is a short machine-readable cause for skipped and failed
	// messages ("handoff", "objection", "model_unavailable"); never message
	// text.
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Delivery is the delivery state of an outbound record.
type Delivery struct {
	State channel.DeliveryState `json:"state"`
	// Attempts counts send attempts, retries included.
	Attempts int `json:"attempts,omitempty"`
	// ErrorCode and ErrorTitle are the provider's last reported error.
	ErrorCode  int       `json:"error_code,omitempty"`
	ErrorTitle string    `json:"error_title,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// DeliveryUpdate is a change to an outbound record's delivery state, from a
// send attempt or a provider's status report.
type DeliveryUpdate struct {
	// ID selects the record; when zero, ProviderID does.
	ID         MessageID             `json:"id,omitempty"`
	ProviderID channel.MessageID     `json:"provider_id,omitempty"`
	State      channel.DeliveryState `json:"state"`
	Attempts   int                   `json:"attempts,omitempty"`
	ErrorCode  int                   `json:"error_code,omitempty"`
	ErrorTitle string                `json:"error_title,omitempty"`
	Time       time.Time             `json:"time,omitzero"`
}

// Merge returns d with u applied and whether anything changed. It is the
// rule every store applies, so that statuses arriving late, twice or out of
// order never move a record backwards:
//
//   - Sent < Delivered < Read < Played: a state only replaces a lower one.
//   - Failed replaces Pending and Sent only; a message known to have
//     arrived stays arrived. A later Delivered, Read or Played replaces
//     Failed (the user has several devices and one of them got it).
//   - Pending in an update changes no state; it records attempts and errors.
//   - Attempts only grow; a non-zero error code replaces the last one.
//   - UpdatedAt is the latest time seen.
func (d Delivery) Merge(u DeliveryUpdate) (Delivery, bool) {
	next := d
	switch {
	case u.State == channel.Pending:
	case u.State == channel.Failed:
		if d.State <= channel.Sent {
			next.State = channel.Failed
		}
	case d.State == channel.Failed:
		if u.State >= channel.Delivered {
			next.State = u.State
		}
	case u.State > d.State:
		next.State = u.State
	}
	next.Attempts = max(d.Attempts, u.Attempts)
	if u.ErrorCode != 0 {
		next.ErrorCode, next.ErrorTitle = u.ErrorCode, u.ErrorTitle
	}
	if u.Time.After(d.UpdatedAt) {
		next.UpdatedAt = u.Time
	}
	return next, next != d
}

// Appended is the result of [ConversationStore.AppendInbound].
type Appended struct {
	// Message is the inbound record: the new one, or the earlier one when
	// Duplicate is set.
	Message Message
	// Conversation is the message's conversation after the append.
	Conversation Conversation
	// Duplicate reports that the message had been recorded before.
	Duplicate bool
}

// HistoryQuery selects the window of a conversation's history.
type HistoryQuery struct {
	// Through is the last turn to include; zero includes every turn.
	Through MessageID
	// Limit is the most records to return, the latest ones; zero returns all.
	Limit int
}

// PendingQuery filters [ConversationStore.Pending].
type PendingQuery struct {
	// Tenant restricts the result to one tenant; empty means every tenant.
	Tenant channel.TenantID
	// Conversation restricts the result to one conversation of Tenant.
	Conversation ConversationID
	// Limit is the most records to return, the oldest ones; zero returns all.
	Limit int
}

// Clone returns a deep copy of m, sharing no memory with it. Stores use it
// to keep no memory of their callers.
func (m Message) Clone() Message {
	if m.Inbound != nil {
		in := m.Inbound.Clone()
		m.Inbound = &in
	}
	m.Parts = llm.CloneParts(m.Parts)
	if m.Outbound != nil {
		out := m.Outbound.Clone()
		m.Outbound = &out
	}
	return m
}

// correlationPrefix starts the Outbound.Correlation values that name a
// record.
const correlationPrefix = "wagent:"

// Correlation returns the Outbound.Correlation value that names the
// outbound record id. The agent sets it on every message it sends, so that
// a delivery status finds its record even before the provider's id was
// recorded, and channels can tell which record a message is.
func (id MessageID) Correlation() string {
	return correlationPrefix + strconv.FormatInt(int64(id), 10)
}

// ParseCorrelation returns the record id named by an Outbound.Correlation
// value made by [MessageID.Correlation], and false for any other value.
func ParseCorrelation(c string) (MessageID, bool) {
	rest, ok := strings.CutPrefix(c, correlationPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return MessageID(id), err == nil && id > 0
}
