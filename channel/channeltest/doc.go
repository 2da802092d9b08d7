// Package channeltest provides test doubles for code that uses channels.
//
// [Recorder] is an in-memory [github.com/wagent/wagent/channel.Channel] that
// records what it sends, the typing indicators and read marks it shows, and
// fails on demand. The agent's tests and benchmarks use it, and so can
// tests of host applications.
//
// # Concurrency
//
// A Recorder is safe for concurrent use. [Recorder.Wait] blocks without
// polling until enough messages were sent.
//
// # Errors
//
// Send returns what [github.com/wagent/wagent/channel.Outbound.Validate]
// returns for an invalid message, the context's error when it is done, and
// the failures scripted with [Recorder.FailNext].
package channeltest
