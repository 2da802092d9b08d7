package memory

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

var timeType = reflect.TypeFor[time.Time]()

// fill sets every field reachable from v to a value derived from seed:
// pointers and slices are allocated when nil and written through when not,
// so filling a value a second time with another seed changes all the memory
// it shares with a shallow copy. It fails on kinds the record types do not
// use yet, so that a new kind of field is noticed by the clones too.
func fill(t *testing.T, v reflect.Value, seed int) {
	t.Helper()
	if v.Type() == timeType {
		v.Set(reflect.ValueOf(time.Unix(int64(seed), 0)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("s" + strconv.Itoa(seed))
	case reflect.Bool:
		v.SetBool(seed%2 == 1)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(seed))
	case reflect.Uint8:
		v.SetUint(uint64(seed))
	case reflect.Float64:
		v.SetFloat(float64(seed) + 0.5)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		fill(t, v.Elem(), seed)
	case reflect.Slice:
		if v.IsNil() {
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		}
		for i := range v.Len() {
			fill(t, v.Index(i), seed+i)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			require.True(t, v.Type().Field(i).IsExported(), "%s has an unexported field", v.Type())
			fill(t, v.Field(i), seed)
		}
	default:
		require.Failf(t, "unsupported kind", "%s: teach fill and the clones about it", v.Type())
	}
}

func TestCloneIsDeep(t *testing.T) {
	var orig, want store.Message
	fill(t, reflect.ValueOf(&orig), 1)
	fill(t, reflect.ValueOf(&want), 1)
	require.Equal(t, want, orig)

	c := cloneMessage(orig)
	require.Equal(t, want, c, "a clone equals its original")
	fill(t, reflect.ValueOf(&orig), 2)
	require.NotEqual(t, want, orig)
	assert.Equal(t, want, c, "a clone shares no memory with its original")
}

func TestCloneManyIsDeep(t *testing.T) {
	orig, want := make([]store.Message, 3), make([]store.Message, 3)
	for i := range orig {
		fill(t, reflect.ValueOf(&orig[i]), 10*i)
		fill(t, reflect.ValueOf(&want[i]), 10*i)
	}
	// A record without inbound, outbound or parts between full ones.
	orig[1], want[1] = store.Message{ID: 2}, store.Message{ID: 2}

	c := slices.Clone(orig)
	cloneMessagesInPlace(c)
	require.Equal(t, want, c, "clones equal their originals")
	for i := range orig {
		fill(t, reflect.ValueOf(&orig[i]), 10*i+5)
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
			assert.True(t, reflect.DeepEqual(tt.m, cloneMessage(tt.m)))
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
		{"text message", 1, func() { sink[0].Inbound = cloneInbound(in) }},
		{"text reply", 2, func() { sink[0] = m; cloneMessageInPlace(&sink[0]) }},
		{"window of text messages and replies", 3, func() { copy(sink, window); cloneMessagesInPlace(sink) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.InDelta(t, tt.allocs, testing.AllocsPerRun(100, tt.clone), 0)
		})
	}
}
