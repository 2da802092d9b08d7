package privacy

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/wagent/wagent/store"
)

// LimitedPurger is a [ClassPurger] that can apply only some actions.
// [NewRetentionRunner] checks the rules it can see (the class default, the
// listed channels', and the tenants' of a [*Policy]) against it, so that a
// rule the purger cannot apply is a configuration error rather than a
// failed run.
type LimitedPurger interface {
	ClassPurger
	// Supports reports whether the purger can apply action.
	Supports(action Action) bool
}

// TicketPurger returns the [ClassPurger] of [ClassTickets] for p, usually
// the conversation store (store/memory, store/sqlite and store/postgres
// implement [store.TicketPurger]):
//
//	Purgers: map[privacy.DataClass]privacy.ClassPurger{privacy.ClassTickets: privacy.TicketPurger(s)}
//
// Only closed tickets are purged: open, pending and resolved tickets are
// kept however old (the "open ticket" exclusion), and so are the tickets
// of held subjects. ActionDelete deletes a ticket with its notes;
// ActionAnonymize clears its title, summary and note texts and keeps its
// number, status and times. Its PurgeClass returns an error wrapping
// [store.ErrInvalid] for a query of another class. It is safe for
// concurrent use when p is.
func TicketPurger(p store.TicketPurger) ClassPurger {
	return ticketPurger{p}
}

type ticketPurger struct{ p store.TicketPurger }

func (t ticketPurger) PurgeClass(ctx context.Context, q ClassQuery) (store.PurgeResult, error) {
	if q.Class != ClassTickets {
		return store.PurgeResult{}, fmt.Errorf("privacy: the ticket purger cannot purge %s: %w", q.Class, store.ErrInvalid)
	}
	if !t.Supports(q.Action) {
		return store.PurgeResult{}, fmt.Errorf("privacy: unknown action %q for tickets: %w", q.Action, store.ErrInvalid)
	}
	return t.p.PurgeTickets(ctx, store.TicketPurgeQuery{Tenant: q.Tenant, Channel: q.Channel, Before: q.Before,
		Anonymize: q.Action == ActionAnonymize, Except: slices.Clone(q.Except), Limit: q.Limit})
}

func (ticketPurger) Supports(a Action) bool { return a == ActionDelete || a == ActionAnonymize }

var (
	_ LimitedPurger = ticketPurger{}
	_ LimitedPurger = LogFiles{}
	_ LimitedPurger = requestPurger{}
)

// RequestPurger returns the [ClassPurger] of [ClassRequests] for rs. It
// anonymizes the data-subject requests that were answered (completed or
// denied) before the query's Before: the subject, the user id, the message
// that made the request, the verification state and any rectification
// are removed; the id, type, status, tenant, channel, dates, clock,
// reason, notice and erasure receipt stay, as the record that the request
// was answered and how. Open requests are never touched, nor the requests
// of held subjects. Only [ActionAnonymize] applies: [NewRetentionRunner]
// rejects a policy that deletes requests.
//
// A pass reads the tenant's answered requests, which are few; it is safe
// for concurrent use, and two passes at once anonymize each request once.
func RequestPurger(rs *Requests) ClassPurger { return requestPurger{rs} }

type requestPurger struct{ rs *Requests }

func (requestPurger) Supports(a Action) bool { return a == ActionAnonymize }

func (p requestPurger) PurgeClass(ctx context.Context, q ClassQuery) (store.PurgeResult, error) {
	switch {
	case p.rs == nil:
		return store.PurgeResult{}, fmt.Errorf("privacy: the request purger needs the requests: %w", store.ErrInvalid)
	case q.Class != ClassRequests:
		return store.PurgeResult{}, fmt.Errorf("privacy: the request purger cannot purge %s: %w", q.Class, store.ErrInvalid)
	case !p.Supports(q.Action):
		return store.PurgeResult{}, fmt.Errorf("privacy: requests are anonymized, not %q: %w", q.Action, store.ErrInvalid)
	case q.Limit < 0:
		return store.PurgeResult{}, fmt.Errorf("privacy: requests: negative limit: %w", store.ErrInvalid)
	}
	if q.Before.IsZero() {
		return store.PurgeResult{}, nil
	}
	limit := cmp.Or(q.Limit, store.DefaultPurgeLimit)
	ended, err := p.rs.cfg.Storage.FindRequests(ctx, RequestQuery{Tenant: q.Tenant, Status: []RequestStatus{StatusCompleted, StatusDenied}})
	if err != nil {
		return store.PurgeResult{}, fmt.Errorf("privacy: requests: %w", err)
	}
	due := slices.DeleteFunc(ended, func(r Request) bool {
		return q.Channel != "" && r.Address.Channel != q.Channel || !r.Completed.Before(q.Before) ||
			slices.Contains(q.Except, r.Subject) || !r.identifies()
	})
	slices.SortFunc(due, func(a, b Request) int {
		return cmp.Or(a.Completed.Compare(b.Completed), strings.Compare(string(a.ID), string(b.ID)))
	})
	var res store.PurgeResult
	if len(due) > limit {
		due, res.More = due[:limit], true
	}
	for _, r := range due {
		_, err := p.rs.update(ctx, r.ID, func(x *Request) error {
			if x.Status.Open() || !x.identifies() || slices.Contains(q.Except, x.Subject) {
				return errUnchanged
			}
			x.forget()
			x.Subject = ""
			return nil
		})
		if errors.Is(err, errUnchanged) {
			continue
		} else if err != nil {
			return res, err
		}
		res.Records++
	}
	return res, nil
}

