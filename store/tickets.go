package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
)

// TicketNumber identifies a support ticket within its tenant, in a form a
// customer can read out or type: "T-1001". Numbers are unique per tenant;
// two tenants may use the same number for different tickets.
type TicketNumber string

// TicketNumberFor returns the number of the seq-th ticket of a tenant,
// counting from 1: "T-1001" for the first. Every built-in store numbers
// tickets with it.
func TicketNumberFor(seq int64) TicketNumber {
	return TicketNumber("T-" + strconv.FormatInt(1000+seq, 10))
}

// ParseTicketNumber returns the number written by a customer or a model in
// its canonical form ("t 1042", "#T-1042", "1042" and "T1042" are all
// "T-1042"), and false when s is not a ticket number.
func ParseTicketNumber(s string) (TicketNumber, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "#"))
	if rest, ok := strings.CutPrefix(strings.ToUpper(s), "T"); ok {
		s = strings.TrimLeft(rest, "-_ ")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 1000 || strconv.FormatInt(n, 10) != s {
		return "", false
	}
	return TicketNumber("T-" + s), true
}

// TicketStatus is where a ticket stands.
type TicketStatus string

// Ticket statuses. A new ticket is open.
const (
	TicketOpen     TicketStatus = "open"     // waiting for the business
	TicketPending  TicketStatus = "pending"  // waiting for the customer or a third party
	TicketResolved TicketStatus = "resolved" // solved; the customer may still reopen it
	TicketClosed   TicketStatus = "closed"   // finished
)

// Valid reports whether s is one of the ticket statuses.
func (s TicketStatus) Valid() bool {
	switch s {
	case TicketOpen, TicketPending, TicketResolved, TicketClosed:
		return true
	}
	return false
}

// Limits on the text of tickets, in bytes. Longer values are [ErrInvalid]
// (a sealed value may be as long as [SealedLimit] of its limit).
const (
	MaxTicketTitle   = 200
	MaxTicketSummary = 4000
	MaxTicketNote    = 4000
)

