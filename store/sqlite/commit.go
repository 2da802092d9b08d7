package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/wagent/wagent/store"
)

// maxBatch caps the writes one transaction commits.
const maxBatch = 512

// A write is one call's change to the database: fn runs inside the write
// transaction of a batch and returns the call's error.
type write struct {
	ctx context.Context
	fn  func(tx *wtx) error
	err error
	// wake receives one signal: the write is done (err is set), or it was
	// made the leader of the next batch (lead is set).
	wake chan struct{}
	lead bool
}

// write runs fn in a write transaction and returns its error once the
// transaction is committed, or the error that kept it from committing.
//
// Writes are committed in batches (group commit), without a goroutine of
// their own: a caller that finds no batch in progress becomes the leader,
// takes every write queued so far (its own first) into one transaction,
// commits it with one sync, hands the lead to the first write queued
// meanwhile, and wakes the writers of its batch. A write that fails is
// undone alone (see try). A write whose ctx is done before its batch
// starts is dropped and returns ctx's error.
//
// fn must return the store's own errors ([store.ErrNotFound],
// [store.ErrInvalid]) only before it changes anything.
func (s *Store) write(ctx context.Context, fn func(tx *wtx) error) error {
	w := &write{ctx: ctx, fn: fn, wake: make(chan struct{}, 1)}
	s.mu.Lock()
	if s.writesClosed {
		s.mu.Unlock()
		return errClosed
	}
	s.queue = append(s.queue, w)
	leader := !s.leading
	s.leading = true
	s.mu.Unlock()

	if !leader {
		select {
		case <-w.wake:
		case <-ctx.Done():
			s.mu.Lock()
			if !w.lead && s.dequeue(w) {
				s.mu.Unlock()
				return ctx.Err()
			}
			s.mu.Unlock()
			<-w.wake
		}
		if !w.lead {
			return w.err
		}
	}
	s.lead()
	return w.err
}

// dequeue removes w from the queue and reports whether it was there.
// s.mu must be held.
func (s *Store) dequeue(w *write) bool {
	for i, q := range s.queue {
		if q == w {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			return true
		}
	}
	return false
}

// lead commits the queued writes as the leader. Its caller's write is the
// first in the queue. It wakes the other writes of the batch, and the first
// write queued after the batch was taken to lead the next one.
func (s *Store) lead() {
	s.mu.Lock()
	n := min(len(s.queue), maxBatch)
	batch := s.queue[:n:n]
	s.queue = append(make([]*write, 0, max(len(s.queue)-n, 64)), s.queue[n:]...)
	s.mu.Unlock()

	s.commit(batch)

	s.mu.Lock()
	if len(s.queue) > 0 {
		next := s.queue[0]
		next.lead = true
		next.wake <- struct{}{}
	} else {
		s.leading = false
		s.idle.Broadcast()
	}
	s.mu.Unlock()
	for _, w := range batch[1:] {
		w.wake <- struct{}{}
	}
}

// commit runs the writes of batch in one transaction and sets their
// errors. An error of the store's own checks (not found, invalid) leaves
// the transaction as it was; any other error may have come from SQLite,
// which may have rolled back the whole transaction on its own, so it rolls
// back the transaction, and the other writes are tried again without the
// one that failed.
func (s *Store) commit(batch []*write) {
	todo := make([]*write, 0, len(batch))
	for _, w := range batch {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			continue
		}
		todo = append(todo, w)
	}
	for len(todo) > 0 {
		failed, err := s.try(todo)
		switch {
		case err == nil:
			return
		case failed < 0: // the transaction as a whole failed
			for _, w := range todo {
				if w.err == nil {
					w.err = err
				}
			}
			return
		}
		todo[failed].err = err
		todo = append(todo[:failed], todo[failed+1:]...)
		for _, w := range todo {
			w.err = nil
		}
	}
}

// try runs todo in one transaction. It returns a nil error when the
// transaction committed (each write's own error set); otherwise it rolls
// back and returns the error with the index of the write that caused it,
// or -1 when none did.
//
// The writes share the transaction without savepoints: a savepoint makes
// SQLite copy every page a write changes to a statement journal, which
// cost more than the rest of an append. A write that fails one of the
// store's own checks has changed nothing, as the write functions are
// written; in a batch of several, the count of changes SQLite keeps
// (total_changes) is compared before and after such a write to make sure,
// and a write that did change rows is rolled back with the transaction
// like any other failure, the others then tried again without it.
func (s *Store) try(todo []*write) (failed int, err error) {
	tx := s.tx
	if _, err := tx.stmts.begin.Exec(); err != nil {
		return -1, fmt.Errorf("sqlite: begin: %w", err)
	}
	several := len(todo) > 1
	var changes int64
	for i, w := range todo {
		if err := w.ctx.Err(); err != nil {
			w.err = err
			continue
		}
		if several {
			if changes, err = tx.changes(); err != nil {
				return -1, s.rollback(err)
			}
		}
		w.err = run(tx, w)
		switch {
		case w.err == nil:
			continue
		case !isOwnError(w.err) || !several:
			return i, s.rollback(w.err)
		}
		after, err := tx.changes()
		if err != nil {
			return -1, s.rollback(err)
		}
		if after != changes {
			return i, s.rollback(w.err)
		}
	}
	if _, err := tx.stmts.commit.Exec(); err != nil {
		return -1, s.rollback(fmt.Errorf("sqlite: commit: %w", err))
	}
	return 0, nil
}

// changes returns the number of rows changed on the writer connection
// since it was opened.
func (tx *wtx) changes() (int64, error) {
	var n int64
	if err := tx.stmts.totalChanges.QueryRow().Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: total changes: %w", err)
	}
	return n, nil
}

// rollback rolls the write transaction back and returns err. A transaction
// that SQLite rolled back already is not an error.
func (s *Store) rollback(err error) error {
	s.tx.stmts.rollback.Exec() //nolint:errcheck // SQLite may have rolled back on its own.
	return err
}

// run calls w.fn, turning a panic into an error so that the batch and its
// other writers are not left hanging.
func run(tx *wtx, w *write) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in write: %v", p)
		}
	}()
	return w.fn(tx)
}

// isOwnError reports whether err is one of the store's own checks, which
// leave the transaction as it was.
func isOwnError(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid)
}
