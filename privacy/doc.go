// Package privacy turns the promises in a business's privacy policy into
// configuration. This package holds the contracts the agent calls:
// [ConsentLedger], which records consent and objection per [Purpose] and
// derives a subject's current decision, and [RetentionPolicy], which says
// how long each [DataClass] is kept and what happens after.
//
// The agent checks [PurposeAssistant] before answering a subject with AI:
// an objection or restriction is recorded as its withdrawal and stops AI
// processing for that subject. Marketing templates need a grant of
// [PurposeMarketing].
//
// # Concurrency
//
// Implementations of the interfaces are safe for concurrent use.
//
// # Errors
//
// [ErrNoConsent], [ErrRestricted] and [ErrLegalHold]; invalid arguments wrap
// [github.com/wagent/wagent/store.ErrInvalid].
//
// # Privacy
//
// Consent records hold evidence: the message id and text that gave or
// withdrew consent. They are personal data of the subject and are exported
// and erased with the rest of it, except where the law requires keeping the
// proof of consent.
//
// # Implementing an adapter
//
// A ledger must be append-only and derive the current state from the latest
// record per purpose; a retention policy must resolve tenant over channel
// over class. A storage of the engine's records ([LedgerStorage],
// [AuditStorage], [HoldStorage], [RequestStorage]) runs the conformance
// suite in [github.com/wagent/wagent/privacy/privacytest], as
// [MemoryStorage], store/sqlite and store/postgres do.
package privacy
