package sealed

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
)

// A sealed value is kept in a string field of the inner record as this
// prefix and the unpadded base64url envelope.
const prefix = store.SealedPrefix

// Fields of the bindings. Each sealed value is bound to its tenant, to
// one of these and to its row: the provider's message id for inbound
// messages, the conversation for other records, the subject for
// profiles and the title and summary of tickets, the ticket number for
// ticket notes, the record id for tags. A value moved to another place
// fails to open.
const (
	fieldInbound      = "inbound"
	fieldInboundMedia = "inbound.media"
	fieldPart         = "part"
	fieldPartMedia    = "part.media"
	fieldOutbound     = "outbound"
	fieldOutMedia     = "outbound.media"
	fieldHeaderMedia  = "outbound.template.media"
	fieldName         = "profile.name"
	fieldUsername     = "profile.username"
	fieldLocale       = "profile.locale"
	fieldTicketTitle  = "ticket.title"
	fieldTicketSum    = "ticket.summary"
	fieldTicketNote   = "ticket.note"
	fieldTagOrder     = "tags.order_number"
	fieldTagProduct   = "tags.product"
	fieldTagEmail     = "tags.email"
	fieldTagDate      = "tags.date"
)

// errNotSealed: a field of the inner record that should hold a sealed
// value holds something else (written around the Store).
var errNotSealed = fmt.Errorf("sealed: the inner store holds a value that is not sealed: %w", seal.ErrMalformed)

// resolver finds the data keys of one call, each once.
type resolver struct {
	s    *Store
	ctx  context.Context
	keys map[[2]string]*seal.DataKey
}

func (s *Store) resolver(ctx context.Context, known *seal.DataKey) *resolver {
	r := &resolver{s: s, ctx: ctx}
	if known != nil {
		r.keys = map[[2]string]*seal.DataKey{{known.Tenant(), known.ID()}: known}
	}
	return r
}

func (r *resolver) key(tenant channel.TenantID, id string) (*seal.DataKey, error) {
	k := [2]string{string(tenant), id}
	if dk, ok := r.keys[k]; ok {
		return dk, nil
	}
	dk, err := r.s.keys.Key(r.ctx, string(tenant), id)
	if err != nil {
		return nil, err
	}
	if r.keys == nil {
		r.keys = make(map[[2]string]*seal.DataKey, 1)
	}
	r.keys[k] = dk
	return dk, nil
}

// openError classifies an error met while opening records for the caller.
func openError(err error) error {
	if errors.Is(err, seal.ErrNoDataKey) && !errors.Is(err, ErrShredded) {
		return fmt.Errorf("%w: %w", ErrShredded, err)
	}
	return err
}

// keyError classifies an error of finding or creating a key during op.
func (s *Store) keyError(op string, err error) error {
	if errors.Is(err, seal.ErrNoDataKey) {
		return fmt.Errorf("sealed: %s: %w: %w", op, ErrShredded, err)
	}
	return fmt.Errorf("sealed: %s: %w", op, err)
}

// sealJSON returns v as JSON sealed with key, in the text form.
func sealJSON(key *seal.DataKey, v any, b seal.Binding) (string, error) {
	pt, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sealed: encode %s: %w", b.Field, err)
	}
	env := key.Seal(pt, b)
	clear(pt)
	return prefix + base64.RawURLEncoding.EncodeToString(env), nil
}

func sealString(key *seal.DataKey, v string, b seal.Binding) string {
	return prefix + base64.RawURLEncoding.EncodeToString(key.Seal([]byte(v), b))
}

// open returns the plaintext of the sealed text form s, opened with the
// key the envelope names (in tenant).
func (r *resolver) open(s string, b seal.Binding) ([]byte, error) {
	env, id, err := parseSealed(s, b.Field)
	if err != nil {
		return nil, err
	}
	key, err := r.key(channel.TenantID(b.Tenant), id)
	if err != nil {
		return nil, fmt.Errorf("sealed: open %s: %w", b.Field, openError(err))
	}
	pt, err := key.Open(env, b)
	if err != nil {
		return nil, fmt.Errorf("sealed: open %s: %w", b.Field, err)
	}
	return pt, nil
}

