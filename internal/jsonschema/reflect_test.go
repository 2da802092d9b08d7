package jsonschema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/internal/jsonschema"
)

type (
	unit     string
	byteLike uint8

	tagged struct {
		Renamed   string  `json:"renamed"`
		Skipped   string  `json:"-"`
		Dash      string  `json:"-,"`
		Omit      string  `json:"omit,omitempty"`
		Zero      int     `json:",omitzero"`
		Ptr       *int    `json:"ptr"`
		PtrPtr    **bool  `json:"ptr_ptr"`
		BadName   string  `json:"bad\"name"`
		Untagged  float64 //
		unexposed int
	}

	described struct {
		City  string   `json:"city" description:"City name"`
		Unit  unit     `json:"unit" enum:"c, f" description:"Temperature unit"`
		Units []string `json:"units" enum:"c,f"`
		Opt   *string  `json:"opt" enum:"a"`
	}

	Base struct {
		ID      string `json:"id"`
		Created string `json:"created"`
	}
	Audit struct {
		By string `json:"by"`
	}
	embedding struct {
		Base           // flattened
		*Audit         // flattened, optional
		Meta    Base   `json:"meta"` // tagged: a property
		Name    string `json:"name"`
		Created string `json:"created,omitempty"` // shadows Base.Created
	}

	Left      struct{ Dup, L string }
	Right     struct{ Dup, R string }
	ambiguous struct {
		Left
		Right
	}
	TaggedDup struct {
		Dup string `json:"Dup"`
	}
	taggedWins struct {
		Left
		TaggedDup
	}

	inner   struct{ X int }
	Outer   struct{ inner } // fields of an unexported embedded struct are promoted
	Counter int             // an embedded non-struct: a property named after its type
	withInt struct {
		Counter
		Y int
	}

	nestedSlices struct {
		Matrix [][]float64 `json:"matrix"`
		Groups [][]address `json:"groups"`
		Fixed  [2]int8     `json:"fixed"`
		Bytes  [4]byte     `json:"bytes"`
	}
)

