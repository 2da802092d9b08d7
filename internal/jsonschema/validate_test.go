package jsonschema_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/internal/jsonschema"
)

type numbers struct {
	I   int         `json:"i,omitempty"`
	I8  int8        `json:"i8,omitempty"`
	I64 int64       `json:"i64,omitempty"`
	U   uint        `json:"u,omitempty"`
	U8  uint8       `json:"u8,omitempty"`
	U64 uint64      `json:"u64,omitempty"`
	F32 float32     `json:"f32,omitempty"`
	F64 float64     `json:"f64,omitempty"`
	N   json.Number `json:"n,omitempty"`
}

type anything struct {
	Any  any               `json:"any"`
	Raw  json.RawMessage   `json:"raw"`
	Opt  *int              `json:"opt"`
	Req  int               `json:"req"`
	List []int             `json:"list,omitempty"`
	Map  map[string]*int   `json:"map,omitempty"`
	Open map[string]any    `json:"open,omitempty"`
	Sub  *weatherArgs      `json:"sub,omitempty"`
	Deep map[string][]bool `json:"deep,omitempty"`
}

// validOrder is a document orderArgs accepts; cases below vary it.
const validOrder = `{
	"customer": "C-1042",
	"items": [
		{"sku": "A1", "qty": 2, "unit": "piece", "size": "m"},
		{"sku": "B2", "qty": 1, "unit": "kg", "size": null},
		{"sku": "C3", "qty": 3, "unit": "piece"}
	],
	"delivery": {"street": "Rua Augusta 1", "city": "Lisboa", "country": "PT"},
	"deliver_at": "2025-06-01T18:30:00+01:00",
	"priority": "high",
	"tags": ["gift", "cold"],
	"notes": {"door": "ring twice", "first floor": "left"},
	"tip": 2.5,
	"confirmed": true,
	"attachment": "aGVsbG8=",
	"extra": {"anything": [1, "two", null]}
}`

