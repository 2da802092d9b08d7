package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// batchStore opens a store on a schema of its own, or skips the test
// without a server. The schema is dropped when the test ends.
func batchStore(t *testing.T) (s *Store, dsn, schema string) {
	t.Helper()
	dsn = os.Getenv("WAGENT_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("store/postgres: set WAGENT_POSTGRES_DSN to run against a PostgreSQL server")
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema = "wagent_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		require.NoError(t, err)
	})
	s, err := Open(t.Context(), dsn, &Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, dsn, schema
}

func batchAddr(user string) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: channel.UserID(user)}
}

// queued returns the member of a batch that appends m, as AppendInbound
// makes it.
func queued(t *testing.T, s *Store, ctx context.Context, m channel.Message) *inbound {
	t.Helper()
	now := s.clock()
	body, media, err := content{Inbound: &m}.encode()
	require.NoError(t, err)
	return &inbound{ctx: ctx, m: &m, now: now, t: now, body: body, media: media, wake: make(chan struct{}, 1)}
}

func TestBatchFailsAppendsAlone(t *testing.T) {
	s, _, _ := batchStore(t)
	ctx := t.Context()
	msg := func(id, user string) channel.Message {
		return channel.Message{ID: channel.MessageID(id), From: batchAddr(user), Type: channel.TypeText, Text: "hola",
			Sender: channel.Profile{Name: channel.Text("Ana " + user)}}
	}
	bad := map[string]channel.Message{
		// PostgreSQL text holds no NUL byte and only valid UTF-8.
		"provider id with a NUL byte": msg("wamid.bad\x00", "51900000001"),
		"provider id not UTF-8":       msg("wamid.bad\xff", "51900000002"),
		"sender not UTF-8":            msg("wamid.bad.user", "51900\xff"),
		// From a sender with other messages in the batch.
		"sender phone with a NUL byte": {ID: "wamid.bad.phone", From: batchAddr("51900000011"), Type: channel.TypeText, Text: "hola", Sender: channel.Profile{Phone: "51\x00"}},
	}
	for name, b := range bad {
		t.Run(name, func(t *testing.T) {
			var batch []*inbound
			for i := range 6 {
				// Two conversations, one of them new, and the failing
				// append in the middle of the batch.
				if i == 3 {
					batch = append(batch, queued(t, s, ctx, b))
				}
				batch = append(batch, queued(t, s, ctx, msg(fmt.Sprintf("wamid.%s.%d", name, i), fmt.Sprintf("5190000001%d", i%2))))
			}
			s.commitInbound(batch)

			const c = "one append that fails does not fail the others of its batch"
			for i, in := range batch {
				if i == 3 {
					require.Error(t, in.err, c+": the failing one returns its error")
					continue
				}
				require.NoError(t, in.err, c)
				assert.False(t, in.a.Duplicate, c)
				got, err := s.Message(ctx, "tienda-sol", in.a.Message.ID)
				require.NoError(t, err, c+": the others are recorded")
				assert.Equal(t, in.m.ID, got.ProviderID, c)
				subj, err := s.Subject(ctx, in.m.From)
				require.NoError(t, err, c)
				assert.Equal(t, in.m.Sender.Name, subj.Profile.Name, c+": and their profiles")
			}
			if b.From.User == "51900000011" {
				subj, err := s.Subject(ctx, b.From)
				require.NoError(t, err)
				assert.Empty(t, subj.Profile.Phone, c+": the failing one changes nothing")
			}
		})
	}
	p, err := s.Pending(ctx, store.PendingQuery{})
	require.NoError(t, err)
	assert.Len(t, p, 6*len(bad), "only the appends that did not fail are recorded")
}

