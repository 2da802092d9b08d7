package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

// Journal is a store.ConversationStore kept in one JSON-lines file. The
// reference memory store does all the work; Journal writes each change to
// the file before applying it (a write-ahead log), and Open replays the
// file into a fresh memory store. The memory store is deterministic (ids
// from counters, times from its clock, which Journal sets to the time of
// each change), so replaying the same changes rebuilds the same state.
//
// It is safe for concurrent use: one mutex orders the changes, so that the
// file's order is the order they were applied. Reads go to the memory
// store directly.
//
// It implements no optional capability (store.Eraser, store.Purger...):
// an append-only log keeps what was said in its earlier lines, so erasure
// would need the file rewritten. A store that wraps another must forward
// each capability it supports explicitly; embedding a concrete store would
// promote its Erase and Purge and let them bypass the log.
type Journal struct {
	mu     sync.Mutex
	mem    *memory.Store
	f      *os.File
	at     time.Time // the time of the change being applied: mem's clock
	closed bool
}

var _ store.ConversationStore = (*Journal)(nil)

// change is one line of the file: an operation and its arguments.
type change struct {
	Op       string                `json:"op"`
	At       time.Time             `json:"at"`
	Inbound  *channel.Message      `json:"inbound,omitempty"`
	Record   *store.Message        `json:"record,omitempty"`
	Tenant   channel.TenantID      `json:"tenant,omitempty"`
	ID       store.MessageID       `json:"id,omitempty"`
	Conv     store.ConversationID  `json:"conv,omitempty"`
	Process  *store.Processing     `json:"process,omitempty"`
	Delivery *store.DeliveryUpdate `json:"delivery,omitempty"`
	Address  *channel.Address      `json:"address,omitempty"`
	Handoff  *store.Handoff        `json:"handoff,omitempty"`
}

// Open opens the journal at path, creating it when missing, and replays
// it. A last line cut short by a crash is dropped: its change was never
// acknowledged.
func Open(path string) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{f: f}
	j.mem = memory.New(&memory.Options{Now: func() time.Time { return j.at }})
	r := bufio.NewReader(f)
	var good int64
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) { // the end, or a last line torn by a crash
			break
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("journal: reading: %w", err)
		}
		var c change
		if err := json.Unmarshal(line, &c); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal: line %d: %w", n, err)
		}
		j.apply(context.Background(), c) // applied once before: the outcome is the same
		good += int64(len(line))
	}
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: %w", err)
	}
	return j, nil
}

// Close closes the file and the memory store.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil
	}
	j.closed = true
	j.mem.Close()
	return j.f.Close()
}

// change writes c to the file, durably, and applies it. The mutex makes the
// file's order the order of application.
func (j *Journal) change(ctx context.Context, c change) (any, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return nil, fmt.Errorf("journal: %w", store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	c.At = time.Now().UTC().Round(0)
	line, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("journal: %w: %v", store.ErrInvalid, err)
	}
	if _, err := j.f.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("journal: writing: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return nil, fmt.Errorf("journal: writing: %w", err)
	}
	return j.apply(ctx, c)
}

// apply runs c on the memory store at c's time. A change that fails (an
// invalid argument, a record not found) changes nothing, also on replay.
func (j *Journal) apply(ctx context.Context, c change) (any, error) {
	j.at = c.At
	switch c.Op {
	case "inbound":
		return j.mem.AppendInbound(ctx, *c.Inbound)
	case "append":
		return j.mem.Append(ctx, *c.Record)
	case "processing":
		return nil, j.mem.SetProcessing(ctx, c.Tenant, c.ID, *c.Process)
	case "delivery":
		return j.mem.UpdateDelivery(ctx, c.Tenant, *c.Delivery)
	case "open":
		return j.mem.OpenConversation(ctx, *c.Address)
	case "handoff":
		return j.mem.SetHandoff(ctx, c.Tenant, c.Conv, *c.Handoff)
	}
	return nil, fmt.Errorf("journal: unknown change %q: %w", c.Op, store.ErrInvalid)
}

// result returns what apply returned as a T.
func result[T any](v any, err error) (T, error) {
	t, _ := v.(T)
	return t, err
}

// The changes go through the file.

// AppendInbound records an inbound message: see store.ConversationStore.
func (j *Journal) AppendInbound(ctx context.Context, m channel.Message) (store.Appended, error) {
	return result[store.Appended](j.change(ctx, change{Op: "inbound", Inbound: &m}))
}

// Append records a reply, tool results or an operator's message.
func (j *Journal) Append(ctx context.Context, m store.Message) (store.Message, error) {
	return result[store.Message](j.change(ctx, change{Op: "append", Record: &m}))
}

// SetProcessing replaces the processing state of an inbound record.
func (j *Journal) SetProcessing(ctx context.Context, tenant channel.TenantID, id store.MessageID, p store.Processing) error {
	_, err := j.change(ctx, change{Op: "processing", Tenant: tenant, ID: id, Process: &p})
	return err
}

// UpdateDelivery merges a delivery status into an outbound record.
func (j *Journal) UpdateDelivery(ctx context.Context, tenant channel.TenantID, u store.DeliveryUpdate) (store.Message, error) {
	return result[store.Message](j.change(ctx, change{Op: "delivery", Tenant: tenant, Delivery: &u}))
}

// OpenConversation returns the conversation with addr, creating it.
func (j *Journal) OpenConversation(ctx context.Context, addr channel.Address) (store.Conversation, error) {
	return result[store.Conversation](j.change(ctx, change{Op: "open", Address: &addr}))
}

// SetHandoff replaces who owns a conversation.
func (j *Journal) SetHandoff(ctx context.Context, tenant channel.TenantID, id store.ConversationID, h store.Handoff) (store.Conversation, error) {
	return result[store.Conversation](j.change(ctx, change{Op: "handoff", Tenant: tenant, Conv: id, Handoff: &h}))
}

// The reads go to the memory store.

// Message returns a record.
func (j *Journal) Message(ctx context.Context, tenant channel.TenantID, id store.MessageID) (store.Message, error) {
	return j.mem.Message(ctx, tenant, id)
}

// History returns a window of a conversation's records.
func (j *Journal) History(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, q store.HistoryQuery) ([]store.Message, error) {
	return j.mem.History(ctx, tenant, conv, q)
}

// Pending returns the inbound records not yet processed.
func (j *Journal) Pending(ctx context.Context, q store.PendingQuery) ([]store.Message, error) {
	return j.mem.Pending(ctx, q)
}

// Conversation returns a conversation.
func (j *Journal) Conversation(ctx context.Context, tenant channel.TenantID, id store.ConversationID) (store.Conversation, error) {
	return j.mem.Conversation(ctx, tenant, id)
}

// Subject returns the data subject known at addr.
func (j *Journal) Subject(ctx context.Context, addr channel.Address) (store.Subject, error) {
	return j.mem.Subject(ctx, addr)
}