// errUnchanged ends an update that finds nothing to change.
var errUnchanged = errors.New("privacy: unchanged")

// LogFiles is the [ClassPurger] of [ClassLogs] for log files that the host
// rotates into a directory: wagent logs through the host's slog handler,
// so the host owns the files. A pass deletes the regular files directly in
// Dir that Match accepts and that were last modified before the query's
// Before, at most Limit of them, oldest first. It never follows a
// symbolic link, never descends into a subdirectory and never removes
// anything outside Dir.
//
// Log files are shared by every tenant and channel: a file goes in the
// first pass that finds it due, so give the logs rule on the class default
// ([RetentionConfig].Defaults), not per tenant or channel. A file cannot
// be split by subject, so while a subject of the tenant is held (a query
// with Except), no file is deleted. Only [ActionDelete] applies;
// [NewRetentionRunner] rejects a policy that anonymizes logs.
//
// LogFiles is safe for concurrent use; two passes at once may both find a
// file, and only the one that removes it counts it.
type LogFiles struct {
	// Dir is the directory of the rotated files; required.
	Dir string
	// Match reports whether the file with the given base name is a log
	// file to purge, for example a rotated "wagent-2025-03-14.log.gz" and
	// not the file being written. Required: nil matches nothing, so that
	// no file is deleted by mistake.
	Match func(name string) bool
}

// Supports reports whether action is [ActionDelete], the only one that
// applies to files.
func (LogFiles) Supports(action Action) bool { return action == ActionDelete }

// PurgeClass implements [ClassPurger]. It returns an error wrapping
// [store.ErrInvalid] for an empty Dir, a nil Match, a query of another
// class or an action other than delete, and the error of reading Dir or
// removing a file.
func (l LogFiles) PurgeClass(ctx context.Context, q ClassQuery) (store.PurgeResult, error) {
	switch {
	case l.Dir == "" || l.Match == nil:
		return store.PurgeResult{}, fmt.Errorf("privacy: log files: a directory and a match function are required: %w", store.ErrInvalid)
	case q.Class != ClassLogs:
		return store.PurgeResult{}, fmt.Errorf("privacy: log files cannot purge %s: %w", q.Class, store.ErrInvalid)
	case !l.Supports(q.Action):
		return store.PurgeResult{}, fmt.Errorf("privacy: log files are deleted, not %q: %w", q.Action, store.ErrInvalid)
	case q.Limit < 0:
		return store.PurgeResult{}, fmt.Errorf("privacy: log files: negative limit: %w", store.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return store.PurgeResult{}, fmt.Errorf("privacy: log files: %w", err)
	}
	if len(q.Except) > 0 || q.Before.IsZero() {
		return store.PurgeResult{}, nil
	}
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultPurgeLimit
	}
	entries, err := os.ReadDir(l.Dir)
	if err != nil {
		return store.PurgeResult{}, fmt.Errorf("privacy: log files: %w", err)
	}
	type due struct {
		name string
		mod  time.Time
	}
	var files []due
	for _, e := range entries {
		// Type is from the directory entry itself (lstat): a symbolic
		// link is not a regular file, whatever it points to.
		if !e.Type().IsRegular() || !l.Match(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		} else if err != nil {
			return store.PurgeResult{}, fmt.Errorf("privacy: log files: %w", err)
		}
		if info.ModTime().Before(q.Before) {
			files = append(files, due{e.Name(), info.ModTime()})
		}
	}
	slices.SortFunc(files, func(a, b due) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	var res store.PurgeResult
	if len(files) > limit {
		files, res.More = files[:limit], true
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("privacy: log files: %w", err)
		}
		// The name is a base name read from Dir, so the path stays in it.
		err := os.Remove(filepath.Join(l.Dir, f.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by another pass
		} else if err != nil {
			return res, fmt.Errorf("privacy: log files: %w", err)
		}
		res.Records++
	}
	return res, nil
}
