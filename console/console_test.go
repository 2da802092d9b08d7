package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/console"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// unlisted hides the memory store's ConversationLister.
type unlisted struct{ store.ConversationStore }

func TestNewRejectsBadOptions(t *testing.T) {
	st := memory.New(nil)
	a, err := agent.New(agent.Config{Store: st, Model: llmtest.NewScripted(), Channels: []channel.Channel{channeltest.NewRecorder(channel.WhatsApp)}})
	require.NoError(t, err)
	audit, err := privacy.NewAudit(privacy.NewMemoryStorage(), nil)
	require.NoError(t, err)
	op := func(*http.Request) (string, error) { return "ana", nil }
	tests := []struct {
		name string
		a    *agent.Agent
		st   store.ConversationStore
		opts *console.Options
		want []string
	}{
		{"nothing", nil, nil, nil, []string{"an agent is required", "a store is required", "Options.Operator is required", "Options.Tenants needs", "Options.Audit is required"}},
		{"store that cannot list", a, unlisted{st}, &console.Options{Operator: op, Tenants: []channel.TenantID{shop}, Audit: audit}, []string{"store.ConversationLister"}},
		{"empty tenant", a, st, &console.Options{Operator: op, Tenants: []channel.TenantID{""}, Audit: audit}, []string{"Options.Tenants[0] is empty"}},
		{"negative", a, st, &console.Options{Operator: op, Tenants: []channel.TenantID{shop}, Audit: audit, HistoryLimit: -1, MaxStreams: -2}, []string{"Options.HistoryLimit must not be negative", "Options.MaxStreams must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := console.New(tt.a, tt.st, tt.opts)
			require.Error(t, err)
			assert.Nil(t, c)
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestMe(t *testing.T) {
	f := setup(t, func(o *console.Options) {
		o.Allow = func(_ *http.Request, operator string, tenant channel.TenantID) bool {
			return operator == "ana" || tenant == shop
		}
	})
	type me struct {
		Operator string             `json:"operator"`
		Tenants  []channel.TenantID `json:"tenants"`
	}
	assert.Equal(t, me{"ana", []channel.TenantID{shop, other}}, decode[me](t, f.call(t, "ana", "GET", "/api/me", ""), 200))
	assert.Equal(t, me{"luis", []channel.TenantID{shop}}, decode[me](t, f.call(t, "luis", "GET", "/api/me", ""), 200), "Allow narrows the tenants")
	refused(t, f.call(t, "luis", "GET", "/api/tenants/"+string(other)+"/queue", ""), 403, "forbidden")
}

func TestUnauthenticated(t *testing.T) {
	f := setup(t, func(o *console.Options) {
		o.Operator = func(r *http.Request) (string, error) {
			if r.Header.Get("X-Staff") == "expired" {
				return "", fmt.Errorf("session expired")
			}
			return r.Header.Get("X-Staff"), nil
		}
	})
	refused(t, f.call(t, "", "GET", "/api/me", ""), 401, "unauthenticated")
	refused(t, f.call(t, "expired", "GET", "/api/tenants/tienda-sol/queue", ""), 401, "unauthenticated")
	refused(t, f.call(t, "", "POST", convPath(shop, "c1")+"/claim", "{}"), 401, "unauthenticated")
}

func TestQueue(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("¡Hola!"))
	ctx := t.Context()
	first := f.waiting(t, customer(shop, "51900000001"), "wamid.1")
	claimed := f.waiting(t, customer(shop, "51900000002"), "wamid.2")
	second := f.waiting(t, customer(shop, "51900000003"), "wamid.3")
	f.write(t, customer(shop, "51900000004"), "wamid.4", "hola", time.Time{}) // the AI answers it
	f.waiting(t, customer(other, "51900000005"), "wamid.5")                   // another tenant's
	_, err := f.agent.Claim(ctx, shop, claimed, "luis")
	require.NoError(t, err)

	q := decode[queueAnswer](t, f.call(t, "ana", "GET", "/api/tenants/tienda-sol/queue", ""), 200)
	assert.Equal(t, []summary{
		{ID: second, Customer: "•••0003", Owner: "human", Reason: "customer_request"},
		{ID: first, Customer: "•••0001", Owner: "human", Reason: "customer_request"},
		{ID: claimed, Customer: "•••0002", Owner: "human", Operator: "luis", Reason: "operator_claim"},
	}, q.Conversations, "human-owned conversations of the tenant, unclaimed first, the customer masked")
	assert.Empty(t, q.Next)
	mine := decode[queueAnswer](t, f.call(t, "luis", "GET", "/api/tenants/tienda-sol/queue", ""), 200)
	assert.True(t, mine.Conversations[2].Mine)

	q = decode[queueAnswer](t, f.call(t, "ana", "GET", "/api/tenants/ferreteria-luna/queue", ""), 200)
	assert.Len(t, q.Conversations, 1, "each tenant's queue is its own")
	refused(t, f.call(t, "ana", "GET", "/api/tenants/nobody/queue", ""), 403, "forbidden")
	refused(t, f.call(t, "ana", "GET", "/api/tenants/tienda-sol/queue?cursor=!!!", ""), 400, "bad_request")
	refused(t, f.call(t, "ana", "GET", "/api/tenants/tienda-sol/queue?cursor=eyJwIjo3fQ", ""), 400, "bad_request")
}

func TestQueuePages(t *testing.T) {
	f := setup(t, nil)
	ctx := t.Context()
	// Unclaimed conversations beyond a page, then claimed ones.
	var unclaimed, claimed []store.ConversationID
	for i := range console.DefaultQueueLimit + 5 {
		c, err := f.store.OpenConversation(ctx, customer(shop, fmt.Sprintf("519100%05d", i)))
		require.NoError(t, err)
		op := ""
		if i%20 == 7 {
			op = "luis"
		}
		_, err = f.store.SetHandoff(ctx, shop, c.ID, store.Handoff{Owner: store.OwnerHuman, Operator: op, Since: time.Now().Add(time.Duration(i) * time.Second)})
		require.NoError(t, err)
		if op == "" {
			unclaimed = append([]store.ConversationID{c.ID}, unclaimed...)
		} else {
			claimed = append([]store.ConversationID{c.ID}, claimed...)
		}
	}
	var got []store.ConversationID
	next, pages := "", 0
	for {
		q := decode[queueAnswer](t, f.call(t, "ana", "GET", "/api/tenants/tienda-sol/queue?cursor="+next, ""), 200)
		pages++
		assert.LessOrEqual(t, len(q.Conversations), console.DefaultQueueLimit)
		for _, c := range q.Conversations {
			got = append(got, c.ID)
		}
		if q.Next == "" || pages > 5 {
			break
		}
		next = q.Next
	}
	assert.Equal(t, 2, pages)
	assert.Equal(t, append(unclaimed, claimed...), got, "every waiting conversation once, unclaimed first, across pages")
}

func TestConversationViewIsAudited(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("Hola Rosa, ¿en qué te ayudo?"))
	ctx := t.Context()
	from := customer(shop, "51987654321")
	conv := f.write(t, from, "wamid.1", "hola, ¿tienen chompas?", time.Time{})
	f.waiting(t, from, "wamid.2")
	_, err := f.agent.Claim(ctx, shop, conv, "ana")
	require.NoError(t, err)
	_, err = f.agent.Note(ctx, shop, conv, "ana", "cliente frecuente")
	require.NoError(t, err)

	v := decode[viewAnswer](t, f.call(t, "ana", "GET", convPath(shop, conv), ""), 200)
	assert.Equal(t, "51987654321", v.Conversation.Customer, "the view shows who the customer is")
	assert.Equal(t, "Rosa Quispe", v.Conversation.Name)
	assert.Equal(t, "51987654321", v.Conversation.Phone)
	assert.True(t, v.Conversation.Mine)
	assert.False(t, v.Conversation.WindowClosed)
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), v.Conversation.WindowClosesAt, time.Hour)
	var said []string
	for _, m := range v.Messages {
		said = append(said, m.Role+":"+m.Text)
	}
	assert.Equal(t, []string{
		"user:hola, ¿tienen chompas?",
		"assistant:Hola Rosa, ¿en qué te ayudo?",
		"user:quiero hablar con una persona",
		"system:" + agent.DefaultHandoffNotice,
		"note:cliente frecuente",
	}, said)
	assert.Equal(t, "sent", v.Messages[1].Delivery)

	entries, err := f.audit.Entries(ctx, privacy.AuditQuery{Tenant: shop})
	require.NoError(t, err)
	require.Len(t, entries, 1, "the view is in the audit log")
	c, err := f.store.Conversation(ctx, shop, conv)
	require.NoError(t, err)
	ev := entries[0].Event
	assert.Equal(t, "operator:ana", ev.Actor)
	assert.Equal(t, privacy.AuditOperatorView, ev.Action)
	assert.Equal(t, c.Subject, ev.Subject)
	assert.Equal(t, "conversation", ev.Detail)
	b, err := json.Marshal(entries[0])
	require.NoError(t, err)
	for _, secret := range []string{"chompas", "51987654321", "Rosa", "frecuente"} {
		assert.NotContains(t, string(b), secret, "no message text or personal data in the audit entry")
	}

	// Updates: only the records after the last one seen, audited too.
	last := v.Messages[len(v.Messages)-1].ID
	f.write(t, from, "wamid.3", "¿sigue ahí?", time.Time{})
	u := decode[viewAnswer](t, f.call(t, "ana", "GET", fmt.Sprintf("%s?after=%d", convPath(shop, conv), last), ""), 200)
	require.Len(t, u.Messages, 1)
	assert.Equal(t, "¿sigue ahí?", u.Messages[0].Text)
	entries, err = f.audit.Entries(ctx, privacy.AuditQuery{Tenant: shop})
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "conversation_update", entries[1].Event.Detail)
	require.NoError(t, f.audit.VerifyTenant(ctx, shop))

	refused(t, f.call(t, "ana", "GET", convPath(shop, conv)+"?after=x", ""), 400, "bad_request")
	refused(t, f.call(t, "ana", "GET", convPath(shop, "c999"), ""), 404, "not_found")
	entries, err = f.audit.Entries(ctx, privacy.AuditQuery{Tenant: shop})
	require.NoError(t, err)
	assert.Len(t, entries, 2, "refused requests show nothing and are not views")
}

