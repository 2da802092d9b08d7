package seal

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"
)

// KeyStorage keeps wrapped data keys: the per-subject keys of [DataKeys],
// each encrypted under a [Keyring] key, so that storage alone never
// reveals one. A wrapped key is stored under a tenant and an id (for the
// subjects of store/sealed, the subject's blind index); values are opaque
// bytes that KeyStorage copies in and out and never interprets.
//
// Every method is safe for concurrent use, bounded by ctx (a done ctx
// returns an error wrapping ctx.Err() and changes nothing) and scoped by
// tenant: the same id under two tenants names two keys. When Put or
// Delete returns nil, the change is durable.
//
// The in-memory [MemoryKeyStorage] is the reference implementation;
// store/sqlite and store/postgres provide durable ones, and
// privacy/seal/sealtest checks an implementation against this contract.
type KeyStorage interface {
	// Get returns the key stored under (tenant, id), or an error wrapping
	// [ErrNoDataKey] when there is none.
	Get(ctx context.Context, tenant, id string) ([]byte, error)
	// Put stores wrapped under (tenant, id) when the key stored there is
	// old (nil old: when no key is stored), atomically, and returns
	// wrapped. Otherwise it changes nothing and returns the key stored,
	// or an error wrapping [ErrNoDataKey] when old is not nil and no key
	// is stored (it was deleted: Put never brings a key back). So a
	// creation race is won by one caller and the others get its key, and a
	// rewrap never overwrites a key changed or deleted meanwhile.
	Put(ctx context.Context, tenant, id string, wrapped, old []byte) ([]byte, error)
	// Delete removes the key stored under (tenant, id). Deleting a key
	// that is not stored changes nothing and returns nil.
	Delete(ctx context.Context, tenant, id string) error
}

// DataKeys manages per-subject data keys: random AES-256 keys, each
// wrapped (encrypted) by the keyring's primary key and kept in a
// [KeyStorage] together with the subject's real id. Destroying a subject's
// key makes everything sealed with it unreadable, wherever copies of the
// ciphertext remain (crypto-shredding).
//
// A DataKeys is safe for concurrent use when its KeyStorage is.
type DataKeys struct {
	ring   *Keyring
	ks     KeyStorage
	rewrap bool

	// unwrapped caches keys by the wrapped bytes they came from, to save
	// the unwrapping when storage returns the same bytes again. Storage
	// is asked every time, so a destroyed key is never used from here.
	mu        sync.Mutex
	unwrapped map[string]*DataKey
}

// maxUnwrapped bounds the cache of unwrapped keys; it is emptied when
// full.
const maxUnwrapped = 4096

// DataKeysOptions configures [NewDataKeys]. A nil *DataKeysOptions, like
// the zero value, gives the defaults.
type DataKeysOptions struct {
	// NoRewrapOnRead turns off rewrapping on read: by default [DataKeys.Key]
	// rewraps a key wrapped by a key other than the primary and stores the
	// new wrap, so that after a rotation the old key-encryption key soon
	// wraps nothing. Turn it off for read-only storage, and rewrap with
	// [DataKeys.Rotate] instead.
	NoRewrapOnRead bool
}

// NewDataKeys returns the data keys wrapped by ring and kept in ks. opts
// may be nil.
func NewDataKeys(ring *Keyring, ks KeyStorage, opts *DataKeysOptions) (*DataKeys, error) {
	if ring == nil || ks == nil {
		return nil, fmt.Errorf("seal: data keys: nil keyring or key storage: %w", ErrInvalid)
	}
	d := &DataKeys{ring: ring, ks: ks, rewrap: true}
	if opts != nil {
		d.rewrap = !opts.NoRewrapOnRead
	}
	return d, nil
}

// Keyring returns the keyring that wraps the data keys.
func (d *DataKeys) Keyring() *Keyring { return d.ring }

// DataKey is one subject's unwrapped data key. It seals and opens values
// as a [Keyring] does, with envelopes of [KindDataKey] that name the key
// by its id. A DataKey is immutable and safe for concurrent use.
type DataKey struct {
	tenant, id, subject string
	aead                cipher.AEAD
}

// ID returns the key's id within its tenant.
func (k *DataKey) ID() string { return k.id }

// Tenant returns the key's tenant.
func (k *DataKey) Tenant() string { return k.tenant }

