package privacy

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// Retention defaults, each from a promise of the seed policies.
const (
	// DefaultLogRetention keeps system and diagnostic logs 90 days: "System
	// logs: retained for 90 days, then automatically purged" (WpAsis).
	DefaultLogRetention = 90 * 24 * time.Hour
	// DefaultMediaRetention keeps media references 30 days, the life of a
	// WhatsApp media id (Meta keeps Cloud API media up to 30 days); after
	// it a reference opens nothing.
	DefaultMediaRetention = 30 * 24 * time.Hour
	// DefaultContentWindow is how long message content is kept in
	// metadata-only mode: the 24-hour customer-service window, within
	// which the conversation goes on and the history window (the last 10
	// messages) is read. "We do not permanently store the content of
	// WhatsApp messages" (WpAsis); "Interaction history (limited to the
	// last 10 messages for context)" (CloudXperience).
	DefaultContentWindow = 24 * time.Hour
	// DefaultRequestRetention keeps who made an answered data-subject
	// request 24 months, the record of consumer requests the CCPA
	// regulations require (11 CCR § 7101), then anonymizes it.
	DefaultRequestRetention = 2 * 365 * 24 * time.Hour
)

// RetentionConfig configures a retention [Policy]. The zero value gives
// the defaults of [DefaultRules].
type RetentionConfig struct {
	// MetadataOnly keeps message content and media only for ContentWindow
	// (default [DefaultContentWindow]), then strips them; ids, times and
	// delivery states stay.
	MetadataOnly  bool
	ContentWindow time.Duration
	// Defaults overrides the default rule of the classes it lists.
	Defaults map[DataClass]Rule
	// Channels overrides the class rules on one channel.
	Channels map[channel.Name]map[DataClass]Rule
	// Tenants overrides the class and channel rules for one tenant.
	Tenants map[channel.TenantID]map[DataClass]Rule
}

// DataClasses returns every data class.
func DataClasses() []DataClass {
	return []DataClass{ClassContent, ClassMedia, ClassMetadata, ClassLogs, ClassTickets, ClassConsent, ClassAudit, ClassRequests}
}

// DefaultRules returns the rule of each class when nothing overrides it:
//
//   - content: kept until the subject is erased, since how long a business
//     needs its conversations is its own decision ("as long as necessary",
//     iAna, CloudXperience); in metadata-only mode, window, then stripped.
//   - media: [DefaultMediaRetention] (window in metadata-only mode), then
//     the references are removed.
//   - metadata: kept until erasure; duplicate prevention and delivery
//     accounting need it (CloudXperience).
//   - logs: [DefaultLogRetention], then deleted (WpAsis). wagent writes its
//     logs through the host's slog handler; give the runner the host's
//     rotated files with Purgers[ClassLogs] = [LogFiles]{...}. Logs can
//     only be deleted.
//   - tickets: kept until erasure, for case follow-up (iAna). To purge
//     them, give the class a Keep and the runner the store's tickets:
//     RetentionRunnerConfig.Purgers[ClassTickets] = [TicketPurger](s).
//     Only closed tickets are ever purged (open, pending and resolved ones
//     are kept), never those of held subjects; delete removes them,
//     anonymize clears their text and keeps number, status and times.
//   - consent: kept, as proof of consent and of its withdrawal (GDPR Art.
//     7(1)); erasure removes the evidence.
//   - audit: kept; it is the proof of what was done with personal data and
//     holds none but opaque ids.
//   - requests: answered data-subject requests are kept whole
//     [DefaultRequestRetention], then anonymized: the record that a
//     request was answered, and how, stays. Give the runner
//     Purgers[ClassRequests] = [RequestPurger](requests).
func DefaultRules(metadataOnly bool, window time.Duration) map[DataClass]Rule {
	rules := map[DataClass]Rule{
		ClassContent:  {Action: ActionAnonymize},
		ClassMedia:    {Keep: DefaultMediaRetention, Action: ActionDelete},
		ClassMetadata: {Action: ActionDelete},
		ClassLogs:     {Keep: DefaultLogRetention, Action: ActionDelete},
		ClassTickets:  {Action: ActionDelete},
		ClassConsent:  {Action: ActionDelete},
		ClassAudit:    {Action: ActionDelete},
		ClassRequests: {Keep: DefaultRequestRetention, Action: ActionAnonymize},
	}
	if metadataOnly {
		if window <= 0 {
			window = DefaultContentWindow
		}
		rules[ClassContent] = Rule{Keep: window, Action: ActionAnonymize}
		rules[ClassMedia] = Rule{Keep: window, Action: ActionDelete}
	}
	return rules
}

