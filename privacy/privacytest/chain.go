package privacytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
)

// chainOps describes one kind of hash chain (the consent ledger, the audit
// log) to the clauses both share: append-only, one chain per tenant,
// checked only by sequence number.
type chainOps[S, E any] struct {
	// append, last, entries and tenants name the storage's methods in the
	// clauses quoted.
	appendName, lastName, entriesName, tenantsName string
	// entry returns entry seq of tenant's chain after prev; n makes its
	// content unique, and ident returns n back from the entry's content.
	entry   func(tenant channel.TenantID, seq uint64, prev privacy.Hash, n int) E
	ident   func(E) int
	seq     func(E) uint64
	prev    func(E) privacy.Hash
	hash    func(E) privacy.Hash
	append  func(ctx context.Context, s S, e E) error
	last    func(ctx context.Context, s S, tenant channel.TenantID) (E, error)
	entries func(ctx context.Context, s S, tenant channel.TenantID, after uint64, limit int) ([]E, error)
	tenants func(ctx context.Context, s S) ([]channel.TenantID, error)
	// normalize returns an entry as the suite compares it (times in UTC).
	normalize func(E) E
	// mutate changes every slice and map the entry shares with its
	// caller, to check that the storage copies.
	mutate func(*E)
}

// chainClauses returns the clauses every chain storage meets.
func chainClauses[S, E any](o chainOps[S, E]) []group[S] {
	return []group[S]{
		{o.appendName, []clause[S]{
			{"stores entry 1 of an empty chain, which " + o.lastName + " and " + o.entriesName + " return field for field", func(t *testing.T, f func(*testing.T) S) { testChainFirst(t, f, o) }},
			{"returns ErrConflict and stores nothing unless Seq is one more than the last entry's", func(t *testing.T, f func(*testing.T) S) { testChainConflict(t, f, o) }},
			{"lets exactly one of many concurrent appends of one Seq succeed", func(t *testing.T, f func(*testing.T) S) { testChainOneWins(t, f, o) }},
			{"keeps the chain gapless under appends racing from many goroutines", func(t *testing.T, f func(*testing.T) S) { testChainRacing(t, f, o) }},
			{"copies what it is given and returns", func(t *testing.T, f func(*testing.T) S) { testChainCopies(t, f, o) }},
		}},
		{o.lastName, []clause[S]{
			{"returns a zero entry for an empty chain", func(t *testing.T, f func(*testing.T) S) { testChainEmpty(t, f, o) }},
		}},
		{o.entriesName, []clause[S]{
			{"returns up to limit entries with Seq greater than after, in Seq order", func(t *testing.T, f func(*testing.T) S) { testChainPaging(t, f, o) }},
		}},
		{o.tenantsName, []clause[S]{
			{"returns the tenants that have a chain", func(t *testing.T, f func(*testing.T) S) { testChainTenants(t, f, o) }},
		}},
		{"Tenancy", []clause[S]{
			{"keeps one chain per tenant: one tenant never sees another's entries", func(t *testing.T, f func(*testing.T) S) { testChainIsolation(t, f, o) }},
		}},
		{"Context", []clause[S]{
			{"a call with a cancelled context fails and stores nothing", func(t *testing.T, f func(*testing.T) S) { testChainCancelled(t, f, o) }},
		}},
	}
}

// build appends entries 1 to n of tenant's chain, linked by their hashes,
// with contents first, first+1, ..., and returns them.
func build[S, E any](t *testing.T, s S, o chainOps[S, E], tenant channel.TenantID, n, first int) []E {
	t.Helper()
	var out []E
	var prev privacy.Hash
	for i := range n {
		e := o.entry(tenant, uint64(i+1), prev, first+i)
		require.NoError(t, o.append(t.Context(), s, e), "%s stores entry %d, one more than the last", o.appendName, i+1)
		prev = o.hash(e)
		out = append(out, e)
	}
	return out
}

func (o chainOps[S, E]) norm(es []E) []E {
	out := make([]E, len(es))
	for i, e := range es {
		out[i] = o.normalize(e)
	}
	return out
}

func testChainEmpty[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	last, err := o.last(t.Context(), s, tenantA)
	require.NoError(t, err)
	var zero E
	assert.Equal(t, zero, last, "%s returns a zero entry for an empty chain", o.lastName)
	es, err := o.entries(t.Context(), s, tenantA, 0, 10)
	require.NoError(t, err)
	assert.Empty(t, es, "%s of an empty chain returns no entries", o.entriesName)
	ts, err := o.tenants(t.Context(), s)
	require.NoError(t, err)
	assert.NotContains(t, ts, tenantA, "%s returns the tenants that have a chain, and an empty storage has none", o.tenantsName)
}

