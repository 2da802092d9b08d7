package llmtest

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
)

// fill sets every field reachable from v to a value derived from seed:
// pointers and slices are allocated when nil and written through when not,
// so filling a value a second time with another seed changes all the memory
// it shares with a shallow copy. It fails on kinds the llm types do not use
// yet, so that a new kind of field is noticed by the clones too.
func fill(t *testing.T, v reflect.Value, seed int) {
	t.Helper()
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
	tests := []struct {
		name  string
		new   func() any
		clone func(any) any
	}{
		{"request", func() any { return new(llm.Request) }, func(v any) any { return cloneRequest(v.(*llm.Request)) }},
		{"response", func() any { return new(llm.Response) }, func(v any) any { return cloneResponse(v.(*llm.Response)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig, want := tt.new(), tt.new()
			fill(t, reflect.ValueOf(orig), 1)
			fill(t, reflect.ValueOf(want), 1)
			require.Equal(t, want, orig)

			c := tt.clone(orig)
			require.Equal(t, want, c, "a clone equals its original")
			fill(t, reflect.ValueOf(orig), 2)
			require.NotEqual(t, want, orig)
			assert.Equal(t, want, c, "a clone shares no memory with its original")
		})
	}
}

func TestCloneKeepsNilAndEmpty(t *testing.T) {
	tests := []struct {
		name string
		req  *llm.Request
	}{
		{"nil request", nil},
		{"zero request", &llm.Request{}},
		{"empty slices", &llm.Request{
			Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{}}},
			Tools:    []llm.Tool{{Name: "t", Parameters: json.RawMessage{}}},
		}},
		{"empty bytes", &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{
			{Kind: llm.KindImage, Data: []byte{}, Opaque: llm.Opaque{Data: []byte{}}},
			llm.ToolCallPart(llm.ToolCall{Args: json.RawMessage{}}),
		}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, reflect.DeepEqual(tt.req, cloneRequest(tt.req)))
		})
	}
	assert.Nil(t, cloneResponse(nil))
}
