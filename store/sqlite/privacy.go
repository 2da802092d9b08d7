package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/validtext"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

var (
	_ privacy.LedgerStorage  = (*Store)(nil)
	_ privacy.AuditStorage   = (*Store)(nil)
	_ privacy.HoldStorage    = (*Store)(nil)
	_ privacy.RequestStorage = (*Store)(nil)
	_ privacy.Checkpointer   = (*Store)(nil)
)

// The privacy engine's records: a Store is also the [privacy.LedgerStorage],
// [privacy.AuditStorage], [privacy.HoldStorage] and [privacy.RequestStorage]
// of the consent ledger, the audit log, legal holds and data-subject
// requests, kept in the same file as the conversations (migration 5) and
// written through the same single writer. Sequence and version checks run
// inside the write transaction, which holds the file's write lock, so that
// processes sharing the file cannot both append one entry of a chain or
// save one version of a request.
//
// Records are kept as the JSON of the privacy types, with the fields that
// queries select by in columns of their own; legal holds are kept in
// columns only. Times are kept to the microsecond in the columns; the
// JSON keeps them as given.

// privStart checks that a call of the privacy storage may go ahead.
func (s *Store) privStart(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if s.closed.Load() {
		return errClosed
	}
	return nil
}

// privMicros returns t as a nullable time column: NULL for the zero time.
func privMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return micros(t)
}

// privTime returns the time of a nullable time column: zero for NULL.
func privTime(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return fromMicros(us.Int64)
}

