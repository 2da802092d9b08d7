package agent

import (
	"sync/atomic"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// Hooks are optional callbacks on the agent's events, for metrics and
// tracing bridges (Prometheus, OpenTelemetry) that live outside the core, in
// the manner of net/http/httptrace.ClientTrace. Any of them may be nil.
//
// Hooks are called synchronously from the goroutine doing the work, possibly
// from many goroutines at once: they must be safe for concurrent use and
// return quickly. The values they receive hold ids, never message text or
// phone numbers.
type Hooks struct {
	// Received is called for each inbound message once it is recorded.
	Received func(ReceivedInfo)
	// Status is called for each delivery status received.
	Status func(StatusInfo)
	// ModelCall is called after each call to the model.
	ModelCall func(ModelCallInfo)
	// ToolCall is called after each tool call.
	ToolCall func(ToolCallInfo)
	// Sent is called after each attempt to send a reply.
	Sent func(SentInfo)
	// TurnDone is called when the handling of an inbound message ends.
	TurnDone func(TurnInfo)
	// Privacy is called on the events of the privacy gates: consent
	// keywords, requests made in chat and their verification, values
	// redacted before the model or masked before the store, minors
	// flagged, marketing templates refused.
	Privacy func(PrivacyInfo)
}

// ReceivedInfo describes a recorded inbound message.
type ReceivedInfo struct {
	Tenant       channel.TenantID
	Channel      channel.Name
	Conversation store.ConversationID
	Message      store.MessageID
	// Duplicate reports a redelivery of a message recorded before; it is
	// not processed again.
	Duplicate bool
}

// StatusInfo describes a delivery status.
type StatusInfo struct {
	Tenant  channel.TenantID
	Channel channel.Name
	// Message is the outbound record updated, zero when the status was
	// about a message this agent did not send.
	Message   store.MessageID
	State     channel.DeliveryState
	ErrorCode int
	Err       error
}

// ModelCallInfo describes one call to the model.
type ModelCallInfo struct {
	Provider     string
	Tenant       channel.TenantID
	Conversation store.ConversationID
	Step         int
	Duration     time.Duration
	Usage        llm.Usage
	FinishReason llm.FinishReason
	Err          error
}

// ToolCallInfo describes one tool call.
type ToolCallInfo struct {
	Tool         string
	Tenant       channel.TenantID
	Conversation store.ConversationID
	Duration     time.Duration
	// Err is the tool's error, also reported to the model.
	Err error
}

// SentInfo describes an attempt to send a reply.
type SentInfo struct {
	Tenant       channel.TenantID
	Channel      channel.Name
	Conversation store.ConversationID
	Message      store.MessageID
	Duration     time.Duration
	Err          error
}

// Outcome is how the handling of an inbound message ended.
type Outcome string

// Outcomes.
const (
	Answered Outcome = "answered"
	Skipped  Outcome = "skipped"
	Failed   Outcome = "failed"
	// Retrying: the turn failed for a reason that may pass; its messages
	// stay pending and are tried again after Config.RetryDelay.
	Retrying Outcome = "retrying"
)

// TurnInfo describes the end of the handling of one inbound message.
type TurnInfo struct {
	Tenant       channel.TenantID
	Conversation store.ConversationID
	// Message is the inbound record answered: the latest of the turn when
	// several messages were coalesced.
	Message store.MessageID
	// Messages is how many inbound messages the turn handled.
	Messages int
	Outcome  Outcome
	// Reason is a short machine-readable cause for skipped and failed
	// turns, as recorded in store.Processing.Reason.
	Reason   string
	Steps    int
	Usage    llm.Usage
	Duration time.Duration
	Err      error
	// Intent and Sentiment are the turn's tags when Config.Intents is
	// enabled and the turn was tagged (the extracted values, personal
	// data, are left to the store and the routing rules).
	Intent    string
	Sentiment store.Sentiment
}

// Stats is a snapshot of the agent's counters since New.
type Stats struct {
	Received   int64 // inbound messages recorded, duplicates excluded
	Duplicates int64 // redeliveries recognized and not processed again
	Statuses   int64 // delivery statuses received
	Answered   int64 // turns that produced a reply
	Skipped    int64 // turns skipped by a gate (human owner, objection)
	Failed     int64 // turns that failed
	ModelCalls int64
	ToolCalls  int64
	ToolErrors int64 // tool calls that returned an error to the model
	Sent       int64 // replies accepted by a channel
	SendErrors int64 // replies a channel refused or failed to send
	// Throttled counts messages not answered because their contact went
	// over Config.ContactLimit.
	Throttled int64
	// Retries counts turns that failed for a reason that may pass and whose
	// messages were left pending for another attempt.
	Retries int64
	// Overflows counts conversations that found the queue full; their
	// messages stayed recorded and were left to the recovery scan.
	Overflows int64
	// ConsentChanges counts consent decisions made with chat keywords.
	ConsentChanges int64
	// PrivacyRequests counts data-subject requests made in chat.
	PrivacyRequests int64
	// Redacted counts values replaced by placeholders before the model.
	Redacted int64
	// Masked counts inbound messages stored with values masked.
	Masked int64
	// Queued is the number of conversations waiting for a worker, Active
	// the number being processed, at the time of the snapshot.
	Queued int
	Active int
}

type counters struct {
	received, duplicates, statuses           atomic.Int64
	answered, skipped, failed                atomic.Int64
	modelCalls, toolCalls, toolErrors        atomic.Int64
	sent, sendErrors, overflows, activeTurns atomic.Int64
	throttled, retries                       atomic.Int64
	consentChanges, privacyRequests          atomic.Int64
	redacted, masked                         atomic.Int64
}
