package seal_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/privacy/seal/sealtest"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, seal.KeySize) }

func ring(t testing.TB, primary seal.KeyID, keys ...seal.Key) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(seal.KeyringConfig{Keys: keys, Primary: primary, IndexSecret: indexSecret})
	require.NoError(t, err)
	return k
}

var (
	indexSecret = secret(0xa5)
	k1          = seal.Key{ID: "2026-01", Secret: secret(1)}
	k2          = seal.Key{ID: "2026-06", Secret: secret(2)}
	at          = seal.Binding{Tenant: "tienda-sol", Field: "message.text", Row: "wamid.1"}
)

func TestNewKeyringRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  seal.KeyringConfig
	}{
		{"no keys", seal.KeyringConfig{Primary: "a", IndexSecret: indexSecret}},
		{"short secret", seal.KeyringConfig{Keys: []seal.Key{{ID: "a", Secret: make([]byte, 16)}}, Primary: "a", IndexSecret: indexSecret}},
		{"empty id", seal.KeyringConfig{Keys: []seal.Key{{ID: "", Secret: secret(1)}}, Primary: "", IndexSecret: indexSecret}},
		{"id with a space", seal.KeyringConfig{Keys: []seal.Key{{ID: "a b", Secret: secret(1)}}, Primary: "a b", IndexSecret: indexSecret}},
		{"long id", seal.KeyringConfig{Keys: []seal.Key{{ID: seal.KeyID(strings.Repeat("a", 65)), Secret: secret(1)}}, Primary: seal.KeyID(strings.Repeat("a", 65)), IndexSecret: indexSecret}},
		{"duplicate id", seal.KeyringConfig{Keys: []seal.Key{k1, {ID: k1.ID, Secret: secret(9)}}, Primary: k1.ID, IndexSecret: indexSecret}},
		{"primary missing", seal.KeyringConfig{Keys: []seal.Key{k1}, Primary: "other", IndexSecret: indexSecret}},
		{"no index secret", seal.KeyringConfig{Keys: []seal.Key{k1}, Primary: k1.ID}},
		{"short index secret", seal.KeyringConfig{Keys: []seal.Key{k1}, Primary: k1.ID, IndexSecret: secret(1)[:31]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := seal.NewKeyring(tt.cfg)
			require.ErrorIs(t, err, seal.ErrInvalid)
			assert.Nil(t, k)
			assert.NotContains(t, err.Error(), string(secret(1)))
		})
	}
}

func TestKeyringCopiesSecrets(t *testing.T) {
	s := secret(7)
	k := ring(t, "a", seal.Key{ID: "a", Secret: s})
	env := k.Seal([]byte("hola"), at)
	clear(s)
	pt, err := k.Open(env, at)
	require.NoError(t, err, "the keyring keeps its own copy of the secrets")
	assert.Equal(t, "hola", string(pt))
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := ring(t, k1.ID, k1)
	for _, pt := range []string{"", "hola", string(bytes.Repeat([]byte("x"), 70000))} {
		env := k.Seal([]byte(pt), at)
		assert.NotContains(t, string(env), "hola", "the envelope holds no plaintext")
		got, err := k.Open(env, at)
		require.NoError(t, err)
		assert.Equal(t, pt, string(got))
	}
	a, b := k.Seal([]byte("hola"), at), k.Seal([]byte("hola"), at)
	assert.NotEqual(t, a, b, "every seal draws a new nonce")
}

func TestRotation(t *testing.T) {
	old := ring(t, k1.ID, k1)
	sealedOld := old.Seal([]byte("antes"), at)

	rotated := ring(t, k2.ID, k1, k2)
	got, err := rotated.Open(sealedOld, at)
	require.NoError(t, err, "old keys keep opening what they sealed")
	assert.Equal(t, "antes", string(got))

	fresh := rotated.Seal([]byte("después"), at)
	id, err := rotated.KeyOf(fresh)
	require.NoError(t, err)
	assert.Equal(t, k2.ID, id, "the primary seals new values")
	id, err = rotated.KeyOf(sealedOld)
	require.NoError(t, err)
	assert.Equal(t, k1.ID, id)

	_, err = old.Open(fresh, at)
	require.ErrorIs(t, err, seal.ErrKeyUnknown, "a keyring without the primary cannot open what it sealed")
}

func TestWrongKey(t *testing.T) {
	env := ring(t, k1.ID, k1).Seal([]byte("secreto"), at)
	impostor := ring(t, k1.ID, seal.Key{ID: k1.ID, Secret: secret(9)})
	pt, err := impostor.Open(env, at)
	require.ErrorIs(t, err, seal.ErrTampered, "another secret under the same id fails authentication")
	assert.Nil(t, pt, "never garbage")
	other := ring(t, "x", seal.Key{ID: "x", Secret: secret(1)})
	_, err = other.Open(env, at)
	require.ErrorIs(t, err, seal.ErrKeyUnknown)
}

