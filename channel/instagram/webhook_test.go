package instagram_test

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

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/instagram"
	"github.com/wagent/wagent/channel/instagram/instagramtest"
)

const (
	appSecret   = "test-app-secret"
	verifyToken = "test-verify-token"
	tenant      = channel.TenantID("17841400000000001")
	igsid       = "1234567890123456"
	textMID     = "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAxOjM0MDI4MjM2Njg0MTcxMDMwMTI0NDI3NjAxNzY4MzYxNjA4ODQxMTozMTc2NjY5NzA2MTYyNjM0NTAzMzE3OTk0MjcyNzY0Mjc1MgZDZD"
)

var (
	eventTime = time.UnixMilli(1739321023500).UTC()
	user      = channel.Address{Channel: channel.Instagram, Tenant: tenant, User: igsid}
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

func newWebhook(t testing.TB, recv channel.Receiver, opts instagram.WebhookOptions) *instagram.Webhook {
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
	h, err := instagram.NewWebhook(recv, opts)
	require.NoError(t, err)
	return h
}

func post(h http.Handler, body []byte, signature string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/instagram", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if signature != "" {
		req.Header.Set("X-Hub-Signature-256", signature)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func msg(id string, typ channel.Type, f func(*channel.Message)) channel.Message {
	m := channel.Message{ID: channel.MessageID(id), From: user, Time: eventTime, Type: typ}
	if f != nil {
		f(&m)
	}
	return m
}

func media(kind channel.MediaKind, url string) *channel.Media {
	return &channel.Media{Kind: kind, URL: url}
}

func status(id string, state channel.DeliveryState) channel.Status {
	return channel.Status{MessageID: channel.MessageID(id), Recipient: user, State: state, Time: eventTime}
}

func TestWebhookParsesEveryFixture(t *testing.T) {
	cdn := "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id="
	tests := []struct {
		fixture string
		want    channel.Inbound
	}{
		{"text", channel.Inbound{Messages: []channel.Message{msg(textMID, channel.TypeText, func(m *channel.Message) {
			m.Text = "Hola, ¿tienen envío a Lima? 😀"
		})}}},
		{"text_reply_to", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0002", channel.TypeText, func(m *channel.Message) {
			m.Text, m.Context = "This one", &channel.Context{MessageID: "aWdfZAG1fOUT0001"}
		})}}},
		{"story_reply", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0003", channel.TypeText, func(m *channel.Message) {
			m.Text = "Do you have it in blue?"
			m.Referral = &channel.Referral{SourceType: "story", SourceID: "17950000000000001", SourceURL: cdn + "17950000000000001&signature=AbStory"}
		})}}},
		{"quick_reply", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0004", channel.TypeInteractive, func(m *channel.Message) {
			m.Reply = &channel.Reply{Kind: channel.ReplyQuick, ID: "size-m", Title: "Medium"}
		})}}},
		{"image", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN-image", channel.TypeImage, func(m *channel.Message) {
			m.Media = media(channel.Image, cdn+"18000000000005&signature=Abimage")
		})}}},
		{"video", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN-video", channel.TypeVideo, func(m *channel.Message) {
			m.Media = media(channel.Video, cdn+"18000000000005&signature=Abvideo")
		})}}},
		{"audio", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN-audio", channel.TypeAudio, func(m *channel.Message) {
			m.Media = media(channel.Audio, cdn+"18000000000005&signature=Abaudio")
		})}}},
		{"file", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN-file", channel.TypeDocument, func(m *channel.Message) {
			m.Media = media(channel.Document, cdn+"18000000000004&signature=Abfile")
		})}}},
		{"share", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0005", channel.TypeImage, func(m *channel.Message) {
			m.Media = media(channel.Image, cdn+"18139494541428835&signature=AbShare")
			m.Referral = &channel.Referral{SourceType: "share", SourceURL: m.Media.URL}
		})}}},
		{"ig_post", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0006", channel.TypeImage, func(m *channel.Message) {
			m.Media = media(channel.Image, cdn+"18139494541428835&signature=AbPost")
			m.Referral = &channel.Referral{SourceType: "ig_post", SourceID: "18139494541428835", SourceURL: m.Media.URL, Headline: "Alpaca scarves, 20% off this week"}
		})}}},
		{"ig_reel", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0007", channel.TypeVideo, func(m *channel.Message) {
			m.Media = media(channel.Video, cdn+"18040000000000007&signature=AbReel")
			m.Referral = &channel.Referral{SourceType: "ig_reel", SourceID: "18040000000000007", SourceURL: m.Media.URL, Headline: "How we dye the wool"}
		})}}},
		{"story_mention", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0008", channel.TypeImage, func(m *channel.Message) {
			m.Media = media(channel.Image, cdn+"17960000000000008&signature=AbMention")
			m.Referral = &channel.Referral{SourceType: "story_mention", SourceURL: m.Media.URL}
		})}}},
		{"attachments_many", channel.Inbound{Messages: []channel.Message{
			msg("aWdfZAG1fIN0009", channel.TypeImage, func(m *channel.Message) {
				m.Media, m.Text = media(channel.Image, cdn+"1&signature=A1"), "Both of these"
			}),
			msg("aWdfZAG1fIN0009#2", channel.TypeImage, func(m *channel.Message) { m.Media = media(channel.Image, cdn+"2&signature=A2") }),
		}}},
		{"product", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0010", channel.TypeText, func(m *channel.Message) {
			m.Text, m.Context = "Is this in stock?", &channel.Context{ProductID: "7361523780599987"}
		})}}},
		{"reaction", channel.Inbound{Messages: []channel.Message{msg("reaction:aWdfZAG1fOUT0001:react:1739321023500", channel.TypeReaction, func(m *channel.Message) {
			m.Reaction = &channel.Reaction{MessageID: "aWdfZAG1fOUT0001", Emoji: "❤️"}
		})}}},
		{"unreact", channel.Inbound{Messages: []channel.Message{msg("reaction:aWdfZAG1fOUT0001:unreact:1739321023500", channel.TypeReaction, func(m *channel.Message) {
			m.Reaction = &channel.Reaction{MessageID: "aWdfZAG1fOUT0001"}
		})}}},
		{"postback", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0011", channel.TypeInteractive, func(m *channel.Message) {
			m.Reply = &channel.Reply{Kind: channel.ReplyPostback, ID: "buy:sku-42", Title: "Buy"}
		})}}},
		{"deleted", channel.Inbound{Messages: []channel.Message{msg("aWdfZAG1fIN0012#deleted", channel.TypeSystem, func(m *channel.Message) {
			m.System, m.Context = &channel.SystemNote{Kind: "message_deleted"}, &channel.Context{MessageID: "aWdfZAG1fIN0012"}
		})}}},
		{"read", channel.Inbound{Statuses: []channel.Status{status("aWdfZAG1fOUT0001", channel.Read)}}},
		{"delivery", channel.Inbound{Statuses: []channel.Status{status("aWdfZAG1fOUT0001", channel.Delivered), status("aWdfZAG1fOUT0002", channel.Delivered)}}},
		{"echo", channel.Inbound{Statuses: []channel.Status{status("aWdfZAG1fOUT0003", channel.Sent)}}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			recv := &receiver{}
			h := newWebhook(t, recv, instagram.WebhookOptions{})
			body := fixture(t, tt.fixture)
			rec := post(h, body, instagramtest.Sign(body, appSecret))
			require.Equal(t, http.StatusOK, rec.Code)
			require.Len(t, recv.Calls(), 1, "one Receive call per delivery")
			assert.Equal(t, tt.want, recv.Calls()[0])
		})
	}
}