// Subject returns the subject's real id, wrapped with the key when it was
// created: whatever the caller gave [DataKeys.Ensure].
func (k *DataKey) Subject() string { return k.subject }

// Seal encrypts plaintext with the key, bound to b.
func (k *DataKey) Seal(plaintext []byte, b Binding) []byte {
	return seal(KindDataKey, k.id, k.aead, plaintext, b)
}

// Open decrypts an envelope made by [DataKey.Seal] with the binding it was
// sealed with. It returns an error wrapping [ErrMalformed], [ErrTampered]
// (also when the envelope was sealed by another data key), and never any
// plaintext with an error.
func (k *DataKey) Open(envelope []byte, b Binding) ([]byte, error) {
	e, err := ParseEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	if e.Kind != KindDataKey {
		return nil, fmt.Errorf("seal: envelope is sealed by a keyring key, not a data key: %w", ErrMalformed)
	}
	if e.KeyID != k.id {
		return nil, fmt.Errorf("seal: open %s: envelope of another data key: %w", b.Field, ErrTampered)
	}
	return e.open(k.aead, envelope, b)
}

// Wrapped key plaintext: a version byte, the key, the subject.
const wrapVersion = 1

func wrapBinding(tenant, id string) Binding {
	return Binding{Tenant: tenant, Field: "seal.datakey", Row: id}
}

func checkID(tenant, id string) error {
	if tenant == "" || id == "" || len(id) > 255 {
		return fmt.Errorf("seal: data key: empty tenant, or id empty or over 255 bytes: %w", ErrInvalid)
	}
	return nil
}

// Ensure returns the data key stored under (tenant, id), creating it with
// subject wrapped inside when there is none. When calls race to create a
// key, one wins and every call returns its key. The subject of an
// existing key is the one it was created with.
func (d *DataKeys) Ensure(ctx context.Context, tenant, id, subject string) (*DataKey, error) {
	if err := checkID(tenant, id); err != nil {
		return nil, err
	}
	wrapped, err := d.ks.Get(ctx, tenant, id)
	if errors.Is(err, ErrNoDataKey) {
		secret := NewSecret()
		pt := make([]byte, 0, 1+KeySize+len(subject))
		pt = append(append(append(pt, wrapVersion), secret...), subject...)
		wrapped, err = d.ks.Put(ctx, tenant, id, d.ring.Seal(pt, wrapBinding(tenant, id)), nil)
		clear(pt)
		clear(secret)
	}
	if err != nil {
		return nil, fmt.Errorf("seal: data key: %w", err)
	}
	return d.unwrap(ctx, tenant, id, wrapped)
}

// Key returns the data key stored under (tenant, id). It returns an error
// wrapping [ErrNoDataKey] when there is none (never created, or
// destroyed), and [ErrKeyUnknown] or [ErrTampered] when the wrapped key
// cannot be opened with the keyring. Unless turned off in the options, a
// key wrapped by another keyring key than the primary is rewrapped by the
// primary and stored; a failure to store the new wrap is not an error,
// the old wrap stays valid.
func (d *DataKeys) Key(ctx context.Context, tenant, id string) (*DataKey, error) {
	if err := checkID(tenant, id); err != nil {
		return nil, err
	}
	wrapped, err := d.ks.Get(ctx, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("seal: data key: %w", err)
	}
	return d.unwrap(ctx, tenant, id, wrapped)
}

func (d *DataKeys) unwrap(ctx context.Context, tenant, id string, wrapped []byte) (*DataKey, error) {
	d.mu.Lock()
	k, ok := d.unwrapped[string(wrapped)]
	d.mu.Unlock()
	if ok && k.tenant == tenant && k.id == id {
		return k, nil
	}
	pt, kek, err := d.ring.open(wrapped, wrapBinding(tenant, id))
	if err != nil {
		return nil, fmt.Errorf("seal: data key: %w", err)
	}
	defer clear(pt)
	if len(pt) < 1+KeySize || pt[0] != wrapVersion {
		return nil, fmt.Errorf("seal: data key: wrapped key of an unknown version: %w", ErrMalformed)
	}
	aead, err := newAEAD(pt[1 : 1+KeySize])
	if err != nil {
		return nil, err
	}
	k = &DataKey{tenant: tenant, id: id, subject: string(pt[1+KeySize:]), aead: aead}
	if d.rewrap && kek != d.ring.primary {
		_, _ = d.ks.Put(ctx, tenant, id, d.ring.Seal(pt, wrapBinding(tenant, id)), wrapped)
		return k, nil // not cached: the next read finds the new wrap
	}
	d.mu.Lock()
	if len(d.unwrapped) >= maxUnwrapped || d.unwrapped == nil {
		d.unwrapped = make(map[string]*DataKey)
	}
	d.unwrapped[string(wrapped)] = k
	d.mu.Unlock()
	return k, nil
}

