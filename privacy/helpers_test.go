package privacy_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

// clock is a settable clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// chainStorage is a LedgerStorage over plain slices that tests tamper with
// directly, as someone with write access to a database would.
type chainStorage struct {
	mu      sync.Mutex
	entries map[channel.TenantID][]privacy.LedgerEntry
}

func newChainStorage() *chainStorage {
	return &chainStorage{entries: map[channel.TenantID][]privacy.LedgerEntry{}}
}

func (s *chainStorage) AppendConsent(_ context.Context, e privacy.LedgerEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	es := s.entries[e.Tenant]
	var last uint64
	if len(es) > 0 {
		last = es[len(es)-1].Seq
	}
	if e.Seq != last+1 {
		return privacy.ErrConflict
	}
	s.entries[e.Tenant] = append(es, e.Clone())
	return nil
}

func (s *chainStorage) LastConsent(_ context.Context, t channel.TenantID) (privacy.LedgerEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	es := s.entries[t]
	if len(es) == 0 {
		return privacy.LedgerEntry{}, nil
	}
	return es[len(es)-1].Clone(), nil
}

// ConsentEntries returns entries in stored order, so a reordering shows.
func (s *chainStorage) ConsentEntries(_ context.Context, t channel.TenantID, after uint64, limit int) ([]privacy.LedgerEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []privacy.LedgerEntry
	started := after == 0
	for _, e := range s.entries[t] {
		if started && (limit == 0 || len(out) < limit) {
			out = append(out, e.Clone())
		}
		if e.Seq == after {
			started = true
		}
	}
	return out, nil
}

func (s *chainStorage) SubjectConsent(_ context.Context, t channel.TenantID, subject store.SubjectID) ([]privacy.LedgerEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []privacy.LedgerEntry
	for _, e := range s.entries[t] {
		if e.Record.Subject == subject {
			out = append(out, e.Clone())
		}
	}
	return out, nil
}

func (s *chainStorage) ReplaceConsent(_ context.Context, e privacy.LedgerEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range s.entries[e.Tenant] {
		if o.Seq == e.Seq {
			s.entries[e.Tenant][i] = e.Clone()
			return nil
		}
	}
	return store.ErrNotFound
}

func (s *chainStorage) ConsentTenants(context.Context) ([]channel.TenantID, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []channel.TenantID
	for t := range s.entries {
		out = append(out, t)
	}
	slices.Sort(out)
	return out, nil
}

// tamper changes the stored entries of tenant.
func (s *chainStorage) tamper(t channel.TenantID, f func([]privacy.LedgerEntry) []privacy.LedgerEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entries[t] = f(s.entries[t])
}
