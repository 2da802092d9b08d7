// Package sqlite is the embedded default [store.ConversationStore]: one
// database file, pure Go (modernc.org/sqlite, no cgo), in WAL mode, with
// its schema migrations embedded and applied on [Open] (versioned,
// forward-only, safe to run twice, safe when several processes open the
// same file at once).
//
// Every write goes through a single writer that commits in groups: the
// calls that arrive while a transaction is being committed share the next
// one, so many concurrent webhook acknowledgements cost one fsync instead
// of one each, and each call still returns only once its write is
// durable. A write that fails is undone alone; the others of its group
// commit. Reads use a pool of read-only connections.
//
// Besides the required methods the store implements every optional
// capability the agent, the console and the privacy engine use:
// [store.Purger], [store.Eraser], [store.Exporter], [store.Leaser],
// [store.ConversationLister], [store.TicketSystem] and [store.Tagger]; the
// privacy engine's storage (privacy.LedgerStorage, AuditStorage,
// HoldStorage, RequestStorage, and Checkpoint after an erasure, so erased
// text leaves the write-ahead log); and, through [Store.Keys], the
// seal.KeyStorage of store/sealed's subject keys. The conformance suites of store/storetest and
// privacy/privacytest run against it.
//
// A Store is safe for concurrent use. Close it when done.
package sqlite
