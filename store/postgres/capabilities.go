package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// Purge implements [store.Purger]. One call is one transaction: it locks
// up to q.Limit matching records with FOR UPDATE SKIP LOCKED, so that
// purgers running at once on several instances take disjoint batches,
// changes them and commits. More reports that a matching record was left
// for the next call; records locked by another purger at that moment are
// not counted. It returns [store.ErrInvalid] for an unknown scope or a
// negative limit. Subjects in q.Except that are not ids of this store
// match nothing.
//
// PurgeContent and PurgeMedia rewrite the content column, so that what
// was removed is no longer readable by any query; PostgreSQL frees the old
// row versions at the next VACUUM.
func (s *Store) Purge(ctx context.Context, q store.PurgeQuery) (store.PurgeResult, error) {
	const op = "purge"
	if err := s.start(ctx, op); err != nil {
		return store.PurgeResult{}, err
	}
	if q.Limit < 0 {
		return store.PurgeResult{}, fmt.Errorf("postgres: %s: negative limit: %w", op, store.ErrInvalid)
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultPurgeLimit
	}
	var scope string
	switch q.Scope {
	case store.PurgeContent:
		scope = "NOT m.content_removed"
	case store.PurgeMedia:
		scope = "m.has_media"
	case store.PurgeRecords:
		scope = "true"
	default:
		return store.PurgeResult{}, fmt.Errorf("postgres: %s: unknown scope %d: %w", op, q.Scope, store.ErrInvalid)
	}
	except := make([]int64, 0, len(q.Except))
	for _, id := range q.Except {
		if n, ok := parseID('s', string(id)); ok {
			except = append(except, n)
		}
	}

	// The query is built from constant pieces; the values are arguments.
	var b strings.Builder
	b.WriteString("SELECT m.id, ")
	if q.Scope == store.PurgeRecords {
		b.WriteString("NULL::bytea")
	} else {
		b.WriteString("m.content")
	}
	b.WriteString(` FROM wagent.messages m JOIN wagent.conversations c ON c.id = m.conversation_id
	WHERE m.time < $1 AND NOT (m.role = 'user' AND m.process_state = 0) AND `)
	b.WriteString(scope)
	args := []any{micro(q.Before), int64(limit) + 1}
	if q.Tenant != "" {
		args = append(args, q.Tenant)
		fmt.Fprintf(&b, " AND m.tenant = $%d", len(args))
	}
	if q.Channel != "" {
		args = append(args, q.Channel)
		fmt.Fprintf(&b, " AND c.channel = $%d", len(args))
	}
	if len(except) > 0 {
		args = append(args, except)
		fmt.Fprintf(&b, " AND c.subject_id <> ALL($%d)", len(args))
	}
	b.WriteString(" ORDER BY m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED")
	selectBatch := b.String()

	var res store.PurgeResult
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, s.sql(selectBatch), args...)
		if err != nil {
			return err
		}
		var ids []int64
		var bodies [][]byte
		for rows.Next() {
			var id int64
			var body []byte
			if err := rows.Scan(&id, &body); err != nil {
				rows.Close()
				return err
			}
			ids, bodies = append(ids, id), append(bodies, body)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > limit {
			ids, bodies, res.More = ids[:limit], bodies[:limit], true
		}
		if len(ids) == 0 {
			return nil
		}
		if q.Scope == store.PurgeRecords {
			tag, err := tx.Exec(ctx, s.sql("DELETE FROM wagent.messages WHERE id = ANY($1)"), ids)
			res.Records = int(tag.RowsAffected())
			return err
		}
		media := make([]bool, len(ids))
		for i, body := range bodies {
			m := store.Message{ID: store.MessageID(ids[i])}
			if err := decodeContent(body, &m); err != nil {
				return err
			}
			if q.Scope == store.PurgeContent {
				m = m.WithoutContent()
			} else {
				m, _ = m.WithoutMedia()
			}
			c := contentOf(&m)
			if bodies[i], media[i], err = c.encode(); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, s.sql(`UPDATE wagent.messages m
	SET content = v.content, has_media = v.has_media, content_removed = m.content_removed OR $4
	FROM unnest($1::bigint[], $2::bytea[], $3::boolean[]) AS v (id, content, has_media)
	WHERE m.id = v.id`), ids, bodies, media, q.Scope == store.PurgeContent)
		res.Records = int(tag.RowsAffected())
		return err
	})
	if err != nil {
		return store.PurgeResult{}, s.fail(ctx, op, err)
	}
	return res, nil
}

