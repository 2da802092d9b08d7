// Command loadtest measures a WhatsApp bot under load and faults, and
// checks that it loses no acknowledged message, answers none twice, and
// keeps each conversation in order. It plays the WhatsApp Cloud API on
// both sides of the bot:
//
//   - as Meta's webhook, it delivers signed text messages
//     (X-Hub-Signature-256 over the raw bytes) from -contacts users to the
//     bot's /webhooks/whatsapp, each user's messages one after another in
//     order, -concurrency users at once, a fraction -duplicates of them
//     delivered twice at once (to two bots when there are two), and every
//     delivery not answered 200 again, with backoff;
//   - as the Graph API, it serves POST /{version}/{phone_number_id}/messages,
//     answering sends with a wamid and read receipts and typing indicators
//     with success, after -latency, with fractions -fail-5xx (500, code
//     131000), -fail-429 (429, code 130429) and -hang (accepted, then the
//     connection closed unanswered) of the sends failing, and posts each
//     accepted message's -statuses back to the bot's webhook with its
//     biz_opaque_callback_data.
//
// Every message's text carries a tag naming the run, the user and the
// message's number; with LLM=echo the bot's reply repeats it, so that each
// reply names the messages it answers (several, when the bot answers a
// burst at once). The report gives acknowledgements per second, the median
// and 99th percentile of the time to acknowledge a delivery, messages
// answered per second end to end, and the counts that must be zero: lost
// (acknowledged, never answered), doubled (answered more than once), out of
// order (a reply to an earlier message of the user after a reply to a
// later one) and misrouted (a reply to another user).
//
// Start the bot under test with -bot (a command, such as a built
// examples/whatsapp binary or 'go run ./examples/whatsapp'; -bots 2 starts
// two instances on the same -store), or point -target at bots already
// running with WHATSAPP_API_URL set to the fake Graph API (-graph-addr) and
// the same access token, app secret and phone number id as the flags.
// -kill-after N kills the first bot with SIGKILL once N messages are
// acknowledged and starts it again on the same store (-kills times, every N
// messages).
//
//	go build -o /tmp/wabot ./examples/whatsapp
//	go run ./examples/loadtest -bot /tmp/wabot -store sqlite:/tmp/lt.db -n 20000
//
// The exit status is 0 when every message was acknowledged and nothing was
// lost, doubled, out of order or misrouted; 1 when something was; 2 for a
// usage error; 3 when the run could not be set up (the bot did not start).
package main
