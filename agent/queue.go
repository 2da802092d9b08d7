package agent

import (
	"context"
	"log/slog"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/store"
)

// How work flows: Receive records a message and enqueues its conversation
// (a lane). A lane is in the queue at most once. With coalescing on, a lane
// first waits, delayed by a timer, until the customer has paused for
// CoalesceWindow, so that messages sent in a burst are answered together;
// the wait holds no worker. A worker then takes the lane from the queue and
// drains it: it processes the conversation's pending messages, in order,
// until none is left. Work that arrives while a lane is being drained marks
// it dirty, and the lane is enqueued again when the worker lets go. The
// store is the source of truth: the queue only says where to look, and
// whatever does not fit in it is found again by the recovery scan.

// lane names a conversation's work.
type lane struct {
	tenant channel.TenantID
	conv   store.ConversationID
}

type laneState uint8

const (
	laneDelayed laneState = iota + 1 // waiting for the customer to pause
	laneQueued                       // waiting in the queue for a worker
	laneRunning                      // a worker is draining it
	laneDirty                        // being drained, and more work arrived
	// laneLeft: dropped at shutdown without being drained; this instance
	// may hold its lease (a recovery scan took it), which Shutdown gives
	// up (releaseWaiting).
	laneLeft
)

type laneInfo struct {
	state laneState
	// first and last are when the first and the latest message of the
	// coming turn arrived; zero for work found by the recovery scan.
	first, last time.Time
	timer       *time.Timer // set while delayed
}

// maxCoalesceWaits bounds how long a customer who keeps typing delays
// their answer: at most this many windows after their first message.
const maxCoalesceWaits = 4

// enqueue makes sure the conversation's work will be processed. arrived is
// when the message that caused it was received, zero for work found in the
// store by the recovery scan (which is not delayed). It reports false when
// the queue was full and the work is left to the recovery scan.
func (a *Agent) enqueue(l lane, arrived time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	li := a.lanes[l]
	switch {
	case li == nil || li.state == laneLeft:
		if a.cfg.CoalesceWindow > 0 && !arrived.IsZero() {
			li = &laneInfo{state: laneDelayed, first: arrived, last: arrived}
			li.timer = time.AfterFunc(time.Until(arrived.Add(a.cfg.CoalesceWindow)), func() { a.ripen(l) })
			a.lanes[l] = li
			return true
		}
		return a.pushLocked(l, &laneInfo{state: laneQueued})
	case li.state == laneDelayed:
		if arrived.After(li.last) {
			li.last = arrived // the timer looks again when it fires
		}
	case li.state == laneRunning || li.state == laneDirty:
		li.state = laneDirty
		if arrived.After(li.last) {
			li.last = arrived
		}
	}
	return true
}

// pushLocked puts l in the queue with state li, or leaves its work to the
// recovery scan when the queue is full and reports false. a.mu must be
// held.
func (a *Agent) pushLocked(l lane, li *laneInfo) bool {
	select {
	case a.queue <- l:
		li.state = laneQueued
		a.lanes[l] = li
		return true
	default:
		delete(a.lanes, l)
		a.n.overflows.Add(1)
		a.overflowed.Store(true)
		return false
	}
}

// ripen queues a delayed lane once the customer has paused for
// CoalesceWindow, or once they have kept writing for maxCoalesceWaits
// windows.
func (a *Agent) ripen(l lane) {
	a.mu.Lock()
	defer a.mu.Unlock()
	li := a.lanes[l]
	if li == nil || li.state != laneDelayed {
		return
	}
	if a.stopping() {
		li.state, li.timer = laneLeft, nil
		return
	}
	w := a.cfg.CoalesceWindow
	due := li.last.Add(w)
	if limit := li.first.Add(maxCoalesceWaits * w); due.After(limit) {
		due = limit
	}
	if wait := time.Until(due); wait > 0 {
		li.timer.Reset(wait)
		return
	}
	li.timer = nil
	a.pushLocked(l, li)
}

// stopTimers cancels the delays of lanes still waiting, at shutdown; their
// messages stay pending in the store, and their leases, which a recovery
// scan may have taken, are given up by releaseWaiting.
func (a *Agent) stopTimers() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, li := range a.lanes {
		if li.state == laneDelayed {
			li.timer.Stop()
			li.state, li.timer = laneLeft, nil
		}
	}
}

