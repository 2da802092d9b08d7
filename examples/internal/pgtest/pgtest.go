// Package pgtest gives the examples' tests a PostgreSQL database of their
// own on the server of WAGENT_POSTGRES_DSN.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// FreshDatabase creates a database named prefix plus random hex on the
// server of WAGENT_POSTGRES_DSN and returns its DSN; it is dropped, with
// its connections, when the test ends, after the cleanups registered
// later (a bot started afterwards stops first). Without
// WAGENT_POSTGRES_DSN the test is skipped.
func FreshDatabase(t *testing.T, prefix string) string {
	t.Helper()
	dsn := os.Getenv("WAGENT_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set WAGENT_POSTGRES_DSN to run against PostgreSQL")
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err, "WAGENT_POSTGRES_DSN must be a postgres:// URL")
	id := make([]byte, 6)
	_, err = rand.Read(id)
	require.NoError(t, err)
	name := pgx.Identifier{prefix + hex.EncodeToString(id)}
	conn, err := pgx.Connect(t.Context(), dsn)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), "CREATE DATABASE "+name.Sanitize())
	conn.Close(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping %s: %v", name[0], err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name[0], err)
		}
	})
	u.Path = "/" + name[0]
	return u.String()
}
