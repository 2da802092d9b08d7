package whatsapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

const (
	appSecret   = "test-app-secret"
	verifyToken = "test-verify-token"
	tenant      = channel.TenantID("106540352242922")
	waID        = "16505551234"
	bsuid       = "US.13491208655302741918"
	wamid       = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
	outWamid    = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3QjY1QTE4MTZDN0Q4RTZFAA=="
)

var (
	msgTime    = time.Unix(1739321024, 0).UTC()
	statusTime = time.Unix(1739321030, 0).UTC()
	sender     = channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: bsuid}
	profile    = channel.Profile{Name: "Sheena Nelson", Phone: waID}
)

// receiver records what the webhook hands over and fails on demand.
type receiver struct {
	mu    sync.Mutex
	calls []channel.Inbound
	err   error
}

func (r *receiver) Receive(_ context.Context, in channel.Inbound) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, in)
	return r.err
}

func (r *receiver) Calls() []channel.Inbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channel.Inbound(nil), r.calls...)
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "webhook", name+".json"))
	require.NoError(t, err)
	return b
}

func newWebhook(t testing.TB, recv channel.Receiver, opts whatsapp.WebhookOptions) *whatsapp.Webhook {
	t.Helper()
	if opts.AppSecrets == nil {
		opts.AppSecrets = []string{appSecret}
	}
	if opts.VerifyToken == "" {
		opts.VerifyToken = verifyToken
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := whatsapp.NewWebhook(recv, opts)
	require.NoError(t, err)
	return h
}

func post(h http.Handler, body []byte, signature string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/whatsapp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func msg(typ channel.Type) channel.Message {
	return channel.Message{ID: wamid, From: sender, Time: msgTime, Type: typ, Sender: profile}
}

func with(m channel.Message, f func(*channel.Message)) channel.Message {
	f(&m)
	return m
}

func status(state channel.DeliveryState, f func(*channel.Status)) channel.Status {
	s := channel.Status{MessageID: outWamid, Recipient: sender, State: state, Time: statusTime}
	if f != nil {
		f(&s)
	}
	return s
}

func TestWebhookParsesEveryFixture(t *testing.T) {
	tests := []struct {
		fixture string
		want    channel.Inbound
	}{
		{"text", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeText), func(m *channel.Message) {
			m.Text = "Hola, ¿tienen envío a Lima? 😀"
		})}}},
		{"text_phone_only", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeText), func(m *channel.Message) {
			m.From.User, m.Text = waID, "Hello"
		})}}},
		{"text_username_only", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeText), func(m *channel.Message) {
			m.Text, m.Sender = "Hi from a username", channel.Profile{Name: "Sheena Nelson", Username: "sheena.n"}
		})}}},
		{"image", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeImage), func(m *channel.Message) {
			m.Text = "Is this broken?"
			m.Media = &channel.Media{Kind: channel.Image, ID: "1003383421387256", MIMEType: "image/jpeg", SHA256: "d8dbc5a14b1cf9efb3fbd7a8d3dd1e8c0a2ab1bd7a22e6fbd1fbd6b1d5f0a1c2"}
		})}}},
		{"audio_voice", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeAudio), func(m *channel.Message) {
			m.Media = &channel.Media{Kind: channel.Audio, ID: "1003383421387257", MIMEType: "audio/ogg; codecs=opus", SHA256: "Lw2Z0Lrt0Y1v6bIqI9Hh0Vb3B0s4Np3KfWQ5xKfR7aA=", Voice: true}
		})}}},
		{"video", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeVideo), func(m *channel.Message) {
			m.Text = "Unboxing"
			m.Media = &channel.Media{Kind: channel.Video, ID: "1003383421387258", MIMEType: "video/mp4", SHA256: "f1a4b0a9d4c6a3d1e9b2c5a8f7e6d5c4b3a2918070605040302010f0e0d0c0b0"}
		})}}},
		{"document", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeDocument), func(m *channel.Message) {
			m.Text = "My invoice"
			m.Media = &channel.Media{Kind: channel.Document, ID: "1003383421387259", MIMEType: "application/pdf", Filename: "factura-0042.pdf", SHA256: "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"}
		})}}},
		{"sticker", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeSticker), func(m *channel.Message) {
			m.Media = &channel.Media{Kind: channel.Sticker, ID: "1003383421387260", MIMEType: "image/webp", SHA256: "0e1d2c3b4a5968778695a4b3c2d1e0f00e1d2c3b4a5968778695a4b3c2d1e0f0", Animated: true}
		})}}},
		{"location", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeLocation), func(m *channel.Message) {
			m.Location = &channel.Location{Latitude: -12.0464, Longitude: -77.0428, Name: "Plaza Mayor", Address: "Jr. de la Unión, Lima", URL: "https://example.com/plaza"}
		})}}},
		{"contacts", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeContacts), func(m *channel.Message) {
			m.Contacts = []channel.Contact{{Name: "Luis Quispe", Phones: []channel.Phone{"51911122233", "5115550101"}, Emails: []channel.Text{"luis@example.com"}, Org: "Tienda Sol"}}
		})}}},
		{"interactive_button_reply", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeInteractive), func(m *channel.Message) {
			m.Reply = &channel.Reply{Kind: channel.ReplyButton, ID: "confirm-yes", Title: "Sí, confirmar"}
			m.Context = &channel.Context{MessageID: "wamid.OUTBOUND0001"}
		})}}},
		{"interactive_list_reply", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeInteractive), func(m *channel.Message) {
			m.Reply = &channel.Reply{Kind: channel.ReplyList, ID: "size-m", Title: "Medium", Description: "Fits 90-100 cm"}
			m.Context = &channel.Context{MessageID: "wamid.OUTBOUND0002"}
		})}}},
		{"interactive_nfm_reply", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeInteractive), func(m *channel.Message) {
			m.Reply = &channel.Reply{Kind: channel.ReplyFlow, ID: "flow", Title: "Sent", Data: json.RawMessage(`{"flow_token":"tok-1","size":"M"}`)}
			m.Context = &channel.Context{MessageID: "wamid.OUTBOUND0003"}
		})}}},
		{"button", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeInteractive), func(m *channel.Message) {
			m.Reply = &channel.Reply{Kind: channel.ReplyQuick, ID: "track:A-1001", Title: "Track my order"}
			m.Context = &channel.Context{MessageID: "wamid.TEMPLATE0001"}
		})}}},
		{"reaction", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeReaction), func(m *channel.Message) {
			m.Reaction = &channel.Reaction{MessageID: "wamid.OUTBOUND0004", Emoji: "👍"}
		})}}},
		{"reaction_removed", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeReaction), func(m *channel.Message) {
			m.Reaction = &channel.Reaction{MessageID: "wamid.OUTBOUND0004"}
		})}}},
		{"order", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeOrder), func(m *channel.Message) {
			m.Order = &channel.Order{CatalogID: "194836987003835", Text: "Love these!", Items: []channel.OrderItem{
				{ProductID: "di9ozbzfi4", Quantity: 2, UnitPrice: 7.99, Currency: "USD"},
				{ProductID: "sku-2", Quantity: 1, UnitPrice: 15, Currency: "USD"},
			}}
		})}}},
		{"system", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeSystem), func(m *channel.Message) {
			m.From.User, m.Sender = waID, channel.Profile{Phone: waID}
			m.System = &channel.SystemNote{Kind: "user_changed_number", Body: "User Sheena Nelson changed from 16505551234 to 12195555358", NewUser: "12195555358"}
		})}}},
		{"system_user_changed_user_id", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeSystem), func(m *channel.Message) {
			m.Sender = channel.Profile{}
			m.System = &channel.SystemNote{Kind: "user_changed_user_id", Body: "User changed their business-scoped user ID", NewUser: "US.28830471120938475561"}
		})}}},
		{"request_welcome", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeSystem), func(m *channel.Message) {
			m.System = &channel.SystemNote{Kind: "request_welcome"}
		})}}},
		{"context_reply", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeText), func(m *channel.Message) {
			m.Text, m.Context = "This one", &channel.Context{MessageID: "wamid.OUTBOUND0005"}
		})}}},
		{"forwarded", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeText), func(m *channel.Message) {
			m.Text, m.Context = "Look at this", &channel.Context{Forwarded: true, FrequentlyForwarded: true}
		})}}},
		{"referred_product", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeText), func(m *channel.Message) {
			m.Text, m.Context = "Is this in stock?", &channel.Context{MessageID: "wamid.PRODUCT0001", ProductID: "di9ozbzfi4"}
		})}}},
		{"referral", channel.Inbound{Messages: []channel.Message{with(msg(channel.TypeText), func(m *channel.Message) {
			m.Text = "I saw your ad"
			m.Referral = &channel.Referral{SourceURL: "https://fb.me/3cr4Wqqkv", SourceID: "120226305854810726", SourceType: "ad", Headline: "Winter sale",
				Body: "Alpaca scarves, 20% off", ClickID: "ARAkLkA8rmlFeiCktEJQ-QTwRiyYHAFDLMNDBH0CD3qpjd0HR4irJ6LEkR7JwFF4XvnO2E4Nx0-eM-GABDLOPaOdRMv-_zfUQ2a"}
		})}}},
		{"status_sent", channel.Inbound{Statuses: []channel.Status{status(channel.Sent, func(s *channel.Status) { s.Correlation = "wagent:42" })}}},
		{"status_delivered", channel.Inbound{Statuses: []channel.Status{status(channel.Delivered, func(s *channel.Status) { s.Correlation = "wagent:42" })}}},
		{"status_read", channel.Inbound{Statuses: []channel.Status{status(channel.Read, func(s *channel.Status) { s.Correlation = "wagent:42" })}}},
		{"status_played", channel.Inbound{Statuses: []channel.Status{status(channel.Played, nil)}}},
		{"status_failed", channel.Inbound{Statuses: []channel.Status{status(channel.Failed, func(s *channel.Status) {
			s.Recipient.User, s.Correlation = waID, "wagent:43"
			s.Errors = []channel.ErrorInfo{{Code: 131047, Title: "Re-engagement message",
				Detail: "Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}
		})}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			recv := &receiver{}
			h := newWebhook(t, recv, whatsapp.WebhookOptions{})
			body := fixture(t, tt.fixture)
			rec := post(h, body, whatsapptest.Sign(body, appSecret))
			require.Equal(t, http.StatusOK, rec.Code)
			require.Len(t, recv.Calls(), 1, "one Receive call per delivery")
			assert.Equal(t, tt.want, recv.Calls()[0])
		})
	}
}

