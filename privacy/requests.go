package privacy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// RequestID identifies a data-subject request. It is random and
// unguessable.
type RequestID string

// RequestType is the right a data subject exercises.
type RequestType string

// Request types.
const (
	// RequestAccess: a copy of the subject's data (GDPR Art. 15, ARCO
	// access, CCPA right to know). Fulfilled with the same [Bundle] as
	// export.
	RequestAccess RequestType = "access"
	// RequestExport: the subject's data in a machine-readable form (GDPR
	// Art. 20 portability).
	RequestExport RequestType = "export"
	// RequestRectification: correct profile fields (Art. 16).
	RequestRectification RequestType = "rectification"
	// RequestErasure: delete the subject's data except what the law
	// requires keeping (Art. 17, ARCO cancellation, CCPA deletion).
	RequestErasure RequestType = "erasure"
	// RequestRestriction: stop processing the subject's messages with AI
	// until the restriction is lifted (Art. 18).
	RequestRestriction RequestType = "restriction"
	// RequestObjection: the subject objects to AI processing (Art. 21,
	// ARCO opposition); the effect is that of a restriction.
	RequestObjection RequestType = "objection"
	// RequestConsentWithdrawal: withdraw consent to purposes (Art. 7(3)).
	RequestConsentWithdrawal RequestType = "consent_withdrawal"
)

// RequestTypes returns every request type.
func RequestTypes() []RequestType {
	return []RequestType{RequestAccess, RequestExport, RequestRectification, RequestErasure,
		RequestRestriction, RequestObjection, RequestConsentWithdrawal}
}

// RequestStatus is where a request stands.
type RequestStatus string

// Request statuses. A request moves received → verifying → in_progress →
// completed, may be extended while open, and may be denied at any point
// before completion.
const (
	StatusReceived   RequestStatus = "received"
	StatusVerifying  RequestStatus = "verifying" // a code was sent to the subject's channel
	StatusInProgress RequestStatus = "in_progress"
	StatusExtended   RequestStatus = "extended" // in progress, past the first deadline
	StatusCompleted  RequestStatus = "completed"
	StatusDenied     RequestStatus = "denied" // Reason says why
)

// Open reports whether a request in status s still needs an answer.
func (s RequestStatus) Open() bool { return s != StatusCompleted && s != StatusDenied }

// Origin is where a request came from.
type Origin string

// Origins.
const (
	OriginChat   Origin = "chat"   // the subject wrote it in their own conversation
	OriginAdmin  Origin = "admin"  // entered by staff (from e-mail, phone, a letter)
	OriginAPI    Origin = "api"    // submitted by the host's own systems
	OriginSystem Origin = "system" // opened by the engine (a minor flagged)
)

// Reasons a request is denied or opened with.
const (
	ReasonUnverified = "identity_not_verified" // the verification code failed too many times
	ReasonLegalHold  = "legal_hold"            // erasure refused: the data is under a legal hold
	ReasonMinor      = "minor"                 // erasure opened because the subject is a minor
)

