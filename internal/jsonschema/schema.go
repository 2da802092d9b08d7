package jsonschema

import (
	"errors"
	"math"
	"strconv"
	"unicode/utf8"
)

// Types a [Schema] can have. The empty type means any JSON value.
const (
	TypeAny     = ""
	TypeObject  = "object"
	TypeArray   = "array"
	TypeString  = "string"
	TypeInteger = "integer"
	TypeNumber  = "number"
	TypeBoolean = "boolean"
)

// Values of [Schema.Format] and [Schema.ContentEncoding] that [Reflect]
// produces and [Schema.Validate] checks.
const (
	FormatDateTime = "date-time" // RFC 3339, as time.Time reads it
	EncodingBase64 = "base64"    // standard encoding with padding, as []byte reads it
)

// Schema is a JSON Schema node, limited to the subset language models
// accept. It is a plain value: adapters may inspect it and derive their
// own dialect from a [Schema.Clone].
//
// A Schema is not modified after construction: [Schema.Validate] and
// [Schema.MarshalJSON] only read it, so one Schema may be used by many
// goroutines at once as long as no one writes to it.
//
// A nil *Schema means any JSON value, as does a Schema with an empty Type.
// Keywords apply only to the type they belong to: Enum, Format and
// ContentEncoding to strings, Minimum and Maximum to numbers and integers,
// Properties, Required and AdditionalProperties to objects, Items to arrays.
type Schema struct {
	// Type is one of the Type constants; empty means any value.
	Type string
	// Description tells the model what the value is for.
	Description string
	// Enum lists the values a string may take; empty means any string.
	Enum []string
	// Format is FormatDateTime for time.Time, empty otherwise.
	Format string
	// ContentEncoding is EncodingBase64 for []byte, empty otherwise.
	ContentEncoding string
	// Minimum and Maximum bound a number or integer, inclusive; nil means
	// unbounded. Reflect sets them from the Go type: 0 for unsigned
	// integers, the type's range for integers narrower than 64 bits and
	// for float32.
	Minimum *float64
	Maximum *float64
	// Properties of an object, in struct field order.
	Properties []Property
	// Required lists the names of the properties that must be present.
	Required []string
	// Items is the schema of an array's elements; nil means any.
	Items *Schema
	// AdditionalProperties is the schema of the values of an object's
	// other properties (a Go map's values). Nil closes the object: only
	// Properties are allowed, as for a Go struct, and MarshalJSON writes
	// "additionalProperties": false.
	AdditionalProperties *Schema
}

// Property is a named property of an object [Schema].
type Property struct {
	Name string
	// Schema of the property's value; nil means any.
	Schema *Schema
}

// Clone returns a deep copy of s, which the caller may modify freely.
func (s *Schema) Clone() *Schema {
	if s == nil {
		return nil
	}
	c := *s
	c.Enum = cloneSlice(s.Enum)
	c.Required = cloneSlice(s.Required)
	c.Minimum = cloneFloat(s.Minimum)
	c.Maximum = cloneFloat(s.Maximum)
	if s.Properties != nil {
		c.Properties = make([]Property, len(s.Properties))
		for i, p := range s.Properties {
			c.Properties[i] = Property{Name: p.Name, Schema: p.Schema.Clone()}
		}
	}
	c.Items = s.Items.Clone()
	c.AdditionalProperties = s.AdditionalProperties.Clone()
	return &c
}

func cloneSlice(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

func cloneFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}

// property returns the index of the property called name, or -1.
func (s *Schema) property(name string) int {
	for i := range s.Properties {
		if s.Properties[i].Name == name {
			return i
		}
	}
	return -1
}

// MarshalJSON encodes s as a JSON Schema document. The output is
// deterministic: keys in a fixed order, properties in struct field order.
// An object without AdditionalProperties is written with
// "additionalProperties": false and its (possibly empty) "properties"; a
// schema of any type is written as {} plus its description.
func (s *Schema) MarshalJSON() ([]byte, error) {
	return s.appendJSON(make([]byte, 0, 256))
}

var errNotFinite = errors.New("jsonschema: minimum or maximum is not a finite number")

func (s *Schema) appendJSON(b []byte) ([]byte, error) {
	if s == nil {
		return append(b, "{}"...), nil
	}
	b = append(b, '{')
	first := true
	key := func(k string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, k)
		b = append(b, ':')
	}
	if s.Type != "" {
		key("type")
		b = appendString(b, s.Type)
	}
	if s.Description != "" {
		key("description")
		b = appendString(b, s.Description)
	}
	if len(s.Enum) > 0 {
		key("enum")
		b = append(b, '[')
		for i, v := range s.Enum {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, v)
		}
		b = append(b, ']')
	}
	if s.Format != "" {
		key("format")
		b = appendString(b, s.Format)
	}
	if s.ContentEncoding != "" {
		key("contentEncoding")
		b = appendString(b, s.ContentEncoding)
	}
	for _, bound := range [...]struct {
		name string
		v    *float64
	}{{"minimum", s.Minimum}, {"maximum", s.Maximum}} {
		if bound.v == nil {
			continue
		}
		if math.IsNaN(*bound.v) || math.IsInf(*bound.v, 0) {
			return nil, errNotFinite
		}
		key(bound.name)
		b = appendFloat(b, *bound.v)
	}
	if s.Items != nil {
		key("items")
		var err error
		if b, err = s.Items.appendJSON(b); err != nil {
			return nil, err
		}
	}
	if len(s.Properties) > 0 || (s.Type == TypeObject && s.AdditionalProperties == nil) {
		key("properties")
		b = append(b, '{')
		for i, p := range s.Properties {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p.Name)
			b = append(b, ':')
			var err error
			if b, err = p.Schema.appendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, '}')
	}
	if len(s.Required) > 0 {
		key("required")
		b = append(b, '[')
		for i, name := range s.Required {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, name)
		}
		b = append(b, ']')
	}
	if s.Type == TypeObject || s.AdditionalProperties != nil {
		key("additionalProperties")
		if s.AdditionalProperties == nil {
			b = append(b, "false"...)
		} else {
			var err error
			if b, err = s.AdditionalProperties.appendJSON(b); err != nil {
				return nil, err
			}
		}
	}
	return append(b, '}'), nil
}

// appendFloat writes f as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone: schemas are not embedded in HTML.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