func TestWebhookUnsupportedKeepsRaw(t *testing.T) {
	for _, tt := range []struct{ fixture, id, raw string }{
		{"unsupported", "aWdfZAG1fIN0013", `"is_unsupported": true`},
		{"unknown_attachment", "aWdfZAG1fIN0014", `"hologram"`},
		{"bad_field_type", "aWdfZAG1fIN0015", `"unexpected"`},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			recv := &receiver{}
			h := newWebhook(t, recv, instagram.WebhookOptions{})
			body := fixture(t, tt.fixture)
			require.Equal(t, http.StatusOK, post(h, body, instagramtest.Sign(body, appSecret)).Code)
			require.Len(t, recv.Calls(), 1)
			msgs := recv.Calls()[0].Messages
			require.Len(t, msgs, 1)
			m := msgs[0]
			assert.Equal(t, channel.TypeUnsupported, m.Type)
			assert.Equal(t, channel.MessageID(tt.id), m.ID)
			assert.Equal(t, user, m.From)
			assert.Equal(t, eventTime, m.Time)
			assert.Nil(t, m.Media)
			assert.True(t, json.Valid(m.Raw))
			assert.Contains(t, string(m.Raw), tt.raw)
		})
	}
}

func TestWebhookEchoes(t *testing.T) {
	recv := &receiver{}
	var echoes []instagram.Echo
	var deliveries []instagram.DeliveryInfo
	h := newWebhook(t, recv, instagram.WebhookOptions{Hooks: instagram.WebhookHooks{
		Echo:     func(e instagram.Echo) { echoes = append(echoes, e) },
		Delivery: func(d instagram.DeliveryInfo) { deliveries = append(deliveries, d) },
	}})
	body := fixture(t, "echo")
	require.Equal(t, http.StatusOK, post(h, body, instagramtest.Sign(body, appSecret)).Code)
	require.Len(t, recv.Calls(), 1)
	assert.Empty(t, recv.Calls()[0].Messages, "an echo is never a customer message: the agent must not answer it")
	assert.Equal(t, []instagram.Echo{{Message: msg("aWdfZAG1fOUT0003", channel.TypeText, func(m *channel.Message) {
		m.Text, m.Echo = "Thanks! It ships tomorrow.", true
	})}}, echoes, "the echo is given to the hook, marked as an echo, addressed to the conversation's customer")
	require.Len(t, deliveries, 1)
	assert.Equal(t, instagram.DeliveryInfo{HTTPStatus: 200, Statuses: 1, Echoes: 1, Duration: deliveries[0].Duration}, deliveries[0])
}

