package channel_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
)

var to = channel.Address{Channel: channel.WhatsApp, Tenant: "1098765432", User: "51987654321"}

func TestOutboundValidate(t *testing.T) {
	tests := []struct {
		name string
		out  channel.Outbound
		kind channel.OutboundKind
		err  string // empty: valid
	}{
		{"text", channel.Outbound{To: to, Text: "hola"}, channel.OutText, ""},
		{"no recipient user", channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: "1"}, Text: "hola"}, channel.OutText, "recipient address"},
		{"nothing to send", channel.Outbound{To: to}, "", "set text or exactly one"},
		{"two kinds", channel.Outbound{To: to, Media: &channel.Media{Kind: channel.Image, ID: "m1"}, Location: &channel.Location{}}, "", "set text or exactly one"},
		{"media by id with caption", channel.Outbound{To: to, Text: "your receipt", Media: &channel.Media{Kind: channel.Document, ID: "m1", Filename: "r.pdf"}}, channel.OutMedia, ""},
		{"media without id or url", channel.Outbound{To: to, Media: &channel.Media{Kind: channel.Image}}, channel.OutMedia, "media needs an id or a url"},
		{"media without kind", channel.Outbound{To: to, Media: &channel.Media{URL: "https://x/y.png"}}, channel.OutMedia, "media needs a kind"},
		{"buttons", channel.Outbound{To: to, Text: "Confirm?", Interactive: &channel.Interactive{Buttons: []channel.Button{{ID: "y", Title: "Yes"}, {ID: "n", Title: "No"}}}}, channel.OutInteractive, ""},
		{"buttons without body", channel.Outbound{To: to, Interactive: &channel.Interactive{Buttons: []channel.Button{{ID: "y", Title: "Yes"}}}}, channel.OutInteractive, "needs a body"},
		{"button without id", channel.Outbound{To: to, Text: "?", Interactive: &channel.Interactive{Buttons: []channel.Button{{Title: "Yes"}}}}, channel.OutInteractive, "every button needs"},
		{"buttons and list", channel.Outbound{To: to, Text: "?", Interactive: &channel.Interactive{Buttons: []channel.Button{{ID: "y", Title: "Y"}}, List: &channel.List{Button: "Menu", Sections: []channel.Section{{Rows: []channel.Row{{ID: "1", Title: "One"}}}}}}}, channel.OutInteractive, "either buttons or a list"},
		{"list", channel.Outbound{To: to, Text: "Pick", Interactive: &channel.Interactive{List: &channel.List{Button: "Menu", Sections: []channel.Section{{Title: "Sizes", Rows: []channel.Row{{ID: "m", Title: "M"}}}}}}}, channel.OutInteractive, ""},
		{"empty list", channel.Outbound{To: to, Text: "Pick", Interactive: &channel.Interactive{List: &channel.List{Button: "Menu"}}}, channel.OutInteractive, "at least one row"},
		{"template", channel.Outbound{To: to, Template: &channel.Template{Name: "order_update", Language: "es", Params: []channel.TemplateParam{{Value: "A-1"}}}}, channel.OutTemplate, ""},
		{"template without language", channel.Outbound{To: to, Template: &channel.Template{Name: "order_update"}}, channel.OutTemplate, "name and a language"},
		{"reaction", channel.Outbound{To: to, Reaction: &channel.Reaction{MessageID: "wamid.1", Emoji: "👍"}}, channel.OutReaction, ""},
		{"reaction without target", channel.Outbound{To: to, Reaction: &channel.Reaction{Emoji: "👍"}}, channel.OutReaction, "reaction needs"},
		{"cards", channel.Outbound{To: to, Text: "Our scarves", Cards: []channel.Card{
			{Title: "Alpaca scarf", Subtitle: "S/ 120.00", ImageURL: "https://example.com/s.jpg", Buttons: []channel.CardButton{{Title: "Buy", Payload: "buy:scarf"}, {Title: "See", URL: "https://example.com/s"}}},
			{Title: strings.Repeat("ñ", channel.MaxCardTitle), Subtitle: strings.Repeat("é", channel.MaxCardSubtitle)},
		}}, channel.OutCards, ""},
		{"cards and media", channel.Outbound{To: to, Cards: []channel.Card{{Title: "t"}}, Media: &channel.Media{Kind: channel.Image, URL: "https://x/y.png"}}, "", "set text or exactly one"},
		{"no cards", channel.Outbound{To: to, Text: "hola", Cards: []channel.Card{}}, channel.OutCards, "0 cards; send 1 to 10"},
		{"eleven cards", channel.Outbound{To: to, Cards: make([]channel.Card, channel.MaxCards+1)}, channel.OutCards, "11 cards; send 1 to 10"},
		{"card without title", channel.Outbound{To: to, Cards: []channel.Card{{Title: "t"}, {Subtitle: "s"}}}, channel.OutCards, "card 1 needs a title"},
		{"card title too long", channel.Outbound{To: to, Cards: []channel.Card{{Title: strings.Repeat("x", channel.MaxCardTitle+1)}}}, channel.OutCards, "title is 81 characters, more than 80"},
		{"card subtitle too long", channel.Outbound{To: to, Cards: []channel.Card{{Title: "t", Subtitle: strings.Repeat("x", channel.MaxCardSubtitle+1)}}}, channel.OutCards, "subtitle is 81 characters, more than 80"},
		{"card with four buttons", channel.Outbound{To: to, Cards: []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Title: "a", Payload: "a"}, {Title: "b", Payload: "b"}, {Title: "c", Payload: "c"}, {Title: "d", Payload: "d"}}}}}, channel.OutCards, "4 buttons, more than 3"},
		{"card button without title", channel.Outbound{To: to, Cards: []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Payload: "a"}}}}}, channel.OutCards, "button 0 needs a title"},
		{"card button with payload and url", channel.Outbound{To: to, Cards: []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Title: "a", Payload: "a", URL: "https://x"}}}}}, channel.OutCards, "either a payload or a url"},
		{"card button with neither", channel.Outbound{To: to, Cards: []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Title: "a"}}}}}, channel.OutCards, "either a payload or a url"},
		{"human text", channel.Outbound{To: to, Text: "a person here", Human: true}, channel.OutText, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.kind, tt.out.Kind())
			err := tt.out.Validate()
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, channel.ErrInvalidMessage)
			assert.Contains(t, err.Error(), tt.err)
		})
	}
}

