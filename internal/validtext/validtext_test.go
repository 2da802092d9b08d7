package validtext_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wagent/wagent/internal/validtext"
)

func TestValid(t *testing.T) {
	type inner struct{ S string }
	type rec struct {
		A    string
		P    *inner
		I    any
		L    []inner
		M    map[string]string
		B    []byte
		When time.Time
	}
	bad := "\xff"
	assert.True(t, validtext.Valid(rec{A: "ok", P: &inner{"ñ"}, L: []inner{{"x"}}, M: map[string]string{"k": "v"}, B: []byte{0xff}, When: time.Now()}))
	assert.True(t, validtext.Valid(rec{}), "nil pointers, interfaces and maps pass")
	for name, r := range map[string]rec{
		"field":     {A: bad},
		"pointer":   {P: &inner{bad}},
		"interface": {I: inner{bad}},
		"slice":     {L: []inner{{"ok"}, {bad}}},
		"map key":   {M: map[string]string{bad: "v"}},
		"map value": {M: map[string]string{"k": bad}},
	} {
		assert.False(t, validtext.Valid(r), name)
	}
}
