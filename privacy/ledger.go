package privacy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy/internal/chain"
	"github.com/wagent/wagent/store"
)

var _ ConsentLedger = (*Ledger)(nil)

// LedgerEntry is a [ConsentRecord] as a [LedgerStorage] keeps it: its
// place in its tenant's hash chain and the digests that chain it.
//
// The record and its evidence are digested apart, each with its own random
// salt, and the entry's Hash covers the two digests, so that erasure can
// remove the evidence (or the whole record) together with its salt and the
// chain still verifies: an erased part is recognized by its missing salt.
type LedgerEntry struct {
	// Tenant names the chain; it survives erasure.
	Tenant channel.TenantID `json:"tenant"`
	// Seq numbers the tenant's entries from 1, without gaps.
	Seq    uint64        `json:"seq"`
	Record ConsentRecord `json:"record"`
	// RecordSalt salts RecordDigest, the digest of the record without its
	// evidence. Nil once the record was erased.
	RecordSalt   []byte `json:"record_salt,omitempty"`
	RecordDigest Hash   `json:"record_digest"`
	// EvidenceSalt salts EvidenceDigest, the digest of Record.Evidence. Nil
	// once the evidence was erased.
	EvidenceSalt   []byte `json:"evidence_salt,omitempty"`
	EvidenceDigest Hash   `json:"evidence_digest"`
	// Prev is the Hash of entry Seq-1, zero for the first.
	Prev Hash `json:"prev"`
	// Hash chains the entry: SHA-256 (HMAC-SHA256 with the ledger's key)
	// over the tenant, Seq, Prev, RecordDigest and EvidenceDigest.
	Hash Hash `json:"hash"`
}

// Clone returns a copy of e sharing no memory with it.
func (e LedgerEntry) Clone() LedgerEntry {
	e.RecordSalt = slices.Clone(e.RecordSalt)
	e.EvidenceSalt = slices.Clone(e.EvidenceSalt)
	return e
}

// LedgerStorage keeps a [Ledger]'s entries: one append-only chain per
// tenant. It stores what it is given and checks nothing but the sequence:
// the [Ledger] computes and verifies the hashes. SQL stores implement it
// with one table whose primary key is (tenant, seq).
//
// Implementations are safe for concurrent use, bound each call by ctx, and
// copy what they are given and return. A storage that several processes
// share makes AppendConsent atomic, so that two appends of the same
// sequence number cannot both succeed.
type LedgerStorage interface {
	// AppendConsent stores e as entry e.Seq of e.Tenant's chain. It returns
	// an error wrapping [ErrConflict], storing nothing, unless e.Seq is one
	// more than the chain's last entry (1 for an empty chain).
	AppendConsent(ctx context.Context, e LedgerEntry) error
	// LastConsent returns the last entry of tenant's chain, or a zero entry
	// when it is empty.
	LastConsent(ctx context.Context, tenant channel.TenantID) (LedgerEntry, error)
	// ConsentEntries returns up to limit entries of tenant's chain with Seq
	// greater than after, in Seq order.
	ConsentEntries(ctx context.Context, tenant channel.TenantID, after uint64, limit int) ([]LedgerEntry, error)
	// SubjectConsent returns the entries of tenant's chain whose
	// Record.Subject is subject, in Seq order.
	SubjectConsent(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) ([]LedgerEntry, error)
	// ReplaceConsent replaces entry e.Seq of e.Tenant's chain by e. The
	// ledger uses it only to erase personal data from an entry. It returns
	// [store.ErrNotFound] when there is no such entry.
	ReplaceConsent(ctx context.Context, e LedgerEntry) error
	// ConsentTenants returns the tenants that have a chain.
	ConsentTenants(ctx context.Context) ([]channel.TenantID, error)
}

// Checkpoint is the head of a tenant's chain: its last sequence number and
// hash. Kept outside the storage (in the audit log, a log line, another
// system), it lets [Ledger.Verify] detect that entries were cut from the
// end or the chain rewritten after it.
type Checkpoint struct {
	Tenant channel.TenantID `json:"tenant"`
	Seq    uint64           `json:"seq"`
	Hash   Hash             `json:"hash"`
}

// LedgerOptions configures a [Ledger]. A nil *LedgerOptions, like the zero
// value, gives the defaults.
type LedgerOptions struct {
	// Now returns the current time, for records recorded without one.
	// Nil means [time.Now].
	Now func() time.Time
	// Key, when set, makes every hash an HMAC-SHA256 under it. Without a
	// key, anyone who can write to the storage can append an entry whose
	// hashes are right; with one kept apart from the storage, such a forged
	// entry fails [Ledger.Verify].
	Key []byte
	// Anchors are heads recorded earlier (see [Ledger.Head]); Verify
	// reports a chain shorter than its anchor, or one whose entry at the
	// anchor has another hash.
	Anchors []Checkpoint
	// Rand is the source of the salts. Nil means crypto/rand.
	Rand io.Reader
}

