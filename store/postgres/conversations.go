package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// conversationCols are the columns scanConversation reads, of a table
// aliased c.
const conversationCols = `c.id, c.subject_id, c.channel, c.tenant, c.user_id,
	c.handoff_owner, c.handoff_operator, c.handoff_reason, c.handoff_since, c.created_at, c.last_inbound_at`

// scanConversation reads a row of conversationCols, followed by the
// columns of extra.
func scanConversation(row pgx.Row, extra ...any) (store.Conversation, error) {
	var (
		c                           store.Conversation
		id, subj                    int64
		ch, tenant, user            string
		owner                       int16
		operator, reason            string
		since, created, lastInbound pgtype.Timestamptz
	)
	dest := append([]any{&id, &subj, &ch, &tenant, &user, &owner, &operator, &reason, &since, &created, &lastInbound}, extra...)
	if err := row.Scan(dest...); err != nil {
		return store.Conversation{}, err
	}
	c.ID = conversationID(id)
	c.Subject = subjectID(subj)
	c.Address = channel.Address{Channel: channel.Name(ch), Tenant: channel.TenantID(tenant), User: channel.UserID(user)}
	c.Handoff = store.Handoff{Owner: store.Owner(owner), Operator: operator, Reason: reason, Since: timeOf(since)}
	c.CreatedAt = timeOf(created)
	c.LastInboundAt = timeOf(lastInbound)
	return c, nil
}

const (
	conversationByID      = `SELECT ` + conversationCols + ` FROM wagent.conversations c WHERE c.id = $1 AND c.tenant = $2`
	conversationByAddress = `SELECT ` + conversationCols + ` FROM wagent.conversations c
	WHERE c.channel = $1 AND c.tenant = $2 AND c.user_id = $3`
	// lockConversationByAddress also reads the subject's profile.
	lockConversationByAddress = `SELECT ` + conversationCols + `, s.profile
	FROM wagent.conversations c JOIN wagent.subjects s ON s.id = c.subject_id
	WHERE c.channel = $1 AND c.tenant = $2 AND c.user_id = $3
	FOR NO KEY UPDATE OF c`
	insertSubject = `INSERT INTO wagent.subjects (channel, tenant, user_id, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $4)
	ON CONFLICT (channel, tenant, user_id) DO NOTHING`
	insertConversation = `INSERT INTO wagent.conversations (subject_id, channel, tenant, user_id, created_at)
	SELECT id, channel, tenant, user_id, $4 FROM wagent.subjects
	WHERE channel = $1 AND tenant = $2 AND user_id = $3
	ON CONFLICT (channel, tenant, user_id) DO NOTHING`
)

// conversation returns the conversation of tenant with id.
func (s *Store) conversation(ctx context.Context, q querier, tenant channel.TenantID, id store.ConversationID) (store.Conversation, error) {
	n, ok := parseID('c', string(id))
	if !ok {
		return store.Conversation{}, fmt.Errorf("postgres: conversation %s: %w", id, store.ErrNotFound)
	}
	c, err := scanConversation(q.QueryRow(ctx, s.sql(conversationByID), n, tenant))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Conversation{}, fmt.Errorf("postgres: conversation %s: %w", id, store.ErrNotFound)
	}
	return c, err
}

// create makes the subject and conversation of addr unless they exist. A
// concurrent transaction creating them makes the inserts wait for it to
// end; the next statement sees what it made.
func (s *Store) create(ctx context.Context, tx pgx.Tx, addr channel.Address, now time.Time) error {
	if _, err := tx.Exec(ctx, s.sql(insertSubject), addr.Channel, addr.Tenant, addr.User, now); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, s.sql(insertConversation), addr.Channel, addr.Tenant, addr.User, now)
	return err
}

// lockConversation returns the conversation of addr, creating it and its
// subject when needed, locked until tx ends, with its subject's number
// and profile (the JSON of a channel.Profile, or nil).
func (s *Store) lockConversation(ctx context.Context, tx pgx.Tx, addr channel.Address, now time.Time) (store.Conversation, int64, []byte, error) {
	for range 2 {
		var profile []byte
		c, err := scanConversation(tx.QueryRow(ctx, s.sql(lockConversationByAddress), addr.Channel, addr.Tenant, addr.User), &profile)
		if err == nil {
			n, _ := parseID('s', string(c.Subject))
			return c, n, profile, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return store.Conversation{}, 0, nil, err
		}
		if err := s.create(ctx, tx, addr, now); err != nil {
			return store.Conversation{}, 0, nil, err
		}
	}
	// The conversation was created and deleted (erased) in between.
	return store.Conversation{}, 0, nil, fmt.Errorf("postgres: conversation of the address vanished while it was created: %w", store.ErrNotFound)
}

