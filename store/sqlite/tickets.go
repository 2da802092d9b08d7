package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

var (
	_ store.TicketSystem = (*Store)(nil)
	_ store.TicketPurger = (*Store)(nil)
	_ store.Tagger       = (*Store)(nil)
)

// querier is what the ticket queries need of the writer's connection and
// of the read pool.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const ticketColumns = `id, tenant, number, subject, conversation, status, created_at, updated_at, title, summary`

// CreateTicket implements [store.TicketSystem].
func (s *Store) CreateTicket(ctx context.Context, n store.NewTicket) (store.Ticket, error) {
	const op = "create ticket"
	if err := s.ready(ctx, op); err != nil {
		return store.Ticket{}, err
	}
	if err := n.Check(); err != nil {
		return store.Ticket{}, err
	}
	if n.Status == "" {
		n.Status = store.TicketOpen
	}
	sid, ok := parseSubject(n.Subject)
	if !ok {
		return store.Ticket{}, fmt.Errorf("sqlite: %s: subject %s: %w", op, n.Subject, store.ErrNotFound)
	}
	var cid sql.NullInt64
	if n.Conversation != "" {
		id, ok := parseConversation(n.Conversation)
		if !ok {
			return store.Ticket{}, fmt.Errorf("sqlite: %s: conversation %s: %w", op, n.Conversation, store.ErrNotFound)
		}
		cid = sql.NullInt64{Int64: id, Valid: true}
	}
	var t store.Ticket
	err := s.write(ctx, func(tx *wtx) error {
		c, wctx := tx.conn, context.WithoutCancel(ctx)
		if err := c.QueryRowContext(wctx, `SELECT 1 FROM subjects WHERE id = ?1 AND tenant = ?2`, sid, string(n.Tenant)).Scan(new(int)); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("sqlite: %s: subject %s: %w", op, n.Subject, store.ErrNotFound)
			}
			return err
		}
		if cid.Valid {
			var owner int64
			err := c.QueryRowContext(wctx, `SELECT subject FROM conversations WHERE id = ?1 AND tenant = ?2`, cid.Int64, string(n.Tenant)).Scan(&owner)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("sqlite: %s: conversation %s: %w", op, n.Conversation, store.ErrNotFound)
			case err != nil:
				return err
			case owner != sid:
				return fmt.Errorf("sqlite: %s: the conversation is not the subject's: %w", op, store.ErrInvalid)
			}
		}
		var seq int64
		if err := c.QueryRowContext(wctx, `INSERT INTO ticket_counters (tenant, last) VALUES (?1, 1)
			ON CONFLICT (tenant) DO UPDATE SET last = last + 1 RETURNING last`, string(n.Tenant)).Scan(&seq); err != nil {
			return err
		}
		now := micros(s.clock())
		res, err := c.ExecContext(wctx, `INSERT INTO tickets (tenant, seq, number, subject, conversation, status, created_at, updated_at, title, summary)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8, ?9)`,
			string(n.Tenant), seq, string(store.TicketNumberFor(seq)), sid, cid, string(n.Status), now, n.Title, n.Summary)
		if err != nil {
			return err
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		t, err = loadTicket(wctx, c, `WHERE id = ?1`, id)
		return err
	})
	if err != nil {
		return store.Ticket{}, s.failed(op, err)
	}
	return t, nil
}

// Ticket implements [store.TicketSystem].
func (s *Store) Ticket(ctx context.Context, tenant channel.TenantID, number store.TicketNumber) (store.Ticket, error) {
	const op = "ticket"
	if err := s.ready(ctx, op); err != nil {
		return store.Ticket{}, err
	}
	t, err := loadTicket(ctx, s.rdb, `WHERE tenant = ?1 AND number = ?2`, string(tenant), string(number))
	return t, s.failed(op, err)
}

