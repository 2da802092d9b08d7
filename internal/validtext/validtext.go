package validtext

import (
	"reflect"
	"time"
	"unicode/utf8"
)

// Valid reports whether every string reachable from v (through pointers,
// interfaces, struct fields, slices, arrays and maps) is valid UTF-8.
// Byte slices and times are not text and always pass.
func Valid(v any) bool { return valid(reflect.ValueOf(v)) }

func valid(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return utf8.ValidString(v.String())
	case reflect.Pointer, reflect.Interface:
		return v.IsNil() || valid(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			return true
		}
		for i := range v.NumField() {
			if !valid(v.Field(i)) {
				return false
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return true
		}
		for i := range v.Len() {
			if !valid(v.Index(i)) {
				return false
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if !valid(it.Key()) || !valid(it.Value()) {
				return false
			}
		}
	}
	return true
}
