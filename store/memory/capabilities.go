package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

var (
	_ store.Purger            = (*Store)(nil)
	_ store.Eraser            = (*Store)(nil)
	_ store.Exporter          = (*Store)(nil)
	_ store.Leaser            = (*Store)(nil)
	_ store.ProcessingBatcher = (*Store)(nil)
)

// Purge implements [store.Purger]. It scans the records in id order and
// takes time proportional to all the records of the store. It returns
// [store.ErrInvalid] for an unknown scope or a negative Limit.
func (s *Store) Purge(ctx context.Context, q store.PurgeQuery) (store.PurgeResult, error) {
	if err := ctx.Err(); err != nil {
		return store.PurgeResult{}, fmt.Errorf("memory: purge: %w", err)
	}
	if q.Scope < store.PurgeContent || q.Scope > store.PurgeRecords || q.Limit < 0 {
		return store.PurgeResult{}, fmt.Errorf("memory: purge: unknown scope or negative limit: %w", store.ErrInvalid)
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultPurgeLimit
	}
	except := make(map[store.SubjectID]bool, len(q.Except))
	for _, id := range q.Except {
		except[id] = true
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.PurgeResult{}, errClosed()
	}
	var res store.PurgeResult
	changed := map[*conversation]bool{}
	for _, ref := range s.refs {
		c := ref.conv
		if c == nil {
			continue
		}
		r := &c.recs[ref.i]
		if !purgeable(q, except, c, r) {
			continue
		}
		if res.Records == limit {
			res.More = true
			break
		}
		res.Records++
		switch q.Scope {
		case store.PurgeContent:
			*r = r.WithoutContent()
		case store.PurgeMedia:
			*r, _ = r.WithoutMedia()
		case store.PurgeRecords:
			s.unindex(c, r)
			s.refs[r.ID-1].conv = nil
			*r = store.Message{}
			changed[c] = true
		}
	}
	for c := range changed {
		c.order = slices.DeleteFunc(c.order, func(i int) bool { return c.recs[i].ID == 0 })
	}
	return res, nil
}

// purgeable reports whether q applies to the record r of c.
func purgeable(q store.PurgeQuery, except map[store.SubjectID]bool, c *conversation, r *store.Message) bool {
	switch {
	case !r.Time.Before(q.Before),
		q.Tenant != "" && r.Tenant != q.Tenant,
		q.Channel != "" && c.conv.Address.Channel != q.Channel,
		except[c.subject.ID],
		r.Role == store.User && r.Processing.State == store.ProcessPending:
		return false
	}
	switch q.Scope {
	case store.PurgeContent:
		return !r.ContentRemoved
	case store.PurgeMedia:
		_, has := r.WithoutMedia()
		return has
	}
	return true
}

// unindex removes the keys that find r, a record of c, from the store's
// indexes.
func (s *Store) unindex(c *conversation, r *store.Message) {
	if r.ProviderID == "" {
		return
	}
	if r.Role == store.User {
		k := inboundKey{c.conv.Address.Channel, r.Tenant, r.ProviderID}
		if s.inbound[k] == r.ID {
			delete(s.inbound, k)
		}
		return
	}
	k := providerKey{r.Tenant, r.ProviderID}
	if s.provider[k] == r.ID {
		delete(s.provider, k)
	}
}

