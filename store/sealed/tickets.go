package sealed

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
)

// A ticket is kept in the inner store with its title, summary and note
// texts sealed with the data key of its subject, the title and summary
// bound to the subject and the notes to the ticket number; numbers,
// statuses, times, note authors and the subject and conversation ids stay
// in clear. Tags are kept with their extracted values (order number,
// product, email, date) sealed one by one, bound to their record; the
// intent, sentiment and source are enumerations and stay in clear. A
// value left empty stays empty.

// subjectKeyID returns the id of the data key of the tenant's subject,
// its blind user id: from conv when it is set, else from an export of the
// subject.
func (s *Store) subjectKeyID(ctx context.Context, op string, tenant channel.TenantID, subject store.SubjectID, conv store.ConversationID) (string, error) {
	if conv != "" {
		c, err := s.inner.Conversation(ctx, tenant, conv)
		if err != nil {
			return "", err
		}
		if c.Subject != subject {
			return "", fmt.Errorf("sealed: %s: the conversation is not the subject's: %w", op, store.ErrInvalid)
		}
		return string(c.Address.User), nil
	}
	if s.exporter == nil {
		return "", fmt.Errorf("sealed: %s: a ticket without a conversation needs an inner store.Exporter to find the subject's data key: %w", op, errors.ErrUnsupported)
	}
	x, err := s.exporter.Export(ctx, tenant, subject)
	if err != nil {
		return "", err
	}
	return string(x.Subject.Address.User), nil
}

// CreateTicket implements [store.TicketSystem]. It seals the title and
// the summary with the data key of the subject, found through the
// conversation or, for a ticket without one, through an export of the
// subject (which needs the inner store to be a [store.Exporter]).
func (s *Store) CreateTicket(ctx context.Context, n store.NewTicket) (store.Ticket, error) {
	const op = "create ticket"
	if s.tickets == nil {
		return store.Ticket{}, unsupported(op, "TicketSystem")
	}
	if err := ctx.Err(); err != nil {
		return store.Ticket{}, fmt.Errorf("sealed: %s: %w", op, err)
	}
	if err := n.Check(); err != nil {
		return store.Ticket{}, err
	}
	id, err := s.subjectKeyID(ctx, op, n.Tenant, n.Subject, n.Conversation)
	if err != nil {
		return store.Ticket{}, err
	}
	mu := &s.subjects[s.stripe(n.Tenant, id)]
	mu.RLock()
	defer mu.RUnlock()
	key, err := s.keys.Key(ctx, string(n.Tenant), id)
	if err != nil {
		return store.Ticket{}, s.keyError(op, err)
	}
	b := seal.Binding{Tenant: string(n.Tenant), Field: fieldTicketTitle, Row: string(n.Subject)}
	in := n
	in.Title = sealString(key, n.Title, b)
	if n.Summary != "" {
		b.Field = fieldTicketSum
		in.Summary = sealString(key, n.Summary, b)
	}
	t, err := s.tickets.CreateTicket(ctx, in)
	if err != nil {
		return store.Ticket{}, err
	}
	return opened(s.resolver(ctx, key).openTicket(t))
}

// Ticket implements [store.TicketSystem]. A ticket whose subject's key
// was destroyed is an error wrapping [ErrShredded].
func (s *Store) Ticket(ctx context.Context, tenant channel.TenantID, number store.TicketNumber) (store.Ticket, error) {
	if s.tickets == nil {
		return store.Ticket{}, unsupported("ticket", "TicketSystem")
	}
	t, err := s.tickets.Ticket(ctx, tenant, number)
	if err != nil {
		return store.Ticket{}, err
	}
	return opened(s.resolver(ctx, nil).openTicket(t))
}

// Tickets implements [store.TicketSystem]. The query's subject and
// conversation are ids the inner store assigned, kept in clear.
func (s *Store) Tickets(ctx context.Context, q store.TicketQuery) ([]store.Ticket, error) {
	if s.tickets == nil {
		return nil, unsupported("tickets", "TicketSystem")
	}
	ts, err := s.tickets.Tickets(ctx, q)
	if err != nil {
		return nil, err
	}
	r := s.resolver(ctx, nil)
	for i, t := range ts {
		if ts[i], err = r.openTicket(t); err != nil {
			return nil, openError(err)
		}
	}
	return ts, nil
}

// AddTicketNote implements [store.TicketSystem]. It seals the note's text
// with the data key that sealed the ticket; the author stays in clear.
func (s *Store) AddTicketNote(ctx context.Context, tenant channel.TenantID, number store.TicketNumber, note store.TicketNote) (store.Ticket, error) {
	const op = "add ticket note"
	if s.tickets == nil {
		return store.Ticket{}, unsupported(op, "TicketSystem")
	}
	if err := ctx.Err(); err != nil {
		return store.Ticket{}, fmt.Errorf("sealed: %s: %w", op, err)
	}
	if err := store.CheckNote(note); err != nil {
		return store.Ticket{}, err
	}
	cur, err := s.tickets.Ticket(ctx, tenant, number)
	if err != nil {
		return store.Ticket{}, err
	}
	_, id, err := parseSealed(cur.Title, fieldTicketTitle)
	if err != nil {
		return store.Ticket{}, err
	}
	mu := &s.subjects[s.stripe(tenant, id)]
	mu.RLock()
	defer mu.RUnlock()
	key, err := s.keys.Key(ctx, string(tenant), id)
	if err != nil {
		return store.Ticket{}, s.keyError(op, err)
	}
	in := note
	in.Text = sealString(key, note.Text, seal.Binding{Tenant: string(tenant), Field: fieldTicketNote, Row: string(number)})
	t, err := s.tickets.AddTicketNote(ctx, tenant, number, in)
	if err != nil {
		return store.Ticket{}, err
	}
	return opened(s.resolver(ctx, key).openTicket(t))
}

