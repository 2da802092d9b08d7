package privacy_test

import (
	"context"
	"errors"
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

const day = 24 * time.Hour

func TestPolicyPrecedence(t *testing.T) {
	p, err := privacy.NewPolicy(privacy.RetentionConfig{
		Defaults: map[privacy.DataClass]privacy.Rule{privacy.ClassContent: {Keep: 30 * day}},
		Channels: map[channel.Name]map[privacy.DataClass]privacy.Rule{
			channel.WebWidget: {privacy.ClassContent: {Keep: day}},
		},
		Tenants: map[channel.TenantID]map[privacy.DataClass]privacy.Rule{
			"bank": {privacy.ClassContent: {Keep: 7 * day, Action: privacy.ActionDelete}},
		},
	})
	require.NoError(t, err)
	tests := []struct {
		name  string
		scope privacy.Scope
		class privacy.DataClass
		want  privacy.Rule
	}{
		{"class default", privacy.Scope{Tenant: shop, Channel: channel.WhatsApp}, privacy.ClassContent, privacy.Rule{Keep: 30 * day, Action: privacy.ActionAnonymize}},
		{"channel over class", privacy.Scope{Tenant: shop, Channel: channel.WebWidget}, privacy.ClassContent, privacy.Rule{Keep: day, Action: privacy.ActionAnonymize}},
		{"tenant over channel", privacy.Scope{Tenant: "bank", Channel: channel.WebWidget}, privacy.ClassContent, privacy.Rule{Keep: 7 * day, Action: privacy.ActionDelete}},
		{"tenant without the class falls to the channel", privacy.Scope{Tenant: "bank", Channel: channel.WebWidget}, privacy.ClassMedia, privacy.Rule{Keep: privacy.DefaultMediaRetention, Action: privacy.ActionDelete}},
		{"logs 90 days", privacy.Scope{Tenant: shop}, privacy.ClassLogs, privacy.Rule{Keep: 90 * day, Action: privacy.ActionDelete}},
		{"metadata kept", privacy.Scope{}, privacy.ClassMetadata, privacy.Rule{Action: privacy.ActionDelete}},
		{"consent kept as proof", privacy.Scope{Tenant: "bank"}, privacy.ClassConsent, privacy.Rule{Action: privacy.ActionDelete}},
		{"audit kept", privacy.Scope{}, privacy.ClassAudit, privacy.Rule{Action: privacy.ActionDelete}},
		{"unknown class kept", privacy.Scope{}, "selfies", privacy.Rule{Action: privacy.ActionDelete}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, p.Rule(tt.scope, tt.class))
		})
	}
}

func TestPolicyMetadataOnly(t *testing.T) {
	p, err := privacy.NewPolicy(privacy.RetentionConfig{MetadataOnly: true})
	require.NoError(t, err)
	assert.Equal(t, privacy.Rule{Keep: privacy.DefaultContentWindow, Action: privacy.ActionAnonymize}, p.Rule(privacy.Scope{}, privacy.ClassContent))
	assert.Equal(t, privacy.Rule{Keep: privacy.DefaultContentWindow, Action: privacy.ActionDelete}, p.Rule(privacy.Scope{}, privacy.ClassMedia))
	p, err = privacy.NewPolicy(privacy.RetentionConfig{MetadataOnly: true, ContentWindow: 72 * time.Hour})
	require.NoError(t, err)
	assert.Equal(t, 72*time.Hour, p.Rule(privacy.Scope{Tenant: shop}, privacy.ClassContent).Keep)
}

func TestPolicyRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  privacy.RetentionConfig
	}{
		{"unknown class", privacy.RetentionConfig{Defaults: map[privacy.DataClass]privacy.Rule{"selfies": {Keep: day}}}},
		{"negative keep", privacy.RetentionConfig{Defaults: map[privacy.DataClass]privacy.Rule{privacy.ClassLogs: {Keep: -day}}}},
		{"unknown action", privacy.RetentionConfig{Defaults: map[privacy.DataClass]privacy.Rule{privacy.ClassLogs: {Keep: day, Action: "shred"}}}},
		{"anonymizing metadata", privacy.RetentionConfig{Tenants: map[channel.TenantID]map[privacy.DataClass]privacy.Rule{
			shop: {privacy.ClassMetadata: {Keep: 400 * day, Action: privacy.ActionAnonymize}}}}},
		{"metadata deleted while content is kept", privacy.RetentionConfig{Defaults: map[privacy.DataClass]privacy.Rule{
			privacy.ClassMetadata: {Keep: 365 * day}}}},
		{"metadata deleted before a channel's content", privacy.RetentionConfig{
			Defaults: map[privacy.DataClass]privacy.Rule{privacy.ClassMetadata: {Keep: 90 * day}, privacy.ClassContent: {Keep: 30 * day}},
			Channels: map[channel.Name]map[privacy.DataClass]privacy.Rule{channel.Instagram: {privacy.ClassContent: {Keep: 180 * day}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := privacy.NewPolicy(tt.cfg)
			require.ErrorIs(t, err, store.ErrInvalid)
			assert.Regexp(t, `^privacy: `, err.Error())
		})
	}
}

// fixture is a memory store with conversations of several ages.
type fixture struct {
	st  *memory.Store
	clk *clock
	ids map[string]store.MessageID
	sub map[string]store.SubjectID
}

func addr(tenant channel.TenantID, ch channel.Name, user string) channel.Address {
	return channel.Address{Channel: ch, Tenant: tenant, User: channel.UserID(user)}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := newClock()
	f := &fixture{st: memory.New(&memory.Options{Now: clk.Now}), clk: clk, ids: map[string]store.MessageID{}, sub: map[string]store.SubjectID{}}
	t.Cleanup(func() { f.st.Close() })
	return f
}

// say records an inbound message of user at age, answered, and a reply.
func (f *fixture) say(t *testing.T, name string, a channel.Address, age time.Duration, text string, media *channel.Media) {
	t.Helper()
	ctx := t.Context()
	at := f.clk.Now().Add(-age)
	typ := channel.TypeText
	if media != nil {
		typ = channel.TypeImage
	}
	ap, err := f.st.AppendInbound(ctx, channel.Message{ID: channel.MessageID("wamid." + name), From: a, Time: at, Type: typ,
		Text: channel.Text(text), Media: media, Sender: channel.Profile{Name: "Rosa Quispe", Phone: channel.Phone(a.User)}})
	require.NoError(t, err)
	require.NoError(t, f.st.SetProcessing(ctx, a.Tenant, ap.Message.ID, store.Processing{State: store.ProcessDone, UpdatedAt: at}))
	reply, err := f.st.Append(ctx, store.Message{Tenant: a.Tenant, Conversation: ap.Conversation.ID, Turn: ap.Message.ID,
		Role: store.Assistant, Time: at, Outbound: &channel.Outbound{To: a, Text: channel.Text("respuesta a " + text)}})
	require.NoError(t, err)
	f.ids[name], f.ids[name+".reply"] = ap.Message.ID, reply.ID
	f.sub[string(a.User)] = ap.Conversation.Subject
}

func (f *fixture) message(t *testing.T, tenant channel.TenantID, name string) store.Message {
	t.Helper()
	m, err := f.st.Message(t.Context(), tenant, f.ids[name])
	require.NoError(t, err)
	return m
}

// sleeper records the pauses of a runner instead of sleeping, and fails
// after failAfter of them when set.
type sleeper struct {
	mu        sync.Mutex
	pauses    []time.Duration
	failAfter int
}

func (s *sleeper) Sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failAfter > 0 && len(s.pauses) == s.failAfter {
		return context.Canceled
	}
	s.pauses = append(s.pauses, d)
	return ctx.Err()
}

// logPurger is a ClassPurger of system logs that records its queries.
type logPurger struct {
	queries []privacy.ClassQuery
	left    int
}

func (p *logPurger) PurgeClass(_ context.Context, q privacy.ClassQuery) (store.PurgeResult, error) {
	p.queries = append(p.queries, q)
	n := min(p.left, q.Limit)
	p.left -= n
	return store.PurgeResult{Records: n, More: p.left > 0}, nil
}

func retentionFixture(t *testing.T) (*fixture, *privacy.Policy) {
	t.Helper()
	f := newFixture(t)
	img := &channel.Media{Kind: channel.Image, ID: "media-1", MIMEType: "image/jpeg"}
	f.say(t, "old", addr(shop, channel.WhatsApp, "51987654321"), 40*day, "mi pedido A-1001 no llega", nil)
	f.say(t, "photo", addr(shop, channel.WhatsApp, "51987654321"), 25*day, "foto del paquete", img)
	f.say(t, "recent", addr(shop, channel.WhatsApp, "51987654321"), 10*day, "gracias", nil)
	f.say(t, "widget.old", addr(shop, channel.WebWidget, "visitor-1"), 2*day, "hola desde la web", nil)
	f.say(t, "widget.new", addr(shop, channel.WebWidget, "visitor-1"), time.Hour, "sigo aquí", nil)
	f.say(t, "held.old", addr(shop, channel.WhatsApp, "51911111111"), 40*day, "reclamo formal", nil)
	f.say(t, "bank.old", addr("bank", channel.WhatsApp, "51922222222"), 8*day, "mi cuenta", nil)
	f.say(t, "bank.new", addr("bank", channel.WhatsApp, "51922222222"), 6*day, "otra consulta", nil)
	f.say(t, "ghost.old", addr("ghost", channel.WhatsApp, "51933333333"), 400*day, "tenant not listed", nil)
	p, err := privacy.NewPolicy(privacy.RetentionConfig{
		Defaults: map[privacy.DataClass]privacy.Rule{privacy.ClassContent: {Keep: 30 * day}, privacy.ClassMedia: {Keep: 20 * day}},
		Channels: map[channel.Name]map[privacy.DataClass]privacy.Rule{channel.WebWidget: {privacy.ClassContent: {Keep: day}}},
		Tenants:  map[channel.TenantID]map[privacy.DataClass]privacy.Rule{"bank": {privacy.ClassContent: {Keep: 7 * day}}},
	})
	require.NoError(t, err)
	return f, p
}

