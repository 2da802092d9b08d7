// Package channel defines how wagent talks to messaging services: the
// channel-neutral message model and the [Channel] contract that the WhatsApp,
// web widget and Instagram adapters implement.
//
// Inbound, a channel's HTTP handler authenticates and parses what its
// provider delivers into [Message] and [Status] values and hands them to a
// [Receiver] (the agent) in an [Inbound] batch. Outbound, the agent calls
// [Channel.Send] with an [Outbound] message addressed to an [Address]:
// channel, tenant (the business) and user.
//
// Capabilities that not every channel has are separate interfaces found by
// type assertion: [ReadMarker], [TypingIndicator], [Windowed],
// [HumanWindowed], [MediaFetcher].
//
// # Concurrency
//
// Channels and receivers are used from many goroutines at once and must be
// safe for concurrent use. The value types in this package are not
// synchronized; do not modify one while another goroutine reads it.
//
// # Errors
//
// Failures are classified by the sentinels [ErrInvalidMessage],
// [ErrUnsupported], [ErrWindowClosed], [ErrRateLimited], [ErrUnavailable],
// [ErrAuth], [ErrUndeliverable], [ErrUncertain] and [ErrClosed]. Adapters
// return them wrapped
// in [*Error], which also carries the provider's code; use [errors.Is] to
// classify and [errors.As] for the detail. [Retryable] says whether trying
// again later may help.
//
// # Privacy
//
// Message text, user ids, phone numbers and profiles are personal data. Their
// types ([Text], [UserID], [Phone], [Profile], [Address]) implement
// [log/slog.LogValuer] and redact themselves, so logging a message's fields
// never writes what a customer wrote or who they are. Errors never contain
// them either.
//
// # Implementing an adapter
//
// An adapter provides a [Channel] (and usually an [net/http.Handler] that
// feeds a [Receiver]). It maps its provider's failures to the sentinels, uses
// [Outbound.Validate] before its own limit checks, and keeps messages to one
// address in order. The in-memory [github.com/wagent/wagent/channel/channeltest.Recorder]
// is the reference used by the agent's tests.
package channel
