package privacy_test

import (
	"context"
	"encoding/json"
	"regexp"
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

// outbox is a Sender that keeps what it sends.
type outbox struct {
	mu   sync.Mutex
	sent []sent
}

type sent struct {
	to   channel.Address
	text string
}

func (o *outbox) SendText(_ context.Context, to channel.Address, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, sent{to, text})
	return nil
}

var codeRe = regexp.MustCompile(`\b\d{6}\b`)

func (o *outbox) lastCode(t *testing.T) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	require.NotEmpty(t, o.sent)
	code := codeRe.FindString(o.sent[len(o.sent)-1].text)
	require.NotEmpty(t, code)
	return code
}

// countingEraser stands for a ticket system.
type countingEraser struct{ erased map[store.SubjectID]int }

func (c *countingEraser) EraseSubject(_ context.Context, _ channel.TenantID, s store.SubjectID) (int, error) {
	n := c.erased[s]
	delete(c.erased, s)
	return n, nil
}

func (c *countingEraser) ExportSubject(_ context.Context, _ channel.TenantID, s store.SubjectID) ([]byte, error) {
	return json.Marshal(map[string]any{"tickets": c.erased[s]})
}

type env struct {
	*fixture
	ledger   *privacy.Ledger
	audit    *privacy.Audit
	holds    *privacy.Holds
	storage  *privacy.MemoryStorage
	out      *outbox
	tickets  *countingEraser
	requests *privacy.Requests
	rosa     channel.Address
	juan     channel.Address
}

func newEnv(t *testing.T, edit func(*privacy.RequestsConfig)) *env {
	t.Helper()
	e := &env{fixture: newFixture(t), storage: privacy.NewMemoryStorage(), out: &outbox{},
		rosa: addr(shop, channel.WhatsApp, "51987654321"), juan: addr(shop, channel.WhatsApp, "51911111111")}
	var err error
	e.ledger, err = privacy.NewLedger(e.storage, &privacy.LedgerOptions{Now: e.clk.Now})
	require.NoError(t, err)
	e.audit, err = privacy.NewAudit(e.storage, &privacy.AuditOptions{Now: e.clk.Now})
	require.NoError(t, err)
	e.holds, err = privacy.NewHolds(e.storage, &privacy.HoldsOptions{Now: e.clk.Now, Audit: e.audit})
	require.NoError(t, err)
	e.say(t, "rosa.1", e.rosa, 3*day, "Hola, soy Rosa Quispe, mi número es 987654321", &channel.Media{Kind: channel.Image, ID: "m-rosa", MIMEType: "image/jpeg"})
	e.say(t, "rosa.2", e.rosa, 2*day, "mi pedido A-1001 no llegó", nil)
	e.say(t, "juan.1", e.juan, 2*day, "Soy Juan Pérez, quiero factura", nil)
	e.tickets = &countingEraser{erased: map[store.SubjectID]int{e.sub["51987654321"]: 2}}
	ctx := t.Context()
	require.NoError(t, e.ledger.Record(ctx, privacy.ConsentRecord{Tenant: shop, Subject: e.sub["51987654321"], Purpose: privacy.PurposeMarketing,
		Granted: true, Basis: privacy.BasisConsent, Method: "chat_keyword", Evidence: evidence("wamid.alta", "ALTA Rosa Quispe")}))
	require.NoError(t, e.ledger.Record(ctx, privacy.ConsentRecord{Tenant: shop, Subject: e.sub["51911111111"], Purpose: privacy.PurposeMarketing,
		Granted: true, Method: "widget"}))
	cfg := privacy.RequestsConfig{Storage: e.storage, Store: e.st, Consent: e.ledger, Holds: e.holds, Audit: e.audit, Sender: e.out,
		Erasers: map[string]privacy.SubjectEraser{"tickets": e.tickets}, Exporters: map[string]privacy.SubjectExporter{"tickets": e.tickets},
		Now: e.clk.Now}
	if edit != nil {
		edit(&cfg)
	}
	e.requests, err = privacy.NewRequests(cfg)
	require.NoError(t, err)
	return e
}