func TestTamperedByte(t *testing.T) {
	k := ring(t, k1.ID, k1)
	env := k.Seal([]byte("secreto"), at)
	for i := range env {
		bad := bytes.Clone(env)
		bad[i] ^= 0x01
		pt, err := k.Open(bad, at)
		require.Error(t, err, "byte %d flipped", i)
		assert.Nil(t, pt)
		assert.True(t, errors.Is(err, seal.ErrTampered) || errors.Is(err, seal.ErrMalformed) || errors.Is(err, seal.ErrKeyUnknown),
			"byte %d flipped: %v", i, err)
		if i >= 3+len(k1.ID) {
			require.ErrorIs(t, err, seal.ErrTampered, "a flipped nonce or ciphertext byte is tampering (byte %d)", i)
		}
	}
	_, err := k.Open(env[:len(env)-1], at)
	require.ErrorIs(t, err, seal.ErrTampered, "a truncated envelope")
	_, err = k.Open(env[:5], at)
	require.ErrorIs(t, err, seal.ErrMalformed)
}

func TestMovedCiphertext(t *testing.T) {
	k := ring(t, k1.ID, k1)
	env := k.Seal([]byte("secreto"), at)
	for name, b := range map[string]seal.Binding{
		"other tenant": {Tenant: "ferreteria-luna", Field: at.Field, Row: at.Row},
		"other field":  {Tenant: at.Tenant, Field: "profile.name", Row: at.Row},
		"other row":    {Tenant: at.Tenant, Field: at.Field, Row: "wamid.2"},
		"shifted":      {Tenant: at.Tenant + at.Field[:1], Field: at.Field[1:], Row: at.Row},
	} {
		t.Run(name, func(t *testing.T) {
			pt, err := k.Open(env, b)
			require.ErrorIs(t, err, seal.ErrTampered)
			assert.Nil(t, pt)
		})
	}
}

func TestIndex(t *testing.T) {
	k := ring(t, k1.ID, k1)
	a := k.Index("tienda-sol", "whatsapp", "51900000001")
	assert.Len(t, a, 43)
	assert.Equal(t, a, k.Index("tienda-sol", "whatsapp", "51900000001"), "equal inputs give equal indexes")
	assert.NotContains(t, a, "51900000001")
	assert.NotEqual(t, a, k.Index("ferreteria-luna", "whatsapp", "51900000001"), "each tenant has its own index key")
	assert.NotEqual(t, a, k.Index("tienda-sol", "instagram", "51900000001"), "scopes separate values")
	assert.NotEqual(t, a, k.Index("tienda-sol", "whatsapp", "51900000002"))
	assert.NotEqual(t, k.Index("t", "ab", "c"), k.Index("t", "a", "bc"), "scope and value cannot run into each other")

	rotated := ring(t, k2.ID, k2)
	assert.Equal(t, a, rotated.Index("tienda-sol", "whatsapp", "51900000001"), "the index does not change when the encryption keys rotate")
	other, err := seal.NewKeyring(seal.KeyringConfig{Keys: []seal.Key{k1}, Primary: k1.ID, IndexSecret: secret(0x5a)})
	require.NoError(t, err)
	assert.NotEqual(t, a, other.Index("tienda-sol", "whatsapp", "51900000001"), "the index is keyed by the index secret")
}

func TestParseEnvelope(t *testing.T) {
	env := ring(t, k1.ID, k1).Seal([]byte("x"), at)
	e, err := seal.ParseEnvelope(env)
	require.NoError(t, err)
	assert.Equal(t, byte(1), e.Version)
	assert.Equal(t, seal.KindKeyring, e.Kind)
	assert.Equal(t, string(k1.ID), e.KeyID)
	assert.Len(t, e.Nonce, 12)
	assert.Len(t, e.Ciphertext, 1+16)
	for _, bad := range [][]byte{nil, {1}, {2, 1, 1, 'a'}, {1, 3, 1, 'a'}, {1, 1, 0}, append([]byte{1, 1, 1, 'a'}, make([]byte, 27)...)} {
		_, err := seal.ParseEnvelope(bad)
		require.ErrorIs(t, err, seal.ErrMalformed, "%x", bad)
	}
}

