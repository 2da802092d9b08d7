// Package memory is a [store.ConversationStore] that keeps everything in
// memory: the reference implementation of the contract, and the test double
// of the agent's tests and benchmarks.
//
//	s := memory.New(nil)
//	defer s.Close()
//
// Its data lives as long as the process; use store/sqlite or store/postgres
// to keep conversations across restarts. Appending a record, reading one,
// updating delivery or processing state take constant time (amortized);
// History takes time proportional to the window asked for, and Pending to
// the pending records it scans, never to all records. The store passes
// [github.com/wagent/wagent/store/storetest].
//
// Where the contract leaves a choice, the store documents it on the method:
// an inbound record's Time is the provider's time of the message (now when
// zero), LastInboundAt never moves backwards, and ids are assigned from one
// counter, so they increase across the whole store. Conversation and subject
// ids are opaque short strings.
//
// # Concurrency
//
// A [Store] is safe for concurrent use. One read-write mutex guards all its
// data: reads share it, writes hold it for a few map and slice operations.
// Copies of what is passed in and returned are made outside the lock.
//
// # Errors
//
// Errors wrap [store.ErrNotFound], [store.ErrInvalid], [store.ErrClosed]
// (after [Store.Close]) or the context's error; test them with
// [errors.Is]. Their text names the operation and the record or
// conversation id, never message text, user ids or phone numbers.
//
// # Privacy
//
// The store holds message text, profile names and phone numbers in memory
// only, and never logs. It copies what it is given and what it returns, so
// callers cannot reach its data through a pointer. [Store.Close] drops the
// data; there is no other way to erase it, since the store does not
// implement retention or purging.
package memory
