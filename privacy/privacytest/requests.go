package privacytest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

// RunRequests checks the storage that newStorage returns against every
// clause of the [privacy.RequestStorage] contract, each in its own subtest
// on a fresh storage.
func RunRequests(t *testing.T, newStorage func(t *testing.T) privacy.RequestStorage) {
	t.Helper()
	runGroups(t, newStorage, []group[privacy.RequestStorage]{
		{"SaveRequest", []clause[privacy.RequestStorage]{
			{"stores a new request of Version 1, which LoadRequest returns field for field", testSaveRequestNew},
			{"stores Version one more than the stored and returns ErrConflict, storing nothing, for any other", testSaveRequestVersion},
			{"lets exactly one of many concurrent saves of one Version succeed", testSaveRequestConcurrent},
			{"copies what it is given and returns", testSaveRequestCopies},
		}},
		{"LoadRequest", []clause[privacy.RequestStorage]{
			{"returns ErrNotFound for an unknown id", testLoadRequestNotFound},
		}},
		{"FindRequests", []clause[privacy.RequestStorage]{
			{"returns the requests the query selects, each filter applied", testFindRequestsFilters},
			{"returns them oldest first by Received then ID, at most Limit", testFindRequestsOrder},
			{"finds a request by its latest version only", testFindRequestsLatest},
		}},
		{"Context", []clause[privacy.RequestStorage]{
			{"a call with a cancelled context fails and stores nothing", testRequestsCancelled},
		}},
	})
}

// request returns a made-up request of the subject at user, received at
// minute n, as version 1.
func request(id string, tenant channel.TenantID, user string, typ privacy.RequestType, status privacy.RequestStatus, n int) privacy.Request {
	return privacy.Request{
		ID: privacy.RequestID(id), Type: typ, Status: status, Tenant: tenant,
		Subject: store.SubjectID("s-" + user),
		Address: channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(user)},
		Origin:  privacy.OriginChat, Actor: privacy.ActorSubject, Lang: "es",
		Evidence: privacy.Evidence{Channel: channel.WhatsApp, MessageID: channel.MessageID("wamid.req" + id), Text: "borrar mis datos"},
		Received: at(n), Due: at(n + 30*24*60), Clock: "gdpr",
		Version: 1,
	}
}

// fullRequest returns a request with every field set.
func fullRequest() privacy.Request {
	r := request("req_full", tenantA, "51900000001", privacy.RequestErasure, privacy.StatusCompleted, 1)
	r.Purposes = []privacy.Purpose{privacy.PurposeMarketing, privacy.PurposeAssistant}
	r.Rectify = &channel.Profile{Name: "Rosa Huamán", Phone: "51900000001", Username: "rosa.h", Locale: "es_PE"}
	r.Reason = privacy.ReasonMinor
	r.Verified, r.Completed = at(5), at(9)
	r.Verification = privacy.Verification{CodeHash: []byte{0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3}, Sent: at(2), Expires: at(12), Attempts: 1, Codes: 2}
	r.Receipt = &privacy.ErasureReceipt{Request: r.ID, Tenant: tenantA, Time: at(9),
		Store: store.Erased{Subjects: 1, Conversations: 2, Messages: 40}, Consent: 3,
		Other: map[string]int{"tickets": 2}, Kept: []privacy.Kept{{What: "consent", Count: 3, Reason: privacy.KeptConsentReason}}}
	r.Notice = "Listo: borramos tus datos."
	return r
}

func normRequest(r privacy.Request) privacy.Request {
	r = r.Clone()
	r.Received, r.Due, r.Verified, r.Completed = utc(r.Received), utc(r.Due), utc(r.Verified), utc(r.Completed)
	r.Verification.Sent, r.Verification.Expires = utc(r.Verification.Sent), utc(r.Verification.Expires)
	if len(r.Purposes) == 0 {
		r.Purposes = nil
	}
	if len(r.Verification.CodeHash) == 0 {
		r.Verification.CodeHash = nil
	}
	if rc := r.Receipt; rc != nil {
		rc.Time = utc(rc.Time)
		if len(rc.Other) == 0 {
			rc.Other = nil
		}
		if len(rc.Kept) == 0 {
			rc.Kept = nil
		}
	}
	return r
}

