package privacytest

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

// RunAudit checks the storage that newStorage returns against every
// clause of the [privacy.AuditStorage] contract, each in its own subtest
// on a fresh storage, and runs a [privacy.Audit] over it.
func RunAudit(t *testing.T, newStorage func(t *testing.T) privacy.AuditStorage) {
	t.Helper()
	groups := chainClauses(auditOps)
	groups = append(groups,
		group[privacy.AuditStorage]{"Tenancy", []clause[privacy.AuditStorage]{
			{"keeps events that concern no tenant in the chain of the empty tenant", testAuditNoTenant},
		}},
		group[privacy.AuditStorage]{"Audit", []clause[privacy.AuditStorage]{
			{"an Audit over the storage logs, selects and verifies entries", testAuditLogs},
			{"an Audit over the storage keeps the register of authority requests", testAuditAuthority},
		}},
	)
	runGroups(t, newStorage, groups)
}

var auditOps = chainOps[privacy.AuditStorage, privacy.AuditEntry]{
	appendName: "AppendAudit", lastName: "LastAudit", entriesName: "AuditEntries", tenantsName: "AuditTenants",
	entry: auditEntry,
	ident: func(e privacy.AuditEntry) int {
		n, _ := strconv.Atoi(strings.TrimPrefix(e.Event.Detail, "d"))
		return n
	},
	seq:  func(e privacy.AuditEntry) uint64 { return e.Seq },
	prev: func(e privacy.AuditEntry) privacy.Hash { return e.Prev },
	hash: func(e privacy.AuditEntry) privacy.Hash { return e.Hash },
	append: func(ctx context.Context, s privacy.AuditStorage, e privacy.AuditEntry) error {
		return s.AppendAudit(ctx, e)
	},
	last: func(ctx context.Context, s privacy.AuditStorage, tenant channel.TenantID) (privacy.AuditEntry, error) {
		return s.LastAudit(ctx, tenant)
	},
	entries: func(ctx context.Context, s privacy.AuditStorage, tenant channel.TenantID, after uint64, limit int) ([]privacy.AuditEntry, error) {
		return s.AuditEntries(ctx, tenant, after, limit)
	},
	tenants: func(ctx context.Context, s privacy.AuditStorage) ([]channel.TenantID, error) {
		return s.AuditTenants(ctx)
	},
	normalize: normAudit,
	mutate: func(e *privacy.AuditEntry) {
		e.Event.Counts["messages"] = -1
		if a := e.Event.Authority; a != nil {
			a.Disclosed[0] = "mutated"
			a.Subjects[0] = "mutated"
		}
	},
}

// auditEntry returns a made-up entry with counts, the detail "d"
// followed by n, and for every second n an authority request.
func auditEntry(tenant channel.TenantID, seq uint64, prev privacy.Hash, n int) privacy.AuditEntry {
	ev := privacy.AuditEvent{
		Actor: "operator:ana", Action: privacy.AuditErasure, Tenant: tenant,
		Subject: store.SubjectID("s" + strconv.Itoa(n%3+1)), Request: privacy.RequestID(fmt.Sprintf("req_%04d", n)),
		Detail: "d" + strconv.Itoa(n), Counts: map[string]int{"messages": n, "subjects": 1},
		Time: at(n),
	}
	if n%2 == 1 {
		ev.Action = privacy.AuditAuthority
		ev.Authority = &privacy.AuthorityRequest{
			ID: fmt.Sprintf("auth_%04d", n), Tenant: tenant, Authority: "Fiscalía Provincial de Lima", Reference: "Carpeta 2026-" + strconv.Itoa(n),
			Received: at(n - 60), Nature: "registro de mensajes", LegalBasis: "Código Procesal Penal art. 230",
			Assessment: privacy.AssessmentOverbroad, AssessmentNote: "pide más de lo necesario",
			Response: privacy.ResponsePartial, Responded: at(n),
			Disclosed: []privacy.DataClass{privacy.ClassMetadata}, DisclosedNote: "fechas de contacto",
			Subjects: []store.SubjectID{ev.Subject},
		}
	}
	return privacy.AuditEntry{Seq: seq, Event: ev, Prev: prev, Hash: digest("audit."+string(tenant), seq, uint64(n))}
}

func normAudit(e privacy.AuditEntry) privacy.AuditEntry {
	e.Event.Time = utc(e.Event.Time)
	if len(e.Event.Counts) == 0 {
		e.Event.Counts = nil
	} else {
		e.Event.Counts = maps.Clone(e.Event.Counts)
	}
	if a := e.Event.Authority; a != nil {
		c := a.Clone()
		c.Received, c.Responded = utc(c.Received), utc(c.Responded)
		e.Event.Authority = &c
	}
	return e
}