// Request is a data-subject request and its progress. It holds the
// subject's address until an erasure completes, then keeps it without the
// user id.
type Request struct {
	ID     RequestID        `json:"id"`
	Type   RequestType      `json:"type"`
	Status RequestStatus    `json:"status"`
	Tenant channel.TenantID `json:"tenant"`
	// Subject is the store's subject at Address; empty when the store knew
	// nobody there when the request was made.
	Subject store.SubjectID `json:"subject,omitempty"`
	Address channel.Address `json:"address"`
	Origin  Origin          `json:"origin"`
	// Actor is who submitted it: "subject", or the host's id of a staff
	// member.
	Actor string `json:"actor"`
	// Lang is the language to answer in ("es", "en", "pt").
	Lang string `json:"lang,omitempty"`
	// Purposes are the purposes a consent withdrawal withdraws (default
	// marketing).
	Purposes []Purpose `json:"purposes,omitempty"`
	// Rectify holds the corrected profile fields of a rectification; it is
	// cleared when the request ends.
	Rectify *channel.Profile `json:"rectify,omitempty"`
	// Evidence is the message that made the request in chat.
	Evidence Evidence `json:"evidence,omitzero"`
	// Reason is why the request was denied or opened ("minor").
	Reason string `json:"reason,omitempty"`
	// Received is when the request was made; Due when it must be answered,
	// by the clock named Clock.
	Received  time.Time `json:"received"`
	Due       time.Time `json:"due"`
	Clock     string    `json:"clock"`
	Verified  time.Time `json:"verified,omitzero"`
	Completed time.Time `json:"completed,omitzero"`
	// Verification is the state of identity verification; it holds a hash
	// of the code, never the code.
	Verification Verification `json:"verification,omitzero"`
	// Receipt is the proof of a completed erasure.
	Receipt *ErasureReceipt `json:"receipt,omitempty"`
	// Notice is what the subject was told when the request was fulfilled.
	Notice string `json:"notice,omitempty"`
	// Version counts the saves of the request, for optimistic concurrency.
	Version int `json:"version"`
}

// forget removes from r what identifies its subject: the user id, the
// message that made the request, the verification state and any
// rectification.
func (r *Request) forget() {
	r.Address.User, r.Evidence, r.Verification, r.Rectify = "", Evidence{}, Verification{}, nil
}

// identifies reports whether r holds anything [Request.forget] removes, or
// its subject.
func (r *Request) identifies() bool {
	return r.Address.User != "" || r.Evidence != Evidence{} || len(r.Verification.CodeHash) > 0 || r.Rectify != nil || r.Subject != ""
}

// Clone returns a copy of r sharing no memory with it.
func (r Request) Clone() Request {
	r.Purposes = slices.Clone(r.Purposes)
	if r.Rectify != nil {
		p := *r.Rectify
		r.Rectify = &p
	}
	r.Verification.CodeHash = slices.Clone(r.Verification.CodeHash)
	if r.Receipt != nil {
		c := r.Receipt.Clone()
		r.Receipt = &c
	}
	return r
}

// Verification is the state of a request's identity check: a one-time
// code sent through the subject's own channel.
type Verification struct {
	// CodeHash is SHA-256 of the request id and the code.
	CodeHash []byte    `json:"code_hash,omitempty"`
	Sent     time.Time `json:"sent,omitzero"`
	Expires  time.Time `json:"expires,omitzero"`
	// Attempts counts wrong codes entered for the current code.
	Attempts int `json:"attempts,omitempty"`
	// Codes counts codes sent.
	Codes int `json:"codes,omitempty"`
}

// RequestQuery selects requests. Zero fields do not filter.
type RequestQuery struct {
	Tenant  channel.TenantID
	Subject store.SubjectID
	// User selects requests whose Address.User is User (with Tenant).
	User   channel.UserID
	Type   RequestType
	Status []RequestStatus
	// Open keeps requests not completed nor denied.
	Open bool
	// DueBefore keeps requests due before it.
	DueBefore time.Time
	// Limit caps the result (0: all).
	Limit int
}

// Match reports whether r is selected by q. Storages may use it.
func (q RequestQuery) Match(r Request) bool {
	return (q.Tenant == "" || r.Tenant == q.Tenant) &&
		(q.Subject == "" || r.Subject == q.Subject) &&
		(q.User == "" || r.Address.User == q.User) &&
		(q.Type == "" || r.Type == q.Type) &&
		(len(q.Status) == 0 || slices.Contains(q.Status, r.Status)) &&
		(!q.Open || r.Status.Open()) &&
		(q.DueBefore.IsZero() || r.Due.Before(q.DueBefore))
}

