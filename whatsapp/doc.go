// Package whatsapp will connect wagent to the WhatsApp Business Cloud API:
// a [github.com/wagent/wagent/channel.Channel] for sending and an
// [net/http.Handler] for the webhook, which verifies the handshake and the
// X-Hub-Signature-256 of every delivery, parses every message and status
// type into the channel model, and hands them to a
// [github.com/wagent/wagent/channel.Receiver] that records them durably
// before the webhook is acknowledged.
//
// The contract it implements is in package channel; the adapter itself
// (client, webhook, media, the 24-hour window, throughput limits and
// retries by error class) is being built.
package whatsapp