func FuzzParseEnvelope(f *testing.F) {
	k := ring(f, k1.ID, k1)
	f.Add(k.Seal([]byte("hola"), at))
	f.Add(k.Seal(nil, at))
	f.Add([]byte{1, 2, 1, 'a'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := seal.ParseEnvelope(b)
		if err != nil {
			require.ErrorIs(t, err, seal.ErrMalformed)
			return
		}
		require.Equal(t, byte(1), e.Version)
		require.NotEmpty(t, e.KeyID)
		require.Len(t, e.Nonce, 12)
		require.GreaterOrEqual(t, len(e.Ciphertext), 16)
		pt, err := k.Open(b, at)
		if err == nil {
			// Only a real envelope of k opens, and success is never nil.
			require.NotNil(t, pt)
			return
		}
		require.Nil(t, pt, "never plaintext with an error")
		require.True(t, errors.Is(err, seal.ErrTampered) || errors.Is(err, seal.ErrKeyUnknown) || errors.Is(err, seal.ErrMalformed), err)
	})
}

func newDataKeys(t *testing.T, k *seal.Keyring, ks seal.KeyStorage) *seal.DataKeys {
	t.Helper()
	d, err := seal.NewDataKeys(k, ks, nil)
	require.NoError(t, err)
	return d
}

func TestDataKeys(t *testing.T) {
	ks := &seal.MemoryKeyStorage{}
	d := newDataKeys(t, ring(t, k1.ID, k1), ks)
	ctx := t.Context()

	_, err := d.Key(ctx, "tienda-sol", "subj-a")
	require.ErrorIs(t, err, seal.ErrNoDataKey)

	a, err := d.Ensure(ctx, "tienda-sol", "subj-a", "51900000001")
	require.NoError(t, err)
	assert.Equal(t, "51900000001", a.Subject())
	assert.Equal(t, "subj-a", a.ID())
	again, err := d.Ensure(ctx, "tienda-sol", "subj-a", "ignored")
	require.NoError(t, err)
	assert.Equal(t, "51900000001", again.Subject(), "Ensure returns the existing key")

	env := a.Seal([]byte("hola"), at)
	pt, err := again.Open(env, at)
	require.NoError(t, err, "the key found again opens what it sealed")
	assert.Equal(t, "hola", string(pt))
	_, err = ring(t, k1.ID, k1).Open(env, at)
	require.ErrorIs(t, err, seal.ErrMalformed, "a data key envelope is not a keyring envelope")

	b, err := d.Ensure(ctx, "tienda-sol", "subj-b", "51900000002")
	require.NoError(t, err)
	_, err = b.Open(env, at)
	require.ErrorIs(t, err, seal.ErrTampered, "another subject's key does not open it")
	other, err := d.Ensure(ctx, "ferreteria-luna", "subj-a", "51900000001")
	require.NoError(t, err)
	_, err = other.Open(env, seal.Binding{Tenant: "ferreteria-luna", Field: at.Field, Row: at.Row})
	require.ErrorIs(t, err, seal.ErrTampered, "the same id in another tenant is another key")

	for _, stored := range ks.Keys() {
		assert.NotContains(t, string(stored), "51900000001", "the subject is wrapped, never stored in clear")
	}

	require.NoError(t, d.Destroy(ctx, "tienda-sol", "subj-a"))
	require.NoError(t, d.Destroy(ctx, "tienda-sol", "subj-a"), "Destroy is idempotent")
	_, err = d.Key(ctx, "tienda-sol", "subj-a")
	require.ErrorIs(t, err, seal.ErrNoDataKey, "a destroyed key is gone")
	fresh, err := d.Ensure(ctx, "tienda-sol", "subj-a", "51900000001")
	require.NoError(t, err)
	_, err = fresh.Open(env, at)
	require.ErrorIs(t, err, seal.ErrTampered, "a new key for the same id does not open what the destroyed one sealed")
}

func TestDataKeysWrongKeyring(t *testing.T) {
	ks := &seal.MemoryKeyStorage{}
	_, err := newDataKeys(t, ring(t, k1.ID, k1), ks).Ensure(t.Context(), "t", "s", "u")
	require.NoError(t, err)
	_, err = newDataKeys(t, ring(t, k2.ID, k2), ks).Key(t.Context(), "t", "s")
	require.ErrorIs(t, err, seal.ErrKeyUnknown)
	_, err = newDataKeys(t, ring(t, k1.ID, seal.Key{ID: k1.ID, Secret: secret(3)}), ks).Key(t.Context(), "t", "s")
	require.ErrorIs(t, err, seal.ErrTampered)
}

