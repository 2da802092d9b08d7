package store

import "strings"

// SealedPrefix begins every value that a wrapping store has sealed:
// encrypted and encoded as text, the way store/sealed keeps message text,
// ticket titles and tag values. The wrapper checks the plaintext against
// the limits of this package ([MaxTicketTitle], [MaxTagValue]...); a
// store checks a value that begins with SealedPrefix against
// [SealedLimit] of the limit instead, since a sealed value is longer than
// what it seals.
const SealedPrefix = "wgs1:"

// sealOverhead is the most bytes an envelope adds to its plaintext: a
// 3-byte header, a key id of up to 255 bytes, a 12-byte nonce and a
// 16-byte tag (privacy/seal).
const sealOverhead = 3 + 255 + 12 + 16

// SealedLimit returns the length of the longest sealed value of a
// plaintext of at most limit bytes: [SealedPrefix] and the unpadded
// base64 of the envelope.
func SealedLimit(limit int) int {
	return len(SealedPrefix) + ((limit+sealOverhead)*4+2)/3
}

// within reports whether v fits a field of limit bytes: its plaintext
// length, or the sealed length of such a plaintext when v is sealed.
func within(v string, limit int) bool {
	if strings.HasPrefix(v, SealedPrefix) {
		return len(v) <= SealedLimit(limit)
	}
	return len(v) <= limit
}
