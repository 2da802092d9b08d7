package privacy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/privacy/internal/chain"
	"github.com/wagent/wagent/store"
)

// AuditAction is what an audited actor did.
type AuditAction string

// Audit actions.
const (
	AuditAccess        AuditAction = "access"        // a subject's data was read to answer an access request
	AuditExport        AuditAction = "export"        // an export bundle was built or downloaded
	AuditErasure       AuditAction = "erasure"       // a subject's data was erased; Counts is the receipt
	AuditOperatorView  AuditAction = "operator_view" // an operator opened a subject's conversation
	AuditHoldPlaced    AuditAction = "hold_placed"
	AuditHoldLifted    AuditAction = "hold_lifted"
	AuditRequest       AuditAction = "request"       // a request changed status; Detail is the new status
	AuditConsent       AuditAction = "consent"       // consent recorded on a subject's behalf (restriction, objection, withdrawal)
	AuditRectification AuditAction = "rectification" // profile fields corrected
	AuditRetention     AuditAction = "retention"     // a retention run; Counts per class
	AuditMinor         AuditAction = "minor_flagged" // a subject was flagged as a minor
	AuditAuthority     AuditAction = "authority_request"
	AuditAdmin         AuditAction = "admin" // a call to the admin interface; Detail names it
)

// Actors the engine itself writes as.
const (
	ActorSystem  = "system"  // the engine, a scheduled run
	ActorSubject = "subject" // the data subject, through their channel
)

// AuditEvent is what happened, as the caller tells it. It never holds
// personal data beyond opaque ids: subjects are named by [store.SubjectID],
// never by phone number or name, and Detail is a short code.
type AuditEvent struct {
	// Actor is who acted: "system", "subject", or the host's id for an
	// operator, such as "operator:ana".
	Actor   string           `json:"actor"`
	Action  AuditAction      `json:"action"`
	Tenant  channel.TenantID `json:"tenant,omitempty"`
	Subject store.SubjectID  `json:"subject,omitempty"`
	Request RequestID        `json:"request,omitempty"`
	// Detail is a short machine-readable note: a status, a reason code.
	Detail string `json:"detail,omitempty"`
	// Counts are figures the action produced: records erased per store,
	// records purged per class.
	Counts map[string]int `json:"counts,omitempty"`
	// Authority is set for [AuditAuthority] entries.
	Authority *AuthorityRequest `json:"authority,omitempty"`
	// Time is when it happened; zero means now.
	Time time.Time `json:"time"`
}

// AuditEntry is an [AuditEvent] in its tenant's hash chain.
type AuditEntry struct {
	Seq   uint64     `json:"seq"`
	Event AuditEvent `json:"event"`
	Prev  Hash       `json:"prev"`
	Hash  Hash       `json:"hash"`
}

// Clone returns a copy of e sharing no memory with it.
func (e AuditEntry) Clone() AuditEntry {
	e.Event.Counts = maps.Clone(e.Event.Counts)
	if a := e.Event.Authority; a != nil {
		c := a.Clone()
		e.Event.Authority = &c
	}
	return e
}

// AuditStorage keeps an [Audit]'s entries: one append-only chain per
// tenant (the empty tenant holds events that concern no tenant). Like
// [LedgerStorage] it checks only the sequence; SQL stores implement it
// with one table keyed by (tenant, seq).
//
// Implementations are safe for concurrent use, bound each call by ctx, and
// copy what they are given and return.
type AuditStorage interface {
	// AppendAudit stores e as entry e.Seq of the chain of e.Event.Tenant.
	// It returns an error wrapping [ErrConflict], storing nothing, unless
	// e.Seq is one more than the chain's last entry.
	AppendAudit(ctx context.Context, e AuditEntry) error
	// LastAudit returns the last entry of tenant's chain, or a zero entry.
	LastAudit(ctx context.Context, tenant channel.TenantID) (AuditEntry, error)
	// AuditEntries returns up to limit entries of tenant's chain with Seq
	// greater than after, in Seq order.
	AuditEntries(ctx context.Context, tenant channel.TenantID, after uint64, limit int) ([]AuditEntry, error)
	// AuditTenants returns the tenants that have a chain.
	AuditTenants(ctx context.Context) ([]channel.TenantID, error)
}

