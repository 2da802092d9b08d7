package sealed

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// Capable returns s as a [store.ConversationStore] that also implements
// exactly the optional capabilities of the inner store among
// [store.Purger], [store.Eraser], [store.Exporter] and [store.Leaser], so
// that code discovering them by type assertion finds what the inner store
// can do and nothing else. Hand this value, not s, to the agent and the
// privacy engine.
//
// Eraser is among them only when the inner store implements both Eraser
// and Exporter: destroying a subject's data key needs the subject's blind
// address, which only an export tells.
func (s *Store) Capable() store.ConversationStore {
	type (
		C = *Store
		P = purger
		E = eraser
		X = exporter
		L = leaser
	)
	p, e, x, l := purger{s}, eraser{s}, exporter{s}, leaser{s}
	mask := 0
	if s.purger != nil {
		mask |= 1
	}
	if s.eraser != nil && s.exporter != nil {
		mask |= 2
	}
	if s.exporter != nil {
		mask |= 4
	}
	if s.leaser != nil {
		mask |= 8
	}
	switch mask {
	case 1:
		return struct {
			C
			P
		}{s, p}
	case 4:
		return struct {
			C
			X
		}{s, x}
	case 5:
		return struct {
			C
			P
			X
		}{s, p, x}
	case 6:
		return struct {
			C
			E
			X
		}{s, e, x}
	case 7:
		return struct {
			C
			P
			E
			X
		}{s, p, e, x}
	case 8:
		return struct {
			C
			L
		}{s, l}
	case 9:
		return struct {
			C
			P
			L
		}{s, p, l}
	case 12:
		return struct {
			C
			X
			L
		}{s, x, l}
	case 13:
		return struct {
			C
			P
			X
			L
		}{s, p, x, l}
	case 14:
		return struct {
			C
			E
			X
			L
		}{s, e, x, l}
	case 15:
		return struct {
			C
			P
			E
			X
			L
		}{s, p, e, x, l}
	}
	return struct{ C }{s} // mask 0: Eraser (2) never comes without Exporter (4)
}

type purger struct{ s *Store }

// Purge implements [store.Purger]: the inner store purges the sealed
// records by the same rule ([store.Message.WithoutContent],
// [store.Message.WithoutMedia]), because the sealed content and media
// references stay in the fields those rules clear.
func (p purger) Purge(ctx context.Context, q store.PurgeQuery) (store.PurgeResult, error) {
	return p.s.purger.Purge(ctx, q)
}

type eraser struct{ s *Store }

// Erase implements [store.Eraser]: it erases the subject in the inner
// store, then destroys the subject's data key, so that every copy of the
// subject's sealed records (a backup of the database, a replica that
// missed the erasure) can no longer be opened.
func (e eraser) Erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Erased, error) {
	return e.s.erase(ctx, tenant, subject)
}

func (s *Store) erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Erased, error) {
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

type exporter struct{ s *Store }

// Export implements [store.Exporter]: the subject's records, opened.
func (x exporter) Export(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Export, error) {
	ex, err := x.s.exporter.Export(ctx, tenant, subject)
	if err != nil {
		return store.Export{}, err
	}
	r := x.s.resolver(ctx, nil)
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

type leaser struct{ s *Store }

// Lease implements [store.Leaser]; leases hold no personal data.
func (l leaser) Lease(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string, d time.Duration) (bool, error) {
	return l.s.leaser.Lease(ctx, tenant, conv, owner, d)
}

// Release implements [store.Leaser].
func (l leaser) Release(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string) error {
	return l.s.leaser.Release(ctx, tenant, conv, owner)
}

// LeasePending implements [store.Leaser].
func (l leaser) LeasePending(ctx context.Context, owner string, d time.Duration, limit int) ([]store.Lease, error) {
	return l.s.leaser.LeasePending(ctx, owner, d, limit)
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
