// Package openai is an [llm.Provider] over the Chat Completions API of
// OpenAI and of the servers that speak it (Ollama, vLLM, gateways, Azure
// OpenAI), built on github.com/sashabaranov/go-openai.
//
//	p, err := openai.New(os.Getenv("OPENAI_API_KEY"), nil)
//	...
//	model := llm.Retry(p, nil)
//
// # Requests
//
// Request.System becomes a system message. Text parts are sent as text,
// images as image_url parts (a base64 data URL for Data, or the URL), PDF
// documents as file parts. Audio parts are transcribed first with the
// transcription endpoint (Options.TranscriptionModel, whisper-1 by default)
// and sent as their text, unless Options.AudioInput says the chat model
// takes WAV and MP3 audio itself.
//
// Tools are sent as functions with their JSON Schema as given. Tool-call
// ids are kept: each call of an assistant message is sent with its id, and
// each tool result as a tool message with the id of its call, so parallel
// calls are answered in one go. Chat Completions needs an id to link a
// result to its call, so synthesized ids (ToolCall.Synthetic) are sent
// too; the API does not check ids of the history. An error result is sent
// as {"error": content}. Reasoning parts and Part.Opaque state of the
// history are not sent back.
//
// A ResponseFormat with a Schema asks for structured outputs in strict mode:
// the schema is rewritten so that every object lists all its properties as
// required (the optional ones made nullable) and sets additionalProperties
// to false. Without a Schema, JSON mode is asked for, which OpenAI accepts
// only when the messages mention JSON.
//
// MaxOutputTokens is sent as max_completion_tokens. "stream" is always
// sent, false outside streams, for servers that otherwise stream by
// default.
//
// # Responses
//
// The finish reason is derived from the answer: a message with tool calls
// finishes with [llm.FinishToolCalls] even when the server says "stop"
// (Ollama); "content_filter" and a refusal finish with [llm.FinishBlocked],
// the refusal as the text. A tool call without an id (some compatible
// servers) gets one, with ToolCall.Synthetic set. Usage includes cached
// input and reasoning tokens.
//
// # Concurrency
//
// A [Provider] is safe for concurrent use. New starts nothing; calls use
// the HTTP client given in Options.
//
// # Errors
//
// Failures are [*llm.Error] values whose Provider is the provider's Name:
//
//   - HTTP 429, and the codes rate_limit_exceeded and insufficient_quota:
//     [llm.ErrRateLimited], with RetryAfter from the retry-after-ms or
//     Retry-After header or, failing those, the x-ratelimit-reset-requests
//     or -tokens header of the exhausted limit;
//   - HTTP 5xx, 408 and 409, a connection that fails, a stream that breaks
//     off, an unreadable answer: [llm.ErrUnavailable];
//   - the code context_length_exceeded, or a compatible server's message
//     saying the maximum context length was exceeded:
//     [llm.ErrContextTooLong];
//   - the codes content_filter, content_policy_violation and
//     invalid_prompt, and Azure's ResponsibleAIPolicyViolation:
//     [llm.ErrContentBlocked];
//   - HTTP 401 and 403, and the code invalid_api_key: [llm.ErrAuth];
//   - any other HTTP 4xx, and requests refused before they are sent (an
//     unsupported part, go-openai's checks of reasoning models):
//     [llm.ErrInvalidRequest].
//
// Error.Err is a [*VendorError] with the status, type, code and param of
// the API's error. The API's message is left out: it may quote the request
// (or the API key). When the context is done, calls return an error
// wrapping ctx.Err(), not classified as any sentinel. The adapter never
// retries, and neither does go-openai: wrap the provider in [llm.Retry].
//
// # Privacy
//
// Requests carry what customers wrote and sent; they go to the configured
// server only (audio to its transcription endpoint). The adapter keeps
// nothing after a call returns and logs nothing; errors hold no request or
// response content.
package openai
