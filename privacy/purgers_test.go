package privacy_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func TestTicketPurgerRetention(t *testing.T) {
	const day = 24 * time.Hour
	start := time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)
	for _, action := range []privacy.Action{privacy.ActionDelete, privacy.ActionAnonymize} {
		t.Run(string(action), func(t *testing.T) {
			ctx := t.Context()
			clk := &testClock{now: start}
			s := memory.New(&memory.Options{Now: clk.Now})
			ticket := func(user string, status store.TicketStatus) store.Ticket {
				c, err := s.OpenConversation(ctx, channel.Address{Channel: channel.WhatsApp, Tenant: shop, User: channel.UserID(user)})
				require.NoError(t, err)
				tk, err := s.CreateTicket(ctx, store.NewTicket{Tenant: shop, Subject: c.Subject, Title: "Reembolso de " + user, Summary: "Pedido 4471"})
				require.NoError(t, err)
				tk, err = s.SetTicketStatus(ctx, shop, tk.Number, status)
				require.NoError(t, err)
				return tk
			}
			oldClosed := []store.Ticket{ticket("51911111111", store.TicketClosed), ticket("51922222222", store.TicketClosed)}
			oldOpen := ticket("51933333333", store.TicketOpen)
			oldResolved := ticket("51944444444", store.TicketResolved)
			clk.set(start.Add(50 * day))
			recent := ticket("51955555555", store.TicketClosed)
			clk.set(start.Add(70 * day))

			policy, err := privacy.NewPolicy(privacy.RetentionConfig{Defaults: map[privacy.DataClass]privacy.Rule{
				privacy.ClassTickets: {Keep: 60 * day, Action: action}}})
			require.NoError(t, err)
			var tp store.TicketPurger = s
			r, err := privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{
				Policy: policy, Tenants: privacy.StaticTenants(shop), BatchSize: 1, Pause: -1, Now: clk.Now,
				Purgers: map[privacy.DataClass]privacy.ClassPurger{privacy.ClassTickets: privacy.TicketPurger(tp)},
			})
			require.NoError(t, err)
			rc, err := r.Run(ctx)
			require.NoError(t, err)
			assert.Equal(t, map[privacy.DataClass]int{privacy.ClassTickets: len(oldClosed)}, rc.Classes, "the receipt counts the old closed tickets")
			require.Len(t, rc.Runs, 1)
			assert.Equal(t, len(oldClosed), rc.Runs[0].Batches, "batches of one ticket; the last reports that none remain")

			for _, tk := range oldClosed {
				got, err := s.Ticket(ctx, shop, tk.Number)
				if action == privacy.ActionDelete {
					assert.ErrorIs(t, err, store.ErrNotFound, "an old closed ticket is deleted")
					continue
				}
				require.NoError(t, err, "an anonymized ticket is kept")
				assert.Empty(t, got.Title)
				assert.Empty(t, got.Summary)
				assert.Equal(t, tk.UpdatedAt, got.UpdatedAt)
				assert.Equal(t, store.TicketClosed, got.Status)
			}
			for _, tk := range []store.Ticket{oldOpen, oldResolved, recent} {
				got, err := s.Ticket(ctx, shop, tk.Number)
				require.NoError(t, err, "open, resolved and recent tickets are kept")
				assert.Equal(t, tk, got)
			}
			rc, err = r.Run(ctx)
			require.NoError(t, err)
			assert.Zero(t, rc.Total(), "a second run changes nothing")
		})
	}
}

func TestTicketPurgerRejectsOtherClasses(t *testing.T) {
	p := privacy.TicketPurger(memory.New(nil))
	_, err := p.PurgeClass(t.Context(), privacy.ClassQuery{Tenant: shop, Class: privacy.ClassLogs, Action: privacy.ActionDelete, Before: time.Now()})
	assert.ErrorIs(t, err, store.ErrInvalid)
	_, err = p.PurgeClass(t.Context(), privacy.ClassQuery{Tenant: shop, Class: privacy.ClassTickets, Action: "shred", Before: time.Now()})
	assert.ErrorIs(t, err, store.ErrInvalid)
}