// Erase implements [store.Eraser]. It deletes the subject's records, its
// conversations and their leases, and the subject with its profile and
// phone, in one transaction: the rows are gone for every query once it
// returns, and PostgreSQL frees their space at the next VACUUM.
func (s *Store) Erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Erased, error) {
	const op = "erase"
	if err := s.start(ctx, op); err != nil {
		return store.Erased{}, err
	}
	subj, ok := parseID('s', string(subject))
	if !ok {
		return store.Erased{}, nil
	}
	var e store.Erased
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		// Lock the conversations first, as AppendInbound does, then
		// delete from the records up.
		rows, err := tx.Query(ctx, s.sql(`SELECT id FROM wagent.conversations WHERE subject_id = $1 AND tenant = $2 ORDER BY id FOR UPDATE`), subj, tenant)
		if err != nil {
			return err
		}
		convs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, s.sql(`DELETE FROM wagent.messages WHERE conversation_id = ANY($1)`), convs)
		if err != nil {
			return err
		}
		e.Messages = int(tag.RowsAffected())
		if tag, err = tx.Exec(ctx, s.sql(`DELETE FROM wagent.conversations WHERE id = ANY($1)`), convs); err != nil {
			return err
		}
		e.Conversations = int(tag.RowsAffected())
		if tag, err = tx.Exec(ctx, s.sql(`DELETE FROM wagent.subjects WHERE id = $1 AND tenant = $2`), subj, tenant); err != nil {
			return err
		}
		e.Subjects = int(tag.RowsAffected())
		return nil
	})
	if err != nil {
		return store.Erased{}, s.fail(ctx, op, err)
	}
	return e, nil
}

// Export implements [store.Exporter]. It reads in one repeatable-read
// transaction, so that the export is a consistent snapshot.
func (s *Store) Export(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (store.Export, error) {
	const op = "export"
	if err := s.start(ctx, op); err != nil {
		return store.Export{}, err
	}
	subj, ok := parseID('s', string(subject))
	if !ok {
		return store.Export{}, fmt.Errorf("postgres: %s: subject %s: %w", op, subject, store.ErrNotFound)
	}
	var x store.Export
	err := s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		x.Subject, err = scanSubject(tx.QueryRow(ctx, s.sql(`SELECT `+subjectCols+` FROM wagent.subjects s WHERE s.id = $1 AND s.tenant = $2`), subj, tenant))
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, s.sql(`SELECT `+conversationCols+` FROM wagent.conversations c WHERE c.subject_id = $1 AND c.tenant = $2 ORDER BY c.id`), subj, tenant)
		if err != nil {
			return err
		}
		x.Conversations, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Conversation, error) { return scanConversation(r) })
		if err != nil {
			return err
		}
		if x.Conversations == nil {
			x.Conversations = []store.Conversation{}
		}
		x.Messages, err = scanMessages(tx.Query(ctx, s.sql(`SELECT `+messageCols+` FROM wagent.messages m
	JOIN wagent.conversations c ON c.id = m.conversation_id
	WHERE c.subject_id = $1 AND c.tenant = $2 AND m.tenant = $2
	ORDER BY m.conversation_id, m.turn, m.id`), subj, tenant))
		if x.Messages == nil {
			x.Messages = []store.Message{}
		}
		return err
	})
	if err != nil {
		return store.Export{}, s.fail(ctx, fmt.Sprintf("%s: subject %s", op, subject), err)
	}
	return x, nil
}

// lease grants the lease of conversation $1 of tenant $2 to $3 until $4,
// unless another owner holds one that has not expired at $5. It returns a
// row when $3 holds the lease afterwards.
const lease = `INSERT INTO wagent.leases AS l (conversation_id, tenant, owner, until)
SELECT id, tenant, $3, $4 FROM wagent.conversations WHERE id = $1 AND tenant = $2
ON CONFLICT (conversation_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
WHERE l.owner = excluded.owner OR l.until <= $5
RETURNING l.until`

// Lease implements [store.Leaser]. Expiry is measured with the store's
// clock (Options.Now), so the clocks of instances sharing a database must
// agree to well within the lease durations. It returns [store.ErrInvalid]
// for an empty owner or a duration that is not positive, and
// [store.ErrNotFound] when the conversation is not the tenant's.
func (s *Store) Lease(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string, d time.Duration) (bool, error) {
	const op = "lease"
	if err := s.start(ctx, op); err != nil {
		return false, err
	}
	if owner == "" || d <= 0 {
		return false, fmt.Errorf("postgres: %s: owner and a positive duration required: %w", op, store.ErrInvalid)
	}
	n, ok := parseID('c', string(conv))
	if !ok {
		return false, fmt.Errorf("postgres: %s: conversation %s: %w", op, conv, store.ErrNotFound)
	}
	now := s.clock()
	var until time.Time
	err := s.pool.QueryRow(ctx, s.sql(lease), n, tenant, owner, micro(now.Add(d)), now).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		// Held by another owner, or no such conversation.
		if _, err = s.conversation(ctx, s.pool, tenant, conv); err == nil {
			return false, nil
		}
	}
	if err != nil {
		return false, s.fail(ctx, fmt.Sprintf("%s: conversation %s", op, conv), err)
	}
	return true, nil
}

// Release implements [store.Leaser].
func (s *Store) Release(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, owner string) error {
	const op = "release"
	if err := s.start(ctx, op); err != nil {
		return err
	}
	n, ok := parseID('c', string(conv))
	if !ok {
		return nil
	}
	_, err := s.pool.Exec(ctx, s.sql(`DELETE FROM wagent.leases WHERE conversation_id = $1 AND tenant = $2 AND owner = $3`), n, tenant, owner)
	if err != nil {
		return s.fail(ctx, fmt.Sprintf("%s: conversation %s", op, conv), err)
	}
	return nil
}

