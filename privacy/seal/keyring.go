package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// Sentinel errors, possibly wrapped. None of them carries the value that
// was sealed or the key.
var (
	// ErrKeyUnknown: the envelope names a key the keyring does not hold
	// (a key retired too early, or a value sealed by another deployment).
	ErrKeyUnknown = errors.New("seal: unknown key")
	// ErrTampered: the envelope failed authentication. It was changed,
	// moved to another tenant, field or row than the one it was sealed
	// for, or sealed under another secret with the same key id. Nothing of
	// its content is returned.
	ErrTampered = errors.New("seal: authentication failed")
	// ErrMalformed: the bytes are not an envelope of a version this
	// package reads.
	ErrMalformed = errors.New("seal: malformed envelope")
	// ErrNoDataKey: no data key is stored under the id, because none was
	// ever created or because it was destroyed (crypto-shredded).
	ErrNoDataKey = errors.New("seal: no data key")
	// ErrInvalid: a configuration or argument breaks the rules of this
	// package (a key of the wrong size, an empty id, a duplicate id).
	ErrInvalid = errors.New("seal: invalid argument")
)

// KeySize is the size of every key secret: AES-256.
const KeySize = 32

// MaxKeyIDLen is the longest key id.
const MaxKeyIDLen = 64

// KeyID names a key of a [Keyring]. It is written in clear into every
// envelope the key seals, so it must not be secret: a date or a counter
// ("2026-12", "k7") does. It is 1 to [MaxKeyIDLen] bytes of ASCII letters,
// digits, '.', '_' and '-'.
type KeyID string

