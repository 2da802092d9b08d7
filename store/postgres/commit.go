package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// Group commit of AppendInbound.
//
// One append is a few statements and a commit, and the commit, which waits
// for the write-ahead log to reach the disk, costs more than the rest. So
// concurrent appends share a transaction, without a goroutine of their own
// (as store/sqlite does): a call that finds no batch in progress becomes
// the leader, takes every append queued so far (its own first) into one
// transaction, locks their conversations with one statement and inserts
// their records with another, in a few pipelines rather than a round trip
// per statement, commits once, hands the lead to the first append queued
// meanwhile, and wakes the callers of its batch.
//
// Every guarantee of a lone append holds in a batch: the idempotency key
// is the unique constraint, which two batches of two instances inserting
// one key respect as two lone appends do (the second waits for the first
// and finds its record); two appends of one key in one batch see each
// other, so exactly one is new; the conversation's row stays locked until
// the commit, so that a conversation's ids increase in the order its
// records become visible. An append that fails for a reason of its own (a
// value the server rejects) fails alone: the transaction is rolled back
// and tried again with a statement per conversation and per record, which
// finds the append to blame, and then without it. A deadlock with another
// transaction, which PostgreSQL breaks by failing one of them, makes the
// batch try again.

const (
	// maxInboundBatch caps the appends one transaction records.
	maxInboundBatch = 256
	// maxBatchTries caps the times a batch is tried after failing as a whole
	// for a reason worth trying again (a deadlock, a serialization
	// failure).
	maxBatchTries = 5
	// batchRollbackTimeout bounds the rollback of a failed batch, which must
	// reach the server even when every caller has given up.
	batchRollbackTimeout = 5 * time.Second
)

// An inbound is one AppendInbound call waiting for its batch.
type inbound struct {
	ctx    context.Context
	m      *channel.Message
	now, t time.Time // the call's clock, the record's time
	body   []byte    // the record's content column
	media  bool

	a   store.Appended
	err error
	// wake receives one signal: the append is done (a and err are set),
	// or it was made the leader of the next batch (lead is set).
	wake chan struct{}
	lead bool
}

// recordInbound appends in.m as a member of a batch and returns once the
// batch is committed, or with the error that kept it from committing. A
// call whose ctx is done before its batch starts is dropped and returns
// ctx's error; one whose ctx is done while its batch is under way returns
// ctx's error at once, and its message may be recorded nonetheless, as
// with any call whose context ends while its transaction commits. The
// batch itself stops when the contexts of all its calls are done. The
// leader, whose goroutine runs the batch, returns when the batch ends.
func (s *Store) recordInbound(ctx context.Context, in *inbound) error {
	in.ctx = ctx
	in.wake = make(chan struct{}, 1)
	s.mu.Lock()
	s.queue = append(s.queue, in)
	leader := !s.leading
	s.leading = true
	s.mu.Unlock()

	if !leader {
		select {
		case <-in.wake:
		case <-ctx.Done():
			s.mu.Lock()
			switch {
			case in.lead:
				// Made the leader as ctx ended: pass the lead on.
				<-in.wake
				s.dequeueInbound(in)
				s.handOffInbound()
				s.mu.Unlock()
				return ctx.Err()
			case s.dequeueInbound(in):
				s.mu.Unlock()
				return ctx.Err()
			}
			s.mu.Unlock()
			// In a batch under way, which sets its result later.
			return ctx.Err()
		}
		if !in.lead {
			return in.err
		}
	}
	s.leadInbound()
	return in.err
}

// dequeueInbound removes in from the queue and reports whether it was
// there. s.mu must be held.
func (s *Store) dequeueInbound(in *inbound) bool {
	for i, q := range s.queue {
		if q == in {
			s.queue = slices.Delete(s.queue, i, i+1)
			return true
		}
	}
	return false
}

// handOffInbound makes the first call queued the leader of the next batch,
// or ends the lead when none is. s.mu must be held.
func (s *Store) handOffInbound() {
	if len(s.queue) == 0 {
		s.leading = false
		return
	}
	next := s.queue[0]
	next.lead = true
	next.wake <- struct{}{}
}