func testChainFirst[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	e := o.entry(tenantA, 1, privacy.Hash{}, 7)
	require.NoError(t, o.append(t.Context(), s, e), "%s stores entry 1 of an empty chain", o.appendName)
	last, err := o.last(t.Context(), s, tenantA)
	require.NoError(t, err)
	assert.Equal(t, o.normalize(e), o.normalize(last), "%s returns the last entry of the chain field for field", o.lastName)
	es, err := o.entries(t.Context(), s, tenantA, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, []E{o.normalize(e)}, o.norm(es), "%s returns the entries stored field for field", o.entriesName)

	second := o.entry(tenantA, 2, o.hash(e), 8)
	require.NoError(t, o.append(t.Context(), s, second), "%s stores entry 2 after entry 1", o.appendName)
	last, err = o.last(t.Context(), s, tenantA)
	require.NoError(t, err)
	assert.Equal(t, o.normalize(second), o.normalize(last), "%s returns the last entry of the chain", o.lastName)
}

func testChainConflict[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	ctx := t.Context()
	for _, seq := range []uint64{0, 2, 3} {
		err := o.append(ctx, s, o.entry(tenantA, seq, privacy.Hash{}, 100+int(seq)))
		assert.ErrorIs(t, err, privacy.ErrConflict, "%s returns an error wrapping ErrConflict unless Seq is one more than the last entry's (1 for an empty chain): Seq %d on an empty chain", o.appendName, seq)
	}
	last, err := o.last(ctx, s, tenantA)
	require.NoError(t, err)
	var zero E
	require.Equal(t, zero, last, "%s stores nothing when it returns ErrConflict", o.appendName)

	first := build(t, s, o, tenantA, 1, 1)[0]
	for _, seq := range []uint64{1, 3, 0} {
		err := o.append(ctx, s, o.entry(tenantA, seq, o.hash(first), 200+int(seq)))
		assert.ErrorIs(t, err, privacy.ErrConflict, "%s returns an error wrapping ErrConflict unless Seq is one more than the last entry's: Seq %d after entry 1", o.appendName, seq)
	}
	es, err := o.entries(ctx, s, tenantA, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, []E{o.normalize(first)}, o.norm(es), "%s stores nothing when it returns ErrConflict: entry 1 is kept as it was", o.appendName)
}

func testChainOneWins[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	first := build(t, s, o, tenantA, 1, 1)[0]
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = o.append(context.Background(), s, o.entry(tenantA, 2, o.hash(first), 1000+i))
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			assert.Equal(t, -1, winner, "two appends of one Seq cannot both succeed (%s: goroutines %d and %d did)", o.appendName, winner, i)
			winner = i
		default:
			assert.ErrorIs(t, err, privacy.ErrConflict, "%s returns an error wrapping ErrConflict when another append took the Seq", o.appendName)
		}
	}
	require.NotEqual(t, -1, winner, "one of many concurrent appends of one Seq succeeds (%s)", o.appendName)
	es, err := o.entries(t.Context(), s, tenantA, 0, 10)
	require.NoError(t, err)
	require.Len(t, es, 2, "exactly one of many concurrent appends of one Seq is stored (%s)", o.appendName)
	assert.Equal(t, 1000+winner, o.ident(es[1]), "the entry stored is the one whose %s succeeded", o.appendName)
}

func testChainRacing[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	const writers, each, attempts = 8, 8, 10000
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range each {
				n := w*1000 + i
				for try := 0; ; try++ {
					if try == attempts {
						errs <- fmt.Errorf("writer %d: entry %d not appended after %d attempts", w, n, attempts)
						return
					}
					last, err := o.last(ctx, s, tenantA)
					if err != nil {
						errs <- err
						return
					}
					err = o.append(ctx, s, o.entry(tenantA, o.seq(last)+1, o.hash(last), n))
					if errors.Is(err, privacy.ErrConflict) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "appends racing from many goroutines either succeed or return ErrConflict (%s)", o.appendName)
	}
	es, err := o.entries(t.Context(), s, tenantA, 0, writers*each+10)
	require.NoError(t, err)
	require.Len(t, es, writers*each, "every append that succeeded is stored, once (%s)", o.appendName)
	seen := map[int]bool{}
	var prev privacy.Hash
	for i, e := range es {
		require.Equal(t, uint64(i+1), o.seq(e), "the chain numbers its entries from 1 without gaps under racing appends (%s)", o.appendName)
		require.Equal(t, prev, o.prev(e), "an append succeeds only as the successor of the last entry, so each entry follows the one before it (%s)", o.appendName)
		prev = o.hash(e)
		require.False(t, seen[o.ident(e)], "an entry appended once is stored once (%s)", o.appendName)
		seen[o.ident(e)] = true
	}
}