func requestIDs(rs []privacy.Request) []privacy.RequestID {
	out := []privacy.RequestID{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func testSaveRequestNew(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	for _, r := range []privacy.Request{fullRequest(), request("req_min", tenantA, "51900000002", privacy.RequestAccess, privacy.StatusReceived, 2)} {
		require.NoError(t, s.SaveRequest(t.Context(), r), "SaveRequest stores a request of Version 1 when none with its id is stored")
		got, err := s.LoadRequest(t.Context(), r.ID)
		require.NoError(t, err)
		assert.Equal(t, normRequest(r), normRequest(got), "LoadRequest returns the request saved field for field (%s)", r.ID)
	}
}

func testSaveRequestVersion(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	ctx := t.Context()
	r := request("req_1", tenantA, "51900000001", privacy.RequestErasure, privacy.StatusReceived, 1)
	for _, v := range []int{0, 2, -1} {
		bad := r
		bad.Version = v
		assert.ErrorIs(t, s.SaveRequest(ctx, bad), privacy.ErrConflict, "SaveRequest returns ErrConflict unless Version is one more than the stored version (0 when none): Version %d of a new request", v)
	}
	_, err := s.LoadRequest(ctx, r.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "SaveRequest stores nothing when it returns ErrConflict")
	got, err := s.FindRequests(ctx, privacy.RequestQuery{Tenant: tenantA})
	require.NoError(t, err)
	require.Empty(t, got, "SaveRequest stores nothing when it returns ErrConflict")

	require.NoError(t, s.SaveRequest(ctx, r))
	for _, v := range []int{1, 3, 0} {
		bad := r
		bad.Version, bad.Status = v, privacy.StatusDenied
		assert.ErrorIs(t, s.SaveRequest(ctx, bad), privacy.ErrConflict, "SaveRequest returns ErrConflict unless Version is one more than the stored version: Version %d after 1", v)
	}
	got1, err := s.LoadRequest(ctx, r.ID)
	require.NoError(t, err)
	require.Equal(t, normRequest(r), normRequest(got1), "SaveRequest stores nothing when it returns ErrConflict: version 1 is kept as it was")

	next := r
	next.Version, next.Status, next.Verified = 2, privacy.StatusInProgress, at(3)
	require.NoError(t, s.SaveRequest(ctx, next), "SaveRequest stores Version one more than the stored version")
	got2, err := s.LoadRequest(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, normRequest(next), normRequest(got2), "LoadRequest returns the latest version saved")
}

func testSaveRequestConcurrent(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	r := request("req_1", tenantA, "51900000001", privacy.RequestErasure, privacy.StatusReceived, 1)
	require.NoError(t, s.SaveRequest(t.Context(), r))
	const n = 16
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			v := r
			v.Version, v.Notice = 2, fmt.Sprintf("notice %d", i)
			errs[i] = s.SaveRequest(context.Background(), v)
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			assert.Equal(t, -1, winner, "two saves of one Version cannot both succeed (goroutines %d and %d did)", winner, i)
			winner = i
			continue
		}
		assert.ErrorIs(t, err, privacy.ErrConflict, "SaveRequest returns ErrConflict when another save took the Version")
	}
	require.NotEqual(t, -1, winner, "one of many concurrent saves of one Version succeeds")
	got, err := s.LoadRequest(t.Context(), r.ID)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("notice %d", winner), got.Notice, "the version stored is the one whose save succeeded")
	assert.Equal(t, 2, got.Version)
}

