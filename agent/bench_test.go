package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store/memory"
)

// benchAgent returns a running agent on the memory store with a scripted
// model that always gives the same reply, and its channel.
func benchAgent(b *testing.B, hooks agent.Hooks) (*agent.Agent, *channeltest.Recorder) {
	b.Helper()
	model := llmtest.NewScripted()
	model.SetRecording(false)
	model.SetDefault(llmtest.Reply("Gracias por escribir a Tienda Sol, te ayudo enseguida."))
	ch := channeltest.NewRecorder(channel.WhatsApp)
	a, err := agent.New(agent.Config{
		Store:        memory.New(nil),
		Model:        model,
		Channels:     []channel.Channel{ch},
		Instructions: "You are the assistant of Tienda Sol.",
		Logger:       slog.New(slog.DiscardHandler),
		Hooks:        hooks,
		// Measure the turn itself: no 2 s wait for a pause, and no per
		// contact limit (each of the 100 contacts sends b.N/100 messages).
		CoalesceWindow: -1,
		ContactLimit:   -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() {
		if err := a.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
		cancel()
		<-done
	})
	return a, ch
}

// messages returns n text messages from contacts senders, built before the
// timer starts.
func messages(n, contacts int) []channel.Message {
	msgs := make([]channel.Message, n)
	for i := range msgs {
		msgs[i] = text(fmt.Sprintf("wamid.bench.%d", i), fmt.Sprintf("5190%07d", i%contacts), "¿Tienen la chompa de alpaca en talla M?")
	}
	return msgs
}

// BenchmarkAgentTurn measures the whole path of one message, from Receive
// (durable, idempotent record) to the reply accepted by the channel: gates,
// history window, model, reply recorded, sent, delivery and outcome
// recorded. Messages from 100 contacts are received back to back and
// processed by the default 16 workers, so ns/op is the cost per turn at
// full throughput.
func BenchmarkAgentTurn(b *testing.B) {
	a, ch := benchAgent(b, agent.Hooks{})
	msgs := messages(b.N, 100)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range msgs {
		if err := a.Receive(ctx, channel.Inbound{Messages: msgs[i : i+1]}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := ch.Wait(ctx, b.N); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "turns/s")
}

// BenchmarkAgentTurnLatency measures one turn at a time: a message is
// received and the next one waits until its turn is done.
func BenchmarkAgentTurnLatency(b *testing.B) {
	done := make(chan agent.TurnInfo, 1)
	a, _ := benchAgent(b, agent.Hooks{TurnDone: func(ti agent.TurnInfo) { done <- ti }})
	msgs := messages(b.N, 100)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range msgs {
		if err := a.Receive(ctx, channel.Inbound{Messages: msgs[i : i+1]}); err != nil {
			b.Fatal(err)
		}
		if ti := <-done; ti.Outcome != agent.Answered {
			b.Fatalf("turn %d: %s %v", i, ti.Reason, ti.Err)
		}
	}
}
