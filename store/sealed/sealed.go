package sealed

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
)

var _ store.ConversationStore = (*Store)(nil)

// ErrShredded: a record belongs to a subject whose data key is gone,
// destroyed by an erasure (crypto-shredding), so its content can never be
// read again. It is returned instead of the record, together with
// [seal.ErrNoDataKey]: errors.Is finds both.
var ErrShredded = errors.New("sealed: the subject's data key was destroyed")

// Options configures a [Store]. A nil *Options, like the zero value, gives
// the defaults.
type Options struct {
	// NoRewrapOnRead keeps reads from writing: by default a subject's data
	// key wrapped by an old keyring key is rewrapped by the primary when it
	// is read (see [seal.DataKeysOptions]). With it set, run
	// [Store.Rotate] after a rotation instead.
	NoRewrapOnRead bool
}

// Store is a [store.ConversationStore] that seals what the records say
// before they reach the inner store and opens it on the way out. The zero
// value is not usable; call [New]. A Store is safe for concurrent use when
// its inner store and key storage are.
//
// Store implements [store.ConversationStore], [store.Wrapper] and the
// methods of every optional capability of package store: find which of
// them it has with [store.Capability], which answers with what the inner
// store can do. A method whose capability the inner store lacks returns an
// error wrapping [errors.ErrUnsupported].
type Store struct {
	inner store.ConversationStore
	ring  *seal.Keyring
	keys  *seal.DataKeys

	purger   store.Purger
	eraser   store.Eraser
	exporter store.Exporter
	leaser   store.Leaser
	batcher  store.ProcessingBatcher
	lister   store.ConversationLister
	tickets  store.TicketSystem
	// ticketPurger is set only when the inner store keeps tickets too.
	ticketPurger store.TicketPurger
	tagger       store.Tagger

	seed maphash.Seed
	// subjects serializes an erasure with the appends of its subject:
	// appends share a stripe, an erasure holds it alone, so that no
	// message is sealed with a key being destroyed.
	subjects [64]sync.RWMutex
	// profiles serializes the read-merge-write of a subject's profile when
	// a message brings only part of it (see profileIn).
	profiles [64]sync.Mutex
}