func testSaveRequestCopies(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	want := fullRequest()
	given := fullRequest()
	require.NoError(t, s.SaveRequest(t.Context(), given))
	mutateRequest(&given)
	got, err := s.LoadRequest(t.Context(), want.ID)
	require.NoError(t, err)
	require.Equal(t, normRequest(want), normRequest(got), "SaveRequest copies what it is given: changing the caller's request afterwards changes nothing stored")
	mutateRequest(&got)
	found, err := s.FindRequests(t.Context(), privacy.RequestQuery{Tenant: tenantA})
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, normRequest(want), normRequest(found[0]), "LoadRequest returns a copy: changing it changes nothing stored")
	mutateRequest(&found[0])
	got, err = s.LoadRequest(t.Context(), want.ID)
	require.NoError(t, err)
	assert.Equal(t, normRequest(want), normRequest(got), "FindRequests returns copies: changing them changes nothing stored")
}

func mutateRequest(r *privacy.Request) {
	r.Purposes[0] = "mutated"
	r.Rectify.Name = "mutated"
	r.Verification.CodeHash[0] ^= 0xff
	r.Receipt.Other["tickets"] = -1
	r.Receipt.Kept[0].Count = -1
}

func testLoadRequestNotFound(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	require.NoError(t, s.SaveRequest(t.Context(), request("req_1", tenantA, "51900000001", privacy.RequestAccess, privacy.StatusReceived, 1)))
	_, err := s.LoadRequest(t.Context(), "req_unknown")
	assert.ErrorIs(t, err, store.ErrNotFound, "LoadRequest returns ErrNotFound for an unknown id")
}

func testFindRequestsFilters(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	all := []privacy.Request{
		request("r1", tenantA, "u1", privacy.RequestErasure, privacy.StatusReceived, 1),
		request("r2", tenantA, "u1", privacy.RequestAccess, privacy.StatusCompleted, 2),
		request("r3", tenantA, "u2", privacy.RequestErasure, privacy.StatusVerifying, 3),
		request("r4", tenantA, "u3", privacy.RequestObjection, privacy.StatusDenied, 4),
		request("r5", tenantA, "u2", privacy.RequestExport, privacy.StatusExtended, 5),
		request("r6", tenantB, "u1", privacy.RequestErasure, privacy.StatusReceived, 6),
		request("r7", tenantA, "u4", privacy.RequestAccess, privacy.StatusInProgress, 7),
	}
	all[3].Due = at(10) // due soon
	all[6].Subject = "" // the store knew nobody at the address
	for _, r := range all {
		require.NoError(t, s.SaveRequest(t.Context(), r))
	}
	for _, c := range []struct {
		clause string
		q      privacy.RequestQuery
		want   []privacy.RequestID
	}{
		{"a zero query selects every request of every tenant", privacy.RequestQuery{}, []privacy.RequestID{"r1", "r2", "r3", "r4", "r5", "r6", "r7"}},
		{"Tenant keeps the tenant's requests only", privacy.RequestQuery{Tenant: tenantB}, []privacy.RequestID{"r6"}},
		{"Subject keeps the subject's requests", privacy.RequestQuery{Tenant: tenantA, Subject: "s-u1"}, []privacy.RequestID{"r1", "r2"}},
		{"Subject of another tenant selects nothing", privacy.RequestQuery{Tenant: tenantB, Subject: "s-u2"}, []privacy.RequestID{}},
		{"User keeps the requests whose Address.User is User", privacy.RequestQuery{Tenant: tenantA, User: "u4"}, []privacy.RequestID{"r7"}},
		{"User with Tenant keeps that tenant's", privacy.RequestQuery{Tenant: tenantB, User: "u1"}, []privacy.RequestID{"r6"}},
		{"Type keeps requests of the type", privacy.RequestQuery{Tenant: tenantA, Type: privacy.RequestErasure}, []privacy.RequestID{"r1", "r3"}},
		{"Status keeps requests in any of the statuses", privacy.RequestQuery{Tenant: tenantA, Status: []privacy.RequestStatus{privacy.StatusCompleted, privacy.StatusDenied}}, []privacy.RequestID{"r2", "r4"}},
		{"Open keeps requests neither completed nor denied", privacy.RequestQuery{Open: true}, []privacy.RequestID{"r1", "r3", "r5", "r6", "r7"}},
		{"DueBefore keeps requests due before it", privacy.RequestQuery{DueBefore: at(11)}, []privacy.RequestID{"r4"}},
		{"DueBefore keeps no request due exactly then", privacy.RequestQuery{DueBefore: at(10)}, []privacy.RequestID{}},
		{"filters combine", privacy.RequestQuery{Tenant: tenantA, User: "u2", Open: true, Type: privacy.RequestExport}, []privacy.RequestID{"r5"}},
	} {
		got, err := s.FindRequests(t.Context(), c.q)
		require.NoError(t, err)
		assert.Equal(t, c.want, requestIDs(got), "FindRequests returns the requests q selects: %s", c.clause)
		for _, r := range got {
			assert.True(t, c.q.Match(r), "FindRequests returns only requests that RequestQuery.Match selects: %s", c.clause)
		}
	}
}