func TestBatchDuplicates(t *testing.T) {
	s, _, _ := batchStore(t)
	ctx := t.Context()
	first, err := s.AppendInbound(ctx, channel.Message{ID: "wamid.old", From: batchAddr("51900000001"), Type: channel.TypeText, Text: "hola"})
	require.NoError(t, err)

	m := channel.Message{ID: "wamid.same", From: batchAddr("51900000001"), Type: channel.TypeText, Text: "hola"}
	// The earlier record is in another conversation: the same key from
	// another sender of the tenant.
	old := channel.Message{ID: "wamid.old", From: batchAddr("51900000002"), Type: channel.TypeText, Text: "hola"}
	batch := []*inbound{queued(t, s, ctx, m), queued(t, s, ctx, m), queued(t, s, ctx, old), queued(t, s, ctx, m)}
	s.commitInbound(batch)

	const c = "appends of one key in one batch record it once; the others return that record with Duplicate set"
	fresh := 0
	for _, in := range batch[:2] {
		require.NoError(t, in.err, c)
		if !in.a.Duplicate {
			fresh++
		}
	}
	require.NoError(t, batch[3].err, c)
	assert.True(t, batch[3].a.Duplicate, c)
	assert.Equal(t, 1, fresh, c)
	assert.Equal(t, batch[0].a.Message.ID, batch[1].a.Message.ID, c)
	assert.Equal(t, batch[0].a.Message.ID, batch[3].a.Message.ID, c)
	require.NotNil(t, batch[1].a.Message.Inbound, c)
	assert.Equal(t, m.Text, batch[1].a.Message.Inbound.Text, c)

	require.NoError(t, batch[2].err)
	assert.True(t, batch[2].a.Duplicate, "a key recorded before is a duplicate")
	assert.Equal(t, first.Message.ID, batch[2].a.Message.ID)
	assert.Equal(t, first.Conversation.ID, batch[2].a.Conversation.ID, "a duplicate returns the conversation of the earlier record")
}

func TestBatchHonoursContext(t *testing.T) {
	s, dsn, _ := batchStore(t)
	ctx := t.Context()
	m := channel.Message{ID: "wamid.1", From: batchAddr("51900000001"), Type: channel.TypeText, Text: "hola"}
	a, err := s.AppendInbound(ctx, m)
	require.NoError(t, err)

	// Another transaction holds the conversation's row, so that the
	// append's batch waits for it.
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	n, _ := parseID('c', string(a.Conversation.ID))
	_, err = tx.Exec(ctx, s.sql(`SELECT 1 FROM wagent.conversations WHERE id = $1 FOR UPDATE`), n)
	require.NoError(t, err)
	// Should the append not stop with its ctx, the lock is released in
	// the end, and the append succeeds, which fails the test.
	release := time.AfterFunc(time.Minute, func() { tx.Rollback(context.Background()) })
	defer release.Stop()

	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.AppendInbound(wctx, channel.Message{ID: channel.MessageID(fmt.Sprintf("wamid.late.%d", i)), From: m.From, Type: channel.TypeText, Text: "hola"})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.ErrorIs(t, err, context.DeadlineExceeded, "AppendInbound returns when its ctx ends, while its batch waits for a lock")
	}
	require.True(t, release.Stop(), "the calls returned before the lock was released")
	require.NoError(t, tx.Rollback(ctx))

	for i := range errs {
		a, err := s.AppendInbound(ctx, channel.Message{ID: channel.MessageID(fmt.Sprintf("wamid.late.%d", i)), From: m.From, Type: channel.TypeText, Text: "hola"})
		require.NoError(t, err, "the store works on after a batch gave up")
		assert.False(t, a.Duplicate, "a batch whose calls all gave up records nothing")
	}
	h, err := s.History(ctx, "tienda-sol", a.Conversation.ID, store.HistoryQuery{})
	require.NoError(t, err)
	assert.Len(t, h, 1+len(errs))
}

func TestBatchInstancesRecordRedeliveriesOnce(t *testing.T) {
	s, dsn, schema := batchStore(t)
	other, err := Open(t.Context(), dsn, &Options{Schema: schema})
	require.NoError(t, err)
	defer other.Close()
	ctx := t.Context()

	// Each message reaches both instances three times at once, in
	// batches of many conversations.
	const keys, copies = 48, 3
	type result struct {
		a   store.Appended
		err error
	}
	results := make([][]result, keys)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for k := range keys {
		results[k] = make([]result, 2*copies)
		for j := range 2 * copies {
			st := s
			if j%2 == 1 {
				st = other
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				m := channel.Message{ID: channel.MessageID(fmt.Sprintf("wamid.%d", k)), From: batchAddr(fmt.Sprintf("5190000%04d", k%7)),
					Type: channel.TypeText, Text: "hola"}
				a, err := st.AppendInbound(ctx, m)
				results[k][j] = result{a, err}
			}()
		}
	}
	close(start)
	wg.Wait()

	const c = "instances receiving the same redelivery at once record it once: exactly one call is not a duplicate"
	for k := range keys {
		fresh := 0
		for _, r := range results[k] {
			require.NoError(t, r.err, c)
			if !r.a.Duplicate {
				fresh++
			}
			assert.Equal(t, results[k][0].a.Message.ID, r.a.Message.ID, c)
		}
		assert.Equal(t, 1, fresh, c)
	}
	p, err := s.Pending(ctx, store.PendingQuery{})
	require.NoError(t, err)
	assert.Len(t, p, keys, c)
}
