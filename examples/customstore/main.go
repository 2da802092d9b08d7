package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
)

func main() {
	file := flag.String("file", filepath.Join(os.TempDir(), "wagent-customstore.jsonl"), "the journal file")
	flag.Parse()
	if err := run(context.Background(), *file, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "customstore:", err)
		os.Exit(1)
	}
}

// run does one round trip through an agent on the journal at path, then
// reopens it and prints the conversation it kept.
func run(ctx context.Context, path string, out io.Writer) error {
	j, err := Open(path)
	if err != nil {
		return err
	}
	web := channeltest.NewRecorder(channel.WebWidget) // stands in for the widget
	a, err := agent.New(agent.Config{
		Store:          j,
		Model:          llmtest.Echo{Prefix: "echo: "},
		Channels:       []channel.Channel{web},
		CoalesceWindow: -1, // one message: answer at once
		Logger:         slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		j.Close()
		return err
	}
	go a.Run(ctx)
	visitor := channel.Address{Channel: channel.WebWidget, Tenant: "tienda-sol", User: "visitor-1"}
	msg := channel.Message{
		ID:   channel.MessageID(fmt.Sprintf("m-%d", time.Now().UnixNano())),
		From: visitor, Type: channel.TypeText, Text: "hello, journal",
	}
	err = a.Receive(ctx, channel.Inbound{Messages: []channel.Message{msg}})
	if err == nil {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		var sent []channel.Outbound
		sent, err = web.Wait(wctx, 1)
		cancel()
		if err == nil {
			fmt.Fprintf(out, "reply: %s\n", sent[0].Text)
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := a.Shutdown(sctx); err == nil {
		err = serr
	}
	if cerr := j.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}

	// Reopen: the file is replayed into a fresh memory store.
	j, err = Open(path)
	if err != nil {
		return err
	}
	defer j.Close()
	conv, err := j.OpenConversation(ctx, visitor)
	if err != nil {
		return err
	}
	history, err := j.History(ctx, visitor.Tenant, conv.ID, store.HistoryQuery{})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "after reopening %s: %d records in the conversation\n", path, len(history))
	for _, m := range history {
		switch {
		case m.Inbound != nil:
			fmt.Fprintf(out, "  %s: %s\n", m.Role, m.Inbound.Text)
		case m.Outbound != nil:
			fmt.Fprintf(out, "  %s: %s (%s)\n", m.Role, m.Outbound.Text, m.Delivery.State)
		}
	}
	return nil
}
