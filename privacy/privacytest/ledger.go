package privacytest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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

// RunLedger checks the storage that newStorage returns against every
// clause of the [privacy.LedgerStorage] contract, each in its own subtest
// on a fresh storage, and runs a [privacy.Ledger] over it: recording,
// erasing, verifying, and two ledgers sharing it.
func RunLedger(t *testing.T, newStorage func(t *testing.T) privacy.LedgerStorage) {
	t.Helper()
	groups := chainClauses(ledgerOps)
	groups = append(groups,
		group[privacy.LedgerStorage]{"SubjectConsent", []clause[privacy.LedgerStorage]{
			{"returns the entries of the tenant's chain whose Record.Subject is subject, in Seq order", testSubjectConsent},
		}},
		group[privacy.LedgerStorage]{"ReplaceConsent", []clause[privacy.LedgerStorage]{
			{"replaces the entry with the Seq by the one given, erased parts included", testReplaceConsent},
			{"returns ErrNotFound for an entry that does not exist and stores nothing", testReplaceConsentNotFound},
		}},
		group[privacy.LedgerStorage]{"Ledger", []clause[privacy.LedgerStorage]{
			{"a Ledger over the storage derives state and verifies what it recorded", testLedgerRecords},
			{"a Ledger over the storage erases evidence and records and the chain still verifies", testLedgerErases},
			{"a Ledger over the storage detects an entry edited in the storage", testLedgerTamper},
			{"two Ledgers sharing the storage, as two processes do, keep one gapless chain", testLedgerShared},
		}},
	)
	runGroups(t, newStorage, groups)
}

var ledgerOps = chainOps[privacy.LedgerStorage, privacy.LedgerEntry]{
	appendName: "AppendConsent", lastName: "LastConsent", entriesName: "ConsentEntries", tenantsName: "ConsentTenants",
	entry: consentEntry,
	ident: func(e privacy.LedgerEntry) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(e.Record.PolicyVersion, "v"))
		return n
	},
	seq:  func(e privacy.LedgerEntry) uint64 { return e.Seq },
	prev: func(e privacy.LedgerEntry) privacy.Hash { return e.Prev },
	hash: func(e privacy.LedgerEntry) privacy.Hash { return e.Hash },
	append: func(ctx context.Context, s privacy.LedgerStorage, e privacy.LedgerEntry) error {
		return s.AppendConsent(ctx, e)
	},
	last: func(ctx context.Context, s privacy.LedgerStorage, tenant channel.TenantID) (privacy.LedgerEntry, error) {
		return s.LastConsent(ctx, tenant)
	},
	entries: func(ctx context.Context, s privacy.LedgerStorage, tenant channel.TenantID, after uint64, limit int) ([]privacy.LedgerEntry, error) {
		return s.ConsentEntries(ctx, tenant, after, limit)
	},
	tenants: func(ctx context.Context, s privacy.LedgerStorage) ([]channel.TenantID, error) {
		return s.ConsentTenants(ctx)
	},
	normalize: normConsent,
	mutate: func(e *privacy.LedgerEntry) {
		e.RecordSalt[0] ^= 0xff
		e.EvidenceSalt[0] ^= 0xff
	},
}

// consentEntry returns a made-up entry: subject s1, s2 or s3 by n, a grant
// or a withdrawal of marketing or the assistant, with evidence, and the
// policy version "v" followed by n.
func consentEntry(tenant channel.TenantID, seq uint64, prev privacy.Hash, n int) privacy.LedgerEntry {
	r := privacy.ConsentRecord{
		Tenant:  tenant,
		Subject: store.SubjectID("s" + strconv.Itoa(n%3+1)),
		Purpose: privacy.PurposeMarketing,
		Granted: n%2 == 0,
		Basis:   privacy.BasisConsent,
		Method:  "chat_keyword",
		Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: channel.MessageID(fmt.Sprintf("wamid.HBgL%06d", n)),
			Text: channel.Text(fmt.Sprintf("BAJA por favor %d", n))},
		PolicyVersion: "v" + strconv.Itoa(n),
		Time:          at(n),
	}
	if n%4 == 1 {
		r.Purpose, r.Basis = privacy.PurposeAssistant, privacy.BasisLegitimateInterest
	}
	u := uint64(n)
	return privacy.LedgerEntry{
		Tenant: tenant, Seq: seq, Record: r,
		RecordSalt: salt("record", u), RecordDigest: digest("record."+string(tenant), u),
		EvidenceSalt: salt("evidence", u), EvidenceDigest: digest("evidence."+string(tenant), u),
		Prev: prev, Hash: digest("consent."+string(tenant), seq, u),
	}
}

