package memory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wagent/wagent/store"
)

var _ store.ConversationLister = (*Store)(nil)

// Conversations implements [store.ConversationLister]. Ties in activity
// are ordered by the number of the id, highest (newest) first. It looks at
// every conversation of the store: fine for tests and examples, not for
// millions of conversations.
func (s *Store) Conversations(ctx context.Context, q store.ConversationQuery) ([]store.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: conversations: %w", err)
	}
	if err := q.Check(); err != nil {
		return nil, fmt.Errorf("memory: conversations: %w", err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, errClosed()
	}
	var out []store.Conversation
	for _, c := range s.convByID {
		if q.Matches(c.conv) && (q.After.IsZero() || listedBefore(q.After, c.conv.Cursor())) {
			out = append(out, c.conv)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b store.Conversation) int {
		switch {
		case listedBefore(a.Cursor(), b.Cursor()):
			return -1
		case listedBefore(b.Cursor(), a.Cursor()):
			return 1
		}
		return 0
	})
	if n := q.PageSize(); len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// listedBefore reports whether the conversation at a comes before the one
// at b in a listing: later activity first, then the higher id number.
func listedBefore(a, b store.ConversationCursor) bool {
	if !a.Activity.Equal(b.Activity) {
		return a.Activity.After(b.Activity)
	}
	return idNumber(a.ID) > idNumber(b.ID)
}

// idNumber returns the number of an id made by open ("c12"), or -1.
func idNumber(id store.ConversationID) int64 {
	n, err := strconv.ParseInt(strings.TrimPrefix(string(id), "c"), 10, 64)
	if err != nil {
		return -1
	}
	return n
}