func TestAnotherTenantsConversation(t *testing.T) {
	f := setup(t, func(o *console.Options) {
		o.Allow = func(_ *http.Request, operator string, tenant channel.TenantID) bool {
			return operator == "ana" || tenant == other
		}
	})
	conv := f.waiting(t, customer(shop, "51900000011"), "wamid.1")
	// Luis may see the other tenant only: the conversation of the shop is
	// not found there, and the shop is forbidden.
	for _, p := range []struct{ method, path, body string }{
		{"GET", "", ""}, {"POST", "/claim", "{}"}, {"POST", "/reply", `{"text":"hola"}`}, {"POST", "/notes", `{"text":"x"}`},
		{"POST", "/release", "{}"}, {"POST", "/close", "{}"},
	} {
		refused(t, f.call(t, "luis", p.method, convPath(other, conv)+p.path, p.body), 404, "not_found")
		refused(t, f.call(t, "luis", p.method, convPath(shop, conv)+p.path, p.body), 403, "forbidden")
	}
	c, err := f.store.Conversation(t.Context(), shop, conv)
	require.NoError(t, err)
	assert.Equal(t, "", c.Handoff.Operator, "nothing changed")
	entries, err := f.audit.Entries(t.Context(), privacy.AuditQuery{Tenant: other})
	require.NoError(t, err)
	assert.Empty(t, entries)
	assert.Len(t, f.ch.Sent(), 1, "only the handoff notice went out")
}

