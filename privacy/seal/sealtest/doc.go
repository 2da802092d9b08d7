// Package sealtest checks implementations of [seal.KeyStorage] against
// the contract, as store/storetest does for stores: one subtest per clause
// on a fresh storage, each failure quoting the clause broken.
//
// # Concurrency
//
// RunKeyStorage runs its clauses one after another; one clause calls the
// storage from many goroutines at once.
package sealtest