// Tickets implements [store.TicketSystem].
func (s *Store) Tickets(ctx context.Context, q store.TicketQuery) ([]store.Ticket, error) {
	const op = "tickets"
	if err := s.ready(ctx, op); err != nil {
		return nil, err
	}
	if q.Tenant == "" || (q.Subject == "" && q.Conversation == "") || q.Limit < 0 {
		return nil, fmt.Errorf("sqlite: %s: a tenant and a subject or conversation are required: %w", op, store.ErrInvalid)
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultTicketLimit
	}
	where := []string{"tenant = ?"}
	args := []any{string(q.Tenant)}
	if q.Subject != "" {
		sid, ok := parseSubject(q.Subject)
		if !ok {
			return nil, nil
		}
		where, args = append(where, "subject = ?"), append(args, sid)
	}
	if q.Conversation != "" {
		cid, ok := parseConversation(q.Conversation)
		if !ok {
			return nil, nil
		}
		where, args = append(where, "conversation = ?"), append(args, cid)
	}
	if len(q.Statuses) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(q.Statuses)-1)+")")
		for _, st := range q.Statuses {
			args = append(args, string(st))
		}
	}
	args = append(args, limit)
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE `+strings.Join(where, " AND ")+` ORDER BY seq DESC LIMIT ?`, args...)
	if err != nil {
		return nil, s.failed(op, err)
	}
	var out []store.Ticket
	var ids []int64
	for rows.Next() {
		t, id, err := scanTicket(rows)
		if err != nil {
			rows.Close()
			return nil, s.failed(op, err)
		}
		out, ids = append(out, t), append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, s.failed(op, err)
	}
	for i := range out {
		if out[i].Notes, err = loadNotes(ctx, s.rdb, ids[i]); err != nil {
			return nil, s.failed(op, err)
		}
	}
	return out, nil
}

// AddTicketNote implements [store.TicketSystem].
func (s *Store) AddTicketNote(ctx context.Context, tenant channel.TenantID, number store.TicketNumber, note store.TicketNote) (store.Ticket, error) {
	if err := store.CheckNote(note); err != nil {
		return store.Ticket{}, err
	}
	return s.changeTicket(ctx, "add ticket note", tenant, number, func(wctx context.Context, c *sql.Conn, id, now int64) error {
		at := now
		if !note.Time.IsZero() {
			at = micros(note.Time)
		}
		_, err := c.ExecContext(wctx, `INSERT INTO ticket_notes (ticket, time, author, text) VALUES (?1, ?2, ?3, ?4)`, id, at, note.Author, note.Text)
		return err
	})
}

// SetTicketStatus implements [store.TicketSystem].
func (s *Store) SetTicketStatus(ctx context.Context, tenant channel.TenantID, number store.TicketNumber, status store.TicketStatus) (store.Ticket, error) {
	if !status.Valid() {
		return store.Ticket{}, fmt.Errorf("sqlite: set ticket status: unknown status: %w", store.ErrInvalid)
	}
	return s.changeTicket(ctx, "set ticket status", tenant, number, func(wctx context.Context, c *sql.Conn, id, _ int64) error {
		_, err := c.ExecContext(wctx, `UPDATE tickets SET status = ?2 WHERE id = ?1`, id, string(status))
		return err
	})
}

// changeTicket finds the ticket in a write, applies change to it, sets its
// updated_at and returns it as changed.
func (s *Store) changeTicket(ctx context.Context, op string, tenant channel.TenantID, number store.TicketNumber, change func(ctx context.Context, c *sql.Conn, id, now int64) error) (store.Ticket, error) {
	if err := s.ready(ctx, op); err != nil {
		return store.Ticket{}, err
	}
	var t store.Ticket
	err := s.write(ctx, func(tx *wtx) error {
		c, wctx := tx.conn, context.WithoutCancel(ctx)
		var id int64
		err := c.QueryRowContext(wctx, `SELECT id FROM tickets WHERE tenant = ?1 AND number = ?2`, string(tenant), string(number)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlite: %s: ticket %s: %w", op, number, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		now := micros(s.clock())
		if err := change(wctx, c, id, now); err != nil {
			return err
		}
		if _, err := c.ExecContext(wctx, `UPDATE tickets SET updated_at = max(updated_at, ?2) WHERE id = ?1`, id, now); err != nil {
			return err
		}
		t, err = loadTicket(wctx, c, `WHERE id = ?1`, id)
		return err
	})
	if err != nil {
		return store.Ticket{}, s.failed(op, err)
	}
	return t, nil
}

// PurgeTickets implements [store.TicketPurger]. One call is one
// transaction; it purges the least recently updated tickets first.
// Deleted and cleared text is overwritten in the database file
// (secure_delete); call [Store.Checkpoint] afterwards to clear it from the
// write-ahead log too.
func (s *Store) PurgeTickets(ctx context.Context, q store.TicketPurgeQuery) (store.PurgeResult, error) {
	const op = "purge tickets"
	if err := s.ready(ctx, op); err != nil {
		return store.PurgeResult{}, err
	}
	if q.Limit < 0 {
		return store.PurgeResult{}, fmt.Errorf("sqlite: %s: negative limit: %w", op, store.ErrInvalid)
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
	query := `SELECT t.id FROM tickets t JOIN subjects s ON s.id = t.subject
		WHERE t.status = ?1 AND t.updated_at < ?2
		AND (?3 = '' OR t.tenant = ?3) AND (?4 = '' OR s.channel = ?4)
		AND t.subject NOT IN (SELECT value FROM json_each(?5))
		AND (?6 = 0 OR t.title <> '' OR t.summary <> '' OR EXISTS (SELECT 1 FROM ticket_notes n WHERE n.ticket = t.id AND n.text <> ''))
		ORDER BY t.updated_at, t.id LIMIT ?7`
	var res store.PurgeResult
	err := s.write(ctx, func(tx *wtx) error {
		res = store.PurgeResult{}
		if q.Before.IsZero() {
			return nil
		}
		ids, err := tx.ids(query, string(store.TicketClosed), micros(q.Before), string(q.Tenant), string(q.Channel),
			string(exceptJSON), boolInt(q.Anonymize), limit+1)
		if err != nil {
			return err
		}
		if len(ids) > limit {
			ids, res.More = ids[:limit], true
		}
		c, wctx := tx.conn, context.WithoutCancel(ctx)
		for _, id := range ids {
			if !q.Anonymize {
				if _, err := c.ExecContext(wctx, `DELETE FROM tickets WHERE id = ?1`, id); err != nil {
					return err
				}
				continue
			}
			if _, err := c.ExecContext(wctx, `UPDATE tickets SET title = '', summary = '' WHERE id = ?1`, id); err != nil {
				return err
			}
			if _, err := c.ExecContext(wctx, `UPDATE ticket_notes SET text = '' WHERE ticket = ?1`, id); err != nil {
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

// ready checks that a call may go ahead.
func (s *Store) ready(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return errClosed
	}
	return nil
}

// loadTicket reads the ticket the where clause selects, with its notes.
func loadTicket(ctx context.Context, q querier, where string, args ...any) (store.Ticket, error) {
	t, id, err := scanTicket(q.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets `+where, args...))
	if err != nil {
		return store.Ticket{}, err
	}
	t.Notes, err = loadNotes(ctx, q, id)
	return t, err
}

