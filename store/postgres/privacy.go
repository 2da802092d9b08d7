package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

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
)

// The privacy engine's records: a Store is also the [privacy.LedgerStorage],
// [privacy.AuditStorage], [privacy.HoldStorage] and [privacy.RequestStorage]
// of the consent ledger, the audit log, legal holds and data-subject
// requests, in tables of the store's schema (migration 5), shared safely by
// the instances that open it.
//
// An append inserts an entry only when its sequence number follows the
// chain's last, in one statement, and the primary key (tenant, seq) makes
// sure that of two instances appending the same number at once only one
// inserts: the other gets [privacy.ErrConflict]. A request is saved with
// its version checked in the same statement as the write.
//
// Records are kept as the JSON of the privacy types, with the fields that
// queries select by in columns of their own; legal holds are kept in
// columns only. Times are kept to the microsecond in the columns; the
// JSON keeps them as given.

// AppendConsent implements [privacy.LedgerStorage]. One statement inserts
// the entry only when it follows the chain's last, and the primary key
// (tenant, seq) keeps two instances appending one Seq at once from both
// succeeding: the other returns [privacy.ErrConflict]. A record holding
// text that is not valid UTF-8 is [store.ErrInvalid].
func (s *Store) AppendConsent(ctx context.Context, e privacy.LedgerEntry) error {
	const op = "append consent"
	if err := s.start(ctx, op); err != nil {
		return err
	}
	rec, err := privEncode(op, e.Record)
	if err != nil {
		return err
	}
	if e.Seq == 0 || e.Seq > math.MaxInt64 {
		return fmt.Errorf("postgres: %s: entry %d: %w", op, e.Seq, privacy.ErrConflict)
	}
	tag, err := s.pool.Exec(ctx, s.sql(`INSERT INTO wagent.privacy_consent
		(tenant, seq, subject, record, record_salt, record_digest, evidence_salt, evidence_digest, prev, hash)
		SELECT $1::text, $2::bigint, $3::text, $4::bytea, $5::bytea, $6::bytea, $7::bytea, $8::bytea, $9::bytea, $10::bytea
		WHERE (SELECT coalesce(max(seq), 0) FROM wagent.privacy_consent WHERE tenant = $1) = $2 - 1
		ON CONFLICT (tenant, seq) DO NOTHING`),
		string(e.Tenant), int64(e.Seq), string(e.Record.Subject), rec, e.RecordSalt, e.RecordDigest[:],
		e.EvidenceSalt, e.EvidenceDigest[:], e.Prev[:], e.Hash[:])
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: entry %d does not follow the last: %w", op, e.Seq, privacy.ErrConflict)
	}
	return nil
}