func normConsent(e privacy.LedgerEntry) privacy.LedgerEntry {
	e.Record.Time = utc(e.Record.Time)
	return e
}

func testSubjectConsent(t *testing.T, newStorage func(*testing.T) privacy.LedgerStorage) {
	s := newStorage(t)
	a := build(t, s, ledgerOps, tenantA, 7, 0) // subjects s1 s2 s3 s1 s2 s3 s1
	build(t, s, ledgerOps, tenantB, 3, 0)      // s1 s2 s3 of another tenant
	got, err := s.SubjectConsent(t.Context(), tenantA, "s1")
	require.NoError(t, err)
	want := ledgerOps.norm([]privacy.LedgerEntry{a[0], a[3], a[6]})
	assert.Equal(t, want, ledgerOps.norm(got), "SubjectConsent returns the entries of the tenant's chain whose Record.Subject is subject, in Seq order, and no other tenant's")
	got, err = s.SubjectConsent(t.Context(), tenantA, "s9")
	require.NoError(t, err)
	assert.Empty(t, got, "SubjectConsent returns no entries for a subject without records")
	got, err = s.SubjectConsent(t.Context(), "tenant-sin-registros", "s1")
	require.NoError(t, err)
	assert.Empty(t, got, "SubjectConsent returns no entries of another tenant's subject with the same id")
}

func testReplaceConsent(t *testing.T, newStorage func(*testing.T) privacy.LedgerStorage) {
	s := newStorage(t)
	es := build(t, s, ledgerOps, tenantA, 3, 0) // s1 s2 s3
	others := build(t, s, ledgerOps, tenantB, 3, 0)

	// The evidence erased, as KeepProof does.
	kept := es[1].Clone()
	kept.Record.Evidence, kept.EvidenceSalt = privacy.Evidence{}, nil
	require.NoError(t, s.ReplaceConsent(t.Context(), kept), "ReplaceConsent replaces an entry that exists")
	got, err := s.ConsentEntries(t.Context(), tenantA, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, ledgerOps.norm([]privacy.LedgerEntry{es[0], kept, es[2]}), ledgerOps.norm(got),
		"ReplaceConsent replaces entry e.Seq by e (a nil salt stays nil) and leaves the others as they were")

	// The whole record erased, as EraseRecords does: the subject's entry
	// leaves SubjectConsent.
	erased := es[2].Clone()
	erased.Record, erased.RecordSalt, erased.EvidenceSalt = privacy.ConsentRecord{}, nil, nil
	require.NoError(t, s.ReplaceConsent(t.Context(), erased))
	got, err = s.ConsentEntries(t.Context(), tenantA, 2, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, erased, normConsent(got[0]), "ReplaceConsent keeps an erased record as given: a zero record with a zero time and nil salts, the digests and hashes unchanged")
	subj, err := s.SubjectConsent(t.Context(), tenantA, "s3")
	require.NoError(t, err)
	assert.Empty(t, subj, "SubjectConsent selects by Record.Subject, which an erased record no longer has")
	last, err := s.LastConsent(t.Context(), tenantA)
	require.NoError(t, err)
	assert.Equal(t, erased, normConsent(last), "LastConsent returns the replaced entry")
	other, err := s.ConsentEntries(t.Context(), tenantB, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, ledgerOps.norm(others), ledgerOps.norm(other),
		"ReplaceConsent changes only the entry of e.Tenant's chain")
}

