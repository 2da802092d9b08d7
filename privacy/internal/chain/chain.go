package chain

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"time"
)

// Hash is a SHA-256 digest.
type Hash = [32]byte

// TimePrecision is the precision times are hashed and stored with, the
// precision every store keeps.
const TimePrecision = time.Microsecond

// Canon returns t as it is hashed: UTC, microseconds, no monotonic reading.
func Canon(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(TimePrecision)
}

// Encoder writes fields in a canonical, unambiguous form: every field is
// prefixed by its length, so no two different field lists encode alike.
type Encoder struct{ h hash.Hash }

// NewEncoder returns an encoder that digests with SHA-256, or with
// HMAC-SHA256 under key when key is not empty.
func NewEncoder(key []byte) *Encoder {
	if len(key) > 0 {
		return &Encoder{h: hmac.New(sha256.New, key)}
	}
	return &Encoder{h: sha256.New()}
}

// Bytes writes b.
func (e *Encoder) Bytes(b []byte) *Encoder {
	var n [binary.MaxVarintLen64]byte
	e.h.Write(n[:binary.PutUvarint(n[:], uint64(len(b)))])
	e.h.Write(b)
	return e
}

// String writes s.
func (e *Encoder) String(s string) *Encoder { return e.Bytes([]byte(s)) }

// Uint writes u.
func (e *Encoder) Uint(u uint64) *Encoder {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], u)
	return e.Bytes(b[:])
}

// Int writes i.
func (e *Encoder) Int(i int64) *Encoder { return e.Uint(uint64(i)) }

// Bool writes b.
func (e *Encoder) Bool(b bool) *Encoder {
	if b {
		return e.Bytes([]byte{1})
	}
	return e.Bytes([]byte{0})
}

// Time writes t in its canonical form.
func (e *Encoder) Time(t time.Time) *Encoder {
	t = Canon(t)
	if t.IsZero() {
		return e.Bytes(nil)
	}
	return e.String(t.Format(time.RFC3339Nano))
}

// Hash writes h.
func (e *Encoder) Hash(h Hash) *Encoder { return e.Bytes(h[:]) }

// Sum returns the digest of what was written.
func (e *Encoder) Sum() Hash {
	var h Hash
	e.h.Sum(h[:0])
	return h
}

// Link returns the hash of the entry seq of a chain named domain, whose
// predecessor's hash is prev and whose parts digest to parts.
func Link(key []byte, domain string, seq uint64, prev Hash, parts ...Hash) Hash {
	e := NewEncoder(key).String(domain).Uint(seq).Hash(prev)
	for _, p := range parts {
		e.Hash(p)
	}
	return e.Sum()
}

// Walk checks that entries follow each other: sequence numbers from 1
// without gaps, each entry's Prev the hash of the one before (zero for the
// first). Feed it the entries in order.
type Walk struct {
	next uint64
	prev Hash
}

// Step checks the next entry, whose stored sequence number, previous hash
// and hash are seq, prev and stored, and whose hash recomputed from its
// content is computed. It returns the sequence number of the first entry
// found bad and a reason, or ok.
func (w *Walk) Step(seq uint64, prev, stored, computed Hash) (bad uint64, reason string, ok bool) {
	want := w.next + 1
	switch {
	case seq > want:
		return want, "entry missing or out of order", false
	case seq < want:
		return want, "entry repeated or out of order", false
	case prev != w.prev:
		return seq, "previous hash does not match", false
	case stored != computed:
		return seq, "content does not match its hash", false
	}
	w.next, w.prev = seq, stored
	return 0, "", true
}

// Head returns the sequence number and hash of the last entry checked.
func (w *Walk) Head() (uint64, Hash) { return w.next, w.prev }