// Ticket is a support case opened for a data subject, usually from one of
// their conversations. Tickets are part of the subject's data: erasing the
// subject erases them.
type Ticket struct {
	Number TicketNumber     `json:"number"`
	Tenant channel.TenantID `json:"tenant"`
	// Subject is the customer the ticket is for.
	Subject SubjectID `json:"subject"`
	// Conversation is the conversation it was opened from, if any.
	Conversation ConversationID `json:"conversation,omitempty"`
	// Title is the ticket's subject line.
	Title string `json:"title"`
	// Summary describes the case.
	Summary   string       `json:"summary,omitempty"`
	Status    TicketStatus `json:"status"`
	Notes     []TicketNote `json:"notes,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	// UpdatedAt is the time of the latest change: a note or a status.
	UpdatedAt time.Time `json:"updated_at"`
}

// Clone returns a deep copy of t.
func (t Ticket) Clone() Ticket {
	t.Notes = append([]TicketNote(nil), t.Notes...)
	return t
}

// TicketNote is a note added to a ticket, oldest first in Ticket.Notes.
// The agent's ticket_status tool shows a ticket's notes to the model, which
// may tell the customer: remarks not meant for the customer belong in the
// conversation's internal notes (role [Note]), not in a ticket.
type TicketNote struct {
	// Author says who wrote it: "customer", "assistant", or an operator's
	// name.
	Author string    `json:"author"`
	Text   string    `json:"text"`
	Time   time.Time `json:"time"`
}

// NewTicket is what [TicketSystem.CreateTicket] needs.
type NewTicket struct {
	Tenant channel.TenantID
	// Subject is required; Conversation, when set, must be one of the
	// subject's conversations.
	Subject      SubjectID
	Conversation ConversationID
	Title        string
	Summary      string
	// Status is the initial status; empty means [TicketOpen].
	Status TicketStatus
}

// Check returns an error wrapping [ErrInvalid] when n breaks the contract
// of CreateTicket: empty tenant, subject or title, text over the limits,
// an unknown status.
func (n NewTicket) Check() error {
	switch {
	case n.Tenant == "" || n.Subject == "":
		return fmt.Errorf("store: ticket: tenant and subject are required: %w", ErrInvalid)
	case strings.TrimSpace(n.Title) == "":
		return fmt.Errorf("store: ticket: empty title: %w", ErrInvalid)
	case !within(n.Title, MaxTicketTitle) || !within(n.Summary, MaxTicketSummary):
		return fmt.Errorf("store: ticket: title or summary too long: %w", ErrInvalid)
	case n.Status != "" && !n.Status.Valid():
		return fmt.Errorf("store: ticket: unknown status: %w", ErrInvalid)
	}
	return nil
}

// CheckNote returns an error wrapping [ErrInvalid] when n cannot be added
// to a ticket: empty author or text, text over [MaxTicketNote].
func CheckNote(n TicketNote) error {
	switch {
	case strings.TrimSpace(n.Author) == "" || strings.TrimSpace(n.Text) == "":
		return fmt.Errorf("store: ticket note: empty author or text: %w", ErrInvalid)
	case !within(n.Text, MaxTicketNote) || len(n.Author) > MaxTicketTitle:
		return fmt.Errorf("store: ticket note: too long: %w", ErrInvalid)
	}
	return nil
}

// DefaultTicketLimit is how many tickets a [TicketQuery] with a zero Limit
// returns.
const DefaultTicketLimit = 20

// TicketQuery selects tickets of one tenant: those of Subject, or of
// Conversation, or both, optionally with one of Statuses.
type TicketQuery struct {
	Tenant       channel.TenantID
	Subject      SubjectID
	Conversation ConversationID
	// Statuses, when not empty, keeps the tickets with one of them.
	Statuses []TicketStatus
	// Limit is the most tickets returned, the latest created; zero means
	// [DefaultTicketLimit].
	Limit int
}

// TicketSystem keeps support tickets. The built-in stores implement it,
// keeping tickets with the conversations; a host may plug its own helpdesk
// instead. store/storetest.RunTickets checks an implementation clause by
// clause.
//
// Like [ConversationStore], every method is safe for concurrent use,
// bounded by ctx, scoped by tenant (a ticket of another tenant is
// [ErrNotFound]), copies what it is given and returns values that belong to
// the caller, and returns [ErrClosed] after the store is closed.
type TicketSystem interface {
	// CreateTicket opens a ticket with the next number of the tenant,
	// Notes empty and CreatedAt and UpdatedAt now, and returns it. Numbers
	// are never given twice in a tenant, also when calls race and after a
	// ticket was erased. It returns [ErrInvalid] when n fails
	// [NewTicket.Check] or its conversation is not the subject's, and
	// [ErrNotFound] when the subject or the conversation is not the
	// tenant's.
	CreateTicket(ctx context.Context, n NewTicket) (Ticket, error)

	// Ticket returns the tenant's ticket with the given number.
	Ticket(ctx context.Context, tenant channel.TenantID, number TicketNumber) (Ticket, error)

	// Tickets returns the tickets q selects, the latest created first. A
	// query without a tenant, or with neither subject nor conversation, is
	// [ErrInvalid]; a subject or conversation without tickets gives none
	// and a nil error.
	Tickets(ctx context.Context, q TicketQuery) ([]Ticket, error)

	// AddTicketNote appends note to the ticket (Time now when zero),
	// updates UpdatedAt and returns the ticket. A note failing [CheckNote]
	// is [ErrInvalid].
	AddTicketNote(ctx context.Context, tenant channel.TenantID, number TicketNumber, note TicketNote) (Ticket, error)

	// SetTicketStatus changes the ticket's status, updates UpdatedAt and
	// returns the ticket. An unknown status is [ErrInvalid].
	SetTicketStatus(ctx context.Context, tenant channel.TenantID, number TicketNumber, status TicketStatus) (Ticket, error)
}

// TicketPurger deletes or anonymizes old tickets, for retention policies.
// It is an optional capability of a [TicketSystem], found with
// [Capability]; store/storetest.RunTicketPurger checks an implementation
// clause by clause. Like TicketSystem, it is safe for concurrent use,
// bounded by ctx, and returns [ErrClosed] after the store is closed.
type TicketPurger interface {
	// PurgeTickets applies q to at most q.Limit tickets and reports how many
	// it changed and whether more remain, so that a runner can work in
	// batches and resume after a restart. Only closed tickets are purged:
	// a ticket that is open, pending or resolved (which the customer may
	// still reopen) is never touched, however old. Tickets of subjects in
	// q.Except are never touched. A query with a negative Limit is
	// [ErrInvalid].
	PurgeTickets(ctx context.Context, q TicketPurgeQuery) (PurgeResult, error)
}

// TicketPurgeQuery selects the tickets a purge applies to: the closed
// tickets of Tenant (every tenant when empty) whose subject is on Channel
// (every channel when empty), last updated before Before, that still hold
// what the purge removes.
type TicketPurgeQuery struct {
	Tenant  channel.TenantID
	Channel channel.Name
	Before  time.Time
	// Anonymize keeps the tickets and clears their text instead of
	// deleting them: the title, the summary and the text of every note
	// become empty; the number, subject, conversation, status, times and
	// the notes' authors and times stay, so that the business can still
	// count and date its cases. False deletes the tickets with their
	// notes; their numbers are not given again.
	Anonymize bool
	// Except lists subjects whose tickets must be kept: legal holds.
	Except []SubjectID
	// Limit caps the tickets changed by one call (default
	// [DefaultPurgeLimit]).
	Limit int
}

// Anonymized returns t with its text cleared as [TicketPurgeQuery]
// Anonymize says, and reports whether t held any text. Every store
// anonymizes tickets with this one rule.
func (t Ticket) Anonymized() (Ticket, bool) {
	t = t.Clone()
	had := t.Title != "" || t.Summary != ""
	t.Title, t.Summary = "", ""
	for i := range t.Notes {
		had = had || t.Notes[i].Text != ""
		t.Notes[i].Text = ""
	}
	return t, had
}