func TestValidate(t *testing.T) {
	order := reflect.TypeFor[orderArgs]()
	weather := reflect.TypeFor[weatherArgs]()
	nums := reflect.TypeFor[numbers]()
	anyT := reflect.TypeFor[anything]()

	tests := []struct {
		name string
		typ  reflect.Type
		doc  string
		want string // the error message; empty if the document is valid
	}{
		// Valid documents.
		{"full order", order, validOrder, ""},
		{"minimal order", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":false}`, ""},
		{"optional properties may be null", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":false,"delivery":null,"tags":null,"notes":null,"tip":null,"priority":null}`, ""},
		{"whitespace everywhere", weather, " \n\t{ \"city\" : \"Lisboa\" , \"unit\" : \"c\" }\r\n", ""},
		{"escaped key and enum value", weather, `{"c\u0069ty":"Lisboa","unit":"\u0063"}`, ""},
		{"duplicate keys", weather, `{"city":"a","city":"b"}`, ""},
		{"any accepts every type", anyT, `{"any":{"a":[1,{"b":null}]},"raw":[true,"x",1.5e3],"opt":null,"req":1}`, ""},
		{"any accepts null", anyT, `{"any":null,"raw":null,"req":1}`, ""},
		{"map values", anyT, `{"any":1,"raw":1,"req":1,"map":{"a":1,"b":2},"open":{"x":null},"deep":{"k":[true,false]}}`, ""},
		{"integers at the limits", nums, `{"i8":-128,"u8":255,"i64":-9223372036854775808,"u64":18446744073709551615,"i":9223372036854775807,"u":0}`, ""},
		{"negative zero for signed integers", nums, `{"i":-0,"i8":-0}`, ""},
		{"numbers", nums, `{"f32":3.4028234663852886e+38,"f64":-1.5e300,"n":12.5e-3}`, ""},
		{"integer for a number", nums, `{"f64":3,"f32":-7}`, ""},

		// Invalid JSON.
		{"empty document", weather, ``, "invalid JSON: unexpected end of JSON input at offset 0"},
		{"truncated", weather, `{"city":`, "invalid JSON: unexpected end of JSON input at offset 8"},
		{"missing colon", weather, `{"city" "x"}`, "invalid JSON: unexpected character after object key at offset 8"},
		{"trailing data", weather, `{"city":"x"} {}`, "invalid JSON: unexpected character after top-level value at offset 13"},
		{"single quotes", weather, `{'city':'x'}`, "invalid JSON: unexpected character looking for beginning of object key string at offset 1"},
		{"trailing comma", weather, `{"city":"x",}`, "invalid JSON: unexpected character looking for beginning of object key string at offset 12"},

		// Types.
		{"top level is not an object", weather, `["Lisboa"]`, "expected object, got array"},
		{"top level null", weather, `null`, "expected object, got null"},
		{"string got number", weather, `{"city":42}`, `"city": expected string, got number`},
		{"string got object", weather, `{"city":{"name":"x"}}`, `"city": expected string, got object`},
		{"boolean got string", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":"yes"}`, `"confirmed": expected boolean, got string`},
		{"array got object", order, `{"customer":"C","items":{"sku":"A"},"deliver_at":"2025-06-01T18:30:00Z","confirmed":true}`, `"items": expected array, got object`},
		{"object got string", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"delivery":"home"}`, `"delivery": expected object, got string`},
		{"number got boolean", nums, `{"f64":true}`, `"f64": expected number, got boolean`},
		{"integer got string", nums, `{"i":"3"}`, `"i": expected integer, got string`},
		{"nested array element", order, `{"customer":"C","items":[{"sku":"A","qty":1,"unit":"kg"},{"sku":"B","qty":1,"unit":"kg"},{"sku":"C","qty":"two","unit":"kg"}],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true}`, `"items[2].qty": expected integer, got string`},
		{"array element", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"tags":["gift",7]}`, `"tags[1]": expected string, got number`},
		{"map value", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"notes":{"door":1}}`, `"notes.door": expected string, got number`},
		{"map value with an unusual key", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"notes":{"first floor":false}}`, `"notes["first floor"]": expected string, got boolean`},
		{"deep map value", anyT, `{"any":1,"raw":1,"req":1,"deep":{"k":[true,1]}}`, `"deep.k[1]": expected boolean, got number`},

		// Integers.
		{"integer with fraction", nums, `{"i":1.5}`, `"i": expected integer, got number with a fraction or exponent`},
		{"integer written as float", nums, `{"i":2.0}`, `"i": expected integer, got number with a fraction or exponent`},
		{"integer with exponent", nums, `{"i":1e2}`, `"i": expected integer, got number with a fraction or exponent`},
		{"int8 too large", nums, `{"i8":128}`, `"i8": must be between -128 and 127`},
		{"int8 too small", nums, `{"i8":-129}`, `"i8": must be between -128 and 127`},
		{"uint8 too large", nums, `{"u8":256}`, `"u8": must be between 0 and 255`},
		{"unsigned negative", nums, `{"u":-1}`, `"u": must be at least 0`},
		{"unsigned negative zero", nums, `{"u":-0}`, `"u": must be at least 0`},
		{"int64 overflow", nums, `{"i64":9223372036854775808}`, `"i64": must be at most 9223372036854775807`},
		{"int64 underflow", nums, `{"i64":-9223372036854775809}`, `"i64": must be at least -9223372036854775808`},
		{"uint64 overflow", nums, `{"u64":18446744073709551616}`, `"u64": must be at most 18446744073709551615`},

		// Numbers.
		{"float64 overflow", nums, `{"f64":1e400}`, `"f64": number out of range`},
		{"float32 overflow", nums, `{"f32":3.5e38}`, `"f32": must be between -3.4028234663852886e+38 and 3.4028234663852886e+38`},

		// Strings.
		{"enum", weather, `{"city":"Lisboa","unit":"k"}`, `"unit": must be one of "c", "f"`},
		{"enum is case-sensitive", weather, `{"city":"Lisboa","unit":"C"}`, `"unit": must be one of "c", "f"`},
		{"enum of array items", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"tags":["gift","urgent"]}`, `"tags[1]": must be one of "gift", "fragile", "cold"`},
		{"enum of pointer field", order, `{"customer":"C","items":[{"sku":"A","qty":1,"unit":"kg","size":"xl"}],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true}`, `"items[0].size": must be one of "s", "m", "l"`},
		{"date-time", order, `{"customer":"C","items":[],"deliver_at":"tomorrow at 6","confirmed":true}`, `"deliver_at": expected a date-time string in RFC 3339 format, such as "2006-01-02T15:04:05Z"`},
		{"date without time", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01","confirmed":true}`, `"deliver_at": expected a date-time string in RFC 3339 format, such as "2006-01-02T15:04:05Z"`},
		{"date-time with escapes", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00\u005a","confirmed":true}`, `"deliver_at": expected a date-time string in RFC 3339 format, such as "2006-01-02T15:04:05Z"`},
		{"base64", order, `{"customer":"C","items":[],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"attachment":"not base64!"}`, `"attachment": expected a base64-encoded string (standard alphabet, with padding)`},

		// Objects.
		{"required", weather, `{"unit":"c"}`, `"city" is required`},
		{"required and null", weather, `{"city":null}`, `"city": expected string, got null`},
		{"required nested", order, `{"customer":"C","items":[{"sku":"A","unit":"kg"}],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"delivery":{"street":"s","city":"c"}}`, `"items[0].qty" is required; "delivery.country" is required`},
		{"empty object", order, `{}`, `"customer" is required; "items" is required; "deliver_at" is required; "confirmed" is required`},
		{"unknown property", weather, `{"cty":"Lisboa"}`, `unknown property "cty"; "city" is required`},
		{"unknown property nested", order, `{"customer":"C","items":[{"sku":"A","qty":1,"unit":"kg","colour":"red"}],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true}`, `"items[0]": unknown property "colour"`},
		{"property names are case-sensitive", weather, `{"City":"Lisboa"}`, `unknown property "City"; "city" is required`},
		{"array element null", order, `{"customer":"C","items":[null],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true}`, `"items[0]": expected object, got null`},
		{"map value null", anyT, `{"any":1,"raw":1,"req":1,"map":{"a":null}}`, `"map.a": expected integer, got null`},
		{"several problems in document order", order, `{"customer":1,"items":[{"sku":"A","qty":-1,"unit":"g"}],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"tip":"none"}`, `"customer": expected string, got number; "items[0].qty": must be between 0 and 65535; "items[0].unit": must be one of "piece", "kg"; "tip": expected number, got string`},
		{"too many problems", weather, `{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1}`, `unknown property "a"; unknown property "b"; unknown property "c"; unknown property "d"; unknown property "e"; unknown property "f"; unknown property "g"; unknown property "h"; unknown property "i"; unknown property "j"; and 3 more`},
		{"long unknown key is shortened", weather, `{"city":"x","` + strings.Repeat("k", 100) + `":1}`, `unknown property "` + strings.Repeat("k", 64) + `…"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := jsonschema.Reflect(tt.typ)
			require.NoError(t, err)
			err = s.Validate([]byte(tt.doc))
			if tt.want == "" {
				require.NoError(t, err)
				// The promise: what Validate accepts decodes.
				require.NoError(t, json.Unmarshal([]byte(tt.doc), reflect.New(tt.typ).Interface()))
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.want, err.Error())
			assert.ErrorIs(t, err, jsonschema.ErrInvalid)
			var verr *jsonschema.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.NotEmpty(t, verr.Problems)
		})
	}
}

func TestValidateProblems(t *testing.T) {
	s, err := jsonschema.For[orderArgs]()
	require.NoError(t, err)
	err = s.Validate([]byte(`{"customer":"C","items":[{"sku":"A","qty":1.5,"unit":"kg"}],"confirmed":true}`))
	var verr *jsonschema.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, []jsonschema.Problem{
		{Path: "items[0].qty", Message: "expected integer, got number with a fraction or exponent"},
		{Path: "deliver_at", Message: "is required"},
	}, verr.Problems)
	assert.Zero(t, verr.Omitted)
}

// TestValidateHandBuilt covers schemas that Reflect does not make.
func TestValidateHandBuilt(t *testing.T) {
	zero := 0.5
	tests := []struct {
		name   string
		schema *jsonschema.Schema
		doc    string
		want   string
	}{
		{"nil schema accepts anything", nil, `[1,{"a":null}]`, ""},
		{"nil schema still wants JSON", nil, `[1,`, "invalid JSON: unexpected end of JSON input at offset 3"},
		{"nesting limit of encoding/json", nil, strings.Repeat("[", 10001), "invalid JSON: nested too deeply at offset 10000"},
		{"deep nesting within the limit", nil, strings.Repeat("[", 10000) + strings.Repeat("]", 10000), ""},
		{"control character in a string", nil, "\"a\x01\"", "invalid JSON: unexpected character in string literal at offset 2"},
		{"any accepts null", &jsonschema.Schema{}, `null`, ""},
		{"nil items", &jsonschema.Schema{Type: "array"}, `[1,"a",null]`, ""},
		{"nil property schema", &jsonschema.Schema{Type: "object", Properties: []jsonschema.Property{{Name: "a"}}}, `{"a":{"b":1}}`, ""},
		{
			"required key of an open object",
			&jsonschema.Schema{Type: "object", AdditionalProperties: &jsonschema.Schema{Type: "integer"}, Required: []string{"k"}},
			`{"j":1}`, `"k" is required`,
		},
		{
			"required key of an open object present",
			&jsonschema.Schema{Type: "object", AdditionalProperties: &jsonschema.Schema{Type: "integer"}, Required: []string{"k"}},
			`{"j":1,"k":2}`, "",
		},
		{"minimum only", &jsonschema.Schema{Type: "number", Minimum: &zero}, `0.25`, "must be at least 0.5"},
		{"maximum only", &jsonschema.Schema{Type: "number", Maximum: &zero}, `0.75`, "must be at most 0.5"},
		{"boolean", &jsonschema.Schema{Type: "boolean"}, `false`, ""},
		{"boolean got null", &jsonschema.Schema{Type: "boolean"}, `null`, "expected boolean, got null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.schema.Validate([]byte(tt.doc))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
		})
	}
}

func TestValidateManyProperties(t *testing.T) {
	// More than 64 properties take the slow path for bookkeeping.
	s := &jsonschema.Schema{Type: "object"}
	var doc strings.Builder
	doc.WriteString("{")
	for i := range 70 {
		name := "p" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		s.Properties = append(s.Properties, jsonschema.Property{Name: name, Schema: &jsonschema.Schema{Type: "integer"}})
		s.Required = append(s.Required, name)
		if i != 68 {
			if doc.Len() > 1 {
				doc.WriteString(",")
			}
			doc.WriteString(`"` + name + `":1`)
		}
	}
	doc.WriteString("}")
	require.EqualError(t, s.Validate([]byte(doc.String())), `"pcq" is required`)
}

// TestValidateNeverQuotesValues checks that no value from a document, only
// keys, reaches the error message.
func TestValidateNeverQuotesValues(t *testing.T) {
	s, err := jsonschema.For[orderArgs]()
	require.NoError(t, err)
	docs := []string{
		`{"customer":["SECRET"],"items":"SECRET","delivery":{"street":{"SECRET":1}},"deliver_at":"SECRET","confirmed":"SECRET"}`,
		`{"customer":"C","items":[{"sku":"A","qty":1,"unit":"SECRET"}],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true,"tags":["SECRET"],"attachment":"SECRET!","tip":"SECRET"}`,
		`{"customer":12345678901,"items":[{"sku":"A","qty":12345678901,"unit":"kg"}],"deliver_at":"2025-06-01T18:30:00Z","confirmed":12345678901,"tip":1e12345678901}`,
		`{"customer":"SECRET'x'", "SECRET"}`,
		`{"customer":"SECRET"x}`,
	}
	for _, doc := range docs {
		err := s.Validate([]byte(doc))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "SECRET", doc)
		assert.NotContains(t, err.Error(), "12345678901", doc)
		assert.NotContains(t, err.Error(), "'x'", doc)
	}
}

func TestValidateConcurrent(t *testing.T) {
	s, err := jsonschema.For[orderArgs]()
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				assert.NoError(t, s.Validate([]byte(validOrder)))
				assert.Error(t, s.Validate([]byte(`{"cty":1}`)))
				_, err := json.Marshal(s)
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
}

func BenchmarkValidate(b *testing.B) {
	s, err := jsonschema.For[orderArgs]()
	require.NoError(b, err)
	doc := []byte(`{"customer":"C-1042","items":[{"sku":"A1","qty":2,"unit":"piece","size":"m"},{"sku":"B2","qty":1,"unit":"kg"}],"deliver_at":"2025-06-01T18:30:00Z","priority":"high","tags":["gift"],"confirmed":true}`)
	b.Run("valid", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			if err := s.Validate(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	bad := []byte(`{"customer":"C-1042","items":[{"sku":"A1","qty":2.5,"unit":"piece"}],"deliver_at":"2025-06-01T18:30:00Z","confirmed":true}`)
	b.Run("invalid", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(bad)))
		for b.Loop() {
			if err := s.Validate(bad); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	b.Run("json.Unmarshal for comparison", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(doc)))
		for b.Loop() {
			var v orderArgs
			if err := json.Unmarshal(doc, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
