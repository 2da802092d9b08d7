package privacy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

const shop channel.TenantID = "1098765432"

func evidence(id, text string) privacy.Evidence {
	return privacy.Evidence{Channel: channel.WhatsApp, MessageID: channel.MessageID(id), Text: channel.Text(text)}
}

func TestLedgerDerivesStateFromHistory(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	l, err := privacy.NewLedger(privacy.NewMemoryStorage(), &privacy.LedgerOptions{Now: clk.Now})
	require.NoError(t, err)

	st, err := l.State(ctx, shop, "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentState{Purpose: privacy.PurposeMarketing, Status: privacy.ConsentUnknown}, st)

	grant := privacy.ConsentRecord{Tenant: shop, Subject: "s1", Purpose: privacy.PurposeMarketing, Granted: true,
		Basis: privacy.BasisConsent, Method: "widget", PolicyVersion: "2026-06-18"}
	require.NoError(t, l.Record(ctx, grant))
	clk.Add(time.Hour)
	require.NoError(t, l.Record(ctx, privacy.ConsentRecord{Tenant: shop, Subject: "s2", Purpose: privacy.PurposeMarketing, Granted: true}))
	require.NoError(t, l.Record(ctx, privacy.ConsentRecord{Tenant: shop, Subject: "s1", Purpose: privacy.PurposeAssistant, Method: "request"}))

	st, err = l.State(ctx, shop, "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentGranted, st.Status)
	assert.Equal(t, "2026-06-18", st.PolicyVersion)
	assert.Equal(t, newClock().Now(), st.Since)

	clk.Add(time.Hour)
	withdraw := privacy.ConsentRecord{Tenant: shop, Subject: "s1", Purpose: privacy.PurposeMarketing, Method: "chat_keyword",
		Evidence: evidence("wamid.9", "STOP")}
	require.NoError(t, l.Record(ctx, withdraw))
	st, err = l.State(ctx, shop, "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentWithdrawn, st.Status)
	assert.Equal(t, clk.Now(), st.Since)

	st, err = l.State(ctx, "other-shop", "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentUnknown, st.Status, "another tenant's records do not count")

	hist, err := l.History(ctx, shop, "s1")
	require.NoError(t, err)
	require.Len(t, hist, 3)
	assert.True(t, hist[0].Granted)
	assert.Equal(t, privacy.PurposeAssistant, hist[1].Purpose)
	assert.Equal(t, channel.Text("STOP"), hist[2].Evidence.Text)
	require.NoError(t, l.Verify(ctx))
}

func TestLedgerRejectsIncompleteRecords(t *testing.T) {
	l := privacy.NewMemoryLedger()
	for name, r := range map[string]privacy.ConsentRecord{
		"no tenant":  {Subject: "s1", Purpose: privacy.PurposeMarketing},
		"no subject": {Tenant: shop, Purpose: privacy.PurposeMarketing},
		"no purpose": {Tenant: shop, Subject: "s1"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, l.Record(t.Context(), r), store.ErrInvalid)
		})
	}
	_, err := privacy.NewLedger(nil, nil)
	assert.ErrorIs(t, err, store.ErrInvalid)
}

func TestStopInThreeLanguagesWithdrawsMarketing(t *testing.T) {
	kw, err := privacy.NewKeywords(nil)
	require.NoError(t, err)
	tests := []struct {
		text, lang, reply string
	}{
		{"STOP", "en", "Done, you will not receive promotional messages anymore."},
		{"baja", "es", "Listo, no te enviaremos más mensajes promocionales."},
		{"Cancelar.", "es", "Listo, no te enviaremos más mensajes promocionales."},
		{"SAIR", "pt", "Pronto, você não receberá mais mensagens promocionais."},
		{"Unsubscribe please", "en", "Done, you will not receive promotional messages anymore."},
		{"no quiero recibir más mensajes", "es", "Listo, no te enviaremos más mensajes promocionales."},
	}
	for i, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			ctx := t.Context()
			l := privacy.NewMemoryLedger()
			subject := store.SubjectID("s" + string(rune('a'+i)))
			start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
			require.NoError(t, l.Record(ctx, privacy.ConsentRecord{Tenant: shop, Subject: subject, Purpose: privacy.PurposeMarketing,
				Granted: true, Basis: privacy.BasisConsent, Method: "widget", Time: start}))

			k, ok := kw.Match(tt.text)
			require.True(t, ok, "%q is an opt-out", tt.text)
			assert.True(t, privacy.OptOut(tt.text))
			assert.Equal(t, tt.lang, k.Lang)
			assert.Contains(t, k.Reply, tt.reply)
			ev := evidence("wamid."+tt.text, tt.text)
			require.NoError(t, l.Record(ctx, k.Record(shop, subject, ev, start.Add(time.Minute))))

			st, err := l.State(ctx, shop, subject, privacy.PurposeMarketing)
			require.NoError(t, err)
			assert.Equal(t, privacy.ConsentWithdrawn, st.Status)
			hist, err := l.History(ctx, shop, subject)
			require.NoError(t, err)
			require.Len(t, hist, 2)
			assert.Equal(t, "chat_keyword", hist[1].Method)
			assert.Equal(t, ev, hist[1].Evidence, "the message that withdrew consent is the evidence")
			st, err = l.State(ctx, shop, subject, privacy.PurposeAssistant)
			require.NoError(t, err)
			assert.Equal(t, privacy.ConsentUnknown, st.Status, "an opt-out of marketing does not stop the assistant")
		})
	}
}

