package agent_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/privacy/seal"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/store/sealed"
)

// leasing adds conversation leases to the memory store, as the shared
// PostgreSQL store has them, for agents standing in for instances.
type leasing struct {
	*memory.Store
	mu     sync.Mutex
	leases map[store.ConversationID]store.Lease
}

func (s *leasing) Lease(_ context.Context, tenant channel.TenantID, conv store.ConversationID, owner string, d time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if l, ok := s.leases[conv]; ok && l.Owner != owner && l.Until.After(now) {
		return false, nil
	}
	s.leases[conv] = store.Lease{Tenant: tenant, Conversation: conv, Owner: owner, Until: now.Add(d)}
	return true, nil
}

func (s *leasing) Release(_ context.Context, _ channel.TenantID, conv store.ConversationID, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leases[conv]; ok && l.Owner == owner {
		delete(s.leases, conv)
	}
	return nil
}

func (s *leasing) LeasePending(ctx context.Context, owner string, d time.Duration, limit int) ([]store.Lease, error) {
	pending, err := s.Pending(ctx, store.PendingQuery{})
	if err != nil {
		return nil, err
	}
	var got []store.Lease
	seen := map[store.ConversationID]bool{}
	for _, m := range pending {
		if len(got) == limit || seen[m.Conversation] {
			continue
		}
		seen[m.Conversation] = true
		if ok, _ := s.Lease(ctx, m.Tenant, m.Conversation, owner, d); ok {
			got = append(got, store.Lease{Tenant: m.Tenant, Conversation: m.Conversation, Owner: owner, Until: time.Now().Add(d)})
		}
	}
	return got, nil
}

func TestInstancesShareTheWork(t *testing.T) {
	st := &leasing{Store: memory.New(nil), leases: map[store.ConversationID]store.Lease{}}
	wa := channeltest.NewRecorder(channel.WhatsApp) // both instances reach the same Cloud API
	var agents []*agent.Agent
	for _, name := range []string{"instance-a", "instance-b"} {
		model := llmtest.NewScripted()
		model.SetDefault(echoLast())
		a, err := agent.New(agent.Config{
			Store: st, Model: model, Channels: []channel.Channel{wa},
			Instance: name, CoalesceWindow: -1, ContactLimit: -1,
			RecoveryInterval: 10 * time.Millisecond,
			Logger:           slog.New(slog.DiscardHandler),
		})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		t.Cleanup(func() {
			assert.NoError(t, a.Shutdown(context.Background()))
			cancel()
			<-done
		})
		agents = append(agents, a)
	}

	const contacts, perContact = 20, 10
	var wg sync.WaitGroup
	for c := range contacts {
		wg.Add(1)
		go func() { // each contact writes in order; Meta delivers every webhook to both instances at once
			defer wg.Done()
			for i := range perContact {
				msg := text(fmt.Sprintf("wamid.%d.%d", c, i), fmt.Sprintf("519%08d", c), fmt.Sprintf("c%d m%d", c, i))
				var both sync.WaitGroup
				for _, a := range agents {
					both.Add(1)
					go func() {
						defer both.Done()
						assert.NoError(t, a.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg}}))
					}()
				}
				both.Wait()
			}
		}()
	}
	wg.Wait()
	sent, err := wa.Wait(t.Context(), contacts*perContact)
	require.NoError(t, err)

	byContact := map[channel.UserID][]string{}
	for _, o := range sent {
		byContact[o.To.User] = append(byContact[o.To.User], string(o.Text))
	}
	for c := range contacts {
		var want []string
		for i := range perContact {
			want = append(want, fmt.Sprintf("re: c%d m%d", c, i))
		}
		assert.Equal(t, want, byContact[channel.UserID(fmt.Sprintf("519%08d", c))], "contact %d: one reply per message, in order", c)
	}
	assert.Equal(t, int64(contacts*perContact), agents[0].Stats().Duplicates+agents[1].Stats().Duplicates, "every second delivery was a duplicate")
	// Once nothing is pending every turn has ended, its sends included.
	require.Eventually(t, func() bool {
		pending, err := st.Pending(t.Context(), store.PendingQuery{})
		return err == nil && len(pending) == 0
	}, 10*time.Second, time.Millisecond)
	assert.Len(t, wa.Sent(), contacts*perContact, "no reply was sent twice")
}

func TestInstanceNeedsALeasingStore(t *testing.T) {
	plain := struct{ store.ConversationStore }{memory.New(nil)} // hides any optional capability
	_, err := agent.New(agent.Config{Store: plain, Model: llmtest.Echo{}, Channels: []channel.Channel{channeltest.NewRecorder(channel.WhatsApp)}, Instance: "a"})
	assert.ErrorContains(t, err, "Config.Instance is set but the store cannot lease conversations")

	// A wrapper that forwards every capability's methods (store/sealed)
	// has only those of the store it wraps.
	ring, err := seal.NewKeyring(seal.KeyringConfig{Keys: []seal.Key{{ID: "k1", Secret: bytes.Repeat([]byte{7}, seal.KeySize)}},
		Primary: "k1", IndexSecret: bytes.Repeat([]byte{9}, seal.KeySize)})
	require.NoError(t, err)
	wrapped, err := sealed.New(plain, ring, &seal.MemoryKeyStorage{}, nil)
	require.NoError(t, err)
	_, isLeaser := any(wrapped).(store.Leaser)
	require.True(t, isLeaser, "the wrapper has the methods")
	_, err = agent.New(agent.Config{Store: wrapped, Model: llmtest.Echo{}, Channels: []channel.Channel{channeltest.NewRecorder(channel.WhatsApp)}, Instance: "a"})
	assert.ErrorContains(t, err, "Config.Instance is set but the store cannot lease conversations", "found through the wrapper")

	wrapped, err = sealed.New(memory.New(nil), ring, &seal.MemoryKeyStorage{}, nil)
	require.NoError(t, err)
	a, err := agent.New(agent.Config{Store: wrapped, Model: llmtest.Echo{}, Channels: []channel.Channel{channeltest.NewRecorder(channel.WhatsApp)}, Instance: "a"})
	require.NoError(t, err, "a wrapper of a leasing store leases")
	require.NoError(t, a.Shutdown(t.Context()))
}