// leadInbound commits the queued appends as the leader, whose call is the
// first in the queue, then hands the lead on and wakes the other calls of
// the batch.
func (s *Store) leadInbound() {
	s.mu.Lock()
	n := min(len(s.queue), maxInboundBatch)
	batch := s.queue[:n:n]
	s.queue = append(make([]*inbound, 0, max(len(s.queue)-n, 64)), s.queue[n:]...)
	s.mu.Unlock()

	s.commitInbound(batch)

	s.mu.Lock()
	s.handOffInbound()
	s.mu.Unlock()
	for _, in := range batch[1:] {
		in.wake <- struct{}{}
	}
}

// commitInbound records the appends of batch in one transaction and sets
// their results.
func (s *Store) commitInbound(batch []*inbound) {
	todo := make([]*inbound, 0, len(batch))
	for _, in := range batch {
		if err := in.ctx.Err(); err != nil {
			in.err = err
			continue
		}
		todo = append(todo, in)
	}
	if len(todo) == 0 {
		return
	}

	// The batch's context ends when every call's has.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	left := atomic.Int64{}
	left.Store(int64(len(todo)))
	for _, in := range todo {
		stop := context.AfterFunc(in.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}

	multi := true
	for tries := 0; ; {
		todo = slices.DeleteFunc(todo, func(in *inbound) bool {
			in.a, in.err = store.Appended{}, in.ctx.Err()
			return in.err != nil
		})
		if len(todo) == 0 {
			return
		}
		failed, err := s.tryInbound(ctx, todo, multi)
		switch {
		case err == nil:
			return
		case errors.Is(err, errOneByOne):
			multi = false
			continue
		case failed != nil:
			// Some appends failed for reasons of their own: try the
			// others again without them.
			todo = slices.DeleteFunc(todo, func(in *inbound) bool {
				if failed[in] {
					in.err = err
					return true
				}
				return false
			})
			continue
		case retryableTx(err) && tries+1 < maxBatchTries && ctx.Err() == nil:
			tries++
			continue
		}
		for _, in := range todo {
			in.a, in.err = store.Appended{}, err
		}
		return
	}
}

// errOneByOne makes a batch try again with a statement per append.
var errOneByOne = errors.New("postgres: a statement of several appends failed")

// oneByOne returns errOneByOne for err, the error of a statement of several
// appends, when err may belong to one of them.
func oneByOne(ctx context.Context, err error) error {
	if ownFailure(ctx, err) {
		return errOneByOne
	}
	return err
}

// retryableTx reports whether a transaction that failed with err is worth
// trying again as it is: PostgreSQL broke a deadlock or a serialization
// conflict by failing it.
func retryableTx(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// ownFailure reports whether err, returned for a statement of one append, is
// that append's own failure, which the others of its batch need not
// share: a value the server rejects (its classes of data exceptions,
// integrity violations, program limits), or one of the store's sentinels.
// A failure of the connection, of the server, of the transaction as a
// whole, or of ctx is not.
func ownFailure(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) {
		return true
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || len(pe.Code) < 2 {
		return false
	}
	switch pe.Code[:2] {
	case "22", "23", "54":
		return true
	}
	return false
}

// batchConv is the state a batch keeps of one conversation: its row, locked
// by the batch's transaction, and its subject's profile.
type batchConv struct {
	addr    channel.Address
	conv    store.Conversation
	subj    int64
	profile channel.Profile // as read, then as the batch's new records leave it
	changed bool            // by the batch's new records
	now     time.Time       // of the last call that changed the profile
	phone   *inbound        // the call whose phone the profile has, if it changed
	members []*inbound      // in arrival order
}

// tryInbound records todo in one transaction on a connection of its own. It
// returns a nil error when the transaction committed, each append's result
// set. Otherwise the transaction is rolled back, and the error comes with
// the appends it belongs to (failed), or with none when the batch as a
// whole failed.
func (s *Store) tryInbound(ctx context.Context, todo []*inbound, multi bool) (failed map[*inbound]bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	// A connection left in a transaction, or broken, is closed, not
	// returned to the pool.
	defer conn.Release()
	failed, err = s.runInbound(ctx, conn, todo, multi)
	if err != nil {
		rctx, cancel := context.WithTimeout(context.Background(), batchRollbackTimeout)
		defer cancel()
		if _, rerr := conn.Exec(rctx, "ROLLBACK"); rerr != nil {
			conn.Conn().Close(rctx) //nolint:errcheck // the connection is dropped either way
		}
	}
	return failed, err
}

// runInbound runs the statements of todo, in three pipelines in the common
// case: it begins and locks the conversations, then inserts the records
// (each also moving its conversation's LastInboundAt forward), then writes
// the subjects' merged profiles and commits.
//
// With multi, it locks the conversations and inserts the records with one
// statement each, rather than one per conversation and per record; should
// one of these fail for a reason that may belong to one append, it returns
// errOneByOne, to be tried again statement by statement, which finds the
// append to blame.
func (s *Store) runInbound(ctx context.Context, conn *pgxpool.Conn, todo []*inbound, multi bool) (map[*inbound]bool, error) {
	// The conversations, in the order of their addresses, so that two
	// batches lock the rows they share in one order and do not deadlock.
	byAddr := make(map[channel.Address]*batchConv, len(todo))
	var addrs []*batchConv
	for _, in := range todo {
		a := byAddr[in.m.From]
		if a == nil {
			a = &batchConv{addr: in.m.From}
			byAddr[in.m.From] = a
			addrs = append(addrs, a)
		}
		a.members = append(a.members, in)
	}
	slices.SortFunc(addrs, func(x, y *batchConv) int {
		return cmp.Or(cmp.Compare(x.addr.Channel, y.addr.Channel), cmp.Compare(x.addr.Tenant, y.addr.Tenant), cmp.Compare(x.addr.User, y.addr.User))
	})
	blameAll := func(a *batchConv) map[*inbound]bool {
		f := make(map[*inbound]bool, len(a.members))
		for _, in := range a.members {
			f[in] = true
		}
		return f
	}

	// 1. Begin, and lock the conversations that exist.
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if multi {
		chans, tenants, users := make([]string, len(addrs)), make([]string, len(addrs)), make([]string, len(addrs))
		for i, a := range addrs {
			chans[i], tenants[i], users[i] = string(a.addr.Channel), string(a.addr.Tenant), string(a.addr.User)
		}
		b.Queue(s.sql(lockConversations), chans, tenants, users)
	} else {
		for _, a := range addrs {
			b.Queue(s.sql(lockConversationByAddress), a.addr.Channel, a.addr.Tenant, a.addr.User)
		}
	}
	var missing []*batchConv
	err := s.sendPipeline(ctx, conn, b, func(br pgx.BatchResults) (map[*inbound]bool, error) {
		if _, err := br.Exec(); err != nil {
			return nil, err
		}
		if multi {
			found := make([]bool, len(addrs))
			err := scanRows(br, func(rows pgx.Rows) error {
				var (
					profile []byte
					n       int
				)
				c, err := scanConversation(rows, &profile, &n)
				if err == nil && (n < 1 || n > len(addrs)) {
					err = fmt.Errorf("postgres: lock conversations: row %d of %d", n, len(addrs))
				}
				if err != nil {
					return err
				}
				addrs[n-1].locked(c, profile)
				found[n-1] = true
				return nil
			})
			if err != nil {
				return nil, oneByOne(ctx, err)
			}
			for i, a := range addrs {
				if !found[i] {
					missing = append(missing, a)
				}
			}
			return nil, nil
		}
		for _, a := range addrs {
			found, err := a.scan(br.QueryRow())
			if err != nil {
				if ownFailure(ctx, err) {
					return blameAll(a), err
				}
				return nil, err
			}
			if !found {
				missing = append(missing, a)
			}
		}
		return nil, nil
	})
	if err != nil {
		return splitBlame(err)
	}

	// 1b. Create the conversations and subjects that do not, and lock
	// them. A concurrent transaction creating one makes the insert wait
	// for it to end; the next statement sees what it made.
	if len(missing) > 0 {
		b := &pgx.Batch{}
		for _, a := range missing {
			now := a.members[0].now
			b.Queue(s.sql(insertSubject), a.addr.Channel, a.addr.Tenant, a.addr.User, now)
			b.Queue(s.sql(insertConversation), a.addr.Channel, a.addr.Tenant, a.addr.User, now)
			b.Queue(s.sql(lockConversationByAddress), a.addr.Channel, a.addr.Tenant, a.addr.User)
		}
		err := s.sendPipeline(ctx, conn, b, func(br pgx.BatchResults) (map[*inbound]bool, error) {
			for _, a := range missing {
				_, err := br.Exec()
				if err == nil {
					_, err = br.Exec()
				}
				var found bool
				if err == nil {
					found, err = a.scan(br.QueryRow())
				}
				if err == nil && !found {
					err = fmt.Errorf("postgres: conversation of the address vanished while it was created: %w", store.ErrNotFound)
				}
				if err != nil {
					if ownFailure(ctx, err) {
						return blameAll(a), err
					}
					return nil, err
				}
			}
			return nil, nil
		})
		if err != nil {
			return splitBlame(err)
		}
	}

	// 2. Insert the records, a conversation's in arrival order.
	var dups []*inbound
	if multi {
		if dups, err = s.insertInbounds(ctx, conn, addrs); err != nil {
			return splitBlame(err)
		}
	} else {
		if dups, err = s.insertEach(ctx, conn, addrs); err != nil {
			return splitBlame(err)
		}
	}

	// 3. Read the earlier records of duplicates.
	if len(dups) > 0 {
		b := &pgx.Batch{}
		for _, in := range dups {
			b.Queue(s.sql(inboundByKey), in.m.From.Channel, in.m.From.Tenant, in.m.ID)
		}
		var other []*inbound // of another conversation
		err := s.sendPipeline(ctx, conn, b, func(br pgx.BatchResults) (map[*inbound]bool, error) {
			for _, in := range dups {
				r, err := scanMessage(br.QueryRow())
				if err != nil {
					if ownFailure(ctx, err) || errors.Is(err, pgx.ErrNoRows) {
						return map[*inbound]bool{in: true}, err
					}
					return nil, err
				}
				in.a.Message, in.a.Duplicate = r, true
				if r.Conversation != in.a.Conversation.ID {
					other = append(other, in)
				}
			}
			return nil, nil
		})
		if err != nil {
			return splitBlame(err)
		}
		if len(other) > 0 {
			b := &pgx.Batch{}
			for _, in := range other {
				n, _ := parseID('c', string(in.a.Message.Conversation))
				b.Queue(s.sql(conversationByID), n, in.a.Message.Tenant)
			}
			err := s.sendPipeline(ctx, conn, b, func(br pgx.BatchResults) (map[*inbound]bool, error) {
				for _, in := range other {
					c, err := scanConversation(br.QueryRow())
					if err != nil {
						if ownFailure(ctx, err) || errors.Is(err, pgx.ErrNoRows) {
							return map[*inbound]bool{in: true}, err
						}
						return nil, err
					}
					in.a.Conversation = c
				}
				return nil, nil
			})
			if err != nil {
				return splitBlame(err)
			}
		}
	}

	// 4. Write the profiles the new records changed, and commit.
	b = &pgx.Batch{}
	var changed []*batchConv
	for _, a := range addrs {
		if !a.changed {
			continue
		}
		p, err := json.Marshal(a.profile)
		if err != nil {
			return blameAll(a), err
		}
		var phone *string
		if a.profile.Phone != "" {
			ph := string(a.profile.Phone)
			phone = &ph
		}
		b.Queue(s.sql(setInboundProfile), a.subj, p, phone, a.now)
		changed = append(changed, a)
	}
	b.Queue("COMMIT")
	err = s.sendPipeline(ctx, conn, b, func(br pgx.BatchResults) (map[*inbound]bool, error) {
		for _, a := range changed {
			if _, err := br.Exec(); err != nil {
				// The profile is JSON in a bytea column, which takes any
				// value: a value the server rejects is the phone, a text
				// column, of the call that set it.
				if ownFailure(ctx, err) && a.phone != nil {
					return map[*inbound]bool{a.phone: true}, err
				}
				if ownFailure(ctx, err) {
					return blameAll(a), err
				}
				return nil, err
			}
		}
		tag, err := br.Exec()
		if err != nil {
			return nil, err
		}
		if tag.String() != "COMMIT" {
			return nil, errors.New("postgres: commit: the transaction was rolled back")
		}
		return nil, nil
	})
	if err != nil {
		return splitBlame(err)
	}
	return nil, nil
}

// blamedError is the error of a pipeline that failed for some appends alone.
type blamedError struct {
	failed map[*inbound]bool
	err    error
}

func (e *blamedError) Error() string { return e.err.Error() }
func (e *blamedError) Unwrap() error { return e.err }

// splitBlame splits an error of pipeline into the appends it belongs to and
// the error.
func splitBlame(err error) (map[*inbound]bool, error) {
	var b *blamedError
	if errors.As(err, &b) {
		return b.failed, b.err
	}
	return nil, err
}

// sendPipeline sends b in one round trip and reads its results with read,
// which returns the appends an error belongs to, if any. It returns the
// first error of reading or of closing the results.
func (s *Store) sendPipeline(ctx context.Context, conn *pgxpool.Conn, b *pgx.Batch, read func(pgx.BatchResults) (map[*inbound]bool, error)) error {
	br := conn.SendBatch(ctx, b)
	failed, err := read(br)
	cerr := br.Close()
	if err != nil {
		if failed != nil {
			return &blamedError{failed: failed, err: err}
		}
		return err
	}
	return cerr
}

// scan reads the locked conversation of a, and reports whether there is
// one.
func (a *batchConv) scan(row pgx.Row) (bool, error) {
	var profile []byte
	c, err := scanConversation(row, &profile)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	a.locked(c, profile)
	return true, nil
}

// locked sets the conversation of a, locked, and its subject's profile.
func (a *batchConv) locked(c store.Conversation, profile []byte) {
	a.conv = c
	a.subj, _ = parseID('s', string(c.Subject))
	a.profile = decodeProfile(profile)
}

// scanRows reads the rows of the next result of br with scan.
func scanRows(br pgx.BatchResults, scan func(pgx.Rows) error) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// appended sets the result of in, recorded with id, and merges its
// sender's profile into the subject's.
func (a *batchConv) appended(in *inbound, id int64) error {
	if in.t.After(a.conv.LastInboundAt) {
		a.conv.LastInboundAt = in.t
	}
	r := store.Message{
		ID:           store.MessageID(id),
		Tenant:       in.m.From.Tenant,
		Conversation: a.conv.ID,
		Turn:         store.MessageID(id),
		Role:         store.User,
		Time:         in.t,
		ProviderID:   in.m.ID,
	}
	if err := decodeContent(in.body, &r); err != nil {
		return err
	}
	in.a = store.Appended{Message: r, Conversation: a.conv}
	if next, changed := mergeProfile(a.profile, in.m.Sender); changed {
		a.profile, a.changed, a.now = next, true, in.now
		if in.m.Sender.Phone != "" {
			a.phone = in
		}
	}
	return nil
}

// insertEach inserts the records of addrs one statement each, in one
// pipeline, and returns the appends that are duplicates. An error of one
// append comes as a [blamedError].
func (s *Store) insertEach(ctx context.Context, conn *pgxpool.Conn, addrs []*batchConv) ([]*inbound, error) {
	b := &pgx.Batch{}
	for _, a := range addrs {
		for _, in := range a.members {
			b.Queue(s.sql(insertInbound), in.m.From.Tenant, convNum(a.conv), in.t, in.m.From.Channel, in.m.ID, in.body, in.media)
		}
	}
	var dups []*inbound
	err := s.sendPipeline(ctx, conn, b, func(br pgx.BatchResults) (map[*inbound]bool, error) {
		for _, a := range addrs {
			for _, in := range a.members {
				var id int64
				err := br.QueryRow().Scan(&id)
				if errors.Is(err, pgx.ErrNoRows) {
					// A duplicate: the earlier record is committed, or
					// is this batch's, since the insert waited for it;
					// the next statements see it.
					in.a.Conversation = a.conv
					dups = append(dups, in)
					continue
				}
				if err != nil {
					if ownFailure(ctx, err) {
						return map[*inbound]bool{in: true}, err
					}
					return nil, err
				}
				if err := a.appended(in, id); err != nil {
					return map[*inbound]bool{in: true}, err
				}
			}
		}
		return nil, nil
	})
	return dups, err
}

// lockConversations locks the conversations at the addresses of the arrays
// $1 (channels), $2 (tenants) and $3 (users) in the order of the arrays,
// and reads them with their subjects' profiles and their places in the
// arrays (from 1). An address without a conversation has no row.
const lockConversations = `SELECT ` + conversationCols + `, s.profile, a.n
FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS a (channel, tenant, user_id, n)
JOIN wagent.conversations c ON c.channel = a.channel AND c.tenant = a.tenant AND c.user_id = a.user_id
JOIN wagent.subjects s ON s.id = c.subject_id
ORDER BY a.n
FOR NO KEY UPDATE OF c`

// insertInbounds is insertInbound for the records of arrays: tenants $1,
// conversations $2 (locked by the transaction), times $3, channels $4,
// provider ids $5, contents $6 and has_media $7. No two have one key. It
// returns the keys of the records inserted with their ids; a duplicate has
// no row.
const insertInbounds = `WITH v AS MATERIALIZED (
	SELECT nextval('wagent.message_ids') AS id, u.*
	FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::bytea[], $7::boolean[])
		AS u (tenant, conversation_id, time, channel, provider_id, content, has_media)
), ins AS (
	INSERT INTO wagent.messages (id, tenant, conversation_id, turn, role, time, channel, provider_id, content, has_media)
	SELECT id, tenant, conversation_id, id, 'user', time, channel, provider_id, content, has_media FROM v
	ON CONFLICT (channel, tenant, provider_id) DO NOTHING
	RETURNING id, conversation_id, time, channel, tenant, provider_id
), conv AS (
	UPDATE wagent.conversations c SET last_inbound_at = u.time
	FROM (SELECT conversation_id, max(time) AS time FROM ins GROUP BY conversation_id) AS u
	WHERE c.id = u.conversation_id AND (c.last_inbound_at IS NULL OR c.last_inbound_at < u.time)
)
SELECT id, channel, tenant, provider_id FROM ins`

// inboundKey is the idempotency key of an inbound message.
type inboundKey struct {
	channel channel.Name
	tenant  channel.TenantID
	id      channel.MessageID
}

func keyOf(m *channel.Message) inboundKey {
	return inboundKey{m.From.Channel, m.From.Tenant, m.ID}
}

// insertInbounds inserts the records of addrs with one statement and
// returns the appends that are duplicates, or errOneByOne.
func (s *Store) insertInbounds(ctx context.Context, conn *pgxpool.Conn, addrs []*batchConv) ([]*inbound, error) {
	// The first append of each key is inserted; the others of the key
	// are its duplicates, which the next statements find.
	first := make(map[inboundKey]*inbound)
	var (
		tenants, chans, pids []string
		convs                []int64
		times                []time.Time
		bodies               [][]byte
		media                []bool
	)
	for _, a := range addrs {
		for _, in := range a.members {
			k := keyOf(in.m)
			if first[k] != nil {
				continue
			}
			first[k] = in
			tenants, convs, times = append(tenants, string(k.tenant)), append(convs, convNum(a.conv)), append(times, in.t)
			chans, pids = append(chans, string(k.channel)), append(pids, string(k.id))
			bodies, media = append(bodies, in.body), append(media, in.media)
		}
	}
	b := &pgx.Batch{}
	b.Queue(s.sql(insertInbounds), tenants, convs, times, chans, pids, bodies, media)
	ids := make(map[inboundKey]int64, len(first))
	err := s.sendPipeline(ctx, conn, b, func(br pgx.BatchResults) (map[*inbound]bool, error) {
		err := scanRows(br, func(rows pgx.Rows) error {
			var (
				id              int64
				ch, tenant, pid string
			)
			if err := rows.Scan(&id, &ch, &tenant, &pid); err != nil {
				return err
			}
			ids[inboundKey{channel.Name(ch), channel.TenantID(tenant), channel.MessageID(pid)}] = id
			return nil
		})
		return nil, err
	})
	if err != nil {
		return nil, oneByOne(ctx, err)
	}
	var dups []*inbound
	for _, a := range addrs {
		for _, in := range a.members {
			k := keyOf(in.m)
			id, ok := ids[k]
			if !ok || first[k] != in {
				in.a.Conversation = a.conv
				dups = append(dups, in)
				continue
			}
			if err := a.appended(in, id); err != nil {
				return nil, &blamedError{failed: map[*inbound]bool{in: true}, err: err}
			}
		}
	}
	return dups, nil
}
