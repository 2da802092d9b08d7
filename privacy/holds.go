package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// Hold is a legal hold: data of a tenant, or of one subject of it, that
// must not be deleted (litigation, an authority's order, an open dispute).
// Retention purges pass held subjects by and skip held tenants; erasure of
// a held subject is refused with [ErrLegalHold].
type Hold struct {
	// ID identifies the hold; assigned when placed.
	ID     string           `json:"id"`
	Tenant channel.TenantID `json:"tenant"`
	// Subject is the subject held; empty holds the whole tenant.
	Subject store.SubjectID `json:"subject,omitempty"`
	// Reason says why, without personal data: "litigation 2025-114".
	Reason   string    `json:"reason"`
	PlacedBy string    `json:"placed_by"`
	Placed   time.Time `json:"placed"`
	// Expires ends the hold by itself; zero holds until lifted.
	Expires  time.Time `json:"expires,omitzero"`
	Lifted   time.Time `json:"lifted,omitzero"`
	LiftedBy string    `json:"lifted_by,omitempty"`
}

// Active reports whether h holds at now: placed, not lifted, not expired.
func (h Hold) Active(now time.Time) bool {
	return !now.Before(h.Placed) && h.Lifted.IsZero() && (h.Expires.IsZero() || now.Before(h.Expires))
}

// Covers reports whether h, when active, holds subject's data.
func (h Hold) Covers(subject store.SubjectID) bool { return h.Subject == "" || h.Subject == subject }

// HoldStorage keeps legal holds. Implementations are safe for concurrent
// use, bound each call by ctx, and copy what they are given and return.
type HoldStorage interface {
	// PutHold stores h, replacing the hold of h.Tenant with h.ID if any.
	PutHold(ctx context.Context, h Hold) error
	// ListHolds returns every hold of tenant, lifted and expired ones
	// included, in the order they were first put.
	ListHolds(ctx context.Context, tenant channel.TenantID) ([]Hold, error)
}

// HoldsOptions configures [Holds]. A nil *HoldsOptions, like the zero
// value, gives the defaults.
type HoldsOptions struct {
	// Now returns the current time. Nil means [time.Now].
	Now func() time.Time
	// Audit, when set, records every hold placed and lifted.
	Audit *Audit
	// Logger reports audit entries that could not be recorded. Nil means
	// [slog.Default].
	Logger *slog.Logger
}

// Holds places, lifts and checks legal holds. It is safe for concurrent
// use.
type Holds struct {
	s     HoldStorage
	now   func() time.Time
	audit *Audit
	log   *slog.Logger
}

// NewHolds returns the holds kept in s.
func NewHolds(s HoldStorage, opts *HoldsOptions) (*Holds, error) {
	if s == nil {
		return nil, fmt.Errorf("privacy: holds need a storage: %w", store.ErrInvalid)
	}
	var o HoldsOptions
	if opts != nil {
		o = *opts
	}
	h := &Holds{s: s, now: o.Now, audit: o.Audit, log: o.Logger}
	if h.now == nil {
		h.now = time.Now
	}
	return h, nil
}

// Place places h and returns it with its id and placing time (now when
// zero). It returns an error wrapping [store.ErrInvalid] without a tenant,
// a reason or who places it, or with an expiry before the placing time.
func (hs *Holds) Place(ctx context.Context, h Hold) (Hold, error) {
	if h.Tenant == "" || h.Reason == "" || h.PlacedBy == "" {
		return Hold{}, fmt.Errorf("privacy: hold needs a tenant, a reason and who places it: %w", store.ErrInvalid)
	}
	if h.Placed.IsZero() {
		h.Placed = hs.now()
	}
	if !h.Expires.IsZero() && !h.Expires.After(h.Placed) {
		return Hold{}, fmt.Errorf("privacy: hold expires before it is placed: %w", store.ErrInvalid)
	}
	id, err := newID("hold")
	if err != nil {
		return Hold{}, err
	}
	h.ID, h.Lifted, h.LiftedBy = id, time.Time{}, ""
	if err := hs.s.PutHold(ctx, h); err != nil {
		return Hold{}, fmt.Errorf("privacy: placing hold: %w", err)
	}
	record(ctx, hs.audit, hs.log, AuditEvent{Actor: h.PlacedBy, Action: AuditHoldPlaced, Tenant: h.Tenant, Subject: h.Subject, Detail: h.ID})
	return h, nil
}

// Lift lifts tenant's hold id as by and returns it. Lifting a lifted hold
// changes nothing. It returns [store.ErrNotFound] for an unknown hold.
func (hs *Holds) Lift(ctx context.Context, tenant channel.TenantID, id, by string) (Hold, error) {
	all, err := hs.s.ListHolds(ctx, tenant)
	if err != nil {
		return Hold{}, fmt.Errorf("privacy: lifting hold: %w", err)
	}
	i := slices.IndexFunc(all, func(h Hold) bool { return h.ID == id })
	if i < 0 {
		return Hold{}, fmt.Errorf("privacy: lifting hold: %w", store.ErrNotFound)
	}
	h := all[i]
	if !h.Lifted.IsZero() {
		return h, nil
	}
	h.Lifted, h.LiftedBy = hs.now(), by
	if err := hs.s.PutHold(ctx, h); err != nil {
		return Hold{}, fmt.Errorf("privacy: lifting hold: %w", err)
	}
	record(ctx, hs.audit, hs.log, AuditEvent{Actor: by, Action: AuditHoldLifted, Tenant: h.Tenant, Subject: h.Subject, Detail: h.ID})
	return h, nil
}

// List returns every hold of tenant, lifted and expired ones included,
// in the order they were placed.
func (hs *Holds) List(ctx context.Context, tenant channel.TenantID) ([]Hold, error) {
	all, err := hs.s.ListHolds(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("privacy: holds: %w", err)
	}
	return all, nil
}

// Active returns tenant's holds active now.
func (hs *Holds) Active(ctx context.Context, tenant channel.TenantID) ([]Hold, error) {
	all, err := hs.s.ListHolds(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("privacy: holds: %w", err)
	}
	now := hs.now()
	return slices.DeleteFunc(all, func(h Hold) bool { return !h.Active(now) }), nil
}

// Check returns an error wrapping [ErrLegalHold] when an active hold
// covers subject's data (a hold of the subject or of the whole tenant).
func (hs *Holds) Check(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) error {
	active, err := hs.Active(ctx, tenant)
	if err != nil {
		return err
	}
	for _, h := range active {
		if h.Covers(subject) {
			return fmt.Errorf("privacy: hold %s: %w", h.ID, ErrLegalHold)
		}
	}
	return nil
}

// Held returns what tenant's active holds keep: the whole tenant, or the
// subjects listed.
func (hs *Holds) Held(ctx context.Context, tenant channel.TenantID) (whole bool, subjects []store.SubjectID, err error) {
	active, err := hs.Active(ctx, tenant)
	if err != nil {
		return false, nil, err
	}
	for _, h := range active {
		if h.Subject == "" {
			return true, nil, nil
		}
		if !slices.Contains(subjects, h.Subject) {
			subjects = append(subjects, h.Subject)
		}
	}
	slices.Sort(subjects)
	return false, subjects, nil
}

// newID returns prefix, an underscore and 32 random hex digits: an id
// nobody can guess.
func newID(prefix string) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("privacy: id: %w", err)
	}
	return prefix + "_" + hex.EncodeToString(b[:]), nil
}