// worker processes queued conversations until the agent stops.
func (a *Agent) worker() {
	defer a.wg.Done()
	for {
		select {
		case <-a.closing:
			return
		case <-a.runCtx.Done():
			return
		case l := <-a.queue:
			if a.stopping() {
				// The lane stays queued: Shutdown gives up its lease
				// (releaseWaiting) so another instance takes it at once.
				return
			}
			a.drain(l)
			a.release(l)
		}
	}
}

func (a *Agent) stopping() bool {
	select {
	case <-a.closing:
		return true
	case <-a.runCtx.Done():
		return true
	default:
		return false
	}
}

// pendingBatch is how many pending messages of one conversation a worker
// loads at a time, and the most one coalesced turn answers.
const pendingBatch = 16

// drain processes the pending messages of one conversation, in order, until
// none is left, the agent stops, a message must wait for a retry, or the
// store fails (then the recovery scan comes back to it). With coalescing on,
// the pending messages are answered together in one turn.
func (a *Agent) drain(l lane) {
	a.mu.Lock()
	if li := a.lanes[l]; li != nil {
		li.state = laneRunning
	} else {
		a.lanes[l] = &laneInfo{state: laneRunning}
	}
	a.mu.Unlock()
	var last store.MessageID // messages up to here were handled by this drain
	if a.leaser != nil {
		if !a.lease(l) {
			return // another instance is on it
		}
		defer a.unlease(l, &last)
	}
	for {
		if a.leaser != nil && last != 0 && !a.lease(l) {
			return // the lease was lost: another instance took over
		}
		pending, err := a.cfg.Store.Pending(a.runCtx, store.PendingQuery{Tenant: l.tenant, Conversation: l.conv, Limit: pendingBatch})
		if err != nil {
			if a.runCtx.Err() == nil {
				a.log.LogAttrs(a.runCtx, slog.LevelWarn, "agent: loading pending messages failed",
					slog.String(logkey.Tenant, string(l.tenant)), slog.String(logkey.Conversation, string(l.conv)), slog.Any(logkey.Error, err))
			}
			return
		}
		i := 0
		for i < len(pending) && pending[i].ID <= last {
			i++ // handled already, but its state could not be saved
		}
		fresh := pending[i:]
		if len(fresh) > 0 && !a.retryDue(fresh[0]) {
			last = max(last, fresh[len(fresh)-1].ID) // seen; the scan brings it back
			return
		}
		if len(fresh) == 0 {
			return
		}
		if a.cfg.CoalesceWindow > 0 {
			if a.stopping() || a.turn(fresh) {
				return
			}
			last = fresh[len(fresh)-1].ID
		} else {
			for _, m := range fresh {
				if a.stopping() || a.turn([]store.Message{m}) {
					return // a message waiting for a retry holds the later ones back
				}
				last = m.ID
			}
		}
		if len(pending) < pendingBatch {
			return
		}
	}
}

// release forgets a lane once its worker is done with it. If work arrived
// meanwhile (the lane is dirty), the lane is enqueued again, delayed from
// the latest arrival when coalescing.
//
// A lane made dirty by a recovery scan may be leased again by this
// instance; when the agent is stopping it is left (laneLeft) for Shutdown
// to give that lease up.
func (a *Agent) release(l lane) {
	a.mu.Lock()
	li := a.lanes[l]
	stopping := a.stopping()
	if li != nil && li.state == laneDirty && stopping {
		li.state = laneLeft
	} else {
		delete(a.lanes, l)
	}
	a.mu.Unlock()
	if li != nil && li.state == laneDirty && !stopping {
		a.enqueue(l, li.last)
	}
	if a.overflowed.Load() && len(a.queue) <= cap(a.queue)/2 {
		select {
		case a.rescan <- struct{}{}:
		default:
		}
	}
}

// recoveryLoop looks for recorded but unprocessed messages on start, every
// RecoveryInterval, and when asked after an overflow, and queues their
// conversations. It also forgets idle per-contact limits.
func (a *Agent) recoveryLoop() {
	defer a.wg.Done()
	t := time.NewTicker(a.cfg.RecoveryInterval)
	defer t.Stop()
	for {
		a.scan()
		select {
		case <-a.closing:
			return
		case <-a.runCtx.Done():
			return
		case <-t.C:
			a.limits.sweep(time.Now())
			a.sweepIdle(a.runCtx, time.Now())
		case <-a.rescan:
		}
	}
}

