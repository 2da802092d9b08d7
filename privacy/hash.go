package privacy

import (
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256 digest in a hash chain (HMAC-SHA256 when the chain has
// a key). It is written as 64 hexadecimal digits in JSON and by String.
type Hash [32]byte

// String returns h in hexadecimal.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zeros, the previous hash of a chain's
// first entry.
func (h Hash) IsZero() bool { return h == Hash{} }

// MarshalText implements [encoding.TextMarshaler].
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements [encoding.TextUnmarshaler].
func (h *Hash) UnmarshalText(b []byte) error {
	if len(b) != 2*len(h) {
		return fmt.Errorf("privacy: hash of %d hex digits, want %d", len(b), 2*len(h))
	}
	_, err := hex.Decode(h[:], b)
	if err != nil {
		return fmt.Errorf("privacy: hash: %w", err)
	}
	return nil
}
