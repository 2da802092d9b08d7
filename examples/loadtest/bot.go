package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// bot is a bot under test run as a child process (examples/whatsapp, or
// anything configured by the same environment variables). It is started
// with ADDR=127.0.0.1:0 the first time and on the same address when
// restarted, and found ready by the line "listening on http://ADDR" it
// prints.
type bot struct {
	name string
	argv []string
	env  []string // added to the loadtest's own environment
	logs io.Writer

	mu     sync.Mutex
	addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // of the last exit
	starts int
}

// errBotExited is returned when the bot stopped before it was ready.
var errBotExited = errors.New("loadtest: the bot exited before listening")

// start starts the bot and waits until it listens, at most timeout.
func (b *bot) start(ctx context.Context, timeout time.Duration) error {
	b.mu.Lock()
	addr := b.addr
	b.mu.Unlock()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	listening := make(chan string, 1)
	cmd := exec.Command(b.argv[0], b.argv[1:]...)
	// A stable instance name: restarted after a kill, the bot takes its
	// leased conversations back at once instead of when the leases expire.
	cmd.Env = append(append(append(os.Environ(), "INSTANCE="+b.name), b.env...), "ADDR="+addr)
	cmd.Stdout = &lineWriter{fn: func(line string) {
		if rest, ok := strings.CutPrefix(line, "listening on http://"); ok {
			host, _, _ := strings.Cut(rest, " ")
			select {
			case listening <- strings.TrimSuffix(host, "/"):
			default:
			}
		}
		fmt.Fprintf(b.logs, "%s: %s\n", b.name, line)
	}}
	cmd.Stderr = &lineWriter{fn: func(line string) { fmt.Fprintf(b.logs, "%s: %s\n", b.name, line) }}
	ownGroup(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("loadtest: starting %s: %w", b.name, err)
	}
	exited := make(chan struct{})
	b.mu.Lock()
	b.cmd, b.exited = cmd, exited
	b.starts++
	b.mu.Unlock()
	go func() {
		err := cmd.Wait()
		b.mu.Lock()
		b.err = err
		b.mu.Unlock()
		close(exited)
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case a := <-listening:
		b.mu.Lock()
		b.addr = a
		b.mu.Unlock()
		return nil
	case <-exited:
		return fmt.Errorf("%w (%s: %v)", errBotExited, b.name, b.exitErr())
	case <-timer.C:
		b.kill()
		return fmt.Errorf("loadtest: %s did not listen within %s", b.name, timeout)
	case <-ctx.Done():
		b.kill()
		return ctx.Err()
	}
}

func (b *bot) exitErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// url returns the bot's base URL.
func (b *bot) url() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return "http://" + b.addr
}

// kill kills the bot and its children at once (SIGKILL), as a crash or
// the OOM killer would, and waits for it to be gone.
func (b *bot) kill() {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.mu.Unlock()
	if cmd == nil {
		return
	}
	signalGroup(cmd, true)
	<-exited
}

// stop asks the bot to stop gracefully (SIGTERM), and kills it when it has
// not stopped within grace.
func (b *bot) stop(grace time.Duration) error {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return fmt.Errorf("loadtest: %s had exited: %v", b.name, b.exitErr())
	default:
	}
	signalGroup(cmd, false)
	select {
	case <-exited:
		return b.exitErr()
	case <-time.After(grace):
		b.kill()
		return fmt.Errorf("loadtest: %s did not stop within %s", b.name, grace)
	}
}

// running reports whether the bot's process is alive.
func (b *bot) running() bool {
	b.mu.Lock()
	exited := b.exited
	b.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

// lineWriter calls fn with each complete line written to it.
type lineWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(bytes.TrimRight(w.buf.Next(i+1), "\r\n"))
		w.fn(line)
	}
}

// syncWriter serializes writes to w, shared by several bots' logs.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
