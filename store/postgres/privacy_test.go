package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/privacy/privacytest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/postgres"
)

func TestPrivacyStorage(t *testing.T) {
	dsn(t)
	privacytest.Run(t, func(t *testing.T) privacytest.Storage { return fresh(t) })
}

func TestPrivacyRestart(t *testing.T) {
	schema := freshSchema(t)
	privacytest.RunRestart(t, func(t *testing.T) (privacytest.Storage, func() error) {
		s, err := postgres.Open(context.Background(), dsn(t), &postgres.Options{Schema: schema})
		require.NoError(t, err)
		return s, s.Close
	})
}

// Two instances on one schema append to one chain: the primary key
// (tenant, seq) lets exactly one of two appends of a Seq succeed.
func TestPrivacyTwoInstances(t *testing.T) {
	schema := freshSchema(t)
	stores := []*postgres.Store{open(t, schema, nil), open(t, schema, nil)}

	// The same entry 1 from both instances at once, many times over.
	for round := range 20 {
		tn := channel.TenantID("tienda-" + string(rune('a'+round)))
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.AppendConsent(context.Background(), privacy.LedgerEntry{Tenant: tn, Seq: 1,
					Record: privacy.ConsentRecord{Tenant: tn, Subject: "s1", Purpose: privacy.PurposeMarketing, Method: "api"}})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
				continue
			}
			require.ErrorIs(t, err, privacy.ErrConflict)
		}
		require.Equal(t, 1, won, "exactly one of two instances appending entry 1 at once succeeds")
	}

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
		for j := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := privacy.ConsentRecord{Tenant: "tienda-sol", Subject: "s1", Purpose: privacy.PurposeMarketing, Granted: (i+j)%2 == 0, Method: "api"}
				var err error
				for range 100 {
					if err = l.Record(context.Background(), r); !errors.Is(err, privacy.ErrConflict) {
						break
					}
				}
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	es, err := stores[1].ConsentEntries(t.Context(), "tienda-sol", 0, 0)
	require.NoError(t, err)
	require.Len(t, es, len(stores)*each, "every record of both instances is in the chain, once")
	for i, e := range es {
		require.Equal(t, uint64(i+1), e.Seq, "the chain has no gaps")
	}
	for _, l := range ledgers {
		require.NoError(t, l.VerifyTenant(t.Context(), "tienda-sol"), "the chain both instances appended to verifies")
	}
}

// Erasing a subject's consent evidence removes its text from the table.
func TestPrivacyErasureLeavesNoEvidence(t *testing.T) {
	schema := freshSchema(t)
	s := open(t, schema, nil)
	l, err := privacy.NewLedger(s, nil)
	require.NoError(t, err)
	ctx := t.Context()
	const said, other = "BAJA-zq7-evidencia-de-ana", "SI-kp3-evidencia-de-luis"
	for _, r := range []privacy.ConsentRecord{
		{Tenant: "tienda-sol", Subject: "s1", Purpose: privacy.PurposeMarketing, Method: "chat_keyword",
			Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: "wamid.ana1", Text: said}},
		{Tenant: "tienda-sol", Subject: "s2", Purpose: privacy.PurposeMarketing, Granted: true, Method: "chat_keyword",
			Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: "wamid.luis1", Text: other}},
	} {
		require.NoError(t, l.Record(ctx, r))
	}
	conn := raw(t)
	count := func(s string) int {
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{schema, "privacy_consent"}.Sanitize()+
			` WHERE position($1::bytea IN record) > 0`, []byte(s)).Scan(&n))
		return n
	}
	require.Equal(t, 1, count(said), "the evidence is in the table before the erasure (the search finds it)")
	_, err = l.Erase(ctx, "tienda-sol", "s1", privacy.KeepProof)
	require.NoError(t, err)
	assert.Zero(t, count(said), "no row holds the erased evidence")
	assert.Zero(t, count("wamid.ana1"), "no row holds the erased message id")
	assert.Equal(t, 1, count(other), "another subject's evidence is kept")
	require.NoError(t, l.Verify(ctx))
}

func TestPrivacyStorageRefusesWhatItCannotKeep(t *testing.T) {
	s := fresh(t)
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
	s, err := postgres.Open(context.Background(), dsn(t), &postgres.Options{Schema: freshSchema(t)})
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
// append (a read and an insert) per operation.
func BenchmarkPrivacyLedgerRecord(b *testing.B) {
	s := fresh(b)
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
