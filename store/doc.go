// Package store defines [ConversationStore], the contract for keeping
// conversations, their messages, and the processing and delivery state of
// each message, scoped by tenant.
//
// The contract is built for at-least-once delivery: [ConversationStore.AppendInbound]
// is idempotent on (channel, tenant, provider message id) and reports a
// duplicate, so a webhook delivered twice is answered once. Records of a
// conversation are ordered by (Turn, ID), which keeps each reply next to the
// message it answers; [ConversationStore.History] returns the last N of
// them as the model's context window, and [ConversationStore.Pending] finds
// what was recorded but not yet handled, after a crash for instance.
// Delivery statuses are merged with [Delivery.Merge] so that a state never
// moves backwards.
//
// Support tickets are kept by a [TicketSystem], which the built-in stores
// implement beside the conversations (a host may plug its own helpdesk
// instead); the intent and values the agent extracts from an inbound
// message are kept by the optional [Tagger]. Both belong to the subject:
// erasing the subject erases them.
//
// Optional capabilities ([Purger], [Eraser], [Exporter], [Leaser],
// [ProcessingBatcher], [ConversationLister], [TicketSystem],
// [TicketPurger], [Tagger]) are separate interfaces.
// Find them with [Capability], which looks through stores that wrap
// another ([Wrapper], such as store/sealed) the way [errors.As] looks
// through wrapped errors, so that a wrapper reports only what the store it
// wraps can do. A store that wraps another implements [Wrapper], the
// methods of each capability it forwards, and, when a capability needs
// more of the inner store than that capability, [PartialWrapper].
//
// Adapters: store/memory (the reference implementation and test double),
// store/sqlite (embedded default) and store/postgres (several instances).
//
// # Concurrency
//
// Implementations are safe for concurrent use. The records are plain values;
// stores copy what they are given and what they return.
//
// # Errors
//
// [ErrNotFound], [ErrInvalid] and [ErrClosed], possibly wrapped; context
// errors are returned wrapped as well. Records of another tenant are
// [ErrNotFound], never a permission error, so their existence is not
// revealed.
//
// # Privacy
//
// Records hold message text, profile names and phone numbers. Adapters must
// not log them, and keep every tenant's data apart.
//
// # Implementing an adapter
//
// Implement [ConversationStore] and run
// [github.com/wagent/wagent/store/storetest.Run] in your tests: one subtest
// per clause of this contract, each on a fresh store, failing with the text
// of the clause broken. Merge delivery updates with [Delivery.Merge] rather
// than writing the rule again. A store that keeps tickets or tags runs
// storetest.RunTickets and storetest.RunTagger too (and their erasure
// suites when it is an [Eraser]), and storetest.RunTicketPurger when it
// purges tickets for retention.
package store
