package jsonschema

import (
	"cmp"
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
)

var (
	timeType            = reflect.TypeFor[time.Time]()
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	numberType          = reflect.TypeFor[json.Number]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// For returns the schema of the JSON encoding of T; see [Reflect].
func For[T any]() (*Schema, error) {
	return Reflect(reflect.TypeFor[T]())
}

// Reflect returns the schema of the JSON encoding of t, as encoding/json
// writes and reads it:
//
//   - A struct is a closed object whose properties are its fields in
//     order, named and flattened as encoding/json does (json tags, "-",
//     unexported fields skipped, untagged embedded structs flattened). A
//     field is required unless its tag has omitempty or omitzero, its type
//     is a pointer, or it is promoted from an embedded pointer. A
//     `description:"..."` tag describes the field; an `enum:"a,b,c"` tag
//     lists the values of a string or []string field.
//   - string, bool, integers and floats map to string, boolean, integer
//     (with minimum 0 if unsigned, and the type's range if narrower than
//     64 bits) and number (with its range for float32).
//   - Slices and arrays are arrays, except []byte, a base64 string.
//   - map[string]T is an object whose additional properties are T.
//   - A pointer is its element's schema.
//   - time.Time is a date-time string, json.Number a number, and
//     json.RawMessage and empty interfaces any value.
//
// Other types are errors matching [ErrUnsupported], whose message names
// the field path and the type: channels, functions, complex numbers,
// unsafe pointers, maps whose keys are not strings, non-empty interfaces,
// types with their own JSON or text encoding, the ",string" json option,
// and struct types that contain themselves. Reflect accepts any
// supported type; tools check that theirs is a struct.
func Reflect(t reflect.Type) (*Schema, error) {
	if t == nil {
		return nil, &typeError{reason: "unsupported type <nil>"}
	}
	root := t
	for root.Kind() == reflect.Pointer {
		root = root.Elem()
	}
	r := reflector{root: root.Name(), open: make(map[reflect.Type]bool)}
	return r.schema(t, "")
}

type reflector struct {
	root string
	open map[reflect.Type]bool // struct types being described, to find cycles
}

func (r *reflector) errorf(path, format string, args ...any) error {
	return &typeError{root: r.root, path: path, reason: fmt.Sprintf(format, args...)}
}

func (r *reflector) schema(t reflect.Type, path string) (*Schema, error) {
	switch t {
	case timeType:
		return &Schema{Type: TypeString, Format: FormatDateTime}, nil
	case rawMessageType:
		return &Schema{}, nil
	case numberType:
		return &Schema{Type: TypeNumber}, nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return r.schema(t.Elem(), path)
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return &Schema{}, nil
		}
		return nil, r.errorf(path, "unsupported type %s: a non-empty interface", t)
	}
	if name := ownEncoding(t); name != "" {
		return nil, r.errorf(path, "unsupported type %s: it implements %s", t, name)
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Schema{Type: TypeBoolean}, nil
	case reflect.String:
		return &Schema{Type: TypeString}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s := &Schema{Type: TypeInteger}
		if bits := t.Bits(); bits < 64 {
			s.Minimum = float(-math.Ldexp(1, bits-1))
			s.Maximum = float(math.Ldexp(1, bits-1) - 1)
		}
		return s, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s := &Schema{Type: TypeInteger, Minimum: float(0)}
		if bits := t.Bits(); bits < 64 {
			s.Maximum = float(math.Ldexp(1, bits) - 1)
		}
		return s, nil
	case reflect.Float32:
		return &Schema{Type: TypeNumber, Minimum: float(-math.MaxFloat32), Maximum: float(math.MaxFloat32)}, nil
	case reflect.Float64:
		return &Schema{Type: TypeNumber}, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if name := ownEncoding(t.Elem()); name != "" {
				return nil, r.errorf(path+"[]", "unsupported type %s: it implements %s", t.Elem(), name)
			}
			return &Schema{Type: TypeString, ContentEncoding: EncodingBase64}, nil
		}
		fallthrough
	case reflect.Array:
		items, err := r.schema(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		return &Schema{Type: TypeArray, Items: items}, nil
	case reflect.Map:
		if k := t.Key(); k.Kind() != reflect.String || reflect.PointerTo(k).Implements(textUnmarshalerType) {
			return nil, r.errorf(path, "unsupported type %s: map keys must be strings", t)
		}
		values, err := r.schema(t.Elem(), path+"[]")
		if err != nil {
			return nil, err
		}
		return &Schema{Type: TypeObject, AdditionalProperties: values}, nil
	case reflect.Struct:
		return r.object(t, path)
	}
	return nil, r.errorf(path, "unsupported type %s", t)
}

// ownEncoding names the encoding interface t implements, if any, by value
// or by pointer: encoding/json would use it instead of t's structure.
func ownEncoding(t reflect.Type) string {
	p := reflect.PointerTo(t)
	for _, i := range [...]struct {
		typ  reflect.Type
		name string
	}{
		{jsonMarshalerType, "json.Marshaler"},
		{jsonUnmarshalerType, "json.Unmarshaler"},
		{textMarshalerType, "encoding.TextMarshaler"},
		{textUnmarshalerType, "encoding.TextUnmarshaler"},
	} {
		if t.Implements(i.typ) || p.Implements(i.typ) {
			return i.name
		}
	}
	return ""
}

