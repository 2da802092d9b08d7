package jsonschema

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validate checks the JSON document data against s and returns nil or a
// [*ValidationError] matching [ErrInvalid] that lists up to ten problems in
// document order. The rules:
//
//   - data must be one valid JSON value ("invalid JSON: ...").
//   - Each value must have its schema's type; any type matches a schema
//     of any type. An integer must be written without fraction or
//     exponent, because encoding/json reads no other form into a Go
//     integer, and must fit in an int64, or in a uint64 when the minimum is
//     not negative; a number must fit in a float64.
//   - Numbers must lie within Minimum and Maximum, strings in Enum; a
//     date-time string must be RFC 3339 as time.Time reads it, and a
//     base64 string must decode.
//   - An object must have its required properties. A closed object (nil
//     AdditionalProperties) rejects other properties; an open one
//     validates their values against AdditionalProperties.
//   - null is accepted where the schema is of any type and for properties
//     that are not required, which encoding/json leaves at their zero
//     value; everywhere else it is a type mismatch.
//
// A document that Validate accepts against the schema [Reflect] made from a
// Go type can be decoded into that type by [json.Unmarshal].
//
// Messages name the path of each problem and what was expected, never the
// value found; see the package documentation on privacy.
func (s *Schema) Validate(data []byte) error {
	if !json.Valid(data) {
		return &ValidationError{Problems: []Problem{{Message: syntaxMessage(data)}}}
	}
	v := validator{data: data}
	v.value(s, false, nil)
	if len(v.problems) == 0 {
		return nil
	}
	return &ValidationError{Problems: v.problems, Omitted: v.omitted}
}

// syntaxMessage describes why data is not valid JSON without quoting it.
func syntaxMessage(data []byte) string {
	var syn *json.SyntaxError
	if err := json.Unmarshal(data, new(json.RawMessage)); !errors.As(err, &syn) {
		return "invalid JSON"
	}
	msg, offset := syn.Error(), syn.Offset
	if rest, ok := strings.CutPrefix(msg, "invalid character "); ok {
		// Drop the character itself, as in "invalid character 'x' after
		// object key", and give its position rather than the count of
		// bytes read up to and including it.
		msg = "syntax error"
		if i := strings.Index(rest, "' "); i > 0 {
			msg = "unexpected character " + rest[i+2:]
			if rest[i+2:] == "exceeded max depth" {
				msg = "nested too deeply"
			}
		}
		offset--
	}
	return "invalid JSON: " + msg + " at offset " + strconv.FormatInt(offset, 10)
}

// validator walks a document already known to be valid JSON.
type validator struct {
	data     []byte
	pos      int
	problems []Problem
	omitted  int
}

// segment is one step of a path, an object key or an array index, linked
// to the step before it. Segments live on the stack of the recursive walk,
// so a valid document costs no allocation for paths.
type segment struct {
	parent *segment
	key    []byte // raw, without quotes; nil for an index
	esc    bool   // key holds escapes
	index  int
}

func (v *validator) report(at *segment, msg string) {
	if len(v.problems) == maxProblems {
		v.omitted++
		return
	}
	v.problems = append(v.problems, Problem{Path: at.String(), Message: msg})
}

// maxKey bounds how much of a key a message shows.
const maxKey = 64

// String returns the path ending at seg.
func (seg *segment) String() string {
	var b strings.Builder
	seg.write(&b)
	return b.String()
}

func (seg *segment) write(b *strings.Builder) {
	if seg == nil {
		return
	}
	seg.parent.write(b)
	if seg.key == nil {
		b.WriteByte('[')
		b.WriteString(strconv.Itoa(seg.index))
		b.WriteByte(']')
		return
	}
	name := keyString(seg.key, seg.esc)
	if plainName(name) {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(name)
		return
	}
	b.WriteByte('[')
	b.WriteString(quoteKey(name))
	b.WriteByte(']')
}

// plainName reports whether a key can be written in a path without
// brackets.
func plainName(s string) bool {
	if s == "" || len(s) > maxKey {
		return false
	}
	for _, c := range s {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '_' && c != '-' && c != '$' {
			return false
		}
	}
	return true
}