// privHash returns the digest kept in a column.
func privHash(b []byte) (privacy.Hash, error) {
	var h privacy.Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("sqlite: digest of %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// privWrite runs fn in a write transaction, as write does. fn reports a
// failed sequence or version check by returning it in its second result
// rather than as an error, having changed nothing, so that the other
// writes of its batch go on; privWrite returns it once the batch is
// committed.
func (s *Store) privWrite(ctx context.Context, op string, fn func(tx *wtx) (error, error)) error {
	var refused error
	err := s.write(ctx, func(tx *wtx) error {
		var err error
		refused, err = fn(tx)
		return err
	})
	if err != nil {
		return s.failed(op, err)
	}
	return refused
}

// privLastSeq returns the last sequence number of tenant's chain in table,
// inside the write transaction.
func privLastSeq(tx *wtx, table string, tenant channel.TenantID) (uint64, error) {
	var last int64
	err := tx.conn.QueryRowContext(context.Background(), `SELECT coalesce(max(seq), 0) FROM `+table+` WHERE tenant = ?1`, string(tenant)).Scan(&last)
	return uint64(last), err
}

// privLimit returns limit as SQLite's LIMIT takes it: negative for none.
func privLimit(limit int) int64 {
	if limit <= 0 {
		return -1
	}
	return int64(limit)
}

// AppendConsent implements [privacy.LedgerStorage]. The sequence check
// runs in the write transaction, which holds the file's write lock: of two
// appends of one Seq, from this process or another sharing the file, one
// is stored and the other returns [privacy.ErrConflict]. A record holding
// text that is not valid UTF-8 is [store.ErrInvalid].
func (s *Store) AppendConsent(ctx context.Context, e privacy.LedgerEntry) error {
	const op = "append consent"
	if err := s.privStart(ctx, op); err != nil {
		return err
	}
	rec, err := privEncode(op, e.Record)
	if err != nil {
		return err
	}
	return s.privWrite(ctx, op, func(tx *wtx) (error, error) {
		last, err := privLastSeq(tx, "privacy_consent", e.Tenant)
		if err != nil {
			return nil, err
		}
		if last == math.MaxInt64 || e.Seq != last+1 {
			return fmt.Errorf("sqlite: %s: entry %d after %d: %w", op, e.Seq, last, privacy.ErrConflict), nil
		}
		_, err = tx.conn.ExecContext(context.Background(), `INSERT INTO privacy_consent
			(tenant, seq, subject, record, record_salt, record_digest, evidence_salt, evidence_digest, prev, hash)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
			string(e.Tenant), int64(e.Seq), string(e.Record.Subject), rec, e.RecordSalt, e.RecordDigest[:],
			e.EvidenceSalt, e.EvidenceDigest[:], e.Prev[:], e.Hash[:])
		return nil, err
	})
}

const privConsentColumns = `tenant, seq, record, record_salt, record_digest, evidence_salt, evidence_digest, prev, hash`

func privScanConsent(r scanner) (privacy.LedgerEntry, error) {
	var e privacy.LedgerEntry
	var tenant string
	var seq int64
	var rec, recDigest, evDigest, prev, hash []byte
	if err := r.Scan(&tenant, &seq, &rec, &e.RecordSalt, &recDigest, &e.EvidenceSalt, &evDigest, &prev, &hash); err != nil {
		return e, err
	}
	e.Tenant, e.Seq = channel.TenantID(tenant), uint64(seq)
	if err := json.Unmarshal(rec, &e.Record); err != nil {
		return e, fmt.Errorf("consent entry %d: %w", seq, err)
	}
	var err error
	for _, d := range []struct {
		dst *privacy.Hash
		src []byte
	}{{&e.RecordDigest, recDigest}, {&e.EvidenceDigest, evDigest}, {&e.Prev, prev}, {&e.Hash, hash}} {
		if *d.dst, err = privHash(d.src); err != nil {
			return e, fmt.Errorf("consent entry %d: %w", seq, err)
		}
	}
	return e, nil
}

// privConsent returns the entries a query of the read pool selects.
func (s *Store) privConsent(ctx context.Context, op, q string, args ...any) ([]privacy.LedgerEntry, error) {
	if err := s.privStart(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+privConsentColumns+` FROM privacy_consent WHERE `+q, args...)
	if err != nil {
		return nil, s.failed(op, err)
	}
	defer rows.Close()
	var out []privacy.LedgerEntry
	for rows.Next() {
		e, err := privScanConsent(rows)
		if err != nil {
			return nil, s.failed(op, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(op, err)
	}
	return out, nil
}

// LastConsent implements [privacy.LedgerStorage].
func (s *Store) LastConsent(ctx context.Context, tenant channel.TenantID) (privacy.LedgerEntry, error) {
	es, err := s.privConsent(ctx, "last consent", `tenant = ?1 ORDER BY seq DESC LIMIT 1`, string(tenant))
	if err != nil || len(es) == 0 {
		return privacy.LedgerEntry{}, err
	}
	return es[0], nil
}

// ConsentEntries implements [privacy.LedgerStorage]. A limit below 1
// returns every entry after after.
func (s *Store) ConsentEntries(ctx context.Context, tenant channel.TenantID, after uint64, limit int) ([]privacy.LedgerEntry, error) {
	if after >= math.MaxInt64 {
		return nil, s.privStart(ctx, "consent entries")
	}
	return s.privConsent(ctx, "consent entries", `tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`,
		string(tenant), int64(after), privLimit(limit))
}

// SubjectConsent implements [privacy.LedgerStorage].
func (s *Store) SubjectConsent(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) ([]privacy.LedgerEntry, error) {
	return s.privConsent(ctx, "subject consent", `tenant = ?1 AND subject = ?2 ORDER BY seq`, string(tenant), string(subject))
}

// ReplaceConsent implements [privacy.LedgerStorage]. The entry replaced is
// overwritten in the database file (secure_delete); [Store.Checkpoint]
// removes it from the write-ahead log.
func (s *Store) ReplaceConsent(ctx context.Context, e privacy.LedgerEntry) error {
	const op = "replace consent"
	if err := s.privStart(ctx, op); err != nil {
		return err
	}
	if e.Seq == 0 || e.Seq > math.MaxInt64 {
		return fmt.Errorf("sqlite: %s: entry %d: %w", op, e.Seq, store.ErrNotFound)
	}
	rec, err := privEncode(op, e.Record)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *wtx) error {
		res, err := tx.conn.ExecContext(context.Background(), `UPDATE privacy_consent SET subject = ?3, record = ?4,
			record_salt = ?5, record_digest = ?6, evidence_salt = ?7, evidence_digest = ?8, prev = ?9, hash = ?10
			WHERE tenant = ?1 AND seq = ?2`,
			string(e.Tenant), int64(e.Seq), string(e.Record.Subject), rec, e.RecordSalt, e.RecordDigest[:],
			e.EvidenceSalt, e.EvidenceDigest[:], e.Prev[:], e.Hash[:])
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("entry %d: %w", e.Seq, store.ErrNotFound)
		}
		return nil
	})
	return s.failed(op, err)
}

// tenants returns the distinct tenants of table.
func (s *Store) privTenants(ctx context.Context, op, table string) ([]channel.TenantID, error) {
	if err := s.privStart(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT DISTINCT tenant FROM `+table+` ORDER BY tenant`)
	if err != nil {
		return nil, s.failed(op, err)
	}
	defer rows.Close()
	var out []channel.TenantID
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, s.failed(op, err)
		}
		out = append(out, channel.TenantID(t))
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(op, err)
	}
	return out, nil
}

// ConsentTenants implements [privacy.LedgerStorage].
func (s *Store) ConsentTenants(ctx context.Context) ([]channel.TenantID, error) {
	return s.privTenants(ctx, "consent tenants", "privacy_consent")
}

// AppendAudit implements [privacy.AuditStorage], checking the sequence as
// [Store.AppendConsent] does.
func (s *Store) AppendAudit(ctx context.Context, e privacy.AuditEntry) error {
	const op = "append audit"
	if err := s.privStart(ctx, op); err != nil {
		return err
	}
	ev, err := privEncode(op, e.Event)
	if err != nil {
		return err
	}
	tenant := e.Event.Tenant
	return s.privWrite(ctx, op, func(tx *wtx) (error, error) {
		last, err := privLastSeq(tx, "privacy_audit", tenant)
		if err != nil {
			return nil, err
		}
		if last == math.MaxInt64 || e.Seq != last+1 {
			return fmt.Errorf("sqlite: %s: entry %d after %d: %w", op, e.Seq, last, privacy.ErrConflict), nil
		}
		_, err = tx.conn.ExecContext(context.Background(), `INSERT INTO privacy_audit
			(tenant, seq, time, action, subject, event, prev, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
			string(tenant), int64(e.Seq), privMicros(e.Event.Time), string(e.Event.Action), string(e.Event.Subject),
			ev, e.Prev[:], e.Hash[:])
		return nil, err
	})
}

func (s *Store) privAudit(ctx context.Context, op, q string, args ...any) ([]privacy.AuditEntry, error) {
	if err := s.privStart(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT seq, event, prev, hash FROM privacy_audit WHERE `+q, args...)
	if err != nil {
		return nil, s.failed(op, err)
	}
	defer rows.Close()
	var out []privacy.AuditEntry
	for rows.Next() {
		var e privacy.AuditEntry
		var seq int64
		var ev, prev, hash []byte
		if err := rows.Scan(&seq, &ev, &prev, &hash); err != nil {
			return nil, s.failed(op, err)
		}
		e.Seq = uint64(seq)
		if err := json.Unmarshal(ev, &e.Event); err != nil {
			return nil, s.failed(op, fmt.Errorf("audit entry %d: %w", seq, err))
		}
		if e.Prev, err = privHash(prev); err == nil {
			e.Hash, err = privHash(hash)
		}
		if err != nil {
			return nil, s.failed(op, fmt.Errorf("audit entry %d: %w", seq, err))
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(op, err)
	}
	return out, nil
}

// LastAudit implements [privacy.AuditStorage].
func (s *Store) LastAudit(ctx context.Context, tenant channel.TenantID) (privacy.AuditEntry, error) {
	es, err := s.privAudit(ctx, "last audit", `tenant = ?1 ORDER BY seq DESC LIMIT 1`, string(tenant))
	if err != nil || len(es) == 0 {
		return privacy.AuditEntry{}, err
	}
	return es[0], nil
}

// AuditEntries implements [privacy.AuditStorage]. A limit below 1 returns
// every entry after after.
func (s *Store) AuditEntries(ctx context.Context, tenant channel.TenantID, after uint64, limit int) ([]privacy.AuditEntry, error) {
	if after >= math.MaxInt64 {
		return nil, s.privStart(ctx, "audit entries")
	}
	return s.privAudit(ctx, "audit entries", `tenant = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`,
		string(tenant), int64(after), privLimit(limit))
}

// AuditTenants implements [privacy.AuditStorage].
func (s *Store) AuditTenants(ctx context.Context) ([]channel.TenantID, error) {
	return s.privTenants(ctx, "audit tenants", "privacy_audit")
}

// PutHold implements [privacy.HoldStorage].
func (s *Store) PutHold(ctx context.Context, h privacy.Hold) error {
	const op = "put hold"
	if err := s.privStart(ctx, op); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *wtx) error {
		_, err := tx.conn.ExecContext(context.Background(), `INSERT INTO privacy_holds
			(tenant, id, subject, reason, placed_by, placed, expires, lifted, lifted_by)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
			ON CONFLICT (tenant, id) DO UPDATE SET subject = excluded.subject, reason = excluded.reason,
				placed_by = excluded.placed_by, placed = excluded.placed, expires = excluded.expires,
				lifted = excluded.lifted, lifted_by = excluded.lifted_by`,
			string(h.Tenant), h.ID, string(h.Subject), h.Reason, h.PlacedBy,
			privMicros(h.Placed), privMicros(h.Expires), privMicros(h.Lifted), h.LiftedBy)
		return err
	})
	return s.failed(op, err)
}

// ListHolds implements [privacy.HoldStorage].
func (s *Store) ListHolds(ctx context.Context, tenant channel.TenantID) ([]privacy.Hold, error) {
	const op = "list holds"
	if err := s.privStart(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, subject, reason, placed_by, placed, expires, lifted, lifted_by
		FROM privacy_holds WHERE tenant = ?1 ORDER BY ord`, string(tenant))
	if err != nil {
		return nil, s.failed(op, err)
	}
	defer rows.Close()
	var out []privacy.Hold
	for rows.Next() {
		h := privacy.Hold{Tenant: tenant}
		var subject string
		var placed, expires, lifted sql.NullInt64
		if err := rows.Scan(&h.ID, &subject, &h.Reason, &h.PlacedBy, &placed, &expires, &lifted, &h.LiftedBy); err != nil {
			return nil, s.failed(op, err)
		}
		h.Subject = store.SubjectID(subject)
		h.Placed, h.Expires, h.Lifted = privTime(placed), privTime(expires), privTime(lifted)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(op, err)
	}
	return out, nil
}

// SaveRequest implements [privacy.RequestStorage]. The version check runs
// in the write transaction, as [Store.AppendConsent]'s does.
func (s *Store) SaveRequest(ctx context.Context, r privacy.Request) error {
	const op = "save request"
	if err := s.privStart(ctx, op); err != nil {
		return err
	}
	body, err := privEncode(op, r)
	if err != nil {
		return err
	}
	return s.privWrite(ctx, op, func(tx *wtx) (error, error) {
		bg := context.Background()
		var stored int64
		err := tx.conn.QueryRowContext(bg, `SELECT version FROM privacy_requests WHERE id = ?1`, string(r.ID)).Scan(&stored)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if int64(r.Version) != stored+1 {
			return fmt.Errorf("sqlite: %s: version %d after %d: %w", op, r.Version, stored, privacy.ErrConflict), nil
		}
		args := []any{string(r.ID), int64(r.Version), string(r.Tenant), string(r.Subject), string(r.Address.User),
			string(r.Type), string(r.Status), micros(r.Received), micros(r.Due), body}
		if stored == 0 {
			_, err = tx.conn.ExecContext(bg, `INSERT INTO privacy_requests
				(id, version, tenant, subject, user_id, type, status, received, due, body)
				VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`, args...)
		} else {
			_, err = tx.conn.ExecContext(bg, `UPDATE privacy_requests SET version = ?2, tenant = ?3, subject = ?4,
				user_id = ?5, type = ?6, status = ?7, received = ?8, due = ?9, body = ?10 WHERE id = ?1`, args...)
		}
		return nil, err
	})
}

// LoadRequest implements [privacy.RequestStorage].
func (s *Store) LoadRequest(ctx context.Context, id privacy.RequestID) (privacy.Request, error) {
	const op = "load request"
	if err := s.privStart(ctx, op); err != nil {
		return privacy.Request{}, err
	}
	var body []byte
	if err := s.rdb.QueryRowContext(ctx, `SELECT body FROM privacy_requests WHERE id = ?1`, string(id)).Scan(&body); err != nil {
		return privacy.Request{}, s.failed(op, err)
	}
	var r privacy.Request
	if err := json.Unmarshal(body, &r); err != nil {
		return privacy.Request{}, s.failed(op, err)
	}
	return r, nil
}

// FindRequests implements [privacy.RequestStorage].
func (s *Store) FindRequests(ctx context.Context, q privacy.RequestQuery) ([]privacy.Request, error) {
	const op = "find requests"
	if err := s.privStart(ctx, op); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("?%d", len(args))))
	}
	if q.Tenant != "" {
		arg("tenant = ?", string(q.Tenant))
	}
	if q.Subject != "" {
		arg("subject = ?", string(q.Subject))
	}
	if q.User != "" {
		arg("user_id = ?", string(q.User))
	}
	if q.Type != "" {
		arg("type = ?", string(q.Type))
	}
	if len(q.Status) > 0 {
		marks := make([]string, len(q.Status))
		for i, st := range q.Status {
			args = append(args, string(st))
			marks[i] = fmt.Sprintf("?%d", len(args))
		}
		where = append(where, "status IN ("+strings.Join(marks, ", ")+")")
	}
	if q.Open {
		where = append(where, "status NOT IN ('"+string(privacy.StatusCompleted)+"', '"+string(privacy.StatusDenied)+"')")
	}
	limit := privLimit(q.Limit)
	if !q.DueBefore.IsZero() {
		// The column keeps whole microseconds: it selects a superset,
		// which Match narrows to the requests due before q.DueBefore.
		arg("due <= ?", micros(q.DueBefore))
		limit = -1
	}
	query := `SELECT body FROM privacy_requests`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += fmt.Sprintf(` ORDER BY received, id LIMIT ?%d`, len(args))
	rows, err := s.rdb.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.failed(op, err)
	}
	defer rows.Close()
	var out []privacy.Request
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, s.failed(op, err)
		}
		var r privacy.Request
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, s.failed(op, err)
		}
		if q.Match(r) {
			out = append(out, r)
		}
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.failed(op, err)
	}
	return out, nil
}

// privEncode returns the JSON of v, a record of the privacy engine, or an
// error wrapping [store.ErrInvalid] when a string in it is not valid
// UTF-8, which JSON would not keep.
func privEncode(op string, v any) ([]byte, error) {
	if !validtext.Valid(v) {
		return nil, fmt.Errorf("sqlite: %s: text that is not valid UTF-8: %w", op, store.ErrInvalid)
	}
	b, err := encode(v)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", op, err)
	}
	return b, nil
}
