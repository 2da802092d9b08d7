package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/wagent/wagent/store"
)

var _ store.ConversationLister = (*Store)(nil)

// activityExpr is a conversation's store.Conversation.LastActivity, as
// the indexes of migration 0003 spell it (GREATEST ignores the NULLs of
// times not yet set): a query must write it the same way for PostgreSQL
// to use them.
const activityExpr = `GREATEST(c.created_at, c.last_inbound_at, c.handoff_since)`

// Conversations implements [store.ConversationLister]. Ties in activity
// are ordered by id, highest (newest) first. The indexes of a tenant's
// conversations by owner and activity, and of human-owned conversations
// by activity, serve the queue of a console and the idle sweep.
func (s *Store) Conversations(ctx context.Context, q store.ConversationQuery) ([]store.Conversation, error) {
	const op = "conversations"
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	if err := q.Check(); err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	var (
		where []string
		args  []any
	)
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if !q.AllTenants {
		arg("c.tenant = ?", string(q.Tenant))
	}
	switch q.Owner {
	case store.OwnedByAI:
		arg("c.handoff_owner = ?", int16(store.OwnerAI))
	case store.OwnedByHuman:
		arg("c.handoff_owner = ?", int16(store.OwnerHuman))
	}
	if q.Operator != "" {
		arg("c.handoff_operator = ?", q.Operator)
	}
	if q.Unclaimed {
		where = append(where, "c.handoff_operator = ''")
	}
	if !q.IdleBefore.IsZero() {
		arg(activityExpr+" < ?", ts(micro(q.IdleBefore)))
	}
	if !q.After.IsZero() {
		id, ok := parseID('c', string(q.After.ID))
		if !ok {
			return nil, fmt.Errorf("postgres: %s: cursor of an unknown conversation id: %w", op, store.ErrInvalid)
		}
		args = append(args, ts(micro(q.After.Activity)), id)
		a, i := strconv.Itoa(len(args)-1), strconv.Itoa(len(args))
		where = append(where, "("+activityExpr+", c.id) < ($"+a+", $"+i+")")
	}
	query := "SELECT " + conversationCols + " FROM wagent.conversations c"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, q.PageSize())
	query += " ORDER BY " + activityExpr + " DESC, c.id DESC LIMIT $" + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, s.sql(query), args...)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	defer rows.Close()
	out := []store.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, s.fail(ctx, op, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}
