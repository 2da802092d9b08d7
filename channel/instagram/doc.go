// Package instagram connects wagent to Instagram Direct through the
// Instagram Messaging API (Instagram API with Instagram Login, or the
// Messenger Platform with a linked Page).
//
// [Client] is the [github.com/wagent/wagent/channel.Channel] that sends:
// text (split above 1000 bytes), image, video, audio and file attachments
// by URL, quick replies (interactive buttons), and generic template cards
// (product cards, channel.Outbound.Cards, and interactive lists), with
// Instagram's limits checked before any request. It also marks
// conversations seen, shows the typing indicator, looks profiles up
// ([Client.Profile], cached), and keeps to the messaging window
// ([channel.Windowed]: 24 hours; [channel.HumanWindowed]: 7 days, with the
// HUMAN_AGENT tag, for messages a person wrote, channel.Outbound.Human).
// One Client serves many Instagram professional
// accounts: the tenant of every address is the account's id, and
// [Credentials] give each its token.
//
// [Webhook] is the [net/http.Handler] the host mounts for Meta's webhook
// (object "instagram"). It answers the verification handshake, checks the
// size and the X-Hub-Signature-256 of every delivery over the raw bytes
// (several app secrets may be configured while one is rotated), parses
// every entry[].messaging[] event into the channel model and hands them to
// a [channel.Receiver] (the agent) in one call, which records them durably
// before the delivery is acknowledged.
//
//	ig, err := instagram.New(instagram.StaticToken(token), nil)
//	...
//	a, err := agent.New(agent.Config{Store: st, Model: model, Channels: []channel.Channel{ig}})
//	...
//	hook, err := instagram.NewWebhook(a, instagram.WebhookOptions{
//		AppSecrets:  []string{appSecret},
//		VerifyToken: verifyToken,
//		Client:      ig, // so that Send knows each user's window
//	})
//	...
//	mux.Handle("/webhooks/instagram", hook)
//
// # Events
//
// A conversation is keyed by the customer's Instagram-scoped id (IGSID),
// its tenant by the business account (the event's recipient; the entry's
// id when absent). Events map to the channel model as follows:
//
//   - text: [channel.TypeText]; a tapped quick reply:
//     [channel.TypeInteractive] with a [channel.ReplyQuick] reply whose ID
//     is the payload and Title the text.
//   - attachments: image, video, audio and file become media messages
//     with the CDN URL (which expires; nothing is downloaded); a shared
//     post (share, ig_post) an image and a reel a video, with the post in
//     Message.Referral (SourceType "share", "ig_post", "ig_reel"); a story
//     mention an image with Referral.SourceType "story_mention". Several
//     attachments make several messages, the first with the mid, the
//     others with "mid#2", "mid#3"...; a text goes with the first.
//   - reply_to: the quoted mid in Message.Context; a reply to a story sets
//     Referral{SourceType: "story"}. A product of the Instagram shop the
//     user asked about is Context.ProductID.
//   - reactions: [channel.TypeReaction] (an empty emoji for unreact), with
//     the id "reaction:<mid>:<action>:<timestamp>", since Instagram gives
//     them none.
//   - postbacks (card buttons, ice breakers): [channel.TypeInteractive]
//     with a [channel.ReplyPostback] reply, the payload as ID.
//   - an unsent message: [channel.TypeSystem] "message_deleted" with id
//     "<mid>#deleted", the unsent mid in Context. Unsupported content
//     (gifs, stickers, types wagent does not know): [channel.TypeUnsupported]
//     with the raw JSON.
//   - read (messaging_seen) and delivery events: [channel.Status] values,
//     Read and Delivered, of the business's message they name.
//   - echoes (is_echo) of the business's own messages are never handed over
//     as messages: each becomes a Sent status of its message, is recorded
//     through the receiver's [channel.EchoRecorder] (the agent keeps what
//     people sent from the Instagram app in the conversation, unanswered),
//     and is given to WebhookHooks.Echo, with [channel.Message.Echo] set.
//
// # Concurrency
//
// A Client and a Webhook are safe for concurrent use and start no
// goroutines. The Client paces its requests with token buckets from
// golang.org/x/time/rate, per account (Options.Throughput, and
// Options.MediaThroughput for audio and video); sends wait for their turn,
// within their context, rather than fail. After a rate-limit answer the
// account's sends pause for the time the API asked. Messages to one user
// are sent in the order Send is called; the parts of a split message one
// after the other.
//
// # Errors
//
// Send returns [*channel.Error] values classified by the sentinels of
// package channel, so that errors.Is(err, channel.ErrWindowClosed) and
// [channel.Retryable] work; [Kind] lists how each Graph API code and
// subcode is classified, and [errors.As] finds the API's own description,
// a [*GraphError]. Invalid messages fail before any request with
// [channel.ErrInvalidMessage], kinds Instagram cannot send with
// [channel.ErrUnsupported]. Retryable failures are retried within Send,
// with exponential backoff and jitter, up to Options.MaxAttempts requests;
// a send whose request may have reached the API before the connection
// failed is never retried: its error wraps [ErrUncertain].
//
// The Webhook answers 401 to a missing or wrong signature, 413 to a body
// over its limit, 400 to a signed body that is not JSON, and 503 when the
// receiver fails, so that Meta delivers again.
//
// # Privacy
//
// Message text, profile names, usernames and IGSIDs pass through this
// package into the channel types, which redact themselves when logged.
// This package logs ids, codes and counts only; access tokens, app
// secrets, verify tokens and appsecret_proof never appear in logs or
// errors (tokens travel in the Authorization header, never in URLs), and
// the Graph API's error messages are included in errors with long digit
// runs (user ids) masked. Attachment URLs are kept as references, never
// fetched. Profiles looked up are cached in memory for a short time only.
package instagram
