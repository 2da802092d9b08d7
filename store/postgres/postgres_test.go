package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/postgres"
	"github.com/wagent/wagent/store/storetest"
)

// dsn returns the server the tests run against, or skips the test.
func dsn(t testing.TB) string {
	t.Helper()
	d := os.Getenv("WAGENT_POSTGRES_DSN")
	if d == "" {
		t.Skip("store/postgres: set WAGENT_POSTGRES_DSN to run against a PostgreSQL server")
	}
	return d
}

// freshSchema returns the name of a schema no other test uses, and drops
// it when the test ends, after the stores opened later are closed.
func freshSchema(t testing.TB) string {
	t.Helper()
	d := dsn(t)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "wagent_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, d)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		require.NoError(t, err)
	})
	return schema
}

// open opens a store on schema, closed when the test ends.
func open(t testing.TB, schema string, opts *postgres.Options) *postgres.Store {
	t.Helper()
	o := postgres.Options{}
	if opts != nil {
		o = *opts
	}
	o.Schema = schema
	s, err := postgres.Open(context.Background(), dsn(t), &o)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// fresh opens a store on a schema of its own.
func fresh(t testing.TB) *postgres.Store {
	t.Helper()
	return open(t, freshSchema(t), nil)
}

// raw connects to the test server directly, to look at the tables.
func raw(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn(t))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestConformance(t *testing.T) {
	dsn(t)
	storetest.Run(t, func(t *testing.T) store.ConversationStore { return fresh(t) })
}

const tenant channel.TenantID = "tienda-sol"

func from(user string) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(user)}
}

func text(id, user, body string) channel.Message {
	return channel.Message{ID: channel.MessageID(id), From: from(user), Type: channel.TypeText, Text: channel.Text(body)}
}
