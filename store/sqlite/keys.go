package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wagent/wagent/privacy/seal"
)

var _ seal.KeyStorage = (*Keys)(nil)

// Keys is a [seal.KeyStorage] kept in the table subject_keys of a Store's
// database file, for store/sealed. Its writes join the store's group
// commit, so they are as durable as the store's. Get it with
// [Store.Keys]. It is safe for concurrent use and closes with its Store.
//
// # Privacy
//
// Deleting a key crypto-shreds its subject only for copies of the data
// that do not hold the key too: a backup of this file taken before an
// erasure still holds the subject's wrapped key, and with the keyring it
// opens the subject's records. To reach backups, keep the keys in another
// file (a second Store opened on its own path, backed up on a shorter
// schedule or not at all), or rotate the keyring and destroy the old key
// once the backups it protects have expired.
type Keys struct{ s *Store }

// Keys returns the store's key storage.
func (s *Store) Keys() *Keys { return &Keys{s: s} }

const qKey = `SELECT wrapped FROM subject_keys WHERE tenant = ?1 AND id = ?2`

// Get implements [seal.KeyStorage].
func (k *Keys) Get(ctx context.Context, tenant, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: key: %w", err)
	}
	if k.s.closed.Load() {
		return nil, errClosed
	}
	var wrapped []byte
	err := k.s.rdb.QueryRowContext(ctx, qKey, tenant, id).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: key: %w", seal.ErrNoDataKey)
	}
	if err != nil {
		return nil, k.s.failed("key", err)
	}
	return wrapped, nil
}

// Put implements [seal.KeyStorage].
func (k *Keys) Put(ctx context.Context, tenant, id string, wrapped, old []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: put key: %w", err)
	}
	var out []byte
	missing := false
	err := k.s.write(ctx, func(tx *wtx) error {
		out, missing = nil, false
		var cur []byte
		err := tx.conn.QueryRowContext(context.Background(), qKey, tenant, id).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if old != nil {
				missing = true
				return nil
			}
			_, err = tx.conn.ExecContext(context.Background(), `INSERT INTO subject_keys (tenant, id, wrapped) VALUES (?1, ?2, ?3)`, tenant, id, wrapped)
		case err != nil:
			return err
		case old == nil || !bytes.Equal(cur, old):
			out = cur
			return nil
		default:
			_, err = tx.conn.ExecContext(context.Background(), `UPDATE subject_keys SET wrapped = ?3 WHERE tenant = ?1 AND id = ?2`, tenant, id, wrapped)
		}
		if err != nil {
			return err
		}
		out = bytes.Clone(wrapped)
		return nil
	})
	if err != nil {
		return nil, k.s.failed("put key", err)
	}
	if missing {
		return nil, fmt.Errorf("sqlite: put key: %w", seal.ErrNoDataKey)
	}
	return out, nil
}

// Delete implements [seal.KeyStorage]. The row is overwritten on disk as
// it is deleted (secure_delete); run [Store.Checkpoint] to clear it from
// the write-ahead log too.
func (k *Keys) Delete(ctx context.Context, tenant, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: delete key: %w", err)
	}
	err := k.s.write(ctx, func(tx *wtx) error {
		_, err := tx.conn.ExecContext(context.Background(), `DELETE FROM subject_keys WHERE tenant = ?1 AND id = ?2`, tenant, id)
		return err
	})
	return k.s.failed("delete key", err)
}
