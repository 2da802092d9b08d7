package llm

import (
	"bytes"
	"slices"
)

// The Clone methods return deep copies: the copy shares no memory that can
// be written through (slices, pointers) with the original, and keeps the
// difference between nil and empty slices, so a clone is reflect.DeepEqual
// to its original. Stores and test doubles use them to keep no memory of
// their callers.

// Clone returns a deep copy of p.
func (p Part) Clone() Part {
	p.Data = bytes.Clone(p.Data)
	p.Opaque.Data = bytes.Clone(p.Opaque.Data)
	if p.ToolCall != nil {
		tc := *p.ToolCall
		tc.Args = bytes.Clone(tc.Args)
		p.ToolCall = &tc
	}
	if p.ToolResult != nil {
		tr := *p.ToolResult
		p.ToolResult = &tr
	}
	return p
}

// Clone returns a deep copy of m.
func (m Message) Clone() Message {
	m.Parts = CloneParts(m.Parts)
	return m
}

// CloneParts returns a deep copy of ps.
func CloneParts(ps []Part) []Part {
	if ps == nil {
		return nil
	}
	c := make([]Part, len(ps))
	for i, p := range ps {
		c[i] = p.Clone()
	}
	return c
}

// Clone returns a deep copy of r.
func (r *Request) Clone() *Request {
	if r == nil {
		return nil
	}
	c := *r
	if r.Messages != nil {
		c.Messages = make([]Message, len(r.Messages))
		for i, m := range r.Messages {
			c.Messages[i] = m.Clone()
		}
	}
	if r.Tools != nil {
		c.Tools = slices.Clone(r.Tools)
		for i := range c.Tools {
			c.Tools[i].Parameters = bytes.Clone(c.Tools[i].Parameters)
		}
	}
	if r.ResponseFormat != nil {
		f := *r.ResponseFormat
		f.Schema = bytes.Clone(f.Schema)
		c.ResponseFormat = &f
	}
	if r.Temperature != nil {
		t := *r.Temperature
		c.Temperature = &t
	}
	return &c
}

// Clone returns a deep copy of r.
func (r *Response) Clone() *Response {
	if r == nil {
		return nil
	}
	c := *r
	c.Message = r.Message.Clone()
	return &c
}