// logDir makes a directory of log files, each modified the given number
// of days before now.
func logDir(t *testing.T, now time.Time, files map[string]int) string {
	t.Helper()
	dir := t.TempDir()
	for name, age := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("level=INFO msg=sent\n"), 0o600))
		mod := now.Add(-time.Duration(age) * 24 * time.Hour)
		require.NoError(t, os.Chtimes(p, mod, mod))
	}
	return dir
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func rotated(name string) bool {
	return strings.HasPrefix(name, "wagent-") && strings.HasSuffix(name, ".log.gz")
}

func TestLogFiles(t *testing.T) {
	now := time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)
	before := now.Add(-privacy.DefaultLogRetention)
	query := privacy.ClassQuery{Tenant: shop, Class: privacy.ClassLogs, Action: privacy.ActionDelete, Before: before}

	t.Run("deletes matching files modified before Before, in batches", func(t *testing.T) {
		dir := logDir(t, now, map[string]int{
			"wagent-1.log.gz": 200, "wagent-2.log.gz": 120, "wagent-3.log.gz": 91,
			"wagent-4.log.gz": 89, "wagent.log": 300, "notes.txt": 400,
		})
		l := privacy.LogFiles{Dir: dir, Match: rotated}
		q := query
		q.Limit = 2
		res, err := l.PurgeClass(t.Context(), q)
		require.NoError(t, err)
		assert.Equal(t, store.PurgeResult{Records: 2, More: true}, res)
		assert.Equal(t, []string{"notes.txt", "wagent-3.log.gz", "wagent-4.log.gz", "wagent.log"}, names(t, dir), "the two oldest go first")
		res, err = l.PurgeClass(t.Context(), q)
		require.NoError(t, err)
		assert.Equal(t, store.PurgeResult{Records: 1}, res)
		assert.Equal(t, []string{"notes.txt", "wagent-4.log.gz", "wagent.log"}, names(t, dir), "recent and unmatched files stay")
		res, err = l.PurgeClass(t.Context(), q)
		require.NoError(t, err)
		assert.Equal(t, store.PurgeResult{}, res, "nothing is left to purge")
	})

	t.Run("never follows a symbolic link or enters a subdirectory", func(t *testing.T) {
		outside := logDir(t, now, map[string]int{"wagent-9.log.gz": 500})
		dir := logDir(t, now, map[string]int{"wagent-1.log.gz": 200})
		target := filepath.Join(outside, "wagent-9.log.gz")
		require.NoError(t, os.Symlink(target, filepath.Join(dir, "wagent-link.log.gz")))
		sub := filepath.Join(dir, "wagent-sub.log.gz")
		require.NoError(t, os.Mkdir(sub, 0o700))
		old := now.Add(-400 * 24 * time.Hour)
		require.NoError(t, os.WriteFile(filepath.Join(sub, "wagent-7.log.gz"), nil, 0o600))
		require.NoError(t, os.Chtimes(filepath.Join(sub, "wagent-7.log.gz"), old, old))
		require.NoError(t, os.Chtimes(sub, old, old))

		res, err := privacy.LogFiles{Dir: dir, Match: rotated}.PurgeClass(t.Context(), query)
		require.NoError(t, err)
		assert.Equal(t, store.PurgeResult{Records: 1}, res)
		assert.Equal(t, []string{"wagent-link.log.gz", "wagent-sub.log.gz"}, names(t, dir), "links and directories are not log files")
		assert.FileExists(t, target, "the file a link points to, outside Dir, is never removed")
		assert.FileExists(t, filepath.Join(sub, "wagent-7.log.gz"), "a subdirectory is never entered")
	})

	t.Run("keeps every file while a subject is held", func(t *testing.T) {
		dir := logDir(t, now, map[string]int{"wagent-1.log.gz": 200})
		q := query
		q.Except = []store.SubjectID{"s1"}
		res, err := privacy.LogFiles{Dir: dir, Match: rotated}.PurgeClass(t.Context(), q)
		require.NoError(t, err)
		assert.Equal(t, store.PurgeResult{}, res)
		assert.Equal(t, []string{"wagent-1.log.gz"}, names(t, dir))
	})

	t.Run("rejects bad configuration and queries", func(t *testing.T) {
		dir := logDir(t, now, map[string]int{"wagent-1.log.gz": 200})
		anon := query
		anon.Action = privacy.ActionAnonymize
		other := query
		other.Class = privacy.ClassTickets
		for name, c := range map[string]struct {
			l privacy.LogFiles
			q privacy.ClassQuery
		}{
			"no dir":    {privacy.LogFiles{Match: rotated}, query},
			"no match":  {privacy.LogFiles{Dir: dir}, query},
			"anonymize": {privacy.LogFiles{Dir: dir, Match: rotated}, anon},
			"class":     {privacy.LogFiles{Dir: dir, Match: rotated}, other},
		} {
			_, err := c.l.PurgeClass(t.Context(), c.q)
			assert.ErrorIs(t, err, store.ErrInvalid, name)
		}
		assert.Equal(t, []string{"wagent-1.log.gz"}, names(t, dir), "nothing is deleted")
	})

	t.Run("a policy that anonymizes logs is a configuration error", func(t *testing.T) {
		l := privacy.LogFiles{Dir: t.TempDir(), Match: rotated}
		for name, cfg := range map[string]privacy.RetentionConfig{
			"default": {Defaults: map[privacy.DataClass]privacy.Rule{privacy.ClassLogs: {Keep: time.Hour, Action: privacy.ActionAnonymize}}},
			"channel": {Channels: map[channel.Name]map[privacy.DataClass]privacy.Rule{channel.WebWidget: {privacy.ClassLogs: {Keep: time.Hour, Action: privacy.ActionAnonymize}}}},
			"tenant":  {Tenants: map[channel.TenantID]map[privacy.DataClass]privacy.Rule{shop: {privacy.ClassLogs: {Keep: time.Hour, Action: privacy.ActionAnonymize}}}},
		} {
			p, err := privacy.NewPolicy(cfg)
			require.NoError(t, err, name)
			_, err = privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{Policy: p, Tenants: privacy.StaticTenants(shop),
				Purgers: map[privacy.DataClass]privacy.ClassPurger{privacy.ClassLogs: l}})
			assert.ErrorIs(t, err, store.ErrInvalid, name)
		}
	})

	t.Run("the runner deletes logs past DefaultLogRetention", func(t *testing.T) {
		dir := logDir(t, now, map[string]int{"wagent-1.log.gz": 91, "wagent-2.log.gz": 89})
		p, err := privacy.NewPolicy(privacy.RetentionConfig{})
		require.NoError(t, err)
		r, err := privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{Policy: p, Tenants: privacy.StaticTenants(shop),
			Purgers: map[privacy.DataClass]privacy.ClassPurger{privacy.ClassLogs: privacy.LogFiles{Dir: dir, Match: rotated}},
			Now:     func() time.Time { return now }})
		require.NoError(t, err)
		rc, err := r.Run(t.Context())
		require.NoError(t, err)
		assert.Equal(t, 1, rc.Classes[privacy.ClassLogs])
		assert.Equal(t, []string{"wagent-2.log.gz"}, names(t, dir))
	})
}

