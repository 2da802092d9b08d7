// Package privacytest is the conformance suite of the storage interfaces
// of package privacy: [privacy.LedgerStorage], [privacy.AuditStorage],
// [privacy.HoldStorage] and [privacy.RequestStorage].
//
// [Run] checks a storage that implements all four clause by clause, as
// [testing/slogtest] does for slog handlers: one subtest per clause of the
// contract, grouped by interface, each on a fresh storage, and every
// failure message quotes the clause that was broken. [RunLedger],
// [RunAudit], [RunHolds] and [RunRequests] check one interface each, for a
// storage that keeps only some of the records. Run it from a test of the
// adapter:
//
//	func TestPrivacyStorage(t *testing.T) {
//		privacytest.Run(t, func(t *testing.T) privacytest.Storage {
//			s, err := mystore.Open(t.TempDir(), nil)
//			require.NoError(t, err)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// newStorage must return an empty storage that no other subtest uses, and
// release it with [testing.T.Cleanup].
//
// # What the suite expects
//
// Beyond the clauses written on the interfaces, the suite relies on what
// a storage keeps:
//
//   - Times keep their instant with at least microsecond precision; their
//     location may change (the suite compares times in UTC), and the zero
//     time comes back zero. The suite's own times are UTC and whole
//     microseconds.
//   - Entries, holds and requests come back field for field as they were
//     given, nil salts of erased ledger entries included: the [privacy.Ledger]
//     and the [privacy.Audit] recompute every hash from what the storage
//     returns.
//   - Errors wrap the privacy and store sentinels ([privacy.ErrConflict],
//     [store.ErrNotFound]) and the context's error, so that [errors.Is]
//     classifies them.
//
// Besides the storage methods themselves, the suite runs a [privacy.Ledger],
// an [privacy.Audit] and [privacy.Holds] over the storage: recording,
// erasing consent evidence ([privacy.KeepProof], [privacy.EraseRecords]),
// verifying the chains and detecting an edited entry, and two ledgers
// sharing one storage as two processes would.
//
// # Concurrency
//
// Run must be called from the test's goroutine. The clauses on concurrent
// use start up to 16 goroutines against one storage and wait for all of
// them.
//
// # Errors
//
// A broken clause fails its subtest with [testing.T.Errorf] or
// [testing.T.FailNow], quoting the clause; the other subtests still run.
//
// # Privacy
//
// The suite writes synthetic records only: made-up ids, texts and numbers.
package privacytest