// Rotate rewraps the data key stored under (tenant, id) with the
// keyring's primary key when another key wraps it, and reports whether it
// did. Run it over every key after adding a new primary; once it reports
// false everywhere, the old key-encryption key wraps nothing and may be
// retired. It returns an error wrapping [ErrNoDataKey] when there is no
// key.
func (d *DataKeys) Rotate(ctx context.Context, tenant, id string) (bool, error) {
	if err := checkID(tenant, id); err != nil {
		return false, err
	}
	wrapped, err := d.ks.Get(ctx, tenant, id)
	if err != nil {
		return false, fmt.Errorf("seal: rotate: %w", err)
	}
	b := wrapBinding(tenant, id)
	pt, kek, err := d.ring.open(wrapped, b)
	if err != nil {
		return false, fmt.Errorf("seal: rotate: %w", err)
	}
	defer clear(pt)
	if kek == d.ring.primary {
		return false, nil
	}
	now, err := d.ks.Put(ctx, tenant, id, d.ring.Seal(pt, b), wrapped)
	if err != nil {
		return false, fmt.Errorf("seal: rotate: %w", err)
	}
	if id, err := d.ring.KeyOf(now); err != nil || id != d.ring.primary {
		return false, fmt.Errorf("seal: rotate: the key changed meanwhile and is not wrapped by the primary; try again")
	}
	return true, nil
}

// Destroy deletes the data key stored under (tenant, id): whatever was
// sealed with it can no longer be opened by anyone, from any copy. It is
// idempotent.
func (d *DataKeys) Destroy(ctx context.Context, tenant, id string) error {
	if err := checkID(tenant, id); err != nil {
		return err
	}
	if err := d.ks.Delete(ctx, tenant, id); err != nil {
		return fmt.Errorf("seal: destroy data key: %w", err)
	}
	d.mu.Lock()
	for w, k := range d.unwrapped {
		if k.tenant == tenant && k.id == id {
			delete(d.unwrapped, w)
		}
	}
	d.mu.Unlock()
	return nil
}

// MemoryKeyStorage is a [KeyStorage] in memory, the reference
// implementation and test double. Keys are lost with the process, so data
// sealed with them is too: use a durable KeyStorage in production. The
// zero value is empty and ready to use; it is safe for concurrent use.
type MemoryKeyStorage struct {
	mu   sync.Mutex
	keys map[[2]string][]byte
}

// Get implements [KeyStorage].
func (m *MemoryKeyStorage) Get(ctx context.Context, tenant, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("seal: memory key storage: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[[2]string{tenant, id}]
	if !ok {
		return nil, fmt.Errorf("seal: memory key storage: %w", ErrNoDataKey)
	}
	return bytes.Clone(k), nil
}

// Put implements [KeyStorage].
func (m *MemoryKeyStorage) Put(ctx context.Context, tenant, id string, wrapped, old []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("seal: memory key storage: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := [2]string{tenant, id}
	cur, ok := m.keys[key]
	switch {
	case !ok && old != nil:
		return nil, fmt.Errorf("seal: memory key storage: %w", ErrNoDataKey)
	case ok && (old == nil || !bytes.Equal(cur, old)):
		return bytes.Clone(cur), nil
	}
	if m.keys == nil {
		m.keys = make(map[[2]string][]byte)
	}
	m.keys[key] = bytes.Clone(wrapped)
	return bytes.Clone(wrapped), nil
}

// Delete implements [KeyStorage].
func (m *MemoryKeyStorage) Delete(ctx context.Context, tenant, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("seal: memory key storage: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, [2]string{tenant, id})
	return nil
}

// Len returns how many keys are stored.
func (m *MemoryKeyStorage) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// Keys returns a copy of every wrapped key stored, for tests that check
// what the storage holds.
func (m *MemoryKeyStorage) Keys() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]byte, 0, len(m.keys))
	for _, k := range m.keys {
		out = append(out, bytes.Clone(k))
	}
	return out
}
