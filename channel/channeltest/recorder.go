package channeltest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/wagent/wagent/channel"
)

// Recorder is an in-memory [channel.Channel] that records what it is asked
// to send. It also implements [channel.TypingIndicator] and
// [channel.ReadMarker], recording those calls too. Failures can be scripted
// with [Recorder.FailNext].
//
// A Recorder is safe for concurrent use.
type Recorder struct {
	name channel.Name

	mu      sync.Mutex
	sent    []channel.Outbound
	typing  []Signal
	reads   []Signal
	fail    []error
	ids     int
	changed chan struct{} // closed and replaced whenever something is recorded
}

// Signal is a recorded typing indicator or read mark.
type Signal struct {
	To        channel.Address
	MessageID channel.MessageID
}

var (
	_ channel.Channel         = (*Recorder)(nil)
	_ channel.TypingIndicator = (*Recorder)(nil)
	_ channel.ReadMarker      = (*Recorder)(nil)
)

// NewRecorder returns a Recorder for the channel called name.
func NewRecorder(name channel.Name) *Recorder {
	return &Recorder{name: name, changed: make(chan struct{})}
}

// Name implements [channel.Channel].
func (r *Recorder) Name() channel.Name { return r.name }

// Send implements [channel.Channel]. It validates out with
// [channel.Outbound.Validate], refuses addresses of other channels, returns
// the next scripted failure if any, and otherwise records out and returns a
// fresh provider id ("out-1", "out-2", ...).
func (r *Recorder) Send(ctx context.Context, out channel.Outbound) (channel.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return channel.SendResult{}, err
	}
	if err := out.Validate(); err != nil {
		return channel.SendResult{}, err
	}
	if out.To.Channel != r.name {
		return channel.SendResult{}, fmt.Errorf("channeltest: address of channel %q sent to %q: %w", out.To.Channel, r.name, channel.ErrInvalidMessage)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fail) > 0 {
		err := r.fail[0]
		r.fail = r.fail[1:]
		return channel.SendResult{}, err
	}
	r.ids++
	r.sent = append(r.sent, out)
	r.notifyLocked()
	return channel.SendResult{IDs: []channel.MessageID{channel.MessageID("out-" + strconv.Itoa(r.ids))}}, nil
}

// Typing implements [channel.TypingIndicator].
func (r *Recorder) Typing(ctx context.Context, to channel.Address, id channel.MessageID) error {
	return r.signal(ctx, &r.typing, to, id)
}

// MarkRead implements [channel.ReadMarker].
func (r *Recorder) MarkRead(ctx context.Context, to channel.Address, id channel.MessageID) error {
	return r.signal(ctx, &r.reads, to, id)
}

func (r *Recorder) signal(ctx context.Context, list *[]Signal, to channel.Address, id channel.MessageID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	*list = append(*list, Signal{To: to, MessageID: id})
	r.notifyLocked()
	return nil
}

func (r *Recorder) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// FailNext makes the next len(errs) sends fail with errs, in order.
func (r *Recorder) FailNext(errs ...error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = append(r.fail, errs...)
}

// Sent returns the messages sent so far, in order.
func (r *Recorder) Sent() []channel.Outbound {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.sent)
}

// Typings returns the typing indicators shown so far, in order.
func (r *Recorder) Typings() []Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.typing)
}

// Reads returns the read marks made so far, in order.
func (r *Recorder) Reads() []Signal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reads)
}

// Wait blocks until at least n messages have been sent, and returns them
// all, or until ctx is done.
func (r *Recorder) Wait(ctx context.Context, n int) ([]channel.Outbound, error) {
	var sent []channel.Outbound
	err := r.waitFor(ctx, func() bool {
		if len(r.sent) < n {
			return false
		}
		sent = slices.Clone(r.sent)
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("channeltest: waiting for %d sent messages: %w", n, err)
	}
	return sent, nil
}

// WaitTypings blocks until at least n typing indicators have been shown, or
// until ctx is done.
func (r *Recorder) WaitTypings(ctx context.Context, n int) error {
	if err := r.waitFor(ctx, func() bool { return len(r.typing) >= n }); err != nil {
		return fmt.Errorf("channeltest: waiting for %d typing indicators: %w", n, err)
	}
	return nil
}

// waitFor blocks until done, called with r.mu held, reports true.
func (r *Recorder) waitFor(ctx context.Context, done func() bool) error {
	for {
		r.mu.Lock()
		if done() {
			r.mu.Unlock()
			return nil
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Count returns how many messages have been sent.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}