// verify sends a code and enters it.
func (e *env) verify(t *testing.T, r privacy.Request) privacy.Request {
	t.Helper()
	_, err := e.requests.SendCode(t.Context(), r.ID)
	require.NoError(t, err)
	r, err = e.requests.Verify(t.Context(), r.ID, e.out.lastCode(t))
	require.NoError(t, err)
	require.Equal(t, privacy.StatusInProgress, r.Status)
	return r
}

func TestDueDatesPerJurisdiction(t *testing.T) {
	received := newClock().Now() // Monday 2 March 2026
	date := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, time.UTC) }
	tests := []struct {
		name     string
		clocks   []privacy.Clock
		typ      privacy.RequestType
		due      time.Time
		clock    string
		extended time.Time // zero: no extension possible
	}{
		{"gdpr one month plus two", []privacy.Clock{privacy.GDPR()}, privacy.RequestErasure, date(4, 2), "gdpr", date(6, 2)},
		{"ccpa 45 plus 45", []privacy.Clock{privacy.CCPA()}, privacy.RequestAccess, date(4, 16), "ccpa", date(5, 31)},
		{"peru access 20 days", []privacy.Clock{privacy.PeruARCO()}, privacy.RequestAccess, date(3, 22), "peru_arco", date(4, 11)},
		{"peru cancellation 10 days", []privacy.Clock{privacy.PeruARCO()}, privacy.RequestErasure, date(3, 12), "peru_arco", date(3, 22)},
		{"peru objection 10 days", []privacy.Clock{privacy.PeruARCO()}, privacy.RequestObjection, date(3, 12), "peru_arco", date(3, 22)},
		{"business promise 30 days", []privacy.Clock{privacy.Promise(30)}, privacy.RequestExport, date(4, 1), "promise", time.Time{}},
		{"the earliest clock wins", []privacy.Clock{privacy.GDPR(), privacy.Promise(30)}, privacy.RequestErasure, date(4, 1), "promise", time.Time{}},
		{"peru and gdpr", []privacy.Clock{privacy.GDPR(), privacy.PeruARCO()}, privacy.RequestErasure, date(3, 12), "peru_arco", date(3, 22)},
		{"business days", []privacy.Clock{{Name: "lgpd", Deadline: privacy.Period{Days: 10, BusinessDays: true}}}, privacy.RequestAccess, date(3, 16), "lgpd", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *privacy.RequestsConfig) {
				c.TenantClocks = map[channel.TenantID][]privacy.Clock{shop: tt.clocks}
			})
			r, err := e.requests.Submit(t.Context(), privacy.Submission{Type: tt.typ, Address: e.rosa, Origin: privacy.OriginAdmin,
				Actor: "privacy_officer:luis", Verified: true})
			require.NoError(t, err)
			assert.Equal(t, received, r.Received)
			assert.Equal(t, tt.due, r.Due)
			assert.Equal(t, tt.clock, r.Clock)
			ext, err := e.requests.Extend(t.Context(), r.ID, "privacy_officer:luis", "complex request")
			if tt.extended.IsZero() {
				require.ErrorIs(t, err, store.ErrInvalid)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, privacy.StatusExtended, ext.Status)
			assert.Equal(t, tt.extended, ext.Due)
			_, err = e.requests.Extend(t.Context(), r.ID, "privacy_officer:luis", "again")
			assert.ErrorIs(t, err, store.ErrInvalid, "extendable once")
		})
	}
	t.Run("default clock", func(t *testing.T) {
		e := newEnv(t, nil)
		r, err := e.requests.Submit(t.Context(), privacy.Submission{Type: privacy.RequestErasure, Address: e.rosa})
		require.NoError(t, err)
		assert.Equal(t, date(4, 1), r.Due)
	})
	t.Run("overdue requests cannot be extended", func(t *testing.T) {
		e := newEnv(t, nil)
		r, err := e.requests.Submit(t.Context(), privacy.Submission{Type: privacy.RequestErasure, Address: e.rosa, Verified: true})
		require.NoError(t, err)
		e.clk.Add(31 * day)
		_, err = e.requests.Extend(t.Context(), r.ID, "privacy_officer:luis", "late")
		assert.ErrorIs(t, err, store.ErrInvalid)
		overdue, err := e.requests.Find(t.Context(), privacy.RequestQuery{Tenant: shop, Open: true, DueBefore: e.clk.Now()})
		require.NoError(t, err)
		assert.Len(t, overdue, 1)
	})
}