// AuditOptions configures an [Audit]. A nil *AuditOptions, like the zero
// value, gives the defaults.
type AuditOptions struct {
	// Now returns the current time. Nil means [time.Now].
	Now func() time.Time
	// Key makes the hashes HMAC-SHA256 under it, as [LedgerOptions.Key].
	Key []byte
	// Anchors are heads recorded earlier, as [LedgerOptions.Anchors].
	Anchors []Checkpoint
}

// Audit is the privacy audit log: who did what to which subject's data,
// append-only and hash-chained per tenant like the [Ledger], and the
// register of requests from authorities. It is safe for concurrent use.
type Audit struct {
	s   AuditStorage
	now func() time.Time
	key []byte

	mu    sync.Mutex
	heads map[channel.TenantID]Checkpoint
}

// NewAudit returns an audit log over s.
func NewAudit(s AuditStorage, opts *AuditOptions) (*Audit, error) {
	if s == nil {
		return nil, fmt.Errorf("privacy: audit log needs a storage: %w", store.ErrInvalid)
	}
	var o AuditOptions
	if opts != nil {
		o = *opts
	}
	a := &Audit{s: s, now: o.Now, key: slices.Clone(o.Key), heads: make(map[channel.TenantID]Checkpoint)}
	if a.now == nil {
		a.now = time.Now
	}
	for _, h := range o.Anchors {
		if h.Seq > a.heads[h.Tenant].Seq {
			a.heads[h.Tenant] = h
		}
	}
	return a, nil
}

// Log appends ev to its tenant's chain and returns the entry. It returns
// an error wrapping [store.ErrInvalid] when the actor or the action is
// empty. Callers recording what must outlive a cancelled request (an
// erasure) pass a context detached with [context.WithoutCancel].
func (a *Audit) Log(ctx context.Context, ev AuditEvent) (AuditEntry, error) {
	if ev.Actor == "" || ev.Action == "" {
		return AuditEntry{}, fmt.Errorf("privacy: audit event without actor or action: %w", store.ErrInvalid)
	}
	if ev.Time.IsZero() {
		ev.Time = a.now()
	}
	ev.Time = chain.Canon(ev.Time)
	if ev.Authority != nil {
		c := ev.Authority.Clone()
		c.Received, c.Responded = chain.Canon(c.Received), chain.Canon(c.Responded)
		ev.Authority = &c
	}
	ev.Counts = maps.Clone(ev.Counts)
	a.mu.Lock()
	defer a.mu.Unlock()
	for range DefaultLedgerRetries {
		last, err := a.s.LastAudit(ctx, ev.Tenant)
		if err != nil {
			return AuditEntry{}, fmt.Errorf("privacy: audit log: %w", err)
		}
		e := AuditEntry{Seq: last.Seq + 1, Event: ev, Prev: last.Hash}
		e.Hash = a.link(e)
		err = a.s.AppendAudit(ctx, e)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return AuditEntry{}, fmt.Errorf("privacy: audit log: %w", err)
		}
		if e.Seq > a.heads[ev.Tenant].Seq {
			a.heads[ev.Tenant] = Checkpoint{Tenant: ev.Tenant, Seq: e.Seq, Hash: e.Hash}
		}
		return e.Clone(), nil
	}
	return AuditEntry{}, fmt.Errorf("privacy: audit log: appending after %d attempts: %w", DefaultLedgerRetries, ErrConflict)
}

func (a *Audit) link(e AuditEntry) Hash {
	ev := e.Event
	enc := chain.NewEncoder(a.key).String("wagent.audit.event/1").String(ev.Actor).String(string(ev.Action)).
		String(string(ev.Tenant)).String(string(ev.Subject)).String(string(ev.Request)).String(ev.Detail).
		Time(ev.Time).Uint(uint64(len(ev.Counts)))
	for _, k := range slices.Sorted(maps.Keys(ev.Counts)) {
		enc.String(k).Int(int64(ev.Counts[k]))
	}
	enc.Bool(ev.Authority != nil)
	if r := ev.Authority; r != nil {
		enc.String(r.ID).String(string(r.Tenant)).String(r.Authority).String(r.Reference).Time(r.Received).
			String(r.Nature).String(r.LegalBasis).String(string(r.Assessment)).String(r.AssessmentNote).
			String(string(r.Response)).Time(r.Responded).String(r.DisclosedNote).Uint(uint64(len(r.Disclosed)))
		for _, c := range r.Disclosed {
			enc.String(string(c))
		}
		enc.Uint(uint64(len(r.Subjects)))
		for _, s := range r.Subjects {
			enc.String(string(s))
		}
	}
	digest := enc.Sum()
	return chain.Link(a.key, "wagent.audit/1:"+string(ev.Tenant), e.Seq, e.Prev, digest)
}