// quoteKey quotes a key the model wrote, shortened to maxKey bytes.
func quoteKey(s string) string {
	if len(s) > maxKey {
		cut := maxKey
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}

// keyString returns the string a raw JSON string body stands for.
func keyString(raw []byte, esc bool) string {
	if !esc {
		return string(raw)
	}
	return unquote(raw)
}

// unquote decodes a raw JSON string body that holds escapes.
func unquote(raw []byte) string {
	var s string
	q := make([]byte, 0, len(raw)+2)
	q = append(append(append(q, '"'), raw...), '"')
	_ = json.Unmarshal(q, &s) // valid: the document was checked
	return s
}

// equalString reports whether a raw JSON string body stands for s.
func equalString(raw []byte, esc bool, s string) bool {
	if !esc {
		return string(raw) == s
	}
	return unquote(raw) == s
}

func (v *validator) skipSpace() {
	for v.pos < len(v.data) {
		switch v.data[v.pos] {
		case ' ', '\t', '\n', '\r':
			v.pos++
		default:
			return
		}
	}
}

// str consumes a string and returns its raw body and whether it holds
// escapes.
func (v *validator) str() (raw []byte, esc bool) {
	v.pos++ // opening quote
	start := v.pos
	for v.pos < len(v.data) {
		switch v.data[v.pos] {
		case '\\':
			esc = true
			v.pos += 2
		case '"':
			raw = v.data[start:v.pos]
			v.pos++
			return raw, esc
		default:
			v.pos++
		}
	}
	return v.data[start:], esc
}

// skip consumes one value of any type.
func (v *validator) skip() {
	depth := 0
	for v.pos < len(v.data) {
		switch c := v.data[v.pos]; c {
		case '"':
			v.str()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				v.pos++
				return
			}
		case ' ', '\t', '\n', '\r', ',', ':':
		default:
			if depth == 0 {
				// A number or literal at the top: consume it whole.
				for v.pos < len(v.data) && !isDelimiter(v.data[v.pos]) {
					v.pos++
				}
				return
			}
		}
		v.pos++
	}
}

func isDelimiter(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '}', ']':
		return true
	}
	return false
}

// kind names the JSON type of a value starting with c.
func kind(c byte) string {
	switch c {
	case '{':
		return TypeObject
	case '[':
		return TypeArray
	case '"':
		return TypeString
	case 't', 'f':
		return TypeBoolean
	case 'n':
		return "null"
	}
	return TypeNumber
}

// value validates the value at v.pos against s; nullable accepts null.
func (v *validator) value(s *Schema, nullable bool, at *segment) {
	v.skipSpace()
	if v.pos >= len(v.data) {
		return
	}
	if s == nil || s.Type == TypeAny {
		v.skip()
		return
	}
	c := v.data[v.pos]
	got := kind(c)
	switch {
	case got == s.Type:
	case got == TypeNumber && s.Type == TypeInteger:
	case got == "null" && nullable:
		v.skip()
		return
	default:
		v.report(at, "expected "+s.Type+", got "+got)
		v.skip()
		return
	}
	switch got {
	case TypeObject:
		v.object(s, at)
	case TypeArray:
		v.array(s, at)
	case TypeString:
		v.text(s, at)
	case TypeNumber:
		v.num(s, at)
	default:
		v.skip()
	}
}

func (v *validator) object(s *Schema, at *segment) {
	// Which properties are required, and which were seen.
	var required, seen []bool
	var reqBits, seenBits uint64
	small := len(s.Properties) <= 64
	if !small {
		required = make([]bool, len(s.Properties))
		seen = make([]bool, len(s.Properties))
	}
	var extraRequired bool // Required names a property not in Properties
	for _, name := range s.Required {
		i := s.property(name)
		switch {
		case i < 0:
			extraRequired = true
		case small:
			reqBits |= 1 << i
		default:
			required[i] = true
		}
	}
	isRequired := func(i int) bool {
		if small {
			return reqBits&(1<<i) != 0
		}
		return required[i]
	}

	start := v.pos
	v.pos++ // {
	// One segment for all keys, declared outside the loop so that it
	// stays on the stack.
	seg := segment{parent: at}
	for {
		v.skipSpace()
		if v.pos >= len(v.data) {
			return
		}
		if v.data[v.pos] == '}' {
			v.pos++
			break
		}
		if v.data[v.pos] == ',' {
			v.pos++
			continue
		}
		key, esc := v.str()
		v.skipSpace()
		v.pos++ // :
		i := -1
		for j := range s.Properties {
			if equalString(key, esc, s.Properties[j].Name) {
				i = j
				break
			}
		}
		switch {
		case i >= 0:
			if small {
				seenBits |= 1 << i
			} else {
				seen[i] = true
			}
			seg.key, seg.esc = key, esc
			v.value(s.Properties[i].Schema, !isRequired(i), &seg)
		case s.AdditionalProperties != nil:
			seg.key, seg.esc = key, esc
			v.value(s.AdditionalProperties, false, &seg)
		default:
			v.report(at, "unknown property "+quoteKey(keyString(key, esc)))
			v.skipSpace()
			v.skip()
		}
	}

	for i, p := range s.Properties {
		if !isRequired(i) {
			continue
		}
		if small && seenBits&(1<<i) != 0 || !small && seen[i] {
			continue
		}
		v.reportMissing(at, p.Name)
	}
	if extraRequired {
		for _, name := range s.Required {
			if s.property(name) < 0 && !v.hasKey(start, name) {
				v.reportMissing(at, name)
			}
		}
	}
}