func TestVerificationThroughTheSubjectsChannel(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	typ, ok := privacy.DetectRequest("hola, quiero borrar mis datos")
	require.True(t, ok)
	r, err := e.requests.Submit(ctx, privacy.Submission{Type: typ, Address: e.rosa, Origin: privacy.OriginChat, Lang: "es",
		Evidence: evidence("wamid.req", "hola, quiero borrar mis datos")})
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusReceived, r.Status)
	assert.Equal(t, e.sub["51987654321"], r.Subject)
	again, err := e.requests.Submit(ctx, privacy.Submission{Type: typ, Address: e.rosa, Origin: privacy.OriginChat})
	require.NoError(t, err)
	assert.Equal(t, r.ID, again.ID, "an open request of the same type is not opened twice")

	_, err = e.requests.Fulfil(ctx, r.ID, "privacy_officer:luis")
	require.ErrorIs(t, err, store.ErrInvalid, "not before the identity is verified")

	r, err = e.requests.SendCode(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusVerifying, r.Status)
	require.Len(t, e.out.sent, 1)
	assert.Equal(t, e.rosa, e.out.sent[0].to, "the code goes to the subject's own conversation")
	assert.Contains(t, e.out.sent[0].text, "borrado de tus datos")
	assert.Contains(t, e.out.sent[0].text, "15 minutos")
	code := e.out.lastCode(t)
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), code, "the request keeps a hash of the code, not the code")

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = e.requests.Verify(ctx, r.ID, wrong)
	require.ErrorIs(t, err, privacy.ErrVerification)
	r, err = e.requests.Request(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, r.Verification.Attempts)

	e.clk.Add(16 * time.Minute)
	_, err = e.requests.Verify(ctx, r.ID, code)
	require.ErrorIs(t, err, privacy.ErrVerification, "the code expired")

	_, err = e.requests.SendCode(ctx, r.ID)
	require.NoError(t, err)
	r, handled, err := e.requests.VerifyReply(ctx, e.rosa, "mi código es "+e.out.lastCode(t)+" gracias")
	require.NoError(t, err)
	assert.True(t, handled)
	assert.Equal(t, privacy.StatusInProgress, r.Status)
	assert.Equal(t, e.clk.Now(), r.Verified)

	_, handled, err = e.requests.VerifyReply(ctx, e.juan, "123456")
	require.NoError(t, err)
	assert.False(t, handled, "Juan has no request waiting for a code")
}

func TestVerificationAttemptsAndCodesAreLimited(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestExport, Address: e.rosa, Origin: privacy.OriginChat})
	require.NoError(t, err)
	_, err = e.requests.SendCode(ctx, r.ID)
	require.NoError(t, err)
	code := e.out.lastCode(t)
	for i := range privacy.DefaultMaxAttempts {
		bad := strings.Repeat(string(rune('1'+i)), 6)
		if bad == code {
			bad = "000000"
		}
		_, err = e.requests.Verify(ctx, r.ID, bad)
		require.ErrorIs(t, err, privacy.ErrVerification)
	}
	r, err = e.requests.Request(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusDenied, r.Status)
	assert.Equal(t, privacy.ReasonUnverified, r.Reason)
	_, err = e.requests.Verify(ctx, r.ID, code)
	assert.ErrorIs(t, err, store.ErrInvalid, "a denied request cannot be verified")

	r, err = e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestExport, Address: e.rosa, Origin: privacy.OriginChat})
	require.NoError(t, err)
	for range privacy.DefaultMaxCodes {
		_, err = e.requests.SendCode(ctx, r.ID)
		require.NoError(t, err)
	}
	_, err = e.requests.SendCode(ctx, r.ID)
	assert.ErrorIs(t, err, privacy.ErrVerification)
}

// personal is what must not survive Rosa's erasure anywhere.
var personal = []string{"51987654321", "987654321", "Rosa", "Quispe", "A-1001", "ALTA Rosa", "borrar mis datos", "m-rosa"}

