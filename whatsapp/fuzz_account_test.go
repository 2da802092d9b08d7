package whatsapp_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// FuzzAccountEvents feeds signed account-level deliveries to the webhook:
// it must never panic, answer 200 or 400 (413 for a huge body), and hand
// the Account hook only events with exactly the pointer of their field
// set.
func FuzzAccountEvents(f *testing.F) {
	for _, name := range []string{"template_status_update", "account_template_paused", "account_template_quality", "account_template_category",
		"account_phone_quality", "account_update", "account_unknown_field"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","time":"x","changes":[{"field":"account_update","value":{"event":1}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"message_template_status_update","value":[]}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"account_update","value":{"event":"X","restriction_info":[1,{"expiration":"9"}]}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var events []whatsapp.AccountEvent
		h := newWebhook(t, &receiver{}, whatsapp.WebhookOptions{Hooks: whatsapp.WebhookHooks{Account: func(e whatsapp.AccountEvent) { events = append(events, e) }}})
		switch code := post(h, body, whatsapptest.Sign(body, appSecret)).Code; code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for a signed body", code)
		}
		for _, e := range events {
			set := map[string]bool{
				whatsapp.FieldTemplateStatus:   e.TemplateStatus != nil,
				whatsapp.FieldTemplateQuality:  e.TemplateQuality != nil,
				whatsapp.FieldTemplateCategory: e.TemplateCategory != nil,
				whatsapp.FieldPhoneQuality:     e.PhoneQuality != nil,
				whatsapp.FieldAccountUpdate:    e.AccountUpdate != nil,
			}
			n := 0
			for field, ok := range set {
				if ok {
					n++
					if field != e.Field {
						t.Fatalf("event of field %q carries the %q update", e.Field, field)
					}
				}
			}
			if n != 1 {
				t.Fatalf("event of field %q carries %d updates", e.Field, n)
			}
			if e.TemplateStatus != nil && e.TemplateStatus.Event == "" {
				t.Fatal("template status update without event")
			}
		}
	})
}

// FuzzTemplateSpec decodes template JSON (as the example's create command
// reads it) and validates it: no panic, and a valid template stays valid
// and unchanged through its own JSON encoding.
func FuzzTemplateSpec(f *testing.F) {
	full, err := fullTemplate().Build()
	if err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(full)
	f.Add(b)
	named, err := whatsapp.NewTemplate("welcome", "es", whatsapp.TemplateUtility).HeaderTextNamed("Hola {{name}}", whatsapp.NamedExample{ParamName: "name", Example: "Ana"}).
		BodyNamed("Hola {{name}}, pedido {{order_id}}", whatsapp.NamedExample{ParamName: "name", Example: "Ana"}, whatsapp.NamedExample{ParamName: "order_id", Example: "1"}).Build()
	if err != nil {
		f.Fatal(err)
	}
	b, _ = json.Marshal(named)
	f.Add(b)
	f.Add([]byte(`{"name":"x","language":"en","category":"UTILITY","components":[{"type":"BODY","text":"{{1}}{{1}}{{0}}{{}}{{ 1 }}"}]}`))
	f.Add([]byte(`{"name":"x","language":"en","category":"MARKETING","components":[{"type":"BUTTONS","buttons":[{"type":"COPY_CODE","example":7}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var spec whatsapp.TemplateSpec
		if json.Unmarshal(data, &spec) != nil {
			return
		}
		if spec.Validate() != nil {
			return
		}
		again, err := json.Marshal(spec)
		if err != nil {
			t.Fatalf("a valid template does not encode: %v", err)
		}
		var back whatsapp.TemplateSpec
		if err := json.Unmarshal(again, &back); err != nil {
			t.Fatalf("a valid template's JSON does not decode: %v", err)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("a valid template is invalid after a round trip: %v", err)
		}
		b2, _ := json.Marshal(back)
		if string(b2) != string(again) {
			t.Fatalf("round trip changed the template:\n%s\n%s", again, b2)
		}
	})
}