// privHash returns the digest kept in a column.
func privHash(b []byte) (privacy.Hash, error) {
	var h privacy.Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("postgres: digest of %d bytes, want %d", len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

const privConsentCols = `seq, record, record_salt, record_digest, evidence_salt, evidence_digest, prev, hash`

func (s *Store) privConsent(ctx context.Context, op string, tenant channel.TenantID, where string, args ...any) ([]privacy.LedgerEntry, error) {
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT `+privConsentCols+` FROM wagent.privacy_consent WHERE `+where), args...)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	var out []privacy.LedgerEntry
	for rows.Next() {
		e := privacy.LedgerEntry{Tenant: tenant}
		var seq int64
		var rec, recDigest, evDigest, prev, hash []byte
		if err := rows.Scan(&seq, &rec, &e.RecordSalt, &recDigest, &e.EvidenceSalt, &evDigest, &prev, &hash); err != nil {
			rows.Close()
			return nil, s.fail(ctx, op, err)
		}
		e.Seq = uint64(seq)
		err := json.Unmarshal(rec, &e.Record)
		for _, d := range []struct {
			dst *privacy.Hash
			src []byte
		}{{&e.RecordDigest, recDigest}, {&e.EvidenceDigest, evDigest}, {&e.Prev, prev}, {&e.Hash, hash}} {
			if err == nil {
				*d.dst, err = privHash(d.src)
			}
		}
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: %s: consent entry %d: %w", op, seq, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}

// LastConsent implements [privacy.LedgerStorage].
func (s *Store) LastConsent(ctx context.Context, tenant channel.TenantID) (privacy.LedgerEntry, error) {
	es, err := s.privConsent(ctx, "last consent", tenant, `tenant = $1 ORDER BY seq DESC LIMIT 1`, string(tenant))
	if err != nil || len(es) == 0 {
		return privacy.LedgerEntry{}, err
	}
	return es[0], nil
}

// privLimit returns limit as a LIMIT argument: NULL, no limit, below 1.
func privLimit(limit int) pgtype.Int8 { return pgtype.Int8{Int64: int64(limit), Valid: limit > 0} }

// ConsentEntries implements [privacy.LedgerStorage]. A limit below 1
// returns every entry after after.
func (s *Store) ConsentEntries(ctx context.Context, tenant channel.TenantID, after uint64, limit int) ([]privacy.LedgerEntry, error) {
	if after >= math.MaxInt64 {
		return nil, s.start(ctx, "consent entries")
	}
	return s.privConsent(ctx, "consent entries", tenant, `tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		string(tenant), int64(after), privLimit(limit))
}

// SubjectConsent implements [privacy.LedgerStorage].
func (s *Store) SubjectConsent(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) ([]privacy.LedgerEntry, error) {
	return s.privConsent(ctx, "subject consent", tenant, `tenant = $1 AND subject = $2 ORDER BY seq`, string(tenant), string(subject))
}

// ReplaceConsent implements [privacy.LedgerStorage].
func (s *Store) ReplaceConsent(ctx context.Context, e privacy.LedgerEntry) error {
	const op = "replace consent"
	if err := s.start(ctx, op); err != nil {
		return err
	}
	if e.Seq == 0 || e.Seq > math.MaxInt64 {
		return fmt.Errorf("postgres: %s: entry %d: %w", op, e.Seq, store.ErrNotFound)
	}
	rec, err := privEncode(op, e.Record)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, s.sql(`UPDATE wagent.privacy_consent SET subject = $3, record = $4,
		record_salt = $5, record_digest = $6, evidence_salt = $7, evidence_digest = $8, prev = $9, hash = $10
		WHERE tenant = $1 AND seq = $2`),
		string(e.Tenant), int64(e.Seq), string(e.Record.Subject), rec, e.RecordSalt, e.RecordDigest[:],
		e.EvidenceSalt, e.EvidenceDigest[:], e.Prev[:], e.Hash[:])
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: entry %d: %w", op, e.Seq, store.ErrNotFound)
	}
	return nil
}