func testReplaceConsentNotFound(t *testing.T, newStorage func(*testing.T) privacy.LedgerStorage) {
	s := newStorage(t)
	es := build(t, s, ledgerOps, tenantA, 2, 0)
	for _, c := range []struct {
		tenant channel.TenantID
		seq    uint64
	}{{tenantA, 0}, {tenantA, 3}, {tenantB, 1}} {
		e := consentEntry(c.tenant, c.seq, privacy.Hash{}, 40)
		assert.ErrorIs(t, s.ReplaceConsent(t.Context(), e), store.ErrNotFound,
			"ReplaceConsent returns ErrNotFound when there is no such entry (tenant %s, Seq %d)", c.tenant, c.seq)
	}
	got, err := s.ConsentEntries(t.Context(), tenantA, 0, 10)
	require.NoError(t, err)
	assert.Equal(t, ledgerOps.norm(es), ledgerOps.norm(got), "ReplaceConsent of an entry that does not exist stores nothing")
	last, err := s.LastConsent(t.Context(), tenantB)
	require.NoError(t, err)
	assert.Zero(t, last.Seq, "ReplaceConsent of an entry that does not exist does not start a chain")
}

// ledgerKey is the HMAC key of the suite's ledgers and audit logs.
var ledgerKey = []byte("privacytest key, not a secret")

func newLedger(t *testing.T, s privacy.LedgerStorage) *privacy.Ledger {
	t.Helper()
	l, err := privacy.NewLedger(s, &privacy.LedgerOptions{Key: ledgerKey, Now: func() time.Time { return at(0) }})
	require.NoError(t, err)
	return l
}

// consentRecord returns a record of subject's consent to marketing, with
// evidence.
func consentRecord(tenant channel.TenantID, subject store.SubjectID, granted bool, n int) privacy.ConsentRecord {
	word := "SI"
	if !granted {
		word = "STOP"
	}
	return privacy.ConsentRecord{Tenant: tenant, Subject: subject, Purpose: privacy.PurposeMarketing, Granted: granted,
		Basis: privacy.BasisConsent, Method: "chat_keyword", PolicyVersion: "2026-01",
		Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: channel.MessageID(fmt.Sprintf("wamid.ev%d", n)), Text: channel.Text(word)},
		Time:     at(n)}
}

func testLedgerRecords(t *testing.T, newStorage func(*testing.T) privacy.LedgerStorage) {
	s := newStorage(t)
	l := newLedger(t, s)
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, consentRecord(tenantA, "s1", true, 1)))
	require.NoError(t, l.Record(ctx, consentRecord(tenantA, "s2", true, 2)))
	require.NoError(t, l.Record(ctx, consentRecord(tenantA, "s1", false, 3)))
	require.NoError(t, l.Record(ctx, consentRecord(tenantB, "s1", true, 4)))

	st, err := l.State(ctx, tenantA, "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentWithdrawn, st.Status, "the latest record decides, as the storage returns the subject's entries in Seq order")
	assert.True(t, st.Since.Equal(at(3)), "the state's time is the deciding record's, kept to the microsecond")
	st, err = l.State(ctx, tenantB, "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentGranted, st.Status, "one tenant's records never decide another's")
	hist, err := l.History(ctx, tenantA, "s1")
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, channel.Text("STOP"), hist[1].Evidence.Text, "the storage keeps the evidence of a record")
	require.NoError(t, l.Verify(ctx), "a Ledger verifies the chains it recorded in the storage: every field comes back as it was hashed")

	// A new ledger over the same storage, as after a restart.
	require.NoError(t, newLedger(t, s).Verify(ctx), "a new Ledger over the storage verifies the chains recorded before")
}

