package sealed

import (
	"context"
	"errors"
	"fmt"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
)

// A profile is kept in the inner store as:
//
//	Name      the name and the phone, sealed together
//	Phone     the blind index of the phone, which Subject looks up
//	Username  sealed
//	Locale    sealed
//
// Stores update a profile field by field (a field left empty keeps its
// value), and so does the inner store with these fields. The name and the
// phone share a field, so a message that brings one of them without the
// other needs the other's current value: profileIn reads it, under a lock
// of the subject, and writes both. Several processes appending for the
// same subject at once may then lose the newer of two half profiles (the
// last writer wins the pair); a message that brings both, as every
// WhatsApp message does, merges as in any store.
type namePhone struct {
	Name  channel.Text  `json:"n,omitempty"`
	Phone channel.Phone `json:"p,omitempty"`
}

// profileIn returns p as the inner store keeps it for the subject at the
// blind address from, and a function to call once the append is done.
func (s *Store) profileIn(ctx context.Context, key *seal.DataKey, from channel.Address, p channel.Profile) (channel.Profile, func(), error) {
	noop := func() {}
	if p == (channel.Profile{}) {
		return channel.Profile{}, noop, nil
	}
	tenant := string(from.Tenant)
	row := key.ID()
	pair := namePhone{Name: p.Name, Phone: p.Phone}
	unlock := noop
	if (p.Name == "") != (p.Phone == "") {
		mu := &s.profiles[s.stripe(from.Tenant, row)]
		mu.Lock()
		unlock = mu.Unlock
		old, err := s.inner.Subject(ctx, from)
		switch {
		case err == nil && old.Address == from && old.Profile.Name != "":
			var was namePhone
			if err := s.resolver(ctx, key).openJSON(string(old.Profile.Name), seal.Binding{Tenant: tenant, Field: fieldName, Row: row}, &was); err != nil {
				unlock()
				return channel.Profile{}, noop, err
			}
			if pair.Name == "" {
				pair.Name = was.Name
			}
			if pair.Phone == "" {
				pair.Phone = was.Phone
			}
		case err != nil && !errors.Is(err, store.ErrNotFound):
			unlock()
			return channel.Profile{}, noop, err
		}
	}
	var out channel.Profile
	if pair != (namePhone{}) {
		v, err := sealJSON(key, pair, seal.Binding{Tenant: tenant, Field: fieldName, Row: row})
		if err != nil {
			unlock()
			return channel.Profile{}, noop, err
		}
		out.Name = channel.Text(v)
	}
	switch {
	case pair.Phone == "":
	case string(pair.Phone) == key.Subject():
		out.Phone = channel.Phone(row) // the same index as the user id's
	default:
		out.Phone = channel.Phone(s.ring.Index(tenant, string(from.Channel), string(pair.Phone)))
	}
	if p.Username != "" {
		out.Username = channel.Text(sealString(key, string(p.Username), seal.Binding{Tenant: tenant, Field: fieldUsername, Row: row}))
	}
	if p.Locale != "" {
		out.Locale = sealString(key, p.Locale, seal.Binding{Tenant: tenant, Field: fieldLocale, Row: row})
	}
	return out, unlock, nil
}

// openProfile reverses profileIn for the subject whose blind user id is
// row.
func (r *resolver) openProfile(tenant channel.TenantID, row string, p channel.Profile) (channel.Profile, error) {
	var out channel.Profile
	b := seal.Binding{Tenant: string(tenant), Row: row}
	if p.Name != "" {
		var pair namePhone
		b.Field = fieldName
		if err := r.openJSON(string(p.Name), b, &pair); err != nil {
			return channel.Profile{}, err
		}
		out.Name, out.Phone = pair.Name, pair.Phone
	}
	if p.Username != "" {
		b.Field = fieldUsername
		v, err := r.open(string(p.Username), b)
		if err != nil {
			return channel.Profile{}, err
		}
		out.Username = channel.Text(v)
	}
	if p.Locale != "" {
		b.Field = fieldLocale
		v, err := r.open(p.Locale, b)
		if err != nil {
			return channel.Profile{}, err
		}
		out.Locale = string(v)
	}
	if (p.Phone == "") != (out.Phone == "") {
		return channel.Profile{}, fmt.Errorf("sealed: open profile: the phone index and the sealed phone disagree: %w", seal.ErrTampered)
	}
	return out, nil
}