// parseSealed returns the envelope in the text form s of field, and the
// id of the data key that sealed it: the blind user id of the subject it
// belongs to.
func parseSealed(s, field string) ([]byte, string, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return nil, "", fmt.Errorf("%w (%s)", errNotSealed, field)
	}
	env, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return nil, "", fmt.Errorf("%w (%s)", errNotSealed, field)
	}
	e, err := seal.ParseEnvelope(env)
	if err != nil {
		return nil, "", fmt.Errorf("sealed: open %s: %w", field, err)
	}
	if e.Kind != seal.KindDataKey {
		return nil, "", fmt.Errorf("sealed: open %s: not sealed by a data key: %w", field, seal.ErrMalformed)
	}
	return env, e.KeyID, nil
}

// openString returns the plaintext of the text form s as a string.
func (r *resolver) openString(s string, b seal.Binding) (string, error) {
	pt, err := r.open(s, b)
	if err != nil {
		return "", err
	}
	return string(pt), nil
}

func (r *resolver) openJSON(s string, b seal.Binding, v any) error {
	pt, err := r.open(s, b)
	if err != nil {
		return err
	}
	defer clear(pt)
	if err := json.Unmarshal(pt, v); err != nil {
		return fmt.Errorf("sealed: decode %s: %w", b.Field, err)
	}
	return nil
}

// Addresses

// sealAddress returns addr with its user replaced by the blind index,
// creating the data key of a user met for the first time.
func (r *resolver) sealAddress(addr channel.Address) (channel.Address, error) {
	if !complete(addr) {
		return addr, nil
	}
	id := r.s.subjectID(addr)
	if _, ok := r.keys[[2]string{string(addr.Tenant), id}]; !ok {
		dk, err := r.s.keys.Ensure(r.ctx, string(addr.Tenant), id, string(addr.User))
		if err != nil {
			return addr, err
		}
		if r.keys == nil {
			r.keys = make(map[[2]string]*seal.DataKey, 1)
		}
		r.keys[[2]string{string(addr.Tenant), id}] = dk
	}
	addr.User = channel.UserID(id)
	return addr, nil
}

// openAddress returns addr with its real user, kept in its data key.
func (r *resolver) openAddress(addr channel.Address) (channel.Address, error) {
	if !complete(addr) {
		return addr, nil
	}
	key, err := r.key(addr.Tenant, string(addr.User))
	if err != nil {
		return addr, fmt.Errorf("sealed: open address: %w", openError(err))
	}
	addr.User = channel.UserID(key.Subject())
	return addr, nil
}

// Inbound messages

func inboundRow(m *channel.Message) string { return string(m.From.Channel) + "\x00" + string(m.ID) }

// sealInbound returns m as the inner store keeps it: the idempotency key,
// time, type and provider errors in clear (kept by a content purge), the
// sender's address blind, the rest sealed with key in Text, and the media
// reference sealed in Media so that a media purge removes it alone. The
// Sender is set by the caller.
func (r *resolver) sealInbound(m channel.Message, key *seal.DataKey) (channel.Message, error) {
	from, err := r.sealAddress(m.From)
	if err != nil {
		return channel.Message{}, err
	}
	out := channel.Message{ID: m.ID, From: from, Time: m.Time, Type: m.Type, Errors: m.Errors}
	tenant, row := string(m.From.Tenant), inboundRow(&m)
	if m.Media != nil {
		v, err := sealJSON(key, m.Media, seal.Binding{Tenant: tenant, Field: fieldInboundMedia, Row: row})
		if err != nil {
			return channel.Message{}, err
		}
		out.Media = &channel.Media{Kind: m.Media.Kind, ID: v}
	}
	content := m
	content.ID, content.From, content.Time, content.Type, content.Errors, content.Media = "", channel.Address{}, time.Time{}, "", nil, nil
	v, err := sealUnlessZero(key, content, zeroInbound, seal.Binding{Tenant: tenant, Field: fieldInbound, Row: row})
	if err != nil {
		return channel.Message{}, err
	}
	out.Text = channel.Text(v)
	return out, nil
}

// Zero values as JSON: content that marshals to these is not sealed, so
// that a record without content keeps none.
var (
	zeroInbound  = mustJSON(channel.Message{})
	zeroOutbound = mustJSON(channel.Outbound{})
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the zero values of the channel types always marshal
	}
	return b
}

