package sqlite_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/privacy/privacytest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/sqlite"
)

// openFile opens the store at path, closed when the test ends.
func openFile(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestPrivacyStorage(t *testing.T) {
	privacytest.Run(t, func(t *testing.T) privacytest.Storage {
		return openFile(t, filepath.Join(t.TempDir(), "wagent.db"))
	})
}

func TestPrivacyRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wagent.db")
	privacytest.RunRestart(t, func(t *testing.T) (privacytest.Storage, func() error) {
		s, err := sqlite.Open(context.Background(), path, nil)
		require.NoError(t, err)
		return s, s.Close
	})
}

// Two stores on one file, as two processes open it, append to one chain:
// the sequence check runs under the file's write lock, so exactly one of
// two appends of a Seq succeeds and the chain verifies.
func TestPrivacyTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wagent.db")
	stores := []*sqlite.Store{openFile(t, path), openFile(t, path)}
	ledgers := make([]*privacy.Ledger, len(stores))
	for i, s := range stores {
		var err error
		ledgers[i], err = privacy.NewLedger(s, nil)
		require.NoError(t, err)
	}
	const each = 20
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*each)
	for i, l := range ledgers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				r := privacy.ConsentRecord{Tenant: "tienda-sol", Subject: "s1", Purpose: privacy.PurposeMarketing, Granted: (i+j)%2 == 0, Method: "api"}
				var err error
				for range 100 {
					if err = l.Record(context.Background(), r); !errors.Is(err, privacy.ErrConflict) {
						break
					}
				}
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	es, err := stores[0].ConsentEntries(t.Context(), "tienda-sol", 0, 0)
	require.NoError(t, err)
	require.Len(t, es, len(stores)*each, "every record of both processes is in the chain, once")
	for i, e := range es {
		require.Equal(t, uint64(i+1), e.Seq, "the chain has no gaps")
	}
	for _, l := range ledgers {
		require.NoError(t, l.Verify(t.Context()))
	}
}

// Erasing a subject's consent evidence removes its text from the database
// file and, after a checkpoint, from the write-ahead log too.
func TestPrivacyErasureLeavesNoEvidenceOnDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wagent.db")
	s := openFile(t, path)
	l, err := privacy.NewLedger(s, nil)
	require.NoError(t, err)
	ctx := t.Context()
	const said, other = "BAJA-zq7-evidencia-de-ana", "SI-kp3-evidencia-de-luis"
	for _, r := range []privacy.ConsentRecord{
		{Tenant: "tienda-sol", Subject: "s1", Purpose: privacy.PurposeMarketing, Granted: false, Method: "chat_keyword",
			Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: "wamid.ana1", Text: said}},
		{Tenant: "tienda-sol", Subject: "s2", Purpose: privacy.PurposeMarketing, Granted: true, Method: "chat_keyword",
			Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: "wamid.luis1", Text: other}},
	} {
		require.NoError(t, l.Record(ctx, r))
	}
	require.NoError(t, s.Checkpoint(ctx))
	require.True(t, onDisk(t, path, said), "the evidence is in the file before the erasure (the search finds it)")

	n, err := l.Erase(ctx, "tienda-sol", "s1", privacy.KeepProof)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, s.Checkpoint(ctx))
	assert.False(t, onDisk(t, path, said), "no byte of the erased evidence remains in the database file or its log")
	assert.False(t, onDisk(t, path, "wamid.ana1"), "the erased message id remains nowhere on disk")
	assert.True(t, onDisk(t, path, other), "another subject's evidence is kept")
	require.NoError(t, l.Verify(ctx))
}

// onDisk reports whether s appears in the database file or its
// write-ahead log.
func onDisk(t *testing.T, path, s string) bool {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		require.NoError(t, err)
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

func TestPrivacyStorageRefusesWhatItCannotKeep(t *testing.T) {
	s := openFile(t, filepath.Join(t.TempDir(), "wagent.db"))
	ctx := t.Context()
	bad := privacy.LedgerEntry{Tenant: "tienda-sol", Seq: 1, Record: privacy.ConsentRecord{Tenant: "tienda-sol", Subject: "s1",
		Purpose: privacy.PurposeMarketing, Method: "api", Evidence: privacy.Evidence{Text: "BAJA \xff\xfe"}}}
	require.ErrorIs(t, s.AppendConsent(ctx, bad), store.ErrInvalid, "text that JSON would change is refused, not stored altered")
	last, err := s.LastConsent(ctx, "tienda-sol")
	require.NoError(t, err)
	require.Zero(t, last.Seq, "nothing was stored")
	require.ErrorIs(t, s.SaveRequest(ctx, privacy.Request{ID: "r1", Version: 1, Notice: "\xc3"}), store.ErrInvalid)
}

func TestPrivacyStorageClosed(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "wagent.db"), nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	ctx := t.Context()
	require.ErrorIs(t, s.AppendConsent(ctx, privacy.LedgerEntry{Tenant: "t", Seq: 1}), store.ErrClosed)
	_, err = s.LastAudit(ctx, "t")
	require.ErrorIs(t, err, store.ErrClosed)
	require.ErrorIs(t, s.PutHold(ctx, privacy.Hold{ID: "h", Tenant: "t"}), store.ErrClosed)
	_, err = s.FindRequests(ctx, privacy.RequestQuery{})
	require.ErrorIs(t, err, store.ErrClosed)
}

// BenchmarkPrivacyLedgerRecord records consent through a Ledger, one
// append (a read and a committed write) per operation.
func BenchmarkPrivacyLedgerRecord(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "wagent.db"), nil)
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	l, err := privacy.NewLedger(s, nil)
	require.NoError(b, err)
	r := privacy.ConsentRecord{Tenant: "tienda-sol", Subject: "s1", Purpose: privacy.PurposeMarketing, Method: "chat_keyword",
		Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: "wamid.1", Text: "BAJA"}}
	for b.Loop() {
		if err := l.Record(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
}
