package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// AppendInbound implements [store.ConversationStore]. The record's Time is
// m.Time, or now when m.Time is zero, and LastInboundAt only moves forward.
// Concurrent calls share one transaction and one sync (see the package
// documentation).
func (s *Store) AppendInbound(ctx context.Context, m channel.Message) (store.Appended, error) {
	const op = "append inbound"
	if err := ctx.Err(); err != nil {
		return store.Appended{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if m.ID == "" || m.From.Channel == "" || m.From.Tenant == "" || m.From.User == "" {
		return store.Appended{}, fmt.Errorf("sqlite: %s: message id and sender address required: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return store.Appended{}, errClosed
	}
	in, err := encode(&m)
	if err != nil {
		return store.Appended{}, fmt.Errorf("sqlite: %s: encode message: %v: %w", op, err, store.ErrInvalid)
	}
	now := s.clock()
	t := now
	if !m.Time.IsZero() {
		t = asKept(m.Time)
	}
	var (
		a   store.Appended
		dup bool
	)
	err = s.write(ctx, func(tx *wtx) error {
		rec, err := scanMessage(tx.stmts.inboundByKey.QueryRow(string(m.From.Channel), string(m.From.Tenant), string(m.ID)))
		switch {
		case err == nil:
			conv, err := tx.conversation(m.From.Tenant, rec.Conversation)
			if err != nil {
				return err
			}
			a, dup = store.Appended{Message: rec, Conversation: conv, Duplicate: true}, true
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}

		conv, profile, err := tx.open(m.From, now)
		if err != nil {
			return err
		}
		if err := tx.updateProfile(conv.Subject, profile, m.Sender, now); err != nil {
			return err
		}
		if t.After(conv.LastInboundAt) {
			conv.LastInboundAt = t
			cid, _ := parseConversation(conv.ID)
			if _, err := tx.stmts.updateLastInbound.Exec(cid, micros(t)); err != nil {
				return err
			}
		}
		r := store.Message{
			Tenant:       m.From.Tenant,
			Conversation: conv.ID,
			Role:         store.User,
			Time:         t,
			ProviderID:   m.ID,
		}
		if err := tx.insert(&r, content{inbound: in, hasMedia: m.Media != nil}, m.From.Channel); err != nil {
			return err
		}
		a = store.Appended{Message: r, Conversation: conv}
		dup = false
		return nil
	})
	if err != nil {
		return store.Appended{}, s.failed(op, err)
	}
	if !dup {
		c := m.Clone()
		a.Message.Inbound = &c
	}
	return a, nil
}

// Append implements [store.ConversationStore]. It also returns
// [store.ErrInvalid] for a role that is not one of the roles of
// [store.Role], a negative Turn, or content that cannot be encoded as JSON.
func (s *Store) Append(ctx context.Context, m store.Message) (store.Message, error) {
	const op = "append"
	if err := ctx.Err(); err != nil {
		return store.Message{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	switch m.Role {
	case store.Assistant, store.Tool, store.Operator, store.Note, store.System:
	default:
		return store.Message{}, fmt.Errorf("sqlite: %s: role %q: %w", op, m.Role, store.ErrInvalid)
	}
	if m.Tenant == "" || m.Turn < 0 {
		return store.Message{}, fmt.Errorf("sqlite: %s: tenant and a non-negative turn required: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return store.Message{}, errClosed
	}
	cid, ok := parseConversation(m.Conversation)
	if !ok {
		return store.Message{}, fmt.Errorf("sqlite: %s: conversation %s: %w", op, m.Conversation, store.ErrNotFound)
	}
	c, err := encodeContent(&m)
	if err != nil {
		return store.Message{}, fmt.Errorf("sqlite: %s: %v: %w", op, err, store.ErrInvalid)
	}
	m = m.Clone()
	if m.Time.IsZero() {
		m.Time = s.clock()
	}
	m.ID = 0
	m.Time = asKept(m.Time)
	m.Processing.UpdatedAt = asKept(m.Processing.UpdatedAt)
	m.Delivery.UpdatedAt = asKept(m.Delivery.UpdatedAt)
	r := m
	err = s.write(ctx, func(tx *wtx) error {
		var ch string
		err := tx.stmts.conversation.QueryRow(cid, string(m.Tenant)).Scan(new(int64), new(int64), &ch,
			new(string), new(string), new(int64), new(int64), new(int64), new(string), new(string), new(int64))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %s: %w", m.Conversation, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		r = m
		return tx.insert(&r, c, channel.Name(ch))
	})
	if err != nil {
		return store.Message{}, s.failed(op, err)
	}
	return r, nil
}

// Message implements [store.ConversationStore].
func (s *Store) Message(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Message, error) {
	const op = "message"
	if err := ctx.Err(); err != nil {
		return store.Message{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return store.Message{}, errClosed
	}
	m, err := scanMessage(s.read.message.QueryRowContext(ctx, int64(id), string(tenant)))
	if err != nil {
		return store.Message{}, s.failed(fmt.Sprintf("message %d", id), err)
	}
	return m, nil
}

// History implements [store.ConversationStore]. It reads the window
// through an index on (conversation, turn, id), in time proportional to
// its size. It returns [store.ErrInvalid] for a negative Through or Limit.
func (s *Store) History(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, q store.HistoryQuery) ([]store.Message, error) {
	const op = "history"
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if q.Through < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("sqlite: %s: negative through or limit: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return nil, errClosed
	}
	cid, err := s.conversationOf(ctx, tenant, conv)
	if err != nil {
		return nil, s.failed(op, err)
	}
	through, limit := int64(math.MaxInt64), int64(-1)
	if q.Through > 0 {
		through = int64(q.Through)
	}
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	out, err := collect(s.read.history.QueryContext(ctx, cid, through, limit))
	if err != nil {
		return nil, s.failed(op, err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// conversationOf returns the row id of the tenant's conversation conv, or
// an error wrapping [store.ErrNotFound].
func (s *Store) conversationOf(ctx context.Context, tenant channel.TenantID, conv store.ConversationID) (int64, error) {
	cid, ok := parseConversation(conv)
	if ok {
		_, err := scanConversation(s.read.conversation.QueryRowContext(ctx, cid, string(tenant)))
		if err == nil {
			return cid, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	return 0, fmt.Errorf("conversation %s: %w", conv, store.ErrNotFound)
}

// collect scans the records of rows.
func collect(rows *sql.Rows, err error) ([]store.Message, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Pending implements [store.ConversationStore]. It reads an index of the
// pending records only. It returns [store.ErrInvalid] for a negative Limit
// or a Conversation without a Tenant, and [store.ErrNotFound] when
// Conversation is not the Tenant's.
func (s *Store) Pending(ctx context.Context, q store.PendingQuery) ([]store.Message, error) {
	const op = "pending"
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if q.Limit < 0 || q.Conversation != "" && q.Tenant == "" {
		return nil, fmt.Errorf("sqlite: %s: negative limit, or conversation without tenant: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return nil, errClosed
	}
	limit := int64(-1)
	if q.Limit > 0 {
		limit = int64(q.Limit)
	}
	var (
		out []store.Message
		err error
	)
	switch {
	case q.Conversation != "":
		var cid int64
		if cid, err = s.conversationOf(ctx, q.Tenant, q.Conversation); err == nil {
			out, err = collect(s.read.pendingOfConversation.QueryContext(ctx, cid, limit))
		}
	case q.Tenant != "":
		out, err = collect(s.read.pendingOfTenant.QueryContext(ctx, string(q.Tenant), limit))
	default:
		out, err = collect(s.read.pending.QueryContext(ctx, limit))
	}
	if err != nil {
		return nil, s.failed(op, err)
	}
	return out, nil
}

// SetProcessing implements [store.ConversationStore].
func (s *Store) SetProcessing(ctx context.Context, tenant channel.TenantID, id store.MessageID, p store.Processing) error {
	const op = "set processing"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return errClosed
	}
	err := s.write(ctx, func(tx *wtx) error {
		found, err := tx.setProcessing(tenant, id, p)
		if err == nil && !found {
			err = fmt.Errorf("message %d: %w", id, store.ErrNotFound)
		}
		return err
	})
	return s.failed(op, err)
}

// SetProcessingBatch implements [store.ProcessingBatcher]: the updates
// are one write, committed with the others of its batch.
func (s *Store) SetProcessingBatch(ctx context.Context, tenant channel.TenantID, updates []store.ProcessingUpdate) ([]store.MessageID, error) {
	const op = "set processing"
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return nil, errClosed
	}
	if len(updates) == 0 {
		return nil, nil
	}
	var missing []store.MessageID
	err := s.write(ctx, func(tx *wtx) error {
		missing = missing[:0]
		for _, u := range updates {
			found, err := tx.setProcessing(tenant, u.ID, u.Processing)
			if err != nil {
				return err
			}
			if !found {
				missing = append(missing, u.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.failed(op, err)
	}
	return missing, nil
}

// setProcessing replaces the processing state of the inbound record id of
// tenant and reports whether there is one. A record that is not inbound
// is [store.ErrInvalid], returned before anything changed.
func (tx *wtx) setProcessing(tenant channel.TenantID, id store.MessageID, p store.Processing) (bool, error) {
	res, err := tx.stmts.setProcessing.Exec(int64(id), string(tenant),
		int64(p.State), int64(p.Attempts), p.Reason, micros(p.UpdatedAt))
	if err != nil {
		return false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err == nil, err
	}
	var role string
	err = tx.stmts.roleOf.QueryRow(int64(id), string(tenant)).Scan(&role)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return false, fmt.Errorf("message %d is not inbound: %w", id, store.ErrInvalid)
}

// UpdateDelivery implements [store.ConversationStore]. It reads, merges
// and writes the record in one transaction. It returns [store.ErrInvalid]
// when u has neither ID nor ProviderID, or selects an inbound record. When
// several records of the tenant have the provider id, u.ProviderID selects
// the oldest.
func (s *Store) UpdateDelivery(ctx context.Context, tenant channel.TenantID, u store.DeliveryUpdate) (store.Message, error) {
	const op = "update delivery"
	if err := ctx.Err(); err != nil {
		return store.Message{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if u.ID == 0 && u.ProviderID == "" {
		return store.Message{}, fmt.Errorf("sqlite: %s: id or provider id required: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return store.Message{}, errClosed
	}
	var m store.Message
	err := s.write(ctx, func(tx *wtx) error {
		var err error
		if u.ID != 0 {
			m, err = scanMessage(tx.stmts.message.QueryRow(int64(u.ID), string(tenant)))
		} else {
			m, err = scanMessage(tx.stmts.outboundByProvider.QueryRow(string(tenant), string(u.ProviderID)))
		}
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case m.Role == store.User:
			return fmt.Errorf("message %d is inbound: %w", m.ID, store.ErrInvalid)
		}
		if m.ProviderID == "" {
			m.ProviderID = u.ProviderID
		}
		m.Delivery, _ = m.Delivery.Merge(u)
		m.Delivery.UpdatedAt = asKept(m.Delivery.UpdatedAt)
		d := m.Delivery
		_, err = tx.stmts.setDelivery.Exec(int64(m.ID), nullable(string(m.ProviderID)),
			int64(d.State), int64(d.Attempts), int64(d.ErrorCode), d.ErrorTitle, micros(d.UpdatedAt))
		return err
	})
	if err != nil {
		return store.Message{}, s.failed(op, err)
	}
	return m, nil
}

// OpenConversation implements [store.ConversationStore].
func (s *Store) OpenConversation(ctx context.Context, addr channel.Address) (store.Conversation, error) {
	const op = "open conversation"
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if addr.Channel == "" || addr.Tenant == "" || addr.User == "" {
		return store.Conversation{}, fmt.Errorf("sqlite: %s: incomplete address: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return store.Conversation{}, errClosed
	}
	c, err := scanConversation(s.read.conversationAt.QueryRowContext(ctx, string(addr.Channel), string(addr.Tenant), string(addr.User)))
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return c, s.failed(op, err)
	}
	now := s.clock()
	err = s.write(ctx, func(tx *wtx) error {
		c, _, err = tx.open(addr, now)
		return err
	})
	if err != nil {
		return store.Conversation{}, s.failed(op, err)
	}
	return c, nil
}

// Conversation implements [store.ConversationStore].
func (s *Store) Conversation(ctx context.Context, tenant channel.TenantID, id store.ConversationID) (store.Conversation, error) {
	const op = "conversation"
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return store.Conversation{}, errClosed
	}
	cid, ok := parseConversation(id)
	if !ok {
		return store.Conversation{}, fmt.Errorf("sqlite: %s %s: %w", op, id, store.ErrNotFound)
	}
	c, err := scanConversation(s.read.conversation.QueryRowContext(ctx, cid, string(tenant)))
	if err != nil {
		return store.Conversation{}, s.failed(fmt.Sprintf("%s %s", op, id), err)
	}
	return c, nil
}

// SetHandoff implements [store.ConversationStore].
func (s *Store) SetHandoff(ctx context.Context, tenant channel.TenantID, id store.ConversationID, h store.Handoff) (store.Conversation, error) {
	const op = "set handoff"
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return store.Conversation{}, errClosed
	}
	cid, ok := parseConversation(id)
	if !ok {
		return store.Conversation{}, fmt.Errorf("sqlite: %s: conversation %s: %w", op, id, store.ErrNotFound)
	}
	var c store.Conversation
	err := s.write(ctx, func(tx *wtx) error {
		var err error
		c, err = scanConversation(tx.stmts.setHandoff.QueryRow(cid, string(tenant),
			int64(h.Owner), h.Operator, h.Reason, micros(h.Since)))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("conversation %s: %w", id, store.ErrNotFound)
		}
		return err
	})
	if err != nil {
		return store.Conversation{}, s.failed(op, err)
	}
	return c, nil
}

// Subject implements [store.ConversationStore]. It returns
// [store.ErrInvalid] when a field of addr is empty. When several subjects
// have the phone, it returns the one whose profile changed last.
func (s *Store) Subject(ctx context.Context, addr channel.Address) (store.Subject, error) {
	const op = "subject"
	if err := ctx.Err(); err != nil {
		return store.Subject{}, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if addr.Channel == "" || addr.Tenant == "" || addr.User == "" {
		return store.Subject{}, fmt.Errorf("sqlite: %s: incomplete address: %w", op, store.ErrInvalid)
	}
	if s.closed.Load() {
		return store.Subject{}, errClosed
	}
	subj, err := scanSubject(s.read.subjectAt.QueryRowContext(ctx, string(addr.Channel), string(addr.Tenant), string(addr.User)))
	if errors.Is(err, sql.ErrNoRows) {
		subj, err = scanSubject(s.read.subjectByPhone.QueryRowContext(ctx, string(addr.Channel), string(addr.Tenant), string(addr.User)))
	}
	if err != nil {
		return store.Subject{}, s.failed(op, err)
	}
	return subj, nil
}

// The methods below run inside a write transaction.

// conversation returns the tenant's conversation id.
func (tx *wtx) conversation(tenant channel.TenantID, id store.ConversationID) (store.Conversation, error) {
	cid, _ := parseConversation(id)
	return scanConversation(tx.stmts.conversation.QueryRow(cid, string(tenant)))
}

// open returns the conversation at addr and its subject's profile as kept,
// creating both when there is none.
func (tx *wtx) open(addr channel.Address, now time.Time) (store.Conversation, []byte, error) {
	var profile []byte
	c, err := scanConversation(tx.stmts.conversationAt.QueryRow(string(addr.Channel), string(addr.Tenant), string(addr.User)), &profile)
	if !errors.Is(err, sql.ErrNoRows) {
		return c, profile, err
	}
	subj, err := insertID(tx.stmts.insertSubject.Exec(string(addr.Channel), string(addr.Tenant), string(addr.User),
		nil, nil, micros(now)))
	if err != nil {
		return c, nil, err
	}
	zero := micros(time.Time{})
	cid, err := insertID(tx.stmts.insertConversation.Exec(subj, string(addr.Channel), string(addr.Tenant), string(addr.User),
		micros(now), zero))
	if err != nil {
		return c, nil, err
	}
	return store.Conversation{
		ID:            conversationID(cid),
		Address:       addr,
		Subject:       subjectID(subj),
		CreatedAt:     now,
		LastInboundAt: time.Time{},
	}, nil, nil
}

// updateProfile applies the non-empty fields of p to the profile of the
// subject, kept as stored.
func (tx *wtx) updateProfile(subj store.SubjectID, stored []byte, p channel.Profile, now time.Time) error {
	if p == (channel.Profile{}) {
		return nil
	}
	var old channel.Profile
	if stored != nil {
		if err := json.Unmarshal(stored, &old); err != nil {
			return fmt.Errorf("subject %s: decode profile: %w", subj, err)
		}
	}
	next := mergeProfile(old, p)
	if next == old {
		return nil
	}
	b, err := encode(next)
	if err != nil {
		return fmt.Errorf("subject %s: encode profile: %w", subj, err)
	}
	id, _ := parseSubject(subj)
	_, err = tx.stmts.updateProfile.Exec(id, nullable(string(next.Phone)), b, micros(now))
	return err
}

// insert adds the record r with content c, on channel ch, and sets its ID
// and, when zero, its Turn.
func (tx *wtx) insert(r *store.Message, c content, ch channel.Name) error {
	cid, _ := parseConversation(r.Conversation)
	id, err := insertID(tx.stmts.insertMessage.Exec(cid, string(r.Tenant), string(ch), nullable(string(r.ProviderID)),
		int64(r.Turn), string(r.Role), micros(r.Time),
		int64(r.Processing.State), int64(r.Processing.Attempts), r.Processing.Reason, micros(r.Processing.UpdatedAt),
		int64(r.Delivery.State), int64(r.Delivery.Attempts), int64(r.Delivery.ErrorCode), r.Delivery.ErrorTitle, micros(r.Delivery.UpdatedAt),
		boolInt(r.ContentRemoved), boolInt(c.hasMedia), c.inbound, c.parts, c.outbound,
	))
	if err != nil {
		return err
	}
	r.ID = store.MessageID(id)
	if r.Turn == 0 {
		r.Turn = r.ID
	}
	return nil
}

// insertID returns the row id of the row an insert added.
func insertID(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}
