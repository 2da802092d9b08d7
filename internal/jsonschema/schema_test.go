package jsonschema_test

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/internal/jsonschema"
)

func TestMarshalJSON(t *testing.T) {
	one, big, tiny := 1.0, 1e21, 1e-7
	tests := []struct {
		name   string
		schema *jsonschema.Schema
		want   string
	}{
		{"nil is any", nil, `{}`},
		{"any", &jsonschema.Schema{}, `{}`},
		{"any with description", &jsonschema.Schema{Description: "anything"}, `{"description":"anything"}`},
		{
			"escapes", &jsonschema.Schema{Type: "string", Description: "a \"quoted\" <b>\\ line\nand\ttab \x01 \u2028 \xff"},
			`{"type":"string","description":"a \"quoted\" <b>\\ line\nand\ttab \u0001 \u2028 \ufffd"}`,
		},
		{"float formats", &jsonschema.Schema{Type: "number", Minimum: &tiny, Maximum: &big}, `{"type":"number","minimum":1e-7,"maximum":1e+21}`},
		{"struct object without properties", &jsonschema.Schema{Type: "object"}, `{"type":"object","properties":{},"additionalProperties":false}`},
		{
			"map object", &jsonschema.Schema{Type: "object", AdditionalProperties: &jsonschema.Schema{Type: "integer", Minimum: &one}},
			`{"type":"object","additionalProperties":{"type":"integer","minimum":1}}`,
		},
		{
			"open object with properties",
			&jsonschema.Schema{
				Type:                 "object",
				Properties:           []jsonschema.Property{{Name: "z"}, {Name: "a", Schema: &jsonschema.Schema{Type: "boolean"}}},
				Required:             []string{"z"},
				AdditionalProperties: &jsonschema.Schema{},
			},
			`{"type":"object","properties":{"z":{},"a":{"type":"boolean"}},"required":["z"],"additionalProperties":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.schema.MarshalJSON()
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got), "exact bytes, keys in order")
			assert.True(t, json.Valid(got))
		})
	}
}

func TestMarshalJSONNotFinite(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		s := &jsonschema.Schema{Type: "object", Properties: []jsonschema.Property{{Name: "n", Schema: &jsonschema.Schema{Type: "number", Maximum: &f}}}}
		_, err := json.Marshal(s)
		assert.Error(t, err, "%v", f)
	}
}

func TestMarshalJSONDeterministic(t *testing.T) {
	s, err := jsonschema.For[orderArgs]()
	require.NoError(t, err)
	first, err := json.Marshal(s)
	require.NoError(t, err)
	for range 20 {
		again, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(first), string(again))
	}
}

func TestClone(t *testing.T) {
	s, err := jsonschema.For[orderArgs]()
	require.NoError(t, err)
	before, err := json.Marshal(s)
	require.NoError(t, err)

	c := s.Clone()
	require.Equal(t, s, c)
	c.Required = append(c.Required[:0], "changed")
	c.Properties[0].Name = "changed"
	c.Properties[1].Schema.Items.Properties[1].Schema.Maximum = nil
	*c.Properties[1].Schema.Items.Properties[1].Schema.Minimum = 7
	c.Properties[4].Schema.Enum[0] = "changed"
	c.Properties[6].Schema.AdditionalProperties.Type = "integer"

	after, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "changing a clone leaves the original alone")
	assert.Nil(t, (*jsonschema.Schema)(nil).Clone())
}
