package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// content is what a record's content column holds, as JSON: what was said.
type content struct {
	Inbound  *channel.Message  `json:"inbound,omitempty"`
	Parts    []llm.Part        `json:"parts,omitempty"`
	Outbound *channel.Outbound `json:"outbound,omitempty"`
}

func contentOf(m *store.Message) content {
	return content{Inbound: m.Inbound, Parts: m.Parts, Outbound: m.Outbound}
}

// encode returns the JSON of c and whether c references media.
func (c content) encode() ([]byte, bool, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, false, fmt.Errorf("encode content: %w", err)
	}
	return b, c.hasMedia(), nil
}

// hasMedia reports whether c holds what [store.Message.WithoutMedia]
// removes.
func (c content) hasMedia() bool {
	if c.Inbound != nil && c.Inbound.Media != nil {
		return true
	}
	if o := c.Outbound; o != nil {
		if o.Media != nil || (o.Template != nil && o.Template.Header != nil && o.Template.Header.Media != nil) {
			return true
		}
	}
	for _, p := range c.Parts {
		if p.Data != nil || p.URL != "" {
			return true
		}
	}
	return false
}

// decodeContent sets the content fields of m from the JSON b. Decoding
// makes fresh values, so records returned share no memory with anything.
func decodeContent(b []byte, m *store.Message) error {
	var c content
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("decode content of message %d: %w", m.ID, err)
	}
	m.Inbound, m.Parts, m.Outbound = c.Inbound, c.Parts, c.Outbound
	return nil
}

// messageCols are the columns scanMessage reads, of a table aliased m.
const messageCols = `m.id, m.tenant, m.conversation_id, m.turn, m.role, m.time, m.provider_id, m.content, m.content_removed,
	m.process_state, m.process_attempts, m.process_reason, m.process_updated_at,
	m.delivery_state, m.delivery_attempts, m.delivery_error_code, m.delivery_error_title, m.delivery_updated_at`

// scanMessage reads a row of messageCols.
func scanMessage(row pgx.Row) (store.Message, error) {
	var (
		m                  store.Message
		id, conv, turn     int64
		tenant, role, pid  string
		body               []byte
		pState, dState     int16
		pAttempts, dAtt    int64
		dCode              int64
		pReason, dTitle    string
		pUpdated, dUpdated pgtype.Timestamptz
		removed            bool
	)
	err := row.Scan(&id, &tenant, &conv, &turn, &role, &m.Time, &pid, &body, &removed,
		&pState, &pAttempts, &pReason, &pUpdated,
		&dState, &dAtt, &dCode, &dTitle, &dUpdated)
	if err != nil {
		return store.Message{}, err
	}
	m.ID = store.MessageID(id)
	m.Tenant = channel.TenantID(tenant)
	m.Conversation = conversationID(conv)
	m.Turn = store.MessageID(turn)
	m.Role = store.Role(role)
	m.Time = m.Time.UTC()
	m.ProviderID = channel.MessageID(pid)
	m.ContentRemoved = removed
	m.Processing = store.Processing{State: store.ProcessState(pState), Attempts: int(pAttempts), Reason: pReason, UpdatedAt: timeOf(pUpdated)}
	m.Delivery = store.Delivery{State: channel.DeliveryState(dState), Attempts: int(dAtt), ErrorCode: int(dCode), ErrorTitle: dTitle, UpdatedAt: timeOf(dUpdated)}
	if err := decodeContent(body, &m); err != nil {
		return store.Message{}, err
	}
	return m, nil
}

