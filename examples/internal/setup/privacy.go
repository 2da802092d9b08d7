package setup

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/console"
	"github.com/wagent/wagent/examples/internal/login"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/privacy/admin"
	"github.com/wagent/wagent/store"
)

// PrivacyStorage is where the privacy engine keeps its records: store/sqlite
// and store/postgres implement it beside the conversations.
type PrivacyStorage interface {
	privacy.LedgerStorage
	privacy.AuditStorage
	privacy.HoldStorage
	privacy.RequestStorage
}

// Privacy is the privacy engine of an example: the consent ledger, the
// data-subject requests, legal holds and the audit log.
type Privacy struct {
	Audit    *privacy.Audit
	Ledger   *privacy.Ledger
	Holds    *privacy.Holds
	Requests *privacy.Requests
	// Durable reports that the records are kept in the conversation
	// store; otherwise they are in memory, until the process stops.
	Durable bool
}

// NewPrivacy returns the privacy engine over st: its records are kept in
// st when st can keep them, else in memory.
func NewPrivacy(st store.ConversationStore, log *slog.Logger) (*Privacy, error) {
	p := &Privacy{}
	var pst PrivacyStorage = privacy.NewMemoryStorage()
	if ps, ok := st.(PrivacyStorage); ok {
		pst, p.Durable = ps, true
	}
	var err error
	if p.Audit, err = privacy.NewAudit(pst, nil); err != nil {
		return nil, err
	}
	if p.Ledger, err = privacy.NewLedger(pst, nil); err != nil {
		return nil, err
	}
	if p.Holds, err = privacy.NewHolds(pst, &privacy.HoldsOptions{Audit: p.Audit}); err != nil {
		return nil, err
	}
	p.Requests, err = privacy.NewRequests(privacy.RequestsConfig{Storage: pst, Store: st,
		Consent: p.Ledger, Holds: p.Holds, Audit: p.Audit, Logger: log})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Where says where the records are kept, for the start-up banner.
func (p *Privacy) Where() string {
	if p.Durable {
		return "the store, beside the conversations"
	}
	return "memory (until the process stops)"
}

// Staff describes the people side of an example: who signs in to the
// console and the privacy admin API, and which tenants they see.
type Staff struct {
	// Token is the admin token: the bearer token of the privacy admin API
	// and what the console's login form asks for. Required.
	Token string
	// Name identifies the staff in the audit log ("quickstart",
	// "commerce").
	Name string
	// Tenants are the tenants the console lists.
	Tenants []channel.TenantID
	Logger  *slog.Logger
}

// MountStaff mounts on mux the privacy admin API at /admin/privacy/, behind
// "Authorization: Bearer <Token>", and the operator console of a at
// /console/, behind a login form asking for the token. Every admin call
// and every conversation an operator opens lands in the audit log.
func (p *Privacy) MountStaff(mux *http.ServeMux, a *agent.Agent, st store.ConversationStore, s Staff) error {
	if s.Token == "" || s.Name == "" {
		return errors.New("setup: the staff token and name are required")
	}
	api, err := admin.New(admin.Config{
		Requests:   p.Requests.WithSender(a), // verification codes go out in the subject's own chat
		Audit:      p.Audit,
		Holds:      p.Holds,
		Authorizer: admin.BearerToken(s.Token, admin.Principal{ID: s.Name, Role: admin.RoleAdmin}),
		Logger:     s.Logger,
	})
	if err != nil {
		return err
	}
	// The console's login form; a host puts its own authentication here.
	gate, err := login.New(s.Token, s.Name+"-operator")
	if err != nil {
		return err
	}
	ops, err := console.New(a, st, &console.Options{Operator: gate.Operator, Tenants: s.Tenants, Audit: p.Audit, Logger: s.Logger})
	if err != nil {
		return err
	}
	mux.Handle("/admin/privacy/", http.StripPrefix("/admin/privacy", api))
	mux.Handle("/console/", http.StripPrefix("/console", gate.Protect(ops)))
	return nil
}

// Retention returns the runner of the retention policy over st for
// tenants: the defaults of [privacy.DefaultRules] (system logs 90 days,
// media 30, answered data-subject requests anonymized after two years),
// and with metadataOnly message content and media kept only for
// [privacy.DefaultContentWindow]. Legal holds are honoured and each run's
// receipt lands in the audit log. st must be a [store.Purger] (the
// built-in stores are); its closed tickets are purged too when it is a
// [store.TicketPurger].
func (p *Privacy) Retention(st store.ConversationStore, tenants []channel.TenantID, metadataOnly bool, log *slog.Logger) (*privacy.RetentionRunner, error) {
	purger, ok := store.Capability[store.Purger](st)
	if !ok {
		return nil, errors.New("setup: the store cannot purge: retention needs a store.Purger")
	}
	policy, err := privacy.NewPolicy(privacy.RetentionConfig{MetadataOnly: metadataOnly})
	if err != nil {
		return nil, err
	}
	purgers := map[privacy.DataClass]privacy.ClassPurger{privacy.ClassRequests: privacy.RequestPurger(p.Requests)}
	if tp, ok := store.Capability[store.TicketPurger](st); ok {
		purgers[privacy.ClassTickets] = privacy.TicketPurger(tp)
	}
	return privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{
		Store: purger, Purgers: purgers, Policy: policy, Tenants: privacy.StaticTenants(tenants...),
		Holds: p.Holds, Audit: p.Audit, Logger: log,
	})
}

// KeepPurging runs r now and then every interval until ctx is done,
// logging each receipt's total and any failure (the next run resumes).
func KeepPurging(ctx context.Context, r *privacy.RetentionRunner, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		rc, err := r.Run(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("retention: run failed; the next run resumes", slog.Int("purged", rc.Total()), slog.Any("err", err))
		case err == nil && rc.Total() > 0:
			log.Info("retention: purged", slog.Int("records", rc.Total()))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