// New returns a Store that keeps its records in inner, sealed with
// per-subject data keys wrapped by keys and kept in ks. opts may be nil.
//
// inner must be used only through the Store: records written to it
// directly are not sealed, and the Store refuses to read them.
func New(inner store.ConversationStore, keys *seal.Keyring, ks seal.KeyStorage, opts *Options) (*Store, error) {
	if inner == nil || keys == nil || ks == nil {
		return nil, fmt.Errorf("sealed: new: nil inner store, keyring or key storage: %w", store.ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	dk, err := seal.NewDataKeys(keys, ks, &seal.DataKeysOptions{NoRewrapOnRead: o.NoRewrapOnRead})
	if err != nil {
		return nil, fmt.Errorf("sealed: new: %w", err)
	}
	s := &Store{inner: inner, ring: keys, keys: dk, seed: maphash.MakeSeed()}
	s.purger, _ = store.Capability[store.Purger](inner)
	s.eraser, _ = store.Capability[store.Eraser](inner)
	s.exporter, _ = store.Capability[store.Exporter](inner)
	s.leaser, _ = store.Capability[store.Leaser](inner)
	s.batcher, _ = store.Capability[store.ProcessingBatcher](inner)
	s.lister, _ = store.Capability[store.ConversationLister](inner)
	s.tickets, _ = store.Capability[store.TicketSystem](inner)
	if s.tickets != nil {
		s.ticketPurger, _ = store.Capability[store.TicketPurger](inner)
	}
	s.tagger, _ = store.Capability[store.Tagger](inner)
	return s, nil
}

func (s *Store) stripe(tenant channel.TenantID, id string) int {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(string(tenant))
	h.WriteByte(0)
	h.WriteString(id)
	return int(h.Sum64() % uint64(len(s.subjects)))
}

// subjectID returns the blind index that replaces addr.User in the inner
// store, which is also the id of the subject's data key.
func (s *Store) subjectID(addr channel.Address) string {
	return s.ring.Index(string(addr.Tenant), string(addr.Channel), string(addr.User))
}

func (s *Store) blind(addr channel.Address) channel.Address {
	addr.User = channel.UserID(s.subjectID(addr))
	return addr
}

func complete(a channel.Address) bool { return a.Channel != "" && a.Tenant != "" && a.User != "" }

// AppendInbound implements [store.ConversationStore]. It seals the
// message's content and media and the sender's profile with the sender's
// data key (created on the sender's first message) and replaces the
// sender's user id and phone with their blind indexes.
func (s *Store) AppendInbound(ctx context.Context, m channel.Message) (store.Appended, error) {
	if err := ctx.Err(); err != nil {
		return store.Appended{}, fmt.Errorf("sealed: append inbound: %w", err)
	}
	if m.ID == "" || !complete(m.From) {
		return store.Appended{}, fmt.Errorf("sealed: append inbound: message id and sender address required: %w", store.ErrInvalid)
	}
	id := s.subjectID(m.From)
	mu := &s.subjects[s.stripe(m.From.Tenant, id)]
	mu.RLock()
	defer mu.RUnlock()
	key, err := s.keys.Ensure(ctx, string(m.From.Tenant), id, string(m.From.User))
	if err != nil {
		return store.Appended{}, s.keyError("append inbound", err)
	}
	r := s.resolver(ctx, key)
	in, err := r.sealInbound(m, key)
	if err != nil {
		return store.Appended{}, fmt.Errorf("sealed: append inbound: %w", err)
	}
	blindFrom := in.From
	unlock := func() {}
	in.Sender, unlock, err = s.profileIn(ctx, key, blindFrom, m.Sender)
	if err != nil {
		return store.Appended{}, fmt.Errorf("sealed: append inbound: %w", err)
	}
	a, err := s.inner.AppendInbound(ctx, in)
	unlock()
	if err != nil {
		return store.Appended{}, err
	}
	if a.Duplicate || a.Message.Inbound == nil {
		if a.Message, err = r.openMessage(a.Message); err != nil {
			return store.Appended{}, fmt.Errorf("sealed: append inbound: %w", err)
		}
	} else {
		// A new record holds m as sealed just now: give m back rather
		// than opening what was just sealed.
		recorded := m.Clone()
		recorded.Time = a.Message.Inbound.Time
		a.Message.Inbound = &recorded
	}
	if a.Conversation, err = r.openConversation(a.Conversation); err != nil {
		return store.Appended{}, fmt.Errorf("sealed: append inbound: %w", err)
	}
	return a, nil
}

// Append implements [store.ConversationStore]. It seals the record's
// parts and outbound message with the data key of the conversation's
// subject. It also returns [store.ErrInvalid] for a role that is not one
// of [store.Role]'s.
func (s *Store) Append(ctx context.Context, m store.Message) (store.Message, error) {
	if err := ctx.Err(); err != nil {
		return store.Message{}, fmt.Errorf("sealed: append: %w", err)
	}
	switch m.Role {
	case store.Assistant, store.Tool, store.Operator, store.Note, store.System:
	default:
		return store.Message{}, fmt.Errorf("sealed: append: role %q: %w", m.Role, store.ErrInvalid)
	}
	if m.Tenant == "" {
		return store.Message{}, fmt.Errorf("sealed: append: empty tenant: %w", store.ErrInvalid)
	}
	conv, err := s.inner.Conversation(ctx, m.Tenant, m.Conversation)
	if err != nil {
		return store.Message{}, err
	}
	key, err := s.keys.Key(ctx, string(m.Tenant), string(conv.Address.User))
	if err != nil {
		return store.Message{}, s.keyError("append", err)
	}
	r := s.resolver(ctx, key)
	sealed, err := r.sealMessage(m, key)
	if err != nil {
		return store.Message{}, fmt.Errorf("sealed: append: %w", err)
	}
	got, err := s.inner.Append(ctx, sealed)
	if err != nil {
		return store.Message{}, err
	}
	if got, err = r.openMessage(got); err != nil {
		return store.Message{}, fmt.Errorf("sealed: append: %w", err)
	}
	return got, nil
}

// Message implements [store.ConversationStore]. A record whose subject's
// key was destroyed is an error wrapping [ErrShredded].
func (s *Store) Message(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Message, error) {
	m, err := s.inner.Message(ctx, tenant, id)
	if err != nil {
		return store.Message{}, err
	}
	return opened(s.resolver(ctx, nil).openMessage(m))
}

// History implements [store.ConversationStore].
func (s *Store) History(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, q store.HistoryQuery) ([]store.Message, error) {
	h, err := s.inner.History(ctx, tenant, conv, q)
	if err != nil {
		return nil, err
	}
	if err := s.resolver(ctx, nil).openMessages(h); err != nil {
		return nil, openError(err)
	}
	return h, nil
}

// Pending implements [store.ConversationStore].
func (s *Store) Pending(ctx context.Context, q store.PendingQuery) ([]store.Message, error) {
	p, err := s.inner.Pending(ctx, q)
	if err != nil {
		return nil, err
	}
	if err := s.resolver(ctx, nil).openMessages(p); err != nil {
		return nil, openError(err)
	}
	return p, nil
}

// SetProcessing implements [store.ConversationStore]. Processing states
// hold no content and are kept in clear.
func (s *Store) SetProcessing(ctx context.Context, tenant channel.TenantID, id store.MessageID, p store.Processing) error {
	return s.inner.SetProcessing(ctx, tenant, id, p)
}

// UpdateDelivery implements [store.ConversationStore]. Delivery states
// and provider ids are kept in clear.
func (s *Store) UpdateDelivery(ctx context.Context, tenant channel.TenantID, u store.DeliveryUpdate) (store.Message, error) {
	m, err := s.inner.UpdateDelivery(ctx, tenant, u)
	if err != nil {
		return store.Message{}, err
	}
	return opened(s.resolver(ctx, nil).openMessage(m))
}

// OpenConversation implements [store.ConversationStore]. It creates the
// subject's data key with the conversation.
func (s *Store) OpenConversation(ctx context.Context, addr channel.Address) (store.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, fmt.Errorf("sealed: open conversation: %w", err)
	}
	if !complete(addr) {
		return store.Conversation{}, fmt.Errorf("sealed: open conversation: incomplete address: %w", store.ErrInvalid)
	}
	id := s.subjectID(addr)
	mu := &s.subjects[s.stripe(addr.Tenant, id)]
	mu.RLock()
	defer mu.RUnlock()
	key, err := s.keys.Ensure(ctx, string(addr.Tenant), id, string(addr.User))
	if err != nil {
		return store.Conversation{}, s.keyError("open conversation", err)
	}
	c, err := s.inner.OpenConversation(ctx, s.blind(addr))
	if err != nil {
		return store.Conversation{}, err
	}
	return opened(s.resolver(ctx, key).openConversation(c))
}

// Conversation implements [store.ConversationStore].
func (s *Store) Conversation(ctx context.Context, tenant channel.TenantID, id store.ConversationID) (store.Conversation, error) {
	c, err := s.inner.Conversation(ctx, tenant, id)
	if err != nil {
		return store.Conversation{}, err
	}
	return opened(s.resolver(ctx, nil).openConversation(c))
}

// SetHandoff implements [store.ConversationStore]. The handoff (owner,
// operator, reason) is kept in clear: it says who answers, not what was
// said.
func (s *Store) SetHandoff(ctx context.Context, tenant channel.TenantID, id store.ConversationID, h store.Handoff) (store.Conversation, error) {
	c, err := s.inner.SetHandoff(ctx, tenant, id, h)
	if err != nil {
		return store.Conversation{}, err
	}
	return opened(s.resolver(ctx, nil).openConversation(c))
}

// Subject implements [store.ConversationStore]. The inner store finds the
// subject by the blind index of addr.User, among the blind indexes of
// addresses and of profile phones.
func (s *Store) Subject(ctx context.Context, addr channel.Address) (store.Subject, error) {
	if err := ctx.Err(); err != nil {
		return store.Subject{}, fmt.Errorf("sealed: subject: %w", err)
	}
	if !complete(addr) {
		return store.Subject{}, fmt.Errorf("sealed: subject: %w", store.ErrNotFound)
	}
	subj, err := s.inner.Subject(ctx, s.blind(addr))
	if err != nil {
		return store.Subject{}, err
	}
	return opened(s.resolver(ctx, nil).openSubject(subj))
}

// opened returns v, or the error of opening it for the caller.
func opened[T any](v T, err error) (T, error) {
	if err != nil {
		var zero T
		return zero, openError(err)
	}
	return v, nil
}
