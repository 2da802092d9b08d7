package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// Errors returned by the agent.
var (
	// ErrClosed is returned by Receive and Run once Shutdown has been
	// called. It wraps channel.ErrClosed, so a channel handler answers its
	// provider with a retryable status.
	ErrClosed = fmt.Errorf("agent: shut down: %w", channel.ErrClosed)
	// ErrRunning is returned by a second call to Run.
	ErrRunning = errors.New("agent: already running")
)

// Agent answers a business's customers. It receives messages from channels
// (it is their [channel.Receiver]), records each one durably and exactly
// once, and answers them with the model, one message at a time per
// conversation and in the order they were recorded, many conversations in
// parallel.
//
// Create one with [New], start it with [Agent.Run] and stop it with
// [Agent.Shutdown]. An Agent is safe for concurrent use.
type Agent struct {
	cfg      Config
	log      *slog.Logger
	channels map[channel.Name]channel.Channel
	tools    map[string]Tool
	toolDefs []llm.Tool

	// queue holds conversations with work, at most once each: lanes tracks
	// which are queued or being processed.
	queue chan lane
	mu    sync.Mutex
	lanes map[lane]*laneInfo

	started    atomic.Bool
	closing    chan struct{} // closed by Shutdown
	closeOne   sync.Once
	rescan     chan struct{} // asks the recovery loop for an early scan
	overflowed atomic.Bool   // work was left to the recovery scan
	runCtx     context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup

	limits contactLimits
	leaser store.Leaser // nil unless Config.Instance is set
	// batcher records a turn's outcome on all its messages in one write;
	// nil when the store cannot.
	batcher store.ProcessingBatcher
	priv    privacyGates
	ops     operators // subscribers and the idle sweep (operator.go)
	n       counters
}

// New returns an agent configured by cfg, or an error naming every problem
// with cfg. It starts no goroutines; see [Agent.Run].
func New(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:      cfg,
		log:      cfg.Logger,
		channels: make(map[channel.Name]channel.Channel, len(cfg.Channels)),
		tools:    make(map[string]Tool, len(cfg.Tools)),
		queue:    make(chan lane, cfg.QueueSize),
		lanes:    make(map[lane]*laneInfo),
		closing:  make(chan struct{}),
		rescan:   make(chan struct{}, 1),
		limits:   contactLimits{perMinute: cfg.ContactLimit, m: make(map[lane]*contactLimit)},
	}
	for _, ch := range cfg.Channels {
		a.channels[ch.Name()] = ch
	}
	if cfg.Instance != "" {
		a.leaser, _ = store.Capability[store.Leaser](cfg.Store)
	}
	a.batcher, _ = store.Capability[store.ProcessingBatcher](cfg.Store)
	for _, t := range cfg.Tools {
		def := t.Definition()
		a.tools[def.Name] = t
		a.toolDefs = append(a.toolDefs, def)
	}
	a.addSupportTools()
	if !cfg.Handoff.DisableTool {
		a.toolDefs = append(a.toolDefs, handoffToolDef)
	}
	if a.priv, err = newPrivacyGates(cfg, a); err != nil {
		return nil, err
	}
	if cfg.Privacy.MinorTool {
		a.toolDefs = append(a.toolDefs, minorToolDef(a.priv.requests.MinorAge()))
	}
	return a, nil
}

// Run starts the workers and the recovery loop, and blocks until ctx is done
// or [Agent.Shutdown] completes. On start, and every RecoveryInterval, it
// picks up messages that were recorded but not processed (after a crash, or
// when the queue was full).
//
// Cancelling ctx stops the agent at once: turns in progress are abandoned
// and their messages stay recorded as pending, to be processed on the next
// start; Run then returns ctx.Err(). After Shutdown, Run returns nil.
func (a *Agent) Run(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return ErrRunning
	}
	select {
	case <-a.closing:
		return ErrClosed
	default:
	}
	// The goroutines are counted before the run context is published, so a
	// concurrent Shutdown that sees the context also waits for them.
	a.mu.Lock()
	a.runCtx, a.cancel = context.WithCancel(ctx)
	a.wg.Add(a.cfg.Workers + 1)
	a.mu.Unlock()
	for range a.cfg.Workers {
		go a.worker()
	}
	go a.recoveryLoop()

	select {
	case <-ctx.Done():
		a.cancel()
		a.wg.Wait()
		return ctx.Err()
	case <-a.closing:
		a.wg.Wait()
		return nil
	}
}

// Shutdown stops the agent gracefully: Receive refuses new input with
// [ErrClosed], workers take no new work, and Shutdown waits for the turns
// in progress to finish. Work not started stays recorded and resumes on the
// next start. If ctx is done first, the turns in progress are cancelled
// (their messages stay pending) and Shutdown returns ctx.Err() once the
// workers have stopped.
func (a *Agent) Shutdown(ctx context.Context) error {
	a.closeOne.Do(func() { close(a.closing) })
	a.stopTimers()
	a.mu.Lock()
	cancel := a.cancel
	a.mu.Unlock()
	if cancel == nil { // never ran
		return nil
	}
	done := make(chan struct{})
	go func() {
		a.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		a.releaseWaiting()
		cancel()
		return nil
	case <-ctx.Done():
		cancel()
		<-done
		a.releaseWaiting()
		return ctx.Err()
	}
}

