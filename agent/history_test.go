package agent

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

func userRec(body string) store.Message {
	return store.Message{Role: store.User, Inbound: &channel.Message{Type: channel.TypeText, Text: channel.Text(body)}}
}

func call(id string) store.Message {
	return store.Message{Role: store.Assistant, Parts: []llm.Part{llm.ToolCallPart(llm.ToolCall{ID: id, Name: "t", Args: json.RawMessage(`{}`)})}}
}

func result(id string) store.Message {
	return store.Message{Role: store.Tool, Parts: []llm.Part{llm.ToolResultPart(llm.ToolResult{CallID: id, Name: "t", Content: "ok"})}}
}

func assistant(body string) store.Message {
	return store.Message{Role: store.Assistant, Parts: []llm.Part{llm.TextPart(body)}}
}

func TestHistoryMessages(t *testing.T) {
	tests := []struct {
		name string
		recs []store.Message
		want []llm.Message
	}{
		{
			name: "plain exchange",
			recs: []store.Message{userRec("hi"), assistant("hello"), userRec("bye")},
			want: []llm.Message{llm.UserText("hi"), llm.AssistantText("hello"), llm.UserText("bye")},
		},
		{
			name: "window starts after the question: leading reply and tool exchange dropped",
			recs: []store.Message{result("a"), assistant("it is 19"), userRec("thanks")},
			want: []llm.Message{llm.UserText("thanks")},
		},
		{
			name: "consecutive customer messages merged",
			recs: []store.Message{userRec("hi"), userRec("are you there?")},
			want: []llm.Message{{Role: llm.User, Parts: []llm.Part{llm.TextPart("hi"), llm.TextPart("are you there?")}}},
		},
		{
			name: "tool call kept with its results",
			recs: []store.Message{userRec("weather?"), call("a"), result("a"), assistant("19")},
			want: []llm.Message{
				llm.UserText("weather?"),
				{Role: llm.Assistant, Parts: call("a").Parts},
				{Role: llm.ToolRole, Parts: result("a").Parts},
				llm.AssistantText("19"),
			},
		},
		{
			name: "tool call without its results dropped (turn cut by a crash)",
			recs: []store.Message{userRec("weather?"), call("a"), userRec("hello?")},
			want: []llm.Message{{Role: llm.User, Parts: []llm.Part{llm.TextPart("weather?"), llm.TextPart("hello?")}}},
		},
		{
			name: "results for other calls do not count",
			recs: []store.Message{userRec("q"), call("a"), result("b")},
			want: []llm.Message{llm.UserText("q")},
		},
		{
			name: "operator message shown as assistant text, notes hidden",
			recs: []store.Message{
				userRec("I want a person"),
				{Role: store.Note, Outbound: &channel.Outbound{Text: "VIP customer"}},
				{Role: store.Operator, Outbound: &channel.Outbound{Text: "Hi, this is Ana"}},
				userRec("thanks Ana"),
			},
			want: []llm.Message{llm.UserText("I want a person"), llm.AssistantText("Hi, this is Ana"), llm.UserText("thanks Ana")},
		},
		{
			name: "empty",
			recs: nil,
			want: []llm.Message{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, historyMessages(tt.recs, nil))
		})
	}
}

func TestInboundParts(t *testing.T) {
	tests := []struct {
		name string
		m    channel.Message
		want string
	}{
		{"text", channel.Message{Type: channel.TypeText, Text: "hola"}, "hola"},
		{"image with caption", channel.Message{Type: channel.TypeImage, Text: "is this broken?", Media: &channel.Media{Kind: channel.Image}}, "[image] is this broken?"},
		{"voice note", channel.Message{Type: channel.TypeAudio, Media: &channel.Media{Kind: channel.Audio, Voice: true}}, "[voice note]"},
		{"document", channel.Message{Type: channel.TypeDocument, Media: &channel.Media{Kind: channel.Document, Filename: "factura.pdf"}}, "[document: factura.pdf]"},
		{"location", channel.Message{Type: channel.TypeLocation, Location: &channel.Location{Latitude: -12.0464, Longitude: -77.0428, Name: "Plaza"}}, "[location: -12.0464, -77.0428, Plaza]"},
		{"contacts", channel.Message{Type: channel.TypeContacts, Contacts: []channel.Contact{{Name: "Luis", Phones: []channel.Phone{"51911122233"}}}}, "[contact card: Luis +51911122233]"},
		{"button reply", channel.Message{Type: channel.TypeInteractive, Reply: &channel.Reply{Kind: channel.ReplyButton, ID: "yes", Title: "Sí, confirmar"}}, "Sí, confirmar"},
		{"flow reply", channel.Message{Type: channel.TypeInteractive, Reply: &channel.Reply{Kind: channel.ReplyFlow, Data: json.RawMessage(`{"size":"M"}`)}}, `[form answers: {"size":"M"}]`},
		{"reaction", channel.Message{Type: channel.TypeReaction, Reaction: &channel.Reaction{MessageID: "x", Emoji: "👍"}}, "[reacted 👍 to a message]"},
		{"reaction removed", channel.Message{Type: channel.TypeReaction, Reaction: &channel.Reaction{MessageID: "x"}}, "[removed a reaction]"},
		{"order", channel.Message{Type: channel.TypeOrder, Order: &channel.Order{Items: []channel.OrderItem{{ProductID: "sku-1", Quantity: 2, UnitPrice: 49.9, Currency: "PEN"}}}}, "[order: 2 x sku-1 at 49.9 PEN]"},
		{"system", channel.Message{Type: channel.TypeSystem, System: &channel.SystemNote{Kind: "customer_changed_number"}}, "[notice: customer_changed_number]"},
		{"unsupported", channel.Message{Type: channel.TypeUnsupported}, "[a message of a kind that cannot be shown]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.m
			assert.Equal(t, []llm.Part{llm.TextPart(tt.want)}, inboundParts(&m))
		})
	}
}