// DefaultLedgerRetries is how many times [Ledger.Record] appends again
// when another writer appended the same sequence number first.
const DefaultLedgerRetries = 8

// Ledger is the [ConsentLedger]: append-only, one hash chain per tenant,
// and tamper-evident. The current state of a purpose is the latest record
// of it in append order.
//
// A Ledger is safe for concurrent use, and several processes may share one
// storage.
type Ledger struct {
	s    LedgerStorage
	now  func() time.Time
	key  []byte
	rand io.Reader

	mu    sync.Mutex // serializes appends within the process
	heads map[channel.TenantID]Checkpoint
}

// NewLedger returns a ledger over s.
func NewLedger(s LedgerStorage, opts *LedgerOptions) (*Ledger, error) {
	if s == nil {
		return nil, fmt.Errorf("privacy: ledger needs a storage: %w", store.ErrInvalid)
	}
	var o LedgerOptions
	if opts != nil {
		o = *opts
	}
	l := &Ledger{s: s, now: o.Now, key: slices.Clone(o.Key), rand: o.Rand, heads: make(map[channel.TenantID]Checkpoint)}
	if l.now == nil {
		l.now = time.Now
	}
	if l.rand == nil {
		l.rand = rand.Reader
	}
	for _, a := range o.Anchors {
		if a.Seq > l.heads[a.Tenant].Seq {
			l.heads[a.Tenant] = a
		}
	}
	return l, nil
}

// NewMemoryLedger returns a ledger kept in memory, with the defaults.
func NewMemoryLedger() *Ledger {
	l, _ := NewLedger(NewMemoryStorage(), nil)
	return l
}

func validRecord(r ConsentRecord) error {
	switch {
	case r.Tenant == "":
		return fmt.Errorf("privacy: consent record without tenant: %w", store.ErrInvalid)
	case r.Subject == "":
		return fmt.Errorf("privacy: consent record without subject: %w", store.ErrInvalid)
	case r.Purpose == "":
		return fmt.Errorf("privacy: consent record without purpose: %w", store.ErrInvalid)
	}
	return nil
}

// Record appends r to its tenant's chain; a zero r.Time is set to now.
// Times are kept to the microsecond. It returns an error wrapping
// [store.ErrInvalid] when the tenant, subject or purpose is empty.
func (l *Ledger) Record(ctx context.Context, r ConsentRecord) error {
	if err := validRecord(r); err != nil {
		return err
	}
	if r.Time.IsZero() {
		r.Time = l.now()
	}
	r.Time = chain.Canon(r.Time)
	l.mu.Lock()
	defer l.mu.Unlock()
	for range DefaultLedgerRetries {
		last, err := l.s.LastConsent(ctx, r.Tenant)
		if err != nil {
			return fmt.Errorf("privacy: consent ledger: %w", err)
		}
		e, err := l.seal(last, r)
		if err != nil {
			return err
		}
		err = l.s.AppendConsent(ctx, e)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return fmt.Errorf("privacy: consent ledger: %w", err)
		}
		l.advance(Checkpoint{Tenant: e.Tenant, Seq: e.Seq, Hash: e.Hash})
		return nil
	}
	return fmt.Errorf("privacy: consent ledger: appending after %d attempts: %w", DefaultLedgerRetries, ErrConflict)
}

// advance remembers head when it is past the known one. l.mu is held.
func (l *Ledger) advance(head Checkpoint) {
	if head.Seq > l.heads[head.Tenant].Seq {
		l.heads[head.Tenant] = head
	}
}

func (l *Ledger) seal(last LedgerEntry, r ConsentRecord) (LedgerEntry, error) {
	e := LedgerEntry{Tenant: r.Tenant, Seq: last.Seq + 1, Record: r, Prev: last.Hash,
		RecordSalt: make([]byte, 16), EvidenceSalt: make([]byte, 16)}
	if _, err := io.ReadFull(l.rand, e.RecordSalt); err != nil {
		return e, fmt.Errorf("privacy: consent ledger: salt: %w", err)
	}
	if _, err := io.ReadFull(l.rand, e.EvidenceSalt); err != nil {
		return e, fmt.Errorf("privacy: consent ledger: salt: %w", err)
	}
	e.RecordDigest = l.recordDigest(e.RecordSalt, r)
	e.EvidenceDigest = l.evidenceDigest(e.EvidenceSalt, r.Evidence)
	e.Hash = l.link(e)
	return e, nil
}

