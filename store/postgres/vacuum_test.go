package postgres_test

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVacuumFullLeavesNoErasedBytes reads the messages table's file on
// the server (pg_read_binary_file, as the superuser the tests connect as)
// after a checkpoint has written the buffers out: the erased text is in
// the file while it is stored, and in no table file after the erasure and
// Vacuum(full).
func TestVacuumFullLeavesNoErasedBytes(t *testing.T) {
	schema := freshSchema(t)
	s := open(t, schema, nil)
	ctx := t.Context()
	const said, kept = "Rosa-vacuum-zq7-mi-direccion-es-Av-Arequipa", "Juan-vacuum-kp3-factura"
	a, err := s.AppendInbound(ctx, text("wamid.v1", "51987654321", said))
	require.NoError(t, err)
	_, err = s.AppendInbound(ctx, text("wamid.v2", "51911122233", kept))
	require.NoError(t, err)

	conn := raw(t)
	onDisk := func(needle string) []string {
		t.Helper()
		_, err := conn.Exec(ctx, "CHECKPOINT")
		require.NoError(t, err)
		rows, err := conn.Query(ctx, `SELECT c.relname, pg_read_binary_file(pg_relation_filepath(c.oid)) FROM pg_class c
		WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 't', 'i') AND pg_relation_filepath(c.oid) IS NOT NULL`,
			pgx.Identifier{schema}.Sanitize())
		require.NoError(t, err)
		var where []string
		for rows.Next() {
			var name string
			var data []byte
			require.NoError(t, rows.Scan(&name, &data))
			if bytes.Contains(data, []byte(needle)) {
				where = append(where, name)
			}
		}
		require.NoError(t, rows.Err())
		return where
	}
	require.Contains(t, onDisk(said), "messages", "the text is in the table's file while it is stored (the search finds it)")

	_, err = s.Erase(ctx, a.Message.Tenant, a.Conversation.Subject)
	require.NoError(t, err)
	require.NoError(t, s.Vacuum(ctx, false), "a plain vacuum runs too")
	require.NoError(t, s.Vacuum(ctx, true))
	assert.Empty(t, onDisk(said), "no table file of the schema holds the erased text")
	assert.Empty(t, onDisk("51987654321"), "nor the erased phone number")
	assert.Contains(t, onDisk(kept), "messages", "another subject's text is kept")

	require.NoError(t, s.Close())
	assert.Error(t, s.Vacuum(ctx, true), "a closed store does not vacuum")
}