func TestWebhookBatch(t *testing.T) {
	recv := &receiver{}
	var reasons []string
	var echoes int
	h := newWebhook(t, recv, instagram.WebhookOptions{Hooks: instagram.WebhookHooks{
		Ignored: func(i instagram.IgnoredInfo) { reasons = append(reasons, i.Reason+":"+string(i.Tenant)) },
		Echo:    func(instagram.Echo) { echoes++ },
	}})
	body := fixture(t, "batch")
	require.Equal(t, http.StatusOK, post(h, body, instagramtest.Sign(body, appSecret)).Code)
	require.Len(t, recv.Calls(), 1, "a batched delivery is handed over in one Receive call")
	in := recv.Calls()[0]
	var ids []channel.MessageID
	for _, m := range in.Messages {
		ids = append(ids, m.ID)
	}
	assert.Equal(t, []channel.MessageID{"aWdfZAG1fBATCH0001", "aWdfZAG1fBATCH0003"}, ids, "in order, the echo left out")
	require.Len(t, in.Statuses, 2)
	assert.Equal(t, channel.Status{MessageID: "aWdfZAG1fBATCH0002", Recipient: user, State: channel.Sent, Time: time.UnixMilli(1739321023600).UTC()}, in.Statuses[0])
	assert.Equal(t, channel.Address{Channel: channel.Instagram, Tenant: "17841400000000002", User: "6543210987654321"}, in.Statuses[1].Recipient,
		"each entry is routed by its own account")
	assert.Equal(t, channel.Read, in.Statuses[1].State)
	assert.Equal(t, 1, echoes)
	assert.Equal(t, []string{"standby:17841400000000001", "changes:17841400000000002"}, reasons)
}

