package instagram_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/instagram"
	"github.com/wagent/wagent/channel/instagram/instagramtest"
)

// FuzzWebhookParse feeds signed bodies to the webhook, seeded with every
// fixture: it must never panic, answer only 200, 400 or 413 to a signed
// body, and hand over only messages with an id, a type and a complete
// sender, statuses with an id and a recipient, and a Sent status for every
// echo.
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
	f.Add([]byte(`{"object":"instagram","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"recipient":{"id":"1"},"message":{"mid":"m","attachments":[{"type":"image","payload":null}]}}]}]}`))
	f.Add([]byte(`{"object":"instagram","entry":[{"id":1,"messaging":[{"sender":{"id":2},"timestamp":"x","message":null,"read":{}}]}]}`))
	f.Add([]byte(`{"entry":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recv := &receiver{}
		var echoes []instagram.Echo
		h := newWebhook(t, recv, instagram.WebhookOptions{Hooks: instagram.WebhookHooks{Echo: func(e instagram.Echo) { echoes = append(echoes, e) }}})
		rec := post(h, body, instagramtest.Sign(body, appSecret))
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
		sent := map[channel.MessageID]bool{}
		for _, in := range recv.Calls() {
			for _, m := range in.Messages {
				if m.ID == "" || m.From.Channel != channel.Instagram || m.From.Tenant == "" || m.From.User == "" {
					t.Fatalf("message without id or sender: %+v", m)
				}
				if m.Type == "" {
					t.Fatalf("message without type: %+v", m)
				}
				if m.Type == channel.TypeUnsupported && len(m.Raw) == 0 {
					t.Fatal("unsupported message without its raw JSON")
				}
				if m.Echo {
					t.Fatalf("echo %q handed to the receiver: the agent would answer it", m.ID)
				}
			}
			for _, s := range in.Statuses {
				if s.MessageID == "" || s.Recipient.Tenant == "" || s.Recipient.User == "" {
					t.Fatalf("status without id or recipient: %+v", s)
				}
				if s.State == channel.Sent {
					sent[s.MessageID] = true
				}
			}
		}
		for _, e := range echoes {
			if !sent[e.Message.ID] {
				t.Fatalf("echo %q without its Sent status", e.Message.ID)
			}
			if !e.Message.Echo {
				t.Fatalf("echo %q not marked as one", e.Message.ID)
			}
		}
	})
}
