package testfill

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var timeType = reflect.TypeFor[time.Time]()

// Fill sets every field reachable from v to a value derived from seed:
// pointers and slices are allocated when nil and written through when not,
// so filling a value a second time with another seed changes all the memory
// it shares with a shallow copy. It fails on kinds the record types do not
// use yet, so that a new kind of field is noticed by the clones too.
func Fill(t testing.TB, v reflect.Value, seed int) {
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
		Fill(t, v.Elem(), seed)
	case reflect.Slice:
		if v.IsNil() {
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		}
		for i := range v.Len() {
			Fill(t, v.Index(i), seed+i)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			require.True(t, v.Type().Field(i).IsExported(), "%s has an unexported field", v.Type())
			Fill(t, v.Field(i), seed)
		}
	default:
		require.Failf(t, "unsupported kind", "%s: teach Fill and the clones about it", v.Type())
	}
}

// DeepClone checks that clone returns a deep copy of a *T: equal to its
// original, and unchanged when every field of the original is written
// through afterwards.
func DeepClone[T any](t *testing.T, clone func(*T) *T) {
	t.Helper()
	orig, want := new(T), new(T)
	Fill(t, reflect.ValueOf(orig), 1)
	Fill(t, reflect.ValueOf(want), 1)
	require.Equal(t, want, orig)

	c := clone(orig)
	require.Equal(t, want, c, "a clone equals its original")
	Fill(t, reflect.ValueOf(orig), 2)
	require.NotEqual(t, want, orig)
	assert.Equal(t, want, c, "a clone shares no memory with its original")
}
