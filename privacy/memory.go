package privacy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

var (
	_ LedgerStorage  = (*MemoryStorage)(nil)
	_ AuditStorage   = (*MemoryStorage)(nil)
	_ HoldStorage    = (*MemoryStorage)(nil)
	_ RequestStorage = (*MemoryStorage)(nil)
)

// MemoryStorage keeps the consent ledger, the audit log, legal holds and
// data-subject requests in memory: the reference implementation of
// [LedgerStorage], [AuditStorage], [HoldStorage] and [RequestStorage],
// and the storage of tests and single-process hosts that accept losing it
// all on restart. It is safe for concurrent use; the zero value is not
// usable, call [NewMemoryStorage].
type MemoryStorage struct {
	mu       sync.RWMutex
	consent  map[channel.TenantID][]LedgerEntry
	audit    map[channel.TenantID][]AuditEntry
	holds    map[channel.TenantID][]Hold
	requests map[RequestID]Request
}

// NewMemoryStorage returns an empty storage.
func NewMemoryStorage() *MemoryStorage {
	return &MemoryStorage{
		consent:  map[channel.TenantID][]LedgerEntry{},
		audit:    map[channel.TenantID][]AuditEntry{},
		holds:    map[channel.TenantID][]Hold{},
		requests: map[RequestID]Request{},
	}
}

// AppendConsent implements [LedgerStorage].
func (m *MemoryStorage) AppendConsent(ctx context.Context, e LedgerEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	chain := m.consent[e.Tenant]
	if e.Seq != uint64(len(chain))+1 {
		return fmt.Errorf("privacy: consent entry %d after %d: %w", e.Seq, len(chain), ErrConflict)
	}
	m.consent[e.Tenant] = append(chain, e.Clone())
	return nil
}

// LastConsent implements [LedgerStorage].
func (m *MemoryStorage) LastConsent(ctx context.Context, tenant channel.TenantID) (LedgerEntry, error) {
	if err := ctx.Err(); err != nil {
		return LedgerEntry{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	chain := m.consent[tenant]
	if len(chain) == 0 {
		return LedgerEntry{}, nil
	}
	return chain[len(chain)-1].Clone(), nil
}

// ConsentEntries implements [LedgerStorage].
func (m *MemoryStorage) ConsentEntries(ctx context.Context, tenant channel.TenantID, after uint64, limit int) ([]LedgerEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return page(m.consent[tenant], after, limit, LedgerEntry.Clone), nil
}

func page[E any](chain []E, after uint64, limit int, clone func(E) E) []E {
	if after >= uint64(len(chain)) {
		return nil
	}
	rest := chain[after:]
	if limit > 0 && len(rest) > limit {
		rest = rest[:limit]
	}
	out := make([]E, len(rest))
	for i, e := range rest {
		out[i] = clone(e)
	}
	return out
}

// SubjectConsent implements [LedgerStorage].
func (m *MemoryStorage) SubjectConsent(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) ([]LedgerEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []LedgerEntry
	for _, e := range m.consent[tenant] {
		if e.Record.Subject == subject {
			out = append(out, e.Clone())
		}
	}
	return out, nil
}

// ReplaceConsent implements [LedgerStorage].
func (m *MemoryStorage) ReplaceConsent(ctx context.Context, e LedgerEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	chain := m.consent[e.Tenant]
	if e.Seq == 0 || e.Seq > uint64(len(chain)) {
		return fmt.Errorf("privacy: consent entry %d: %w", e.Seq, store.ErrNotFound)
	}
	chain[e.Seq-1] = e.Clone()
	return nil
}

// ConsentTenants implements [LedgerStorage].
func (m *MemoryStorage) ConsentTenants(ctx context.Context) ([]channel.TenantID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return sortedKeys(m.consent), nil
}

func sortedKeys[V any](m map[channel.TenantID]V) []channel.TenantID {
	out := make([]channel.TenantID, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// AppendAudit implements [AuditStorage].
func (m *MemoryStorage) AppendAudit(ctx context.Context, e AuditEntry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	chain := m.audit[e.Event.Tenant]
	if e.Seq != uint64(len(chain))+1 {
		return fmt.Errorf("privacy: audit entry %d after %d: %w", e.Seq, len(chain), ErrConflict)
	}
	m.audit[e.Event.Tenant] = append(chain, e.Clone())
	return nil
}

// LastAudit implements [AuditStorage].
func (m *MemoryStorage) LastAudit(ctx context.Context, tenant channel.TenantID) (AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return AuditEntry{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	chain := m.audit[tenant]
	if len(chain) == 0 {
		return AuditEntry{}, nil
	}
	return chain[len(chain)-1].Clone(), nil
}

// AuditEntries implements [AuditStorage].
func (m *MemoryStorage) AuditEntries(ctx context.Context, tenant channel.TenantID, after uint64, limit int) ([]AuditEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return page(m.audit[tenant], after, limit, AuditEntry.Clone), nil
}

// AuditTenants implements [AuditStorage].
func (m *MemoryStorage) AuditTenants(ctx context.Context) ([]channel.TenantID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return sortedKeys(m.audit), nil
}

// PutHold implements [HoldStorage].
func (m *MemoryStorage) PutHold(ctx context.Context, h Hold) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	hs := m.holds[h.Tenant]
	if i := slices.IndexFunc(hs, func(o Hold) bool { return o.ID == h.ID }); i >= 0 {
		hs[i] = h
		return nil
	}
	m.holds[h.Tenant] = append(hs, h)
	return nil
}

// ListHolds implements [HoldStorage].
func (m *MemoryStorage) ListHolds(ctx context.Context, tenant channel.TenantID) ([]Hold, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Clone(m.holds[tenant]), nil
}

// SaveRequest implements [RequestStorage].
func (m *MemoryStorage) SaveRequest(ctx context.Context, r Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.Version != m.requests[r.ID].Version+1 {
		return fmt.Errorf("privacy: request version %d after %d: %w", r.Version, m.requests[r.ID].Version, ErrConflict)
	}
	m.requests[r.ID] = r.Clone()
	return nil
}

// LoadRequest implements [RequestStorage].
func (m *MemoryStorage) LoadRequest(ctx context.Context, id RequestID) (Request, error) {
	if err := ctx.Err(); err != nil {
		return Request{}, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.requests[id]
	if !ok {
		return Request{}, fmt.Errorf("privacy: request: %w", store.ErrNotFound)
	}
	return r.Clone(), nil
}

// FindRequests implements [RequestStorage].
func (m *MemoryStorage) FindRequests(ctx context.Context, q RequestQuery) ([]Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []Request
	for _, r := range m.requests {
		if q.Match(r) {
			out = append(out, r.Clone())
		}
	}
	slices.SortFunc(out, func(a, b Request) int {
		if c := a.Received.Compare(b.Received); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}
