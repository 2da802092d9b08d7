package seal

import (
	"crypto/cipher"
	"crypto/rand"
	"fmt"
)

// Binding is what a sealed value belongs to. It is not stored in the
// envelope but authenticated with it (GCM additional data): an envelope
// opens only with the binding it was sealed with, so a ciphertext copied
// into another tenant, another field or another row fails with
// [ErrTampered] instead of showing up there.
type Binding struct {
	// Tenant is the business the value belongs to.
	Tenant string
	// Field names what the value is ("message.inbound", "profile.name").
	Field string
	// Row identifies the record within the tenant and field, when the
	// caller knows one before sealing (a provider message id, a subject).
	Row string
}

// Kind tells which kind of key sealed an envelope.
type Kind byte

// Envelope kinds.
const (
	// KindKeyring: a key of a [Keyring], named by its [KeyID].
	KindKeyring Kind = 1
	// KindDataKey: a subject's [DataKey], named by its id within the
	// tenant.
	KindDataKey Kind = 2
)

// Envelope layout, version 1:
//
//	version  1 byte, 1
//	kind     1 byte, a Kind
//	idLen    1 byte, 1 to 255
//	id       idLen bytes, the key id
//	nonce    12 bytes, random
//	sealed   the AES-256-GCM ciphertext and its 16-byte tag
//
// The additional data authenticates the header (version, kind, id) and
// the Binding.
const (
	version1  = 1
	nonceSize = 12
	tagSize   = 16
	// MinEnvelopeLen is the length of the shortest envelope: a one-byte
	// id and an empty plaintext.
	MinEnvelopeLen = 3 + 1 + nonceSize + tagSize
)

// Envelope is a parsed envelope. Its slices point into the bytes parsed.
type Envelope struct {
	Version byte
	Kind    Kind
	// KeyID names the key that sealed it: a [KeyID] for [KindKeyring], a
	// data key id for [KindDataKey].
	KeyID string
	Nonce []byte
	// Ciphertext is the encrypted value followed by its tag.
	Ciphertext []byte
	header     int // length of version, kind, idLen and id
}

// ParseEnvelope reads the header of an envelope without opening it. It
// returns an error wrapping [ErrMalformed] when b is not a version 1
// envelope. It never panics, whatever b holds.
func ParseEnvelope(b []byte) (Envelope, error) {
	if len(b) < 3 {
		return Envelope{}, fmt.Errorf("seal: envelope of %d bytes: %w", len(b), ErrMalformed)
	}
	if b[0] != version1 {
		return Envelope{}, fmt.Errorf("seal: envelope version %d: %w", b[0], ErrMalformed)
	}
	kind := Kind(b[1])
	if kind != KindKeyring && kind != KindDataKey {
		return Envelope{}, fmt.Errorf("seal: envelope kind %d: %w", b[1], ErrMalformed)
	}
	n := int(b[2])
	header := 3 + n
	if n == 0 || len(b) < header+nonceSize+tagSize {
		return Envelope{}, fmt.Errorf("seal: envelope of %d bytes with a %d-byte key id: %w", len(b), n, ErrMalformed)
	}
	return Envelope{
		Version:    b[0],
		Kind:       kind,
		KeyID:      string(b[3:header]),
		Nonce:      b[header : header+nonceSize],
		Ciphertext: b[header+nonceSize:],
		header:     header,
	}, nil
}

// seal returns a new envelope of plaintext sealed by aead under the key id.
func seal(kind Kind, id string, aead cipher.AEAD, plaintext []byte, b Binding) []byte {
	header := 3 + len(id)
	out := make([]byte, header+nonceSize, header+nonceSize+len(plaintext)+tagSize)
	out[0], out[1], out[2] = version1, byte(kind), byte(len(id))
	copy(out[3:], id)
	nonce := out[header : header+nonceSize]
	rand.Read(nonce) // never fails
	var buf [128]byte
	ad := additional(buf[:0], out[:header], b)
	return aead.Seal(out, nonce, plaintext, ad)
}

// open authenticates and decrypts e, parsed from raw, with aead.
func (e Envelope) open(aead cipher.AEAD, raw []byte, b Binding) ([]byte, error) {
	var buf [128]byte
	ad := additional(buf[:0], raw[:e.header], b)
	pt, err := aead.Open(nil, e.Nonce, e.Ciphertext, ad)
	if err != nil {
		return nil, fmt.Errorf("seal: open %s: %w", b.Field, ErrTampered)
	}
	if pt == nil {
		pt = []byte{} // success is never nil
	}
	return pt, nil
}

// additional appends the additional data of an envelope with header and
// binding b to dst.
func additional(dst, header []byte, b Binding) []byte {
	dst = append(dst, "wagent/seal\x00"...)
	dst = append(dst, header...)
	for _, s := range [...]string{b.Tenant, b.Field, b.Row} {
		var n [4]byte
		putUint32(n[:], uint32(len(s)))
		dst = append(dst, n[:]...)
		dst = append(dst, s...)
	}
	return dst
}