// scanMessages reads every row of rows and closes them.
func scanMessages(rows pgx.Rows, err error) ([]store.Message, error) {
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

// insertInbound records an inbound message in a conversation locked by the
// transaction, unless its key was recorded before, and then moves the
// conversation's LastInboundAt forward. It returns no row for a duplicate.
const insertInbound = `WITH ins AS (
	INSERT INTO wagent.messages (id, tenant, conversation_id, turn, role, time, channel, provider_id, content, has_media)
	SELECT n, $1, $2, n, 'user', $3, $4, $5, $6, $7 FROM nextval('wagent.message_ids') AS n
	ON CONFLICT (channel, tenant, provider_id) DO NOTHING
	RETURNING id
), conv AS (
	UPDATE wagent.conversations SET last_inbound_at = $3
	WHERE id = $2 AND (last_inbound_at IS NULL OR last_inbound_at < $3) AND EXISTS (SELECT FROM ins)
)
SELECT id FROM ins`

// setInboundProfile replaces the profile of the subject $1 with $2 and its
// phone with $3, as of $4.
const setInboundProfile = `UPDATE wagent.subjects
SET profile = $2, phone = $3,
	phone_since = CASE WHEN phone IS DISTINCT FROM $3 THEN $4 ELSE phone_since END,
	updated_at = $4
WHERE id = $1`

const inboundByKey = `SELECT ` + messageCols + ` FROM wagent.messages m WHERE m.channel = $1 AND m.tenant = $2 AND m.provider_id = $3`

// AppendInbound implements [store.ConversationStore]. The record's Time is
// m.Time, or now when m.Time is zero, and LastInboundAt only moves forward.
//
// The idempotency key is a unique constraint of the messages table, so
// that instances receiving the same redelivery at once record it once: the
// others find the earlier record. The call locks the conversation's row
// until it commits, so that the ids of a conversation's inbound records
// increase in the order they become visible, on every instance.
//
// Concurrent calls share one transaction and one commit (group commit, see
// commit.go); a call whose statement fails for a reason of its own fails
// alone. A call whose ctx ends while its transaction is under way returns
// ctx's error at once; its message may be recorded nonetheless, and a
// retry then returns it as a duplicate.
func (s *Store) AppendInbound(ctx context.Context, m channel.Message) (store.Appended, error) {
	const op = "append inbound"
	if err := s.start(ctx, op); err != nil {
		return store.Appended{}, err
	}
	if m.ID == "" || m.From.Channel == "" || m.From.Tenant == "" || m.From.User == "" {
		return store.Appended{}, fmt.Errorf("postgres: %s: message id and sender address required: %w", op, store.ErrInvalid)
	}
	now := s.clock()
	t := micro(m.Time)
	if t.IsZero() {
		t = now
	}
	body, media, err := content{Inbound: &m}.encode()
	if err != nil {
		return store.Appended{}, fmt.Errorf("postgres: %s: %w", op, err)
	}
	in := &inbound{m: &m, now: now, t: t, body: body, media: media}
	if err := s.recordInbound(ctx, in); err != nil {
		return store.Appended{}, s.fail(ctx, op, err)
	}
	return in.a, nil
}

// convNum returns the number of c's id; c comes from the database.
func convNum(c store.Conversation) int64 {
	n, _ := parseID('c', string(c.ID))
	return n
}

// decodeProfile returns the profile whose JSON is b; nil, or a profile
// that cannot be read, is the empty profile, which the next change
// replaces.
func decodeProfile(b []byte) channel.Profile {
	var p channel.Profile
	if len(b) > 0 {
		if err := json.Unmarshal(b, &p); err != nil {
			return channel.Profile{}
		}
	}
	return p
}

// mergeProfile returns prev with the non-empty fields of p, and whether
// that changed it.
func mergeProfile(prev, p channel.Profile) (channel.Profile, bool) {
	next := prev
	if p.Name != "" {
		next.Name = p.Name
	}
	if p.Phone != "" {
		next.Phone = p.Phone
	}
	if p.Username != "" {
		next.Username = p.Username
	}
	if p.Locale != "" {
		next.Locale = p.Locale
	}
	return next, next != prev
}

// insertRecord records a message that is not an inbound one in the
// conversation $1 of the tenant $2, locking the conversation first so that
// its ids increase in the order records become visible. It returns no row
// when the conversation is not the tenant's.
const insertRecord = `WITH c AS MATERIALIZED (
	SELECT id FROM wagent.conversations WHERE id = $1 AND tenant = $2 FOR NO KEY UPDATE
), n AS MATERIALIZED (
	SELECT nextval('wagent.message_ids') AS id FROM c
)
INSERT INTO wagent.messages (id, tenant, conversation_id, turn, role, time, provider_id, content, has_media, content_removed,
	process_state, process_attempts, process_reason, process_updated_at,
	delivery_state, delivery_attempts, delivery_error_code, delivery_error_title, delivery_updated_at)
SELECT n.id, $2, $1, coalesce(nullif($3::bigint, 0), n.id), $4, $5, $6, $7, $8, $9,
	$10, $11, $12, $13, $14, $15, $16, $17, $18
FROM n
RETURNING id, turn`

// Append implements [store.ConversationStore]. It also returns
// [store.ErrInvalid] for a role that is not one of the roles of
// [store.Role] or a negative Turn. A non-zero Turn is kept as given, not
// checked.
func (s *Store) Append(ctx context.Context, m store.Message) (store.Message, error) {
	const op = "append"
	if err := s.start(ctx, op); err != nil {
		return store.Message{}, err
	}
	switch m.Role {
	case store.Assistant, store.Tool, store.Operator, store.Note, store.System:
	default:
		return store.Message{}, fmt.Errorf("postgres: %s: role %q: %w", op, m.Role, store.ErrInvalid)
	}
	if m.Tenant == "" || m.Turn < 0 {
		return store.Message{}, fmt.Errorf("postgres: %s: tenant and a non-negative turn required: %w", op, store.ErrInvalid)
	}
	conv, ok := parseID('c', string(m.Conversation))
	if !ok {
		return store.Message{}, fmt.Errorf("postgres: %s: conversation %s: %w", op, m.Conversation, store.ErrNotFound)
	}
	m.Time = micro(m.Time)
	if m.Time.IsZero() {
		m.Time = s.clock()
	}
	m.Processing.UpdatedAt = micro(m.Processing.UpdatedAt)
	m.Delivery.UpdatedAt = micro(m.Delivery.UpdatedAt)
	body, media, err := contentOf(&m).encode()
	if err != nil {
		return store.Message{}, fmt.Errorf("postgres: %s: %w", op, err)
	}
	var id, turn int64
	err = s.pool.QueryRow(ctx, s.sql(insertRecord), conv, m.Tenant, int64(m.Turn), m.Role, m.Time, m.ProviderID, body, media, m.ContentRemoved,
		int16(m.Processing.State), m.Processing.Attempts, m.Processing.Reason, ts(m.Processing.UpdatedAt),
		int16(m.Delivery.State), m.Delivery.Attempts, m.Delivery.ErrorCode, m.Delivery.ErrorTitle, ts(m.Delivery.UpdatedAt),
	).Scan(&id, &turn)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Message{}, fmt.Errorf("postgres: %s: conversation %s: %w", op, m.Conversation, store.ErrNotFound)
	}
	if err != nil {
		return store.Message{}, s.fail(ctx, op, err)
	}
	m.ID, m.Turn = store.MessageID(id), store.MessageID(turn)
	if err := decodeContent(body, &m); err != nil {
		return store.Message{}, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return m, nil
}

const messageByID = `SELECT ` + messageCols + ` FROM wagent.messages m WHERE m.id = $1 AND m.tenant = $2`

// Message implements [store.ConversationStore].
func (s *Store) Message(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Message, error) {
	const op = "message"
	if err := s.start(ctx, op); err != nil {
		return store.Message{}, err
	}
	m, err := scanMessage(s.pool.QueryRow(ctx, s.sql(messageByID), int64(id), tenant))
	if err != nil {
		return store.Message{}, s.fail(ctx, fmt.Sprintf("%s %d", op, id), err)
	}
	return m, nil
}

const history = `SELECT * FROM (
	SELECT ` + messageCols + ` FROM wagent.messages m
	WHERE m.conversation_id = $1 AND m.tenant = $2 AND m.turn <= $3
	ORDER BY m.turn DESC, m.id DESC
	LIMIT $4
) m ORDER BY m.turn, m.id`

// History implements [store.ConversationStore]. It reads the window from an
// index on (conversation, turn, id), in time proportional to its size. It
// returns [store.ErrInvalid] for a negative Through or Limit.
func (s *Store) History(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, q store.HistoryQuery) ([]store.Message, error) {
	const op = "history"
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	if q.Through < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("postgres: %s: negative through or limit: %w", op, store.ErrInvalid)
	}
	cid, ok := parseID('c', string(conv))
	if !ok {
		return nil, fmt.Errorf("postgres: %s: conversation %s: %w", op, conv, store.ErrNotFound)
	}
	through := int64(math.MaxInt64)
	if q.Through != 0 {
		through = int64(q.Through)
	}
	var limit *int64
	if q.Limit > 0 {
		n := int64(q.Limit)
		limit = &n
	}
	h, err := scanMessages(s.pool.Query(ctx, s.sql(history), cid, tenant, through, limit))
	if err == nil && len(h) == 0 {
		_, err = s.conversation(ctx, s.pool, tenant, conv)
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return h, nil
}

// Pending queries, by filter.
const (
	pendingAll = `SELECT ` + messageCols + ` FROM wagent.messages m
	WHERE m.role = 'user' AND m.process_state = 0
	ORDER BY m.id LIMIT $1`
	pendingTenant = `SELECT ` + messageCols + ` FROM wagent.messages m
	WHERE m.role = 'user' AND m.process_state = 0 AND m.tenant = $2
	ORDER BY m.id LIMIT $1`
	pendingConversation = `SELECT ` + messageCols + ` FROM wagent.messages m
	WHERE m.role = 'user' AND m.process_state = 0 AND m.tenant = $2 AND m.conversation_id = $3
	ORDER BY m.id LIMIT $1`
)

// Pending implements [store.ConversationStore]. It reads a partial index of
// the pending records, never all records. It returns [store.ErrInvalid]
// for a negative Limit or a Conversation without a Tenant, and
// [store.ErrNotFound] when Conversation is not the Tenant's.
func (s *Store) Pending(ctx context.Context, q store.PendingQuery) ([]store.Message, error) {
	const op = "pending"
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	if q.Limit < 0 || (q.Conversation != "" && q.Tenant == "") {
		return nil, fmt.Errorf("postgres: %s: negative limit or conversation without tenant: %w", op, store.ErrInvalid)
	}
	var limit *int64
	if q.Limit > 0 {
		n := int64(q.Limit)
		limit = &n
	}
	var (
		p   []store.Message
		err error
	)
	switch {
	case q.Conversation != "":
		cid, ok := parseID('c', string(q.Conversation))
		if !ok {
			return nil, fmt.Errorf("postgres: %s: conversation %s: %w", op, q.Conversation, store.ErrNotFound)
		}
		p, err = scanMessages(s.pool.Query(ctx, s.sql(pendingConversation), limit, q.Tenant, cid))
		if err == nil && len(p) == 0 {
			_, err = s.conversation(ctx, s.pool, q.Tenant, q.Conversation)
		}
	case q.Tenant != "":
		p, err = scanMessages(s.pool.Query(ctx, s.sql(pendingTenant), limit, q.Tenant))
	default:
		p, err = scanMessages(s.pool.Query(ctx, s.sql(pendingAll), limit))
	}
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return p, nil
}

const setProcessing = `UPDATE wagent.messages
SET process_state = $3, process_attempts = $4, process_reason = $5, process_updated_at = $6
WHERE id = $1 AND tenant = $2 AND role = 'user'`

const roleOf = `SELECT role FROM wagent.messages WHERE id = $1 AND tenant = $2`

// SetProcessing implements [store.ConversationStore].
func (s *Store) SetProcessing(ctx context.Context, tenant channel.TenantID, id store.MessageID, p store.Processing) error {
	const op = "set processing"
	if err := s.start(ctx, op); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.sql(setProcessing), int64(id), tenant,
		int16(p.State), p.Attempts, p.Reason, ts(micro(p.UpdatedAt)))
	if err == nil && tag.RowsAffected() == 0 {
		var role string
		if err = s.pool.QueryRow(ctx, s.sql(roleOf), int64(id), tenant).Scan(&role); err == nil {
			return fmt.Errorf("postgres: %s: message %d is not inbound: %w", op, id, store.ErrInvalid)
		}
	}
	if err != nil {
		return s.fail(ctx, fmt.Sprintf("%s: message %d", op, id), err)
	}
	return nil
}

