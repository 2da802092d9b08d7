package agent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/postgres"
	"github.com/wagent/wagent/store/sqlite"
)

// The fault tests (faults_*_test.go) break things on purpose: an agent
// killed mid-stream, the Graph API failing, the model down, two instances
// on one database. Each checks the same three promises: every acknowledged
// message gets exactly one reply, nothing is answered twice, each
// contact's replies come in the order of its messages.

// durable is a store that outlives the agents using it: open returns a new
// handle (a new connection pool) on the same data each time, as a
// restarted process or another instance gets.
type durable struct {
	name string
	open func(t *testing.T) store.ConversationStore
}

// durables returns SQLite and, when WAGENT_POSTGRES_DSN is set, PostgreSQL
// (each test on a schema of its own).
func durables(t *testing.T) []durable {
	ds := []durable{{name: "sqlite", open: sqliteOn(filepath.Join(t.TempDir(), "wagent.db"))}}
	if dsn := os.Getenv("WAGENT_POSTGRES_DSN"); dsn != "" {
		ds = append(ds, durable{name: "postgres", open: postgresOn(t, dsn)})
	}
	return ds
}

func sqliteOn(path string) func(t *testing.T) store.ConversationStore {
	return func(t *testing.T) store.ConversationStore {
		t.Helper()
		st, err := sqlite.Open(context.Background(), path, nil)
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	}
}

// postgresOn returns an opener of stores on a fresh schema of the server at
// dsn, dropped when the test ends.
func postgresOn(t *testing.T, dsn string) func(t *testing.T) store.ConversationStore {
	b := make([]byte, 6)
	rand.Read(b)
	schema := "wagent_faults_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if !assert.NoError(t, err) {
			return
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		assert.NoError(t, err)
	})
	return func(t *testing.T) store.ConversationStore {
		t.Helper()
		st, err := postgres.Open(context.Background(), dsn, &postgres.Options{Schema: schema})
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
		return st
	}
}

// needPostgres returns the test server's DSN, or skips the test.
func needPostgres(t *testing.T) string {
	dsn := os.Getenv("WAGENT_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set WAGENT_POSTGRES_DSN to run against a PostgreSQL server")
	}
	return dsn
}

// running is an agent started in the background, stopped at the end of
// the test unless killed or shut down before.
type running struct {
	agent  *agent.Agent
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func runAgent(t *testing.T, cfg agent.Config) *running {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a, err := agent.New(cfg)
	require.NoError(t, err)
	return startAgent(t, a)
}

func startAgent(t *testing.T, a *agent.Agent) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{agent: a, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.shutdown(t) })
	return r
}

// kill stops the agent as a crash would: its Run context is cancelled,
// with no Shutdown, so turns in progress are abandoned where they stand.
func (r *running) kill(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		assert.ErrorIs(t, <-r.done, context.Canceled)
	})
}

func (r *running) shutdown(t *testing.T) {
	r.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, r.agent.Shutdown(ctx))
		r.cancel()
		assert.NoError(t, <-r.done)
	})
}

// contact is the user number of contact c.
func contact(c int) string { return fmt.Sprintf("5198%07d", c) }

// msg is message i of contact c: "c<c> m<i>", with a provider id unique to
// the test run id.
func msg(run string, c, i int) channel.Message {
	m := text(fmt.Sprintf("wamid.%s.%d.%d", run, c, i), contact(c), fmt.Sprintf("c%d m%d", c, i))
	m.Time = time.Now()
	return m
}

// wantReplies is what each of contacts contacts should have received:
// prefix and the text of each of its perContact messages, once, in order.
func wantReplies(prefix string, contacts, perContact int) map[channel.UserID][]string {
	want := make(map[channel.UserID][]string, contacts)
	for c := range contacts {
		for i := range perContact {
			want[channel.UserID(contact(c))] = append(want[channel.UserID(contact(c))], fmt.Sprintf("%sc%d m%d", prefix, c, i))
		}
	}
	return want
}

// repliesByContact groups the texts sent, in the order they were sent.
func repliesByContact(sent []channel.Outbound) map[channel.UserID][]string {
	got := map[channel.UserID][]string{}
	for _, o := range sent {
		got[o.To.User] = append(got[o.To.User], string(o.Text))
	}
	return got
}

// joined turns what wantReplies or repliesByContact give into one string
// per contact, each reply stripped of prefix: coalesced turns answer
// several messages in one reply, and the echo model joins their texts, so
// the joined replies equal the joined messages exactly when every message
// was answered once, in order.
func joined(byContact map[channel.UserID][]string, prefix string) map[channel.UserID]string {
	out := make(map[channel.UserID]string, len(byContact))
	for u, replies := range byContact {
		var b strings.Builder
		for _, r := range replies {
			b.WriteString(strings.TrimPrefix(r, prefix))
		}
		out[u] = b.String()
	}
	return out
}

// waitIdle waits until st has nothing left to process.
func waitIdle(t *testing.T, st store.ConversationStore) {
	t.Helper()
	require.Eventually(t, func() bool {
		p, err := st.Pending(t.Context(), store.PendingQuery{Limit: 1})
		return err == nil && len(p) == 0
	}, 30*time.Second, 5*time.Millisecond, "messages still pending")
}

// statusesOf returns the "sent" statuses the Cloud API posts for what rec
// accepted, with the correlation each was sent with.
func statusesOf(rec *channeltest.Recorder) []channel.Status {
	var out []channel.Status
	for i, o := range rec.Sent() {
		out = append(out, channel.Status{MessageID: channel.MessageID(fmt.Sprintf("out-%d", i+1)), Recipient: o.To, State: channel.Sent, Time: time.Now(), Correlation: o.Correlation})
	}
	return out
}

// noLeaks fails the test if more goroutines run than before once the
// test's own have had time to end. Goroutines end asynchronously after
// Shutdown returns (the runtime's own bookkeeping, connections closing), so
// it waits, a bounded number of times, before failing with their stacks.
func noLeaks(t *testing.T, before int) {
	t.Helper()
	for range 500 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	var stacks bytes.Buffer
	pprof.Lookup("goroutine").WriteTo(&stacks, 1)
	t.Fatalf("%d goroutines running, %d before:\n%s", runtime.NumGoroutine(), before, stacks.String())
}
