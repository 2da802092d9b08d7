package memory

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

var _ store.ConversationStore = (*Store)(nil)

// Options configures a [Store]. A nil *Options, like the zero value, gives
// the defaults.
type Options struct {
	// Now returns the current time, for the times the store assigns: a
	// record's Time left zero, creation and update times. Nil means
	// [time.Now]. It is called from many goroutines at once.
	Now func() time.Time
}

// Store is a [store.ConversationStore] that keeps everything in memory. The
// zero value is not usable; call [New]. A Store is safe for concurrent use.
type Store struct {
	now func() time.Time

	mu     sync.RWMutex
	closed bool
	// refs locates every record: refs[id-1] for MessageID id. Ids are
	// assigned from one counter, len(refs)+1, so they are dense. The ref of
	// a deleted record has a nil conv.
	refs []recordRef
	// convs holds the conversation (and subject) of every address.
	convs    map[channel.Address]*conversation
	convByID map[store.ConversationID]*conversation
	subjects map[store.SubjectID]*conversation
	// inbound is the idempotency index of AppendInbound.
	inbound map[inboundKey]store.MessageID
	// provider finds the records that are not inbound by provider id.
	provider map[providerKey]store.MessageID
	// phones finds subjects by profile phone.
	phones map[phoneKey]*conversation
	// pending holds the pending inbound records of every conversation.
	pending  pendingQueue
	lastConv int64
	// tickets and tags are kept by tickets.go.
	tickets map[channel.TenantID]*ticketBook
	tags    map[store.MessageID]store.Tags
}

// conversation is a conversation, its subject and its records.
type conversation struct {
	conv    store.Conversation
	subject store.Subject
	// recs are the records in the order they were made, which is ID order.
	// A deleted record stays as a zero Message (ID 0).
	recs []store.Message
	// order indexes the records of recs that are not deleted in (Turn, ID)
	// order.
	order   []int
	pending pendingQueue
	// leaseOwner holds the conversation until leaseUntil.
	leaseOwner string
	leaseUntil time.Time
}

type recordRef struct {
	conv *conversation
	i    int // index in conv.recs
}

type inboundKey struct {
	channel channel.Name
	tenant  channel.TenantID
	id      channel.MessageID
}

type providerKey struct {
	tenant channel.TenantID
	id     channel.MessageID
}

type phoneKey struct {
	channel channel.Name
	tenant  channel.TenantID
	phone   channel.Phone
}

// New returns an empty store configured by opts, which may be nil.
func New(opts *Options) *Store {
	s := &Store{
		now:      time.Now,
		convs:    make(map[channel.Address]*conversation),
		convByID: make(map[store.ConversationID]*conversation),
		subjects: make(map[store.SubjectID]*conversation),
		inbound:  make(map[inboundKey]store.MessageID),
		provider: make(map[providerKey]store.MessageID),
		phones:   make(map[phoneKey]*conversation),
	}
	if opts != nil && opts.Now != nil {
		s.now = opts.Now
	}
	return s
}

// Close releases the store's data. Afterwards every method returns an error
// wrapping [store.ErrClosed]. Close is idempotent and always returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.refs = nil
	s.convs, s.convByID, s.subjects = nil, nil, nil
	s.inbound, s.provider, s.phones = nil, nil, nil
	s.pending = pendingQueue{}
	return nil
}

// AppendInbound implements [store.ConversationStore]. The record's Time is
// m.Time, or now when m.Time is zero, and LastInboundAt only moves forward.
func (s *Store) AppendInbound(ctx context.Context, m channel.Message) (store.Appended, error) {
	if err := ctx.Err(); err != nil {
		return store.Appended{}, fmt.Errorf("memory: append inbound: %w", err)
	}
	if m.ID == "" || m.From.Channel == "" || m.From.Tenant == "" || m.From.User == "" {
		return store.Appended{}, fmt.Errorf("memory: append inbound: message id and sender address required: %w", store.ErrInvalid)
	}
	in := m.Clone()
	now := s.clock()
	key := inboundKey{m.From.Channel, m.From.Tenant, m.ID}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.Appended{}, errClosed()
	}
	if id, ok := s.inbound[key]; ok {
		ref := s.refs[id-1]
		a := store.Appended{Message: ref.conv.recs[ref.i], Conversation: ref.conv.conv, Duplicate: true}
		s.mu.Unlock()
		a.Message = a.Message.Clone()
		return a, nil
	}
	c := s.open(m.From, now)
	s.updateProfile(c, m.Sender, now)
	t := m.Time
	if t.IsZero() {
		t = now
	}
	if t.After(c.conv.LastInboundAt) {
		c.conv.LastInboundAt = t
	}
	id := store.MessageID(len(s.refs) + 1)
	s.insert(c, store.Message{
		ID:           id,
		Tenant:       m.From.Tenant,
		Conversation: c.conv.ID,
		Turn:         id,
		Role:         store.User,
		Time:         t,
		ProviderID:   m.ID,
		Inbound:      &in,
	})
	s.inbound[key] = id
	s.pending.add(id)
	c.pending.add(id)
	a := store.Appended{Message: c.recs[len(c.recs)-1], Conversation: c.conv}
	s.mu.Unlock()
	a.Message = a.Message.Clone()
	return a, nil
}