var _ RetentionPolicy = (*Policy)(nil)

// Policy is the [RetentionPolicy] of a [RetentionConfig]: the rule for a
// class in a scope is the tenant's, else the channel's, else the class
// default. It is immutable and safe for concurrent use.
type Policy struct {
	base     map[DataClass]Rule
	channels map[channel.Name]map[DataClass]Rule
	tenants  map[channel.TenantID]map[DataClass]Rule
}

// NewPolicy returns the policy of cfg. It returns an error wrapping
// [store.ErrInvalid] for an unknown class or action, a negative Keep,
// anonymizing metadata (records are deleted, not anonymized), and a scope
// whose metadata would be deleted before its content or media are due,
// which would delete them early.
func NewPolicy(cfg RetentionConfig) (*Policy, error) {
	p := &Policy{
		base:     DefaultRules(cfg.MetadataOnly, cfg.ContentWindow),
		channels: map[channel.Name]map[DataClass]Rule{},
		tenants:  map[channel.TenantID]map[DataClass]Rule{},
	}
	var err error
	if p.base, err = merge(p.base, cfg.Defaults, p.base); err != nil {
		return nil, err
	}
	for ch, rules := range cfg.Channels {
		if p.channels[ch], err = merge(nil, rules, p.base); err != nil {
			return nil, fmt.Errorf("privacy: channel %q: %w", ch, err)
		}
	}
	for t, rules := range cfg.Tenants {
		if p.tenants[t], err = merge(nil, rules, p.base); err != nil {
			return nil, fmt.Errorf("privacy: tenant %q: %w", t, err)
		}
	}
	scopes := []Scope{{}}
	for ch := range p.channels {
		scopes = append(scopes, Scope{Channel: ch})
	}
	for t := range p.tenants {
		scopes = append(scopes, Scope{Tenant: t})
		for ch := range p.channels {
			scopes = append(scopes, Scope{Tenant: t, Channel: ch})
		}
	}
	for _, s := range scopes {
		meta := p.Rule(s, ClassMetadata)
		if meta.Keep == 0 {
			continue
		}
		for _, c := range []DataClass{ClassContent, ClassMedia} {
			if r := p.Rule(s, c); r.Keep == 0 || r.Keep > meta.Keep {
				return nil, fmt.Errorf("privacy: scope %+v deletes metadata after %s, before %s is due: %w", s, meta.Keep, c, store.ErrInvalid)
			}
		}
	}
	return p, nil
}

// merge returns dst with over applied, checking each rule; an empty
// action takes the action of defaults.
func merge(dst, over, defaults map[DataClass]Rule) (map[DataClass]Rule, error) {
	out := maps.Clone(dst)
	if out == nil {
		out = map[DataClass]Rule{}
	}
	for c, r := range over {
		if !slices.Contains(DataClasses(), c) {
			return nil, fmt.Errorf("privacy: unknown data class %q: %w", c, store.ErrInvalid)
		}
		if r.Action == "" {
			r.Action = defaults[c].Action
		}
		switch {
		case r.Keep < 0:
			return nil, fmt.Errorf("privacy: negative retention for %s: %w", c, store.ErrInvalid)
		case r.Action != ActionDelete && r.Action != ActionAnonymize:
			return nil, fmt.Errorf("privacy: unknown action %q for %s: %w", r.Action, c, store.ErrInvalid)
		case c == ClassMetadata && r.Action == ActionAnonymize:
			return nil, fmt.Errorf("privacy: metadata records are deleted, not anonymized: %w", store.ErrInvalid)
		}
		out[c] = r
	}
	return out, nil
}

