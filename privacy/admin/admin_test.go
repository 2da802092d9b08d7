package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/privacy/admin"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

const (
	shop  channel.TenantID = "1098765432"
	other channel.TenantID = "2000000000"
	rosa  channel.UserID   = "51987654321"
)

// outbox is a privacy.Sender that keeps what it sends.
type outbox struct {
	mu   sync.Mutex
	sent []string
}

func (o *outbox) SendText(_ context.Context, _ channel.Address, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, text)
	return nil
}

var codeRe = regexp.MustCompile(`\b\d{6}\b`)

func (o *outbox) code(t *testing.T) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(t, o.sent)
	c := codeRe.FindString(o.sent[len(o.sent)-1])
	require.NotEmpty(t, c)
	return c
}

// failingAudit is an AuditStorage that fails its appends while fail is set.
type failingAudit struct {
	*privacy.MemoryStorage
	fail atomic.Bool
}

func (f *failingAudit) AppendAudit(ctx context.Context, e privacy.AuditEntry) error {
	if f.fail.Load() {
		return errors.New("disk full")
	}
	return f.MemoryStorage.AppendAudit(ctx, e)
}

type env struct {
	srv      *httptest.Server
	st       *memory.Store
	storage  *privacy.MemoryStorage
	audit    *privacy.Audit
	auditS   *failingAudit
	requests *privacy.Requests
	out      *outbox
	subject  store.SubjectID
}

// principals are the callers tests use, by the token they present.
var principals = map[string]admin.Principal{
	"op":      {ID: "ana", Role: admin.RoleOperator},
	"officer": {ID: "dpo", Role: admin.RolePrivacyOfficer},
	"admin":   {ID: "root", Role: admin.RoleAdmin},
	"scoped":  {ID: "maria", Role: admin.RolePrivacyOfficer, Tenants: []channel.TenantID{other}},
	"weird":   {ID: "x", Role: "janitor"},
	"noid":    {Role: admin.RoleAdmin},
}

func authorize(r *http.Request) (admin.Principal, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "banned" {
		return admin.Principal{}, admin.ErrForbidden
	}
	p, known := principals[tok]
	if !ok || !known {
		return admin.Principal{}, admin.ErrUnauthenticated
	}
	return p, nil
}

func newEnv(t *testing.T, holds bool) *env {
	t.Helper()
	ctx := t.Context()
	e := &env{st: memory.New(nil), storage: privacy.NewMemoryStorage(), out: &outbox{}}
	e.auditS = &failingAudit{MemoryStorage: e.storage}
	var err error
	e.audit, err = privacy.NewAudit(e.auditS, nil)
	require.NoError(t, err)
	ledger, err := privacy.NewLedger(e.storage, nil)
	require.NoError(t, err)
	var hs *privacy.Holds
	if holds {
		hs, err = privacy.NewHolds(e.storage, &privacy.HoldsOptions{Audit: e.audit})
		require.NoError(t, err)
	}
	e.requests, err = privacy.NewRequests(privacy.RequestsConfig{Storage: e.storage, Store: e.st, Consent: ledger, Holds: hs,
		Audit: e.audit, Sender: e.out})
	require.NoError(t, err)
	ap, err := e.st.AppendInbound(ctx, channel.Message{ID: "wamid.1", From: channel.Address{Channel: channel.WhatsApp, Tenant: shop, User: rosa},
		Type: channel.TypeText, Text: "Hola, soy Rosa", Sender: channel.Profile{Name: "Rosa Quispe", Phone: channel.Phone(rosa)}})
	require.NoError(t, err)
	e.subject = ap.Conversation.Subject
	h, err := admin.New(admin.Config{Requests: e.requests, Audit: e.audit, Holds: hs, Authorizer: admin.AuthorizerFunc(authorize), MaxBodyBytes: 1 << 10})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/admin/privacy/", http.StripPrefix("/admin/privacy", h))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(a.body, v), string(a.body))
}

func (a answer) errorCode(t *testing.T) string {
	t.Helper()
	var b struct {
		Error struct{ Code, Message string }
	}
	a.decode(t, &b)
	require.NotEmpty(t, b.Error.Message)
	return b.Error.Code
}

func (e *env) do(t *testing.T, token, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+"/admin/privacy/"+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{status: resp.StatusCode, header: resp.Header, body: raw}
}