func TestErasureLeavesNothingOfTheSubject(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	rosa := e.sub["51987654321"]
	export, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestExport, Address: e.rosa, Origin: privacy.OriginChat})
	require.NoError(t, err)
	r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestErasure, Address: e.rosa, Origin: privacy.OriginChat,
		Lang: "es", Evidence: evidence("wamid.req", "quiero borrar mis datos")})
	require.NoError(t, err)
	r = e.verify(t, r)

	done, err := e.requests.Fulfil(ctx, r.ID, "privacy_officer:luis")
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusCompleted, done.Status)
	assert.Contains(t, done.Notice, "borramos tus datos")
	rc := done.Receipt
	require.NotNil(t, rc)
	assert.Equal(t, store.Erased{Subjects: 1, Conversations: 1, Messages: 4}, rc.Store)
	assert.Equal(t, 1, rc.Consent)
	assert.Equal(t, map[string]int{"tickets": 2}, rc.Other)
	var kept []string
	for _, k := range rc.Kept {
		kept = append(kept, k.What)
		assert.NotEmpty(t, k.Reason)
	}
	assert.Equal(t, []string{"consent_decisions", "request_records", "audit_log"}, kept)

	_, err = e.st.Subject(ctx, e.rosa)
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = e.st.Export(ctx, shop, rosa)
	assert.ErrorIs(t, err, store.ErrNotFound)
	hist, err := e.ledger.History(ctx, shop, rosa)
	require.NoError(t, err)
	require.Len(t, hist, 1, "the decision is kept as proof")
	assert.Zero(t, hist[0].Evidence)
	require.NoError(t, e.ledger.Verify(ctx))
	require.NoError(t, e.audit.Verify(ctx))

	juan, err := e.st.Export(ctx, shop, e.sub["51911111111"])
	require.NoError(t, err)
	require.Len(t, juan.Messages, 2)
	assert.Equal(t, channel.Text("Soy Juan Pérez, quiero factura"), juan.Messages[0].Inbound.Text, "other contacts are untouched")
	jh, err := e.ledger.History(ctx, shop, e.sub["51911111111"])
	require.NoError(t, err)
	assert.Len(t, jh, 1)

	ended, err := e.requests.Request(ctx, export.ID)
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusDenied, ended.Status, "the subject's other open requests end")

	// Nothing the privacy engine keeps names Rosa.
	var everything []any
	for _, id := range []privacy.RequestID{r.ID, export.ID} {
		q, err := e.requests.Request(ctx, id)
		require.NoError(t, err)
		everything = append(everything, q)
	}
	entries, err := e.storage.ConsentEntries(ctx, shop, 0, 0)
	require.NoError(t, err)
	everything = append(everything, entries)
	audit, err := e.storage.AuditEntries(ctx, shop, 0, 0)
	require.NoError(t, err)
	everything = append(everything, audit, rc)
	raw, err := json.Marshal(everything)
	require.NoError(t, err)
	for _, p := range personal {
		assert.NotContains(t, string(raw), p)
	}
	assert.Contains(t, string(raw), string(e.sub["51911111111"]), "Juan's consent entry is there")

	again, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestErasure, Address: e.rosa, Verified: true})
	require.NoError(t, err)
	again, err = e.requests.Fulfil(ctx, again.ID, "privacy_officer:luis")
	require.NoError(t, err)
	assert.Equal(t, store.Erased{}, again.Receipt.Store, "erasing an erased subject erases nothing")
}

func TestErasureRefusedUnderLegalHold(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	_, err := e.holds.Place(ctx, privacy.Hold{Tenant: shop, Subject: e.sub["51987654321"], Reason: "litigation 2026-114", PlacedBy: "legal:maria"})
	require.NoError(t, err)
	r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestErasure, Address: e.rosa, Verified: true, Actor: "privacy_officer:luis"})
	require.NoError(t, err)
	denied, err := e.requests.Fulfil(ctx, r.ID, "privacy_officer:luis")
	require.ErrorIs(t, err, privacy.ErrLegalHold)
	assert.Equal(t, privacy.StatusDenied, denied.Status)
	assert.Equal(t, privacy.ReasonLegalHold, denied.Reason)
	_, err = e.st.Subject(ctx, e.rosa)
	require.NoError(t, err, "held data stays")
	assert.Equal(t, 2, e.tickets.erased[e.sub["51987654321"]])
	hist, err := e.ledger.History(ctx, shop, e.sub["51987654321"])
	require.NoError(t, err)
	assert.NotZero(t, hist[0].Evidence)
}