// SetTicketStatus implements [store.TicketSystem]; statuses are kept in
// clear.
func (s *Store) SetTicketStatus(ctx context.Context, tenant channel.TenantID, number store.TicketNumber, status store.TicketStatus) (store.Ticket, error) {
	if s.tickets == nil {
		return store.Ticket{}, unsupported("set ticket status", "TicketSystem")
	}
	t, err := s.tickets.SetTicketStatus(ctx, tenant, number, status)
	if err != nil {
		return store.Ticket{}, err
	}
	return opened(s.resolver(ctx, nil).openTicket(t))
}

// PurgeTickets implements [store.TicketPurger]: the inner store deletes
// the sealed tickets, or anonymizes them by clearing their sealed texts,
// by the same rule ([store.Ticket.Anonymized]); nothing needs opening.
func (s *Store) PurgeTickets(ctx context.Context, q store.TicketPurgeQuery) (store.PurgeResult, error) {
	if s.ticketPurger == nil {
		return store.PurgeResult{}, unsupported("purge tickets", "TicketPurger")
	}
	return s.ticketPurger.PurgeTickets(ctx, q)
}

// openTicket reverses the sealing of CreateTicket and AddTicketNote. The
// texts a retention purge anonymized are empty and stay so.
func (r *resolver) openTicket(t store.Ticket) (store.Ticket, error) {
	b := seal.Binding{Tenant: string(t.Tenant), Field: fieldTicketTitle, Row: string(t.Subject)}
	var err error
	if t.Title != "" {
		if t.Title, err = r.openString(t.Title, b); err != nil {
			return store.Ticket{}, err
		}
	}
	if t.Summary != "" {
		b.Field = fieldTicketSum
		if t.Summary, err = r.openString(t.Summary, b); err != nil {
			return store.Ticket{}, err
		}
	}
	b.Field, b.Row = fieldTicketNote, string(t.Number)
	for i := range t.Notes {
		if t.Notes[i].Text == "" {
			continue
		}
		if t.Notes[i].Text, err = r.openString(t.Notes[i].Text, b); err != nil {
			return store.Ticket{}, err
		}
	}
	return t, nil
}

// tagFields lists the sealed fields of [store.Tags].
func tagFields(t *store.Tags) []struct {
	field string
	v     *string
} {
	return []struct {
		field string
		v     *string
	}{
		{fieldTagOrder, &t.OrderNumber},
		{fieldTagProduct, &t.Product},
		{fieldTagEmail, &t.Email},
		{fieldTagDate, &t.Date},
	}
}

func tagRow(id store.MessageID) string { return strconv.FormatInt(int64(id), 10) }

// SetTags implements [store.Tagger]. It seals the values extracted from
// the message (order number, product, email, date) with the data key of
// its sender; intent, sentiment and source are enumerations, kept in
// clear.
func (s *Store) SetTags(ctx context.Context, tenant channel.TenantID, id store.MessageID, t store.Tags) error {
	const op = "set tags"
	if s.tagger == nil {
		return unsupported(op, "Tagger")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sealed: %s: %w", op, err)
	}
	if err := t.Check(); err != nil {
		return err
	}
	m, err := s.inner.Message(ctx, tenant, id)
	if err != nil {
		return err
	}
	if m.Inbound == nil {
		return fmt.Errorf("sealed: %s: record %d is not an inbound one: %w", op, id, store.ErrInvalid)
	}
	keyID := string(m.Inbound.From.User) // blind
	mu := &s.subjects[s.stripe(tenant, keyID)]
	mu.RLock()
	defer mu.RUnlock()
	key, err := s.keys.Key(ctx, string(tenant), keyID)
	if err != nil {
		return s.keyError(op, err)
	}
	b := seal.Binding{Tenant: string(tenant), Row: tagRow(id)}
	for _, f := range tagFields(&t) {
		if *f.v == "" {
			continue
		}
		b.Field = f.field
		*f.v = sealString(key, *f.v, b)
	}
	return s.tagger.SetTags(ctx, tenant, id, t)
}

// Tags implements [store.Tagger]. The tags of a record whose subject's
// key was destroyed are an error wrapping [ErrShredded].
func (s *Store) Tags(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Tags, error) {
	if s.tagger == nil {
		return store.Tags{}, unsupported("tags", "Tagger")
	}
	t, err := s.tagger.Tags(ctx, tenant, id)
	if err != nil {
		return store.Tags{}, err
	}
	r := s.resolver(ctx, nil)
	b := seal.Binding{Tenant: string(tenant), Row: tagRow(id)}
	for _, f := range tagFields(&t) {
		if *f.v == "" {
			continue
		}
		b.Field = f.field
		if *f.v, err = r.openString(*f.v, b); err != nil {
			return store.Tags{}, openError(err)
		}
	}
	return t, nil
}