func submission(typ string) map[string]any {
	return map[string]any{"type": typ, "subject": map[string]any{"channel": "whatsapp", "id": string(rosa)}, "tenant": string(shop)}
}

// submit submits a request as token and returns it.
func (e *env) submit(t *testing.T, token, typ string) admin.Request {
	t.Helper()
	a := e.do(t, token, http.MethodPost, "requests", submission(typ))
	require.Contains(t, []int{http.StatusCreated, http.StatusOK}, a.status, string(a.body))
	var r admin.Request
	a.decode(t, &r)
	return r
}

func (e *env) adminEntries(t *testing.T, tenant channel.TenantID) []privacy.AuditEntry {
	t.Helper()
	es, err := e.audit.Entries(t.Context(), privacy.AuditQuery{Tenant: tenant, Action: privacy.AuditAdmin, Limit: 10000})
	require.NoError(t, err)
	return es
}

func TestSubmit(t *testing.T) {
	e := newEnv(t, true)
	t.Run("by a privacy officer: verified, in progress, due in 30 days", func(t *testing.T) {
		a := e.do(t, "officer", http.MethodPost, "requests", submission("erasure"))
		require.Equal(t, http.StatusCreated, a.status, string(a.body))
		assert.Equal(t, "application/json", a.header.Get("Content-Type"))
		var r admin.Request
		a.decode(t, &r)
		assert.NotEmpty(t, r.ID)
		assert.Equal(t, "requests/"+string(r.ID), a.header.Get("Location"))
		assert.Equal(t, privacy.StatusInProgress, r.Status)
		assert.Equal(t, privacy.OriginAdmin, r.Origin)
		assert.Equal(t, "privacy_officer:dpo", r.Actor)
		assert.Equal(t, e.subject, r.SubjectID)
		assert.WithinDuration(t, r.Received.AddDate(0, 0, 30), r.Due, time.Second)
		assert.Nil(t, r.Verification)
	})
	t.Run("by an operator: waits for the subject's code", func(t *testing.T) {
		r := e.submit(t, "op", "access")
		assert.Equal(t, privacy.StatusReceived, r.Status)
		assert.True(t, r.Verified.IsZero())
	})
	t.Run("by an admin: waits for the subject's code too", func(t *testing.T) {
		r := e.submit(t, "admin", "export")
		assert.Equal(t, privacy.StatusReceived, r.Status)
	})
	t.Run("again: the open request, 200", func(t *testing.T) {
		first := e.submit(t, "op", "objection")
		a := e.do(t, "op", http.MethodPost, "requests", submission("objection"))
		require.Equal(t, http.StatusOK, a.status)
		var again admin.Request
		a.decode(t, &again)
		assert.Equal(t, first.ID, again.ID)
	})
	t.Run("every type", func(t *testing.T) {
		for _, typ := range privacy.RequestTypes() {
			body := submission(string(typ))
			body["tenant"] = "t-" + string(typ)
			if typ == privacy.RequestRectification {
				body["rectify"] = map[string]any{"name": "Rosa Q."}
			}
			a := e.do(t, "officer", http.MethodPost, "requests", body)
			require.Equal(t, http.StatusCreated, a.status, "%s: %s", typ, a.body)
		}
	})
}

func TestSubmitRejectsBadInput(t *testing.T) {
	e := newEnv(t, true)
	with := func(k string, v any) map[string]any {
		b := submission("erasure")
		b[k] = v
		return b
	}
	tests := []struct {
		name   string
		token  string
		body   any
		status int
		code   string
	}{
		{"not json", "officer", "{type: erasure", http.StatusBadRequest, "bad_request"},
		{"empty body", "officer", "", http.StatusBadRequest, "bad_request"},
		{"two values", "officer", `{"type":"erasure"} {}`, http.StatusBadRequest, "bad_request"},
		{"unknown field", "officer", with("verified", true), http.StatusBadRequest, "bad_request"},
		{"wrong field type", "officer", with("type", 3), http.StatusBadRequest, "bad_request"},
		{"unknown type", "officer", with("type", "delete_everything"), http.StatusBadRequest, "invalid"},
		{"unknown channel", "officer", with("subject", map[string]any{"channel": "sms", "id": "1"}), http.StatusBadRequest, "invalid"},
		{"no subject id", "officer", with("subject", map[string]any{"channel": "whatsapp"}), http.StatusBadRequest, "invalid"},
		{"no tenant", "officer", with("tenant", ""), http.StatusBadRequest, "invalid"},
		{"rectification without fields", "officer", with("type", "rectification"), http.StatusBadRequest, "invalid"},
		{"too large", "officer", with("lang", strings.Repeat("x", 2<<10)), http.StatusRequestEntityTooLarge, "too_large"},
		{"tenant of another scope", "scoped", submission("erasure"), http.StatusForbidden, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do(t, tt.token, http.MethodPost, "requests", tt.body)
			require.Equal(t, tt.status, a.status, string(a.body))
			assert.Equal(t, tt.code, a.errorCode(t))
			assert.NotContains(t, string(a.body), "privacy:", "the body is generic")
		})
	}
	reqs, err := e.requests.Find(t.Context(), privacy.RequestQuery{})
	require.NoError(t, err)
	assert.Empty(t, reqs, "nothing was submitted")
}