func scanTicket(row interface{ Scan(...any) error }) (store.Ticket, int64, error) {
	var (
		t                  store.Ticket
		id, subj, created  int64
		updated            int64
		conv               sql.NullInt64
		tenant, num, state string
	)
	if err := row.Scan(&id, &tenant, &num, &subj, &conv, &state, &created, &updated, &t.Title, &t.Summary); err != nil {
		return t, 0, err
	}
	t.Tenant, t.Number, t.Subject, t.Status = channel.TenantID(tenant), store.TicketNumber(num), subjectID(subj), store.TicketStatus(state)
	if conv.Valid {
		t.Conversation = conversationID(conv.Int64)
	}
	t.CreatedAt, t.UpdatedAt = fromMicros(created), fromMicros(updated)
	return t, id, nil
}

func loadNotes(ctx context.Context, q querier, ticket int64) ([]store.TicketNote, error) {
	rows, err := q.QueryContext(ctx, `SELECT time, author, text FROM ticket_notes WHERE ticket = ?1 ORDER BY id`, ticket)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var notes []store.TicketNote
	for rows.Next() {
		var n store.TicketNote
		var at int64
		if err := rows.Scan(&at, &n.Author, &n.Text); err != nil {
			return nil, err
		}
		n.Time = fromMicros(at)
		notes = append(notes, n)
	}
	return notes, rows.Err()
}

// SetTags implements [store.Tagger].
func (s *Store) SetTags(ctx context.Context, tenant channel.TenantID, id store.MessageID, t store.Tags) error {
	const op = "set tags"
	if err := s.ready(ctx, op); err != nil {
		return err
	}
	if err := t.Check(); err != nil {
		return err
	}
	if t.Time.IsZero() {
		t.Time = s.clock()
	}
	t.Time = asKept(t.Time)
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	err = s.write(ctx, func(tx *wtx) error {
		c, wctx := tx.conn, context.WithoutCancel(ctx)
		var role string
		err := c.QueryRowContext(wctx, `SELECT role FROM messages WHERE id = ?1 AND tenant = ?2`, int64(id), string(tenant)).Scan(&role)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("sqlite: %s: record %d: %w", op, id, store.ErrNotFound)
		case err != nil:
			return err
		case role != string(store.User):
			return fmt.Errorf("sqlite: %s: record %d is not inbound: %w", op, id, store.ErrInvalid)
		}
		_, err = c.ExecContext(wctx, `INSERT INTO message_tags (message, tags) VALUES (?1, ?2)
			ON CONFLICT (message) DO UPDATE SET tags = excluded.tags`, int64(id), b)
		return err
	})
	return s.failed(op, err)
}

// Tags implements [store.Tagger].
func (s *Store) Tags(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Tags, error) {
	const op = "tags"
	if err := s.ready(ctx, op); err != nil {
		return store.Tags{}, err
	}
	var b []byte
	err := s.rdb.QueryRowContext(ctx, `SELECT t.tags FROM message_tags t JOIN messages m ON m.id = t.message
		WHERE t.message = ?1 AND m.tenant = ?2`, int64(id), string(tenant)).Scan(&b)
	if err != nil {
		return store.Tags{}, s.failed(op, err)
	}
	var t store.Tags
	if err := json.Unmarshal(b, &t); err != nil {
		return store.Tags{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return t, nil
}