// Append implements [store.ConversationStore]. It also returns
// [store.ErrInvalid] for a role that is not one of the roles of
// [store.Role] or a negative Turn.
func (s *Store) Append(ctx context.Context, m store.Message) (store.Message, error) {
	if err := ctx.Err(); err != nil {
		return store.Message{}, fmt.Errorf("memory: append: %w", err)
	}
	switch m.Role {
	case store.Assistant, store.Tool, store.Operator, store.Note, store.System:
	default:
		return store.Message{}, fmt.Errorf("memory: append: role %q: %w", m.Role, store.ErrInvalid)
	}
	if m.Tenant == "" || m.Turn < 0 {
		return store.Message{}, fmt.Errorf("memory: append: tenant and a non-negative turn required: %w", store.ErrInvalid)
	}
	m = m.Clone()
	if m.Time.IsZero() {
		m.Time = s.clock()
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.Message{}, errClosed()
	}
	c := s.conversation(m.Tenant, m.Conversation)
	if c == nil {
		s.mu.Unlock()
		return store.Message{}, fmt.Errorf("memory: append: conversation %s: %w", m.Conversation, store.ErrNotFound)
	}
	m.ID = store.MessageID(len(s.refs) + 1)
	if m.Turn == 0 {
		m.Turn = m.ID
	}
	s.insert(c, m)
	if m.ProviderID != "" {
		s.indexProvider(m.Tenant, m.ProviderID, m.ID)
	}
	s.mu.Unlock()
	m = m.Clone()
	return m, nil
}

// Message implements [store.ConversationStore].
func (s *Store) Message(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Message, error) {
	if err := ctx.Err(); err != nil {
		return store.Message{}, fmt.Errorf("memory: message: %w", err)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.Message{}, errClosed()
	}
	r := s.record(tenant, id)
	if r == nil {
		s.mu.RUnlock()
		return store.Message{}, fmt.Errorf("memory: message %d: %w", id, store.ErrNotFound)
	}
	m := *r
	s.mu.RUnlock()
	m = m.Clone()
	return m, nil
}

// History implements [store.ConversationStore]. It takes time proportional
// to the logarithm of the conversation's length plus the window's size. It
// returns [store.ErrInvalid] for a negative Through or Limit.
func (s *Store) History(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, q store.HistoryQuery) ([]store.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: history: %w", err)
	}
	if q.Through < 0 || q.Limit < 0 {
		return nil, fmt.Errorf("memory: history: negative through or limit: %w", store.ErrInvalid)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, errClosed()
	}
	c := s.conversation(tenant, conv)
	if c == nil {
		s.mu.RUnlock()
		return nil, fmt.Errorf("memory: history: conversation %s: %w", conv, store.ErrNotFound)
	}
	end := len(c.order)
	if q.Through != 0 {
		end = sort.Search(end, func(k int) bool { return c.recs[c.order[k]].Turn > q.Through })
	}
	start := 0
	if q.Limit > 0 && end > q.Limit {
		start = end - q.Limit
	}
	out := make([]store.Message, end-start)
	for k, i := range c.order[start:end] {
		out[k] = c.recs[i]
	}
	s.mu.RUnlock()
	cloneMessagesInPlace(out)
	return out, nil
}

