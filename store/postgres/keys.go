package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/wagent/wagent/privacy/seal"
)

var _ seal.KeyStorage = (*Keys)(nil)

// Keys is a [seal.KeyStorage] kept in the table subject_keys of a Store's
// schema, for store/sealed, shared safely by the instances that share the
// schema: creation races and rewraps are settled by single statements
// (INSERT ... ON CONFLICT, a conditional UPDATE), never by a read and a
// later write. Get it with [Store.Keys]. It is safe for concurrent use and
// closes with its Store.
//
// # Privacy
//
// Deleting a key crypto-shreds its subject only for copies of the data
// that do not hold the key too: a backup of the database taken before an
// erasure still holds the subject's wrapped key, and with the keyring it
// opens the subject's records. To reach backups, keep the keys in another
// database or schema with its own (shorter) backup policy, or rotate the
// keyring and destroy the old key once the backups it protects have
// expired.
type Keys struct{ s *Store }

// Keys returns the store's key storage.
func (s *Store) Keys() *Keys { return &Keys{s: s} }

// Get implements [seal.KeyStorage].
func (k *Keys) Get(ctx context.Context, tenant, id string) ([]byte, error) {
	if err := k.s.start(ctx, "key"); err != nil {
		return nil, err
	}
	var wrapped []byte
	err := k.s.pool.QueryRow(ctx, k.s.sql(`SELECT wrapped FROM wagent.subject_keys WHERE tenant = $1 AND id = $2`), tenant, id).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: key: %w", seal.ErrNoDataKey)
	}
	if err != nil {
		return nil, k.s.fail(ctx, "key", err)
	}
	return wrapped, nil
}

// Put implements [seal.KeyStorage].
func (k *Keys) Put(ctx context.Context, tenant, id string, wrapped, old []byte) ([]byte, error) {
	if err := k.s.start(ctx, "put key"); err != nil {
		return nil, err
	}
	var q string
	args := []any{tenant, id, wrapped}
	if old == nil {
		// Inserted, or the row already there: the statement returns the
		// key stored afterwards either way. The no-op update makes
		// RETURNING see the existing row.
		q = `INSERT INTO wagent.subject_keys (tenant, id, wrapped) VALUES ($1, $2, $3)
			ON CONFLICT (tenant, id) DO UPDATE SET wrapped = wagent.subject_keys.wrapped
			RETURNING wrapped`
	} else {
		q = `WITH swapped AS (
				UPDATE wagent.subject_keys SET wrapped = $3 WHERE tenant = $1 AND id = $2 AND wrapped = $4 RETURNING wrapped
			)
			SELECT wrapped FROM swapped
			UNION ALL
			SELECT wrapped FROM wagent.subject_keys WHERE tenant = $1 AND id = $2 AND NOT EXISTS (SELECT FROM swapped)`
		args = append(args, old)
	}
	var out []byte
	err := k.s.pool.QueryRow(ctx, k.s.sql(q), args...).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: put key: %w", seal.ErrNoDataKey)
	}
	if err != nil {
		return nil, k.s.fail(ctx, "put key", err)
	}
	return out, nil
}

// Delete implements [seal.KeyStorage].
func (k *Keys) Delete(ctx context.Context, tenant, id string) error {
	if err := k.s.start(ctx, "delete key"); err != nil {
		return err
	}
	if _, err := k.s.pool.Exec(ctx, k.s.sql(`DELETE FROM wagent.subject_keys WHERE tenant = $1 AND id = $2`), tenant, id); err != nil {
		return k.s.fail(ctx, "delete key", err)
	}
	return nil
}
