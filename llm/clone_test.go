package llm_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wagent/wagent/internal/testfill"
	"github.com/wagent/wagent/llm"
)

func TestCloneIsDeep(t *testing.T) {
	t.Run("request", func(t *testing.T) { testfill.DeepClone(t, (*llm.Request).Clone) })
	t.Run("response", func(t *testing.T) { testfill.DeepClone(t, (*llm.Response).Clone) })
	t.Run("message", func(t *testing.T) {
		testfill.DeepClone(t, func(m *llm.Message) *llm.Message { c := m.Clone(); return &c })
	})
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
			assert.True(t, reflect.DeepEqual(tt.req, tt.req.Clone()))
		})
	}
	assert.Nil(t, (*llm.Response)(nil).Clone())
}

func TestToolCallJSONKeepsArgumentsByteForByte(t *testing.T) {
	for _, args := range []string{`{"city": "Lima"}`, `{"city":`, ``} {
		in := llm.ToolCall{ID: "c1", Name: "get_weather", Args: json.RawMessage(args)}
		b, err := json.Marshal(in)
		assert.NoError(t, err, "invalid arguments must still encode")
		var out llm.ToolCall
		assert.NoError(t, json.Unmarshal(b, &out))
		assert.Equal(t, args, string(out.Args))
		assert.Equal(t, in.ID, out.ID)
	}
}