func (v *validator) reportMissing(at *segment, name string) {
	v.report(&segment{parent: at, key: []byte(name)}, "is required")
}

// hasKey reports whether the object starting at start has the key name.
func (v *validator) hasKey(start int, name string) bool {
	w := validator{data: v.data, pos: start + 1}
	for {
		w.skipSpace()
		if w.pos >= len(w.data) || w.data[w.pos] == '}' {
			return false
		}
		if w.data[w.pos] == ',' {
			w.pos++
			continue
		}
		key, esc := w.str()
		if equalString(key, esc, name) {
			return true
		}
		w.skipSpace()
		w.pos++ // :
		w.skipSpace()
		w.skip()
	}
}

func (v *validator) array(s *Schema, at *segment) {
	v.pos++                    // [
	seg := segment{parent: at} // outside the loop: it stays on the stack
	for n := 0; ; {
		v.skipSpace()
		if v.pos >= len(v.data) {
			return
		}
		switch v.data[v.pos] {
		case ']':
			v.pos++
			return
		case ',':
			v.pos++
			continue
		}
		seg.index = n
		v.value(s.Items, false, &seg)
		n++
	}
}

func (v *validator) text(s *Schema, at *segment) {
	start := v.pos
	raw, esc := v.str()
	if len(s.Enum) > 0 {
		ok := false
		for _, e := range s.Enum {
			if equalString(raw, esc, e) {
				ok = true
				break
			}
		}
		if !ok {
			v.report(at, "must be one of "+quoteList(s.Enum))
			return
		}
	}
	switch s.Format {
	case FormatDateTime:
		// Exactly what time.Time.UnmarshalJSON reads.
		var t time.Time
		if t.UnmarshalJSON(v.data[start:v.pos]) != nil {
			v.report(at, `expected a date-time string in RFC 3339 format, such as "2006-01-02T15:04:05Z"`)
			return
		}
	}
	switch s.ContentEncoding {
	case EncodingBase64:
		str := keyString(raw, esc)
		if _, err := base64.StdEncoding.DecodeString(str); err != nil {
			v.report(at, "expected a base64-encoded string (standard alphabet, with padding)")
			return
		}
	}
}

func quoteList(values []string) string {
	var b strings.Builder
	for i, e := range values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(e))
	}
	return b.String()
}

const (
	maxInt64  = "9223372036854775807"
	minInt64  = "-9223372036854775808"
	maxUint64 = "18446744073709551615"
)

func (v *validator) num(s *Schema, at *segment) {
	start := v.pos
	for v.pos < len(v.data) && !isDelimiter(v.data[v.pos]) {
		v.pos++
	}
	lit := string(v.data[start:v.pos]) // does not escape: no allocation
	var f float64
	if s.Type == TypeInteger {
		if strings.ContainsAny(lit, ".eE") {
			v.report(at, "expected integer, got number with a fraction or exponent")
			return
		}
		unsigned := s.Minimum != nil && *s.Minimum >= 0
		switch {
		case lit[0] == '-' && unsigned:
			v.reportRange(at, s)
			return
		case lit[0] == '-':
			n, err := strconv.ParseInt(lit, 10, 64)
			if err != nil {
				v.report(at, "must be at least "+minInt64)
				return
			}
			f = float64(n)
		case unsigned:
			n, err := strconv.ParseUint(lit, 10, 64)
			if err != nil {
				v.report(at, "must be at most "+maxUint64)
				return
			}
			f = float64(n)
		default:
			n, err := strconv.ParseInt(lit, 10, 64)
			if err != nil {
				v.report(at, "must be at most "+maxInt64)
				return
			}
			f = float64(n)
		}
	} else {
		var err error
		if f, err = strconv.ParseFloat(lit, 64); err != nil {
			v.report(at, "number out of range")
			return
		}
	}
	if s.Minimum != nil && f < *s.Minimum || s.Maximum != nil && f > *s.Maximum {
		v.reportRange(at, s)
	}
}

func (v *validator) reportRange(at *segment, s *Schema) {
	bound := func(f float64) string { return string(appendFloat(nil, f)) }
	switch {
	case s.Minimum != nil && s.Maximum != nil:
		v.report(at, "must be between "+bound(*s.Minimum)+" and "+bound(*s.Maximum))
	case s.Minimum != nil:
		v.report(at, "must be at least "+bound(*s.Minimum))
	case s.Maximum != nil:
		v.report(at, "must be at most "+bound(*s.Maximum))
	}
}