// TestRolesOnEveryRoute calls every route as every role and checks who may.
func TestRolesOnEveryRoute(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	// A completed access request, for the export route.
	acc, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestAccess, Address: channel.Address{Channel: channel.WhatsApp, Tenant: shop, User: rosa}, Verified: true})
	require.NoError(t, err)
	_, err = e.requests.Fulfil(ctx, acc.ID, "test")
	require.NoError(t, err)
	hold, err := privacy.NewHolds(e.storage, nil)
	require.NoError(t, err)

	type call struct {
		name, method string
		path         func() string
		body         func() any
		ok           int
		officersOnly bool
	}
	fresh := func(typ string) func() string {
		return func() string {
			r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestType(typ), Address: channel.Address{Channel: channel.WhatsApp, Tenant: shop, User: channel.UserID("51900" + time.Now().Format("150405.000000"))}})
			require.NoError(t, err)
			return "requests/" + string(r.ID)
		}
	}
	calls := []call{
		{"submit", http.MethodPost, func() string { return "requests" }, func() any {
			s := submission("restriction")
			s["subject"] = map[string]any{"channel": "whatsapp", "id": "51901" + time.Now().Format("150405.000000")}
			return s
		}, http.StatusCreated, false},
		{"list", http.MethodGet, func() string {
			return "requests?tenant=" + string(shop) + "&open=true&status=in_progress&type=access&limit=5"
		}, nil, http.StatusOK, false},
		{"get", http.MethodGet, func() string { return "requests/" + string(acc.ID) }, nil, http.StatusOK, false},
		{"send code", http.MethodPost, func() string { return fresh("erasure")() + "/code" }, nil, http.StatusOK, false},
		{"fulfil", http.MethodPost, func() string {
			r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestObjection, Address: channel.Address{Channel: channel.WhatsApp, Tenant: shop, User: channel.UserID("519" + time.Now().Format("150405.000000"))}, Verified: true})
			require.NoError(t, err)
			return "requests/" + string(r.ID) + "/fulfil"
		}, nil, http.StatusOK, true},
		{"deny", http.MethodPost, func() string { return fresh("access")() + "/deny" }, func() any { return map[string]any{"reason": "duplicate"} }, http.StatusOK, true},
		{"extend", http.MethodPost, func() string { return fresh("access")() + "/extend" }, func() any { return map[string]any{"reason": "complex"} }, http.StatusBadRequest, true},
		{"export", http.MethodGet, func() string { return "requests/" + string(acc.ID) + "/export" }, nil, http.StatusOK, true},
		{"audit", http.MethodGet, func() string { return "audit?tenant=" + string(shop) }, nil, http.StatusOK, true},
		{"list holds", http.MethodGet, func() string { return "holds?tenant=" + string(shop) }, nil, http.StatusOK, true},
		{"place hold", http.MethodPost, func() string { return "holds" }, func() any { return map[string]any{"tenant": shop, "reason": "litigation 2026-7"} }, http.StatusCreated, true},
		{"lift hold", http.MethodPost, func() string {
			h, err := hold.Place(ctx, privacy.Hold{Tenant: shop, Reason: "audit", PlacedBy: "test"})
			require.NoError(t, err)
			return "holds/" + h.ID + "/lift"
		}, func() any { return map[string]any{"tenant": shop} }, http.StatusOK, true},
	}
	roles := []struct {
		token  string
		status func(c call) int
	}{
		{"", func(call) int { return http.StatusUnauthorized }},
		{"nobody", func(call) int { return http.StatusUnauthorized }},
		{"banned", func(call) int { return http.StatusForbidden }},
		{"weird", func(call) int { return http.StatusForbidden }},
		{"noid", func(call) int { return http.StatusForbidden }},
		{"op", func(c call) int {
			if c.officersOnly {
				return http.StatusForbidden
			}
			return c.ok
		}},
		{"officer", func(c call) int { return c.ok }},
		{"admin", func(c call) int { return c.ok }},
	}
	for _, c := range calls {
		for _, role := range roles {
			t.Run(c.name+" as "+cmpOr(role.token, "anonymous"), func(t *testing.T) {
				var body any
				if c.body != nil {
					body = c.body()
				}
				before := len(e.adminEntries(t, shop)) + len(e.adminEntries(t, ""))
				a := e.do(t, role.token, c.method, c.path(), body)
				want := role.status(c)
				require.Equal(t, want, a.status, string(a.body))
				if want == http.StatusUnauthorized {
					assert.Equal(t, "Bearer", a.header.Get("WWW-Authenticate"))
				}
				after := len(e.adminEntries(t, shop)) + len(e.adminEntries(t, ""))
				assert.Equal(t, before+1, after, "every call lands in the audit log")
			})
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestEveryCallIsAudited(t *testing.T) {
	e := newEnv(t, true)
	r := e.submit(t, "officer", "erasure")
	require.Equal(t, http.StatusOK, e.do(t, "op", http.MethodGet, "requests/"+string(r.ID), nil).status)
	require.Equal(t, http.StatusForbidden, e.do(t, "op", http.MethodGet, "audit?tenant="+string(shop), nil).status)
	require.Equal(t, http.StatusUnauthorized, e.do(t, "", http.MethodGet, "requests/"+string(r.ID), nil).status)

	es := e.adminEntries(t, shop)
	require.Len(t, es, 3)
	details := []string{es[0].Event.Detail, es[1].Event.Detail, es[2].Event.Detail}
	assert.Equal(t, []string{"submit_request:201", "get_request:200", "read_audit:403"}, details)
	assert.Equal(t, "privacy_officer:dpo", es[0].Event.Actor)
	assert.Equal(t, r.ID, es[0].Event.Request)
	assert.Equal(t, e.subject, es[1].Event.Subject)
	assert.Equal(t, "operator:ana", es[2].Event.Actor)
	anon := e.adminEntries(t, "")
	require.Len(t, anon, 1, "a call without a tenant goes to the chain of no tenant")
	assert.Equal(t, "unauthenticated", anon[0].Event.Actor)
	assert.Equal(t, "get_request:401", anon[0].Event.Detail)
	require.NoError(t, e.audit.Verify(t.Context()))

	t.Run("read back through the interface, in pages", func(t *testing.T) {
		a := e.do(t, "officer", http.MethodGet, "audit?tenant="+string(shop)+"&action=admin&limit=2", nil)
		require.Equal(t, http.StatusOK, a.status, string(a.body))
		var page admin.AuditPage
		a.decode(t, &page)
		require.Len(t, page.Entries, 2)
		assert.Equal(t, "submit_request:201", page.Entries[0].Event.Detail)
		require.NotZero(t, page.Next)
		a = e.do(t, "officer", http.MethodGet, "audit?tenant="+string(shop)+"&action=admin&limit=2&after="+itoa(page.Next), nil)
		a.decode(t, &page)
		require.Len(t, page.Entries, 2)
		assert.Equal(t, "read_audit:403", page.Entries[0].Event.Detail)
		assert.Equal(t, "read_audit:200", page.Entries[1].Event.Detail, "the first page's read was audited")
	})
	t.Run("bad queries", func(t *testing.T) {
		for _, q := range []string{"audit", "audit?tenant=" + string(shop) + "&limit=0", "audit?tenant=" + string(shop) + "&limit=100000",
			"audit?tenant=" + string(shop) + "&after=-1"} {
			a := e.do(t, "officer", http.MethodGet, q, nil)
			assert.Equal(t, http.StatusBadRequest, a.status, q)
		}
	})
}

func itoa(n uint64) string {
	return strings.TrimSpace(strings.Replace(string(must(json.Marshal(n))), `"`, "", -1))
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestUnauditedCallsDiscloseNothing(t *testing.T) {
	e := newEnv(t, true)
	ctx := t.Context()
	acc, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestExport, Address: channel.Address{Channel: channel.WhatsApp, Tenant: shop, User: rosa}, Verified: true})
	require.NoError(t, err)
	_, err = e.requests.Fulfil(ctx, acc.ID, "test")
	require.NoError(t, err)
	e.auditS.fail.Store(true)
	a := e.do(t, "officer", http.MethodGet, "requests/"+string(acc.ID)+"/export", nil)
	assert.Equal(t, http.StatusInternalServerError, a.status)
	assert.Equal(t, "internal", a.errorCode(t))
	assert.NotContains(t, string(a.body), "Rosa")
	assert.NotContains(t, string(a.body), string(rosa))
}

func TestExport(t *testing.T) {
	e := newEnv(t, true)
	r := e.submit(t, "officer", "access")
	t.Run("not ready before it is fulfilled", func(t *testing.T) {
		a := e.do(t, "officer", http.MethodGet, "requests/"+string(r.ID)+"/export", nil)
		assert.Equal(t, http.StatusConflict, a.status)
		assert.Equal(t, "not_ready", a.errorCode(t))
	})
	a := e.do(t, "officer", http.MethodPost, "requests/"+string(r.ID)+"/fulfil", nil)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var done admin.Request
	a.decode(t, &done)
	assert.Equal(t, privacy.StatusCompleted, done.Status)

	a = e.do(t, "officer", http.MethodGet, "requests/"+string(r.ID)+"/export", nil)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	assert.Equal(t, `attachment; filename="export-`+string(r.ID)+`.json"`, a.header.Get("Content-Disposition"))
	var b privacy.Bundle
	a.decode(t, &b)
	assert.Equal(t, privacy.BundleFormat, b.Format)
	require.NotNil(t, b.Subject)
	assert.Equal(t, channel.Text("Rosa Quispe"), b.Subject.Profile.Name)
	require.Len(t, b.Messages, 1)
	assert.Equal(t, channel.Text("Hola, soy Rosa"), b.Messages[0].Inbound.Text)
	exports, err := e.audit.Entries(t.Context(), privacy.AuditQuery{Tenant: shop, Action: privacy.AuditExport})
	require.NoError(t, err)
	assert.Len(t, exports, 1, "the download is audited as an export")

	t.Run("an erasure has no export", func(t *testing.T) {
		er := e.submit(t, "officer", "erasure")
		a := e.do(t, "officer", http.MethodGet, "requests/"+string(er.ID)+"/export", nil)
		assert.Equal(t, http.StatusBadRequest, a.status)
	})
}

func TestVerificationThroughTheSubjectsChannel(t *testing.T) {
	e := newEnv(t, true)
	r := e.submit(t, "op", "erasure")
	require.Equal(t, privacy.StatusReceived, r.Status)
	t.Run("an operator cannot fulfil it", func(t *testing.T) {
		assert.Equal(t, http.StatusForbidden, e.do(t, "op", http.MethodPost, "requests/"+string(r.ID)+"/fulfil", nil).status)
	})
	t.Run("not verified: cannot be fulfilled", func(t *testing.T) {
		a := e.do(t, "officer", http.MethodPost, "requests/"+string(r.ID)+"/fulfil", nil)
		assert.Equal(t, http.StatusBadRequest, a.status, string(a.body))
	})
	a := e.do(t, "op", http.MethodPost, "requests/"+string(r.ID)+"/code", nil)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var v admin.Request
	a.decode(t, &v)
	assert.Equal(t, privacy.StatusVerifying, v.Status)
	require.NotNil(t, v.Verification)
	assert.Equal(t, 1, v.Verification.CodesSent)
	code := e.out.code(t)
	assert.NotContains(t, string(a.body), code, "the code is never shown to staff")

	_, err := e.requests.Verify(t.Context(), r.ID, code) // the subject answers in chat
	require.NoError(t, err)
	a = e.do(t, "officer", http.MethodPost, "requests/"+string(r.ID)+"/fulfil", nil)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	a.decode(t, &v)
	assert.Equal(t, privacy.StatusCompleted, v.Status)
	require.NotNil(t, v.Receipt)
	assert.Equal(t, 1, v.Receipt.Store.Messages)
	assert.Empty(t, v.Subject.ID, "the erased subject's id is gone from the request")
	_, err = e.st.Subject(t.Context(), channel.Address{Channel: channel.WhatsApp, Tenant: shop, User: rosa})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestHolds(t *testing.T) {
	e := newEnv(t, true)
	a := e.do(t, "officer", http.MethodPost, "holds", map[string]any{"tenant": shop, "subject": map[string]any{"channel": "whatsapp", "id": rosa},
		"reason": "litigation 2026-114"})
	require.Equal(t, http.StatusCreated, a.status, string(a.body))
	var h privacy.Hold
	a.decode(t, &h)
	assert.Equal(t, e.subject, h.Subject)
	assert.Equal(t, "privacy_officer:dpo", h.PlacedBy)

	r := e.submit(t, "officer", "erasure")
	a = e.do(t, "officer", http.MethodPost, "requests/"+string(r.ID)+"/fulfil", nil)
	assert.Equal(t, http.StatusConflict, a.status)
	assert.Equal(t, "legal_hold", a.errorCode(t))

	var list admin.HoldList
	e.do(t, "officer", http.MethodGet, "holds?tenant="+string(shop)+"&active=true", nil).decode(t, &list)
	require.Len(t, list.Holds, 1)
	a = e.do(t, "officer", http.MethodPost, "holds/"+h.ID+"/lift", map[string]any{"tenant": shop})
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	e.do(t, "officer", http.MethodGet, "holds?tenant="+string(shop)+"&active=true", nil).decode(t, &list)
	assert.Empty(t, list.Holds)
	e.do(t, "officer", http.MethodGet, "holds?tenant="+string(shop), nil).decode(t, &list)
	require.Len(t, list.Holds, 1, "lifted holds are listed")
	assert.Equal(t, "privacy_officer:dpo", list.Holds[0].LiftedBy)

	tests := []struct {
		name   string
		path   string
		body   any
		status int
	}{
		{"unknown hold", "holds/hold_nope/lift", map[string]any{"tenant": shop}, http.StatusNotFound},
		{"no reason", "holds", map[string]any{"tenant": shop}, http.StatusBadRequest},
		{"nobody at the address", "holds", map[string]any{"tenant": shop, "reason": "x", "subject": map[string]any{"channel": "whatsapp", "id": "51900000000"}}, http.StatusNotFound},
		{"subject twice", "holds", map[string]any{"tenant": shop, "reason": "x", "subject_id": "s1", "subject": map[string]any{"channel": "whatsapp", "id": rosa}}, http.StatusBadRequest},
		{"expired at once", "holds", map[string]any{"tenant": shop, "reason": "x", "expires": time.Now().Add(-time.Hour)}, http.StatusBadRequest},
		{"other tenant's scope", "holds", map[string]any{"tenant": shop, "reason": "x"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token := "officer"
			if tt.status == http.StatusForbidden {
				token = "scoped"
			}
			assert.Equal(t, tt.status, e.do(t, token, http.MethodPost, tt.path, tt.body).status)
		})
	}

	t.Run("without holds configured: 501", func(t *testing.T) {
		e := newEnv(t, false)
		a := e.do(t, "officer", http.MethodGet, "holds?tenant="+string(shop), nil)
		assert.Equal(t, http.StatusNotImplemented, a.status)
		assert.Equal(t, "unsupported", a.errorCode(t))
	})
}

func TestTenantScope(t *testing.T) {
	e := newEnv(t, true)
	r := e.submit(t, "officer", "access")
	a := e.do(t, "scoped", http.MethodGet, "requests/"+string(r.ID), nil)
	assert.Equal(t, http.StatusNotFound, a.status, "another tenant's request is not found")
	assert.Equal(t, http.StatusBadRequest, e.do(t, "scoped", http.MethodGet, "requests", nil).status, "a scoped principal names the tenant")
	assert.Equal(t, http.StatusForbidden, e.do(t, "scoped", http.MethodGet, "requests?tenant="+string(shop), nil).status)
	var list admin.RequestList
	a = e.do(t, "scoped", http.MethodGet, "requests?tenant="+string(other), nil)
	require.Equal(t, http.StatusOK, a.status)
	a.decode(t, &list)
	assert.Empty(t, list.Requests)
}

func TestListRequests(t *testing.T) {
	e := newEnv(t, true)
	e.submit(t, "officer", "access")
	e.submit(t, "op", "erasure")
	var list admin.RequestList
	e.do(t, "op", http.MethodGet, "requests?tenant="+string(shop), nil).decode(t, &list)
	assert.Len(t, list.Requests, 2)
	e.do(t, "op", http.MethodGet, "requests?tenant="+string(shop)+"&status=received", nil).decode(t, &list)
	require.Len(t, list.Requests, 1)
	assert.Equal(t, privacy.RequestErasure, list.Requests[0].Type)
	e.do(t, "op", http.MethodGet, "requests?type=access", nil).decode(t, &list)
	require.Len(t, list.Requests, 1)
	for _, q := range []string{"requests?status=done", "requests?type=nope", "requests?open=maybe", "requests?limit=abc"} {
		assert.Equal(t, http.StatusBadRequest, e.do(t, "op", http.MethodGet, q, nil).status, q)
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t, true)
	a := e.do(t, "officer", http.MethodGet, "nope", nil)
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "not_found", a.errorCode(t))
	a = e.do(t, "officer", http.MethodDelete, "requests", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, a.status)
	assert.Equal(t, "GET, POST", a.header.Get("Allow"))
	a = e.do(t, "officer", http.MethodGet, "requests/req_unknown", nil)
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "not_found", a.errorCode(t))
	a = e.do(t, "", http.MethodGet, "nope", nil)
	assert.Equal(t, http.StatusUnauthorized, a.status, "nothing is told about routes before authentication")
}

