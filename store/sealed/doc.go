// Package sealed encrypts conversations at rest: [New] wraps any
// [store.ConversationStore] so that what people said, the media they
// sent, their profiles and their user ids reach it only sealed, and
// [Store] opens them again on the way out. Callers see the same records
// as with the inner store; the inner store, its files, its backups and
// its replicas hold ciphertext and blind indexes.
//
// # What is sealed
//
// Each subject (a user on a channel of a tenant) has a data key of its own
// ([seal.DataKeys]), created with its first message or conversation,
// wrapped by the keyring's primary key and kept in a [seal.KeyStorage]
// under the subject's blind index. With it the Store seals:
//
//   - inbound messages: text, captions, locations, contacts, replies,
//     reactions, orders, notices, quoted and referral data, the raw
//     provider JSON and the sender's profile, in one envelope; the media
//     reference (id, URL, file name, checksum, size) in another;
//   - model parts (text, tool calls and results, provider state) and
//     their inline media or URL, apart;
//   - outbound messages (text, interactive, template, location...) and
//     their media and template header media, apart;
//   - the subject's profile: name and phone together, user name, locale;
//   - support tickets ([store.TicketSystem]): the title, the summary and
//     the text of each note, apart;
//   - tags ([store.Tagger]): the values extracted from a message (order
//     number, product, email, date), one by one.
//
// The user id of every address (Conversation.Address, Subject.Address,
// Inbound.From, Outbound.To) and the profile phone are replaced by their
// blind index ([seal.Keyring.Index], scoped by tenant and channel), so the
// inner store still finds a subject by address and by phone number; the
// real id is wrapped inside the subject's data key, and the Store gives
// back the real addresses.
//
// What stays in clear is what a metadata-only record keeps and what the
// inner store must query: tenants, channels, record and conversation and
// subject ids, provider message ids, roles, turns, times, message and
// media kinds, processing and delivery states, provider error codes,
// correlation values, handoff state and leases, ticket numbers, statuses
// and note authors (who wrote a note: "customer", "assistant", an
// operator's name, as in a handoff), and the intent, sentiment and source
// of tags, which are enumerations the agent configures, not what the
// customer said. A tag or ticket value left empty stays empty, so the
// inner store tells which fields were mentioned. Each sealed piece lies in
// the field that [store.Message.WithoutContent] or
// [store.Message.WithoutMedia] clears, so the inner store's purges (see
// [store.Purger]) remove exactly what they remove from plain records.
//
// Envelopes are bound to their tenant, their field and their row (the
// provider id of an inbound message, the conversation of other records,
// the subject of a profile and of a ticket's title and summary, the
// ticket number of a note, the record of tags): a ciphertext copied
// elsewhere fails to open with [seal.ErrTampered] rather than showing up
// as someone else's data.
//
// A sealed value is longer than its plaintext, about 4/3 of it plus 105
// bytes. It begins with [store.SealedPrefix], and the built-in stores keep
// such a value up to [store.SealedLimit] of their limits, so every
// plaintext within the limits of package store can be kept sealed.
//
// # Erasure and crypto-shredding
//
// Erase erases the subject in the inner store (its conversations,
// records, tickets and tags), then destroys its data key. Every copy of the subject's rows that does
// not also hold the key, such as a backup of the data taken before the
// erasure, can then never be opened again. Keep the key storage apart from
// the data it protects for this to reach backups (see store/sqlite Keys
// and store/postgres Keys).
//
// Reading a record whose subject's key is gone returns an error wrapping
// [ErrShredded] (and [seal.ErrNoDataKey]), never a placeholder record: a
// placeholder would pass for a real record (the agent would put an empty
// turn in the model's history, an export would list a message that says
// nothing) and could not be told apart from a retention purge, whereas
// such reads only happen on copies of erased data or in a race with an
// erasure, where failing is right. A listing (History, Pending, Export)
// that reaches such a record fails as a whole; so do a ticket, tags and
// the listings of tickets and conversations.
//
// # Capabilities
//
// [Store] implements [store.ConversationStore] and the methods of every
// optional capability of package store: [store.Purger], [store.Eraser],
// [store.Exporter], [store.Leaser], [store.ConversationLister],
// [store.TicketSystem] and [store.Tagger]. It is a [store.Wrapper], so
// [store.Capability] finds that it has exactly the capabilities of the
// inner store; discover them with it, not with a type assertion, which
// finds them all:
//
//	if tickets, ok := store.Capability[store.TicketSystem](s); ok { ... }
//
// A method whose capability the inner store lacks returns an error
// wrapping [errors.ErrUnsupported]. Eraser needs the inner store's
// Exporter as well, to learn the blind address of the subject whose key
// it destroys ([Store.Provides] says so to store.Capability), and a
// ticket created without a conversation needs it to find the subject's
// data key.
//
// # Concurrency
//
// A Store is safe for concurrent use when its inner store and key storage
// are. New starts no goroutines. An erasure excludes the appends of its
// subject in this process, so that no message is sealed with a key being
// destroyed; processes sharing a database do not exclude each other, and a
// message appended by another process during an erasure may be sealed with
// the destroyed key and be unreadable (an error, never garbage).
//
// A message that brings only one of the sender's name and phone (they
// share an envelope) makes the Store read the current profile and write
// both; appends of one subject do that one at a time in a process, and
// across processes the last writer wins that pair.
//
// # Errors
//
// The inner store's errors are returned as they are ([store.ErrNotFound],
// [store.ErrInvalid], [store.ErrClosed], context errors). A capability the
// inner store lacks is [errors.ErrUnsupported]. Opening a record
// may fail with [ErrShredded], [seal.ErrTampered], [seal.ErrKeyUnknown]
// (the keyring lacks the key that wrapped a data key) or
// [seal.ErrMalformed] (a value written to the inner store around the
// Store, which refuses unsealed values rather than trusting them). Error
// strings name fields, never values.
//
// # Privacy
//
// Blind indexes of phone numbers can be confirmed by anyone who holds the
// keyring's index secret and tries numbers; provider message ids stay in
// clear for idempotency, and WhatsApp message ids are known to embed the
// sender's number in base64. Text is sealed as JSON, so invalid UTF-8 in
// a text is stored as U+FFFD.
package sealed
