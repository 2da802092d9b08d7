// Package chain is the hash chain shared by the consent ledger and the
// audit log: a canonical encoding of fields, the digest of an entry, and
// the walk that checks a sequence of entries links up.
//
// An entry's hash is SHA-256 (HMAC-SHA256 when a key is set) over its
// domain, its sequence number, the previous entry's hash and the digests of
// its parts. Parts are digested separately so that personal data can be
// erased from a part while its digest, and so the chain, stays verifiable.
package chain
