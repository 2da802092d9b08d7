package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

var (
	_ store.TicketSystem = (*Store)(nil)
	_ store.TicketPurger = (*Store)(nil)
	_ store.Tagger       = (*Store)(nil)
)

// ticketBook holds the tickets of one tenant.
type ticketBook struct {
	// last is the sequence of the latest number given; it never goes back,
	// so a number is never given twice, also after an erasure.
	last    int64
	tickets map[store.TicketNumber]*store.Ticket
}

// CreateTicket implements [store.TicketSystem].
func (s *Store) CreateTicket(ctx context.Context, n store.NewTicket) (store.Ticket, error) {
	if err := ctx.Err(); err != nil {
		return store.Ticket{}, fmt.Errorf("memory: create ticket: %w", err)
	}
	if err := n.Check(); err != nil {
		return store.Ticket{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Ticket{}, errClosed()
	}
	c := s.subjects[n.Subject]
	if c == nil || c.conv.Address.Tenant != n.Tenant {
		return store.Ticket{}, fmt.Errorf("memory: create ticket: subject %s: %w", n.Subject, store.ErrNotFound)
	}
	if n.Conversation != "" {
		conv := s.conversation(n.Tenant, n.Conversation)
		if conv == nil {
			return store.Ticket{}, fmt.Errorf("memory: create ticket: conversation %s: %w", n.Conversation, store.ErrNotFound)
		}
		if conv.conv.Subject != n.Subject {
			return store.Ticket{}, fmt.Errorf("memory: create ticket: the conversation is not the subject's: %w", store.ErrInvalid)
		}
	}
	if s.tickets == nil {
		s.tickets = make(map[channel.TenantID]*ticketBook)
	}
	b := s.tickets[n.Tenant]
	if b == nil {
		b = &ticketBook{tickets: make(map[store.TicketNumber]*store.Ticket)}
		s.tickets[n.Tenant] = b
	}
	b.last++
	now := s.clock()
	t := &store.Ticket{
		Number: store.TicketNumberFor(b.last), Tenant: n.Tenant, Subject: n.Subject, Conversation: n.Conversation,
		Title: n.Title, Summary: n.Summary, Status: n.Status, CreatedAt: now, UpdatedAt: now,
	}
	if t.Status == "" {
		t.Status = store.TicketOpen
	}
	b.tickets[t.Number] = t
	return t.Clone(), nil
}

// Ticket implements [store.TicketSystem].
func (s *Store) Ticket(ctx context.Context, tenant channel.TenantID, number store.TicketNumber) (store.Ticket, error) {
	if err := ctx.Err(); err != nil {
		return store.Ticket{}, fmt.Errorf("memory: ticket: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Ticket{}, errClosed()
	}
	t := s.ticket(tenant, number)
	if t == nil {
		return store.Ticket{}, fmt.Errorf("memory: ticket %s: %w", number, store.ErrNotFound)
	}
	return t.Clone(), nil
}

// Tickets implements [store.TicketSystem]. It takes time proportional to
// the tenant's tickets.
func (s *Store) Tickets(ctx context.Context, q store.TicketQuery) ([]store.Ticket, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: tickets: %w", err)
	}
	if q.Tenant == "" || (q.Subject == "" && q.Conversation == "") || q.Limit < 0 {
		return nil, fmt.Errorf("memory: tickets: a tenant and a subject or conversation are required: %w", store.ErrInvalid)
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultTicketLimit
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed()
	}
	b := s.tickets[q.Tenant]
	if b == nil {
		return nil, nil
	}
	var out []store.Ticket
	for _, t := range b.tickets {
		if (q.Subject != "" && t.Subject != q.Subject) || (q.Conversation != "" && t.Conversation != q.Conversation) ||
			(len(q.Statuses) > 0 && !slices.Contains(q.Statuses, t.Status)) {
			continue
		}
		out = append(out, t.Clone())
	}
	// Numbers of a tenant grow with creation: the longer, then the
	// greater, is the later.
	slices.SortFunc(out, func(a, b store.Ticket) int {
		if len(a.Number) != len(b.Number) {
			return len(b.Number) - len(a.Number)
		}
		switch {
		case a.Number > b.Number:
			return -1
		case a.Number < b.Number:
			return 1
		}
		return 0
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// AddTicketNote implements [store.TicketSystem].
func (s *Store) AddTicketNote(ctx context.Context, tenant channel.TenantID, number store.TicketNumber, note store.TicketNote) (store.Ticket, error) {
	return s.changeTicket(ctx, "add ticket note", tenant, number, func(t *store.Ticket) error {
		if err := store.CheckNote(note); err != nil {
			return err
		}
		now := s.clock()
		if note.Time.IsZero() {
			note.Time = now
		}
		t.Notes = append(t.Notes, note)
		t.UpdatedAt = now
		return nil
	})
}

// SetTicketStatus implements [store.TicketSystem].
func (s *Store) SetTicketStatus(ctx context.Context, tenant channel.TenantID, number store.TicketNumber, status store.TicketStatus) (store.Ticket, error) {
	return s.changeTicket(ctx, "set ticket status", tenant, number, func(t *store.Ticket) error {
		if !status.Valid() {
			return fmt.Errorf("memory: set ticket status: unknown status: %w", store.ErrInvalid)
		}
		t.Status, t.UpdatedAt = status, s.clock()
		return nil
	})
}

func (s *Store) changeTicket(ctx context.Context, op string, tenant channel.TenantID, number store.TicketNumber, change func(*store.Ticket) error) (store.Ticket, error) {
	if err := ctx.Err(); err != nil {
		return store.Ticket{}, fmt.Errorf("memory: %s: %w", op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Ticket{}, errClosed()
	}
	t := s.ticket(tenant, number)
	if t == nil {
		return store.Ticket{}, fmt.Errorf("memory: %s: ticket %s: %w", op, number, store.ErrNotFound)
	}
	if err := change(t); err != nil {
		return store.Ticket{}, err
	}
	return t.Clone(), nil
}

// PurgeTickets implements [store.TicketPurger]. It takes time
// proportional to the tickets of the tenants it looks at, and purges the
// least recently updated first.
func (s *Store) PurgeTickets(ctx context.Context, q store.TicketPurgeQuery) (store.PurgeResult, error) {
	if err := ctx.Err(); err != nil {
		return store.PurgeResult{}, fmt.Errorf("memory: purge tickets: %w", err)
	}
	if q.Limit < 0 {
		return store.PurgeResult{}, fmt.Errorf("memory: purge tickets: negative limit: %w", store.ErrInvalid)
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultPurgeLimit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.PurgeResult{}, errClosed()
	}
	var due []*store.Ticket
	for tenant, b := range s.tickets {
		if q.Tenant != "" && tenant != q.Tenant {
			continue
		}
		for _, t := range b.tickets {
			if t.Status != store.TicketClosed || !t.UpdatedAt.Before(q.Before) || slices.Contains(q.Except, t.Subject) {
				continue
			}
			if c := s.subjects[t.Subject]; q.Channel != "" && (c == nil || c.conv.Address.Channel != q.Channel) {
				continue
			}
			if _, text := t.Anonymized(); q.Anonymize && !text {
				continue
			}
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b *store.Ticket) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.Tenant, b.Tenant), cmp.Compare(len(a.Number), len(b.Number)), cmp.Compare(a.Number, b.Number))
	})
	var res store.PurgeResult
	if len(due) > limit {
		due, res.More = due[:limit], true
	}
	for _, t := range due {
		if q.Anonymize {
			*t, _ = t.Anonymized()
		} else {
			delete(s.tickets[t.Tenant].tickets, t.Number)
		}
	}
	res.Records = len(due)
	return res, nil
}

// ticket returns the ticket of tenant with number, or nil. s.mu must be
// held.
func (s *Store) ticket(tenant channel.TenantID, number store.TicketNumber) *store.Ticket {
	if b := s.tickets[tenant]; b != nil {
		return b.tickets[number]
	}
	return nil
}

// SetTags implements [store.Tagger].
func (s *Store) SetTags(ctx context.Context, tenant channel.TenantID, id store.MessageID, t store.Tags) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: set tags: %w", err)
	}
	if err := t.Check(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed()
	}
	r := s.record(tenant, id)
	switch {
	case r == nil:
		return fmt.Errorf("memory: set tags: record %d: %w", id, store.ErrNotFound)
	case r.Role != store.User:
		return fmt.Errorf("memory: set tags: record %d is not inbound: %w", id, store.ErrInvalid)
	}
	if t.Time.IsZero() {
		t.Time = s.clock()
	}
	if s.tags == nil {
		s.tags = make(map[store.MessageID]store.Tags)
	}
	s.tags[id] = t
	return nil
}

// Tags implements [store.Tagger].
func (s *Store) Tags(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Tags, error) {
	if err := ctx.Err(); err != nil {
		return store.Tags{}, fmt.Errorf("memory: tags: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Tags{}, errClosed()
	}
	t, ok := s.tags[id]
	if !ok || s.record(tenant, id) == nil { // a purged record's tags are gone with it
		return store.Tags{}, fmt.Errorf("memory: tags of record %d: %w", id, store.ErrNotFound)
	}
	return t, nil
}

// eraseTicketsAndTags deletes the tickets of the subject and the tags of
// c's records, for Erase. s.mu must be held for writing.
func (s *Store) eraseTicketsAndTags(tenant channel.TenantID, subject store.SubjectID, c *conversation) {
	if b := s.tickets[tenant]; b != nil {
		for n, t := range b.tickets {
			if t.Subject == subject {
				delete(b.tickets, n)
			}
		}
	}
	for i := range c.recs {
		delete(s.tags, c.recs[i].ID)
	}
}
