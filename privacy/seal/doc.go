// Package seal encrypts personal data at rest: AES-256-GCM envelopes that
// name their key, a [Keyring] of key-encryption keys with one primary and
// rotation, keyed HMAC blind indexes that find a value without storing
// it, and per-subject data keys ([DataKeys]) whose destruction makes a
// subject's data unreadable wherever copies of it remain
// (crypto-shredding). It uses the standard library only; store/sealed
// applies it to a [github.com/wagent/wagent/store.ConversationStore].
//
// The library never reads keys from the environment: the host builds the
// [KeyringConfig] from its secret store (a KMS, a secret manager) and
// passes it to [NewKeyring].
//
// # Envelopes
//
// An envelope is self-describing and versioned: a version byte, the kind
// of key ([KindKeyring] or [KindDataKey]), the key's id, a random 96-bit
// nonce and the ciphertext with its tag (see [ParseEnvelope]). The
// additional data authenticates the header and a [Binding] (tenant,
// field, row) that the caller gives again to open it, so a ciphertext
// copied to another tenant, field or row does not open there.
//
// # Rotation
//
// Add a new key to [KeyringConfig.Keys] and make it the Primary: new
// values and new data keys are sealed with it, and the old key keeps
// opening what it sealed. Data keys are rewrapped by the primary when they
// are read ([DataKeys.Key]) or by [DataKeys.Rotate]; once none is wrapped
// by the old key, remove it. Blind indexes come from
// [KeyringConfig.IndexSecret], which never rotates, so rotation changes no
// index.
//
// # Concurrency
//
// [Keyring] and [DataKey] are immutable and safe for concurrent use.
// [DataKeys] is safe for concurrent use when its [KeyStorage] is; racing
// creations of one data key settle on one key ([KeyStorage.Put] is a
// compare-and-swap). [MemoryKeyStorage] is safe for concurrent use.
//
// # Errors
//
// [ErrKeyUnknown] (the envelope names a key the keyring lacks),
// [ErrTampered] (authentication failed: a changed byte, a moved
// ciphertext, another secret under the same id), [ErrMalformed] (not an
// envelope), [ErrNoDataKey] (no data key stored: never created, or
// destroyed) and [ErrInvalid] (bad configuration or arguments), possibly
// wrapped. Open never returns plaintext with an error. Error strings hold
// key ids and field names, never values or secrets.
//
// # Privacy
//
// A blind index reveals equality only to someone without the index
// secret. Whoever holds it can confirm a guess, and a phone number is
// guessable: keep the index secret as safe as the keys. Crypto-shredding
// reaches exactly the copies of the data that do not also hold the
// wrapped data key: keep a [KeyStorage] apart from the data it protects,
// with a shorter backup retention, or rotate the keyring and destroy the
// old key when the backups it protects expire.
//
// # Implementing a KeyStorage
//
// Implement the three methods of [KeyStorage] and run
// [github.com/wagent/wagent/privacy/seal/sealtest.RunKeyStorage] in your
// tests. store/sqlite and store/postgres provide durable ones.
package seal