func TestRequestPurgerAnonymizesAnsweredRequests(t *testing.T) {
	ctx := t.Context()
	e := newEnv(t, func(c *privacy.RequestsConfig) { c.Rectifier = &rectifier{} })
	officer := "privacy_officer:luis"
	denied, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestAccess, Address: e.rosa})
	require.NoError(t, err)
	denied, err = e.requests.Deny(ctx, denied.ID, officer, "manifestly_unfounded")
	require.NoError(t, err)
	done, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestRectification, Address: e.rosa, Verified: true, Actor: officer,
		Rectify: &channel.Profile{Name: "Rosa Quispe Mamani"}})
	require.NoError(t, err)
	require.NotNil(t, done.Rectify)
	held, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestAccess, Address: e.juan, Verified: true, Actor: officer})
	require.NoError(t, err)
	held, err = e.requests.Deny(ctx, held.ID, officer, "duplicate")
	require.NoError(t, err)
	open, err := e.requests.Submit(ctx, privacy.Submission{Type: privacy.RequestObjection, Address: e.rosa})
	require.NoError(t, err)
	_, err = e.holds.Place(ctx, privacy.Hold{Tenant: shop, Subject: held.Subject, Reason: "dispute 2026-7", PlacedBy: "legal:maria"})
	require.NoError(t, err)
	e.clk.Add(privacy.DefaultRequestRetention - day)
	done, err = e.requests.Fulfil(ctx, done.ID, officer)
	require.NoError(t, err)
	require.Equal(t, privacy.StatusCompleted, done.Status)
	e.clk.Add(2 * day)

	policy, err := privacy.NewPolicy(privacy.RetentionConfig{})
	require.NoError(t, err)
	r, err := privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{
		Policy: policy, Tenants: privacy.StaticTenants(shop), Holds: e.holds, BatchSize: 1, Pause: -1, Now: e.clk.Now,
		Purgers: map[privacy.DataClass]privacy.ClassPurger{privacy.ClassRequests: privacy.RequestPurger(e.requests)},
	})
	require.NoError(t, err)
	rc, err := r.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[privacy.DataClass]int{privacy.ClassRequests: 1}, rc.Classes, "one request was answered over two years ago")

	got, err := e.requests.Request(ctx, denied.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Subject, "the subject of an old answered request is gone")
	assert.Empty(t, got.Address.User)
	assert.Equal(t, channel.WhatsApp, got.Address.Channel, "the channel stays")
	assert.Equal(t, shop, got.Tenant)
	assert.Equal(t, privacy.StatusDenied, got.Status, "the record that it was answered, and how, stays")
	assert.Equal(t, "manifestly_unfounded", got.Reason)
	assert.Equal(t, denied.Received, got.Received)
	assert.Equal(t, denied.Completed, got.Completed)
	assert.Equal(t, denied.Due, got.Due)
	for _, id := range []privacy.RequestID{done.ID, held.ID, open.ID} {
		got, err := e.requests.Request(ctx, id)
		require.NoError(t, err)
		assert.NotEmpty(t, got.Subject, "recent, held and open requests keep their subject")
		assert.NotEmpty(t, got.Address.User)
	}

	rc, err = r.Run(ctx)
	require.NoError(t, err)
	assert.Zero(t, rc.Total(), "a second run changes nothing")

	e.clk.Add(privacy.DefaultRequestRetention)
	rc, err = r.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rc.Total(), "the rectification, answered later, goes in its turn; the held and the open requests stay")
	got, err = e.requests.Request(ctx, done.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Subject)
	assert.Empty(t, got.Address.User)
	assert.Equal(t, privacy.StatusCompleted, got.Status)

	_, err = privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{
		Policy:  mustPolicy(t, privacy.RetentionConfig{Defaults: map[privacy.DataClass]privacy.Rule{privacy.ClassRequests: {Keep: day, Action: privacy.ActionDelete}}}),
		Tenants: privacy.StaticTenants(shop), Purgers: map[privacy.DataClass]privacy.ClassPurger{privacy.ClassRequests: privacy.RequestPurger(e.requests)},
	})
	assert.ErrorIs(t, err, store.ErrInvalid, "requests are anonymized, never deleted")
	_, err = privacy.RequestPurger(e.requests).PurgeClass(ctx, privacy.ClassQuery{Tenant: shop, Class: privacy.ClassTickets, Action: privacy.ActionAnonymize, Before: e.clk.Now()})
	assert.ErrorIs(t, err, store.ErrInvalid)
	_, err = privacy.RequestPurger(nil).PurgeClass(ctx, privacy.ClassQuery{Tenant: shop, Class: privacy.ClassRequests, Action: privacy.ActionAnonymize, Before: e.clk.Now()})
	assert.ErrorIs(t, err, store.ErrInvalid)
}

func mustPolicy(t *testing.T, c privacy.RetentionConfig) *privacy.Policy {
	t.Helper()
	p, err := privacy.NewPolicy(c)
	require.NoError(t, err)
	return p
}