func (l *Ledger) recordDigest(salt []byte, r ConsentRecord) Hash {
	return chain.NewEncoder(l.key).String("wagent.consent.record/1").Bytes(salt).
		String(string(r.Tenant)).String(string(r.Subject)).String(string(r.Purpose)).Bool(r.Granted).
		String(string(r.Basis)).String(r.Method).String(r.PolicyVersion).Time(r.Time).Sum()
}

func (l *Ledger) evidenceDigest(salt []byte, ev Evidence) Hash {
	return chain.NewEncoder(l.key).String("wagent.consent.evidence/1").Bytes(salt).
		String(string(ev.Channel)).String(string(ev.MessageID)).String(string(ev.Text)).Sum()
}

func (l *Ledger) link(e LedgerEntry) Hash {
	return chain.NewEncoder(l.key).String("wagent.consent/1").String(string(e.Tenant)).Uint(e.Seq).
		Hash(e.Prev).Hash(e.RecordDigest).Hash(e.EvidenceDigest).Sum()
}

// check recomputes e's hash from its content, or says why it cannot.
func (l *Ledger) check(e LedgerEntry) (Hash, string) {
	withoutEvidence := e.Record
	withoutEvidence.Evidence = Evidence{}
	if e.RecordSalt != nil {
		if l.recordDigest(e.RecordSalt, withoutEvidence) != e.RecordDigest {
			return Hash{}, "record does not match its digest"
		}
	} else if withoutEvidence != (ConsentRecord{}) {
		return Hash{}, "record present without its salt"
	}
	if e.EvidenceSalt != nil {
		if l.evidenceDigest(e.EvidenceSalt, e.Record.Evidence) != e.EvidenceDigest {
			return Hash{}, "evidence does not match its digest"
		}
	} else if e.Record.Evidence != (Evidence{}) {
		return Hash{}, "evidence present without its salt"
	}
	if e.Record.Tenant != "" && e.Record.Tenant != e.Tenant {
		return Hash{}, "record of another tenant"
	}
	return l.link(e), ""
}

// State derives the subject's current consent for purpose: the latest
// record of the purpose decides. Erased records do not count.
func (l *Ledger) State(ctx context.Context, tenant channel.TenantID, subject store.SubjectID, purpose Purpose) (ConsentState, error) {
	es, err := l.s.SubjectConsent(ctx, tenant, subject)
	if err != nil {
		return ConsentState{}, fmt.Errorf("privacy: consent ledger: %w", err)
	}
	st := ConsentState{Purpose: purpose}
	for _, e := range es {
		r := e.Record
		if r.Subject != subject || r.Purpose != purpose {
			continue
		}
		st.Status = ConsentWithdrawn
		if r.Granted {
			st.Status = ConsentGranted
		}
		st.Basis, st.PolicyVersion, st.Since = r.Basis, r.PolicyVersion, r.Time
	}
	return st, nil
}

// History returns every record of the subject, oldest first. Records whose
// evidence was erased come without it; records erased whole do not come.
func (l *Ledger) History(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) ([]ConsentRecord, error) {
	es, err := l.s.SubjectConsent(ctx, tenant, subject)
	if err != nil {
		return nil, fmt.Errorf("privacy: consent ledger: %w", err)
	}
	out := make([]ConsentRecord, 0, len(es))
	for _, e := range es {
		if e.Record.Subject == subject {
			out = append(out, e.Record)
		}
	}
	return out, nil
}

// ConsentErasure is how much of a subject's consent records an erasure
// removes.
type ConsentErasure uint8

// Consent erasures.
const (
	// KeepProof removes the evidence (the message id and the text that
	// gave or withdrew consent) and keeps the decision: subject id (an
	// opaque id the erased store no longer resolves), purpose, granted or
	// withdrawn, basis, method, policy version and time, as proof of
	// consent (GDPR Art. 7(1)) and of the withdrawal.
	KeepProof ConsentErasure = iota
	// EraseRecords removes the records, leaving in the chain only their
	// digests.
	EraseRecords
)