// Rule returns the rule for class in scope: the tenant's rule for it, else
// the channel's, else the class default. An unknown class is kept (zero
// Keep).
func (p *Policy) Rule(scope Scope, class DataClass) Rule {
	if r, ok := p.tenants[scope.Tenant][class]; ok && scope.Tenant != "" {
		return r
	}
	if r, ok := p.channels[scope.Channel][class]; ok && scope.Channel != "" {
		return r
	}
	if r, ok := p.base[class]; ok {
		return r
	}
	return Rule{Action: ActionDelete}
}

// ClassPurger purges a data class kept outside the conversation store:
// system logs, tickets. The [RetentionRunner] calls it in batches like
// [store.Purger].
type ClassPurger interface {
	// PurgeClass applies q to at most q.Limit records and reports how many
	// it changed and whether more remain. Records of subjects in q.Except
	// are never touched.
	PurgeClass(ctx context.Context, q ClassQuery) (store.PurgeResult, error)
}

// ClassQuery selects the records of a class due for purging: those of
// Tenant on Channel (every channel when empty) recorded before Before.
type ClassQuery struct {
	Tenant  channel.TenantID
	Channel channel.Name
	Class   DataClass
	Action  Action
	Before  time.Time
	Except  []store.SubjectID
	Limit   int
}

// DefaultPurgePause is the pause between two batches of a retention run.
const DefaultPurgePause = time.Second

// RetentionRunnerConfig configures a [RetentionRunner]. Policy and Tenants
// are required, and Store or Purgers; every zero value means the
// documented default.
type RetentionRunnerConfig struct {
	// Store purges message content, media and metadata.
	Store store.Purger
	// Purgers purge the classes kept elsewhere (logs, tickets), by class.
	Purgers map[DataClass]ClassPurger
	Policy  RetentionPolicy
	// Tenants lists the tenants to purge. Each tenant is purged with its
	// own rules; a tenant not listed is not purged.
	Tenants func(ctx context.Context) ([]channel.TenantID, error)
	// Channels are the channels whose rules may differ (default WhatsApp,
	// web widget, Instagram). When a tenant's rule for a class is the same
	// on all of them, one pass covers every channel, listed or not;
	// otherwise each listed channel gets its own pass and channels not
	// listed are not purged for that class.
	Channels []channel.Name
	// Holds are checked before each tenant: held subjects are passed by,
	// held tenants skipped. Nil: no holds.
	Holds *Holds
	// Audit records the receipt of each tenant's run. Nil: not recorded.
	Audit *Audit
	// BatchSize is the most records one batch changes (default
	// [store.DefaultPurgeLimit]).
	BatchSize int
	// Pause is the wait between batches, so that a purge does not starve
	// the store (default [DefaultPurgePause]; negative: none).
	Pause time.Duration
	// Now returns the current time. Nil means [time.Now].
	Now func() time.Time
	// Sleep waits d or until ctx is done. Nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger reports audit entries that could not be recorded. Nil means
	// [slog.Default].
	Logger *slog.Logger
}

// StaticTenants returns a RetentionRunnerConfig.Tenants that lists ids.
func StaticTenants(ids ...channel.TenantID) func(context.Context) ([]channel.TenantID, error) {
	ids = slices.Clone(ids)
	return func(context.Context) ([]channel.TenantID, error) { return slices.Clone(ids), nil }
}

// RetentionRunner applies a retention policy: each [RetentionRunner.Run]
// purges, in batches, what is due. It starts no goroutine; the host or the
// agent calls Run on its schedule. Runs are resumable (a stopped run
// leaves nothing half done; the next one picks up what is still due) and
// safe from several instances at once when the store's Purge is (store/
// postgres takes rows with SKIP LOCKED). It is safe for concurrent use.
type RetentionRunner struct {
	cfg RetentionRunnerConfig
}