// sealUnlessZero returns v as JSON sealed with key, or "" when v
// marshals to zero. Comparing JSON rather than fields keeps content
// sealed when the channel types gain fields.
func sealUnlessZero(key *seal.DataKey, v any, zero []byte, b seal.Binding) (string, error) {
	pt, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sealed: encode %s: %w", b.Field, err)
	}
	defer clear(pt)
	if bytes.Equal(pt, zero) {
		return "", nil
	}
	return prefix + base64.RawURLEncoding.EncodeToString(key.Seal(pt, b)), nil
}

// openInbound reverses sealInbound.
func (r *resolver) openInbound(in channel.Message) (channel.Message, error) {
	tenant, row := string(in.From.Tenant), inboundRow(&in)
	var out channel.Message
	if in.Text != "" {
		if err := r.openJSON(string(in.Text), seal.Binding{Tenant: tenant, Field: fieldInbound, Row: row}, &out); err != nil {
			return channel.Message{}, err
		}
	}
	from, err := r.openAddress(in.From)
	if err != nil {
		return channel.Message{}, err
	}
	out.ID, out.From, out.Time, out.Type, out.Errors = in.ID, from, in.Time, in.Type, in.Errors
	if in.Media != nil {
		out.Media = new(channel.Media)
		if err := r.openJSON(in.Media.ID, seal.Binding{Tenant: tenant, Field: fieldInboundMedia, Row: row}, out.Media); err != nil {
			return channel.Message{}, err
		}
	}
	return out, nil
}

// Records

// sealMessage returns the record m as the inner store keeps it: metadata
// in clear, what was said sealed with key (the conversation's subject's).
func (r *resolver) sealMessage(m store.Message, key *seal.DataKey) (store.Message, error) {
	out := m
	tenant, row := string(m.Tenant), string(m.Conversation)
	if m.Inbound != nil {
		in, err := r.sealInbound(*m.Inbound, key)
		if err != nil {
			return store.Message{}, err
		}
		out.Inbound = &in
	}
	if m.Parts != nil {
		out.Parts = make([]llm.Part, len(m.Parts))
		for i, p := range m.Parts {
			sp := llm.Part{Kind: p.Kind}
			if p.Data != nil || p.URL != "" {
				v, err := sealJSON(key, partMedia{Data: p.Data, URL: p.URL}, seal.Binding{Tenant: tenant, Field: fieldPartMedia, Row: row})
				if err != nil {
					return store.Message{}, err
				}
				sp.URL = v
			}
			content := p
			content.Kind, content.Data, content.URL = "", nil, ""
			v, err := sealJSON(key, content, seal.Binding{Tenant: tenant, Field: fieldPart, Row: row})
			if err != nil {
				return store.Message{}, err
			}
			sp.Text = v
			out.Parts[i] = sp
		}
	}
	if m.Outbound != nil {
		o, err := r.sealOutbound(*m.Outbound, key, tenant, row)
		if err != nil {
			return store.Message{}, err
		}
		out.Outbound = &o
	}
	return out, nil
}

