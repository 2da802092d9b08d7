package sealed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

var (
	_ store.PartialWrapper     = (*Store)(nil)
	_ store.Purger             = (*Store)(nil)
	_ store.Eraser             = (*Store)(nil)
	_ store.Exporter           = (*Store)(nil)
	_ store.Leaser             = (*Store)(nil)
	_ store.ProcessingBatcher  = (*Store)(nil)
	_ store.ConversationLister = (*Store)(nil)
	_ store.TicketSystem       = (*Store)(nil)
	_ store.Tagger             = (*Store)(nil)
	_ store.TicketPurger       = (*Store)(nil)
)

// Unwrap implements [store.Wrapper]: it returns the inner store, so that
// [store.Capability] finds the optional capabilities that s really has,
// those of the inner store.
func (s *Store) Unwrap() store.ConversationStore { return s.inner }

// Provides implements [store.PartialWrapper]: s is a [store.Eraser] only
// when the inner store is an Eraser and an [store.Exporter], because
// destroying a subject's data key needs the subject's blind address,
// which only an export tells, and a [store.TicketPurger] only when the
// inner store keeps tickets too. Every other capability s has when the
// inner store has it.
func (s *Store) Provides(capability any) bool {
	switch capability.(type) {
	case *store.Eraser:
		return s.exporter != nil
	case *store.TicketPurger:
		return s.tickets != nil
	}
	return true
}

// unsupported is the error of a capability method whose capability the
// inner store lacks.
func unsupported(op, capability string) error {
	return fmt.Errorf("sealed: %s: the inner store is not a store.%s: %w", op, capability, errors.ErrUnsupported)
}

// Purge implements [store.Purger]: the inner store purges the sealed
// records by the same rule ([store.Message.WithoutContent],
// [store.Message.WithoutMedia]), because the sealed content and media
// references stay in the fields those rules clear.
func (s *Store) Purge(ctx context.Context, q store.PurgeQuery) (store.PurgeResult, error) {
	if s.purger == nil {
		return store.PurgeResult{}, unsupported("purge", "Purger")
	}
	return s.purger.Purge(ctx, q)
}

// Erase implements [store.Eraser]: it erases the subject in the inner
// store (its records, tickets and tags), then destroys the subject's data
// key, so that every copy of what was sealed for the subject (a backup of
// the database, a replica that missed the erasure) can no longer be
// opened. It needs the inner store to be an Eraser and an Exporter.
func (s *Store) Erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Erased, error) {
	if s.eraser == nil || s.exporter == nil {
		return store.Erased{}, unsupported("erase", "Eraser and store.Exporter")
	}
	if err := ctx.Err(); err != nil {
		return store.Erased{}, fmt.Errorf("sealed: erase: %w", err)
	}
	x, err := s.exporter.Export(ctx, tenant, subject)
	if errors.Is(err, store.ErrNotFound) {
		// Unknown or erased: the inner store says what it erases.
		return s.eraser.Erase(ctx, tenant, subject)
	}
	if err != nil {
		return store.Erased{}, err
	}
	addr := x.Subject.Address // blind
	id := string(addr.User)
	mu := &s.subjects[s.stripe(addr.Tenant, id)]
	mu.Lock()
	defer mu.Unlock()
	n, err := s.eraser.Erase(ctx, tenant, subject)
	if err != nil {
		return n, err
	}
	// The key goes even when ctx is done now: the records are gone, and a
	// retry would no longer find the key's id.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := s.keys.Destroy(dctx, string(addr.Tenant), id); err != nil {
		return n, fmt.Errorf("sealed: erase: the records are erased but the data key was not destroyed: %w", err)
	}
	return n, nil
}

// Export implements [store.Exporter]: the subject's records, opened.
func (s *Store) Export(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Export, error) {
	if s.exporter == nil {
		return store.Export{}, unsupported("export", "Exporter")
	}
	ex, err := s.exporter.Export(ctx, tenant, subject)
	if err != nil {
		return store.Export{}, err
	}
	r := s.resolver(ctx, nil)
	if ex.Subject, err = r.openSubject(ex.Subject); err != nil {
		return store.Export{}, openError(err)
	}
	for i, c := range ex.Conversations {
		if ex.Conversations[i], err = r.openConversation(c); err != nil {
			return store.Export{}, openError(err)
		}
	}
	if err := r.openMessages(ex.Messages); err != nil {
		return store.Export{}, openError(err)
	}
	return ex, nil
}

// SetProcessingBatch implements [store.ProcessingBatcher]; processing
// states hold no personal data.
func (s *Store) SetProcessingBatch(ctx context.Context, tenant channel.TenantID, updates []store.ProcessingUpdate) ([]store.MessageID, error) {
	if s.batcher == nil {
		return nil, unsupported("set processing", "ProcessingBatcher")
	}
	return s.batcher.SetProcessingBatch(ctx, tenant, updates)
}

// Lease implements [store.Leaser]; leases hold no personal data.
func (s *Store) Lease(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string, d time.Duration) (bool, error) {
	if s.leaser == nil {
		return false, unsupported("lease", "Leaser")
	}
	return s.leaser.Lease(ctx, tenant, conv, owner, d)
}

// Release implements [store.Leaser].
func (s *Store) Release(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string) error {
	if s.leaser == nil {
		return unsupported("release", "Leaser")
	}
	return s.leaser.Release(ctx, tenant, conv, owner)
}

// LeasePending implements [store.Leaser].
func (s *Store) LeasePending(ctx context.Context, owner string, d time.Duration, limit int) ([]store.Lease, error) {
	if s.leaser == nil {
		return nil, unsupported("lease pending", "Leaser")
	}
	return s.leaser.LeasePending(ctx, owner, d, limit)
}

// Conversations implements [store.ConversationLister]. The query's
// conditions (tenant, owner, operator, activity) are all in clear in the
// inner store; the conversations come back with their real addresses.
func (s *Store) Conversations(ctx context.Context, q store.ConversationQuery) ([]store.Conversation, error) {
	if s.lister == nil {
		return nil, unsupported("conversations", "ConversationLister")
	}
	cs, err := s.lister.Conversations(ctx, q)
	if err != nil {
		return nil, err
	}
	r := s.resolver(ctx, nil)
	for i, c := range cs {
		if cs[i], err = r.openConversation(c); err != nil {
			return nil, openError(err)
		}
	}
	return cs, nil
}

// Rotate rewraps the data key of the subject at addr with the keyring's
// primary key, when another key wraps it, and reports whether it did. A
// subject without a key is an error wrapping [ErrShredded].
func (s *Store) Rotate(ctx context.Context, addr channel.Address) (bool, error) {
	if !complete(addr) {
		return false, fmt.Errorf("sealed: rotate: incomplete address: %w", store.ErrInvalid)
	}
	did, err := s.keys.Rotate(ctx, string(addr.Tenant), s.subjectID(addr))
	if err != nil {
		return false, s.keyError("rotate", err)
	}
	return did, nil
}
