// Command quickstart is the zero-configuration wagent demo: a chat in your
// terminal with the assistant of a demo shop, run by a real agent (durable
// idempotent inbox, per-conversation ordering, tool loop) with an offline
// demo model, so it needs no API key and no network.
//
//	go run ./examples/quickstart
//
// Type a message and press Enter; end with Ctrl-D. Ask about opening hours,
// shipping or returns, or about an order such as A-1001.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store/memory"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// shop is the tenant: the business the demo assistant works for.
const shop channel.TenantID = "tienda-sol"

func run(ctx context.Context, in io.Reader, out io.Writer) error {
	term := &terminal{out: out}
	turns := make(chan agent.TurnInfo, 1)
	a, err := agent.New(agent.Config{
		Store:        memory.New(nil),
		Model:        demoModel{},
		Channels:     []channel.Channel{term},
		Instructions: "You are the assistant of Tienda Sol, an alpaca-wool shop in Lima. Be brief and kind.",
		Tools:        []agent.Tool{orderStatusTool()},
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Hooks:        agent.Hooks{TurnDone: func(ti agent.TurnInfo) { turns <- ti }},
		// A terminal chat is one message at a time: answer at once rather
		// than wait for a burst to end.
		CoalesceWindow: -1,
	})
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- a.Run(runCtx) }()

	fmt.Fprintln(out, "wagent quickstart: chat with the Tienda Sol assistant (offline demo model).")
	fmt.Fprintln(out, "Ask about hours, shipping, returns, or an order such as A-1001. Ctrl-D to quit.")
	lines := bufio.NewScanner(in)
	for i := 1; ; i++ {
		fmt.Fprint(out, "you> ")
		if !lines.Scan() {
			break
		}
		if lines.Text() == "" {
			continue
		}
		msg := channel.Message{
			ID:   channel.MessageID("term-" + strconv.Itoa(i)),
			From: channel.Address{Channel: terminalChannel, Tenant: shop, User: "you"},
			Time: time.Now(),
			Type: channel.TypeText,
			Text: channel.Text(lines.Text()),
		}
		if err := a.Receive(ctx, channel.Inbound{Messages: []channel.Message{msg}}); err != nil {
			return err
		}
		select {
		case ti := <-turns:
			if ti.Outcome != agent.Answered {
				fmt.Fprintf(out, "bot> (no answer: %s)\n", ti.Reason)
			}
		case <-ctx.Done():
			return nil
		}
	}
	fmt.Fprintln(out)
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := a.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return lines.Err()
}

const terminalChannel channel.Name = "terminal"

// terminal is a channel.Channel that prints replies: everything a channel
// adapter must provide is a name and Send.
type terminal struct {
	mu  sync.Mutex
	out io.Writer
	n   int
}

func (t *terminal) Name() channel.Name { return terminalChannel }

func (t *terminal) Send(ctx context.Context, o channel.Outbound) (channel.SendResult, error) {
	if err := o.Validate(); err != nil {
		return channel.SendResult{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	fmt.Fprintf(t.out, "bot> %s\n", o.Text)
	return channel.SendResult{IDs: []channel.MessageID{channel.MessageID("reply-" + strconv.Itoa(t.n))}}, nil
}
