// Package whatsapp connects wagent to the WhatsApp Business Cloud API.
//
// [Client] is the [github.com/wagent/wagent/channel.Channel] that sends:
// text (split above 4096 characters), media, interactive buttons and
// lists, templates, reactions and locations, with WhatsApp's limits
// checked before any request. It also marks messages read, shows the
// typing indicator, uploads media and fetches inbound media
// ([channel.MediaFetcher]), and reports the 24-hour customer-service
// window ([channel.Windowed]). One Client serves many business phone
// numbers: the tenant of every address is the number's phone_number_id,
// and [Credentials] give each its access token.
//
// [Webhook] is the [net/http.Handler] the host mounts for Meta's webhook. It
// answers the verification handshake, checks the size and the
// X-Hub-Signature-256 of every delivery over the raw bytes (several app
// secrets may be configured while one is rotated), parses every message
// and status of the delivery into the channel model and hands them to a
// [channel.Receiver] (the agent) in one call, which records them durably
// before the delivery is acknowledged. Meta redelivers what was not
// acknowledged; the receiver recognizes what it already recorded.
//
//	wa, err := whatsapp.New(whatsapp.StaticToken(token), nil)
//	...
//	a, err := agent.New(agent.Config{Store: st, Model: model, Channels: []channel.Channel{wa}})
//	...
//	hook, err := whatsapp.NewWebhook(a, whatsapp.WebhookOptions{
//		AppSecrets:  []string{appSecret},
//		VerifyToken: verifyToken,
//	})
//	...
//	mux.Handle("/webhooks/whatsapp", hook)
//
// # Managing business accounts
//
// The same Client manages each merchant's WhatsApp Business Account
// (WABA) on its behalf; every management call takes an [Account], the
// account id with the credentials of that account, so that one process
// manages many merchants with their own tokens:
//
//   - message templates: [Client.CreateTemplate] (validated first with
//     [TemplateSpec.Validate]; build one with [NewTemplate]),
//     [Client.ListTemplates] and [Client.Templates] (pages and filters),
//     [Client.Template], [Client.EditTemplate], [Client.DeleteTemplate];
//   - the business profile of a number: [Client.BusinessProfile],
//     [Client.UpdateBusinessProfile], [Client.SetProfilePhoto] through
//     the resumable upload API ([Client.UploadFile]);
//   - the account's numbers: [Client.ListPhoneNumbers] and
//     [Client.PhoneNumbers], with their quality rating, messaging limit
//     and throughput level, which the client's per-number throughput
//     then follows.
//
// The Webhook parses the account-level notifications
// (message_template_status_update, message_template_quality_update,
// template_category_update, phone_number_quality_update, account_update)
// into [AccountEvent] values for WebhookHooks.Account; [Client.Observe]
// lets the client follow them. With Options.Accounts set, Send checks a
// template against the account's cached template list before sending it:
// see [Options].
//
// Users are addressed by their business-scoped user id (BSUID, such as
// "US.13491208655302741918") when WhatsApp gives one, and by their phone
// number (wa_id) otherwise: the webhook keys a conversation on the user id
// when the payload carries it, and Send addresses either kind.
//
// # Concurrency
//
// A Client and a Webhook are safe for concurrent use and start no
// goroutines; the template cache and the throughput levels it learns are
// guarded for concurrent use. The Client paces its requests with token buckets from
// golang.org/x/time/rate: one per business number for the throughput
// (Options.Throughput messages per second) and one per user for the pair
// rate limit; sends wait for their turn, within their context, rather than
// fail. Messages to one user are sent in the order Send is called; the
// parts of a split text are sent one after the other.
//
// # Errors
//
// Send returns [*channel.Error] values classified by the sentinels of
// package channel, so that errors.Is(err, channel.ErrWindowClosed) and
// [channel.Retryable] work; [Kind] lists how each Cloud API error code is
// classified, and [errors.As] finds the API's own description, a
// [*GraphError] (code, subcode, type, details, fbtrace_id). Invalid
// messages fail before any request with [channel.ErrInvalidMessage].
// Management calls fail the same way, are retried by the same classes
// (reads and deletes also when their outcome is unknown), and a template
// that breaks WhatsApp's limits fails before any request with an error
// that names every broken rule.
// Retryable failures are retried within Send, with exponential backoff and
// jitter, up to Options.MaxAttempts requests per message; the number of
// requests is in SendResult.Attempts and channel.Error.Attempts. A send
// whose request may have reached the API before the connection failed is
// never retried, to avoid a duplicate: its error wraps [ErrUncertain].
//
// The Webhook answers 401 to a missing or wrong signature, 413 to a body
// over its limit, 400 to a signed body that is not JSON, and 503 when the
// receiver fails, so that Meta delivers again.
//
// # Privacy
//
// Message text, profile names and phone numbers pass through this package
// into the channel types, which redact themselves when logged. This
// package logs ids, codes and counts only; access tokens, app secrets,
// verify tokens and appsecret_proof never appear in logs or errors (a
// printed [Account] or [StaticToken] shows no token), and the
// Graph API's error messages are included in errors with phone-number-like
// digit runs masked. Media downloads go to the URL the Graph API gives,
// with the tenant's token, and are never logged.
package whatsapp
