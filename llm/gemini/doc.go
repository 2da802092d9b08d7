// Package gemini is an [llm.Provider] and [llm.Streamer] over the Gemini
// API's generateContent and streamGenerateContent methods, built on
// google.golang.org/genai, Google's official Go SDK. (Its predecessor,
// github.com/google/generative-ai-go, is deprecated and cannot carry the
// function-call ids and thought signatures current models require.)
//
//	p, err := gemini.New(ctx, apiKey, &gemini.Options{Model: "gemini-2.5-flash"})
//	...
//	model := llm.Retry(p, nil)
//
// Options.BaseURL points the provider at a gateway or a proxy (a path
// prefix is kept); the API key is sent in the x-goog-api-key header. The
// provider reads no environment variable: the ones the SDK would otherwise
// read (GEMINI_API_KEY, GOOGLE_API_KEY, GOOGLE_GEMINI_BASE_URL,
// GOOGLE_GENAI_USE_VERTEXAI...) are overridden by explicit settings.
//
// # Requests
//
// Request.System becomes the systemInstruction, apart from the contents.
// User messages are "user" contents: text parts as text, images, audio and
// documents (PDF) with Data as inlineData (base64 on the wire), with a URL
// as fileData (a Files API URI). Assistant messages are "model" contents.
// All tool results of one turn go in one "user" content, one
// functionResponse{id, name, response} per result, also when the caller
// splits them over several tool messages; a result without a Name takes its
// call's. Gemini wants an object as the response: a JSON object result is
// sent as it is, any other result as {"output": result}, and an error
// result as {"error": content}. Content that is not JSON is sent as a
// string.
//
// Tool-call ids are kept end to end. A call the model made without an id
// gets one, with ToolCall.Synthetic set, and that id is never sent back:
// the call and its result are then sent without id and matched by order.
// Thought signatures arrive on parts (on function calls, on text) and are
// kept in Part.Opaque with Provider "gemini"; they survive a JSON round
// trip through any store and are replayed byte for byte. Reasoning parts
// are sent back only when they carry a Gemini signature; other providers'
// reasoning and Opaque state are left out.
//
// All tools go in one tool of functionDeclarations, their Parameters as
// parametersJsonSchema. A ResponseFormat asks for responseMimeType
// "application/json", with its Schema as responseJsonSchema. "$schema" is
// stripped from every schema and subschema, which Gemini rejects.
// ToolChoice maps to functionCallingConfig mode NONE and ANY;
// MaxOutputTokens and Temperature to generationConfig.
//
// # Responses
//
// The finish reason is derived from the answer, as Gemini says STOP on
// function calls: an answer with calls finishes with [llm.FinishToolCalls];
// MAX_TOKENS with [llm.FinishLength]; SAFETY, RECITATION, BLOCKLIST,
// PROHIBITED_CONTENT, SPII and the image filters with [llm.FinishBlocked];
// STOP with [llm.FinishStop]; anything else (MALFORMED_FUNCTION_CALL,
// CONTINUATION...) with [llm.FinishOther]. Thought summaries become
// reasoning parts. Usage maps promptTokenCount (plus
// toolUsePromptTokenCount) to InputTokens, candidatesTokenCount plus
// thoughtsTokenCount to OutputTokens, cachedContentTokenCount to
// CachedInputTokens and thoughtsTokenCount to ReasoningTokens.
//
// Streams yield text and reasoning as they arrive and end with the merged
// Response: text of consecutive chunks joined, function calls of separate
// chunks all kept, the last chunk's usage.
//
// # Concurrency
//
// A [Provider] is safe for concurrent use. New starts nothing and makes no
// network call; calls use the HTTP client given in Options.
//
// # Errors
//
// Failures are [*llm.Error] values whose Provider is "gemini" and whose
// Code is the API's status ("RESOURCE_EXHAUSTED"):
//
//   - HTTP 429, RESOURCE_EXHAUSTED: [llm.ErrRateLimited], with RetryAfter
//     from the google.rpc.RetryInfo retryDelay or, failing that, a
//     Retry-After header;
//   - HTTP 5xx, 408 and 409, a connection that fails, a stream that breaks
//     off or ends without a finish reason, an answer without candidates:
//     [llm.ErrUnavailable];
//   - HTTP 400 saying the input token count exceeds the maximum:
//     [llm.ErrContextTooLong];
//   - a prompt refused with promptFeedback.blockReason:
//     [llm.ErrContentBlocked], the reason as Code (an answer stopped by a
//     filter is a response with [llm.FinishBlocked] instead, as in
//     package openai);
//   - HTTP 401 and 403, UNAUTHENTICATED, PERMISSION_DENIED, and an invalid
//     API key (ErrorInfo reason API_KEY_INVALID): [llm.ErrAuth];
//   - any other HTTP 4xx, and requests refused before they are sent:
//     [llm.ErrInvalidRequest].
//
// Error.Err is a [*VendorError] with the HTTP status and the API's status.
// The API's message is left out: it may quote the request. When the
// context is done, calls return an error wrapping ctx.Err(), not
// classified as any sentinel. The adapter never retries, and neither does
// the SDK: its HTTP retries are off (HTTPOptions.RetryOptions nil), and so
// is its automatic continuation (GenerateContentConfig.AutomaticContinuation
// false), which would send a request again or reconnect a stream by itself.
// Wrap the provider in [llm.Retry].
//
// # Privacy
//
// Requests carry what customers wrote and sent; they go to the configured
// base URL only. The adapter keeps nothing after a call returns and logs
// nothing; errors hold no request or response content. The SDK itself
// logs, with the standard log package, a warning when both GOOGLE_API_KEY
// and GEMINI_API_KEY are set, and stream read errors; neither carries
// content.
package gemini