func (a *Agent) scan() {
	a.overflowed.Store(false)
	if a.leaser != nil {
		a.scanLeased()
		return
	}
	pending, err := a.cfg.Store.Pending(a.runCtx, store.PendingQuery{Limit: a.cfg.QueueSize})
	if err != nil {
		if a.runCtx.Err() == nil {
			a.log.LogAttrs(a.runCtx, slog.LevelWarn, "agent: scanning for pending messages failed", slog.Any(logkey.Error, err))
		}
		return
	}
	for _, m := range pending {
		a.enqueue(lane{tenant: m.Tenant, conv: m.Conversation}, time.Time{})
	}
	if len(pending) == a.cfg.QueueSize {
		// There may be more: scan again once the queue has room.
		a.overflowed.Store(true)
	}
}

// retryDue reports whether m may be processed now: always on its first
// attempt; after a failure that may pass, once RetryDelay has elapsed,
// doubling with each attempt up to maxRetryDelay.
func (a *Agent) retryDue(m store.Message) bool {
	n := m.Processing.Attempts
	if n == 0 {
		return true
	}
	delay := a.cfg.RetryDelay
	for i := 1; i < n && delay < maxRetryDelay; i++ {
		delay *= 2
	}
	return time.Since(m.Processing.UpdatedAt) >= min(delay, maxRetryDelay)
}

// maxRetryDelay caps the wait between attempts at a message.
const maxRetryDelay = 30 * time.Minute

// leaseFor is how long a conversation stays leased to this instance without
// renewal: longer than a turn, so that a live instance never loses a lease
// in the middle of one. It is renewed before every turn.
func (a *Agent) leaseFor() time.Duration { return a.cfg.TurnTimeout + time.Minute }

// lease takes or renews this instance's lease on l.
func (a *Agent) lease(l lane) bool {
	ok, err := a.leaser.Lease(a.runCtx, l.tenant, l.conv, a.cfg.Instance, a.leaseFor())
	if err != nil && a.runCtx.Err() == nil {
		a.log.LogAttrs(a.runCtx, slog.LevelWarn, "agent: leasing a conversation failed",
			slog.String(logkey.Tenant, string(l.tenant)), slog.String(logkey.Conversation, string(l.conv)), slog.Any(logkey.Error, err))
	}
	return ok && err == nil
}

// unlease releases this instance's lease on l. A message that arrived at
// another instance while this one held the lease was left to this one;
// if the drain ended before seeing it (its id is above *last), l is
// enqueued again here.
func (a *Agent) unlease(l lane, last *store.MessageID) {
	a.giveUp(l)
	if a.stopping() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.runCtx), persistTimeout)
	defer cancel()
	pending, err := a.cfg.Store.Pending(ctx, store.PendingQuery{Tenant: l.tenant, Conversation: l.conv, Limit: pendingBatch})
	if err == nil && len(pending) > 0 && pending[len(pending)-1].ID > *last {
		a.enqueue(l, time.Time{})
	}
}

// giveUp releases this instance's lease on l, which it will not drain.
func (a *Agent) giveUp(l lane) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(a.runCtx), persistTimeout)
	defer cancel()
	if err := a.leaser.Release(ctx, l.tenant, l.conv, a.cfg.Instance); err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "agent: releasing a conversation failed",
			slog.String(logkey.Tenant, string(l.tenant)), slog.String(logkey.Conversation, string(l.conv)), slog.Any(logkey.Error, err))
	}
}

// scanLeased is the recovery scan of an instance among several: it leases
// conversations with pending work that no live instance holds, as many as
// the queue has room for, and queues them.
func (a *Agent) scanLeased() {
	room := cap(a.queue) - len(a.queue)
	if room <= 0 {
		a.overflowed.Store(true)
		return
	}
	leases, err := a.leaser.LeasePending(a.runCtx, a.cfg.Instance, a.leaseFor(), room)
	if err != nil {
		if a.runCtx.Err() == nil {
			a.log.LogAttrs(a.runCtx, slog.LevelWarn, "agent: leasing pending conversations failed", slog.Any(logkey.Error, err))
		}
		return
	}
	for _, ls := range leases {
		l := lane{tenant: ls.Tenant, conv: ls.Conversation}
		if !a.enqueue(l, time.Time{}) {
			// The queue filled meanwhile: give the lease back rather than
			// hold the conversation, undrained, until the lease expires.
			a.giveUp(l)
		}
	}
	if len(leases) == room {
		a.overflowed.Store(true)
	}
}
