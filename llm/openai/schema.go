package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// strictSchema returns schema rewritten for OpenAI's structured outputs in
// strict mode, which accept only schemas where, in every object, every
// property is required and additionalProperties is false:
//
//   - every schema that has properties, or whose type is "object", gets
//     "additionalProperties": false and lists all its properties in
//     "required";
//   - a property that was not required becomes nullable, so that the model
//     writes null where it would have left the property out: a "type"
//     gains "null" (and an "enum" gains null), and a schema without a type
//     ($ref, anyOf) gains a {"type":"null"} alternative;
//   - subschemas (properties, items, anyOf, allOf, oneOf, prefixItems,
//     $defs, definitions, not, if/then/else) are rewritten the same way.
//
// Everything else, the order of properties included (the model writes them
// in that order), is kept. strictSchema fails if schema is not a JSON
// object.
func strictSchema(schema json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(schema))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, fmt.Errorf("openai: schema: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("openai: schema: data after the JSON value")
	}
	root, ok := v.(*object)
	if !ok {
		return nil, errors.New("openai: schema: not a JSON object")
	}
	strict(root)
	return json.Marshal(root)
}

// strict rewrites the schema s in place.
func strict(s *object) {
	for _, k := range [...]string{"items", "additionalItems", "contains", "not", "if", "then", "else"} {
		if sub, ok := s.get(k).(*object); ok {
			strict(sub)
		}
	}
	for _, k := range [...]string{"anyOf", "allOf", "oneOf", "prefixItems"} {
		if subs, ok := s.get(k).([]any); ok {
			for _, sub := range subs {
				if o, ok := sub.(*object); ok {
					strict(o)
				}
			}
		}
	}
	for _, k := range [...]string{"$defs", "definitions"} {
		if defs, ok := s.get(k).(*object); ok {
			for _, name := range defs.keys {
				if o, ok := defs.vals[name].(*object); ok {
					strict(o)
				}
			}
		}
	}
	props, hasProps := s.get("properties").(*object)
	if !hasProps && !hasType(s, "object") {
		return
	}
	if !hasProps {
		props = &object{}
		s.set("properties", props)
	}
	required := make(map[string]bool)
	if list, ok := s.get("required").([]any); ok {
		for _, r := range list {
			if name, ok := r.(string); ok {
				required[name] = true
			}
		}
	}
	all := make([]any, 0, len(props.keys))
	for _, name := range props.keys {
		sub, ok := props.vals[name].(*object)
		if !ok {
			// A boolean schema: leave it to the API to judge.
			all = append(all, name)
			continue
		}
		strict(sub)
		if !required[name] {
			props.vals[name] = nullable(sub)
		}
		all = append(all, name)
	}
	s.set("required", all)
	s.set("additionalProperties", false)
}

// hasType reports whether the schema's type is t or lists t.
func hasType(s *object, t string) bool {
	switch v := s.get("type").(type) {
	case string:
		return v == t
	case []any:
		for _, x := range v {
			if x == t {
				return true
			}
		}
	}
	return false
}

// nullable returns s made to accept null as well.
func nullable(s *object) *object {
	switch t := s.get("type").(type) {
	case string:
		if t != "null" {
			s.set("type", []any{t, "null"})
		}
		addNullEnum(s)
		return s
	case []any:
		if !hasType(s, "null") {
			s.set("type", append(t, "null"))
		}
		addNullEnum(s)
		return s
	}
	if alts, ok := s.get("anyOf").([]any); ok {
		for _, a := range alts {
			if o, ok := a.(*object); ok && hasType(o, "null") {
				return s
			}
		}
		s.set("anyOf", append(alts, &object{keys: []string{"type"}, vals: map[string]any{"type": "null"}}))
		return s
	}
	return &object{keys: []string{"anyOf"}, vals: map[string]any{"anyOf": []any{
		s, &object{keys: []string{"type"}, vals: map[string]any{"type": "null"}},
	}}}
}

func addNullEnum(s *object) {
	enum, ok := s.get("enum").([]any)
	if !ok {
		return
	}
	for _, v := range enum {
		if v == nil {
			return
		}
	}
	s.set("enum", append(enum, nil))
}

// object is a JSON object that keeps the order of its keys.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(k string) any { return o.vals[k] }

func (o *object) set(k string, v any) {
	if o.vals == nil {
		o.vals = make(map[string]any)
	}
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// MarshalJSON writes the object with its keys in order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeOrdered decodes the next JSON value of dec, objects as *object.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &object{vals: make(map[string]any)}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			o.set(k, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return o, nil
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := decodeOrdered(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return a, nil
	}
	return tok, nil
}