func (id KeyID) valid() bool {
	if len(id) == 0 || len(id) > MaxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Key is a key-encryption key: an id and a [KeySize]-byte secret from a
// cryptographically secure source (a KMS, a secret manager, crypto/rand).
type Key struct {
	ID     KeyID
	Secret []byte
}

// KeyringConfig configures [NewKeyring].
type KeyringConfig struct {
	// Keys are every key that may still open values: the primary and the
	// keys it replaced. A key may be removed only once nothing sealed
	// under it remains (see [DataKeys.Rotate]).
	Keys []Key
	// Primary names the key of Keys that seals new values. Rotating means
	// adding a new key and making it the primary; the old one keeps
	// opening what it sealed.
	Primary KeyID
	// IndexSecret is the [KeySize]-byte secret blind indexes are derived
	// from. It is apart from Keys because it never rotates: an index
	// computed under another secret finds nothing, so changing it means
	// computing every index again. Keep it as secret as the keys.
	IndexSecret []byte
}

// Keyring holds the key-encryption keys of a deployment: it seals with the
// primary key, opens with any key it holds, and computes blind indexes
// with keys derived from the index secret. The library never reads keys
// from the environment: the host builds a Keyring from its secret store.
//
// A Keyring is immutable and safe for concurrent use.
type Keyring struct {
	primary KeyID
	keys    map[KeyID]cipher.AEAD
	// indexRoot derives the per-tenant blind index keys.
	indexRoot []byte
	tenants   sync.Map // tenant string -> []byte, the tenant's index key
}

// Labels separate the keys derived from one secret.
const (
	labelSeal  = "wagent/seal encryption v1"
	labelIndex = "wagent/seal blind index v1"
)

// NewKeyring returns a keyring of cfg's keys. It copies the secrets; it
// returns an error wrapping [ErrInvalid] for a secret that is not
// [KeySize] bytes, an invalid or repeated id, or a Primary that is not one
// of Keys.
func NewKeyring(cfg KeyringConfig) (*Keyring, error) {
	if len(cfg.Keys) == 0 {
		return nil, fmt.Errorf("seal: keyring: no keys: %w", ErrInvalid)
	}
	k := &Keyring{primary: cfg.Primary, keys: make(map[KeyID]cipher.AEAD, len(cfg.Keys))}
	if len(cfg.IndexSecret) != KeySize {
		return nil, fmt.Errorf("seal: keyring: index secret is %d bytes, want %d: %w", len(cfg.IndexSecret), KeySize, ErrInvalid)
	}
	k.indexRoot = derive(cfg.IndexSecret, labelIndex)
	for i, key := range cfg.Keys {
		if !key.ID.valid() {
			return nil, fmt.Errorf("seal: keyring: key %d: id must be 1 to %d letters, digits, '.', '_' or '-': %w", i, MaxKeyIDLen, ErrInvalid)
		}
		if len(key.Secret) != KeySize {
			return nil, fmt.Errorf("seal: keyring: key %s: secret is %d bytes, want %d: %w", key.ID, len(key.Secret), KeySize, ErrInvalid)
		}
		if _, dup := k.keys[key.ID]; dup {
			return nil, fmt.Errorf("seal: keyring: key id %s given twice: %w", key.ID, ErrInvalid)
		}
		aead, err := newAEAD(derive(key.Secret, labelSeal))
		if err != nil {
			return nil, err
		}
		k.keys[key.ID] = aead
	}
	if _, ok := k.keys[cfg.Primary]; !ok {
		return nil, fmt.Errorf("seal: keyring: primary key %q is not among the keys: %w", cfg.Primary, ErrInvalid)
	}
	return k, nil
}

// NewSecret returns a new random [KeySize]-byte secret from crypto/rand,
// for tests and for provisioning keys.
func NewSecret() []byte {
	b := make([]byte, KeySize)
	rand.Read(b) // never fails (crypto/rand.Read panics rather than returning an error)
	return b
}

// Primary returns the id of the key that seals new values.
func (k *Keyring) Primary() KeyID { return k.primary }

// Seal encrypts plaintext with the primary key and returns the envelope,
// bound to b: [Keyring.Open] opens it only with the same binding.
func (k *Keyring) Seal(plaintext []byte, b Binding) []byte {
	return seal(KindKeyring, string(k.primary), k.keys[k.primary], plaintext, b)
}

// Open decrypts an envelope made by [Keyring.Seal] with the binding it was
// sealed with. It returns an error wrapping [ErrMalformed], [ErrKeyUnknown]
// or [ErrTampered], and never any plaintext with an error.
func (k *Keyring) Open(envelope []byte, b Binding) ([]byte, error) {
	pt, _, err := k.open(envelope, b)
	return pt, err
}

// KeyOf returns the id of the keyring key that sealed envelope, without
// opening it, so that a host can count what still needs rotating.
func (k *Keyring) KeyOf(envelope []byte) (KeyID, error) {
	e, err := ParseEnvelope(envelope)
	if err != nil {
		return "", err
	}
	if e.Kind != KindKeyring {
		return "", fmt.Errorf("seal: envelope is not sealed by a keyring key: %w", ErrMalformed)
	}
	return KeyID(e.KeyID), nil
}

func (k *Keyring) open(envelope []byte, b Binding) ([]byte, KeyID, error) {
	e, err := ParseEnvelope(envelope)
	if err != nil {
		return nil, "", err
	}
	if e.Kind != KindKeyring {
		return nil, "", fmt.Errorf("seal: envelope is sealed by a data key, not a keyring key: %w", ErrMalformed)
	}
	id := KeyID(e.KeyID)
	aead, ok := k.keys[id]
	if !ok {
		return nil, id, fmt.Errorf("seal: envelope key %q: %w", id, ErrKeyUnknown)
	}
	pt, err := e.open(aead, envelope, b)
	return pt, id, err
}

// Index returns the blind index of value for tenant within scope: a
// keyed HMAC-SHA256, as 43 characters of unpadded base64url. Equal inputs
// give equal indexes, so a store can look a value up by its index without
// keeping it; without the keyring's index key the index reveals nothing
// but equality. It does not depend on the encryption keys, so rotating
// them changes no index. Each tenant has its own derived key, and scope (a channel
// name, a field) separates the values of one tenant, so that equal values
// of two tenants or scopes have unrelated indexes.
//
// A blind index of a value from a small space (a phone number) can be
// confirmed by whoever holds the index secret and tries every value: keep the
// keyring as secret as the data.
func (k *Keyring) Index(tenant, scope, value string) string {
	mac := hmac.New(sha256.New, k.tenantKey(tenant))
	writeField(mac, scope)
	mac.Write([]byte(value))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(mac.Sum(sum[:0]))
}

func (k *Keyring) tenantKey(tenant string) []byte {
	if v, ok := k.tenants.Load(tenant); ok {
		return v.([]byte)
	}
	key := derive(k.indexRoot, "tenant\x00"+tenant)
	v, _ := k.tenants.LoadOrStore(tenant, key)
	return v.([]byte)
}

// derive returns HMAC-SHA256(secret, label): a key for one purpose.
func derive(secret []byte, label string) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(label))
	return mac.Sum(nil)
}

// writeField writes s to h with its length first, so that the fields of a
// hashed sequence cannot run into each other.
func writeField(h hash.Hash, s string) {
	var n [4]byte
	putUint32(n[:], uint32(len(s)))
	h.Write(n[:])
	h.Write([]byte(s))
}

func putUint32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return aead, nil
}