// Erase removes personal data from the subject's consent records, as much
// as how says, and returns how many records it changed. The chain still
// verifies afterwards. Erasing again changes nothing.
func (l *Ledger) Erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID, how ConsentErasure) (int, error) {
	if tenant == "" || subject == "" {
		return 0, fmt.Errorf("privacy: consent erasure without tenant or subject: %w", store.ErrInvalid)
	}
	es, err := l.s.SubjectConsent(ctx, tenant, subject)
	if err != nil {
		return 0, fmt.Errorf("privacy: consent ledger: %w", err)
	}
	n := 0
	for _, e := range es {
		before := e.Clone()
		e.Record.Evidence, e.EvidenceSalt = Evidence{}, nil
		if how == EraseRecords {
			e.Record, e.RecordSalt = ConsentRecord{}, nil
		}
		if e.Record == before.Record && (e.RecordSalt == nil) == (before.RecordSalt == nil) && (e.EvidenceSalt == nil) == (before.EvidenceSalt == nil) {
			continue
		}
		if err := l.s.ReplaceConsent(ctx, e); err != nil {
			return n, fmt.Errorf("privacy: consent ledger: %w", err)
		}
		n++
	}
	return n, nil
}

// verifyPage is how many entries Verify reads at a time.
const verifyPage = 500

// Verify checks every tenant's chain and returns a [*TamperError] for the
// first bad entry it finds: an entry whose content does not match its
// hash (edited), a missing sequence number (deleted), an entry out of
// place (reordered), one whose previous hash is not its predecessor's
// (inserted or forged), or a chain shorter than a head this ledger saw or
// was anchored to (cut). Erased records verify.
func (l *Ledger) Verify(ctx context.Context) error {
	tenants, err := l.s.ConsentTenants(ctx)
	if err != nil {
		return fmt.Errorf("privacy: consent ledger: %w", err)
	}
	l.mu.Lock()
	for t := range l.heads {
		if !slices.Contains(tenants, t) {
			tenants = append(tenants, t)
		}
	}
	l.mu.Unlock()
	slices.Sort(tenants)
	for _, t := range tenants {
		if err := l.VerifyTenant(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// VerifyTenant checks tenant's chain as [Ledger.Verify] does.
func (l *Ledger) VerifyTenant(ctx context.Context, tenant channel.TenantID) error {
	l.mu.Lock()
	anchor := l.heads[tenant]
	l.mu.Unlock()
	head, err := walkChain(ctx, "consent", tenant, anchor, func(after uint64) ([]LedgerEntry, error) {
		return l.s.ConsentEntries(ctx, tenant, after, verifyPage)
	}, func(e LedgerEntry) (uint64, Hash, Hash, Hash, string) {
		computed, reason := l.check(e)
		if e.Tenant != tenant {
			reason = "entry of another tenant"
		}
		return e.Seq, e.Prev, e.Hash, computed, reason
	})
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.advance(head)
	l.mu.Unlock()
	return nil
}

// Head returns the head of tenant's chain as stored now, to keep as an
// anchor.
func (l *Ledger) Head(ctx context.Context, tenant channel.TenantID) (Checkpoint, error) {
	last, err := l.s.LastConsent(ctx, tenant)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("privacy: consent ledger: %w", err)
	}
	return Checkpoint{Tenant: tenant, Seq: last.Seq, Hash: last.Hash}, nil
}

// walkChain reads a chain page by page and checks it link by link, and
// against anchor. entry returns an entry's sequence number, previous hash,
// stored hash, recomputed hash, and a reason when it could not recompute.
func walkChain[E any](ctx context.Context, name string, tenant channel.TenantID, anchor Checkpoint,
	page func(after uint64) ([]E, error), entry func(E) (uint64, Hash, Hash, Hash, string)) (Checkpoint, error) {
	var w chain.Walk
	var after uint64
	for {
		if err := ctx.Err(); err != nil {
			return Checkpoint{}, fmt.Errorf("privacy: verifying %s chain: %w", name, err)
		}
		es, err := page(after)
		if err != nil {
			return Checkpoint{}, fmt.Errorf("privacy: verifying %s chain: %w", name, err)
		}
		for _, e := range es {
			seq, prev, stored, computed, reason := entry(e)
			if reason != "" {
				return Checkpoint{}, &TamperError{Chain: name, Tenant: tenant, Seq: seq, Reason: reason}
			}
			if bad, why, ok := w.Step(seq, prev, stored, computed); !ok {
				return Checkpoint{}, &TamperError{Chain: name, Tenant: tenant, Seq: bad, Reason: why}
			}
			if seq == anchor.Seq && stored != anchor.Hash {
				return Checkpoint{}, &TamperError{Chain: name, Tenant: tenant, Seq: seq, Reason: "entry differs from the anchored head"}
			}
			after = seq
		}
		if len(es) < verifyPage {
			break
		}
	}
	seq, h := w.Head()
	if seq < anchor.Seq {
		return Checkpoint{}, &TamperError{Chain: name, Tenant: tenant, Seq: seq + 1, Reason: "entries missing at the end of the chain"}
	}
	return Checkpoint{Tenant: tenant, Seq: seq, Hash: h}, nil
}