// RequestStorage keeps data-subject requests. Implementations are safe for
// concurrent use, bound each call by ctx, and copy what they are given and
// return.
type RequestStorage interface {
	// SaveRequest stores r if r.Version is one more than the stored
	// version of r.ID (0 when there is none), and returns an error wrapping
	// [ErrConflict], storing nothing, otherwise.
	SaveRequest(ctx context.Context, r Request) error
	// LoadRequest returns the request with id, or [store.ErrNotFound].
	LoadRequest(ctx context.Context, id RequestID) (Request, error)
	// FindRequests returns the requests q selects, oldest first (by
	// Received, then ID), at most q.Limit of them when it is set.
	FindRequests(ctx context.Context, q RequestQuery) ([]Request, error)
}

// Sender sends a text to a data subject in their own conversation: the
// agent's channel for addr.Channel. It is how verification codes reach
// the subject.
type Sender interface {
	SendText(ctx context.Context, to channel.Address, text string) error
}

// SenderFunc adapts a function to [Sender].
type SenderFunc func(ctx context.Context, to channel.Address, text string) error

// SendText calls f.
func (f SenderFunc) SendText(ctx context.Context, to channel.Address, text string) error {
	return f(ctx, to, text)
}

// SubjectEraser erases what a system outside the conversation store holds
// about a subject: tickets, handoff notes, a widget session, files. It
// returns how many records it erased; erasing nothing is not an error.
type SubjectEraser interface {
	EraseSubject(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) (int, error)
}

// SubjectExporter returns what a system outside the conversation store
// holds about a subject, as JSON, for the export bundle.
type SubjectExporter interface {
	ExportSubject(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) ([]byte, error)
}

// Rectifier applies a rectification: the non-empty fields of p replace
// the subject's profile fields.
type Rectifier interface {
	Rectify(ctx context.Context, tenant channel.TenantID, subject store.SubjectID, p channel.Profile) error
}

// Defaults of [RequestsConfig].
const (
	DefaultCodeTTL     = 15 * time.Minute
	DefaultMaxAttempts = 3
	DefaultMaxCodes    = 3
	DefaultMinorAge    = 18
	DefaultLang        = "es"
)

// RequestsConfig configures [Requests]. Storage and Store are required;
// every zero value means the documented default.
type RequestsConfig struct {
	// Storage keeps the requests.
	Storage RequestStorage
	// Store is the conversation store: it finds the subject at an address,
	// and its [store.Exporter] and [store.Eraser] capabilities fulfil
	// export and erasure.
	Store store.ConversationStore
	// Consent records restrictions, objections and withdrawals, and its
	// history goes in the export. When it is a [*Ledger], erasure also
	// erases the consent records as ConsentErasure says. Nil: those
	// requests cannot be fulfilled.
	Consent ConsentLedger
	// ConsentErasure is what erasure does to consent records (default
	// [KeepProof]).
	ConsentErasure ConsentErasure
	// Holds are checked before erasure. Nil: no holds.
	Holds *Holds
	// Audit records each step. Nil: nothing is audited.
	Audit *Audit
	// Sender sends verification codes. Nil: requests can only be verified
	// by staff (submitted with Verified).
	Sender Sender

	// Clocks give due dates (default [DefaultClocks]); TenantClocks
	// replaces them for a tenant. A request is due at the earliest
	// deadline of its clocks.
	Clocks       []Clock
	TenantClocks map[channel.TenantID][]Clock

	// CodeTTL is how long a verification code is valid (default
	// [DefaultCodeTTL]); MaxAttempts how many wrong codes deny the request
	// (default [DefaultMaxAttempts]); MaxCodes how many codes may be sent
	// for one request (default [DefaultMaxCodes]).
	CodeTTL     time.Duration
	MaxAttempts int
	MaxCodes    int

	// MinorAge is the age under which a subject is a minor (default
	// [DefaultMinorAge]).
	MinorAge int

	// Texts are what the subject is told, per language; languages missing
	// and empty fields fall back to [DefaultRequestTexts]. DefaultLang is
	// the language of requests without one (default [DefaultLang]).
	Texts       map[string]RequestTexts
	DefaultLang string

	// Erasers and Exporters reach the systems outside the conversation
	// store, by name (the name appears in receipts and bundles).
	Erasers   map[string]SubjectEraser
	Exporters map[string]SubjectExporter
	// Rectifier applies rectifications. Nil: they are completed by staff
	// with [Requests.Complete].
	Rectifier Rectifier

	// Now returns the current time. Nil means [time.Now].
	Now func() time.Time
	// Rand is the source of verification codes. Nil means crypto/rand.
	Rand io.Reader
	// Logger reports audit entries that could not be recorded. Nil means
	// [slog.Default].
	Logger *slog.Logger
}