func testLedgerErases(t *testing.T, newStorage func(*testing.T) privacy.LedgerStorage) {
	s := newStorage(t)
	l := newLedger(t, s)
	ctx := t.Context()
	for i, r := range []privacy.ConsentRecord{
		consentRecord(tenantA, "s1", true, 1), consentRecord(tenantA, "s2", true, 2),
		consentRecord(tenantA, "s1", false, 3), consentRecord(tenantB, "s1", true, 4),
	} {
		require.NoError(t, l.Record(ctx, r), "record %d", i)
	}
	n, err := l.Erase(ctx, tenantA, "s1", privacy.KeepProof)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "KeepProof changes each of the subject's records once")
	hist, err := l.History(ctx, tenantA, "s1")
	require.NoError(t, err)
	require.Len(t, hist, 2, "KeepProof keeps the decisions")
	for _, r := range hist {
		assert.Zero(t, r.Evidence, "ReplaceConsent stores the entry without the evidence erased")
	}
	require.NoError(t, l.Verify(ctx), "the chain verifies after KeepProof: the storage kept the nil evidence salt")
	require.NoError(t, newLedger(t, s).Verify(ctx), "the chain verifies after KeepProof for a new Ledger too")

	n, err = l.Erase(ctx, tenantA, "s1", privacy.EraseRecords)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "EraseRecords changes each of the subject's records")
	hist, err = l.History(ctx, tenantA, "s1")
	require.NoError(t, err)
	assert.Empty(t, hist, "records erased whole are no longer the subject's")
	require.NoError(t, l.Verify(ctx), "the chain verifies after EraseRecords: the storage kept the zero record and nil salts")
	n, err = l.Erase(ctx, tenantA, "s1", privacy.EraseRecords)
	require.NoError(t, err)
	assert.Zero(t, n, "erasing again changes nothing")

	es, err := s.ConsentEntries(ctx, tenantA, 0, 10)
	require.NoError(t, err)
	require.Len(t, es, 3, "erasure keeps the entries in the chain")
	for _, e := range es {
		assert.NotContains(t, e.Record.Evidence.Text, "STOP", "no evidence of the erased subject remains in the storage")
		if e.Record.Subject != "s2" {
			assert.Zero(t, e.Record, "the erased subject's records are gone from the storage")
		}
	}
	other, err := l.History(ctx, tenantA, "s2")
	require.NoError(t, err)
	require.Len(t, other, 1)
	assert.Equal(t, channel.Text("SI"), other[0].Evidence.Text, "another subject's records are untouched")
	other, err = l.History(ctx, tenantB, "s1")
	require.NoError(t, err)
	require.Len(t, other, 1)
	assert.Equal(t, channel.Text("SI"), other[0].Evidence.Text, "the same subject id of another tenant is untouched")
}

func testLedgerTamper(t *testing.T, newStorage func(*testing.T) privacy.LedgerStorage) {
	s := newStorage(t)
	l := newLedger(t, s)
	ctx := t.Context()
	for i := range 3 {
		require.NoError(t, l.Record(ctx, consentRecord(tenantA, "s1", i%2 == 0, i+1)))
	}
	es, err := s.ConsentEntries(ctx, tenantA, 1, 1)
	require.NoError(t, err)
	require.Len(t, es, 1)
	edited := es[0]
	edited.Record.Granted = !edited.Record.Granted
	require.NoError(t, s.ReplaceConsent(ctx, edited))
	err = newLedger(t, s).Verify(ctx)
	require.ErrorIs(t, err, privacy.ErrTampered, "a Ledger over the storage detects a record edited in it")
	var te *privacy.TamperError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, uint64(2), te.Seq, "the tamper error names the edited entry")
}

func testLedgerShared(t *testing.T, newStorage func(*testing.T) privacy.LedgerStorage) {
	s := newStorage(t)
	ledgers := []*privacy.Ledger{newLedger(t, s), newLedger(t, s)}
	const each = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for i, l := range ledgers {
		for j := range each {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := consentRecord(tenantA, store.SubjectID(fmt.Sprintf("s%d", j%3)), j%2 == 0, i*100+j)
				// ErrConflict tells the caller to retry with fresh state;
				// the ledger retries a few times on its own first.
				for range 100 {
					err := l.Record(context.Background(), r)
					if !errors.Is(err, privacy.ErrConflict) {
						errs <- err
						return
					}
				}
				errs <- fmt.Errorf("record %d of ledger %d kept conflicting", j, i)
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "two Ledgers sharing the storage both record: the storage refuses only the appends that lost a race")
	}
	es, err := s.ConsentEntries(t.Context(), tenantA, 0, 100)
	require.NoError(t, err)
	assert.Len(t, es, 2*each, "every record of both Ledgers is in the one chain")
	for _, l := range ledgers {
		require.NoError(t, l.Verify(t.Context()), "the chain two Ledgers appended to verifies: no gap, no fork")
	}
}
