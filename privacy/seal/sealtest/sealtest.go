package sealtest

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy/seal"
)

// RunKeyStorage checks the storage that newStorage returns, a fresh empty
// one for each clause, against every clause of [seal.KeyStorage].
func RunKeyStorage(t *testing.T, newStorage func(t *testing.T) seal.KeyStorage) {
	t.Helper()
	clauses := []struct {
		name string
		test func(t *testing.T, ks seal.KeyStorage)
	}{
		{"Get reports a missing key as ErrNoDataKey", testGetMissing},
		{"Put with nil old creates a key and Get returns it", testCreate},
		{"Put with nil old returns the key already stored and changes nothing", testCreateExisting},
		{"Put with old replaces the key only when it is old", testSwap},
		{"Put with old never brings back a deleted key", testSwapDeleted},
		{"Delete removes the key and is idempotent", testDelete},
		{"keys are scoped by tenant and id", testScope},
		{"values are copied in and out", testCopies},
		{"one of many racing creations wins and all get its key", testRace},
		{"a cancelled call fails and changes nothing", testCancelled},
	}
	for _, c := range clauses {
		t.Run(c.name, func(t *testing.T) {
			ks := newStorage(t)
			require.NotNil(t, ks, "newStorage returns a storage")
			c.test(t, ks)
		})
	}
}

const (
	tenantA = "tienda-sol"
	tenantB = "ferreteria-luna"
	idA     = "Jx3-index-of-subject-a"
	idB     = "Qm9-index-of-subject-b"
)

var (
	key1 = []byte("wrapped key one \x00\x01\x02\xff")
	key2 = []byte("wrapped key two \xfe\xfd")
)

func put(t *testing.T, ks seal.KeyStorage, tenant, id string, wrapped, old []byte) []byte {
	t.Helper()
	got, err := ks.Put(t.Context(), tenant, id, wrapped, old)
	require.NoError(t, err, "Put: returns the key stored afterwards")
	return got
}

func get(t *testing.T, ks seal.KeyStorage, tenant, id string) []byte {
	t.Helper()
	got, err := ks.Get(t.Context(), tenant, id)
	require.NoError(t, err, "Get: returns the key stored under (tenant, id)")
	return got
}

func testGetMissing(t *testing.T, ks seal.KeyStorage) {
	_, err := ks.Get(t.Context(), tenantA, idA)
	require.ErrorIs(t, err, seal.ErrNoDataKey, "Get: returns an error wrapping ErrNoDataKey when no key is stored")
}

func testCreate(t *testing.T, ks seal.KeyStorage) {
	assert.Equal(t, key1, put(t, ks, tenantA, idA, key1, nil), "Put: stores wrapped when no key is stored and old is nil, and returns wrapped")
	assert.Equal(t, key1, get(t, ks, tenantA, idA), "Get: returns the key stored, byte for byte")
}

func testCreateExisting(t *testing.T, ks seal.KeyStorage) {
	put(t, ks, tenantA, idA, key1, nil)
	const c = "Put: with nil old and a key stored, changes nothing and returns the key stored"
	assert.Equal(t, key1, put(t, ks, tenantA, idA, key2, nil), c)
	assert.Equal(t, key1, get(t, ks, tenantA, idA), c)
}

func testSwap(t *testing.T, ks seal.KeyStorage) {
	put(t, ks, tenantA, idA, key1, nil)
	assert.Equal(t, key2, put(t, ks, tenantA, idA, key2, key1), "Put: stores wrapped when the key stored is old, and returns wrapped")
	assert.Equal(t, key2, get(t, ks, tenantA, idA), "Put: stores wrapped when the key stored is old")
	const c = "Put: when the key stored is not old, changes nothing and returns the key stored"
	assert.Equal(t, key2, put(t, ks, tenantA, idA, []byte("third"), key1), c)
	assert.Equal(t, key2, get(t, ks, tenantA, idA), c)
}