func TestClaimReplyNoteReleaseClose(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("De nada, ¡hasta pronto!"))
	from := customer(shop, "51900000021")
	conv := f.waiting(t, from, "wamid.1")
	p := convPath(shop, conv)

	refused(t, f.call(t, "ana", "POST", p+"/reply", `{"text":"Hola"}`), 409, "not_owner")
	refused(t, f.call(t, "ana", "POST", p+"/claim", `{"x":1}`), 400, "bad_request")
	claimed := decode[struct{ Conversation summary }](t, f.call(t, "ana", "POST", p+"/claim", "{}"), 200)
	assert.Equal(t, "ana", claimed.Conversation.Operator)
	assert.True(t, claimed.Conversation.Mine)

	refused(t, f.call(t, "luis", "POST", p+"/reply", `{"text":"Hola"}`), 409, "not_owner")
	refused(t, f.call(t, "luis", "POST", p+"/release", "{}"), 409, "not_owner")
	refused(t, f.call(t, "luis", "POST", p+"/close", "{}"), 409, "not_owner")

	type replied struct {
		Message  messageAnswer `json:"message"`
		Template bool          `json:"template"`
	}
	r := decode[replied](t, f.call(t, "ana", "POST", p+"/reply", `{"text":"Hola, soy Ana. ¿En qué te ayudo?"}`), 201)
	assert.Equal(t, "operator", r.Message.Role)
	assert.Equal(t, "sent", r.Message.Delivery)
	assert.False(t, r.Template)
	sent := f.ch.Sent()
	require.Len(t, sent, 2)
	assert.Equal(t, channel.Outbound{To: from, Text: "Hola, soy Ana. ¿En qué te ayudo?", Human: true, Correlation: r.Message.ID.Correlation()}, sent[1], "the reply goes out through the conversation's channel")

	n := decode[replied](t, f.call(t, "ana", "POST", p+"/notes", `{"text":"pide cambio de talla"}`), 201)
	assert.Equal(t, "note", n.Message.Role)
	assert.Len(t, f.ch.Sent(), 2, "notes are never sent")

	for name, tt := range map[string]struct {
		body, contentType string
		status            int
		code              string
	}{
		"empty text":    {`{"text":"  "}`, "", 400, "bad_request"},
		"no text":       {`{}`, "", 400, "bad_request"},
		"unknown field": {`{"text":"hola","to":"5190"}`, "", 400, "bad_request"},
		"two objects":   {`{"text":"hola"}{"text":"hola"}`, "", 400, "bad_request"},
		"not json":      {`hola`, "", 400, "bad_request"},
		"too long":      {`{"text":"` + strings.Repeat("a", console.DefaultMaxMessageBytes+1) + `"}`, "", 413, "too_large"},
		"far too long":  {`{"text":"` + strings.Repeat("\\u00e9", 8*console.DefaultMaxMessageBytes) + `"}`, "", 413, "too_large"},
		"form post":     {`text=hola`, "application/x-www-form-urlencoded", 415, "unsupported_media_type"},
		"text/plain":    {`{"text":"hola"}`, "text/plain", 415, "unsupported_media_type"},
	} {
		t.Run(name, func(t *testing.T) {
			var h []string
			if tt.contentType != "" {
				h = []string{"Content-Type", tt.contentType}
			}
			refused(t, f.call(t, "ana", "POST", p+"/reply", tt.body, h...), tt.status, tt.code)
		})
	}
	refused(t, f.call(t, "ana", "POST", p+"/reply", `{"text":"hola"}`, "Sec-Fetch-Site", "cross-site"), 403, "cross_site")
	refused(t, f.call(t, "ana", "POST", p+"/reply", `{"text":"hola"}`, "Origin", "https://evil.example"), 403, "cross_site")
	assert.Len(t, f.ch.Sent(), 2, "nothing refused went out")

	// The customer writes: the AI stays silent while Ana holds it.
	f.write(t, from, "wamid.2", "quiero cambiar la talla", time.Time{})
	assert.Zero(t, f.model.Calls())

	released := decode[struct{ Conversation summary }](t, f.call(t, "ana", "POST", p+"/release", "{}"), 200)
	assert.Equal(t, "ai", released.Conversation.Owner)
	assert.Equal(t, "operator_release", released.Conversation.Reason)
	refused(t, f.call(t, "ana", "POST", p+"/close", "{}"), 409, "not_owner")
	refused(t, f.call(t, "ana", "POST", p+"/release", "{}"), 409, "not_owner")

	f.write(t, from, "wamid.3", "gracias", time.Time{})
	assert.Equal(t, 1, f.model.Calls(), "back with the AI")

	// Claimed again and closed.
	decode[struct{ Conversation summary }](t, f.call(t, "luis", "POST", p+"/claim", "{}"), 200)
	closed := decode[struct{ Conversation summary }](t, f.call(t, "luis", "POST", p+"/close", ""), 200)
	assert.Equal(t, "ai", closed.Conversation.Owner)
	assert.Equal(t, "closed", closed.Conversation.Reason)
	q := decode[queueAnswer](t, f.call(t, "ana", "GET", "/api/tenants/tienda-sol/queue", ""), 200)
	assert.Empty(t, q.Conversations, "closed: nobody waits")
}