func TestErrorClassifies(t *testing.T) {
	cause := errors.New("graph: (#131047) Re-engagement message")
	err := fmt.Errorf("sending: %w", &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrWindowClosed, Code: 131047, HTTPStatus: 400, Err: cause})
	assert.ErrorIs(t, err, channel.ErrWindowClosed)
	assert.ErrorIs(t, err, cause)
	var ce *channel.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 131047, ce.Code)
	assert.Equal(t, "sending: channel: whatsapp: customer service window closed (code 131047): graph: (#131047) Re-engagement message", err.Error())
	assert.False(t, channel.Retryable(err))
	assert.True(t, channel.Retryable(&channel.Error{Kind: channel.ErrRateLimited}))
	assert.True(t, channel.Retryable(fmt.Errorf("x: %w", channel.ErrUnavailable)))
	assert.Equal(t, "channel: whatsapp: error", (&channel.Error{Channel: channel.WhatsApp}).Error())
}

func TestPersonalDataRedactsItselfInLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	m := channel.Message{
		ID: "wamid.1", From: to, Type: channel.TypeText, Text: "mi DNI es 45678912",
		Sender: channel.Profile{Name: "Rosa Quispe", Phone: "51987654321", Username: "rosaq"},
	}
	log.Info("inbound", "from", m.From, "text", m.Text, "sender", m.Sender, "user", m.From.User, "phone", m.Sender.Phone)
	out := buf.String()
	for _, secret := range []string{"45678912", "Rosa", "51987654321", "rosaq"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, `"text":"[redacted 18B]"`)
	assert.Contains(t, out, `"user":"[redacted …21]"`, "the tail lets operators tell users apart")
	assert.Contains(t, out, `"sender":{"name":true,"phone":true,"username":true}`)
	assert.Contains(t, out, `"tenant":"1098765432"`, "the business is not personal data")
}

func TestDeliveryStateText(t *testing.T) {
	for s := channel.Pending; s <= channel.Failed; s++ {
		b, err := json.Marshal(s)
		require.NoError(t, err)
		var back channel.DeliveryState
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back)
	}
	assert.Equal(t, `"read"`, func() string { b, _ := json.Marshal(channel.Read); return string(b) }())
	_, err := channel.ParseDeliveryState("lost")
	assert.ErrorContains(t, err, `unknown delivery state "lost"`)
	assert.Equal(t, "DeliveryState(9)", channel.DeliveryState(9).String())
}