func testFindRequestsOrder(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	// Saved out of order; r-b and r-a share a time and go by ID.
	for _, r := range []privacy.Request{
		request("r-c", tenantA, "u1", privacy.RequestAccess, privacy.StatusReceived, 3),
		request("r-b", tenantA, "u2", privacy.RequestAccess, privacy.StatusReceived, 1),
		request("r-d", tenantA, "u3", privacy.RequestAccess, privacy.StatusReceived, 2),
		request("r-a", tenantA, "u4", privacy.RequestAccess, privacy.StatusReceived, 1),
	} {
		require.NoError(t, s.SaveRequest(t.Context(), r))
	}
	got, err := s.FindRequests(t.Context(), privacy.RequestQuery{Tenant: tenantA})
	require.NoError(t, err)
	assert.Equal(t, []privacy.RequestID{"r-a", "r-b", "r-d", "r-c"}, requestIDs(got), "FindRequests returns requests oldest first, by Received, then ID")
	got, err = s.FindRequests(t.Context(), privacy.RequestQuery{Tenant: tenantA, Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, []privacy.RequestID{"r-a", "r-b"}, requestIDs(got), "FindRequests returns at most q.Limit requests, the oldest")
}

func testFindRequestsLatest(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	r := request("r1", tenantA, "u1", privacy.RequestErasure, privacy.StatusReceived, 1)
	require.NoError(t, s.SaveRequest(t.Context(), r))
	r.Version, r.Status = 2, privacy.StatusCompleted
	r.Address.User = "" // an erasure completed keeps the request without the user id
	require.NoError(t, s.SaveRequest(t.Context(), r))
	got, err := s.FindRequests(t.Context(), privacy.RequestQuery{Tenant: tenantA, Open: true})
	require.NoError(t, err)
	assert.Empty(t, got, "FindRequests selects by the latest version: a request completed is no longer open")
	got, err = s.FindRequests(t.Context(), privacy.RequestQuery{Tenant: tenantA, User: "u1"})
	require.NoError(t, err)
	assert.Empty(t, got, "FindRequests selects by the latest version: a user id removed no longer finds the request")
	got, err = s.FindRequests(t.Context(), privacy.RequestQuery{Tenant: tenantA, Status: []privacy.RequestStatus{privacy.StatusCompleted}})
	require.NoError(t, err)
	require.Len(t, got, 1, "a request saved twice is one request")
	assert.Equal(t, normRequest(r), normRequest(got[0]))
}

func testRequestsCancelled(t *testing.T, newStorage func(*testing.T) privacy.RequestStorage) {
	s := newStorage(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := request("r1", tenantA, "u1", privacy.RequestErasure, privacy.StatusReceived, 1)
	assert.ErrorIs(t, s.SaveRequest(ctx, r), context.Canceled, "SaveRequest with a cancelled context returns an error wrapping the context's")
	_, err := s.LoadRequest(t.Context(), r.ID)
	assert.ErrorIs(t, err, store.ErrNotFound, "SaveRequest with a cancelled context stores nothing")
	_, err = s.LoadRequest(ctx, r.ID)
	assert.Error(t, err, "LoadRequest with a cancelled context fails")
	_, err = s.FindRequests(ctx, privacy.RequestQuery{})
	assert.Error(t, err, "FindRequests with a cancelled context fails")
}