func TestWebhookIgnores(t *testing.T) {
	for _, tt := range []struct{ fixture, reason string }{
		{"read_watermark", "watermark"},
		{"referral_event", "event"},
	} {
		t.Run(tt.fixture, func(t *testing.T) {
			recv := &receiver{}
			var got []instagram.IgnoredInfo
			h := newWebhook(t, recv, instagram.WebhookOptions{Hooks: instagram.WebhookHooks{Ignored: func(i instagram.IgnoredInfo) { got = append(got, i) }}})
			body := fixture(t, tt.fixture)
			require.Equal(t, http.StatusOK, post(h, body, instagramtest.Sign(body, appSecret)).Code)
			assert.Empty(t, recv.Calls(), "nothing to record: Receive is not called")
			require.Len(t, got, 1)
			assert.Equal(t, tt.reason, got[0].Reason)
			assert.Equal(t, tenant, got[0].Tenant)
			assert.True(t, json.Valid(got[0].Value))
		})
	}
}

func TestWebhookTenantsFilter(t *testing.T) {
	recv := &receiver{}
	var reasons []string
	h := newWebhook(t, recv, instagram.WebhookOptions{Tenants: []channel.TenantID{"17841400000000002"},
		Hooks: instagram.WebhookHooks{Ignored: func(i instagram.IgnoredInfo) { reasons = append(reasons, i.Reason+":"+string(i.Tenant)) }}})
	body := fixture(t, "batch")
	require.Equal(t, http.StatusOK, post(h, body, instagramtest.Sign(body, appSecret)).Code)
	require.Len(t, recv.Calls(), 1)
	assert.Empty(t, recv.Calls()[0].Messages)
	require.Len(t, recv.Calls()[0].Statuses, 1)
	assert.Equal(t, channel.TenantID("17841400000000002"), recv.Calls()[0].Statuses[0].Recipient.Tenant)
	assert.Equal(t, []string{"standby:17841400000000001", "tenant:17841400000000001", "tenant:17841400000000001",
		"tenant:17841400000000001", "changes:17841400000000002"}, reasons)
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
		{"valid", []string{appSecret}, body, instagramtest.Sign(body, appSecret), http.StatusOK},
		{"missing", []string{appSecret}, body, "", http.StatusUnauthorized},
		{"wrong secret", []string{appSecret}, body, instagramtest.Sign(body, "another-secret"), http.StatusUnauthorized},
		{"not hex", []string{appSecret}, body, "sha256=zz", http.StatusUnauthorized},
		{"sha1 header value", []string{appSecret}, body, "sha1=" + strings.Repeat("a", 40), http.StatusUnauthorized},
		{"rotated: old secret still accepted", []string{"new-secret", appSecret}, body, instagramtest.Sign(body, appSecret), http.StatusOK},
		{"rotated: new secret accepted", []string{"new-secret", appSecret}, body, instagramtest.Sign(body, "new-secret"), http.StatusOK},
		{"body re-serialised after signing (unicode unescaped)", []string{appSecret}, reserialised, instagramtest.Sign(body, appSecret), http.StatusUnauthorized},
		{"body changed by one byte", []string{appSecret}, bytes.Replace(body, []byte("Lima"), []byte("Lime"), 1), instagramtest.Sign(body, appSecret), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recv := &receiver{}
			h := newWebhook(t, recv, instagram.WebhookOptions{AppSecrets: tt.secrets})
			assert.Equal(t, tt.want, post(h, tt.body, tt.sig).Code)
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
	}{
		{"verified", "hub.mode=subscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1158201444", http.StatusOK},
		{"wrong token", "hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444", http.StatusForbidden},
		{"wrong mode", "hub.mode=unsubscribe&hub.verify_token=" + verifyToken + "&hub.challenge=1", http.StatusForbidden},
		{"no challenge", "hub.mode=subscribe&hub.verify_token=" + verifyToken, http.StatusForbidden},
		{"nothing", "", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newWebhook(t, &receiver{}, instagram.WebhookOptions{})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/instagram?"+tt.query, nil))
			assert.Equal(t, tt.want, rec.Code)
			if tt.want == http.StatusOK {
				assert.Equal(t, "1158201444", rec.Body.String(), "the raw challenge")
				assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
			}
		})
	}
}