// partMedia is the media reference of a part, sealed apart from the rest
// so that a media purge removes it alone.
type partMedia struct {
	Data []byte `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

func (r *resolver) sealOutbound(o channel.Outbound, key *seal.DataKey, tenant, row string) (channel.Outbound, error) {
	to, err := r.sealAddress(o.To)
	if err != nil {
		return channel.Outbound{}, err
	}
	out := channel.Outbound{To: to, Correlation: o.Correlation}
	content := o.Clone()
	content.To, content.Correlation, content.Media = channel.Address{}, "", nil
	if o.Media != nil {
		v, err := sealJSON(key, o.Media, seal.Binding{Tenant: tenant, Field: fieldOutMedia, Row: row})
		if err != nil {
			return channel.Outbound{}, err
		}
		out.Media = &channel.Media{Kind: o.Media.Kind, ID: v}
	}
	if t := o.Template; t != nil && t.Header != nil && t.Header.Media != nil {
		v, err := sealJSON(key, t.Header.Media, seal.Binding{Tenant: tenant, Field: fieldHeaderMedia, Row: row})
		if err != nil {
			return channel.Outbound{}, err
		}
		out.Template = &channel.Template{Header: &channel.TemplateHeader{Media: &channel.Media{Kind: t.Header.Media.Kind, ID: v}}}
		content.Template.Header.Media = nil
	}
	v, err := sealUnlessZero(key, content, zeroOutbound, seal.Binding{Tenant: tenant, Field: fieldOutbound, Row: row})
	if err != nil {
		return channel.Outbound{}, err
	}
	out.Text = channel.Text(v)
	return out, nil
}

func (r *resolver) openOutbound(o channel.Outbound, tenant, row string) (channel.Outbound, error) {
	var out channel.Outbound
	if o.Text != "" {
		if err := r.openJSON(string(o.Text), seal.Binding{Tenant: tenant, Field: fieldOutbound, Row: row}, &out); err != nil {
			return channel.Outbound{}, err
		}
	}
	to, err := r.openAddress(o.To)
	if err != nil {
		return channel.Outbound{}, err
	}
	out.To, out.Correlation = to, o.Correlation
	if o.Media != nil {
		out.Media = new(channel.Media)
		if err := r.openJSON(o.Media.ID, seal.Binding{Tenant: tenant, Field: fieldOutMedia, Row: row}, out.Media); err != nil {
			return channel.Outbound{}, err
		}
	}
	if t := o.Template; t != nil && t.Header != nil && t.Header.Media != nil {
		if out.Template == nil || out.Template.Header == nil {
			return channel.Outbound{}, fmt.Errorf("sealed: open %s: header media without its template: %w", fieldHeaderMedia, seal.ErrTampered)
		}
		out.Template.Header.Media = new(channel.Media)
		if err := r.openJSON(t.Header.Media.ID, seal.Binding{Tenant: tenant, Field: fieldHeaderMedia, Row: row}, out.Template.Header.Media); err != nil {
			return channel.Outbound{}, err
		}
	}
	return out, nil
}

// openMessage reverses sealMessage (and sealInbound, for inbound
// records).
func (r *resolver) openMessage(m store.Message) (store.Message, error) {
	tenant, row := string(m.Tenant), string(m.Conversation)
	if m.Inbound != nil {
		in, err := r.openInbound(*m.Inbound)
		if err != nil {
			return store.Message{}, err
		}
		m.Inbound = &in
	}
	if m.Parts != nil {
		parts := make([]llm.Part, len(m.Parts))
		for i, p := range m.Parts {
			var op llm.Part
			if p.Text != "" {
				if err := r.openJSON(p.Text, seal.Binding{Tenant: tenant, Field: fieldPart, Row: row}, &op); err != nil {
					return store.Message{}, err
				}
			}
			op.Kind = p.Kind
			if p.URL != "" {
				var pm partMedia
				if err := r.openJSON(p.URL, seal.Binding{Tenant: tenant, Field: fieldPartMedia, Row: row}, &pm); err != nil {
					return store.Message{}, err
				}
				op.Data, op.URL = pm.Data, pm.URL
			}
			parts[i] = op
		}
		m.Parts = parts
	}
	if m.Outbound != nil {
		o, err := r.openOutbound(*m.Outbound, tenant, row)
		if err != nil {
			return store.Message{}, err
		}
		m.Outbound = &o
	}
	return m, nil
}

func (r *resolver) openMessages(ms []store.Message) error {
	for i := range ms {
		m, err := r.openMessage(ms[i])
		if err != nil {
			return err
		}
		ms[i] = m
	}
	return nil
}

func (r *resolver) openConversation(c store.Conversation) (store.Conversation, error) {
	addr, err := r.openAddress(c.Address)
	if err != nil {
		return store.Conversation{}, err
	}
	c.Address = addr
	return c, nil
}

func (r *resolver) openSubject(s store.Subject) (store.Subject, error) {
	blindUser := string(s.Address.User)
	addr, err := r.openAddress(s.Address)
	if err != nil {
		return store.Subject{}, err
	}
	s.Address = addr
	if s.Profile, err = r.openProfile(s.Address.Tenant, blindUser, s.Profile); err != nil {
		return store.Subject{}, err
	}
	return s, nil
}