// OpenConversation implements [store.ConversationStore]. It returns
// [store.ErrInvalid] when a field of addr is empty.
func (s *Store) OpenConversation(ctx context.Context, addr channel.Address) (store.Conversation, error) {
	const op = "open conversation"
	if err := s.start(ctx, op); err != nil {
		return store.Conversation{}, err
	}
	if addr.Channel == "" || addr.Tenant == "" || addr.User == "" {
		return store.Conversation{}, fmt.Errorf("postgres: %s: incomplete address: %w", op, store.ErrInvalid)
	}
	c, err := scanConversation(s.pool.QueryRow(ctx, s.sql(conversationByAddress), addr.Channel, addr.Tenant, addr.User))
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.inTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
			if err := s.create(ctx, tx, addr, s.clock()); err != nil {
				return err
			}
			c, err = scanConversation(tx.QueryRow(ctx, s.sql(conversationByAddress), addr.Channel, addr.Tenant, addr.User))
			return err
		})
	}
	if err != nil {
		return store.Conversation{}, s.fail(ctx, op, err)
	}
	return c, nil
}

// Conversation implements [store.ConversationStore].
func (s *Store) Conversation(ctx context.Context, tenant channel.TenantID, id store.ConversationID) (store.Conversation, error) {
	const op = "conversation"
	if err := s.start(ctx, op); err != nil {
		return store.Conversation{}, err
	}
	c, err := s.conversation(ctx, s.pool, tenant, id)
	if err != nil {
		return store.Conversation{}, s.fail(ctx, op, err)
	}
	return c, nil
}

const setHandoff = `UPDATE wagent.conversations c
SET handoff_owner = $3, handoff_operator = $4, handoff_reason = $5, handoff_since = $6
WHERE c.id = $1 AND c.tenant = $2
RETURNING ` + conversationCols

// SetHandoff implements [store.ConversationStore].
func (s *Store) SetHandoff(ctx context.Context, tenant channel.TenantID, id store.ConversationID, h store.Handoff) (store.Conversation, error) {
	const op = "set handoff"
	if err := s.start(ctx, op); err != nil {
		return store.Conversation{}, err
	}
	n, ok := parseID('c', string(id))
	if !ok {
		return store.Conversation{}, fmt.Errorf("postgres: %s: conversation %s: %w", op, id, store.ErrNotFound)
	}
	c, err := scanConversation(s.pool.QueryRow(ctx, s.sql(setHandoff), n, tenant,
		int16(h.Owner), h.Operator, h.Reason, ts(micro(h.Since))))
	if err != nil {
		return store.Conversation{}, s.fail(ctx, fmt.Sprintf("%s: conversation %s", op, id), err)
	}
	return c, nil
}

// subjectCols are the columns scanSubject reads, of a table aliased s.
const subjectCols = `s.id, s.channel, s.tenant, s.user_id, s.profile, s.created_at, s.updated_at`

func scanSubject(row pgx.Row) (store.Subject, error) {
	var (
		subj             store.Subject
		id               int64
		ch, tenant, user string
		profile          []byte
	)
	if err := row.Scan(&id, &ch, &tenant, &user, &profile, &subj.CreatedAt, &subj.UpdatedAt); err != nil {
		return store.Subject{}, err
	}
	subj.ID = subjectID(id)
	subj.Address = channel.Address{Channel: channel.Name(ch), Tenant: channel.TenantID(tenant), User: channel.UserID(user)}
	subj.CreatedAt, subj.UpdatedAt = subj.CreatedAt.UTC(), subj.UpdatedAt.UTC()
	if len(profile) > 0 {
		if err := json.Unmarshal(profile, &subj.Profile); err != nil {
			return store.Subject{}, fmt.Errorf("decode profile of subject %s: %w", subj.ID, err)
		}
	}
	return subj, nil
}

// subjectByAddress finds the subject at the address, or else the one of
// the channel and tenant that reported the phone $3 last.
const subjectByAddress = `SELECT ` + subjectCols + ` FROM (
	(SELECT 0 AS rank, * FROM wagent.subjects WHERE channel = $1 AND tenant = $2 AND user_id = $3)
	UNION ALL
	(SELECT 1 AS rank, * FROM wagent.subjects WHERE channel = $1 AND tenant = $2 AND phone = $3
	 ORDER BY phone_since DESC, id DESC LIMIT 1)
) s ORDER BY s.rank LIMIT 1`

// Subject implements [store.ConversationStore]. It returns
// [store.ErrInvalid] when a field of addr is empty. When several subjects
// have the phone, it returns the one that reported it last.
func (s *Store) Subject(ctx context.Context, addr channel.Address) (store.Subject, error) {
	const op = "subject"
	if err := s.start(ctx, op); err != nil {
		return store.Subject{}, err
	}
	if addr.Channel == "" || addr.Tenant == "" || addr.User == "" {
		return store.Subject{}, fmt.Errorf("postgres: %s: incomplete address: %w", op, store.ErrInvalid)
	}
	subj, err := scanSubject(s.pool.QueryRow(ctx, s.sql(subjectByAddress), addr.Channel, addr.Tenant, addr.User))
	if err != nil {
		return store.Subject{}, s.fail(ctx, op, err)
	}
	return subj, nil
}
