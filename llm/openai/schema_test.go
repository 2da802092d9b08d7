package openai

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStrictSchema(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{
			name: "required properties and no additional ones",
			in:   `{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}`,
			want: `{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"],"additionalProperties":false}`,
		},
		{
			name: "optional properties become nullable and required",
			in: `{"type":"object","properties":{
				"city":{"type":"string"},
				"unit":{"type":"string","enum":["c","f"]},
				"days":{"type":["integer"]},
				"note":{"description":"anything"},
				"when":{"anyOf":[{"type":"string"},{"type":"integer"}]}
			},"required":["city"]}`,
			want: `{"type":"object","properties":{
				"city":{"type":"string"},
				"unit":{"type":["string","null"],"enum":["c","f",null]},
				"days":{"type":["integer","null"]},
				"note":{"anyOf":[{"description":"anything"},{"type":"null"}]},
				"when":{"anyOf":[{"type":"string"},{"type":"integer"},{"type":"null"}]}
			},"required":["city","unit","days","note","when"],"additionalProperties":false}`,
		},
		{
			name: "nested objects, arrays and definitions",
			in: `{"type":"object","properties":{
				"items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":"integer"}},"required":["sku"]}},
				"address":{"$ref":"#/$defs/address"}
			},"required":["items","address"],
			"$defs":{"address":{"type":"object","properties":{"street":{"type":"string"}},"additionalProperties":true}}}`,
			want: `{"type":"object","properties":{
				"items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"qty":{"type":["integer","null"]}},"required":["sku","qty"],"additionalProperties":false}},
				"address":{"$ref":"#/$defs/address"}
			},"required":["items","address"],
			"$defs":{"address":{"type":"object","properties":{"street":{"type":["string","null"]}},"additionalProperties":false,"required":["street"]}},
			"additionalProperties":false}`,
		},
		{
			name: "an object without properties",
			in:   `{"type":"object"}`,
			want: `{"type":"object","properties":{},"required":[],"additionalProperties":false}`,
		},
		{
			name: "already nullable stays as is",
			in:   `{"type":"object","properties":{"a":{"type":["string","null"]}}}`,
			want: `{"type":"object","properties":{"a":{"type":["string","null"]}},"required":["a"],"additionalProperties":false}`,
		},
		{
			name: "numbers are kept as written",
			in:   `{"type":"object","properties":{"n":{"type":"number","maximum":12345678901234567890.5}},"required":["n"]}`,
			want: `{"type":"object","properties":{"n":{"type":"number","maximum":12345678901234567890.5}},"required":["n"],"additionalProperties":false}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := strictSchema(json.RawMessage(tc.in))
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got))
		})
	}

	t.Run("keeps the order of properties", func(t *testing.T) {
		got, err := strictSchema(json.RawMessage(`{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"string"}}}`))
		require.NoError(t, err)
		assert.Equal(t, `{"type":"object","properties":{"zeta":{"type":["string","null"]},"alpha":{"type":["string","null"]}},"required":["zeta","alpha"],"additionalProperties":false}`, string(got))
	})

	for _, bad := range []string{`[]`, `"object"`, `{"type":`, `{} {}`} {
		t.Run("rejects "+bad, func(t *testing.T) {
			_, err := strictSchema(json.RawMessage(bad))
			assert.Error(t, err)
		})
	}
}

func TestPlaceholderIsWhatTheEncoderWrites(t *testing.T) {
	var raw []json.RawMessage
	part := rawPart(&raw, "n0nce", fileInput{Type: "file"})
	b, err := json.Marshal(part)
	require.NoError(t, err)
	assert.Equal(t, string(placeholder("n0nce", 0)), string(b))
}
