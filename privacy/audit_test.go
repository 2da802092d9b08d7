package privacy_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

func TestAuditLogIsHashChained(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	s := privacy.NewMemoryStorage()
	a, err := privacy.NewAudit(s, &privacy.AuditOptions{Now: clk.Now})
	require.NoError(t, err)

	e1, err := a.Log(ctx, privacy.AuditEvent{Actor: "operator:ana", Action: privacy.AuditOperatorView, Tenant: shop, Subject: "s1"})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), e1.Seq)
	assert.True(t, e1.Prev.IsZero())
	assert.Equal(t, clk.Now(), e1.Event.Time)
	clk.Add(time.Minute)
	e2, err := a.Log(ctx, privacy.AuditEvent{Actor: "privacy_officer:luis", Action: privacy.AuditErasure, Tenant: shop, Subject: "s1",
		Request: "req_1", Counts: map[string]int{"messages": 12, "conversations": 1}})
	require.NoError(t, err)
	assert.Equal(t, e1.Hash, e2.Prev)
	_, err = a.Log(ctx, privacy.AuditEvent{Actor: "operator:ana", Action: privacy.AuditOperatorView, Tenant: "other", Subject: "s7"})
	require.NoError(t, err)
	require.NoError(t, a.Verify(ctx))

	got, err := a.Entries(ctx, privacy.AuditQuery{Tenant: shop, Action: privacy.AuditErasure})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, 12, got[0].Event.Counts["messages"])
	got, err = a.Entries(ctx, privacy.AuditQuery{Tenant: shop, Subject: "s1", After: 1})
	require.NoError(t, err)
	assert.Len(t, got, 1)
	got, err = a.Entries(ctx, privacy.AuditQuery{Tenant: "other"})
	require.NoError(t, err)
	assert.Len(t, got, 1, "each tenant has its own chain")

	_, err = a.Log(ctx, privacy.AuditEvent{Action: privacy.AuditExport})
	assert.ErrorIs(t, err, store.ErrInvalid)
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		name   string
		tamper func([]privacy.AuditEntry) []privacy.AuditEntry
		seq    uint64
	}{
		{"actor edited", func(es []privacy.AuditEntry) []privacy.AuditEntry { es[1].Event.Actor = "operator:bob"; return es }, 2},
		{"count edited", func(es []privacy.AuditEntry) []privacy.AuditEntry { es[1].Event.Counts["messages"] = 1; return es }, 2},
		{"subject edited", func(es []privacy.AuditEntry) []privacy.AuditEntry { es[0].Event.Subject = "s2"; return es }, 1},
		{"entry deleted", func(es []privacy.AuditEntry) []privacy.AuditEntry { return append(es[:1:1], es[2:]...) }, 2},
		{"reordered", func(es []privacy.AuditEntry) []privacy.AuditEntry { es[1], es[2] = es[2], es[1]; return es }, 2},
		{"authority response edited", func(es []privacy.AuditEntry) []privacy.AuditEntry {
			es[2].Event.Authority.Response = privacy.ResponseRefused
			return es
		}, 3},
		{"last entry deleted", func(es []privacy.AuditEntry) []privacy.AuditEntry { return es[:2] }, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			src := privacy.NewMemoryStorage()
			a, err := privacy.NewAudit(src, nil)
			require.NoError(t, err)
			_, err = a.Log(ctx, privacy.AuditEvent{Actor: "operator:ana", Action: privacy.AuditOperatorView, Tenant: shop, Subject: "s1"})
			require.NoError(t, err)
			_, err = a.Log(ctx, privacy.AuditEvent{Actor: "system", Action: privacy.AuditErasure, Tenant: shop, Subject: "s1",
				Counts: map[string]int{"messages": 12}})
			require.NoError(t, err)
			_, err = a.RecordAuthorityRequest(ctx, "privacy_officer:luis", privacy.AuthorityRequest{Tenant: shop,
				Authority: "Fiscalía", LegalBasis: "Art. 230 CPP", Nature: "subscriber data", Response: privacy.ResponseDisclosed})
			require.NoError(t, err)
			head, err := a.Head(ctx, shop)
			require.NoError(t, err)

			es, err := src.AuditEntries(ctx, shop, 0, 0)
			require.NoError(t, err)
			es = tt.tamper(es)
			dst := privacy.NewMemoryStorage()
			for i, e := range es {
				// Re-number in place as a database would let one do.
				if e.Seq != uint64(i+1) {
					e.Seq = uint64(i + 1)
				}
				require.NoError(t, dst.AppendAudit(ctx, e))
			}
			b, err := privacy.NewAudit(dst, &privacy.AuditOptions{Anchors: []privacy.Checkpoint{head}})
			require.NoError(t, err)
			var te *privacy.TamperError
			require.ErrorAs(t, b.Verify(ctx), &te)
			assert.Equal(t, tt.seq, te.Seq, te.Reason)
			assert.Equal(t, "audit", te.Chain)
		})
	}
}

