package memory

import (
	"bytes"
	"slices"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// The clones below are deep: a copy shares no memory that can be written
// through (pointers, slices) with its original. They keep the difference
// between nil and empty slices, so that a record comes back deep-equal to
// what was given, and allocate nothing for fields that are nil.
// clone_test.go fills every field by reflection, so that a field added to
// the channel, llm or store types and not copied here fails the tests.

// cloneMessage returns a deep copy of m.
func cloneMessage(m store.Message) store.Message {
	cloneMessageInPlace(&m)
	return m
}

// cloneMessageInPlace replaces the memory that m, a shallow copy, shares
// with its original by copies.
func cloneMessageInPlace(m *store.Message) {
	m.Inbound = cloneInbound(m.Inbound)
	m.Parts = cloneParts(m.Parts)
	m.Outbound = cloneOutbound(m.Outbound)
}

// cloneMessagesInPlace does what cloneMessageInPlace does for each of ms,
// in fewer allocations: the inbound messages, outbound messages and parts
// of all the records are copied into one array each. The records then
// share these arrays with each other but not with the store; a record's
// Parts have their capacity cut to their length, so that appending to them
// never writes over another record's.
func cloneMessagesInPlace(ms []store.Message) {
	var nIn, nOut, nParts int
	for i := range ms {
		if ms[i].Inbound != nil {
			nIn++
		}
		if ms[i].Outbound != nil {
			nOut++
		}
		nParts += len(ms[i].Parts)
	}
	var (
		ins   []channel.Message
		outs  []channel.Outbound
		parts []llm.Part
	)
	if nIn > 0 {
		ins = make([]channel.Message, nIn)
	}
	if nOut > 0 {
		outs = make([]channel.Outbound, nOut)
	}
	if nParts > 0 {
		parts = make([]llm.Part, nParts)
	}
	for i := range ms {
		m := &ms[i]
		if m.Inbound != nil {
			in := &ins[0]
			ins = ins[1:]
			*in = *m.Inbound
			cloneInboundFields(in)
			m.Inbound = in
		}
		if len(m.Parts) > 0 {
			n := len(m.Parts)
			p := parts[:n:n]
			parts = parts[n:]
			copy(p, m.Parts)
			clonePartsFields(p)
			m.Parts = p
		} else if m.Parts != nil {
			m.Parts = []llm.Part{}
		}
		if m.Outbound != nil {
			o := &outs[0]
			outs = outs[1:]
			*o = *m.Outbound
			cloneOutboundFields(o)
			m.Outbound = o
		}
	}
}

func cloneInbound(m *channel.Message) *channel.Message {
	if m == nil {
		return nil
	}
	c := *m
	cloneInboundFields(&c)
	return &c
}

// cloneInboundFields replaces the memory that m, a shallow copy, shares
// with its original by copies.
func cloneInboundFields(m *channel.Message) {
	m.Media = clonePtr(m.Media)
	m.Location = clonePtr(m.Location)
	if m.Contacts != nil {
		m.Contacts = slices.Clone(m.Contacts)
		for i := range m.Contacts {
			m.Contacts[i].Phones = slices.Clone(m.Contacts[i].Phones)
			m.Contacts[i].Emails = slices.Clone(m.Contacts[i].Emails)
		}
	}
	if m.Reply != nil {
		r := *m.Reply
		r.Data = bytes.Clone(r.Data)
		m.Reply = &r
	}
	m.Reaction = clonePtr(m.Reaction)
	if m.Order != nil {
		o := *m.Order
		o.Items = slices.Clone(o.Items)
		m.Order = &o
	}
	m.System = clonePtr(m.System)
	m.Context = clonePtr(m.Context)
	m.Referral = clonePtr(m.Referral)
	m.Errors = slices.Clone(m.Errors)
	m.Raw = bytes.Clone(m.Raw)
}

func cloneParts(ps []llm.Part) []llm.Part {
	if ps == nil {
		return nil
	}
	c := slices.Clone(ps)
	clonePartsFields(c)
	return c
}

// clonePartsFields replaces the memory that ps, shallow copies, share with
// their originals by copies.
func clonePartsFields(ps []llm.Part) {
	for i := range ps {
		p := &ps[i]
		p.Data = bytes.Clone(p.Data)
		p.Opaque.Data = bytes.Clone(p.Opaque.Data)
		if p.ToolCall != nil {
			tc := *p.ToolCall
			tc.Args = bytes.Clone(tc.Args)
			p.ToolCall = &tc
		}
		p.ToolResult = clonePtr(p.ToolResult)
	}
}

func cloneOutbound(o *channel.Outbound) *channel.Outbound {
	if o == nil {
		return nil
	}
	c := *o
	cloneOutboundFields(&c)
	return &c
}

// cloneOutboundFields replaces the memory that o, a shallow copy, shares
// with its original by copies.
func cloneOutboundFields(o *channel.Outbound) {
	o.Media = clonePtr(o.Media)
	if o.Interactive != nil {
		in := *o.Interactive
		in.Buttons = slices.Clone(in.Buttons)
		if in.List != nil {
			l := *in.List
			if l.Sections != nil {
				l.Sections = slices.Clone(l.Sections)
				for i := range l.Sections {
					l.Sections[i].Rows = slices.Clone(l.Sections[i].Rows)
				}
			}
			in.List = &l
		}
		o.Interactive = &in
	}
	if o.Template != nil {
		tp := *o.Template
		if tp.Header != nil {
			h := *tp.Header
			h.Media = clonePtr(h.Media)
			tp.Header = &h
		}
		tp.Params = slices.Clone(tp.Params)
		tp.Buttons = slices.Clone(tp.Buttons)
		o.Template = &tp
	}
	o.Reaction = clonePtr(o.Reaction)
	o.Location = clonePtr(o.Location)
}

// clonePtr copies the value p points to, which must hold no pointers or
// slices.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}