// Requests handles data-subject requests: submission, identity
// verification through the subject's channel, due dates, fulfilment and
// receipts. It is safe for concurrent use; several processes may share
// its storage.
type Requests struct {
	cfg RequestsConfig
}

// NewRequests returns the request service of cfg.
func NewRequests(cfg RequestsConfig) (*Requests, error) {
	if cfg.Storage == nil || cfg.Store == nil {
		return nil, fmt.Errorf("privacy: requests need a storage and a store: %w", store.ErrInvalid)
	}
	if cfg.Clocks == nil {
		cfg.Clocks = DefaultClocks()
	}
	if len(cfg.Clocks) == 0 {
		return nil, fmt.Errorf("privacy: requests need a clock: %w", store.ErrInvalid)
	}
	for t, cs := range cfg.TenantClocks {
		if len(cs) == 0 {
			return nil, fmt.Errorf("privacy: tenant %q has no clock: %w", t, store.ErrInvalid)
		}
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.MaxCodes <= 0 {
		cfg.MaxCodes = DefaultMaxCodes
	}
	if cfg.MinorAge <= 0 {
		cfg.MinorAge = DefaultMinorAge
	}
	if cfg.DefaultLang == "" {
		cfg.DefaultLang = DefaultLang
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Requests{cfg: cfg}, nil
}

// Submission is a request as it is made.
type Submission struct {
	Type RequestType
	// Address is the subject's address; Address.Tenant is the tenant.
	Address channel.Address
	Origin  Origin
	// Actor is who submits: "subject" for chat, the staff member's id.
	Actor string
	// Verified: the submitter vouches for the subject's identity (a privacy
	// officer who checked it), so no code is needed.
	Verified bool
	Lang     string
	Purposes []Purpose
	Rectify  *channel.Profile
	Evidence Evidence
	Reason   string
}

// Submit records a request and returns it: in progress when verified,
// otherwise received, waiting for [Requests.SendCode]. When the subject
// already has an open request of the same type, Submit returns that one
// instead of opening another. It returns an error wrapping
// [store.ErrInvalid] for an unknown type or an incomplete address.
func (rs *Requests) Submit(ctx context.Context, s Submission) (Request, error) {
	if !slices.Contains(RequestTypes(), s.Type) {
		return Request{}, fmt.Errorf("privacy: unknown request type %q: %w", s.Type, store.ErrInvalid)
	}
	a := s.Address
	if a.Channel == "" || a.Tenant == "" || a.User == "" {
		return Request{}, fmt.Errorf("privacy: request needs the subject's channel, tenant and id: %w", store.ErrInvalid)
	}
	if s.Type == RequestRectification && s.Rectify == nil {
		return Request{}, fmt.Errorf("privacy: rectification without the corrected fields: %w", store.ErrInvalid)
	}
	if s.Actor == "" {
		s.Actor = ActorSubject
	}
	if s.Origin == "" {
		s.Origin = OriginAPI
	}
	open, err := rs.cfg.Storage.FindRequests(ctx, RequestQuery{Tenant: a.Tenant, User: a.User, Type: s.Type, Open: true})
	if err != nil {
		return Request{}, fmt.Errorf("privacy: requests: %w", err)
	}
	for _, r := range open {
		if r.Address == a {
			return r, nil
		}
	}
	subject, err := rs.subjectAt(ctx, a)
	if err != nil {
		return Request{}, err
	}
	id, err := newID("req")
	if err != nil {
		return Request{}, err
	}
	now := rs.cfg.Now()
	due, clock := dueDate(rs.clocks(a.Tenant), s.Type, now)
	r := Request{
		ID: RequestID(id), Type: s.Type, Status: StatusReceived, Tenant: a.Tenant, Subject: subject, Address: a,
		Origin: s.Origin, Actor: s.Actor, Lang: s.Lang, Purposes: slices.Clone(s.Purposes), Evidence: s.Evidence,
		Reason: s.Reason, Received: now, Due: due, Clock: clock, Version: 1,
	}
	if s.Rectify != nil {
		p := *s.Rectify
		r.Rectify = &p
	}
	if r.Lang == "" {
		r.Lang = rs.cfg.DefaultLang
	}
	if s.Type == RequestConsentWithdrawal && len(r.Purposes) == 0 {
		r.Purposes = []Purpose{PurposeMarketing}
	}
	if s.Verified {
		r.Status, r.Verified = StatusInProgress, now
	}
	if err := rs.cfg.Storage.SaveRequest(ctx, r); err != nil {
		return Request{}, fmt.Errorf("privacy: saving request: %w", err)
	}
	rs.audit(ctx, AuditEvent{Actor: s.Actor, Action: AuditRequest, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID,
		Detail: string(r.Type) + ":" + string(r.Status)})
	return r.Clone(), nil
}

// WithSender returns a copy of rs that sends verification codes with s,
// sharing its storage and configuration. The agent uses it to send the
// codes of the requests made in chat through the subject's own
// conversation when the configuration names no Sender.
func (rs *Requests) WithSender(s Sender) *Requests {
	c := rs.cfg
	c.Sender = s
	return &Requests{cfg: c}
}

// HasSender reports whether rs can send verification codes.
func (rs *Requests) HasSender() bool { return rs.cfg.Sender != nil }

// MinorAge returns the age under which a subject is a minor.
func (rs *Requests) MinorAge() int { return rs.cfg.MinorAge }

// SubjectAt returns the store's subject at a, or "" when the store knows
// nobody there.
func (rs *Requests) SubjectAt(ctx context.Context, a channel.Address) (store.SubjectID, error) {
	return rs.subjectAt(ctx, a)
}

// subjectAt returns the store's subject at a, or "" when there is none.
func (rs *Requests) subjectAt(ctx context.Context, a channel.Address) (store.SubjectID, error) {
	sub, err := rs.cfg.Store.Subject(ctx, a)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("privacy: finding the subject: %w", err)
	}
	return sub.ID, nil
}

func (rs *Requests) clocks(t channel.TenantID) []Clock {
	if cs, ok := rs.cfg.TenantClocks[t]; ok {
		return cs
	}
	return rs.cfg.Clocks
}

// audit records ev in the audit log, when one is configured.
func (rs *Requests) audit(ctx context.Context, ev AuditEvent) {
	record(ctx, rs.cfg.Audit, rs.cfg.Logger, ev)
}

// Request returns the request with id, or an error wrapping
// [store.ErrNotFound].
func (rs *Requests) Request(ctx context.Context, id RequestID) (Request, error) {
	r, err := rs.cfg.Storage.LoadRequest(ctx, id)
	if err != nil {
		return Request{}, fmt.Errorf("privacy: request: %w", err)
	}
	return r, nil
}

// Find returns the requests q selects, oldest first.
func (rs *Requests) Find(ctx context.Context, q RequestQuery) ([]Request, error) {
	out, err := rs.cfg.Storage.FindRequests(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("privacy: requests: %w", err)
	}
	return out, nil
}

// update applies change to the stored request id and saves it, again with
// fresh state when another writer saved first.
func (rs *Requests) update(ctx context.Context, id RequestID, change func(r *Request) error) (Request, error) {
	for range DefaultLedgerRetries {
		r, err := rs.cfg.Storage.LoadRequest(ctx, id)
		if err != nil {
			return Request{}, fmt.Errorf("privacy: request: %w", err)
		}
		if err := change(&r); err != nil {
			return Request{}, err
		}
		r.Version++
		err = rs.cfg.Storage.SaveRequest(ctx, r)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Request{}, fmt.Errorf("privacy: saving request: %w", err)
		}
		return r.Clone(), nil
	}
	return Request{}, fmt.Errorf("privacy: saving request after %d attempts: %w", DefaultLedgerRetries, ErrConflict)
}