func TestExportBundle(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	_, err := e.st.UpdateDelivery(ctx, shop, store.DeliveryUpdate{ID: e.ids["rosa.2.reply"], ProviderID: "wamid.out", State: channel.Read, Time: e.clk.Now()})
	require.NoError(t, err)
	r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestExport, Address: e.rosa, Origin: privacy.OriginAdmin,
		Actor: "privacy_officer:luis", Verified: true})
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusInProgress, r.Status, "a privacy officer's request counts as verified")
	_, err = e.requests.Bundle(ctx, r.ID, "privacy_officer:luis")
	require.ErrorIs(t, err, store.ErrInvalid, "no export before the request is complete")
	r, err = e.requests.Fulfil(ctx, r.ID, "privacy_officer:luis")
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusCompleted, r.Status)

	b, err := e.requests.Bundle(ctx, r.ID, "privacy_officer:luis")
	require.NoError(t, err)
	raw, err := json.MarshalIndent(b, "", " ")
	require.NoError(t, err)
	var got struct {
		Format  string `json:"format"`
		Subject struct {
			Profile struct {
				Name string `json:"name"`
			} `json:"profile"`
		} `json:"subject"`
		Messages []struct {
			Role     string `json:"role"`
			Delivery struct {
				State string `json:"state"`
			} `json:"delivery"`
		} `json:"messages"`
		Media    []privacy.MediaRef        `json:"media"`
		Consent  []privacy.ConsentRecord   `json:"consent"`
		Requests []privacy.Request         `json:"requests"`
		Other    map[string]map[string]int `json:"other"`
	}
	require.NoError(t, json.Unmarshal(raw, &got), "the bundle is machine-readable JSON")
	assert.Equal(t, privacy.BundleFormat, got.Format)
	assert.Equal(t, "Rosa Quispe", got.Subject.Profile.Name)
	require.Len(t, got.Messages, 4, "every message of the subject")
	assert.Equal(t, "read", got.Messages[3].Delivery.State, "with its delivery record")
	require.Len(t, got.Media, 1)
	assert.Equal(t, privacy.MediaRef{Message: e.ids["rosa.1"], Kind: channel.Image, ID: "m-rosa", MIMEType: "image/jpeg"}, got.Media[0])
	require.Len(t, got.Consent, 1)
	assert.Equal(t, channel.Text("ALTA Rosa Quispe"), got.Consent[0].Evidence.Text)
	require.Len(t, got.Requests, 1)
	assert.Empty(t, got.Requests[0].Verification.CodeHash)
	assert.Equal(t, 2, got.Other["tickets"]["tickets"])
	assert.NotContains(t, string(raw), "Juan")

	entries, err := e.audit.Entries(ctx, privacy.AuditQuery{Tenant: shop, Request: r.ID})
	require.NoError(t, err)
	var actions []privacy.AuditAction
	for _, en := range entries {
		actions = append(actions, en.Event.Action)
	}
	assert.Equal(t, []privacy.AuditAction{privacy.AuditRequest, privacy.AuditAccess, privacy.AuditExport}, actions)

	unknown, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestAccess, Address: addr(shop, channel.WhatsApp, "51900000000"), Verified: true})
	require.NoError(t, err)
	assert.Empty(t, unknown.Subject)
	_, err = e.requests.Fulfil(ctx, unknown.ID, "privacy_officer:luis")
	require.NoError(t, err)
	b, err = e.requests.Bundle(ctx, unknown.ID, "privacy_officer:luis")
	require.NoError(t, err)
	assert.Nil(t, b.Subject, "nothing held about a stranger")
	assert.Empty(t, b.Messages)
}

