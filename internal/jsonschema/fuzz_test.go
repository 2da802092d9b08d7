package jsonschema_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/internal/jsonschema"
)

// fuzzArgs exercises every kind Reflect supports.
type fuzzArgs struct {
	fuzzBase
	*FuzzExtra
	Name    string            `json:"name" enum:"a,b,\u00e9"`
	Count   int               `json:"count"`
	Small   int8              `json:"small,omitempty"`
	Big     int64             `json:"big,omitempty"`
	Size    uint16            `json:"size,omitempty"`
	Huge    uint64            `json:"huge,omitempty"`
	Ratio   float32           `json:"ratio,omitempty"`
	Score   float64           `json:"score,omitempty"`
	Exact   json.Number       `json:"exact,omitempty"`
	On      bool              `json:"on,omitempty"`
	When    *time.Time        `json:"when"`
	Data    []byte            `json:"data,omitempty"`
	Fixed   [2]uint8          `json:"fixed,omitempty"`
	Items   []orderItem       `json:"items,omitempty"`
	Grid    [][]int32         `json:"grid,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Any     any               `json:"any,omitempty"`
	Raw     json.RawMessage   `json:"raw,omitempty"`
	Ptr     **uint8           `json:"ptr"`
	Address *address          `json:"address,omitempty"`
}

type fuzzBase struct {
	ID string `json:"id,omitempty"`
}

// FuzzExtra is exported: encoding/json cannot allocate an embedded pointer
// to an unexported type.
type FuzzExtra struct {
	Note string `json:"note"`
}

// FuzzValidate checks that Validate never panics and that whatever it
// accepts decodes into the Go type the schema was made from.
func FuzzValidate(f *testing.F) {
	s, err := jsonschema.For[fuzzArgs]()
	require.NoError(f, err)

	seeds := []string{
		// Valid.
		`{"name":"a","count":1,"when":null,"ptr":null}`,
		`{"name":"\u00e9","count":-5,"when":"2025-06-01T18:30:00Z","ptr":255,"small":-128,"big":-9223372036854775808,"size":65535,"huge":18446744073709551615}`,
		`{"name":"b","count":0,"when":null,"ptr":1,"ratio":1.5e10,"score":-2.5e-300,"exact":1e5,"on":true,"data":"aGk=","fixed":[1,2,3]}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"items":[{"sku":"x","qty":1,"unit":"kg","size":null}],"grid":[[1],[2,3],[]]}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"labels":{"k":"v","":""},"any":{"x":[null]},"raw":[1,2],"address":{"street":"s","city":"c","country":"PT"}}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"id":"i","note":"n"}`,
		// Invalid.
		``,
		`null`,
		`[]`,
		`{"name":"c","count":1,"when":null,"ptr":null}`,
		`{"name":"a","count":1.5,"when":null,"ptr":null}`,
		`{"name":"a","count":1,"when":"yesterday","ptr":null}`,
		`{"name":"a","count":1,"when":null,"ptr":256}`,
		`{"name":"a","count":1,"when":null,"ptr":-0}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"ratio":1e39}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"data":"%%%"}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"big":9223372036854775808}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"items":[{"sku":1}]}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"Name":"b"}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"fixed":[1,256]}`,
		`{"name":"a","count":1,"when":null,"ptr":null,"exact":"1"}`,
		`{"name":"a"`,
		`{"name":"a\`,
		`{"name":"\ud800","count":1e400}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`,
		"{\"name\":\"a\xff\",\"count\":1,\"when\":null,\"ptr\":null}",
	}
	for _, seed := range seeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := s.Validate(data); err != nil {
			require.ErrorIs(t, err, jsonschema.ErrInvalid)
			require.NotEmpty(t, err.Error())
			return
		}
		var v fuzzArgs
		require.NoError(t, json.Unmarshal(data, &v), "Validate accepted %q", data)
	})
}
