package whatsapptest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
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
		panic("whatsapptest: " + err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(meta.SignatureHeader, Sign(body, appSecret))
	return req
}

// TextDelivery returns the webhook payload of one text message with id,
// sent at t by the user with phone number waID (and business-scoped user
// id userID, when not empty) to the business number phoneNumberID.
func TextDelivery(phoneNumberID, waID, userID, id, text string, t time.Time) []byte {
	contact := map[string]any{"profile": map[string]any{"name": "Test User"}, "wa_id": waID}
	msg := map[string]any{"from": waID, "id": id, "timestamp": strconv.FormatInt(t.Unix(), 10), "type": "text", "text": map[string]any{"body": text}}
	if userID != "" {
		contact["user_id"] = userID
		msg["from_user_id"] = userID
	}
	return envelope(phoneNumberID, map[string]any{"contacts": []any{contact}, "messages": []any{msg}})
}

// MediaDelivery returns the webhook payload of one media message (kind
// "image", "audio", "video", "document" or "sticker") with id, sent at t by
// the user with phone number waID (and business-scoped user id userID, when
// not empty) to phoneNumberID, carrying the media mediaID of mimeType, its
// SHA-256 (hex or base64, as the payload gives it; may be empty) and a
// caption (may be empty). Use [Server.AddMedia] for a mediaID the fake
// API serves.
func MediaDelivery(phoneNumberID, waID, userID, id, kind, mediaID, mimeType, sha256, caption string, t time.Time) []byte {
	contact := map[string]any{"profile": map[string]any{"name": "Test User"}, "wa_id": waID}
	media := map[string]any{"id": mediaID, "mime_type": mimeType}
	if sha256 != "" {
		media["sha256"] = sha256
	}
	if caption != "" {
		media["caption"] = caption
	}
	if kind == "audio" {
		media["voice"] = true
	}
	msg := map[string]any{"from": waID, "id": id, "timestamp": strconv.FormatInt(t.Unix(), 10), "type": kind, kind: media}
	if userID != "" {
		contact["user_id"] = userID
		msg["from_user_id"] = userID
	}
	return envelope(phoneNumberID, map[string]any{"contacts": []any{contact}, "messages": []any{msg}})
}

// StatusDelivery returns the webhook payload of one status (sent,
// delivered, read, played or failed) of the message id sent by
// phoneNumberID to recipient, with the biz_opaque_callback_data
// correlation when not empty, at t. A failed status carries errorCode.
func StatusDelivery(phoneNumberID, recipient, id, status, correlation string, errorCode int, t time.Time) []byte {
	st := map[string]any{"id": id, "status": status, "timestamp": strconv.FormatInt(t.Unix(), 10), "recipient_id": recipient}
	if correlation != "" {
		st["biz_opaque_callback_data"] = correlation
	}
	if errorCode != 0 {
		st["errors"] = []any{map[string]any{"code": errorCode, "title": "error " + strconv.Itoa(errorCode), "message": "error " + strconv.Itoa(errorCode),
			"error_data": map[string]any{"details": "details"}}}
	}
	return envelope(phoneNumberID, map[string]any{"statuses": []any{st}})
}

func envelope(phoneNumberID string, value map[string]any) []byte {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]any{"display_phone_number": "15550000000", "phone_number_id": phoneNumberID}
	b, err := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{
			"id":      "100000000000001",
			"changes": []any{map[string]any{"value": value, "field": "messages"}},
		}},
	})
	if err != nil {
		panic("whatsapptest: " + err.Error())
	}
	return b
}
