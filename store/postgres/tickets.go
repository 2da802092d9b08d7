package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

var (
	_ store.TicketSystem = (*Store)(nil)
	_ store.TicketPurger = (*Store)(nil)
	_ store.Tagger       = (*Store)(nil)
)

const ticketColumns = `id, tenant, number, subject_id, conversation_id, status, created_at, updated_at, title, summary`

// pgQuerier is what the ticket queries need of a transaction or the pool.
type pgQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// CreateTicket implements [store.TicketSystem].
func (s *Store) CreateTicket(ctx context.Context, n store.NewTicket) (store.Ticket, error) {
	const op = "create ticket"
	if err := s.start(ctx, op); err != nil {
		return store.Ticket{}, err
	}
	if err := n.Check(); err != nil {
		return store.Ticket{}, err
	}
	if n.Status == "" {
		n.Status = store.TicketOpen
	}
	subj, ok := parseID('s', string(n.Subject))
	if !ok {
		return store.Ticket{}, fmt.Errorf("postgres: %s: subject %s: %w", op, n.Subject, store.ErrNotFound)
	}
	var conv *int64
	if n.Conversation != "" {
		id, ok := parseID('c', string(n.Conversation))
		if !ok {
			return store.Ticket{}, fmt.Errorf("postgres: %s: conversation %s: %w", op, n.Conversation, store.ErrNotFound)
		}
		conv = &id
	}
	var t store.Ticket
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		// The subject's row is locked against an erasure until the ticket
		// is in.
		err := tx.QueryRow(ctx, s.sql(`SELECT 1 FROM wagent.subjects WHERE id = $1 AND tenant = $2 FOR SHARE`), subj, n.Tenant).Scan(new(int))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: %s: subject %s: %w", op, n.Subject, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		if conv != nil {
			var owner int64
			err := tx.QueryRow(ctx, s.sql(`SELECT subject_id FROM wagent.conversations WHERE id = $1 AND tenant = $2`), *conv, n.Tenant).Scan(&owner)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				return fmt.Errorf("postgres: %s: conversation %s: %w", op, n.Conversation, store.ErrNotFound)
			case err != nil:
				return err
			case owner != subj:
				return fmt.Errorf("postgres: %s: the conversation is not the subject's: %w", op, store.ErrInvalid)
			}
		}
		var seq int64
		if err := tx.QueryRow(ctx, s.sql(`INSERT INTO wagent.ticket_counters AS c (tenant, last) VALUES ($1, 1)
			ON CONFLICT (tenant) DO UPDATE SET last = c.last + 1 RETURNING last`), n.Tenant).Scan(&seq); err != nil {
			return err
		}
		now := s.clock()
		var id int64
		if err := tx.QueryRow(ctx, s.sql(`INSERT INTO wagent.tickets (tenant, seq, number, subject_id, conversation_id, status, created_at, updated_at, title, summary)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) RETURNING id`),
			n.Tenant, seq, store.TicketNumberFor(seq), subj, conv, n.Status, now, n.Title, n.Summary).Scan(&id); err != nil {
			return err
		}
		t, err = s.loadTicket(ctx, tx, `WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return store.Ticket{}, s.fail(ctx, op, err)
	}
	return t, nil
}

// Ticket implements [store.TicketSystem].
func (s *Store) Ticket(ctx context.Context, tenant channel.TenantID, number store.TicketNumber) (store.Ticket, error) {
	const op = "ticket"
	if err := s.start(ctx, op); err != nil {
		return store.Ticket{}, err
	}
	var t store.Ticket
	err := s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		t, err = s.loadTicket(ctx, tx, `WHERE tenant = $1 AND number = $2`, tenant, number)
		return err
	})
	if err != nil {
		return store.Ticket{}, s.fail(ctx, op, err)
	}
	return t, nil
}

// Tickets implements [store.TicketSystem].
func (s *Store) Tickets(ctx context.Context, q store.TicketQuery) ([]store.Ticket, error) {
	const op = "tickets"
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	if q.Tenant == "" || (q.Subject == "" && q.Conversation == "") || q.Limit < 0 {
		return nil, fmt.Errorf("postgres: %s: a tenant and a subject or conversation are required: %w", op, store.ErrInvalid)
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultTicketLimit
	}
	where := []string{"tenant = $1"}
	args := []any{q.Tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Subject != "" {
		id, ok := parseID('s', string(q.Subject))
		if !ok {
			return nil, nil
		}
		where = append(where, "subject_id = "+arg(id))
	}
	if q.Conversation != "" {
		id, ok := parseID('c', string(q.Conversation))
		if !ok {
			return nil, nil
		}
		where = append(where, "conversation_id = "+arg(id))
	}
	if len(q.Statuses) > 0 {
		st := make([]string, len(q.Statuses))
		for i, v := range q.Statuses {
			st[i] = string(v)
		}
		where = append(where, "status = ANY("+arg(st)+")")
	}
	query := `SELECT ` + ticketColumns + ` FROM wagent.tickets WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq DESC LIMIT ` + arg(limit)
	var out []store.Ticket
	err := s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, s.sql(query), args...)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			t, id, err := scanTicket(rows)
			if err != nil {
				rows.Close()
				return err
			}
			out, ids = append(out, t), append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			if out[i].Notes, err = s.loadNotes(ctx, tx, ids[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}

// AddTicketNote implements [store.TicketSystem].
func (s *Store) AddTicketNote(ctx context.Context, tenant channel.TenantID, number store.TicketNumber, note store.TicketNote) (store.Ticket, error) {
	if err := store.CheckNote(note); err != nil {
		return store.Ticket{}, err
	}
	return s.changeTicket(ctx, "add ticket note", tenant, number, func(tx pgx.Tx, id int64) error {
		at := note.Time
		if at.IsZero() {
			at = s.clock()
		}
		_, err := tx.Exec(ctx, s.sql(`INSERT INTO wagent.ticket_notes (ticket_id, time, author, text) VALUES ($1, $2, $3, $4)`), id, micro(at), note.Author, note.Text)
		return err
	})
}

// SetTicketStatus implements [store.TicketSystem].
func (s *Store) SetTicketStatus(ctx context.Context, tenant channel.TenantID, number store.TicketNumber, status store.TicketStatus) (store.Ticket, error) {
	if !status.Valid() {
		return store.Ticket{}, fmt.Errorf("postgres: set ticket status: unknown status: %w", store.ErrInvalid)
	}
	return s.changeTicket(ctx, "set ticket status", tenant, number, func(tx pgx.Tx, id int64) error {
		_, err := tx.Exec(ctx, s.sql(`UPDATE wagent.tickets SET status = $2 WHERE id = $1`), id, string(status))
		return err
	})
}

// changeTicket locks the ticket, applies change to it, sets its updated_at
// and returns it as changed.
func (s *Store) changeTicket(ctx context.Context, op string, tenant channel.TenantID, number store.TicketNumber, change func(tx pgx.Tx, id int64) error) (store.Ticket, error) {
	if err := s.start(ctx, op); err != nil {
		return store.Ticket{}, err
	}
	var t store.Ticket
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, s.sql(`SELECT id FROM wagent.tickets WHERE tenant = $1 AND number = $2 FOR UPDATE`), tenant, number).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("postgres: %s: ticket %s: %w", op, number, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		if err := change(tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, s.sql(`UPDATE wagent.tickets SET updated_at = greatest(updated_at, $2) WHERE id = $1`), id, s.clock()); err != nil {
			return err
		}
		t, err = s.loadTicket(ctx, tx, `WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return store.Ticket{}, s.fail(ctx, op, err)
	}
	return t, nil
}

