package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// Purge implements [store.Purger]. One call is one transaction. It finds
// the records by an index on (content_removed, time), or on time for the
// records with media, oldest first. It returns [store.ErrInvalid] for an
// unknown scope or a negative Limit.
//
// Deleted and stripped content is overwritten in the database file; call
// [Store.Checkpoint] afterwards to clear it from the write-ahead log too.
func (s *Store) Purge(ctx context.Context, q store.PurgeQuery) (store.PurgeResult, error) {
	const op = "purge"
	if err := ctx.Err(); err != nil {
		return store.PurgeResult{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	var holds string
	switch q.Scope {
	case store.PurgeContent:
		holds = "m.content_removed = 0"
	case store.PurgeMedia:
		holds = "m.has_media = 1"
	case store.PurgeRecords:
		holds = "m.content_removed IN (0, 1)" // lets the retention index serve
	}
	if holds == "" || q.Limit < 0 {
		return store.PurgeResult{}, fmt.Errorf("sqlite: %s: unknown scope or negative limit: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return store.PurgeResult{}, errClosed
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultPurgeLimit
	}
	except := make([]int64, 0, len(q.Except))
	for _, id := range q.Except {
		if n, ok := parseSubject(id); ok {
			except = append(except, n)
		}
	}
	exceptJSON, _ := json.Marshal(except) // a text argument: json_each reads a blob as JSONB
	query := `SELECT m.id FROM messages m JOIN conversations c ON c.id = m.conversation
		WHERE ` + holds + ` AND m.time < ?1
		AND (?2 = '' OR m.tenant = ?2) AND (?3 = '' OR m.channel = ?3)
		AND NOT (m.role = 'user' AND m.process_state = 0)
		AND c.subject NOT IN (SELECT value FROM json_each(?4))
		ORDER BY m.time, m.id LIMIT ?5 + 0`

	var res store.PurgeResult
	err := s.write(ctx, func(tx *wtx) error {
		res = store.PurgeResult{}
		if q.Before.IsZero() {
			return nil
		}
		ids, err := tx.ids(query, micros(q.Before), string(q.Tenant), string(q.Channel), string(exceptJSON), limit+1)
		if err != nil {
			return err
		}
		if len(ids) > limit {
			ids, res.More = ids[:limit], true
		}
		for _, id := range ids {
			if err := tx.purge(id, q.Scope); err != nil {
				return err
			}
		}
		res.Records = len(ids)
		return nil
	})
	if err != nil {
		return store.PurgeResult{}, s.failed(op, err)
	}
	return res, nil
}

// ids returns the ids the query selects.
func (tx *wtx) ids(query string, args ...any) ([]int64, error) {
	rows, err := tx.conn.QueryContext(context.Background(), query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// purge applies scope to the record id.
func (tx *wtx) purge(id int64, scope store.PurgeScope) error {
	if scope == store.PurgeRecords {
		_, err := tx.stmts.deleteMessage.Exec(id)
		return err
	}
	var inbound, parts, outbound []byte
	err := tx.conn.QueryRowContext(context.Background(), `SELECT inbound, parts, outbound FROM messages WHERE id = ?1`, id).
		Scan(&inbound, &parts, &outbound)
	if err != nil {
		return err
	}
	m := store.Message{ID: store.MessageID(id)}
	if err := decodeContent(&m, inbound, parts, outbound); err != nil {
		return err
	}
	if scope == store.PurgeContent {
		m = m.WithoutContent()
	} else {
		m, _ = m.WithoutMedia()
	}
	c, err := encodeContent(&m)
	if err != nil {
		return fmt.Errorf("message %d: %w", id, err)
	}
	_, err = tx.stmts.setContent.Exec(id, boolInt(m.ContentRemoved), boolInt(c.hasMedia), c.inbound, c.parts, c.outbound)
	return err
}

// Erase implements [store.Eraser]. The rows are deleted in one
// transaction, and their content overwritten in the database file; call
// [Store.Checkpoint] afterwards to clear it from the write-ahead log too.
// Erased ids are never given again.
func (s *Store) Erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Erased, error) {
	const op = "erase"
	if err := ctx.Err(); err != nil {
		return store.Erased{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return store.Erased{}, errClosed
	}
	sid, ok := parseSubject(subject)
	if !ok {
		return store.Erased{}, nil
	}
	var e store.Erased
	err := s.write(ctx, func(tx *wtx) error {
		e = store.Erased{}
		err := tx.stmts.subject.QueryRow(sid, string(tenant)).Scan(new(int64))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return err
		}
		counts := []struct {
			stmt *sql.Stmt
			n    *int
		}{
			{tx.stmts.deleteMessagesOf, &e.Messages},
			{tx.stmts.deleteConversationsOf, &e.Conversations},
			{tx.stmts.deleteSubject, &e.Subjects},
		}
		for _, c := range counts {
			res, err := c.stmt.Exec(sid)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			*c.n = int(n)
		}
		return nil
	})
	if err != nil {
		return store.Erased{}, s.failed(op, err)
	}
	return e, nil
}

// Export implements [store.Exporter]. It reads in one transaction, so that
// the export is consistent.
func (s *Store) Export(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Export, error) {
	const op = "export"
	if err := ctx.Err(); err != nil {
		return store.Export{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return store.Export{}, errClosed
	}
	sid, ok := parseSubject(subject)
	if !ok {
		return store.Export{}, fmt.Errorf("sqlite: %s: subject %s: %w", op, subject, store.ErrNotFound)
	}
	tx, err := s.rdb.BeginTx(ctx, nil)
	if err != nil {
		return store.Export{}, s.failed(op, err)
	}
	defer tx.Rollback() //nolint:errcheck // read only
	var e store.Export
	if e.Subject, err = scanSubject(tx.StmtContext(ctx, s.read.subject).QueryRowContext(ctx, sid, string(tenant))); err != nil {
		return store.Export{}, s.failed(fmt.Sprintf("%s: subject %s", op, subject), err)
	}
	e.Conversations, err = s.exportConversations(ctx, tx, sid)
	if err != nil {
		return store.Export{}, s.failed(op, err)
	}
	e.Messages = []store.Message{}
	records := tx.StmtContext(ctx, s.read.recordsOf)
	for _, c := range e.Conversations {
		cid, _ := parseConversation(c.ID)
		ms, err := collect(records.QueryContext(ctx, cid))
		if err != nil {
			return store.Export{}, s.failed(op, err)
		}
		e.Messages = append(e.Messages, ms...)
	}
	return e, nil
}

func (s *Store) exportConversations(ctx context.Context, tx *sql.Tx, sid int64) ([]store.Conversation, error) {
	rows, err := tx.StmtContext(ctx, s.read.conversationsOf).QueryContext(ctx, sid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []store.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Lease implements [store.Leaser], with the times of [Options.Now]. It
// returns [store.ErrInvalid] for an empty owner or a duration that is not
// positive.
func (s *Store) Lease(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string, d time.Duration) (bool, error) {
	const op = "lease"
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if owner == "" || d <= 0 {
		return false, fmt.Errorf("sqlite: %s: owner and a positive duration required: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return false, errClosed
	}
	cid, ok := parseConversation(conv)
	if !ok {
		return false, fmt.Errorf("sqlite: %s: conversation %s: %w", op, conv, store.ErrNotFound)
	}
	var held bool
	err := s.write(ctx, func(tx *wtx) error {
		held = false
		now := micros(s.clock())
		var holder string
		var until int64
		err := tx.stmts.leaseOf.QueryRow(cid, string(tenant)).Scan(&holder, &until)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("conversation %s: %w", conv, store.ErrNotFound)
		case err != nil:
			return err
		case holder != "" && holder != owner && until > now:
			return nil
		}
		if _, err := tx.stmts.setLease.Exec(cid, owner, now+d.Microseconds()); err != nil {
			return err
		}
		held = true
		return nil
	})
	if err != nil {
		return false, s.failed(op, err)
	}
	return held, nil
}

// Release implements [store.Leaser]. Releasing a conversation that is not
// the tenant's changes nothing and returns nil.
func (s *Store) Release(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string) error {
	const op = "release"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return errClosed
	}
	cid, ok := parseConversation(conv)
	if !ok || owner == "" {
		return nil
	}
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.stmts.unlease.Exec(cid, string(tenant), owner)
		return err
	})
	return s.failed(op, err)
}

// LeasePending implements [store.Leaser], with the times of [Options.Now].
// Calls are serialized by the write lock, so racing calls, also from other
// processes, get disjoint sets. It returns [store.ErrInvalid] for an empty
// owner, a duration that is not positive or a limit below 1.
func (s *Store) LeasePending(ctx context.Context, owner string, d time.Duration, limit int) ([]store.Lease, error) {
	const op = "lease pending"
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if owner == "" || d <= 0 || limit < 1 {
		return nil, fmt.Errorf("sqlite: %s: owner, a positive duration and limit required: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return nil, errClosed
	}
	var out []store.Lease
	err := s.write(ctx, func(tx *wtx) error {
		out = nil
		now := s.clock()
		until := now.Add(d)
		rows, err := tx.stmts.leasable.Query(owner, micros(now), int64(limit))
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			var tenant string
			if err := rows.Scan(&id, &tenant); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			out = append(out, store.Lease{Tenant: channel.TenantID(tenant), Conversation: conversationID(id), Owner: owner, Until: until})
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.stmts.setLease.Exec(id, owner, micros(until)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.failed(op, err)
	}
	return out, nil
}
