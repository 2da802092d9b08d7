package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The capability suites share the shape of [Run]: groups of clauses, one
// subtest per clause on a fresh store, failures quoting the clause. A store
// declares a capability by running its suite; the suites never probe a store
// for one.

// capClause is one rule of a capability and the test that checks it, for a
// store of type S.
type capClause[S any] struct {
	name string
	test func(t *testing.T, newStore func(t *testing.T) S)
}

// capGroup holds the clauses about one method or one part of a query.
type capGroup[S any] struct {
	name    string
	clauses []capClause[S]
}

// runGroups runs every clause of groups on fresh stores from newStore.
func runGroups[S any](t *testing.T, newStore func(t *testing.T) S, groups []capGroup[S]) {
	t.Helper()
	fresh := func(t *testing.T) S {
		t.Helper()
		s := newStore(t)
		require.NotNil(t, any(s), "newStore returns a store")
		return s
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.clauses {
				t.Run(c.name, func(t *testing.T) { c.test(t, fresh) })
			}
		})
	}
}