func TestWebhookRefusals(t *testing.T) {
	t.Run("413 above the body limit", func(t *testing.T) {
		recv := &receiver{}
		h := newWebhook(t, recv, instagram.WebhookOptions{MaxBodyBytes: 1024})
		body := bytes.Repeat([]byte(" "), 2048)
		assert.Equal(t, http.StatusRequestEntityTooLarge, post(h, body, instagramtest.Sign(body, appSecret)).Code)
		req := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(bytes.NewReader(body)))
		req.ContentLength = -1
		req.Header.Set("X-Hub-Signature-256", instagramtest.Sign(body, appSecret))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, "without a Content-Length the limit holds too")
		assert.Empty(t, recv.Calls())
	})
	t.Run("400 for signed malformed JSON, payload not logged", func(t *testing.T) {
		recv := &receiver{}
		var logs bytes.Buffer
		h := newWebhook(t, recv, instagram.WebhookOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
		for _, body := range []string{`{"object": "instagram", "entry": [`, `{"entry": "not an array"}`, `[]`} {
			assert.Equal(t, http.StatusBadRequest, post(h, []byte(body), instagramtest.Sign([]byte(body), appSecret)).Code, body)
		}
		assert.Empty(t, recv.Calls())
		assert.Equal(t, 3, strings.Count(logs.String(), "webhook delivery refused"))
		assert.NotContains(t, logs.String(), "not an array")
	})
	t.Run("503 when Receive fails", func(t *testing.T) {
		for _, err := range []error{errors.New("store down"), fmt.Errorf("wrapped: %w", channel.ErrClosed)} {
			recv := &receiver{err: err}
			c, _ := newClient(t, nil)
			h := newWebhook(t, recv, instagram.WebhookOptions{Client: c})
			body := fixture(t, "text")
			assert.Equal(t, http.StatusServiceUnavailable, post(h, body, instagramtest.Sign(body, appSecret)).Code, err.Error())
			assert.Len(t, recv.Calls(), 1)
		}
	})
	t.Run("405 for other methods", func(t *testing.T) {
		h := newWebhook(t, &receiver{}, instagram.WebhookOptions{})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPut, "/", nil))
		assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
		assert.Equal(t, "GET, POST", rec.Header().Get("Allow"))
	})
	t.Run("other objects are acknowledged and ignored", func(t *testing.T) {
		recv := &receiver{}
		var got []instagram.IgnoredInfo
		h := newWebhook(t, recv, instagram.WebhookOptions{Hooks: instagram.WebhookHooks{Ignored: func(i instagram.IgnoredInfo) { got = append(got, i) }}})
		body := []byte(`{"object":"whatsapp_business_account","entry":[]}`)
		assert.Equal(t, http.StatusOK, post(h, body, instagramtest.Sign(body, appSecret)).Code)
		assert.Empty(t, recv.Calls())
		require.Len(t, got, 1)
		assert.Equal(t, instagram.IgnoredInfo{Reason: "object", Field: "whatsapp_business_account"}, got[0])
	})
}

func TestNewWebhookValidates(t *testing.T) {
	_, err := instagram.NewWebhook(nil, instagram.WebhookOptions{AppSecrets: []string{""}, MaxBodyBytes: -1})
	require.Error(t, err)
	for _, want := range []string{"receiver is required", "AppSecrets", "MaxBodyBytes"} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestWebhookLogsNoPersonalData runs every fixture, signed and not, through
// a JSON log handler at Debug and checks that no text or id of a user
// leaks.
func TestWebhookLogsNoPersonalData(t *testing.T) {
	var logs bytes.Buffer
	h := newWebhook(t, &receiver{}, instagram.WebhookOptions{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	entries, err := os.ReadDir(filepath.Join("testdata", "webhook"))
	require.NoError(t, err)
	for _, e := range entries {
		body := fixture(t, strings.TrimSuffix(e.Name(), ".json"))
		post(h, body, instagramtest.Sign(body, appSecret))
		post(h, body, instagramtest.Sign(body, "wrong"))
	}
	require.NotEmpty(t, logs.String())
	for _, secret := range []string{igsid, "6543210987654321", "Hola", "Lima", "Medium", "buy:sku-42", "lookaside", appSecret} {
		assert.NotContains(t, logs.String(), secret)
	}
}
