// Package storetest is the conformance suite of [store.ConversationStore].
//
// [Run] checks an implementation clause by clause, as [testing/slogtest]
// does for slog handlers: one subtest per clause of the contract, grouped
// by method, each on a fresh store, and every failure message quotes the
// clause that was broken, so that the author of a third-party store knows
// what to fix without reading the suite. Run it from a test of the adapter:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.ConversationStore {
//			s, err := mystore.Open(t.TempDir(), nil)
//			require.NoError(t, err)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// newStore must return an empty store that no other subtest uses, and
// release it with [testing.T.Cleanup]. Subtests run one after another;
// several of them call the store from many goroutines at once.
//
// # What the suite expects
//
// Beyond the clauses written on [store.ConversationStore], the suite relies
// on what a store keeps:
//
//   - Times keep their instant with at least microsecond precision; their
//     location may change (the suite compares times in UTC). The suite's
//     own times are UTC and whole microseconds.
//   - Records come back field for field as they were given: the received
//     [channel.Message] of an inbound record, the [llm.Part] values of a
//     record (provider state in Opaque and a tool call's Args byte for byte,
//     even when Args are not valid JSON) and its [channel.Outbound].
//   - Errors wrap the store's sentinels ([store.ErrNotFound],
//     [store.ErrInvalid]) and the context's error, so that [errors.Is]
//     classifies them.
//
// # Concurrency
//
// Run must be called from the test's goroutine. The clauses on concurrent
// use start up to 64 goroutines against one store and wait for all of them.
//
// # Errors
//
// A broken clause fails its subtest with [testing.T.Errorf] or
// [testing.T.FailNow], quoting the clause; the other subtests still run.
//
// # Privacy
//
// The suite writes synthetic conversations only: made-up names, texts and
// numbers.
package storetest