func TestRetentionRunPurgesWhatIsDueAndKeepsHeldData(t *testing.T) {
	ctx := t.Context()
	f, policy := retentionFixture(t)
	audit, err := privacy.NewAudit(privacy.NewMemoryStorage(), &privacy.AuditOptions{Now: f.clk.Now})
	require.NoError(t, err)
	holds, err := privacy.NewHolds(privacy.NewMemoryStorage(), &privacy.HoldsOptions{Now: f.clk.Now})
	require.NoError(t, err)
	_, err = holds.Place(ctx, privacy.Hold{Tenant: shop, Subject: f.sub["51911111111"], Reason: "dispute 2026-7", PlacedBy: "legal:maria"})
	require.NoError(t, err)
	logs := &logPurger{left: 3}
	sl := &sleeper{}
	r, err := privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{
		Store: f.st, Policy: policy, Holds: holds, Audit: audit, Tenants: privacy.StaticTenants(shop, "bank"),
		Purgers:   map[privacy.DataClass]privacy.ClassPurger{privacy.ClassLogs: logs},
		BatchSize: 1, Pause: 5 * time.Second, Now: f.clk.Now, Sleep: sl.Sleep,
	})
	require.NoError(t, err)

	rc, err := r.Run(ctx)
	require.NoError(t, err)

	gone := []struct {
		tenant channel.TenantID
		name   string
	}{{shop, "old"}, {shop, "old.reply"}, {shop, "widget.old"}, {shop, "widget.old.reply"}, {"bank", "bank.old"}, {"bank", "bank.old.reply"}}
	for _, g := range gone {
		m := f.message(t, g.tenant, g.name)
		assert.True(t, m.ContentRemoved, "%s is older than its TTL: content gone", g.name)
		if m.Inbound != nil {
			assert.Empty(t, m.Inbound.Text, g.name)
			assert.NotEmpty(t, m.Inbound.ID, "%s keeps its metadata", g.name)
		}
		if m.Outbound != nil {
			assert.Empty(t, m.Outbound.Text, g.name)
		}
	}
	for _, k := range []struct {
		tenant channel.TenantID
		name   string
	}{{shop, "recent"}, {shop, "photo"}, {shop, "widget.new"}, {shop, "held.old"}, {shop, "held.old.reply"}, {"bank", "bank.new"}, {"ghost", "ghost.old"}} {
		assert.False(t, f.message(t, k.tenant, k.name).ContentRemoved, "%s is kept", k.name)
	}
	assert.Equal(t, channel.Text("reclamo formal"), f.message(t, shop, "held.old").Inbound.Text, "held data stays")
	photo := f.message(t, shop, "photo")
	assert.Nil(t, photo.Inbound.Media, "media older than its 20 days goes")
	assert.Equal(t, channel.Text("foto del paquete"), photo.Inbound.Text, "while its caption, content kept 30 days, stays")

	assert.Equal(t, map[privacy.DataClass]int{privacy.ClassContent: 6, privacy.ClassMedia: 1, privacy.ClassLogs: 3}, rc.Classes,
		"metadata, kept until erasure, is not purged")
	assert.Equal(t, 10, rc.Total())
	sum := map[privacy.DataClass]int{}
	batches := 0
	for _, run := range rc.Runs {
		sum[run.Class] += run.Records
		batches += run.Batches
		assert.Equal(t, f.clk.Now().Add(-policy.Rule(privacy.Scope{Tenant: run.Tenant, Channel: run.Channel}, run.Class).Keep), run.Before)
		if run.Tenant == shop {
			assert.Equal(t, 1, run.Held, "the held subject is passed by")
		}
	}
	for c, n := range rc.Classes {
		assert.Equal(t, n, sum[c], "receipt of %s adds up", c)
	}
	assert.Len(t, sl.pauses, batches-1, "a pause between every two batches")
	for _, p := range sl.pauses {
		assert.Equal(t, 5*time.Second, p)
	}
	require.Len(t, logs.queries, 4, "logs purged per tenant in batches: three for shop, one finding nothing for bank")
	assert.Equal(t, f.clk.Now().Add(-privacy.DefaultLogRetention), logs.queries[0].Before)
	assert.Equal(t, []store.SubjectID{f.sub["51911111111"]}, logs.queries[0].Except)

	entries, err := audit.Entries(ctx, privacy.AuditQuery{Tenant: shop, Action: privacy.AuditRetention})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, 4, entries[0].Event.Counts["content"])

	again, err := r.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, again.Total(), "nothing is due twice")

	f.clk.Add(25 * day)
	later, err := r.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, 8, later.Classes[privacy.ClassContent], "recent, photo, widget.new and bank.new with their replies")
	assert.False(t, f.message(t, shop, "held.old").ContentRemoved, "still held")
}

