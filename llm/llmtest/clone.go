package llmtest

import (
	"bytes"
	"slices"

	"github.com/wagent/wagent/llm"
)

// The clones below are deep: the copy shares no memory that can be written
// through (slices, pointers) with the original. They keep the difference
// between nil and empty slices, so reflect.DeepEqual holds between a value
// and its clone. clone_test.go fills every field by reflection, so a field
// added to the llm types that is not copied here fails the tests.

func cloneRequest(r *llm.Request) *llm.Request {
	if r == nil {
		return nil
	}
	c := *r
	c.Messages = cloneMessages(r.Messages)
	if r.Tools != nil {
		c.Tools = make([]llm.Tool, len(r.Tools))
		for i, t := range r.Tools {
			t.Parameters = bytes.Clone(t.Parameters)
			c.Tools[i] = t
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

func cloneResponse(r *llm.Response) *llm.Response {
	if r == nil {
		return nil
	}
	c := *r
	c.Message = cloneMessage(r.Message)
	return &c
}

func cloneMessages(ms []llm.Message) []llm.Message {
	if ms == nil {
		return nil
	}
	c := make([]llm.Message, len(ms))
	for i, m := range ms {
		c[i] = cloneMessage(m)
	}
	return c
}

func cloneMessage(m llm.Message) llm.Message {
	if m.Parts == nil {
		return m
	}
	parts := slices.Clone(m.Parts)
	for i := range parts {
		clonePartInPlace(&parts[i])
	}
	m.Parts = parts
	return m
}

// clonePartInPlace replaces the shared memory of p, a shallow copy, with
// copies.
func clonePartInPlace(p *llm.Part) {
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
}
