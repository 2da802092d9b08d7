// Package meta holds what the adapters for Meta's messaging platforms
// (WhatsApp Cloud API, Instagram Messaging) share: the webhook signature
// (X-Hub-Signature-256) and verification handshake, the Graph API's error
// body, appsecret_proof, and retries with backoff and jitter that honour the
// API's own wait hints.
//
// # Concurrency
//
// Every function is safe for concurrent use; the types are plain values.
//
// # Errors
//
// [ParseGraphError] returns a [*GraphError] describing what the Graph API
// said; classifying it into channel sentinels is left to each adapter,
// whose codes differ. Error strings never contain access tokens, secrets,
// message text or phone numbers: the Graph API's message is included with
// long digit runs (phone numbers, user ids) masked.
//
// # Privacy
//
// Signatures are checked over the raw request bytes, before anything is
// parsed, and secrets are compared in constant time. Nothing here logs but
// [Attempt.Log], through the logger it is given; an Attempt holds no
// token, URL or body.
package meta
