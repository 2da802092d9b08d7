package agent_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm/llmtest"
)

// TestFaultsTwoInstancesOnPostgres runs two agents, each with its own
// connection pool, on one PostgreSQL schema, as two processes would. Meta
// delivers every webhook to both at once. Every message is answered
// exactly once, in order.
func TestFaultsTwoInstancesOnPostgres(t *testing.T) {
	twoInstances(t, false, -1)
}

// TestFaultsRollingRestartOnPostgres is the same with a rolling restart:
// midway, one instance is shut down and a new one takes its place, once
// answering each message at once and once coalescing bursts.
func TestFaultsRollingRestartOnPostgres(t *testing.T) {
	t.Run("per message", func(t *testing.T) { twoInstances(t, true, -1) })
	t.Run("coalescing", func(t *testing.T) { twoInstances(t, true, 5*time.Millisecond) })
}

func twoInstances(t *testing.T, restart bool, coalesce time.Duration) {
	open := postgresOn(t, needPostgres(t))
	const contacts, perContact = 16, 12
	ch := newRecorder() // both instances reach the same Cloud API
	config := func(name string) agent.Config {
		return agent.Config{
			Store: open(t), Model: llmtest.Echo{Prefix: "re: "}, Channels: []channel.Channel{ch},
			Instance: name, CoalesceWindow: coalesce, ContactLimit: -1,
			RetryDelay: time.Millisecond, RecoveryInterval: 10 * time.Millisecond,
		}
	}
	var instances [2]atomic.Pointer[running]
	instances[0].Store(runAgent(t, config("instance-a")))
	instances[1].Store(runAgent(t, config("instance-b")))

	var delivered atomic.Int64
	half := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for c := range contacts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perContact {
				m := msg("instances", c, i)
				// Acknowledged once either instance recorded it; a
				// delivery to an instance shutting down may be refused,
				// and Meta redelivers it (here, to the survivor).
				var acked atomic.Bool
				var both sync.WaitGroup
				for k := range instances {
					both.Add(1)
					go func() {
						defer both.Done()
						if instances[k].Load().agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{m}}) == nil {
							acked.Store(true)
						}
					}()
				}
				both.Wait()
				for !acked.Load() {
					if instances[1].Load().agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{m}}) == nil {
						acked.Store(true)
					}
				}
				if delivered.Add(1) == contacts*perContact/2 {
					once.Do(func() { close(half) })
				}
			}
		}()
	}
	var old *running
	if restart {
		<-half
		old = instances[0].Load()
		old.shutdown(t) // drains in-flight turns, releases its leases
		instances[0].Store(runAgent(t, config("instance-a2")))
	}
	wg.Wait()
	waitIdle(t, open(t))

	want := wantReplies("re: ", contacts, perContact)
	if coalesce > 0 {
		assert.Equal(t, joined(want, "re: "), joined(repliesByContact(ch.Sent()), "re: "),
			"every message answered exactly once, in order, across instances and the restart")
	} else {
		assert.Equal(t, want, repliesByContact(ch.Sent()),
			"every message answered exactly once, in order, across instances and the restart")
	}
	var duplicates int64
	for k := range instances {
		duplicates += instances[k].Load().agent.Stats().Duplicates
	}
	if old != nil {
		duplicates += old.agent.Stats().Duplicates
	}
	if restart {
		assert.GreaterOrEqual(t, duplicates, int64(contacts*perContact/2),
			"the second delivery of each message was recognized as a duplicate")
	} else {
		assert.Equal(t, int64(contacts*perContact), duplicates,
			"the second delivery of each message was recognized as a duplicate")
	}
}