func TestReflect(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"string", reflect.TypeFor[string](), `{"type":"string"}`},
		{"named string", reflect.TypeFor[unit](), `{"type":"string"}`},
		{"bool", reflect.TypeFor[bool](), `{"type":"boolean"}`},
		{"int", reflect.TypeFor[int](), `{"type":"integer"}`},
		{"int8", reflect.TypeFor[int8](), `{"type":"integer","minimum":-128,"maximum":127}`},
		{"int16", reflect.TypeFor[int16](), `{"type":"integer","minimum":-32768,"maximum":32767}`},
		{"int32", reflect.TypeFor[int32](), `{"type":"integer","minimum":-2147483648,"maximum":2147483647}`},
		{"int64", reflect.TypeFor[int64](), `{"type":"integer"}`},
		{"uint", reflect.TypeFor[uint](), `{"type":"integer","minimum":0}`},
		{"uint8", reflect.TypeFor[uint8](), `{"type":"integer","minimum":0,"maximum":255}`},
		{"uint16", reflect.TypeFor[uint16](), `{"type":"integer","minimum":0,"maximum":65535}`},
		{"uint32", reflect.TypeFor[uint32](), `{"type":"integer","minimum":0,"maximum":4294967295}`},
		{"uint64", reflect.TypeFor[uint64](), `{"type":"integer","minimum":0}`},
		{"uintptr", reflect.TypeFor[uintptr](), `{"type":"integer","minimum":0}`},
		{"float32", reflect.TypeFor[float32](), `{"type":"number","minimum":-3.4028234663852886e+38,"maximum":3.4028234663852886e+38}`},
		{"float64", reflect.TypeFor[float64](), `{"type":"number"}`},
		{"slice", reflect.TypeFor[[]string](), `{"type":"array","items":{"type":"string"}}`},
		{"array", reflect.TypeFor[[3]bool](), `{"type":"array","items":{"type":"boolean"}}`},
		{"byte slice is base64", reflect.TypeFor[[]byte](), `{"type":"string","contentEncoding":"base64"}`},
		{"named byte slice is base64", reflect.TypeFor[[]byteLike](), `{"type":"string","contentEncoding":"base64"}`},
		{"byte array is an array", reflect.TypeFor[[2]byte](), `{"type":"array","items":{"type":"integer","minimum":0,"maximum":255}}`},
		{"map", reflect.TypeFor[map[string]int](), `{"type":"object","additionalProperties":{"type":"integer"}}`},
		{"map with named keys", reflect.TypeFor[map[unit]bool](), `{"type":"object","additionalProperties":{"type":"boolean"}}`},
		{"map of any", reflect.TypeFor[map[string]any](), `{"type":"object","additionalProperties":{}}`},
		{"pointer", reflect.TypeFor[*int32](), `{"type":"integer","minimum":-2147483648,"maximum":2147483647}`},
		{"time", reflect.TypeFor[time.Time](), `{"type":"string","format":"date-time"}`},
		{"time pointer", reflect.TypeFor[*time.Time](), `{"type":"string","format":"date-time"}`},
		{"raw message", reflect.TypeFor[json.RawMessage](), `{}`},
		{"json number", reflect.TypeFor[json.Number](), `{"type":"number"}`},
		{"any", reflect.TypeFor[any](), `{}`},
		{"empty struct", reflect.TypeFor[struct{}](), `{"type":"object","properties":{},"additionalProperties":false}`},
		{
			"json tags and optionality", reflect.TypeFor[tagged](),
			`{"type":"object","properties":{
				"renamed":{"type":"string"},
				"-":{"type":"string"},
				"omit":{"type":"string"},
				"Zero":{"type":"integer"},
				"ptr":{"type":"integer"},
				"ptr_ptr":{"type":"boolean"},
				"BadName":{"type":"string"},
				"Untagged":{"type":"number"}},
			"required":["renamed","-","BadName","Untagged"],
			"additionalProperties":false}`,
		},
		{
			"description and enum tags", reflect.TypeFor[described](),
			`{"type":"object","properties":{
				"city":{"type":"string","description":"City name"},
				"unit":{"type":"string","description":"Temperature unit","enum":["c","f"]},
				"units":{"type":"array","items":{"type":"string","enum":["c","f"]}},
				"opt":{"type":"string","enum":["a"]}},
			"required":["city","unit","units"],
			"additionalProperties":false}`,
		},
		{
			"embedded structs are flattened", reflect.TypeFor[embedding](),
			`{"type":"object","properties":{
				"id":{"type":"string"},
				"by":{"type":"string"},
				"meta":{"type":"object","properties":{"id":{"type":"string"},"created":{"type":"string"}},"required":["id","created"],"additionalProperties":false},
				"name":{"type":"string"},
				"created":{"type":"string"}},
			"required":["id","meta","name"],
			"additionalProperties":false}`,
		},
		{
			"ambiguous embedded fields are dropped", reflect.TypeFor[ambiguous](),
			`{"type":"object","properties":{"L":{"type":"string"},"R":{"type":"string"}},"required":["L","R"],"additionalProperties":false}`,
		},
		{
			"tagged embedded field wins", reflect.TypeFor[taggedWins](),
			`{"type":"object","properties":{"L":{"type":"string"},"Dup":{"type":"string"}},"required":["L","Dup"],"additionalProperties":false}`,
		},
		{
			"unexported embedded struct", reflect.TypeFor[Outer](),
			`{"type":"object","properties":{"X":{"type":"integer"}},"required":["X"],"additionalProperties":false}`,
		},
		{
			"embedded non-struct", reflect.TypeFor[withInt](),
			`{"type":"object","properties":{"Counter":{"type":"integer"},"Y":{"type":"integer"}},"required":["Counter","Y"],"additionalProperties":false}`,
		},
		{
			"nested slices", reflect.TypeFor[nestedSlices](),
			`{"type":"object","properties":{
				"matrix":{"type":"array","items":{"type":"array","items":{"type":"number"}}},
				"groups":{"type":"array","items":{"type":"array","items":{"type":"object","properties":{
					"street":{"type":"string"},"city":{"type":"string"},"country":{"type":"string","description":"ISO 3166-1 alpha-2 code"}},
					"required":["street","city","country"],"additionalProperties":false}}},
				"fixed":{"type":"array","items":{"type":"integer","minimum":-128,"maximum":127}},
				"bytes":{"type":"array","items":{"type":"integer","minimum":0,"maximum":255}}},
			"required":["matrix","groups","fixed","bytes"],
			"additionalProperties":false}`,
		},
		{
			"anonymous struct", reflect.TypeFor[struct {
				A struct {
					B int `json:"b"`
				} `json:"a"`
			}](),
			`{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"integer"}},"required":["b"],"additionalProperties":false}},"required":["a"],"additionalProperties":false}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := jsonschema.Reflect(tt.typ)
			require.NoError(t, err)
			got, err := json.Marshal(s)
			require.NoError(t, err)
			require.JSONEq(t, tt.want, string(got))
		})
	}
}

func TestReflectStructValue(t *testing.T) {
	s, err := jsonschema.For[embedding]()
	require.NoError(t, err)
	var names []string
	for _, p := range s.Properties {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"id", "by", "meta", "name", "created"}, names, "properties in struct field order")
	assert.Equal(t, []string{"id", "meta", "name"}, s.Required)
	assert.Nil(t, s.AdditionalProperties, "a struct is a closed object")

	u, err := jsonschema.For[uint8]()
	require.NoError(t, err)
	require.NotNil(t, u.Minimum)
	require.NotNil(t, u.Maximum)
	assert.Equal(t, 0.0, *u.Minimum)
	assert.Equal(t, 255.0, *u.Maximum)
}

func TestReflectGolden(t *testing.T) {
	golden, err := os.ReadFile("testdata/order_args.golden.json")
	require.NoError(t, err)
	s, err := jsonschema.For[orderArgs]()
	require.NoError(t, err)
	got, err := json.Marshal(s)
	require.NoError(t, err)
	require.JSONEq(t, string(golden), string(got))

	// JSONEq ignores key order; the output is also byte for byte stable,
	// with properties in field order.
	var want bytes.Buffer
	require.NoError(t, json.Compact(&want, golden))
	assert.Equal(t, want.String(), string(got))
}

type (
	withFunc struct {
		Callback func() `json:"callback"`
	}
	order struct {
		Items []withFunc `json:"items"`
	}
	node struct {
		Name     string  `json:"name"`
		Children []*node `json:"children"`
	}
	ping    struct{ Pong *pong }
	pong    struct{ Ping []ping }
	selfMap struct {
		Next map[string]selfMap
	}
	custom     struct{ V int }
	withCustom struct{ C custom }
	withAddr   struct{ IP netip.Addr }
	withTime   struct{ time.Time } // promotes time.Time's methods
	quotedInt  struct {
		N int `json:"n,string"`
	}
	enumOnInt struct {
		N int `json:"n" enum:"1,2"`
	}
	enumOnTime struct {
		T time.Time `json:"t" enum:"x"`
	}
	emptyEnum struct {
		S string `json:"s" enum:"a,,b"`
	}
	hidden        struct{ X int }
	unsettable    struct{ *hidden }
	withChan      struct{ C chan int }
	withComplex   struct{ C complex128 }
	withUnsafe    struct{ P unsafe.Pointer }
	withIntMap    struct{ M map[int]string }
	withError     struct{ Err error }
	withNestedBad struct {
		Orders map[string][]order `json:"orders"`
	}
)

func (custom) MarshalJSON() ([]byte, error) { return []byte(`1`), nil }

func TestReflectErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  reflect.Type
		want string
	}{
		{"func field in slice", reflect.TypeFor[order](), "jsonschema: field order.Items[].Callback: unsupported type func()"},
		{"top-level func", reflect.TypeFor[func()](), "jsonschema: unsupported type func()"},
		{"chan", reflect.TypeFor[withChan](), "jsonschema: field withChan.C: unsupported type chan int"},
		{"complex64", reflect.TypeFor[complex64](), "jsonschema: unsupported type complex64"},
		{"complex128", reflect.TypeFor[withComplex](), "jsonschema: field withComplex.C: unsupported type complex128"},
		{"unsafe pointer", reflect.TypeFor[withUnsafe](), "jsonschema: field withUnsafe.P: unsupported type unsafe.Pointer"},
		{"int map keys", reflect.TypeFor[withIntMap](), "jsonschema: field withIntMap.M: unsupported type map[int]string: map keys must be strings"},
		{"non-empty interface", reflect.TypeFor[withError](), "jsonschema: field withError.Err: unsupported type error: a non-empty interface"},
		{"recursive through slice", reflect.TypeFor[node](), "jsonschema: field node.Children[]: recursive type jsonschema_test.node"},
		{"recursive pointer at the top", reflect.TypeFor[*node](), "jsonschema: field node.Children[]: recursive type jsonschema_test.node"},
		{"mutually recursive", reflect.TypeFor[ping](), "jsonschema: field ping.Pong.Ping[]: recursive type jsonschema_test.ping"},
		{"recursive through map", reflect.TypeFor[selfMap](), "jsonschema: field selfMap.Next[]: recursive type jsonschema_test.selfMap"},
		{"json marshaler", reflect.TypeFor[withCustom](), "jsonschema: field withCustom.C: unsupported type jsonschema_test.custom: it implements json.Marshaler"},
		{"text marshaler", reflect.TypeFor[withAddr](), "jsonschema: field withAddr.IP: unsupported type netip.Addr: it implements encoding.TextMarshaler"},
		{"promoted marshaler", reflect.TypeFor[withTime](), "jsonschema: unsupported type jsonschema_test.withTime: it implements json.Marshaler"},
		{"string option", reflect.TypeFor[quotedInt](), `jsonschema: field quotedInt.N: unsupported json option ",string"`},
		{"enum on int", reflect.TypeFor[enumOnInt](), "jsonschema: field enumOnInt.N: enum tag on a field that is not a string or a slice of strings"},
		{"enum on time", reflect.TypeFor[enumOnTime](), "jsonschema: field enumOnTime.T: enum tag on a field that is not a string or a slice of strings"},
		{"empty enum value", reflect.TypeFor[emptyEnum](), "jsonschema: field emptyEnum.S: enum tag has an empty value"},
		{"embedded pointer to unexported struct", reflect.TypeFor[unsettable](), "jsonschema: field unsettable.X: unsupported embedded pointer to unexported type jsonschema_test.hidden"},
		{"deep in a map of slices", reflect.TypeFor[withNestedBad](), "jsonschema: field withNestedBad.Orders[][].Items[].Callback: unsupported type func()"},
		{"nil type", nil, "jsonschema: unsupported type <nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := jsonschema.Reflect(tt.typ)
			require.Error(t, err)
			assert.Nil(t, s)
			assert.EqualError(t, err, tt.want)
			assert.True(t, errors.Is(err, jsonschema.ErrUnsupported), "errors.Is(err, ErrUnsupported)")
		})
	}
}

func TestFor(t *testing.T) {
	s, err := jsonschema.For[weatherArgs]()
	require.NoError(t, err)
	want, err := jsonschema.Reflect(reflect.TypeFor[weatherArgs]())
	require.NoError(t, err)
	assert.Equal(t, want, s)

	_, err = jsonschema.For[chan int]()
	assert.ErrorIs(t, err, jsonschema.ErrUnsupported)
}
