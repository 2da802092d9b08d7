package memory

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/testfill"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

func TestCloneManyIsDeep(t *testing.T) {
	orig, want := make([]store.Message, 3), make([]store.Message, 3)
	for i := range orig {
		testfill.Fill(t, reflect.ValueOf(&orig[i]), 10*i)
		testfill.Fill(t, reflect.ValueOf(&want[i]), 10*i)
	}
	// A record without inbound, outbound or parts between full ones.
	orig[1], want[1] = store.Message{ID: 2}, store.Message{ID: 2}

	c := slices.Clone(orig)
	cloneMessagesInPlace(c)
	require.Equal(t, want, c, "clones equal their originals")
	for i := range orig {
		testfill.Fill(t, reflect.ValueOf(&orig[i]), 10*i+5)
	}
	assert.Equal(t, want, c, "clones share no memory with their originals")

	c[0].Parts = append(c[0].Parts, llm.TextPart("appended"))
	assert.Equal(t, want[2].Parts, c[2].Parts, "appending to a clone's parts leaves the other clones alone")
}

func TestCloneKeepsNilAndEmpty(t *testing.T) {
	tests := []struct {
		name string
		m    store.Message
	}{
		{"zero", store.Message{}},
		{"empty slices", store.Message{
			Inbound:  &channel.Message{Contacts: []channel.Contact{{}}, Errors: []channel.ErrorInfo{}, Raw: json.RawMessage{}, Reply: &channel.Reply{Data: json.RawMessage{}}, Order: &channel.Order{Items: []channel.OrderItem{}}},
			Parts:    []llm.Part{{Data: []byte{}, Opaque: llm.Opaque{Data: []byte{}}}, llm.ToolCallPart(llm.ToolCall{Args: json.RawMessage{}})},
			Outbound: &channel.Outbound{Interactive: &channel.Interactive{Buttons: []channel.Button{}, List: &channel.List{Sections: []channel.Section{{Rows: []channel.Row{}}}}}, Template: &channel.Template{Header: &channel.TemplateHeader{}, Params: []channel.TemplateParam{}}},
		}},
		{"empty parts", store.Message{Parts: []llm.Part{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, reflect.DeepEqual(tt.m, tt.m.Clone()))
			many := []store.Message{tt.m, tt.m}
			cloneMessagesInPlace(many)
			assert.True(t, reflect.DeepEqual([]store.Message{tt.m, tt.m}, many))
		})
	}
}

func TestCloneAllocations(t *testing.T) {
	in := &channel.Message{ID: "wamid.1", Type: channel.TypeText, Text: "hola"}
	m := store.Message{Parts: []llm.Part{llm.TextPart("hola")}, Outbound: &channel.Outbound{Text: "hola"}}
	window := []store.Message{{Inbound: in}, m, {Inbound: in}, m}
	sink := make([]store.Message, len(window)) // keeps the clones from being optimized away
	tests := []struct {
		name   string
		allocs float64
		clone  func()
	}{
		{"text message", 1, func() { c := in.Clone(); sink[0].Inbound = &c }},
		{"text reply", 2, func() { sink[0] = m.Clone() }},
		{"window of text messages and replies", 3, func() { copy(sink, window); cloneMessagesInPlace(sink) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.allocs, testing.AllocsPerRun(100, tt.clone), 0)
		})
	}
}