func (s *Store) loadTicket(ctx context.Context, q pgQuerier, where string, args ...any) (store.Ticket, error) {
	t, id, err := scanTicket(q.QueryRow(ctx, s.sql(`SELECT `+ticketColumns+` FROM wagent.tickets `+where), args...))
	if err != nil {
		return store.Ticket{}, err
	}
	t.Notes, err = s.loadNotes(ctx, q, id)
	return t, err
}

func scanTicket(row pgx.Row) (store.Ticket, int64, error) {
	var (
		t                  store.Ticket
		id, subj           int64
		conv               *int64
		tenant, num, state string
	)
	if err := row.Scan(&id, &tenant, &num, &subj, &conv, &state, &t.CreatedAt, &t.UpdatedAt, &t.Title, &t.Summary); err != nil {
		return t, 0, err
	}
	t.Tenant, t.Number, t.Subject, t.Status = channel.TenantID(tenant), store.TicketNumber(num), subjectID(subj), store.TicketStatus(state)
	if conv != nil {
		t.Conversation = conversationID(*conv)
	}
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, id, nil
}

func (s *Store) loadNotes(ctx context.Context, q pgQuerier, ticket int64) ([]store.TicketNote, error) {
	rows, err := q.Query(ctx, s.sql(`SELECT time, author, text FROM wagent.ticket_notes WHERE ticket_id = $1 ORDER BY id`), ticket)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var notes []store.TicketNote
	for rows.Next() {
		var n store.TicketNote
		if err := rows.Scan(&n.Time, &n.Author, &n.Text); err != nil {
			return nil, err
		}
		n.Time = n.Time.UTC()
		notes = append(notes, n)
	}
	return notes, rows.Err()
}