// Erase implements [store.Eraser]. It takes time proportional to the
// subject's records.
func (s *Store) Erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Erased, error) {
	if err := ctx.Err(); err != nil {
		return store.Erased{}, fmt.Errorf("memory: erase: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Erased{}, errClosed()
	}
	c := s.subjects[subject]
	if c == nil || c.conv.Address.Tenant != tenant {
		return store.Erased{}, nil
	}
	e := store.Erased{Subjects: 1, Conversations: 1}
	for i := range c.recs {
		r := &c.recs[i]
		if r.ID == 0 {
			continue
		}
		e.Messages++
		s.unindex(c, r)
		wasPending := r.Role == store.User && r.Processing.State == store.ProcessPending
		s.refs[r.ID-1].conv = nil
		if wasPending {
			s.pending.drop(s)
		}
	}
	s.eraseTicketsAndTags(tenant, subject, c)
	addr := c.conv.Address
	delete(s.convs, addr)
	delete(s.convByID, c.conv.ID)
	delete(s.subjects, subject)
	if p := c.subject.Profile.Phone; p != "" {
		k := phoneKey{addr.Channel, addr.Tenant, p}
		if s.phones[k] == c {
			delete(s.phones, k)
		}
	}
	*c = conversation{}
	return e, nil
}

// Export implements [store.Exporter]. A subject has one conversation, the
// one at its address.
func (s *Store) Export(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Export, error) {
	if err := ctx.Err(); err != nil {
		return store.Export{}, fmt.Errorf("memory: export: %w", err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.Export{}, errClosed()
	}
	c := s.subjects[subject]
	if c == nil || c.conv.Address.Tenant != tenant {
		s.mu.RUnlock()
		return store.Export{}, fmt.Errorf("memory: export: subject %s: %w", subject, store.ErrNotFound)
	}
	e := store.Export{
		Subject:       c.subject,
		Conversations: []store.Conversation{c.conv},
		Messages:      make([]store.Message, len(c.order)),
	}
	for k, i := range c.order {
		e.Messages[k] = c.recs[i]
	}
	s.mu.RUnlock()
	cloneMessagesInPlace(e.Messages)
	return e, nil
}

// Lease implements [store.Leaser], with the times of [Options.Now]. It
// returns [store.ErrInvalid] for an empty owner or a duration that is not
// positive.
func (s *Store) Lease(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string, d time.Duration) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("memory: lease: %w", err)
	}
	if owner == "" || d <= 0 {
		return false, fmt.Errorf("memory: lease: owner and a positive duration required: %w", store.ErrInvalid)
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, errClosed()
	}
	c := s.conversation(tenant, conv)
	if c == nil {
		return false, fmt.Errorf("memory: lease: conversation %s: %w", conv, store.ErrNotFound)
	}
	if c.leasedToOther(owner, now) {
		return false, nil
	}
	c.leaseOwner, c.leaseUntil = owner, now.Add(d)
	return true, nil
}

// Release implements [store.Leaser]. Releasing a conversation that is not
// the tenant's changes nothing and returns nil.
func (s *Store) Release(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: release: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed()
	}
	if c := s.conversation(tenant, conv); c != nil && c.leaseOwner == owner {
		c.leaseOwner, c.leaseUntil = "", time.Time{}
	}
	return nil
}

// LeasePending implements [store.Leaser], with the times of [Options.Now].
// It takes time proportional to the pending records it scans. It returns
// [store.ErrInvalid] for an empty owner, a duration that is not positive or
// a limit below 1.
func (s *Store) LeasePending(ctx context.Context, owner string, d time.Duration, limit int) ([]store.Lease, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: lease pending: %w", err)
	}
	if owner == "" || d <= 0 || limit < 1 {
		return nil, fmt.Errorf("memory: lease pending: owner, a positive duration and limit required: %w", store.ErrInvalid)
	}
	now := s.clock()
	until := now.Add(d)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed()
	}
	var out []store.Lease
	seen := map[*conversation]bool{}
	for _, id := range s.pending.ids {
		if len(out) == limit {
			break
		}
		if !s.isPending(id) {
			continue
		}
		c := s.refs[id-1].conv
		if seen[c] {
			continue
		}
		seen[c] = true
		if c.leasedToOther(owner, now) {
			continue
		}
		c.leaseOwner, c.leaseUntil = owner, until
		out = append(out, store.Lease{Tenant: c.conv.Address.Tenant, Conversation: c.conv.ID, Owner: owner, Until: until})
	}
	return out, nil
}

// leasedToOther reports whether an owner other than owner holds c at now.
func (c *conversation) leasedToOther(owner string, now time.Time) bool {
	return c.leaseOwner != "" && c.leaseOwner != owner && now.Before(c.leaseUntil)
}
