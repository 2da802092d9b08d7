package privacytest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
)

// RunRestart checks that a durable storage keeps every record across a
// restart: it records consent through a [privacy.Ledger], events through
// a [privacy.Audit], a hold through [privacy.Holds] and a request, closes
// the storage, opens it again, and verifies both chains against the heads
// taken before closing and reads everything back. A memory storage does
// not pass it.
//
// open returns a storage over the same place (a file, a database schema)
// each time it is called, and the function that closes it; the suite
// calls open twice and closes what it opened.
func RunRestart(t *testing.T, open func(t *testing.T) (Storage, func() error)) {
	t.Helper()
	t.Run("keeps consent, audit, holds and requests across a restart", func(t *testing.T) { testRestart(t, open) })
}

func testRestart(t *testing.T, open func(t *testing.T) (Storage, func() error)) {
	ctx := t.Context()
	now := func() time.Time { return at(0) }
	s, closeStorage := open(t)
	l, err := privacy.NewLedger(s, &privacy.LedgerOptions{Key: ledgerKey, Now: now})
	require.NoError(t, err)
	a, err := privacy.NewAudit(s, &privacy.AuditOptions{Key: ledgerKey, Now: now})
	require.NoError(t, err)
	hs, err := privacy.NewHolds(s, &privacy.HoldsOptions{Now: now, Audit: a})
	require.NoError(t, err)

	require.NoError(t, l.Record(ctx, consentRecord(tenantA, "s1", true, 1)))
	require.NoError(t, l.Record(ctx, consentRecord(tenantA, "s2", true, 2)))
	require.NoError(t, l.Record(ctx, consentRecord(tenantA, "s1", false, 3)))
	require.NoError(t, l.Record(ctx, consentRecord(tenantB, "s1", true, 4)))
	_, err = a.Log(ctx, privacy.AuditEvent{Actor: "operator:ana", Action: privacy.AuditOperatorView, Tenant: tenantA, Subject: "s1", Time: at(5)})
	require.NoError(t, err)
	hold, err := hs.Place(ctx, privacy.Hold{Tenant: tenantA, Subject: "s2", Reason: "litigio 2026-114", PlacedBy: "officer:luz", Expires: at(60 * 24 * 90)})
	require.NoError(t, err)
	req := fullRequest()
	req.Status = privacy.StatusVerifying
	require.NoError(t, s.SaveRequest(ctx, req))

	heads := map[string]privacy.Checkpoint{}
	for _, tn := range tenantsOf(tenantA, tenantB) {
		h, err := l.Head(ctx, tn)
		require.NoError(t, err)
		heads["consent."+string(tn)] = h
	}
	auditHead, err := a.Head(ctx, tenantA)
	require.NoError(t, err)
	require.Equal(t, uint64(2), auditHead.Seq, "the audit log holds the operator's view and the hold placed")
	history, err := l.History(ctx, tenantA, "s1")
	require.NoError(t, err)
	events, err := a.Entries(ctx, privacy.AuditQuery{Tenant: tenantA})
	require.NoError(t, err)
	require.NoError(t, closeStorage(), "the storage closes")

	s, closeStorage = open(t)
	defer func() { require.NoError(t, closeStorage()) }()
	anchors := []privacy.Checkpoint{heads["consent."+string(tenantA)], heads["consent."+string(tenantB)]}
	l, err = privacy.NewLedger(s, &privacy.LedgerOptions{Key: ledgerKey, Now: now, Anchors: anchors})
	require.NoError(t, err)
	a, err = privacy.NewAudit(s, &privacy.AuditOptions{Key: ledgerKey, Now: now, Anchors: []privacy.Checkpoint{auditHead}})
	require.NoError(t, err)
	hs, err = privacy.NewHolds(s, &privacy.HoldsOptions{Now: now})
	require.NoError(t, err)

	require.NoError(t, l.Verify(ctx), "the consent chains verify after a restart, against the heads taken before it")
	require.NoError(t, a.Verify(ctx), "the audit chain verifies after a restart, against the head taken before it")
	got, err := l.History(ctx, tenantA, "s1")
	require.NoError(t, err)
	assert.Equal(t, normRecords(history), normRecords(got), "the consent records survive a restart, evidence included")
	st, err := l.State(ctx, tenantB, "s1", privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentGranted, st.Status, "each tenant's consent survives a restart")
	gotEvents, err := a.Entries(ctx, privacy.AuditQuery{Tenant: tenantA})
	require.NoError(t, err)
	assert.Equal(t, auditOps.norm(events), auditOps.norm(gotEvents), "the audit entries survive a restart")
	holds, err := hs.List(ctx, tenantA)
	require.NoError(t, err)
	assert.Equal(t, normHolds([]privacy.Hold{hold}), normHolds(holds), "legal holds survive a restart")
	require.ErrorIs(t, hs.Check(ctx, tenantA, "s2"), privacy.ErrLegalHold, "a hold still holds after a restart")
	open1, err := s.FindRequests(ctx, privacy.RequestQuery{Tenant: tenantA, Open: true})
	require.NoError(t, err)
	require.Len(t, open1, 1, "open requests survive a restart")
	assert.Equal(t, normRequest(req), normRequest(open1[0]), "a request survives a restart field for field")

	// The chains go on where they stopped.
	require.NoError(t, l.Record(ctx, consentRecord(tenantA, "s2", false, 6)))
	head, err := l.Head(ctx, tenantA)
	require.NoError(t, err)
	assert.Equal(t, heads["consent."+string(tenantA)].Seq+1, head.Seq, "a record after a restart continues the chain")
	require.NoError(t, l.Verify(ctx), "the chain continued after a restart verifies")
	next := req
	next.Version, next.Status = 2, privacy.StatusInProgress
	require.NoError(t, s.SaveRequest(ctx, next), "a request saved before a restart takes its next version after it")
}

func tenantsOf(ts ...channel.TenantID) []channel.TenantID { return ts }

func normRecords(rs []privacy.ConsentRecord) []privacy.ConsentRecord {
	out := make([]privacy.ConsentRecord, len(rs))
	for i, r := range rs {
		r.Time = utc(r.Time)
		out[i] = r
	}
	return out
}