// NewRetentionRunner returns a runner for cfg.
func NewRetentionRunner(cfg RetentionRunnerConfig) (*RetentionRunner, error) {
	if cfg.Policy == nil || cfg.Tenants == nil || cfg.Store == nil && len(cfg.Purgers) == 0 {
		return nil, fmt.Errorf("privacy: a retention runner needs a policy, tenants, and a store or purgers: %w", store.ErrInvalid)
	}
	for c := range cfg.Purgers {
		if !slices.Contains(DataClasses(), c) || slices.Contains(storeClasses, c) {
			return nil, fmt.Errorf("privacy: no purger can be set for class %q: %w", c, store.ErrInvalid)
		}
	}
	if cfg.Channels == nil {
		cfg.Channels = []channel.Name{channel.WhatsApp, channel.WebWidget, channel.Instagram}
	}
	if err := checkActions(cfg); err != nil {
		return nil, err
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = store.DefaultPurgeLimit
	}
	if cfg.Pause == 0 {
		cfg.Pause = DefaultPurgePause
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	return &RetentionRunner{cfg: cfg}, nil
}

// checkActions returns an error when a [LimitedPurger] of cfg cannot apply
// a rule of the policy that is due some day, in the scopes known now: the
// class default, each listed channel, and the tenants of a [*Policy].
func checkActions(cfg RetentionRunnerConfig) error {
	scopes := []Scope{{}}
	for _, ch := range cfg.Channels {
		scopes = append(scopes, Scope{Channel: ch})
	}
	if p, ok := cfg.Policy.(*Policy); ok {
		for _, t := range slices.Sorted(maps.Keys(p.tenants)) {
			scopes = append(scopes, Scope{Tenant: t})
			for _, ch := range cfg.Channels {
				scopes = append(scopes, Scope{Tenant: t, Channel: ch})
			}
		}
	}
	for c, p := range cfg.Purgers {
		lp, ok := p.(LimitedPurger)
		if !ok {
			continue
		}
		for _, s := range scopes {
			if r := cfg.Policy.Rule(s, c); r.Keep > 0 && !lp.Supports(r.Action) {
				return fmt.Errorf("privacy: the purger of %s cannot %s (scope %+v): %w", c, r.Action, s, store.ErrInvalid)
			}
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// storeClasses are the classes the conversation store purges, in the
// order they are purged, and the scope of each.
var storeClasses = []DataClass{ClassContent, ClassMedia, ClassMetadata}

var purgeScopes = map[DataClass]store.PurgeScope{
	ClassContent:  store.PurgeContent,
	ClassMedia:    store.PurgeMedia,
	ClassMetadata: store.PurgeRecords,
}

// RetentionReceipt is what a run purged. It holds counts and opaque
// tenant ids, no personal data.
type RetentionReceipt struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Classes counts the records changed per class; it is the sum of Runs.
	Classes map[DataClass]int `json:"classes"`
	// Runs are the passes made, one per tenant, class and channel scope.
	Runs []RetentionRun `json:"runs"`
	// HeldTenants are the tenants skipped for a hold on the whole tenant.
	HeldTenants []channel.TenantID `json:"held_tenants,omitempty"`
}

// Total returns the records changed in all classes.
func (r RetentionReceipt) Total() int {
	n := 0
	for _, c := range r.Classes {
		n += c
	}
	return n
}

// RetentionRun is one pass of a run: a class of a tenant on a channel
// (empty: all) purged of what was recorded before Before.
type RetentionRun struct {
	Tenant  channel.TenantID `json:"tenant"`
	Channel channel.Name     `json:"channel,omitempty"`
	Class   DataClass        `json:"class"`
	Action  Action           `json:"action"`
	Before  time.Time        `json:"before"`
	Records int              `json:"records"`
	Batches int              `json:"batches"`
	// Held counts the subjects passed by for a hold.
	Held int `json:"held,omitempty"`
}

// Run purges what is due now in every tenant, class and channel, and
// returns the receipt. When ctx is done or a purge fails it stops and
// returns what it did so far with the error; calling Run again resumes.
func (r *RetentionRunner) Run(ctx context.Context) (RetentionReceipt, error) {
	cfg := r.cfg
	now := cfg.Now()
	rc := RetentionReceipt{Started: now, Classes: map[DataClass]int{}, Runs: []RetentionRun{}}
	tenants, err := cfg.Tenants(ctx)
	if err != nil {
		return rc, fmt.Errorf("privacy: retention: listing tenants: %w", err)
	}
	slices.Sort(tenants)
	tenants = slices.Compact(tenants)
	classes := slices.Clone(storeClasses)
	if cfg.Store == nil {
		classes = nil
	}
	classes = append(classes, slices.Sorted(maps.Keys(cfg.Purgers))...)
	first := true
	for _, t := range tenants {
		if t == "" {
			continue
		}
		var held []store.SubjectID
		if cfg.Holds != nil {
			whole, subjects, err := cfg.Holds.Held(ctx, t)
			if err != nil {
				return r.finish(rc, err)
			}
			if whole {
				rc.HeldTenants = append(rc.HeldTenants, t)
				continue
			}
			held = subjects
		}
		before := len(rc.Runs)
		for _, class := range classes {
			for _, pass := range r.passes(t, class) {
				rule := pass.rule
				if rule.Keep <= 0 {
					continue
				}
				run := RetentionRun{Tenant: t, Channel: pass.channel, Class: class, Action: rule.Action,
					Before: now.Add(-rule.Keep), Held: len(held)}
				err := r.purge(ctx, &run, held, &first)
				rc.Runs = append(rc.Runs, run)
				rc.Classes[class] += run.Records
				if err != nil {
					r.audit(ctx, t, rc.Runs[before:])
					return r.finish(rc, err)
				}
			}
		}
		r.audit(ctx, t, rc.Runs[before:])
	}
	return r.finish(rc, nil)
}

func (r *RetentionRunner) finish(rc RetentionReceipt, err error) (RetentionReceipt, error) {
	rc.Finished = r.cfg.Now()
	return rc, err
}

type pass struct {
	channel channel.Name
	rule    Rule
}

// passes returns the passes that purge class for tenant: one for all
// channels when their rules agree, else one per listed channel.
func (r *RetentionRunner) passes(t channel.TenantID, class DataClass) []pass {
	all := r.cfg.Policy.Rule(Scope{Tenant: t}, class)
	var per []pass
	same := true
	for _, ch := range r.cfg.Channels {
		rule := r.cfg.Policy.Rule(Scope{Tenant: t, Channel: ch}, class)
		same = same && rule == all
		per = append(per, pass{channel: ch, rule: rule})
	}
	if same {
		return []pass{{rule: all}}
	}
	return per
}

// purge runs the batches of one pass.
func (r *RetentionRunner) purge(ctx context.Context, run *RetentionRun, held []store.SubjectID, first *bool) error {
	for {
		if !*first && r.cfg.Pause > 0 {
			if err := r.cfg.Sleep(ctx, r.cfg.Pause); err != nil {
				return fmt.Errorf("privacy: retention: %w", err)
			}
		}
		*first = false
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("privacy: retention: %w", err)
		}
		var res store.PurgeResult
		var err error
		if scope, ok := purgeScopes[run.Class]; ok {
			res, err = r.cfg.Store.Purge(ctx, store.PurgeQuery{Tenant: run.Tenant, Channel: run.Channel, Scope: scope,
				Before: run.Before, Except: slices.Clone(held), Limit: r.cfg.BatchSize})
		} else {
			res, err = r.cfg.Purgers[run.Class].PurgeClass(ctx, ClassQuery{Tenant: run.Tenant, Channel: run.Channel,
				Class: run.Class, Action: run.Action, Before: run.Before, Except: slices.Clone(held), Limit: r.cfg.BatchSize})
		}
		if err != nil {
			return fmt.Errorf("privacy: retention: purging %s of tenant %q: %w", run.Class, run.Tenant, err)
		}
		run.Batches++
		run.Records += res.Records
		if !res.More {
			return nil
		}
	}
}

func (r *RetentionRunner) audit(ctx context.Context, t channel.TenantID, runs []RetentionRun) {
	if len(runs) == 0 {
		return
	}
	counts := map[string]int{}
	for _, run := range runs {
		counts[string(run.Class)] += run.Records
	}
	record(ctx, r.cfg.Audit, r.cfg.Logger, AuditEvent{Actor: ActorSystem, Action: AuditRetention, Tenant: t, Counts: counts})
}