func (s *Store) privTenants(ctx context.Context, op, table string) ([]channel.TenantID, error) {
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT DISTINCT tenant FROM wagent.`+table+` ORDER BY tenant`))
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	ts, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	out := make([]channel.TenantID, len(ts))
	for i, t := range ts {
		out[i] = channel.TenantID(t)
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
	if err := s.start(ctx, op); err != nil {
		return err
	}
	ev, err := privEncode(op, e.Event)
	if err != nil {
		return err
	}
	if e.Seq == 0 || e.Seq > math.MaxInt64 {
		return fmt.Errorf("postgres: %s: entry %d: %w", op, e.Seq, privacy.ErrConflict)
	}
	tag, err := s.pool.Exec(ctx, s.sql(`INSERT INTO wagent.privacy_audit (tenant, seq, time, action, subject, event, prev, hash)
		SELECT $1::text, $2::bigint, $3::timestamptz, $4::text, $5::text, $6::bytea, $7::bytea, $8::bytea
		WHERE (SELECT coalesce(max(seq), 0) FROM wagent.privacy_audit WHERE tenant = $1) = $2 - 1
		ON CONFLICT (tenant, seq) DO NOTHING`),
		string(e.Event.Tenant), int64(e.Seq), ts(e.Event.Time), string(e.Event.Action), string(e.Event.Subject), ev, e.Prev[:], e.Hash[:])
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: entry %d does not follow the last: %w", op, e.Seq, privacy.ErrConflict)
	}
	return nil
}

func (s *Store) privAudit(ctx context.Context, op, where string, args ...any) ([]privacy.AuditEntry, error) {
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT seq, event, prev, hash FROM wagent.privacy_audit WHERE `+where), args...)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	var out []privacy.AuditEntry
	for rows.Next() {
		var e privacy.AuditEntry
		var seq int64
		var ev, prev, hash []byte
		if err := rows.Scan(&seq, &ev, &prev, &hash); err != nil {
			rows.Close()
			return nil, s.fail(ctx, op, err)
		}
		e.Seq = uint64(seq)
		err := json.Unmarshal(ev, &e.Event)
		if err == nil {
			e.Prev, err = privHash(prev)
		}
		if err == nil {
			e.Hash, err = privHash(hash)
		}
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("postgres: %s: audit entry %d: %w", op, seq, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}

// LastAudit implements [privacy.AuditStorage].
func (s *Store) LastAudit(ctx context.Context, tenant channel.TenantID) (privacy.AuditEntry, error) {
	es, err := s.privAudit(ctx, "last audit", `tenant = $1 ORDER BY seq DESC LIMIT 1`, string(tenant))
	if err != nil || len(es) == 0 {
		return privacy.AuditEntry{}, err
	}
	return es[0], nil
}

// AuditEntries implements [privacy.AuditStorage]. A limit below 1 returns
// every entry after after.
func (s *Store) AuditEntries(ctx context.Context, tenant channel.TenantID, after uint64, limit int) ([]privacy.AuditEntry, error) {
	if after >= math.MaxInt64 {
		return nil, s.start(ctx, "audit entries")
	}
	return s.privAudit(ctx, "audit entries", `tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
		string(tenant), int64(after), privLimit(limit))
}

// AuditTenants implements [privacy.AuditStorage].
func (s *Store) AuditTenants(ctx context.Context) ([]channel.TenantID, error) {
	return s.privTenants(ctx, "audit tenants", "privacy_audit")
}

// PutHold implements [privacy.HoldStorage].
func (s *Store) PutHold(ctx context.Context, h privacy.Hold) error {
	const op = "put hold"
	if err := s.start(ctx, op); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.sql(`INSERT INTO wagent.privacy_holds
		(tenant, id, subject, reason, placed_by, placed, expires, lifted, lifted_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (tenant, id) DO UPDATE SET subject = excluded.subject, reason = excluded.reason,
			placed_by = excluded.placed_by, placed = excluded.placed, expires = excluded.expires,
			lifted = excluded.lifted, lifted_by = excluded.lifted_by`),
		string(h.Tenant), h.ID, string(h.Subject), h.Reason, h.PlacedBy, ts(h.Placed), ts(h.Expires), ts(h.Lifted), h.LiftedBy)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	return nil
}

// ListHolds implements [privacy.HoldStorage].
func (s *Store) ListHolds(ctx context.Context, tenant channel.TenantID) ([]privacy.Hold, error) {
	const op = "list holds"
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.sql(`SELECT id, subject, reason, placed_by, placed, expires, lifted, lifted_by
		FROM wagent.privacy_holds WHERE tenant = $1 ORDER BY ord`), string(tenant))
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	var out []privacy.Hold
	for rows.Next() {
		h := privacy.Hold{Tenant: tenant}
		var subject string
		var placed, expires, lifted pgtype.Timestamptz
		if err := rows.Scan(&h.ID, &subject, &h.Reason, &h.PlacedBy, &placed, &expires, &lifted, &h.LiftedBy); err != nil {
			rows.Close()
			return nil, s.fail(ctx, op, err)
		}
		h.Subject = store.SubjectID(subject)
		h.Placed, h.Expires, h.Lifted = timeOf(placed), timeOf(expires), timeOf(lifted)
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}

// SaveRequest implements [privacy.RequestStorage]. The version is checked
// by the statement that writes: a first version is inserted unless the id
// exists, a later one updates the row only while it holds the version
// before.
func (s *Store) SaveRequest(ctx context.Context, r privacy.Request) error {
	const op = "save request"
	if err := s.start(ctx, op); err != nil {
		return err
	}
	if r.Version < 1 {
		return fmt.Errorf("postgres: %s: version %d: %w", op, r.Version, privacy.ErrConflict)
	}
	body, err := privEncode(op, r)
	if err != nil {
		return err
	}
	args := []any{string(r.ID), int64(r.Version), string(r.Tenant), string(r.Subject), string(r.Address.User),
		string(r.Type), string(r.Status), ts(r.Received), ts(r.Due), body}
	q := `UPDATE wagent.privacy_requests SET version = $2, tenant = $3, subject = $4, user_id = $5, type = $6,
		status = $7, received = $8, due = $9, body = $10 WHERE id = $1 AND version = $2 - 1`
	if r.Version == 1 {
		q = `INSERT INTO wagent.privacy_requests (id, version, tenant, subject, user_id, type, status, received, due, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`
	}
	tag, err := s.pool.Exec(ctx, s.sql(q), args...)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s: version %d does not follow the stored one: %w", op, r.Version, privacy.ErrConflict)
	}
	return nil
}

// LoadRequest implements [privacy.RequestStorage].
func (s *Store) LoadRequest(ctx context.Context, id privacy.RequestID) (privacy.Request, error) {
	const op = "load request"
	if err := s.start(ctx, op); err != nil {
		return privacy.Request{}, err
	}
	var body []byte
	if err := s.pool.QueryRow(ctx, s.sql(`SELECT body FROM wagent.privacy_requests WHERE id = $1`), string(id)).Scan(&body); err != nil {
		return privacy.Request{}, s.fail(ctx, op, err)
	}
	var r privacy.Request
	if err := json.Unmarshal(body, &r); err != nil {
		return privacy.Request{}, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return r, nil
}

// FindRequests implements [privacy.RequestStorage].
func (s *Store) FindRequests(ctx context.Context, q privacy.RequestQuery) ([]privacy.Request, error) {
	const op = "find requests"
	if err := s.start(ctx, op); err != nil {
		return nil, err
	}
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$", fmt.Sprintf("$%d", len(args))))
	}
	if q.Tenant != "" {
		arg("tenant = $", string(q.Tenant))
	}
	if q.Subject != "" {
		arg("subject = $", string(q.Subject))
	}
	if q.User != "" {
		arg("user_id = $", string(q.User))
	}
	if q.Type != "" {
		arg("type = $", string(q.Type))
	}
	if len(q.Status) > 0 {
		st := make([]string, len(q.Status))
		for i, v := range q.Status {
			st[i] = string(v)
		}
		arg("status = ANY($)", st)
	}
	if q.Open {
		arg("status <> ALL($)", []string{string(privacy.StatusCompleted), string(privacy.StatusDenied)})
	}
	limit := privLimit(q.Limit)
	if !q.DueBefore.IsZero() {
		// The column keeps whole microseconds: it selects a superset,
		// which Match narrows to the requests due before q.DueBefore.
		arg("(due IS NULL OR due <= $)", micro(q.DueBefore))
		limit = privLimit(0)
	}
	query := `SELECT body FROM wagent.privacy_requests`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	query += fmt.Sprintf(` ORDER BY received NULLS FIRST, id LIMIT $%d`, len(args))
	rows, err := s.pool.Query(ctx, s.sql(query), args...)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	defer rows.Close()
	var out []privacy.Request
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, s.fail(ctx, op, err)
		}
		var r privacy.Request
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, fmt.Errorf("postgres: %s: %w", op, err)
		}
		if q.Match(r) {
			out = append(out, r)
		}
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return out, nil
}

// privEncode returns the JSON of v, a record of the privacy engine, or an
// error wrapping [store.ErrInvalid] when a string in it is not valid
// UTF-8, which JSON would not keep.
func privEncode(op string, v any) ([]byte, error) {
	if !validtext.Valid(v) {
		return nil, fmt.Errorf("postgres: %s: text that is not valid UTF-8: %w", op, store.ErrInvalid)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("postgres: %s: %w", op, err)
	}
	return b, nil
}