func TestWebhookUnsupportedKeepsRaw(t *testing.T) {
	tests := []struct {
		fixture string
		errors  []channel.ErrorInfo
		raw     string // a fragment of the raw JSON kept
	}{
		{"unsupported", []channel.ErrorInfo{{Code: 131051, Title: "Message type unknown", Detail: "Message type is currently not supported."}}, `"poll_update"`},
		{"unknown_type", nil, `"hologram"`},
		{"bad_field_type", nil, `"voice": "yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			recv := &receiver{}
			h := newWebhook(t, recv, whatsapp.WebhookOptions{})
			body := fixture(t, tt.fixture)
			require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
			require.Len(t, recv.Calls(), 1)
			msgs := recv.Calls()[0].Messages
			require.Len(t, msgs, 1)
			m := msgs[0]
			assert.Equal(t, channel.TypeUnsupported, m.Type)
			assert.Equal(t, channel.MessageID(wamid), m.ID)
			assert.Equal(t, sender, m.From)
			assert.Equal(t, msgTime, m.Time)
			assert.Equal(t, tt.errors, m.Errors)
			assert.Nil(t, m.Media)
			assert.True(t, json.Valid(m.Raw))
			assert.Contains(t, string(m.Raw), tt.raw)
		})
	}
}

func TestWebhookBatch(t *testing.T) {
	recv := &receiver{}
	var ignored []whatsapp.IgnoredInfo
	var mu sync.Mutex
	h := newWebhook(t, recv, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{Ignored: func(i whatsapp.IgnoredInfo) {
		mu.Lock()
		defer mu.Unlock()
		ignored = append(ignored, i)
	}}})
	body := fixture(t, "batch")
	require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
	require.Len(t, recv.Calls(), 1, "a batched delivery is handed over in one Receive call")
	in := recv.Calls()[0]
	var ids []channel.MessageID
	for _, m := range in.Messages {
		ids = append(ids, m.ID)
	}
	assert.Equal(t, []channel.MessageID{"wamid.BATCH0001", "wamid.BATCH0002", "wamid.BATCH0003"}, ids)
	assert.Equal(t, channel.Address{Channel: channel.WhatsApp, Tenant: "106540352242923", User: "MX.99887766554433221100"}, in.Messages[2].From,
		"each change is routed by its own phone_number_id")
	assert.Equal(t, channel.Phone("5215512345678"), in.Messages[2].Sender.Phone)
	require.Len(t, in.Statuses, 2)
	assert.Equal(t, channel.Read, in.Statuses[0].State)
	assert.Equal(t, "wagent:7", in.Statuses[0].Correlation)
	assert.Equal(t, channel.TenantID("106540352242923"), in.Statuses[1].Recipient.Tenant)
	require.Len(t, ignored, 1)
	assert.Equal(t, "account_update", ignored[0].Field)
	assert.Equal(t, "field", ignored[0].Reason)
	assert.Contains(t, string(ignored[0].Value), "DISABLED_UPDATE")
}

func TestWebhookTenantsFilter(t *testing.T) {
	recv := &receiver{}
	var reasons []string
	h := newWebhook(t, recv, whatsapp.WebhookOptions{Tenants: []channel.TenantID{"106540352242923"},
		Hooks: whatsapp.WebhookHooks{Ignored: func(i whatsapp.IgnoredInfo) { reasons = append(reasons, i.Reason+":"+string(i.Tenant)) }}})
	body := fixture(t, "batch")
	require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
	require.Len(t, recv.Calls(), 1)
	require.Len(t, recv.Calls()[0].Messages, 1)
	assert.Equal(t, channel.MessageID("wamid.BATCH0003"), recv.Calls()[0].Messages[0].ID)
	assert.Equal(t, []string{"tenant:106540352242922", "field:"}, reasons)
}

func TestWebhookHooks(t *testing.T) {
	t.Run("value errors", func(t *testing.T) {
		recv := &receiver{}
		var got []whatsapp.ErrorsInfo
		h := newWebhook(t, recv, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{Errors: func(e whatsapp.ErrorsInfo) { got = append(got, e) }}})
		body := fixture(t, "value_errors")
		require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
		assert.Empty(t, recv.Calls(), "nothing to record: Receive is not called")
		assert.Equal(t, []whatsapp.ErrorsInfo{{Account: "102290129340398", Tenant: tenant, Errors: []channel.ErrorInfo{
			{Code: 131000, Title: "Something went wrong", Detail: "Message failed to be processed by WhatsApp."}}}}, got)
	})
	for _, tt := range []struct{ fixture, field, reason string }{
		{"template_status_update", "message_template_status_update", "field"},
		{"status_unknown", "messages", "status"},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			recv := &receiver{}
			var got []whatsapp.IgnoredInfo
			var deliveries []whatsapp.DeliveryInfo
			h := newWebhook(t, recv, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{
				Ignored:  func(i whatsapp.IgnoredInfo) { got = append(got, i) },
				Delivery: func(d whatsapp.DeliveryInfo) { deliveries = append(deliveries, d) },
			}})
			body := fixture(t, tt.fixture)
			require.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
			assert.Empty(t, recv.Calls())
			require.Len(t, got, 1)
			assert.Equal(t, tt.field, got[0].Field)
			assert.Equal(t, tt.reason, got[0].Reason)
			require.Len(t, deliveries, 1)
			assert.Equal(t, http.StatusOK, deliveries[0].HTTPStatus)
		})
	}
}

func TestWebhookSignature(t *testing.T) {
	body := fixture(t, "text")
	reserialised := func() []byte {
		var v any
		require.NoError(t, json.Unmarshal(body, &v))
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return b
	}()
	tests := []struct {
		name    string
		secrets []string
		body    []byte
		sig     string
		want    int
	}{
		{"valid", []string{appSecret}, body, whatsapptest.Sign(body, appSecret), http.StatusOK},
		{"missing", []string{appSecret}, body, "", http.StatusUnauthorized},
		{"wrong secret", []string{appSecret}, body, whatsapptest.Sign(body, "another-secret"), http.StatusUnauthorized},
		{"not hex", []string{appSecret}, body, "sha256=zz", http.StatusUnauthorized},
		{"sha1 header value", []string{appSecret}, body, "sha1=" + strings.Repeat("a", 40), http.StatusUnauthorized},
		{"rotated: old secret still accepted", []string{"new-secret", appSecret}, body, whatsapptest.Sign(body, appSecret), http.StatusOK},
		{"rotated: new secret accepted", []string{"new-secret", appSecret}, body, whatsapptest.Sign(body, "new-secret"), http.StatusOK},
		{"body re-serialised after signing", []string{appSecret}, reserialised, whatsapptest.Sign(body, appSecret), http.StatusUnauthorized},
		{"body changed by one byte", []string{appSecret}, bytes.Replace(body, []byte("Lima"), []byte("Lime"), 1), whatsapptest.Sign(body, appSecret), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv := &receiver{}
			h := newWebhook(t, recv, whatsapp.WebhookOptions{AppSecrets: tt.secrets})
			rec := post(h, tt.body, tt.sig)
			assert.Equal(t, tt.want, rec.Code)
			if tt.want != http.StatusOK {
				assert.Empty(t, recv.Calls(), "nothing is processed without a valid signature")
			} else {
				assert.Len(t, recv.Calls(), 1)
			}
		})
	}
}

func TestWebhookHandshake(t *testing.T) {
	tests := []struct {
		name  string
		query string
		want  int
		body  string
	}{
		{"verified", "hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1158201444", http.StatusOK, "1158201444"},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444", http.StatusForbidden, ""},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1", http.StatusForbidden, ""},
		{"no token", "hub.mode=subscribe&hub.challenge=1", http.StatusForbidden, ""},
		{"no challenge", "hub.mode=subscribe&hub.verify_token=" + verifyToken, http.StatusForbidden, ""},
		{"nothing", "", http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newWebhook(t, &receiver{}, whatsapp.WebhookOptions{})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/whatsapp?"+tt.query, nil))
			assert.Equal(t, tt.want, rec.Code)
			if tt.want == http.StatusOK {
				assert.Equal(t, tt.body, rec.Body.String(), "the raw challenge")
				assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
			}
		})
	}
	t.Run("no verify token configured", func(t *testing.T) {
		h, err := whatsapp.NewWebhook(&receiver{}, whatsapp.WebhookOptions{AppSecrets: []string{appSecret}, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", nil))
		assert.Equal(t, http.StatusForbidden, rec.Code)
	})
}

func TestWebhookRefusals(t *testing.T) {
	t.Run("413 above the body limit", func(t *testing.T) {
		recv := &receiver{}
		h := newWebhook(t, recv, whatsapp.WebhookOptions{MaxBodyBytes: 1024})
		body := bytes.Repeat([]byte(" "), 2048)
		assert.Equal(t, http.StatusRequestEntityTooLarge, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
		// Without a Content-Length the limit holds too.
		req := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(bytes.NewReader(body)))
		req.ContentLength = -1
		req.Header.Set("X-Hub-Signature-256", whatsapptest.Sign(body, appSecret))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.Empty(t, recv.Calls())
	})
	t.Run("default limit is 3 MB", func(t *testing.T) {
		h := newWebhook(t, &receiver{}, whatsapp.WebhookOptions{})
		body := bytes.Repeat([]byte(" "), 3<<20+1)
		assert.Equal(t, http.StatusRequestEntityTooLarge, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
	})
	t.Run("400 and a log line for signed malformed JSON", func(t *testing.T) {
		recv := &receiver{}
		var logs bytes.Buffer
		h := newWebhook(t, recv, whatsapp.WebhookOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		for _, body := range []string{`{"object": "whatsapp_business_account", "entry": [`, `{"entry": "not an array"}`, `[]`} {
			assert.Equal(t, http.StatusBadRequest, post(h, []byte(body), whatsapptest.Sign([]byte(body), appSecret)).Code, body)
		}
		assert.Empty(t, recv.Calls())
		assert.Equal(t, 3, strings.Count(logs.String(), "webhook delivery refused"))
		assert.NotContains(t, logs.String(), "not an array", "the payload is not logged")
	})
	t.Run("503 when Receive fails", func(t *testing.T) {
		for _, err := range []error{errors.New("store down"), agent.ErrClosed, fmt.Errorf("wrapped: %w", channel.ErrClosed)} {
			recv := &receiver{err: err}
			h := newWebhook(t, recv, whatsapp.WebhookOptions{})
			body := fixture(t, "text")
			assert.Equal(t, http.StatusServiceUnavailable, post(h, body, whatsapptest.Sign(body, appSecret)).Code, err.Error())
			assert.Len(t, recv.Calls(), 1)
		}
	})
	t.Run("405 for other methods", func(t *testing.T) {
		h := newWebhook(t, &receiver{}, whatsapp.WebhookOptions{})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, "GET, POST", rec.Header().Get("Allow"))
	})
	t.Run("other objects are acknowledged and ignored", func(t *testing.T) {
		recv := &receiver{}
		h := newWebhook(t, recv, whatsapp.WebhookOptions{})
		body := []byte(`{"object":"instagram","entry":[]}`)
		assert.Equal(t, http.StatusOK, post(h, body, whatsapptest.Sign(body, appSecret)).Code)
		assert.Empty(t, recv.Calls())
	})
}

func TestNewWebhookValidates(t *testing.T) {
	_, err := whatsapp.NewWebhook(nil, whatsapp.WebhookOptions{AppSecrets: []string{""}, MaxBodyBytes: -1})
	require.Error(t, err)
	for _, want := range []string{"receiver is required", "AppSecrets", "MaxBodyBytes"} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestWebhookLogsNoPersonalData runs deliveries of every fixture through a
// JSON log handler at Debug and checks that no text, name or number leaks.
func TestWebhookLogsNoPersonalData(t *testing.T) {
	var logs bytes.Buffer
	recv := &receiver{}
	h := newWebhook(t, recv, whatsapp.WebhookOptions{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	entries, err := os.ReadDir(filepath.Join("testdata", "webhook"))
	require.NoError(t, err)
	for _, e := range entries {
		body := fixture(t, strings.TrimSuffix(e.Name(), ".json"))
		post(h, body, whatsapptest.Sign(body, appSecret))
		post(h, body, whatsapptest.Sign(body, "wrong"))
	}
	require.NotEmpty(t, logs.String())
	for _, secret := range []string{waID, bsuid, "Sheena", "Hola", "Lima", appSecret, "5215512345678", "12195555358"} {
		assert.NotContains(t, logs.String(), secret)
	}
}
