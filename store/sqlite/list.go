package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/wagent/wagent/store"
)

var _ store.ConversationLister = (*Store)(nil)

// activityExpr is a conversation's store.Conversation.LastActivity, as
// the indexes of migration 0003 spell it: a query must write it the same
// way for SQLite to use them.
const activityExpr = `max(created_at, last_inbound_at, handoff_since)`

// Conversations implements [store.ConversationLister]. Ties in activity
// are ordered by id, highest (newest) first. The indexes of the
// conversations of a tenant by owner and activity, and of human-owned
// conversations by activity, serve the queue of a console and the idle
// sweep.
func (s *Store) Conversations(ctx context.Context, q store.ConversationQuery) ([]store.Conversation, error) {
	const op = "conversations"
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if err := q.Check(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return nil, errClosed
	}
	var (
		where []string
		args  []any
	)
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "?"+strconv.Itoa(len(args))))
	}
	if !q.AllTenants {
		arg("tenant = ?", string(q.Tenant))
	}
	switch q.Owner {
	case store.OwnedByAI:
		arg("handoff_owner = ?", int64(store.OwnerAI))
	case store.OwnedByHuman:
		arg("handoff_owner = ?", int64(store.OwnerHuman))
	}
	if q.Operator != "" {
		arg("handoff_operator = ?", q.Operator)
	}
	if q.Unclaimed {
		where = append(where, "handoff_operator = ''")
	}
	if !q.IdleBefore.IsZero() {
		arg(activityExpr+" < ?", micros(q.IdleBefore))
	}
	if !q.After.IsZero() {
		id, ok := parseConversation(q.After.ID)
		if !ok {
			return nil, fmt.Errorf("sqlite: %s: cursor of an unknown conversation id: %w", op, store.ErrInvalid)
		}
		args = append(args, micros(q.After.Activity), id)
		a, i := strconv.Itoa(len(args)-1), strconv.Itoa(len(args))
		where = append(where, "("+activityExpr+" < ?"+a+" OR ("+activityExpr+" = ?"+a+" AND id < ?"+i+"))")
	}
	query := "SELECT " + conversationColumns + " FROM conversations"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, q.PageSize())
	query += " ORDER BY " + activityExpr + " DESC, id DESC LIMIT ?" + strconv.Itoa(len(args)) + " + 0"
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.failed(op, err)
	}
	defer rows.Close()
	out := []store.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, s.failed(op, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(op, err)
	}
	return out, nil
}