// purgeTicketsBatch locks up to $7 closed tickets ($1) updated before $2,
// of tenant $3 (every tenant when empty), whose subject is on channel $4
// (every channel when empty) and not in $5, that hold text when $6
// (anonymizing), least recently updated first. Tickets locked by another
// purger are skipped, not waited for.
const purgeTicketsBatch = `SELECT t.id FROM wagent.tickets t JOIN wagent.subjects s ON s.id = t.subject_id
WHERE t.status = $1 AND t.updated_at < $2
AND ($3 = '' OR t.tenant = $3) AND ($4 = '' OR s.channel = $4)
AND t.subject_id <> ALL($5)
AND (NOT $6 OR t.title <> '' OR t.summary <> '' OR EXISTS (SELECT FROM wagent.ticket_notes n WHERE n.ticket_id = t.id AND n.text <> ''))
ORDER BY t.updated_at, t.id LIMIT $7
FOR UPDATE OF t SKIP LOCKED`

// PurgeTickets implements [store.TicketPurger]. One call is one
// transaction: it locks up to q.Limit matching tickets with FOR UPDATE SKIP
// LOCKED, so that purgers running at once on several instances take
// disjoint batches, changes them and commits. More reports that a matching
// ticket was left for the next call; tickets locked by another purger at
// that moment are not counted. Subjects in q.Except that are not ids of
// this store match nothing. Cleared and deleted text is no longer readable
// by any query; PostgreSQL frees the old row versions at the next VACUUM.
func (s *Store) PurgeTickets(ctx context.Context, q store.TicketPurgeQuery) (store.PurgeResult, error) {
	const op = "purge tickets"
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
	if q.Before.IsZero() {
		return store.PurgeResult{}, nil
	}
	except := make([]int64, 0, len(q.Except))
	for _, id := range q.Except {
		if n, ok := parseID('s', string(id)); ok {
			except = append(except, n)
		}
	}
	var res store.PurgeResult
	err := s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, s.sql(purgeTicketsBatch), string(store.TicketClosed), micro(q.Before),
			string(q.Tenant), string(q.Channel), except, q.Anonymize, int64(limit)+1)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if len(ids) > limit {
			ids, res.More = ids[:limit], true
		}
		if len(ids) == 0 {
			return nil
		}
		if !q.Anonymize {
			tag, err := tx.Exec(ctx, s.sql(`DELETE FROM wagent.tickets WHERE id = ANY($1)`), ids)
			res.Records = int(tag.RowsAffected())
			return err
		}
		tag, err := tx.Exec(ctx, s.sql(`UPDATE wagent.tickets SET title = '', summary = '' WHERE id = ANY($1)`), ids)
		if err != nil {
			return err
		}
		res.Records = int(tag.RowsAffected())
		_, err = tx.Exec(ctx, s.sql(`UPDATE wagent.ticket_notes SET text = '' WHERE ticket_id = ANY($1) AND text <> ''`), ids)
		return err
	})
	if err != nil {
		return store.PurgeResult{}, s.fail(ctx, op, err)
	}
	return res, nil
}

// SetTags implements [store.Tagger].
func (s *Store) SetTags(ctx context.Context, tenant channel.TenantID, id store.MessageID, t store.Tags) error {
	const op = "set tags"
	if err := s.start(ctx, op); err != nil {
		return err
	}
	if err := t.Check(); err != nil {
		return err
	}
	if t.Time.IsZero() {
		t.Time = s.clock()
	}
	t.Time = micro(t.Time)
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	err = s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var role string
		err := tx.QueryRow(ctx, s.sql(`SELECT role FROM wagent.messages WHERE id = $1 AND tenant = $2 FOR SHARE`), int64(id), tenant).Scan(&role)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("postgres: %s: record %d: %w", op, id, store.ErrNotFound)
		case err != nil:
			return err
		case role != string(store.User):
			return fmt.Errorf("postgres: %s: record %d is not inbound: %w", op, id, store.ErrInvalid)
		}
		_, err = tx.Exec(ctx, s.sql(`INSERT INTO wagent.message_tags (message_id, tags) VALUES ($1, $2)
			ON CONFLICT (message_id) DO UPDATE SET tags = excluded.tags`), int64(id), b)
		return err
	})
	if err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// Tags implements [store.Tagger].
func (s *Store) Tags(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Tags, error) {
	const op = "tags"
	if err := s.start(ctx, op); err != nil {
		return store.Tags{}, err
	}
	var b []byte
	err := s.pool.QueryRow(ctx, s.sql(`SELECT t.tags FROM wagent.message_tags t JOIN wagent.messages m ON m.id = t.message_id
		WHERE t.message_id = $1 AND m.tenant = $2`), int64(id), tenant).Scan(&b)
	if err != nil {
		return store.Tags{}, s.fail(ctx, op, err)
	}
	var t store.Tags
	if err := json.Unmarshal(b, &t); err != nil {
		return store.Tags{}, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return t, nil
}