// Pending implements [store.ConversationStore]. It takes time proportional
// to the number of pending records scanned, never to all records. It returns
// [store.ErrInvalid] for a negative Limit or a Conversation without a
// Tenant, and [store.ErrNotFound] when Conversation is not the Tenant's.
func (s *Store) Pending(ctx context.Context, q store.PendingQuery) ([]store.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: pending: %w", err)
	}
	if q.Limit < 0 || (q.Conversation != "" && q.Tenant == "") {
		return nil, fmt.Errorf("memory: pending: negative limit or conversation without tenant: %w", store.ErrInvalid)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, errClosed()
	}
	queue := &s.pending
	if q.Conversation != "" {
		c := s.conversation(q.Tenant, q.Conversation)
		if c == nil {
			s.mu.RUnlock()
			return nil, fmt.Errorf("memory: pending: conversation %s: %w", q.Conversation, store.ErrNotFound)
		}
		queue = &c.pending
	}
	var out []store.Message
	if q.Tenant == "" || q.Conversation != "" { // every live id is in the result
		n := len(queue.ids) - queue.dead
		if q.Limit > 0 {
			n = min(n, q.Limit)
		}
		out = make([]store.Message, 0, n)
	}
	for _, id := range queue.ids {
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
		ref := s.refs[id-1]
		if ref.conv == nil { // deleted
			continue
		}
		r := &ref.conv.recs[ref.i]
		if r.Processing.State != store.ProcessPending || (q.Tenant != "" && r.Tenant != q.Tenant) {
			continue
		}
		out = append(out, *r)
	}
	s.mu.RUnlock()
	cloneMessagesInPlace(out)
	return out, nil
}

// SetProcessing implements [store.ConversationStore].
func (s *Store) SetProcessing(ctx context.Context, tenant channel.TenantID, id store.MessageID, p store.Processing) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: set processing: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed()
	}
	r := s.record(tenant, id)
	if r == nil {
		return fmt.Errorf("memory: set processing: message %d: %w", id, store.ErrNotFound)
	}
	if r.Role != store.User {
		return fmt.Errorf("memory: set processing: message %d is not inbound: %w", id, store.ErrInvalid)
	}
	s.setProcessing(r, id, p)
	return nil
}

// SetProcessingBatch implements [store.ProcessingBatcher].
func (s *Store) SetProcessingBatch(ctx context.Context, tenant channel.TenantID, updates []store.ProcessingUpdate) ([]store.MessageID, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory: set processing: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed()
	}
	var missing []store.MessageID
	for _, u := range updates {
		switch r := s.record(tenant, u.ID); {
		case r == nil:
			missing = append(missing, u.ID)
		case r.Role != store.User:
			return nil, fmt.Errorf("memory: set processing: message %d is not inbound: %w", u.ID, store.ErrInvalid)
		}
	}
	for _, u := range updates {
		if r := s.record(tenant, u.ID); r != nil {
			s.setProcessing(r, u.ID, u.Processing)
		}
	}
	return missing, nil
}

// setProcessing replaces the processing state of the inbound record r,
// whose id is id, and keeps the pending lists. s.mu is held.
func (s *Store) setProcessing(r *store.Message, id store.MessageID, p store.Processing) {
	was := r.Processing.State == store.ProcessPending
	r.Processing = p
	switch is := p.State == store.ProcessPending; {
	case was && !is:
		c := s.refs[id-1].conv
		s.pending.drop(s)
		c.pending.drop(s)
	case !was && is:
		c := s.refs[id-1].conv
		s.pending.add(id)
		c.pending.add(id)
	}
}

// UpdateDelivery implements [store.ConversationStore]. It returns
// [store.ErrInvalid] when u has neither ID nor ProviderID, or selects an
// inbound record. A provider id already held by another record of the
// tenant keeps finding that record.
func (s *Store) UpdateDelivery(ctx context.Context, tenant channel.TenantID, u store.DeliveryUpdate) (store.Message, error) {
	if err := ctx.Err(); err != nil {
		return store.Message{}, fmt.Errorf("memory: update delivery: %w", err)
	}
	if u.ID == 0 && u.ProviderID == "" {
		return store.Message{}, fmt.Errorf("memory: update delivery: id or provider id required: %w", store.ErrInvalid)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.Message{}, errClosed()
	}
	var r *store.Message
	if u.ID != 0 {
		r = s.record(tenant, u.ID)
	} else if id, ok := s.provider[providerKey{tenant, u.ProviderID}]; ok {
		r = s.record(tenant, id)
	}
	if r == nil {
		s.mu.Unlock()
		return store.Message{}, fmt.Errorf("memory: update delivery: %w", store.ErrNotFound)
	}
	if r.Role == store.User {
		s.mu.Unlock()
		return store.Message{}, fmt.Errorf("memory: update delivery: message %d is inbound: %w", r.ID, store.ErrInvalid)
	}
	if r.ProviderID == "" && u.ProviderID != "" {
		r.ProviderID = u.ProviderID
		s.indexProvider(tenant, u.ProviderID, r.ID)
	}
	r.Delivery, _ = r.Delivery.Merge(u)
	m := *r
	s.mu.Unlock()
	m = m.Clone()
	return m, nil
}

