package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/privacy/seal/sealtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/sqlite"
)

func TestKeys(t *testing.T) {
	sealtest.RunKeyStorage(t, func(t *testing.T) seal.KeyStorage {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"), nil)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s.Keys()
	})
}

func TestKeysDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.db")
	s, err := sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	_, err = s.Keys().Put(t.Context(), "tienda-sol", "idx", []byte("wrapped"), nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = s.Keys().Get(t.Context(), "tienda-sol", "idx")
	require.ErrorIs(t, err, store.ErrClosed, "a closed store's keys are closed")

	s, err = sqlite.Open(t.Context(), path, nil)
	require.NoError(t, err)
	defer s.Close()
	got, err := s.Keys().Get(t.Context(), "tienda-sol", "idx")
	require.NoError(t, err, "a key put survives a reopen")
	require.Equal(t, []byte("wrapped"), got)
}