// leasePending leases to $1 until $3 up to $4 conversations with pending
// inbound records and no lease of another owner unexpired at $2, oldest
// pending record first, leaving out the conversations in $5. Conversation
// rows locked by another transaction (another LeasePending, or an append
// in progress) are skipped, not waited for; the lease upsert's guard keeps
// the sets disjoint even when a lease committed after this statement's
// snapshot. It returns every candidate, with a null until for those whose
// lease another owner committed first.
const leasePending = `WITH cand AS (
	SELECT c.id, c.tenant, p.first
	FROM (
		SELECT conversation_id, min(id) AS first FROM wagent.messages
		WHERE role = 'user' AND process_state = 0
		GROUP BY conversation_id
	) p
	JOIN wagent.conversations c ON c.id = p.conversation_id
	WHERE NOT EXISTS (
		SELECT FROM wagent.leases l WHERE l.conversation_id = c.id AND l.owner <> $1 AND l.until > $2
	) AND c.id <> ALL($5::bigint[])
	ORDER BY p.first
	LIMIT $4
	FOR NO KEY UPDATE OF c SKIP LOCKED
), up AS (
	INSERT INTO wagent.leases AS l (conversation_id, tenant, owner, until)
	SELECT id, tenant, $1, $3 FROM cand
	ON CONFLICT (conversation_id) DO UPDATE SET owner = excluded.owner, until = excluded.until
	WHERE l.owner = excluded.owner OR l.until <= $2
	RETURNING l.conversation_id, l.until
)
SELECT cand.tenant, cand.id, up.until FROM cand LEFT JOIN up ON up.conversation_id = cand.id
ORDER BY cand.first`

// leaseRounds bounds the statements one LeasePending runs.
const leaseRounds = 4

// LeasePending implements [store.Leaser]. Each round is one statement: it
// locks candidate conversations with FOR UPDATE SKIP LOCKED, so that
// instances calling at once never wait for each other and get disjoint
// sets, and upserts their leases. A candidate another instance leased
// after the statement's snapshot was taken is lost to it; then another
// round, with a fresh snapshot, leases what is left, up to limit in all.
// The leases returned include conversations owner already held, renewed.
// It returns [store.ErrInvalid] for an empty owner, a duration or a limit
// that is not positive.
func (s *Store) LeasePending(ctx context.Context, owner string, d time.Duration, limit int) ([]store.Lease, error) {
	const op = "lease pending"
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	if owner == "" || d <= 0 || limit <= 0 {
		return nil, fmt.Errorf("postgres: %s: owner, a positive duration and a positive limit required: %w", op, store.ErrInvalid)
	}
	var leases []store.Lease
	taken := []int64{}
	for range leaseRounds {
		now := s.clock()
		rows, err := s.pool.Query(ctx, s.sql(leasePending), owner, now, micro(now.Add(d)), int64(limit-len(leases)), taken)
		if err != nil {
			return nil, s.fail(ctx, op, err)
		}
		lost := 0
		var l store.Lease
		var tenant string
		var conv int64
		var until *time.Time
		_, err = pgx.ForEachRow(rows, []any{&tenant, &conv, &until}, func() error {
			taken = append(taken, conv)
			if until == nil {
				lost++
				return nil
			}
			l = store.Lease{Tenant: channel.TenantID(tenant), Conversation: conversationID(conv), Owner: owner, Until: until.UTC()}
			leases = append(leases, l)
			return nil
		})
		if err != nil {
			return nil, s.fail(ctx, op, err)
		}
		if lost == 0 || len(leases) >= limit {
			break
		}
	}
	return leases, nil
}

// Vacuum reclaims the space of the rows that erasures and purges deleted
// or rewrote, in every table of the store's schema. A row deleted in
// PostgreSQL is gone for every query at once, but its bytes stay in the
// table's file until the space is reused.
//
// With full, VACUUM FULL rewrites each table into a new file and removes
// the old one, so that no byte of an erased or purged row remains in the
// table files: run it when a privacy promise says erased data is gone
// from disk, after a batch of erasures or a retention run. It locks each
// table exclusively while it rewrites it (about a second per hundred
// thousand rows on a small server), so the store's other calls wait:
// run it off-peak. Without full, a plain VACUUM marks the space reusable
// without blocking, and the old bytes stay until they are overwritten.
// The server's write-ahead log and its backups are aged out by their own
// settings, which the operator owns.
func (s *Store) Vacuum(ctx context.Context, full bool) error {
	const op = "vacuum"
	if err := s.start(ctx, op); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_class c
	WHERE c.relnamespace = $1::regnamespace AND c.relkind = 'r' ORDER BY c.relname`, s.schema)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return s.fail(ctx, op, err)
	}
	cmd := "VACUUM "
	if full {
		cmd = "VACUUM FULL "
	}
	for _, t := range tables {
		if _, err := s.pool.Exec(ctx, cmd+s.schema+"."+pgx.Identifier{t}.Sanitize()); err != nil {
			return s.fail(ctx, op+" "+t, err)
		}
	}
	return nil
}