func TestRetentionTenantHoldSkipsTheTenant(t *testing.T) {
	ctx := t.Context()
	f, policy := retentionFixture(t)
	holds, err := privacy.NewHolds(privacy.NewMemoryStorage(), &privacy.HoldsOptions{Now: f.clk.Now})
	require.NoError(t, err)
	_, err = holds.Place(ctx, privacy.Hold{Tenant: shop, Reason: "regulator audit", PlacedBy: "legal:maria"})
	require.NoError(t, err)
	r, err := privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{Store: f.st, Policy: policy, Holds: holds,
		Tenants: privacy.StaticTenants(shop, "bank"), Now: f.clk.Now, Pause: -1})
	require.NoError(t, err)
	rc, err := r.Run(ctx)
	require.NoError(t, err)
	assert.Equal(t, []channel.TenantID{shop}, rc.HeldTenants)
	assert.Equal(t, 2, rc.Classes[privacy.ClassContent], "only bank's")
	assert.False(t, f.message(t, shop, "old").ContentRemoved)
	assert.True(t, f.message(t, "bank", "bank.old").ContentRemoved)
}

func TestRetentionRunResumesAfterInterruption(t *testing.T) {
	ctx := t.Context()
	run := func(f *fixture, policy *privacy.Policy, sl *sleeper) (privacy.RetentionReceipt, error) {
		r, err := privacy.NewRetentionRunner(privacy.RetentionRunnerConfig{Store: f.st, Policy: policy,
			Tenants: privacy.StaticTenants(shop, "bank"), BatchSize: 1, Now: f.clk.Now, Sleep: sl.Sleep})
		require.NoError(t, err)
		return r.Run(ctx)
	}
	f0, p0 := retentionFixture(t)
	whole, err := run(f0, p0, &sleeper{})
	require.NoError(t, err)

	f, policy := retentionFixture(t)
	sl := &sleeper{failAfter: 3}
	first, err := run(f, policy, sl)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 4, first.Total(), "four batches of one before the stop")
	sl.failAfter = 0
	second, err := run(f, policy, sl)
	require.NoError(t, err)
	assert.Equal(t, whole.Total(), first.Total()+second.Total(), "the two runs add up to one uninterrupted run")
	for c, n := range whole.Classes {
		assert.Equal(t, n, first.Classes[c]+second.Classes[c], c)
	}
}

func TestRetentionRunnerConfig(t *testing.T) {
	p, err := privacy.NewPolicy(privacy.RetentionConfig{})
	require.NoError(t, err)
	st := memory.New(nil)
	defer st.Close()
	for name, cfg := range map[string]privacy.RetentionRunnerConfig{
		"no policy":          {Store: st, Tenants: privacy.StaticTenants(shop)},
		"no tenants":         {Store: st, Policy: p},
		"nothing to purge":   {Policy: p, Tenants: privacy.StaticTenants(shop)},
		"purger for content": {Policy: p, Tenants: privacy.StaticTenants(shop), Purgers: map[privacy.DataClass]privacy.ClassPurger{privacy.ClassContent: &logPurger{}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := privacy.NewRetentionRunner(cfg)
			assert.ErrorIs(t, err, store.ErrInvalid)
		})
	}
	failing := privacy.RetentionRunnerConfig{Store: st, Policy: p, Tenants: func(context.Context) ([]channel.TenantID, error) {
		return nil, errors.New("directory down")
	}}
	r, err := privacy.NewRetentionRunner(failing)
	require.NoError(t, err)
	_, err = r.Run(t.Context())
	assert.ErrorContains(t, err, "privacy: retention: listing tenants")
}