// tamperedLedger returns a ledger with three records of one subject and
// one of another in shop, over storage the test can edit.
func tamperedLedger(t *testing.T, key []byte) (*privacy.Ledger, *chainStorage) {
	t.Helper()
	s := newChainStorage()
	l, err := privacy.NewLedger(s, &privacy.LedgerOptions{Key: key})
	require.NoError(t, err)
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, r := range []privacy.ConsentRecord{
		{Subject: "s1", Purpose: privacy.PurposeMarketing, Granted: true, Method: "widget", Evidence: evidence("w1", "ALTA")},
		{Subject: "s1", Purpose: privacy.PurposeMarketing, Method: "chat_keyword", Evidence: evidence("w2", "STOP")},
		{Subject: "s2", Purpose: privacy.PurposeMarketing, Granted: true, Method: "widget"},
		{Subject: "s1", Purpose: privacy.PurposeAssistant, Method: "request", Evidence: evidence("w3", "no usen IA")},
	} {
		r.Tenant, r.Time = shop, base.Add(time.Duration(i)*time.Minute)
		require.NoError(t, l.Record(t.Context(), r))
	}
	require.NoError(t, l.Verify(t.Context()))
	return l, s
}

func TestLedgerVerifyFindsTampering(t *testing.T) {
	key := []byte("kept-apart-from-the-database")
	tests := []struct {
		name   string
		tamper func(es []privacy.LedgerEntry) []privacy.LedgerEntry
		seq    uint64
		reason string
	}{
		{"evidence text edited", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[1].Record.Evidence.Text = "ALTA"
			return es
		}, 2, "evidence does not match"},
		{"granted flag flipped", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[1].Record.Granted = true
			return es
		}, 2, "record does not match"},
		{"purpose changed", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[3].Record.Purpose = privacy.PurposeMarketing
			return es
		}, 4, "record does not match"},
		{"time moved", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[0].Record.Time = es[0].Record.Time.Add(-time.Hour)
			return es
		}, 1, "record does not match"},
		{"moved to another subject", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[2].Record.Subject = "s1"
			return es
		}, 3, "record does not match"},
		{"entry deleted", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			return append(es[:1:1], es[2:]...)
		}, 2, "entry missing"},
		{"entries reordered", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[1], es[2] = es[2], es[1]
			return es
		}, 2, "out of order"},
		{"entries reordered and renumbered", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[1], es[2] = es[2], es[1]
			es[1].Seq, es[2].Seq = 2, 3
			return es
		}, 2, "previous hash"},
		{"last entry deleted", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			return es[:3]
		}, 4, "missing at the end"},
		{"forged entry appended with a wrong previous hash", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			forged := es[3].Clone()
			forged.Seq, forged.Record.Granted = 5, true
			return append(es, forged)
		}, 5, ""},
		{"forged entry appended by someone without the key", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			return append(es, forge(es[3], privacy.ConsentRecord{Tenant: shop, Subject: "s1", Purpose: privacy.PurposeMarketing, Granted: true}))
		}, 5, "does not match"},
		{"evidence stripped of its salt but kept", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[1].EvidenceSalt = nil
			return es
		}, 2, "evidence present without its salt"},
		{"record salt removed to hide an edit", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[1].RecordSalt, es[1].Record.Granted = nil, true
			return es
		}, 2, "record present without its salt"},
		{"hash rewritten", func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
			es[2].Hash[0] ^= 1
			return es
		}, 3, "content does not match its hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, s := tamperedLedger(t, key)
			s.tamper(shop, tt.tamper)
			err := l.Verify(t.Context())
			require.ErrorIs(t, err, privacy.ErrTampered)
			var te *privacy.TamperError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.seq, te.Seq, te.Reason)
			assert.Equal(t, shop, te.Tenant)
			assert.Equal(t, "consent", te.Chain)
			assert.Contains(t, te.Reason, tt.reason)
			assert.NotContains(t, err.Error(), "STOP", "errors hold no message text")
		})
	}
}