func TestReplyWindowClosed(t *testing.T) {
	f := setup(t, nil)
	from := customer(shop, "51900000031")
	conv := f.write(t, from, "wamid.1", "hablar con un asesor", time.Now().Add(-30*time.Hour))
	p := convPath(shop, conv)
	decode[struct{ Conversation summary }](t, f.call(t, "ana", "POST", p+"/claim", "{}"), 200)
	v := decode[viewAnswer](t, f.call(t, "ana", "GET", p, ""), 200)
	assert.True(t, v.Conversation.WindowClosed)
	e := refused(t, f.call(t, "ana", "POST", p+"/reply", `{"text":"Hola, ¿sigues ahí?"}`), 409, "window_closed")
	assert.Contains(t, e.Message, "template", "the operator is told a template is needed")
	for _, o := range f.ch.Sent() {
		assert.NotEqual(t, channel.Text("Hola, ¿sigues ahí?"), o.Text, "nothing is sent outside the window")
	}
}

func TestSecurityHeaders(t *testing.T) {
	f := setup(t, nil)
	page := f.call(t, "ana", "GET", "/", "")
	require.Equal(t, 200, page.Code)
	assert.Equal(t, "text/html; charset=utf-8", page.Header().Get("Content-Type"))
	assert.Contains(t, page.Body.String(), `<script src="console.js" defer></script>`)
	csp := page.Header().Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		assert.Contains(t, csp, d)
	}
	assert.NotContains(t, csp, "unsafe")
	for _, rec := range []*httptest.ResponseRecorder{page, f.call(t, "ana", "GET", "/api/me", ""), f.call(t, "ana", "GET", "/console.js", "")} {
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
		assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
		assert.Equal(t, "no-referrer", rec.Header().Get("Referrer-Policy"))
	}
	assert.Equal(t, "no-store", f.call(t, "ana", "GET", "/api/me", "").Header().Get("Cache-Control"))
	assert.Equal(t, "text/css; charset=utf-8", f.call(t, "ana", "GET", "/console.css", "").Header().Get("Content-Type"))
	refused(t, f.call(t, "ana", "GET", "/api/nothing", ""), 404, "not_found")
	refused(t, f.call(t, "ana", "DELETE", convPath(shop, "c1"), ""), 404, "not_found")
}

func TestClosed(t *testing.T) {
	f := setup(t, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, f.console.Close(ctx))
	require.NoError(t, f.console.Close(ctx), "idempotent")
	rec := f.call(t, "ana", "GET", "/api/tenants/tienda-sol/queue", "")
	refused(t, rec, 503, "unavailable")
	assert.Equal(t, "5", rec.Header().Get("Retry-After"))
}