// AuditQuery selects audit entries.
type AuditQuery struct {
	Tenant channel.TenantID
	// Subject, Request and Action, when set, keep only matching entries.
	Subject store.SubjectID
	Request RequestID
	Action  AuditAction
	// After skips entries up to this sequence number, for paging.
	After uint64
	// Limit caps the entries returned (default 100).
	Limit int
}

// DefaultAuditLimit is the page size of an [AuditQuery] with zero Limit.
const DefaultAuditLimit = 100

// Entries returns the tenant's entries matching q, oldest first.
func (a *Audit) Entries(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	var out []AuditEntry
	after := q.After
	for len(out) < limit {
		es, err := a.s.AuditEntries(ctx, q.Tenant, after, verifyPage)
		if err != nil {
			return nil, fmt.Errorf("privacy: audit log: %w", err)
		}
		for _, e := range es {
			after = e.Seq
			ev := e.Event
			if q.Subject != "" && ev.Subject != q.Subject || q.Request != "" && ev.Request != q.Request ||
				q.Action != "" && ev.Action != q.Action {
				continue
			}
			out = append(out, e)
			if len(out) == limit {
				break
			}
		}
		if len(es) < verifyPage {
			break
		}
	}
	return out, nil
}

// Verify checks every tenant's chain as [Ledger.Verify] does.
func (a *Audit) Verify(ctx context.Context) error {
	tenants, err := a.s.AuditTenants(ctx)
	if err != nil {
		return fmt.Errorf("privacy: audit log: %w", err)
	}
	a.mu.Lock()
	for t := range a.heads {
		if !slices.Contains(tenants, t) {
			tenants = append(tenants, t)
		}
	}
	a.mu.Unlock()
	slices.Sort(tenants)
	for _, t := range tenants {
		if err := a.VerifyTenant(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// VerifyTenant checks tenant's chain.
func (a *Audit) VerifyTenant(ctx context.Context, tenant channel.TenantID) error {
	a.mu.Lock()
	anchor := a.heads[tenant]
	a.mu.Unlock()
	head, err := walkChain(ctx, "audit", tenant, anchor, func(after uint64) ([]AuditEntry, error) {
		return a.s.AuditEntries(ctx, tenant, after, verifyPage)
	}, func(e AuditEntry) (uint64, Hash, Hash, Hash, string) {
		if e.Event.Tenant != tenant {
			return e.Seq, e.Prev, e.Hash, Hash{}, "entry of another tenant"
		}
		return e.Seq, e.Prev, e.Hash, a.link(e), ""
	})
	if err != nil {
		return err
	}
	a.mu.Lock()
	if head.Seq > a.heads[tenant].Seq {
		a.heads[tenant] = head
	}
	a.mu.Unlock()
	return nil
}

// Head returns the head of tenant's chain as stored now.
func (a *Audit) Head(ctx context.Context, tenant channel.TenantID) (Checkpoint, error) {
	last, err := a.s.LastAudit(ctx, tenant)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("privacy: audit log: %w", err)
	}
	return Checkpoint{Tenant: tenant, Seq: last.Seq, Hash: last.Hash}, nil
}

// AuthorityAssessment is the business's assessment of an authority's
// request.
type AuthorityAssessment string

// Assessments.
const (
	AssessmentPending   AuthorityAssessment = "pending"
	AssessmentLawful    AuthorityAssessment = "lawful"
	AssessmentOverbroad AuthorityAssessment = "overbroad" // lawful in part: answered with less
	AssessmentUnlawful  AuthorityAssessment = "unlawful"
)

// AuthorityResponse is how the business answered an authority.
type AuthorityResponse string

// Responses.
const (
	ResponsePending   AuthorityResponse = "pending"
	ResponseDisclosed AuthorityResponse = "disclosed"
	ResponsePartial   AuthorityResponse = "partially_disclosed"
	ResponseRefused   AuthorityResponse = "refused"
)

// AuthorityRequest is an entry of the register of requests from public
// authorities for personal data: what was asked and on what legal basis,
// the assessment, the response and what was disclosed. Each update is a
// new audit entry; the register shows the latest of each request.
//
// Describe requests without personal data: name the subjects concerned by
// id in Subjects.
type AuthorityRequest struct {
	// ID identifies the request in the register; assigned when empty.
	ID     string           `json:"id"`
	Tenant channel.TenantID `json:"tenant"`
	// Authority is who asked: "Policía Nacional del Perú, DIVINDAT".
	Authority string `json:"authority"`
	// Reference is the authority's file or case number.
	Reference string    `json:"reference,omitempty"`
	Received  time.Time `json:"received"`
	// Nature is what was asked for.
	Nature string `json:"nature"`
	// LegalBasis is the legal basis the authority cited.
	LegalBasis     string              `json:"legal_basis"`
	Assessment     AuthorityAssessment `json:"assessment"`
	AssessmentNote string              `json:"assessment_note,omitempty"`
	Response       AuthorityResponse   `json:"response"`
	Responded      time.Time           `json:"responded,omitzero"`
	// Disclosed lists the classes of data disclosed; DisclosedNote details
	// them.
	Disclosed     []DataClass       `json:"disclosed,omitempty"`
	DisclosedNote string            `json:"disclosed_note,omitempty"`
	Subjects      []store.SubjectID `json:"subjects,omitempty"`
}

// Clone returns a copy of r sharing no memory with it.
func (r AuthorityRequest) Clone() AuthorityRequest {
	r.Disclosed = slices.Clone(r.Disclosed)
	r.Subjects = slices.Clone(r.Subjects)
	return r
}

// RecordAuthorityRequest adds r to the register, or records an update of
// the request with r.ID, as actor. A new request gets an id, a Received
// time (now when zero), and pending assessment and response when unset.
func (a *Audit) RecordAuthorityRequest(ctx context.Context, actor string, r AuthorityRequest) (AuthorityRequest, error) {
	if r.Authority == "" || r.LegalBasis == "" && r.ID == "" {
		return AuthorityRequest{}, fmt.Errorf("privacy: authority request needs the authority and the legal basis cited: %w", store.ErrInvalid)
	}
	if r.ID == "" {
		id, err := newID("auth")
		if err != nil {
			return AuthorityRequest{}, err
		}
		r.ID = id
	}
	if r.Received.IsZero() {
		r.Received = a.now()
	}
	if r.Assessment == "" {
		r.Assessment = AssessmentPending
	}
	if r.Response == "" {
		r.Response = ResponsePending
	}
	e, err := a.Log(ctx, AuditEvent{Actor: actor, Action: AuditAuthority, Tenant: r.Tenant, Detail: string(r.Response), Authority: &r})
	if err != nil {
		return AuthorityRequest{}, err
	}
	return *e.Event.Authority, nil
}

// AuthorityRequests returns the register of tenant: the latest version of
// each request, in the order they were first recorded.
func (a *Audit) AuthorityRequests(ctx context.Context, tenant channel.TenantID) ([]AuthorityRequest, error) {
	var order []string
	latest := map[string]AuthorityRequest{}
	var after uint64
	for {
		es, err := a.s.AuditEntries(ctx, tenant, after, verifyPage)
		if err != nil {
			return nil, fmt.Errorf("privacy: audit log: %w", err)
		}
		for _, e := range es {
			after = e.Seq
			if e.Event.Action != AuditAuthority || e.Event.Authority == nil {
				continue
			}
			r := *e.Event.Authority
			if _, ok := latest[r.ID]; !ok {
				order = append(order, r.ID)
			}
			latest[r.ID] = r.Clone()
		}
		if len(es) < verifyPage {
			break
		}
	}
	out := make([]AuthorityRequest, len(order))
	for i, id := range order {
		out[i] = latest[id]
	}
	return out, nil
}

// auditTimeout bounds the recording of an audit entry after the work it
// records is done, whatever the caller's context.
const auditTimeout = 30 * time.Second

// record logs ev in a, when a is set, with a context that outlives the
// caller's: the work it records is done. A failure cannot undo that work,
// so it is logged to log at Error rather than returned.
func record(ctx context.Context, a *Audit, log *slog.Logger, ev AuditEvent) {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if _, err := a.Log(ctx, ev); err != nil {
		if log == nil {
			log = slog.Default()
		}
		log.LogAttrs(ctx, slog.LevelError, "privacy: audit entry not recorded",
			slog.String(logkey.Tenant, string(ev.Tenant)), slog.String(logkey.Op, string(ev.Action)), slog.Any(logkey.Error, err))
	}
}