// OpenConversation implements [store.ConversationStore].
func (s *Store) OpenConversation(ctx context.Context, addr channel.Address) (store.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, fmt.Errorf("memory: open conversation: %w", err)
	}
	if addr.Channel == "" || addr.Tenant == "" || addr.User == "" {
		return store.Conversation{}, fmt.Errorf("memory: open conversation: incomplete address: %w", store.ErrInvalid)
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.Conversation{}, errClosed()
	}
	if c := s.convs[addr]; c != nil {
		conv := c.conv
		s.mu.RUnlock()
		return conv, nil
	}
	s.mu.RUnlock()

	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Conversation{}, errClosed()
	}
	return s.open(addr, now).conv, nil
}

// Conversation implements [store.ConversationStore].
func (s *Store) Conversation(ctx context.Context, tenant channel.TenantID, id store.ConversationID) (store.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, fmt.Errorf("memory: conversation: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Conversation{}, errClosed()
	}
	c := s.conversation(tenant, id)
	if c == nil {
		return store.Conversation{}, fmt.Errorf("memory: conversation %s: %w", id, store.ErrNotFound)
	}
	return c.conv, nil
}

// SetHandoff implements [store.ConversationStore].
func (s *Store) SetHandoff(ctx context.Context, tenant channel.TenantID, id store.ConversationID, h store.Handoff) (store.Conversation, error) {
	if err := ctx.Err(); err != nil {
		return store.Conversation{}, fmt.Errorf("memory: set handoff: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Conversation{}, errClosed()
	}
	c := s.conversation(tenant, id)
	if c == nil {
		return store.Conversation{}, fmt.Errorf("memory: set handoff: conversation %s: %w", id, store.ErrNotFound)
	}
	c.conv.Handoff = h
	return c.conv, nil
}

// Subject implements [store.ConversationStore]. It returns
// [store.ErrInvalid] when a field of addr is empty. When several subjects
// have the phone, it returns the one that reported it last.
func (s *Store) Subject(ctx context.Context, addr channel.Address) (store.Subject, error) {
	if err := ctx.Err(); err != nil {
		return store.Subject{}, fmt.Errorf("memory: subject: %w", err)
	}
	if addr.Channel == "" || addr.Tenant == "" || addr.User == "" {
		return store.Subject{}, fmt.Errorf("memory: subject: incomplete address: %w", store.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.Subject{}, errClosed()
	}
	c := s.convs[addr]
	if c == nil {
		c = s.phones[phoneKey{addr.Channel, addr.Tenant, channel.Phone(addr.User)}]
	}
	if c == nil {
		return store.Subject{}, fmt.Errorf("memory: subject: %w", store.ErrNotFound)
	}
	return c.subject, nil
}

// clock returns the current time without its monotonic clock reading, as a
// durable store would give it back.
func (s *Store) clock() time.Time { return s.now().Round(0) }

func errClosed() error { return fmt.Errorf("memory: %w", store.ErrClosed) }

// The methods below need s.mu held; those that change the store need it
// held for writing.

// record returns the record of tenant with id, or nil. The pointer is valid
// while s.mu is held.
func (s *Store) record(tenant channel.TenantID, id store.MessageID) *store.Message {
	if id <= 0 || int64(id) > int64(len(s.refs)) {
		return nil
	}
	ref := s.refs[id-1]
	if ref.conv == nil { // deleted
		return nil
	}
	r := &ref.conv.recs[ref.i]
	if r.Tenant != tenant {
		return nil
	}
	return r
}

// conversation returns the conversation of tenant with id, or nil.
func (s *Store) conversation(tenant channel.TenantID, id store.ConversationID) *conversation {
	c := s.convByID[id]
	if c == nil || c.conv.Address.Tenant != tenant {
		return nil
	}
	return c
}

// open returns the conversation with addr, creating it and its subject.
func (s *Store) open(addr channel.Address, now time.Time) *conversation {
	if c := s.convs[addr]; c != nil {
		return c
	}
	s.lastConv++
	n := strconv.FormatInt(s.lastConv, 10)
	subj := store.SubjectID("s" + n)
	c := &conversation{
		conv:    store.Conversation{ID: store.ConversationID("c" + n), Address: addr, Subject: subj, CreatedAt: now},
		subject: store.Subject{ID: subj, Address: addr, CreatedAt: now, UpdatedAt: now},
	}
	s.convs[addr] = c
	s.convByID[c.conv.ID] = c
	s.subjects[subj] = c
	return c
}

// updateProfile applies the non-empty fields of p to the profile of c's
// subject.
func (s *Store) updateProfile(c *conversation, p channel.Profile, now time.Time) {
	old := c.subject.Profile
	next := old
	if p.Name != "" {
		next.Name = p.Name
	}
	if p.Phone != "" {
		next.Phone = p.Phone
	}
	if p.Username != "" {
		next.Username = p.Username
	}
	if p.Locale != "" {
		next.Locale = p.Locale
	}
	if next == old {
		return
	}
	if next.Phone != old.Phone {
		addr := c.subject.Address
		if old.Phone != "" {
			k := phoneKey{addr.Channel, addr.Tenant, old.Phone}
			if s.phones[k] == c {
				delete(s.phones, k)
			}
		}
		s.phones[phoneKey{addr.Channel, addr.Tenant, next.Phone}] = c
	}
	c.subject.Profile = next
	c.subject.UpdatedAt = now
}

// insert adds m, whose ID is the next one, to c.
func (s *Store) insert(c *conversation, m store.Message) {
	i := len(c.recs)
	c.recs = append(c.recs, m)
	s.refs = append(s.refs, recordRef{c, i})
	// m has the highest ID, so it goes after every record of its turn. It
	// is usually the last of all: an inbound record, or a reply to the
	// latest turn.
	if n := len(c.order); n == 0 || c.recs[c.order[n-1]].Turn <= m.Turn {
		c.order = append(c.order, i)
		return
	}
	k := sort.Search(len(c.order), func(k int) bool { return c.recs[c.order[k]].Turn > m.Turn })
	c.order = slices.Insert(c.order, k, i)
}

// indexProvider makes the record id of tenant found by its provider id,
// unless another record has it already.
func (s *Store) indexProvider(tenant channel.TenantID, pid channel.MessageID, id store.MessageID) {
	k := providerKey{tenant, pid}
	if _, ok := s.provider[k]; !ok {
		s.provider[k] = id
	}
}

// pendingQueue holds the ids of inbound records in state ProcessPending, in
// increasing order. Ids of records that left the state are removed lazily:
// at once from the head, where records are usually handled, and elsewhere
// when they make up half the queue, so that removal costs O(1) amortized.
type pendingQueue struct {
	ids  []store.MessageID
	dead int // ids whose record is no longer pending
}

// add puts id in the queue; its record has just become pending.
func (q *pendingQueue) add(id store.MessageID) {
	if n := len(q.ids); n == 0 || q.ids[n-1] < id {
		q.ids = append(q.ids, id)
		return
	}
	k, found := slices.BinarySearch(q.ids, id)
	if found { // left the state, and is back before it was removed
		q.dead--
		return
	}
	q.ids = slices.Insert(q.ids, k, id)
}

// drop notes that the record of one id in the queue is no longer pending.
func (q *pendingQueue) drop(s *Store) {
	q.dead++
	for len(q.ids) > 0 && !s.isPending(q.ids[0]) {
		q.ids = q.ids[1:]
		q.dead--
	}
	if q.dead > 16 && q.dead*2 > len(q.ids) {
		q.ids = slices.DeleteFunc(q.ids, func(id store.MessageID) bool { return !s.isPending(id) })
		q.dead = 0
	}
}

func (s *Store) isPending(id store.MessageID) bool {
	ref := s.refs[id-1]
	return ref.conv != nil && ref.conv.recs[ref.i].Processing.State == store.ProcessPending
}
