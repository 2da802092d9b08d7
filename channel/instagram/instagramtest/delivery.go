package instagramtest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/wagent/wagent/internal/meta"
)

// Sign returns the X-Hub-Signature-256 header value of body under the app
// secret, as Meta computes it.
func Sign(body []byte, appSecret string) string { return meta.Sign(body, appSecret) }

// NewDelivery returns a webhook POST of body to url, signed with appSecret
// as Meta signs deliveries.
func NewDelivery(url string, body []byte, appSecret string) *http.Request {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic("instagramtest: " + err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(meta.SignatureHeader, Sign(body, appSecret))
	return req
}

// TextDelivery returns the webhook payload of one text message mid, sent
// at t by the user igsid to the business account.
func TextDelivery(account, igsid, mid, text string, t time.Time) []byte {
	return envelope(account, t, event(igsid, account, t, "message", map[string]any{"mid": mid, "text": text}))
}

// EchoDelivery returns the webhook payload of the echo of the text message
// mid that the business account sent to igsid at t.
func EchoDelivery(account, igsid, mid, text string, t time.Time) []byte {
	return envelope(account, t, event(account, igsid, t, "message", map[string]any{"mid": mid, "text": text, "is_echo": true}))
}

// ReadDelivery returns the webhook payload of a messaging_seen event: the
// user igsid read the business's message mid at t.
func ReadDelivery(account, igsid, mid string, t time.Time) []byte {
	return envelope(account, t, event(igsid, account, t, "read", map[string]any{"mid": mid}))
}

// DeliveryReceipt returns the webhook payload of a delivery event for the
// business's messages mids to igsid, at t, in the Messenger Platform's
// form (mids and watermark).
func DeliveryReceipt(account, igsid string, mids []string, t time.Time) []byte {
	return envelope(account, t, event(igsid, account, t, "delivery", map[string]any{"mids": mids, "watermark": t.UnixMilli()}))
}

func event(sender, recipient string, t time.Time, key string, value any) map[string]any {
	return map[string]any{
		"sender":    map[string]any{"id": sender},
		"recipient": map[string]any{"id": recipient},
		"timestamp": t.UnixMilli(),
		key:         value,
	}
}

func envelope(account string, t time.Time, events ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"object": "instagram",
		"entry": []any{map[string]any{
			"id":        account,
			"time":      t.UnixMilli(),
			"messaging": events,
		}},
	})
	if err != nil {
		panic("instagramtest: " + err.Error())
	}
	return b
}