func invalidState(r *Request, doing string) error {
	return fmt.Errorf("privacy: cannot %s a request that is %s: %w", doing, r.Status, store.ErrInvalid)
}

// SendCode sends a new one-time code to the subject's own conversation
// and moves the request to verifying. It returns an error wrapping
// [ErrVerification] when MaxCodes codes were sent already, and
// [ErrUnsupported] without a Sender.
func (rs *Requests) SendCode(ctx context.Context, id RequestID) (Request, error) {
	if rs.cfg.Sender == nil {
		return Request{}, fmt.Errorf("privacy: no sender for verification codes: %w", ErrUnsupported)
	}
	var code string
	r, err := rs.update(ctx, id, func(r *Request) error {
		if r.Status != StatusReceived && r.Status != StatusVerifying {
			return invalidState(r, "verify")
		}
		if r.Verification.Codes >= rs.cfg.MaxCodes {
			return fmt.Errorf("privacy: %d codes sent already: %w", r.Verification.Codes, ErrVerification)
		}
		c, err := rs.newCode()
		if err != nil {
			return err
		}
		code = c
		now := rs.cfg.Now()
		r.Status = StatusVerifying
		r.Verification = Verification{CodeHash: codeHash(r.ID, c), Sent: now, Expires: now.Add(rs.cfg.CodeTTL),
			Codes: r.Verification.Codes + 1}
		return nil
	})
	if err != nil {
		return r, err
	}
	text := strings.NewReplacer("{code}", code, "{minutes}", strconv.Itoa(int(rs.cfg.CodeTTL/time.Minute)),
		"{type}", rs.Texts(r.Lang).typeName(r.Type)).Replace(rs.Texts(r.Lang).Code)
	if err := rs.cfg.Sender.SendText(ctx, r.Address, text); err != nil {
		return r, fmt.Errorf("privacy: sending verification code: %w", err)
	}
	rs.audit(ctx, AuditEvent{Actor: ActorSystem, Action: AuditRequest, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID,
		Detail: "code_sent"})
	return r, nil
}