// setProcessingBatch applies a batch of processing updates in one
// statement, so in one round trip and one commit: the batch's rows, one
// per record (the later update of a record wins), are joined to the
// inbound records of the tenant. When one of the records is not inbound
// nothing is updated and that record's id comes back as "bad".
const setProcessingBatch = `WITH u AS (
	SELECT * FROM unnest($2::bigint[], $3::smallint[], $4::bigint[], $5::text[], $6::timestamptz[])
		AS u (id, state, attempts, reason, updated_at)
), bad AS (
	SELECT m.id FROM wagent.messages m JOIN u ON m.id = u.id
	WHERE m.tenant = $1 AND m.role <> 'user' LIMIT 1
), done AS (
	UPDATE wagent.messages m
	SET process_state = u.state, process_attempts = u.attempts, process_reason = u.reason,
		process_updated_at = u.updated_at
	FROM u
	WHERE m.id = u.id AND m.tenant = $1 AND m.role = 'user' AND NOT EXISTS (SELECT 1 FROM bad)
	RETURNING m.id
)
SELECT true, id FROM bad UNION ALL SELECT false, id FROM done`

// SetProcessingBatch implements [store.ProcessingBatcher]: the updates
// are one statement.
func (s *Store) SetProcessingBatch(ctx context.Context, tenant channel.TenantID, updates []store.ProcessingUpdate) ([]store.MessageID, error) {
	const op = "set processing"
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	if len(updates) == 0 {
		return nil, nil
	}
	// One row per record, holding its last update: an UPDATE joined to
	// several rows for one record would apply any one of them.
	last := make(map[store.MessageID]int, len(updates))
	for i, u := range updates {
		last[u.ID] = i
	}
	n := len(last)
	var (
		ids      = make([]int64, 0, n)
		states   = make([]int16, 0, n)
		attempts = make([]int64, 0, n)
		reasons  = make([]string, 0, n)
		times    = make([]pgtype.Timestamptz, 0, n)
	)
	for i, u := range updates {
		if last[u.ID] != i {
			continue
		}
		p := u.Processing
		ids = append(ids, int64(u.ID))
		states = append(states, int16(p.State))
		attempts = append(attempts, int64(p.Attempts))
		reasons = append(reasons, p.Reason)
		times = append(times, ts(micro(p.UpdatedAt)))
	}
	rows, err := s.pool.Query(ctx, s.sql(setProcessingBatch), tenant, ids, states, attempts, reasons, times)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	updated := make(map[store.MessageID]bool, n)
	var (
		isBad, bad bool
		badID, id  int64
	)
	_, err = pgx.ForEachRow(rows, []any{&isBad, &id}, func() error {
		if isBad {
			bad, badID = true, id
		} else {
			updated[store.MessageID(id)] = true
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	if bad {
		return nil, fmt.Errorf("postgres: %s: message %d is not inbound: %w", op, badID, store.ErrInvalid)
	}
	var missing []store.MessageID
	for _, u := range updates {
		if !updated[u.ID] {
			missing = append(missing, u.ID)
		}
	}
	return missing, nil
}

// UpdateDelivery reads the record, then writes the merged delivery state
// only if the record still holds what was read.
const (
	deliveryByID = `SELECT ` + messageCols + `, m.channel IS NOT NULL FROM wagent.messages m
	WHERE m.id = $1 AND m.tenant = $2`
	deliveryByProviderID = `SELECT ` + messageCols + `, false FROM wagent.messages m
	WHERE m.tenant = $1 AND m.provider_id = $2 AND m.channel IS NULL
	ORDER BY m.id LIMIT 1`
	updateDelivery = `UPDATE wagent.messages
	SET provider_id = $2, delivery_state = $3, delivery_attempts = $4, delivery_error_code = $5,
		delivery_error_title = $6, delivery_updated_at = $7
	WHERE id = $1 AND provider_id = $8 AND delivery_state = $9 AND delivery_attempts = $10
		AND delivery_error_code = $11 AND delivery_error_title = $12
		AND delivery_updated_at IS NOT DISTINCT FROM $13`
)

// UpdateDelivery implements [store.ConversationStore]. It reads the record,
// merges u with [store.Delivery.Merge] and writes the result with a
// compare-and-set on the delivery columns it read, reading again when
// another update came between: concurrent updates from any number of
// instances are applied one after another, each in two round trips and
// one commit. It returns [store.ErrInvalid] when u has neither ID nor
// ProviderID, or selects an inbound record. A provider id held by several
// records finds the oldest of them; inbound records are not found by
// provider id.
func (s *Store) UpdateDelivery(ctx context.Context, tenant channel.TenantID, u store.DeliveryUpdate) (store.Message, error) {
	const op = "update delivery"
	if err := s.start(ctx, op); err != nil {
		return store.Message{}, err
	}
	if u.ID == 0 && u.ProviderID == "" {
		return store.Message{}, fmt.Errorf("postgres: %s: id or provider id required: %w", op, store.ErrInvalid)
	}
	u.Time = micro(u.Time)
	for {
		m, done, err := s.updateDelivery(ctx, tenant, u)
		if err != nil {
			return store.Message{}, s.fail(ctx, op, err)
		}
		if done {
			return m, nil
		}
	}
}

// updateDelivery makes one attempt at UpdateDelivery and reports whether
// it is done: false when another update changed the record after it was
// read, so that the attempt must be made again.
func (s *Store) updateDelivery(ctx context.Context, tenant channel.TenantID, u store.DeliveryUpdate) (store.Message, bool, error) {
	var row pgx.Row
	if u.ID != 0 {
		row = s.pool.QueryRow(ctx, s.sql(deliveryByID), int64(u.ID), tenant)
	} else {
		row = s.pool.QueryRow(ctx, s.sql(deliveryByProviderID), tenant, u.ProviderID)
	}
	var inbound bool
	m, err := scanMessage(rowWith{row, &inbound})
	if err != nil {
		return store.Message{}, false, err
	}
	if inbound {
		return store.Message{}, false, fmt.Errorf("postgres: update delivery: message %d is inbound: %w", m.ID, store.ErrInvalid)
	}
	was, wasProvider := m.Delivery, m.ProviderID
	next, changed := m.Delivery.Merge(u)
	if m.ProviderID == "" && u.ProviderID != "" {
		m.ProviderID, changed = u.ProviderID, true
	}
	if !changed {
		return m, true, nil
	}
	m.Delivery = next
	tag, err := s.pool.Exec(ctx, s.sql(updateDelivery), int64(m.ID), m.ProviderID, int16(next.State), next.Attempts,
		next.ErrorCode, next.ErrorTitle, ts(next.UpdatedAt),
		wasProvider, int16(was.State), was.Attempts, was.ErrorCode, was.ErrorTitle, ts(was.UpdatedAt))
	if err != nil {
		return store.Message{}, false, err
	}
	return m, tag.RowsAffected() == 1, nil
}

// rowWith scans a row of messageCols followed by one more column into
// extra.
type rowWith struct {
	row   pgx.Row
	extra any
}

func (r rowWith) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra)...) }