func TestDenyAndExtend(t *testing.T) {
	e := newEnv(t, true)
	r := e.submit(t, "officer", "access")
	a := e.do(t, "officer", http.MethodPost, "requests/"+string(r.ID)+"/extend", map[string]any{"reason": "many records"})
	assert.Equal(t, http.StatusBadRequest, a.status, "the default 30-day promise allows no extension")
	a = e.do(t, "officer", http.MethodPost, "requests/"+string(r.ID)+"/deny", map[string]any{})
	assert.Equal(t, http.StatusBadRequest, a.status, "a denial needs a reason")
	a = e.do(t, "officer", http.MethodPost, "requests/"+string(r.ID)+"/deny", map[string]any{"reason": "duplicate of another request"})
	require.Equal(t, http.StatusOK, a.status)
	var v admin.Request
	a.decode(t, &v)
	assert.Equal(t, privacy.StatusDenied, v.Status)
	assert.Equal(t, "duplicate of another request", v.Reason)
	a = e.do(t, "officer", http.MethodPost, "requests/"+string(r.ID)+"/deny", map[string]any{"reason": "again"})
	assert.Equal(t, http.StatusBadRequest, a.status, "a denied request cannot be denied again")
}

func TestStatusOf(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{admin.ErrUnauthenticated, 401, "unauthenticated"},
		{admin.ErrForbidden, 403, "forbidden"},
		{store.ErrNotFound, 404, "not_found"},
		{store.ErrInvalid, 400, "invalid"},
		{privacy.ErrLegalHold, 409, "legal_hold"},
		{privacy.ErrCodeExpired, 409, "verification_failed"},
		{privacy.ErrConflict, 409, "conflict"},
		{privacy.ErrUnsupported, 501, "unsupported"},
		{context.DeadlineExceeded, 503, "timeout"},
		{errors.New("boom"), 500, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			s, c := admin.StatusOf(errors.Join(errors.New("wrapped"), tt.err))
			assert.Equal(t, tt.status, s)
			assert.Equal(t, tt.code, c)
		})
	}
}

func TestBearerToken(t *testing.T) {
	p := admin.Principal{ID: "host", Role: admin.RoleAdmin}
	auth := admin.BearerToken("s3cret-token", p)
	tests := []struct {
		header string
		ok     bool
	}{
		{"Bearer s3cret-token", true},
		{"Bearer s3cret-tokeN", false},
		{"s3cret-token", false},
		{"", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/requests", nil)
		r.Header.Set("Authorization", tt.header)
		got, err := auth.Authorize(r)
		if tt.ok {
			require.NoError(t, err)
			assert.Equal(t, p, got)
		} else {
			assert.ErrorIs(t, err, admin.ErrUnauthenticated, tt.header)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/requests", nil)
	r.Header.Set("Authorization", "Bearer ")
	_, err := admin.BearerToken("", p).Authorize(r)
	assert.ErrorIs(t, err, admin.ErrUnauthenticated, "an empty token admits nobody")
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := admin.New(admin.Config{MaxBodyBytes: -1})
	require.Error(t, err)
	for _, want := range []string{"Config.Requests", "Config.Audit", "Config.Authorizer", "MaxBodyBytes"} {
		assert.Contains(t, err.Error(), want)
	}
}