func float(f float64) *float64 { return &f }

func (r *reflector) object(t reflect.Type, path string) (*Schema, error) {
	if r.open[t] {
		return nil, r.errorf(path, "recursive type %s", t)
	}
	r.open[t] = true
	defer delete(r.open, t)

	fields := structFields(t)
	s := &Schema{Type: TypeObject, Properties: make([]Property, 0, len(fields))}
	for _, f := range fields {
		fpath := f.sf.Name
		if path != "" {
			fpath = path + "." + f.sf.Name
		}
		if f.quoted {
			return nil, r.errorf(fpath, `unsupported json option ",string"`)
		}
		if f.unsettable != nil {
			return nil, r.errorf(fpath, "unsupported embedded pointer to unexported type %s", f.unsettable)
		}
		fs, err := r.schema(f.sf.Type, fpath)
		if err != nil {
			return nil, err
		}
		fs.Description = f.sf.Tag.Get("description")
		if tag, ok := f.sf.Tag.Lookup("enum"); ok {
			if err := r.enum(fs, tag, fpath); err != nil {
				return nil, err
			}
		}
		s.Properties = append(s.Properties, Property{Name: f.name, Schema: fs})
		if !f.optional {
			s.Required = append(s.Required, f.name)
		}
	}
	return s, nil
}

// enum applies an enum tag to a string schema or the items of a string
// array schema.
func (r *reflector) enum(s *Schema, tag, path string) error {
	target := s
	if s.Type == TypeArray && s.Items != nil {
		target = s.Items
	}
	if target.Type != TypeString || target.Format != "" || target.ContentEncoding != "" {
		return r.errorf(path, "enum tag on a field that is not a string or a slice of strings")
	}
	values := strings.Split(tag, ",")
	for i, v := range values {
		values[i] = strings.TrimSpace(v)
		if values[i] == "" {
			return r.errorf(path, "enum tag has an empty value")
		}
	}
	target.Enum = values
	return nil
}

// field is a struct field as encoding/json sees it.
type field struct {
	name     string
	tagged   bool  // name came from a json tag
	index    []int // index sequence, through embedded structs
	sf       reflect.StructField
	optional bool
	quoted   bool // the ",string" option applies
	// unsettable is the unexported struct type of an embedded pointer the
	// field is promoted through; encoding/json cannot allocate it.
	unsettable reflect.Type
}

// embedded is an embedded struct whose fields are promoted.
type embedded struct {
	typ        reflect.Type
	index      []int
	viaPointer bool
	unsettable reflect.Type
}

// structFields returns the fields encoding/json encodes and decodes for
// struct type t, in index order. It follows encoding/json's typeFields:
// breadth first through embedded structs, then Go's rules for hidden
// fields, except that json-tagged fields win over untagged ones at the same
// depth, and that ambiguous fields are dropped.
func structFields(t reflect.Type) []field {
	var current []embedded
	next := []embedded{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	var fields []field

	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}

		for _, e := range current {
			if visited[e.typ] {
				continue
			}
			visited[e.typ] = true
			for i := range e.typ.NumField() {
				sf := e.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTagName(name) {
					name = ""
				}
				index := append(slices.Clip(e.index), i)

				ft := sf.Type
				followed := false
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
					followed = true
				}

				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					f := field{
						name:       name,
						tagged:     name != "",
						index:      index,
						sf:         sf,
						unsettable: e.unsettable,
						optional: e.viaPointer || sf.Type.Kind() == reflect.Pointer ||
							hasOption(opts, "omitempty") || hasOption(opts, "omitzero"),
					}
					if f.name == "" {
						f.name = sf.Name
					}
					if hasOption(opts, "string") {
						switch ft.Kind() {
						case reflect.Bool,
							reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64,
							reflect.String:
							f.quoted = true
						}
					}
					fields = append(fields, f)
					if count[e.typ] > 1 {
						// Several instances of this embedded type at one
						// depth: add a duplicate so that it is dropped below.
						fields = append(fields, f)
					}
					continue
				}

				// An untagged embedded struct: explore it next round.
				nextCount[ft]++
				if nextCount[ft] == 1 {
					emb := embedded{typ: ft, index: index, viaPointer: e.viaPointer || followed, unsettable: e.unsettable}
					if followed && !sf.IsExported() && emb.unsettable == nil {
						emb.unsettable = ft
					}
					next = append(next, emb)
				}
			}
		}
	}

	slices.SortFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return +1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for advance, i := 0, 0; i < len(fields); i += advance {
		fi := fields[i]
		for advance = 1; i+advance < len(fields); advance++ {
			if fields[i+advance].name != fi.name {
				break
			}
		}
		if advance == 1 {
			out = append(out, fi)
			continue
		}
		// The first field dominates, unless the next one is as shallow
		// and as tagged: then the name is ambiguous and dropped.
		if fj := fields[i+1]; len(fi.index) == len(fj.index) && fi.tagged == fj.tagged {
			continue
		}
		out = append(out, fi)
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

func hasOption(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// validTagName reports whether encoding/json accepts s as a name in a json
// tag; it ignores other names.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