// forge computes an entry after last the way the ledger does, without its
// key: what someone with write access to the storage could append.
func forge(last privacy.LedgerEntry, r privacy.ConsentRecord) privacy.LedgerEntry {
	s := newChainStorage()
	s.entries[shop] = []privacy.LedgerEntry{last}
	l, _ := privacy.NewLedger(s, nil)
	_ = l.Record(context.Background(), r)
	return s.entries[shop][1]
}

func TestLedgerWithoutKeyAcceptsAWellForgedEntryButAnAnchorCatchesACut(t *testing.T) {
	l, s := tamperedLedger(t, nil)
	s.tamper(shop, func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
		return append(es, forge(es[3], privacy.ConsentRecord{Tenant: shop, Subject: "s1", Purpose: privacy.PurposeMarketing, Granted: true}))
	})
	require.NoError(t, l.Verify(t.Context()), "without a key, a forger who knows the algorithm is not detected: that is what Key is for")

	head := privacy.Checkpoint{Tenant: shop, Seq: 4}
	entries, err := s.ConsentEntries(t.Context(), shop, 3, 1)
	require.NoError(t, err)
	head.Hash = entries[0].Hash
	fresh, err := privacy.NewLedger(s, &privacy.LedgerOptions{Anchors: []privacy.Checkpoint{head}})
	require.NoError(t, err)
	require.NoError(t, fresh.Verify(t.Context()))
	s.tamper(shop, func(es []privacy.LedgerEntry) []privacy.LedgerEntry { return es[:2] })
	var te *privacy.TamperError
	require.ErrorAs(t, fresh.Verify(t.Context()), &te)
	assert.Equal(t, uint64(3), te.Seq, "a new ledger anchored to an earlier head finds the cut")
}

func TestLedgerErasureKeepsTheChainVerifiable(t *testing.T) {
	ctx := t.Context()
	l, s := tamperedLedger(t, nil)

	n, err := l.Erase(ctx, shop, "s1", privacy.KeepProof)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	require.NoError(t, l.Verify(ctx))
	hist, err := l.History(ctx, shop, "s1")
	require.NoError(t, err)
	require.Len(t, hist, 3, "the decisions are kept as proof")
	for _, r := range hist {
		assert.Zero(t, r.Evidence, "the message that expressed them is gone")
	}
	st, err := l.State(ctx, shop, "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentWithdrawn, st.Status)
	n, err = l.Erase(ctx, shop, "s1", privacy.KeepProof)
	require.NoError(t, err)
	assert.Zero(t, n, "erasing again changes nothing")

	n, err = l.Erase(ctx, shop, "s1", privacy.EraseRecords)
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	require.NoError(t, l.Verify(ctx), "tombstones keep the chain whole")
	hist, err = l.History(ctx, shop, "s1")
	require.NoError(t, err)
	assert.Empty(t, hist)
	st, err = l.State(ctx, shop, "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentUnknown, st.Status)
	hist, err = l.History(ctx, shop, "s2")
	require.NoError(t, err)
	assert.Len(t, hist, 1, "other subjects keep theirs")

	s.tamper(shop, func(es []privacy.LedgerEntry) []privacy.LedgerEntry {
		es[0].Record.Subject = "s9" // a tombstone brought back with content
		return es
	})
	assert.ErrorIs(t, l.Verify(ctx), privacy.ErrTampered)
	_, err = l.Erase(ctx, "", "s1", privacy.KeepProof)
	assert.ErrorIs(t, err, store.ErrInvalid)
}

func TestLedgerConcurrentRecordsFromTwoProcesses(t *testing.T) {
	ctx := t.Context()
	shared := privacy.NewMemoryStorage()
	a, err := privacy.NewLedger(shared, nil)
	require.NoError(t, err)
	b, err := privacy.NewLedger(shared, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range 40 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := l.Record(ctx, privacy.ConsentRecord{Tenant: shop, Subject: "s1", Purpose: privacy.PurposeMarketing, Granted: i%3 == 0})
			if err != nil && !errors.Is(err, privacy.ErrConflict) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Empty(t, errs)
	require.NoError(t, a.Verify(ctx))
	require.NoError(t, b.Verify(ctx))
	head, err := a.Head(ctx, shop)
	require.NoError(t, err)
	assert.LessOrEqual(t, head.Seq, uint64(40))
	assert.GreaterOrEqual(t, head.Seq, uint64(20), "every append of one process succeeds; the other's retry")
}

func TestHashText(t *testing.T) {
	var h privacy.Hash
	h[0], h[31] = 0xab, 0x01
	b, err := h.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "ab"+strings.Repeat("0", 60)+"01", string(b))
	var back privacy.Hash
	require.NoError(t, back.UnmarshalText(b))
	assert.Equal(t, h, back)
	assert.Error(t, back.UnmarshalText([]byte("abc")))
	assert.True(t, privacy.Hash{}.IsZero())
}