func testChainCopies[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	e := o.entry(tenantA, 1, privacy.Hash{}, 1)
	given := o.entry(tenantA, 1, privacy.Hash{}, 1)
	require.NoError(t, o.append(t.Context(), s, given))
	o.mutate(&given)
	last, err := o.last(t.Context(), s, tenantA)
	require.NoError(t, err)
	require.Equal(t, o.normalize(e), o.normalize(last), "%s copies what it is given: changing the caller's entry afterwards changes nothing stored", o.appendName)
	o.mutate(&last)
	es, err := o.entries(t.Context(), s, tenantA, 0, 1)
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, o.normalize(e), o.normalize(es[0]), "%s returns copies: changing an entry returned changes nothing stored", o.lastName)
	o.mutate(&es[0])
	last, err = o.last(t.Context(), s, tenantA)
	require.NoError(t, err)
	assert.Equal(t, o.normalize(e), o.normalize(last), "%s returns copies: changing an entry returned changes nothing stored", o.entriesName)
}

func testChainPaging[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	all := o.norm(build(t, s, o, tenantA, 7, 1))
	for _, c := range []struct {
		after    uint64
		limit    int
		from, to int // all[from:to]
	}{
		{0, 3, 0, 3}, {3, 3, 3, 6}, {6, 3, 6, 7}, {7, 3, 7, 7}, {2, 100, 2, 7}, {0, 7, 0, 7}, {100, 5, 7, 7},
	} {
		es, err := o.entries(t.Context(), s, tenantA, c.after, c.limit)
		require.NoError(t, err)
		want := all[c.from:c.to]
		if len(want) == 0 {
			assert.Empty(t, es, "%s returns no entries past the end of the chain (after %d)", o.entriesName, c.after)
			continue
		}
		assert.Equal(t, want, o.norm(es), "%s returns up to limit entries with Seq greater than after, in Seq order (after %d, limit %d)", o.entriesName, c.after, c.limit)
	}
}

func testChainTenants[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	build(t, s, o, tenantA, 2, 1)
	build(t, s, o, tenantB, 1, 10)
	ts, err := o.tenants(t.Context(), s)
	require.NoError(t, err)
	assert.ElementsMatch(t, []channel.TenantID{tenantA, tenantB}, ts, "%s returns the tenants that have a chain, each once", o.tenantsName)
}

func testChainIsolation[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	a := o.norm(build(t, s, o, tenantA, 3, 1))
	b := o.norm(build(t, s, o, tenantB, 2, 50))
	for _, c := range []struct {
		tenant channel.TenantID
		want   []E
	}{{tenantA, a}, {tenantB, b}} {
		es, err := o.entries(t.Context(), s, c.tenant, 0, 100)
		require.NoError(t, err)
		assert.Equal(t, c.want, o.norm(es), "%s returns only the entries of the tenant's own chain", o.entriesName)
		last, err := o.last(t.Context(), s, c.tenant)
		require.NoError(t, err)
		assert.Equal(t, c.want[len(c.want)-1], o.normalize(last), "%s returns the last entry of the tenant's own chain", o.lastName)
	}
	err := o.append(t.Context(), s, o.entry(tenantB, 4, privacy.Hash{}, 99))
	assert.ErrorIs(t, err, privacy.ErrConflict, "%s checks Seq against the tenant's own chain: entry 4 of a chain of 2 conflicts although another tenant has 3", o.appendName)
	last, err := o.last(t.Context(), s, "tenant-sin-registros")
	require.NoError(t, err)
	var zero E
	assert.Equal(t, zero, last, "%s of a tenant without entries is a zero entry whatever other tenants hold", o.lastName)
}

func testChainCancelled[S, E any](t *testing.T, newStorage func(*testing.T) S, o chainOps[S, E]) {
	s := newStorage(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := o.append(ctx, s, o.entry(tenantA, 1, privacy.Hash{}, 1))
	require.Error(t, err, "%s with a cancelled context fails", o.appendName)
	assert.ErrorIs(t, err, context.Canceled, "%s with a cancelled context returns an error wrapping the context's", o.appendName)
	last, err := o.last(t.Context(), s, tenantA)
	require.NoError(t, err)
	var zero E
	assert.Equal(t, zero, last, "%s with a cancelled context stores nothing", o.appendName)
	_, err = o.entries(ctx, s, tenantA, 0, 10)
	assert.Error(t, err, "%s with a cancelled context fails", o.entriesName)
}