// releaseWaiting gives up, once the workers have stopped, the leases of
// the conversations this instance queued or delayed but never drained, so
// that another instance takes them over at once instead of when the
// leases expire.
func (a *Agent) releaseWaiting() {
	if a.leaser == nil {
		return
	}
	a.mu.Lock()
	var waiting []lane
	for l, li := range a.lanes {
		if li.state == laneQueued || li.state == laneDelayed || li.state == laneLeft {
			waiting = append(waiting, l)
		}
	}
	a.mu.Unlock()
	for _, l := range waiting {
		a.giveUp(l)
	}
}

// Stats returns a snapshot of the agent's counters.
func (a *Agent) Stats() Stats {
	return Stats{
		Received:   a.n.received.Load(),
		Duplicates: a.n.duplicates.Load(),
		Statuses:   a.n.statuses.Load(),
		Answered:   a.n.answered.Load(),
		Skipped:    a.n.skipped.Load(),
		Failed:     a.n.failed.Load(),
		ModelCalls: a.n.modelCalls.Load(),
		ToolCalls:  a.n.toolCalls.Load(),
		ToolErrors: a.n.toolErrors.Load(),
		Sent:       a.n.sent.Load(),
		SendErrors: a.n.sendErrors.Load(),
		Overflows:  a.n.overflows.Load(),
		Throttled:  a.n.throttled.Load(),
		Retries:    a.n.retries.Load(),

		ConsentChanges:  a.n.consentChanges.Load(),
		PrivacyRequests: a.n.privacyRequests.Load(),
		Redacted:        a.n.redacted.Load(),
		Masked:          a.n.masked.Load(),
		Queued:          len(a.queue),
		Active:          int(a.n.activeTurns.Load()),
	}
}

// Receive implements [channel.Receiver]: it records every message of in
// (duplicates are recognized and not processed again), queues the new ones
// for processing, and applies every delivery status to the outbound record
// it reports on. When it returns nil, every message is durable.
func (a *Agent) Receive(ctx context.Context, in channel.Inbound) error {
	select {
	case <-a.closing:
		return ErrClosed
	default:
	}
	for _, m := range in.Messages {
		if err := a.receiveMessage(ctx, m); err != nil {
			return err
		}
	}
	for _, s := range in.Statuses {
		if err := a.receiveStatus(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

func (a *Agent) receiveMessage(ctx context.Context, m channel.Message) error {
	if r := a.priv.redactor; r != nil {
		var n int
		if m, n = maskInbound(r, m); n > 0 {
			a.n.masked.Add(1)
			defer a.privacyEvent(ctx, PrivacyInfo{Event: PrivacyMasked, Tenant: m.From.Tenant, Count: n})
		}
	}
	ap, err := a.cfg.Store.AppendInbound(ctx, m)
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "agent: recording inbound message failed",
			slog.Any(logkey.Address, m.From), slog.String(logkey.ProviderID, string(m.ID)), slog.Any(logkey.Error, err))
		return fmt.Errorf("agent: recording inbound message: %w", err)
	}
	if ap.Duplicate {
		a.n.duplicates.Add(1)
	} else {
		a.n.received.Add(1)
		a.enqueue(lane{tenant: ap.Message.Tenant, conv: ap.Message.Conversation}, time.Now())
	}
	a.log.LogAttrs(ctx, slog.LevelDebug, "agent: inbound message recorded",
		slog.String(logkey.Tenant, string(ap.Message.Tenant)),
		slog.String(logkey.Conversation, string(ap.Message.Conversation)),
		slog.Int64(logkey.Message, int64(ap.Message.ID)),
		slog.Bool(logkey.Duplicate, ap.Duplicate))
	if h := a.cfg.Hooks.Received; h != nil {
		h(ReceivedInfo{Tenant: ap.Message.Tenant, Channel: m.From.Channel, Conversation: ap.Message.Conversation, Message: ap.Message.ID, Duplicate: ap.Duplicate})
	}
	return nil
}

func (a *Agent) receiveStatus(ctx context.Context, s channel.Status) error {
	a.n.statuses.Add(1)
	u := store.DeliveryUpdate{ProviderID: s.MessageID, State: s.State, Time: s.Time}
	if id, ok := store.ParseCorrelation(s.Correlation); ok {
		u.ID = id
	}
	if len(s.Errors) > 0 {
		u.ErrorCode, u.ErrorTitle = s.Errors[0].Code, s.Errors[0].Title
	}
	rec, err := a.cfg.Store.UpdateDelivery(ctx, s.Recipient.Tenant, u)
	info := StatusInfo{Tenant: s.Recipient.Tenant, Channel: s.Recipient.Channel, Message: rec.ID, State: s.State, ErrorCode: u.ErrorCode}
	switch {
	case errors.Is(err, store.ErrNotFound):
		// A status for a message this agent did not send (sent by another
		// app on the same number, or erased since). Nothing to update.
		info.Message = 0
		a.log.LogAttrs(ctx, slog.LevelDebug, "agent: status for an unknown message",
			slog.String(logkey.Tenant, string(s.Recipient.Tenant)), slog.String(logkey.ProviderID, string(s.MessageID)))
	case err != nil:
		info.Err = err
		a.log.LogAttrs(ctx, slog.LevelWarn, "agent: recording delivery status failed",
			slog.String(logkey.Tenant, string(s.Recipient.Tenant)), slog.String(logkey.ProviderID, string(s.MessageID)), slog.Any(logkey.Error, err))
	}
	if h := a.cfg.Hooks.Status; h != nil {
		h(info)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("agent: recording delivery status: %w", err)
	}
	return nil
}
