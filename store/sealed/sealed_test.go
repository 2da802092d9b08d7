package sealed_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/store/postgres"
	"github.com/wagent/wagent/store/sealed"
	"github.com/wagent/wagent/store/sqlite"
	"github.com/wagent/wagent/store/storetest"
)

func secret(b byte) []byte { return bytes.Repeat([]byte{b}, seal.KeySize) }

var (
	kOld = seal.Key{ID: "2026-01", Secret: secret(1)}
	kNew = seal.Key{ID: "2026-06", Secret: secret(2)}
)

func newRing(t testing.TB, primary seal.KeyID, keys ...seal.Key) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(seal.KeyringConfig{Keys: keys, Primary: primary, IndexSecret: secret(0xa5)})
	require.NoError(t, err)
	return k
}

func wrap(t testing.TB, inner store.ConversationStore, ring *seal.Keyring, ks seal.KeyStorage) store.ConversationStore {
	t.Helper()
	s, err := sealed.New(inner, ring, ks, nil)
	require.NoError(t, err)
	return s
}

func overMemory(t *testing.T) store.ConversationStore {
	inner := memory.New(nil)
	t.Cleanup(func() { inner.Close() })
	return wrap(t, inner, newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{})
}

func openSQLite(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, nil)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

func overSQLite(t *testing.T) store.ConversationStore {
	inner := openSQLite(t, t.TempDir()+"/wagent.db")
	return wrap(t, inner, newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{})
}

func suites(t *testing.T, newStore func(t *testing.T) store.ConversationStore) {
	t.Run("Run", func(t *testing.T) { storetest.Run(t, newStore) })
	t.Run("Purger", func(t *testing.T) {
		storetest.RunPurger(t, func(t *testing.T) storetest.PurgerStore { return newStore(t).(storetest.PurgerStore) })
	})
	t.Run("Eraser", func(t *testing.T) {
		storetest.RunEraser(t, func(t *testing.T) storetest.EraserStore { return newStore(t).(storetest.EraserStore) })
	})
	t.Run("Exporter", func(t *testing.T) {
		storetest.RunExporter(t, func(t *testing.T) storetest.ExporterStore { return newStore(t).(storetest.ExporterStore) })
	})
	t.Run("Leaser", func(t *testing.T) {
		storetest.RunLeaser(t, func(t *testing.T) storetest.LeaserStore { return newStore(t).(storetest.LeaserStore) })
	})
	t.Run("ProcessingBatcher", func(t *testing.T) {
		storetest.RunProcessingBatcher(t, func(t *testing.T) storetest.ProcessingBatcherStore {
			return newStore(t).(storetest.ProcessingBatcherStore)
		})
	})
	t.Run("Lister", func(t *testing.T) {
		storetest.RunLister(t, func(t *testing.T) storetest.ListerStore { return newStore(t).(storetest.ListerStore) })
	})
	t.Run("Tickets", func(t *testing.T) {
		storetest.RunTickets(t, func(t *testing.T) storetest.TicketStore { return newStore(t).(storetest.TicketStore) })
	})
	t.Run("TicketErasure", func(t *testing.T) {
		storetest.RunTicketErasure(t, func(t *testing.T) storetest.TicketEraserStore { return newStore(t).(storetest.TicketEraserStore) })
	})
	t.Run("Tagger", func(t *testing.T) {
		storetest.RunTagger(t, func(t *testing.T) storetest.TaggerStore { return newStore(t).(storetest.TaggerStore) })
	})
	t.Run("TaggerErasure", func(t *testing.T) {
		storetest.RunTaggerErasure(t, func(t *testing.T) storetest.TaggerEraserStore { return newStore(t).(storetest.TaggerEraserStore) })
	})
}

// overSQLiteKeys keeps the keys in the store's own file, as a deployment
// with one SQLite file does.
func overSQLiteKeys(t *testing.T) store.ConversationStore {
	inner := openSQLite(t, t.TempDir()+"/wagent.db")
	return wrap(t, inner, newRing(t, kOld.ID, kOld), inner.Keys())
}

func TestOverMemory(t *testing.T) { suites(t, overMemory) }

func TestOverSQLite(t *testing.T) { suites(t, overSQLite) }

func TestOverSQLiteWithSQLiteKeys(t *testing.T) { suites(t, overSQLiteKeys) }

// overPostgres opens a store on a schema of its own, dropped at the end,
// with the keys in the same schema.
func overPostgres(t *testing.T) store.ConversationStore {
	dsn := os.Getenv("WAGENT_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("WAGENT_POSTGRES_DSN is not set; skipping the PostgreSQL suites")
	}
	schema := fmt.Sprintf("sealed_suite_%d", schemaSeq.Add(1)+time.Now().UnixNano())
	inner, err := postgres.Open(context.Background(), dsn, &postgres.Options{Schema: schema, MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() {
		inner.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		require.NoError(t, err)
	})
	return wrap(t, inner, newRing(t, kOld.ID, kOld), inner.Keys())
}

var schemaSeq atomic.Int64

func TestOverPostgres(t *testing.T) {
	if os.Getenv("WAGENT_POSTGRES_DSN") == "" {
		t.Skip("WAGENT_POSTGRES_DSN is not set; skipping the PostgreSQL suites")
	}
	suites(t, overPostgres)
}

// The ticket purge conformance suite over sealed memory and SQLite
// stores: the inner store deletes or anonymizes sealed tickets, and what
// an anonymized ticket keeps still opens.
func TestTicketPurgerSealed(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		storetest.RunTicketPurger(t, func(t *testing.T, now func() time.Time) storetest.TicketPurgerStore {
			inner := memory.New(&memory.Options{Now: now})
			t.Cleanup(func() { inner.Close() })
			return wrap(t, inner, newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{}).(storetest.TicketPurgerStore)
		})
	})
	t.Run("sqlite", func(t *testing.T) {
		storetest.RunTicketPurger(t, func(t *testing.T, now func() time.Time) storetest.TicketPurgerStore {
			inner, err := sqlite.Open(t.Context(), t.TempDir()+"/wagent.db", &sqlite.Options{Now: now})
			require.NoError(t, err)
			t.Cleanup(func() { inner.Close() })
			return wrap(t, inner, newRing(t, kOld.ID, kOld), &seal.MemoryKeyStorage{}).(storetest.TicketPurgerStore)
		})
	})
}
