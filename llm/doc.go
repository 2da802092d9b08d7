// Package llm defines the provider-neutral contract between wagent and
// language models: a [Provider] turns a [Request] (instructions, a
// conversation of typed [Part]s, [Tool]s, an optional JSON [ResponseFormat])
// into a [Response] (an assistant message, a [FinishReason], [Usage]).
//
// Adapters live in subpackages named after what they adapt (llm/openai,
// llm/gemini). The scripted fake, the echo provider and the conformance
// suite are in [github.com/wagent/wagent/llm/llmtest].
//
// Tool-call ids are kept end to end, and provider state that must be
// replayed verbatim, such as Gemini's thought signatures, travels on
// [Part.Opaque], so a conversation read back from a store replays exactly.
//
// # Concurrency
//
// Providers must be safe for concurrent use. Requests and responses are
// plain values: a Provider neither modifies a Request nor keeps it.
//
// # Errors
//
// Failures are [*Error] values classified into [ErrRateLimited],
// [ErrUnavailable], [ErrContextTooLong], [ErrContentBlocked],
// [ErrInvalidRequest] and [ErrAuth]; [Retryable] tells which are worth
// retrying or falling back on. Cancellation is reported as the context's
// error.
//
// # Privacy
//
// Requests carry what customers wrote. Providers must not log request or
// response content; the agent redacts before a request is built when
// configured to.
//
// # Implementing an adapter
//
// Implement [Provider] (and [Streamer] if the model streams), map the vendor's
// errors to the sentinels, and run [github.com/wagent/wagent/llm/llmtest.Run]
// against an httptest server that answers with recorded responses.
package llm