func testAuditNoTenant(t *testing.T, newStorage func(*testing.T) privacy.AuditStorage) {
	s := newStorage(t)
	none := build(t, s, auditOps, "", 2, 1)
	build(t, s, auditOps, tenantA, 1, 10)
	es, err := s.AuditEntries(t.Context(), "", 0, 10)
	require.NoError(t, err)
	assert.Equal(t, auditOps.norm(none), auditOps.norm(es), "the empty tenant holds events that concern no tenant, in a chain of its own")
	ts, err := s.AuditTenants(t.Context())
	require.NoError(t, err)
	assert.ElementsMatch(t, []channel.TenantID{"", tenantA}, ts, "AuditTenants returns the tenants that have a chain, the empty tenant included")
}

func newAudit(t *testing.T, s privacy.AuditStorage) *privacy.Audit {
	t.Helper()
	a, err := privacy.NewAudit(s, &privacy.AuditOptions{Key: ledgerKey, Now: func() time.Time { return at(0) }})
	require.NoError(t, err)
	return a
}

func testAuditLogs(t *testing.T, newStorage func(*testing.T) privacy.AuditStorage) {
	s := newStorage(t)
	a := newAudit(t, s)
	ctx := t.Context()
	for i, ev := range []privacy.AuditEvent{
		{Actor: privacy.ActorSubject, Action: privacy.AuditRequest, Tenant: tenantA, Subject: "s1", Request: "req_1", Detail: "erasure", Time: at(1)},
		{Actor: "operator:ana", Action: privacy.AuditExport, Tenant: tenantA, Subject: "s2", Time: at(2)},
		{Actor: privacy.ActorSystem, Action: privacy.AuditErasure, Tenant: tenantA, Subject: "s1", Request: "req_1", Counts: map[string]int{"messages": 12, "consent": 2}, Time: at(3)},
		{Actor: privacy.ActorSystem, Action: privacy.AuditRetention, Counts: map[string]int{"content": 40}, Time: at(4)},
		{Actor: "operator:ana", Action: privacy.AuditAccess, Tenant: tenantB, Subject: "s1", Time: at(5)},
	} {
		_, err := a.Log(ctx, ev)
		require.NoError(t, err, "event %d", i)
	}
	es, err := a.Entries(ctx, privacy.AuditQuery{Tenant: tenantA, Subject: "s1"})
	require.NoError(t, err)
	require.Len(t, es, 2, "an Audit selects the subject's entries of the tenant")
	assert.Equal(t, map[string]int{"messages": 12, "consent": 2}, es[1].Event.Counts, "the storage keeps an event's counts")
	es, err = a.Entries(ctx, privacy.AuditQuery{Tenant: tenantA, After: 1, Limit: 1})
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, privacy.AuditExport, es[0].Event.Action, "an Audit pages through the storage in Seq order")
	require.NoError(t, a.Verify(ctx), "an Audit verifies the chains it logged in the storage: every field comes back as it was hashed")
	require.NoError(t, newAudit(t, s).Verify(ctx), "a new Audit over the storage verifies the chains logged before")
	head, err := a.Head(ctx, tenantA)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), head.Seq, "the head of a tenant's chain is its last entry")
}

func testAuditAuthority(t *testing.T, newStorage func(*testing.T) privacy.AuditStorage) {
	s := newStorage(t)
	a := newAudit(t, s)
	ctx := t.Context()
	r, err := a.RecordAuthorityRequest(ctx, "officer:luz", privacy.AuthorityRequest{
		Tenant: tenantA, Authority: "Policía Nacional del Perú, DIVINDAT", Reference: "Oficio 118-2026",
		Nature: "titular de un número", LegalBasis: "Ley 30096 art. 12", Subjects: []store.SubjectID{"s1"},
	})
	require.NoError(t, err)
	r.Assessment, r.Response, r.Responded = privacy.AssessmentLawful, privacy.ResponseDisclosed, at(30)
	r.Disclosed = []privacy.DataClass{privacy.ClassMetadata, privacy.ClassContent}
	_, err = a.RecordAuthorityRequest(ctx, "officer:luz", r)
	require.NoError(t, err)
	reg, err := a.AuthorityRequests(ctx, tenantA)
	require.NoError(t, err)
	require.Len(t, reg, 1, "the register shows the latest version of each request")
	got := reg[0]
	assert.Equal(t, privacy.ResponseDisclosed, got.Response)
	assert.Equal(t, []privacy.DataClass{privacy.ClassMetadata, privacy.ClassContent}, got.Disclosed, "the storage keeps the authority request of an event field for field")
	assert.True(t, got.Responded.Equal(at(30)))
	require.NoError(t, a.Verify(ctx), "the chain holding authority requests verifies")
}