func TestAuthorityRegister(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	a, err := privacy.NewAudit(privacy.NewMemoryStorage(), &privacy.AuditOptions{Now: clk.Now})
	require.NoError(t, err)
	r, err := a.RecordAuthorityRequest(ctx, "privacy_officer:luis", privacy.AuthorityRequest{Tenant: shop,
		Authority: "Policía Nacional del Perú, DIVINDAT", Reference: "Oficio 123-2026", LegalBasis: "Ley 30096",
		Nature: "messages of one subject, January 2026", Subjects: []store.SubjectID{"s1"}})
	require.NoError(t, err)
	assert.NotEmpty(t, r.ID)
	assert.Equal(t, privacy.AssessmentPending, r.Assessment)
	assert.Equal(t, privacy.ResponsePending, r.Response)
	assert.Equal(t, clk.Now(), r.Received)

	clk.Add(48 * time.Hour)
	r.Assessment, r.AssessmentNote = privacy.AssessmentOverbroad, "asks for all subjects; only s1 is named in the order"
	r.Response, r.Responded = privacy.ResponsePartial, clk.Now()
	r.Disclosed, r.DisclosedNote = []privacy.DataClass{privacy.ClassMetadata}, "timestamps only"
	_, err = a.RecordAuthorityRequest(ctx, "privacy_officer:luis", r)
	require.NoError(t, err)
	_, err = a.RecordAuthorityRequest(ctx, "privacy_officer:luis", privacy.AuthorityRequest{Tenant: shop, Authority: "SUNAT",
		LegalBasis: "Código Tributario Art. 87", Nature: "invoices"})
	require.NoError(t, err)

	reg, err := a.AuthorityRequests(ctx, shop)
	require.NoError(t, err)
	require.Len(t, reg, 2)
	assert.Equal(t, r.ID, reg[0].ID)
	assert.Equal(t, privacy.ResponsePartial, reg[0].Response, "the latest version of each request")
	assert.Equal(t, []privacy.DataClass{privacy.ClassMetadata}, reg[0].Disclosed)
	assert.Equal(t, "SUNAT", reg[1].Authority)
	require.NoError(t, a.Verify(ctx))

	_, err = a.RecordAuthorityRequest(ctx, "x", privacy.AuthorityRequest{Tenant: shop, Authority: "someone"})
	assert.ErrorIs(t, err, store.ErrInvalid, "the legal basis cited is required")
}

func TestHolds(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	audit, err := privacy.NewAudit(privacy.NewMemoryStorage(), &privacy.AuditOptions{Now: clk.Now})
	require.NoError(t, err)
	h, err := privacy.NewHolds(privacy.NewMemoryStorage(), &privacy.HoldsOptions{Now: clk.Now, Audit: audit})
	require.NoError(t, err)

	subjectHold, err := h.Place(ctx, privacy.Hold{Tenant: shop, Subject: "s1", Reason: "litigation 2026-114", PlacedBy: "legal:maria",
		Expires: clk.Now().Add(30 * 24 * time.Hour)})
	require.NoError(t, err)
	assert.NotEmpty(t, subjectHold.ID)
	require.ErrorIs(t, h.Check(ctx, shop, "s1"), privacy.ErrLegalHold)
	require.NoError(t, h.Check(ctx, shop, "s2"))
	require.NoError(t, h.Check(ctx, "other", "s1"), "holds are per tenant")
	whole, subjects, err := h.Held(ctx, shop)
	require.NoError(t, err)
	assert.False(t, whole)
	assert.Equal(t, []store.SubjectID{"s1"}, subjects)

	tenantHold, err := h.Place(ctx, privacy.Hold{Tenant: shop, Reason: "audit by regulator", PlacedBy: "legal:maria"})
	require.NoError(t, err)
	require.ErrorIs(t, h.Check(ctx, shop, "s2"), privacy.ErrLegalHold, "a tenant hold covers every subject")
	whole, _, err = h.Held(ctx, shop)
	require.NoError(t, err)
	assert.True(t, whole)

	lifted, err := h.Lift(ctx, shop, tenantHold.ID, "legal:maria")
	require.NoError(t, err)
	assert.Equal(t, clk.Now(), lifted.Lifted)
	require.NoError(t, h.Check(ctx, shop, "s2"))

	clk.Add(31 * 24 * time.Hour)
	require.NoError(t, h.Check(ctx, shop, "s1"), "an expired hold holds nothing")
	active, err := h.Active(ctx, shop)
	require.NoError(t, err)
	assert.Empty(t, active)

	_, err = h.Lift(ctx, shop, "hold_nope", "x")
	assert.ErrorIs(t, err, store.ErrNotFound)
	for name, bad := range map[string]privacy.Hold{
		"no reason":     {Tenant: shop, PlacedBy: "x"},
		"no tenant":     {Reason: "r", PlacedBy: "x"},
		"no placer":     {Tenant: shop, Reason: "r"},
		"expired early": {Tenant: shop, Reason: "r", PlacedBy: "x", Placed: clk.Now(), Expires: clk.Now().Add(-time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.Place(ctx, bad)
			assert.ErrorIs(t, err, store.ErrInvalid)
		})
	}
	entries, err := audit.Entries(ctx, privacy.AuditQuery{Tenant: shop})
	require.NoError(t, err)
	var actions []privacy.AuditAction
	for _, e := range entries {
		actions = append(actions, e.Event.Action)
	}
	assert.Equal(t, []privacy.AuditAction{privacy.AuditHoldPlaced, privacy.AuditHoldPlaced, privacy.AuditHoldLifted}, actions)
}
