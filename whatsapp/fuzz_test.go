package whatsapp_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// fixtures returns the webhook fixtures under testdata/webhook, the seed
// corpus of the fuzz tests.
func fixtures(f *testing.F) [][]byte {
	entries, err := os.ReadDir(filepath.Join("testdata", "webhook"))
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "webhook", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		f.Fatal("no fixtures")
	}
	return out
}

// FuzzWebhookSignature posts bodies with X-Hub-Signature-256 values to the
// webhook: a delivery is refused with 401, and never reaches the receiver,
// exactly when the header is not the HMAC-SHA256 of the body under the app
// secret (hex and prefix in any case).
func FuzzWebhookSignature(f *testing.F) {
	for _, b := range fixtures(f) {
		sig := whatsapptest.Sign(b, appSecret)
		f.Add(b, sig)
		f.Add(b, strings.ToUpper(sig))
		f.Add(b, whatsapptest.Sign(b, "another secret"))
		f.Add(b, sig[:len(sig)-1])
		f.Add(b, "")
		f.Add(append(b, ' '), sig)
	}
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		recv := &receiver{}
		h := newWebhook(t, recv, whatsapp.WebhookOptions{})
		rec := post(h, body, header)
		valid := header != "" && strings.EqualFold(header, whatsapptest.Sign(body, appSecret))
		switch {
		case rec.Code == http.StatusRequestEntityTooLarge:
		case !valid && rec.Code != http.StatusUnauthorized:
			t.Fatalf("status %d for a wrong signature", rec.Code)
		case !valid && len(recv.Calls()) > 0:
			t.Fatal("a delivery with a wrong signature reached the receiver")
		case valid && rec.Code == http.StatusUnauthorized:
			t.Fatal("a valid signature was refused")
		}
	})
}

// FuzzWebhookParse feeds signed bodies to the webhook: it must never panic,
// answer only 200 or 400 to a signed body, and hand over only messages with
// an id and a complete sender and statuses with an id and a tenant.
func FuzzWebhookParse(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":"1"},"messages":[{"id":"x","from":"1","type":"text","text":{"body":1}}]}}]}]}`))
	f.Add([]byte(`{"entry":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recv := &receiver{}
		h := newWebhook(t, recv, whatsapp.WebhookOptions{})
		rec := post(h, body, whatsapptest.Sign(body, appSecret))
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			if json.Valid(body) && len(recv.Calls()) > 0 {
				t.Fatal("a refused delivery must not be received")
			}
			return
		case http.StatusRequestEntityTooLarge:
			return
		default:
			t.Fatalf("status %d for a signed body", rec.Code)
		}
		for _, in := range recv.Calls() {
			for _, m := range in.Messages {
				if m.ID == "" || m.From.Channel != channel.WhatsApp || m.From.Tenant == "" || m.From.User == "" {
					t.Fatalf("message without id or sender: %+v", m)
				}
				if m.Type == "" {
					t.Fatalf("message without type: %+v", m)
				}
				if m.Type == channel.TypeUnsupported && len(m.Raw) == 0 {
					t.Fatal("unsupported message without its raw JSON")
				}
			}
			for _, s := range in.Statuses {
				if s.MessageID == "" || s.Recipient.Tenant == "" {
					t.Fatalf("status without id or tenant: %+v", s)
				}
			}
		}
	})
}
