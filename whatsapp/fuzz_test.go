package whatsapp_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// FuzzWebhookParse feeds signed bodies to the webhook: it must never panic,
// answer only 200 or 400 to a signed body, and hand over only messages with
// an id and a complete sender and statuses with an id and a tenant.
func FuzzWebhookParse(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "webhook"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("testdata", "webhook", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
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