func testSwapDeleted(t *testing.T, ks seal.KeyStorage) {
	put(t, ks, tenantA, idA, key1, nil)
	require.NoError(t, ks.Delete(t.Context(), tenantA, idA), "Delete: removes the key")
	_, err := ks.Put(t.Context(), tenantA, idA, key2, key1)
	require.ErrorIs(t, err, seal.ErrNoDataKey, "Put: with old set and no key stored, returns ErrNoDataKey")
	_, err = ks.Get(t.Context(), tenantA, idA)
	require.ErrorIs(t, err, seal.ErrNoDataKey, "Put: never brings back a deleted key")
}

func testDelete(t *testing.T, ks seal.KeyStorage) {
	put(t, ks, tenantA, idA, key1, nil)
	put(t, ks, tenantA, idB, key2, nil)
	require.NoError(t, ks.Delete(t.Context(), tenantA, idA), "Delete: removes the key stored")
	_, err := ks.Get(t.Context(), tenantA, idA)
	require.ErrorIs(t, err, seal.ErrNoDataKey, "Delete: removes the key stored under (tenant, id)")
	assert.Equal(t, key2, get(t, ks, tenantA, idB), "Delete: removes only the key under (tenant, id)")
	require.NoError(t, ks.Delete(t.Context(), tenantA, idA), "Delete: deleting a key that is not stored returns nil")
	assert.Equal(t, key1, put(t, ks, tenantA, idA, key1, nil), "Put: a key can be created again after it was deleted")
}

func testScope(t *testing.T, ks seal.KeyStorage) {
	put(t, ks, tenantA, idA, key1, nil)
	const c = "the same id under two tenants names two keys"
	assert.Equal(t, key2, put(t, ks, tenantB, idA, key2, nil), c)
	assert.Equal(t, key1, get(t, ks, tenantA, idA), c)
	assert.Equal(t, key2, get(t, ks, tenantB, idA), c)
	_, err := ks.Get(t.Context(), tenantA, idB)
	require.ErrorIs(t, err, seal.ErrNoDataKey, "keys are found by tenant and id")
	require.NoError(t, ks.Delete(t.Context(), tenantB, idA))
	assert.Equal(t, key1, get(t, ks, tenantA, idA), c+" (Delete)")
}

func testCopies(t *testing.T, ks seal.KeyStorage) {
	in := append([]byte(nil), key1...)
	out := put(t, ks, tenantA, idA, in, nil)
	in[0] ^= 0xff
	out[1] ^= 0xff
	got := get(t, ks, tenantA, idA)
	assert.Equal(t, key1, got, "values passed in and returned are copies")
	got[2] ^= 0xff
	assert.Equal(t, key1, get(t, ks, tenantA, idA), "values returned are copies")
}

func testRace(t *testing.T, ks seal.KeyStorage) {
	const n = 16
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = ks.Put(context.Background(), tenantA, idA, []byte{byte(i), 1, 2, 3}, nil)
		}()
	}
	close(start)
	wg.Wait()
	const c = "Put: when creations race, one caller wins and every caller gets its key"
	stored := get(t, ks, tenantA, idA)
	for i := range n {
		require.NoError(t, errs[i], c)
		assert.Equal(t, stored, got[i], c)
	}
}

func testCancelled(t *testing.T, ks seal.KeyStorage) {
	put(t, ks, tenantA, idA, key1, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	const c = "a call whose ctx is done returns an error wrapping ctx.Err() and changes nothing"
	_, err := ks.Get(ctx, tenantA, idA)
	require.ErrorIs(t, err, context.Canceled, c+" (Get)")
	_, err = ks.Put(ctx, tenantA, idB, key2, nil)
	require.ErrorIs(t, err, context.Canceled, c+" (Put)")
	_, err = ks.Put(ctx, tenantA, idA, key2, key1)
	require.ErrorIs(t, err, context.Canceled, c+" (Put)")
	require.ErrorIs(t, ks.Delete(ctx, tenantA, idA), context.Canceled, c+" (Delete)")
	assert.Equal(t, key1, get(t, ks, tenantA, idA), c)
	_, err = ks.Get(t.Context(), tenantA, idB)
	require.ErrorIs(t, err, seal.ErrNoDataKey, c)
}
