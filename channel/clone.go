package channel

import (
	"bytes"
	"slices"
)

// The Clone methods return deep copies: the copy shares no memory that can
// be written through (slices, pointers) with the original, and keeps the
// difference between nil and empty slices, so a clone is reflect.DeepEqual
// to its original.

// Clone returns a deep copy of m.
func (m Message) Clone() Message {
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
	return m
}

// Clone returns a deep copy of o.
func (o Outbound) Clone() Outbound {
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
	if o.Cards != nil {
		o.Cards = slices.Clone(o.Cards)
		for i := range o.Cards {
			o.Cards[i].Buttons = slices.Clone(o.Cards[i].Buttons)
		}
	}
	return o
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
