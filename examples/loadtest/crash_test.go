package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/examples/internal/pgtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/postgres"
	"github.com/wagent/wagent/store/sqlite"
)

// quiesceLimit bounds the wait for the bot to finish every message after
// the crash. A reply recorded but not sent when the bot was killed is sent
// again only after agent.DefaultResendAfter (2 minutes) without a status,
// and retries wait agent.DefaultRetryDelay (30 s, doubling) and the
// recovery scan agent.DefaultRecoveryInterval (30 s): examples/whatsapp
// sets none of them.
const quiesceLimit = 8 * time.Minute

// crashStore is a store the bot runs on in the crash test: its STORE value
// and a store opened on the same data, for the test to look at.
type crashStore struct {
	spec string
	open func(ctx context.Context) (store.ConversationStore, func(), error)
}

func sqliteStore(t *testing.T) crashStore {
	path := filepath.Join(t.TempDir(), "bot.db")
	return crashStore{spec: "sqlite:" + path, open: func(ctx context.Context) (store.ConversationStore, func(), error) {
		st, err := sqlite.Open(ctx, path, nil)
		if err != nil {
			return nil, nil, err
		}
		return st, func() { st.Close() }, nil
	}}
}

// postgresStore creates a database of its own on the server of
// WAGENT_POSTGRES_DSN (the bot uses the store's default schema), dropped
// when the test ends.
func postgresStore(t *testing.T) crashStore {
	own := pgtest.FreshDatabase(t, "wagent_crash_")
	return crashStore{spec: "postgres:" + own, open: func(ctx context.Context) (store.ConversationStore, func(), error) {
		st, err := postgres.Open(ctx, own, &postgres.Options{MaxConns: 2})
		if err != nil {
			return nil, nil, err
		}
		return st, func() { st.Close() }, nil
	}}
}

// waitIdle waits until st has no message left to process, so that no
// reply can still be on its way (or sent again) when the books are closed.
func waitIdle(ctx context.Context, st store.ConversationStore) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pending, err := st.Pending(ctx, store.PendingQuery{Limit: 1})
		if err == nil && len(pending) == 0 {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("messages still pending: %w", ctx.Err())
		}
	}
}

// TestCrashRecovery runs examples/whatsapp as a child process on a durable
// store, kills it with SIGKILL in the middle of the load (messages
// recorded and not answered, turns in flight, replies sent without their
// outcome recorded, statuses not yet delivered), starts it again on the
// same store, and checks the books: every acknowledged message has exactly
// one reply, and each contact's replies are in the order of its messages.
//
// The load stays within the bot's defaults (30 messages a minute per
// contact, 80 Graph API requests a second), so that everything it
// acknowledged must be answered. The fake Graph API posts a "sent" status
// for every message it accepts, retried until the bot acknowledges it,
// which is how a reply sent just before the kill is found sent after the
// restart instead of being sent again.
func TestCrashRecovery(t *testing.T) {
	bin := buildBot(t)
	tests := []struct {
		name  string
		store func(t *testing.T) crashStore
	}{
		{"sqlite", sqliteStore},
		{"postgres", postgresStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := tt.store(t)
			logPath := filepath.Join(t.TempDir(), "bot.log")
			var stderr bytes.Buffer
			r := &runner{cfg: testConfig(t,
				"-bot", bin, "-store", cs.spec, "-env", "LOG_LEVEL=warn", "-bot-log", logPath,
				"-n", "480", "-contacts", "40", "-concurrency", "16", "-rate", "30", "-duplicates", "0.1",
				"-kill-after", "200", "-statuses", "sent", "-drain", quiesceLimit.String(), "-settle", "2s",
			), stderr: &stderr}
			r.quiesce = func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, quiesceLimit)
				defer cancel()
				st, closeStore, err := cs.open(ctx)
				if err != nil {
					return err
				}
				defer closeStore()
				return waitIdle(ctx, st)
			}
			s, err := r.run(t.Context())
			require.NoError(t, err)
			var report bytes.Buffer
			s.writeText(&report)
			logs, _ := os.ReadFile(logPath)
			t.Logf("%s", report.String())
			if !s.OK || s.Kills != 1 {
				t.Logf("loadtest:\n%s\nbots:\n%s", stderr.String(), logs)
			}
			assert.Equal(t, 1, s.Kills, "the bot was killed and restarted")
			assert.Equal(t, s.Messages, s.Acked, "every message was acknowledged (redelivered while the bot was down)")
			assert.Zero(t, s.Lost, "every acknowledged message was answered")
			assert.Zero(t, s.Doubled, "no message was answered twice")
			assert.Zero(t, s.OutOfOrder, "each contact's replies came in the order of its messages")
			assert.Zero(t, s.Misrouted)
			assert.Zero(t, s.Unmatched, "no other reply (a contact-limit notice) was sent")
			assert.NotContains(t, stderr.String(), "waiting for the bot to finish")
		})
	}
}