func TestRestrictionAndObjectionStopTheAssistant(t *testing.T) {
	for _, typ := range []privacy.RequestType{privacy.RequestRestriction, privacy.RequestObjection} {
		t.Run(string(typ), func(t *testing.T) {
			ctx := t.Context()
			e := newEnv(t, nil)
			rosa := e.sub["51987654321"]
			got, ok := privacy.DetectRequest("por favor dejen de usar IA conmigo")
			require.True(t, ok)
			assert.Equal(t, privacy.RequestObjection, got)
			r, err := e.requests.Submit(ctx, privacy.Submission{Type: typ, Address: e.rosa, Origin: privacy.OriginChat, Lang: "es",
				Evidence: evidence("wamid.obj", "dejen de usar IA")})
			require.NoError(t, err)
			r = e.verify(t, r)
			r, err = e.requests.Fulfil(ctx, r.ID, privacy.ActorSystem)
			require.NoError(t, err)
			assert.Equal(t, privacy.StatusCompleted, r.Status)
			assert.Contains(t, r.Notice, "escribe ACTIVAR", "the subject is told how to lift it")

			st, err := e.ledger.State(ctx, shop, rosa, privacy.PurposeAssistant)
			require.NoError(t, err)
			assert.Equal(t, privacy.ConsentWithdrawn, st.Status, "the agent stops answering with AI")
			st, err = e.ledger.State(ctx, shop, e.sub["51911111111"], privacy.PurposeAssistant)
			require.NoError(t, err)
			assert.Equal(t, privacy.ConsentUnknown, st.Status)

			kw, err := privacy.NewKeywords(nil)
			require.NoError(t, err)
			k, ok := kw.Match("activar")
			require.True(t, ok)
			require.NoError(t, e.ledger.Record(ctx, k.Record(shop, rosa, evidence("wamid.act", "activar"), e.clk.Now())))
			st, err = e.ledger.State(ctx, shop, rosa, privacy.PurposeAssistant)
			require.NoError(t, err)
			assert.Equal(t, privacy.ConsentGranted, st.Status, "and lifting it is as easy")
		})
	}
}

func TestConsentWithdrawalRequest(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestConsentWithdrawal, Address: e.rosa, Verified: true, Lang: "en"})
	require.NoError(t, err)
	assert.Equal(t, []privacy.Purpose{privacy.PurposeMarketing}, r.Purposes)
	r, err = e.requests.Fulfil(ctx, r.ID, "privacy_officer:luis")
	require.NoError(t, err)
	assert.Contains(t, r.Notice, "consent is withdrawn")
	st, err := e.ledger.State(ctx, shop, e.sub["51987654321"], privacy.PurposeMarketing)
	require.NoError(t, err)
	assert.Equal(t, privacy.ConsentWithdrawn, st.Status)
}

type rectifier struct{ got channel.Profile }

func (r *rectifier) Rectify(_ context.Context, _ channel.TenantID, _ store.SubjectID, p channel.Profile) error {
	r.got = p
	return nil
}

func TestRectification(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	_, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestRectification, Address: e.rosa})
	require.ErrorIs(t, err, store.ErrInvalid, "the corrected fields are needed")
	r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestRectification, Address: e.rosa, Verified: true,
		Rectify: &channel.Profile{Name: "Rosa María Quispe"}})
	require.NoError(t, err)
	_, err = e.requests.Fulfil(ctx, r.ID, "privacy_officer:luis")
	require.ErrorIs(t, err, privacy.ErrUnsupported, "without a rectifier staff complete it")
	r, err = e.requests.Complete(ctx, r.ID, "privacy_officer:luis", "corrected in the CRM")
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusCompleted, r.Status)
	assert.Nil(t, r.Rectify, "the corrected fields are not kept in the request")

	rf := &rectifier{}
	e2 := newEnv(t, func(c *privacy.RequestsConfig) { c.Rectifier = rf })
	r, err = e2.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestRectification, Address: e2.rosa, Verified: true,
		Rectify: &channel.Profile{Name: "Rosa María Quispe"}})
	require.NoError(t, err)
	r, err = e2.requests.Fulfil(ctx, r.ID, "privacy_officer:luis")
	require.NoError(t, err)
	assert.Equal(t, channel.Text("Rosa María Quispe"), rf.got.Name)
	assert.Equal(t, privacy.StatusCompleted, r.Status)
}

