package postgres_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/postgres"
)

// TestRetentionSeveralInstances runs two retention runners, each on a pool
// of its own, over one database at the same time: SKIP LOCKED gives them
// disjoint batches, so their receipts add up to exactly what was due, and
// what is held or not yet due is not touched.
func TestRetentionSeveralInstances(t *testing.T) {
	dsn(t)
	ctx := t.Context()
	const day = 24 * time.Hour
	now := time.Date(2026, time.June, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	schema := freshSchema(t)
	one := open(t, schema, &postgres.Options{Now: clock})
	two := open(t, schema, &postgres.Options{Now: clock})

	tenants := []channel.TenantID{"tienda-sol", "ferreteria-luna", "farmacia-rio"}
	const users, turns = 6, 5
	held := map[channel.TenantID]store.SubjectID{}
	var due, kept []store.Message
	for _, tenant := range tenants {
		for u := range users {
			from := channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(fmt.Sprintf("5190000%04d", u))}
			for n := range turns {
				// Turns 0-2 are 40 days old and due; 3-4 are recent.
				at := now.Add(-40*day + time.Duration(n)*time.Minute)
				if n >= 3 {
					at = now.Add(-time.Duration(n) * time.Hour)
				}
				a, err := one.AppendInbound(ctx, channel.Message{ID: channel.MessageID(fmt.Sprintf("wamid.%d.%d", u, n)), From: from,
					Type: channel.TypeText, Text: "¿Tienen la chompa de alpaca?", Time: at})
				require.NoError(t, err)
				require.NoError(t, one.SetProcessing(ctx, tenant, a.Message.ID, store.Processing{State: store.ProcessDone, Attempts: 1, UpdatedAt: at}))
				r, err := one.Append(ctx, store.Message{Tenant: tenant, Conversation: a.Conversation.ID, Turn: a.Message.ID, Role: store.Assistant,
					Time: at, Parts: []llm.Part{llm.TextPart("Sí, en talla M.")}})
				require.NoError(t, err)
				recs := []store.Message{a.Message, r}
				switch {
				case u == 0:
					held[tenant] = a.Conversation.Subject
					kept = append(kept, recs...)
				case n < 3:
					due = append(due, recs...)
				default:
					kept = append(kept, recs...)
				}
			}
		}
	}

	holds, err := privacy.NewHolds(one, &privacy.HoldsOptions{Now: clock})
	require.NoError(t, err)
	for tenant, subject := range held {
		_, err := holds.Place(ctx, privacy.Hold{Tenant: tenant, Subject: subject, Reason: "dispute", PlacedBy: "legal:maria"})
		require.NoError(t, err)
	}
	policy, err := privacy.NewPolicy(privacy.RetentionConfig{Defaults: map[privacy.DataClass]privacy.Rule{
		privacy.ClassContent: {Keep: 30 * day}}})
	require.NoError(t, err)
	runner := func(s *postgres.Store) *privacy.RetentionRunner {
		r, err := privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{Store: s, Policy: policy, Holds: holds,
			Tenants: privacy.StaticTenants(tenants...), BatchSize: 4, Pause: -1, Now: clock})
		require.NoError(t, err)
		return r
	}
	runners := []*privacy.RetentionRunner{runner(one), runner(two)}

	run := func() []privacy.RetentionReceipt {
		out := make([]privacy.RetentionReceipt, len(runners))
		errs := make([]error, len(runners))
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, r := range runners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				out[i], errs[i] = r.Run(ctx)
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		return out
	}

	receipts := run()
	total := 0
	for _, rc := range receipts {
		total += rc.Classes[privacy.ClassContent]
		t.Logf("an instance purged %d records", rc.Classes[privacy.ClassContent])
		assert.Zero(t, rc.Classes[privacy.ClassMedia]+rc.Classes[privacy.ClassMetadata], "only content is due")
	}
	assert.Equal(t, len(due), total, "the receipts of the two instances add up to exactly what was due")
	for _, m := range due {
		got, err := two.Message(ctx, m.Tenant, m.ID)
		require.NoError(t, err)
		assert.True(t, got.ContentRemoved, "a due record's content is removed")
		assert.Empty(t, got.Parts)
	}
	for _, m := range kept {
		got, err := two.Message(ctx, m.Tenant, m.ID)
		require.NoError(t, err)
		assert.False(t, got.ContentRemoved, "a held or recent record is not touched")
		assert.Equal(t, m.Parts, got.Parts)
	}

	for _, rc := range run() {
		assert.Zero(t, rc.Total(), "running again changes nothing")
	}
}