func (rs *Requests) newCode() (string, error) {
	var b [4]byte
	if _, err := io.ReadFull(rs.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("privacy: verification code: %w", err)
	}
	n := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) % 1000000
	return fmt.Sprintf("%06d", n), nil
}

func codeHash(id RequestID, code string) []byte {
	h := sha256.Sum256([]byte("wagent.privacy.code/1\x00" + string(id) + "\x00" + code))
	return h[:]
}

// Verify checks code against the request's current code. A right code
// moves the request to in progress. A wrong one counts an attempt, and
// MaxAttempts of them deny the request ([ReasonUnverified]); an expired
// code must be sent again. Failures return an error wrapping
// [ErrVerification].
func (rs *Requests) Verify(ctx context.Context, id RequestID, code string) (Request, error) {
	var failure error
	r, err := rs.update(ctx, id, func(r *Request) error {
		failure = nil
		if r.Status != StatusVerifying {
			return invalidState(r, "verify")
		}
		now := rs.cfg.Now()
		if !now.Before(r.Verification.Expires) {
			return fmt.Errorf("privacy: verification: %w", ErrCodeExpired)
		}
		code = strings.TrimSpace(code)
		if subtle.ConstantTimeCompare(codeHash(r.ID, code), r.Verification.CodeHash) == 1 {
			r.Status, r.Verified = StatusInProgress, now
			r.Verification.CodeHash = nil
			return nil
		}
		r.Verification.Attempts++
		failure = fmt.Errorf("privacy: wrong verification code, attempt %d of %d: %w", r.Verification.Attempts, rs.cfg.MaxAttempts, ErrVerification)
		if r.Verification.Attempts >= rs.cfg.MaxAttempts {
			r.Status, r.Reason, r.Completed = StatusDenied, ReasonUnverified, now
			r.Verification.CodeHash = nil
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	detail := "verified"
	if failure != nil {
		detail = "wrong_code"
		if r.Status == StatusDenied {
			detail = string(StatusDenied) + ":" + ReasonUnverified
		}
	}
	rs.audit(ctx, AuditEvent{Actor: ActorSubject, Action: AuditRequest, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID, Detail: detail})
	return r, failure
}

// findCode finds a six-digit verification code in a chat message.
func findCode(text string) (string, bool) {
	digits := 0
	start := -1
	for i := 0; i <= len(text); i++ {
		if i < len(text) && text[i] >= '0' && text[i] <= '9' {
			if digits == 0 {
				start = i
			}
			digits++
			continue
		}
		if digits == 6 {
			return text[start:i], true
		}
		digits = 0
	}
	return "", false
}

// VerifyReply lets the agent verify a request from the subject's chat: when
// the subject at addr has a request waiting for its code and text holds a
// six-digit number, it is checked as [Requests.Verify] does. handled
// reports that text was taken as a code (the agent then answers with the
// outcome instead of the model). When the code has expired, the error
// wraps [ErrVerification] and r is the request waiting for a code, for
// the caller to send a new one.
func (rs *Requests) VerifyReply(ctx context.Context, addr channel.Address, text string) (r Request, handled bool, err error) {
	code, ok := findCode(text)
	if !ok {
		return Request{}, false, nil
	}
	waiting, err := rs.cfg.Storage.FindRequests(ctx, RequestQuery{Tenant: addr.Tenant, User: addr.User, Status: []RequestStatus{StatusVerifying}})
	if err != nil {
		return Request{}, false, fmt.Errorf("privacy: requests: %w", err)
	}
	waiting = slices.DeleteFunc(waiting, func(r Request) bool { return r.Address != addr })
	if len(waiting) == 0 {
		return Request{}, false, nil
	}
	last := waiting[len(waiting)-1]
	r, err = rs.Verify(ctx, last.ID, code)
	if err != nil && r.ID == "" {
		r = last
	}
	return r, true, err
}

// Deny ends an open request without fulfilling it, for reason (told to the
// subject: a code or a sentence, without personal data).
func (rs *Requests) Deny(ctx context.Context, id RequestID, actor, reason string) (Request, error) {
	if reason == "" {
		return Request{}, fmt.Errorf("privacy: denying a request needs a reason: %w", store.ErrInvalid)
	}
	r, err := rs.update(ctx, id, func(r *Request) error {
		if !r.Status.Open() {
			return invalidState(r, "deny")
		}
		r.Status, r.Reason, r.Completed, r.Rectify = StatusDenied, reason, rs.cfg.Now(), nil
		return nil
	})
	if err != nil {
		return r, err
	}
	rs.audit(ctx, AuditEvent{Actor: actor, Action: AuditRequest, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID,
		Detail: string(StatusDenied)})
	return r, nil
}

// Extend extends an open request once, before it is due: its due date
// moves to the earliest extended deadline of its clocks. It returns an
// error wrapping [store.ErrInvalid] when the request was extended already,
// is overdue, or no clock allows an extension.
func (rs *Requests) Extend(ctx context.Context, id RequestID, actor, reason string) (Request, error) {
	r, err := rs.update(ctx, id, func(r *Request) error {
		if !r.Status.Open() || r.Status == StatusExtended {
			return invalidState(r, "extend")
		}
		if rs.cfg.Now().After(r.Due) {
			return fmt.Errorf("privacy: cannot extend an overdue request: %w", store.ErrInvalid)
		}
		due, clock := extendedDate(rs.clocks(r.Tenant), r.Type, r.Received)
		if !due.After(r.Due) {
			return fmt.Errorf("privacy: clock %s allows no extension: %w", clock, store.ErrInvalid)
		}
		r.Due, r.Clock, r.Status, r.Reason = due, clock, StatusExtended, reason
		return nil
	})
	if err != nil {
		return r, err
	}
	rs.audit(ctx, AuditEvent{Actor: actor, Action: AuditRequest, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID,
		Detail: string(StatusExtended)})
	return r, nil
}

// Complete marks an in-progress request completed by staff, for what the
// engine does not do itself (a rectification without a Rectifier);
// notice is what the subject was told.
func (rs *Requests) Complete(ctx context.Context, id RequestID, actor, notice string) (Request, error) {
	r, err := rs.update(ctx, id, func(r *Request) error {
		if r.Status != StatusInProgress && r.Status != StatusExtended {
			return invalidState(r, "complete")
		}
		r.Status, r.Completed, r.Notice, r.Rectify = StatusCompleted, rs.cfg.Now(), notice, nil
		return nil
	})
	if err != nil {
		return r, err
	}
	rs.audit(ctx, AuditEvent{Actor: actor, Action: AuditRequest, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID,
		Detail: string(StatusCompleted)})
	return r, nil
}

// MethodMinor is the Method of the consent records with which
// [Requests.FlagMinor] stops the processing of a minor's messages. Only
// staff lift such a restriction, never the subject's own keyword.
const MethodMinor = "minor"

// MinorFlag says that a subject is a minor.
type MinorFlag struct {
	Address channel.Address
	// Age is the subject's age when known; 0 means unknown, the flag
	// itself is the finding.
	Age int
	// Actor is who flagged: a staff id, or "system" for an automatic
	// detection.
	Actor string
}

// FlagMinor acts on a subject found to be a minor: it records the
// withdrawal of [PurposeAssistant] and [PurposeMarketing], so that the
// agent stops processing their messages, and opens an erasure request
// with reason [ReasonMinor], verified, for staff to fulfil. A known age
// at or above MinorAge is [store.ErrInvalid]. It returns the erasure
// request.
func (rs *Requests) FlagMinor(ctx context.Context, f MinorFlag) (Request, error) {
	if f.Age > 0 && f.Age >= rs.cfg.MinorAge {
		return Request{}, fmt.Errorf("privacy: age %d is not under %d: %w", f.Age, rs.cfg.MinorAge, store.ErrInvalid)
	}
	if f.Actor == "" {
		f.Actor = ActorSystem
	}
	a := f.Address
	if a.Channel == "" || a.Tenant == "" || a.User == "" {
		return Request{}, fmt.Errorf("privacy: flagging a minor needs the subject's address: %w", store.ErrInvalid)
	}
	subject, err := rs.subjectAt(ctx, a)
	if err != nil {
		return Request{}, err
	}
	if subject != "" {
		if rs.cfg.Consent == nil {
			return Request{}, fmt.Errorf("privacy: flagging a minor needs a consent ledger: %w", ErrUnsupported)
		}
		for _, p := range []Purpose{PurposeAssistant, PurposeMarketing} {
			if err := rs.cfg.Consent.Record(ctx, ConsentRecord{Tenant: a.Tenant, Subject: subject, Purpose: p,
				Method: MethodMinor, Time: rs.cfg.Now()}); err != nil {
				return Request{}, fmt.Errorf("privacy: stopping processing of a minor: %w", err)
			}
		}
	}
	rs.audit(ctx, AuditEvent{Actor: f.Actor, Action: AuditMinor, Tenant: a.Tenant, Subject: subject})
	return rs.Submit(ctx, Submission{Type: RequestErasure, Address: a, Origin: OriginSystem, Actor: f.Actor,
		Verified: true, Reason: ReasonMinor})
}