func TestDenyAndInvalidTransitions(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, nil)
	r, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestAccess, Address: e.rosa})
	require.NoError(t, err)
	_, err = e.requests.Deny(ctx, r.ID, "privacy_officer:luis", "")
	require.ErrorIs(t, err, store.ErrInvalid)
	r, err = e.requests.Deny(ctx, r.ID, "privacy_officer:luis", "manifestly_unfounded")
	require.NoError(t, err)
	assert.Equal(t, privacy.StatusDenied, r.Status)
	_, err = e.requests.Deny(ctx, r.ID, "privacy_officer:luis", "again")
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = e.requests.Request(ctx, "req_nope")
	require.ErrorIs(t, err, store.ErrNotFound)
	for name, s := range map[string]privacy.Submission{
		"unknown type": {Type: "forget", Address: e.rosa},
		"no user":      {Type: privacy.RequestAccess, Address: channel.Address{Channel: channel.WhatsApp, Tenant: shop}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.requests.Submit(ctx, s)
			assert.ErrorIs(t, err, store.ErrInvalid)
		})
	}
	_, err = privacy.NewRequests(privacy.RequestsConfig{Store: e.st})
	assert.ErrorIs(t, err, store.ErrInvalid)
	_, err = privacy.NewRequests(privacy.RequestsConfig{Storage: e.storage, Store: e.st, Clocks: []privacy.Clock{}})
	assert.ErrorIs(t, err, store.ErrInvalid)
	noSender, err := privacy.NewRequests(privacy.RequestsConfig{Storage: e.storage, Store: e.st})
	require.NoError(t, err)
	r, err = noSender.Submit(ctx, privacy.Submission{Type: privacy.RequestExport, Address: e.juan})
	require.NoError(t, err)
	_, err = noSender.SendCode(ctx, r.ID)
	assert.ErrorIs(t, err, privacy.ErrUnsupported)
}

func TestMinorIsStoppedAndQueuedForErasure(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, func(c *privacy.RequestsConfig) { c.MinorAge = 16 })
	_, err := e.requests.FlagMinor(ctx, privacy.MinorFlag{Address: e.juan, Age: 17, Actor: "operator:ana"})
	require.ErrorIs(t, err, store.ErrInvalid, "17 is not under the configured 16")

	r, err := e.requests.FlagMinor(ctx, privacy.MinorFlag{Address: e.rosa, Age: 14, Actor: "operator:ana"})
	require.NoError(t, err)
	assert.Equal(t, privacy.RequestErasure, r.Type)
	assert.Equal(t, privacy.ReasonMinor, r.Reason)
	assert.Equal(t, privacy.StatusInProgress, r.Status, "queued, no code sent to a minor")
	assert.Equal(t, privacy.OriginSystem, r.Origin)
	for _, p := range []privacy.Purpose{privacy.PurposeAssistant, privacy.PurposeMarketing} {
		st, err := e.ledger.State(ctx, shop, e.sub["51987654321"], p)
		require.NoError(t, err)
		assert.Equal(t, privacy.ConsentWithdrawn, st.Status, "not processed further: %s", p)
	}
	open, err := e.requests.Find(ctx, privacy.RequestQuery{Tenant: shop, Type: privacy.RequestErasure, Open: true})
	require.NoError(t, err)
	require.Len(t, open, 1)
	entries, err := e.audit.Entries(ctx, privacy.AuditQuery{Tenant: shop, Action: privacy.AuditMinor})
	require.NoError(t, err)
	assert.Len(t, entries, 1)
	done, err := e.requests.Fulfil(ctx, r.ID, "privacy_officer:luis")
	require.NoError(t, err)
	assert.Equal(t, 1, done.Receipt.Store.Subjects)
}

func TestRequestTexts(t *testing.T) {
	e := newEnv(t, func(c *privacy.RequestsConfig) {
		c.Texts = map[string]privacy.RequestTexts{"es": {Erased: "Datos borrados, solicitud {id}."}, "qu": {Opened: "Chaskiyku {id}"}}
	})
	es := e.requests.Texts("es")
	assert.Equal(t, "Datos borrados, solicitud {id}.", es.Erased)
	assert.Contains(t, es.Restricted, "ACTIVAR", "missing fields come from the defaults")
	qu := e.requests.Texts("qu")
	assert.Equal(t, "Chaskiyku {id}", qu.Opened)
	assert.Equal(t, es.Restricted, qu.Restricted, "a language without defaults falls back to the default language")
	r := privacy.Request{ID: "req_1", Type: privacy.RequestErasure, Due: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	assert.Equal(t, "We received your data erasure request (no. req_1). We will answer it by 2026-04-01.",
		e.requests.Texts("en").Format(e.requests.Texts("en").Opened, r))
	pt := e.requests.Texts("pt")
	assert.Contains(t, pt.Format(pt.Verified, r), "exclusão dos seus dados")
}