func TestDataKeysRotate(t *testing.T) {
	ks := &seal.MemoryKeyStorage{}
	ctx := t.Context()
	before := newDataKeys(t, ring(t, k1.ID, k1), ks)
	a, err := before.Ensure(ctx, "t", "a", "ua")
	require.NoError(t, err)
	_, err = before.Ensure(ctx, "t", "b", "ub")
	require.NoError(t, err)
	env := a.Seal([]byte("hola"), at)

	rotated := ring(t, k2.ID, k1, k2)
	lazy, err := seal.NewDataKeys(rotated, ks, &seal.DataKeysOptions{NoRewrapOnRead: true})
	require.NoError(t, err)
	_, err = lazy.Key(ctx, "t", "a")
	require.NoError(t, err)
	assert.Equal(t, seal.KeyID(k1.ID), wrappedBy(t, rotated, ks, "a"), "NoRewrapOnRead leaves the wrap")

	onRead := newDataKeys(t, rotated, ks)
	got, err := onRead.Key(ctx, "t", "a")
	require.NoError(t, err)
	assert.Equal(t, seal.KeyID(k2.ID), wrappedBy(t, rotated, ks, "a"), "a read rewraps with the primary")
	pt, err := got.Open(env, at)
	require.NoError(t, err, "rewrapping keeps the data key")
	assert.Equal(t, "hola", string(pt))

	did, err := onRead.Rotate(ctx, "t", "b")
	require.NoError(t, err)
	assert.True(t, did)
	assert.Equal(t, seal.KeyID(k2.ID), wrappedBy(t, rotated, ks, "b"))
	did, err = onRead.Rotate(ctx, "t", "b")
	require.NoError(t, err)
	assert.False(t, did, "a key wrapped by the primary needs no rotation")
	_, err = onRead.Rotate(ctx, "t", "none")
	require.ErrorIs(t, err, seal.ErrNoDataKey)

	retired := newDataKeys(t, ring(t, k2.ID, k2), ks)
	got, err = retired.Key(ctx, "t", "a")
	require.NoError(t, err, "after rotation the old key-encryption key can be retired")
	pt, err = got.Open(env, at)
	require.NoError(t, err)
	assert.Equal(t, "hola", string(pt))
}

func wrappedBy(t *testing.T, k *seal.Keyring, ks seal.KeyStorage, id string) seal.KeyID {
	t.Helper()
	w, err := ks.Get(t.Context(), "t", id)
	require.NoError(t, err)
	kid, err := k.KeyOf(w)
	require.NoError(t, err)
	return kid
}

func TestDataKeysEnsureRace(t *testing.T) {
	d := newDataKeys(t, ring(t, k1.ID, k1), &seal.MemoryKeyStorage{})
	const n = 16
	keys := make([]*seal.DataKey, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := d.Ensure(context.Background(), "t", "a", "u")
			assert.NoError(t, err)
			keys[i] = k
		}()
	}
	wg.Wait()
	env := keys[0].Seal([]byte("hola"), at)
	for i, k := range keys {
		_, err := k.Open(env, at)
		require.NoError(t, err, "every racing Ensure returns the one key stored (caller %d)", i)
	}
}

func TestDataKeysInvalid(t *testing.T) {
	_, err := seal.NewDataKeys(nil, &seal.MemoryKeyStorage{}, nil)
	require.ErrorIs(t, err, seal.ErrInvalid)
	d := newDataKeys(t, ring(t, k1.ID, k1), &seal.MemoryKeyStorage{})
	_, err = d.Ensure(t.Context(), "", "a", "u")
	require.ErrorIs(t, err, seal.ErrInvalid)
	_, err = d.Key(t.Context(), "t", "")
	require.ErrorIs(t, err, seal.ErrInvalid)
}

func TestMemoryKeyStorage(t *testing.T) {
	sealtest.RunKeyStorage(t, func(t *testing.T) seal.KeyStorage { return &seal.MemoryKeyStorage{} })
}

func BenchmarkSeal(b *testing.B) {
	k := ring(b, k1.ID, k1)
	pt := []byte("¿Tienen la chompa de alpaca en talla M?")
	b.ReportAllocs()
	for b.Loop() {
		k.Seal(pt, at)
	}
}

func BenchmarkOpen(b *testing.B) {
	k := ring(b, k1.ID, k1)
	env := k.Seal([]byte("¿Tienen la chompa de alpaca en talla M?"), at)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Open(env, at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIndex(b *testing.B) {
	k := ring(b, k1.ID, k1)
	b.ReportAllocs()
	for b.Loop() {
		k.Index("tienda-sol", "whatsapp", "51900000001")
	}
}

func BenchmarkDataKey(b *testing.B) {
	d, err := seal.NewDataKeys(ring(b, k1.ID, k1), &seal.MemoryKeyStorage{}, nil)
	require.NoError(b, err)
	_, err = d.Ensure(context.Background(), "t", "a", "u")
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Key(context.Background(), "t", "a"); err != nil {
			b.Fatal(err)
		}
	}
}
