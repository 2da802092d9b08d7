package instagram

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/internal/meta"
)

// DefaultMaxBodyBytes caps a webhook delivery (3 MB, as for the other Meta
// webhooks).
const DefaultMaxBodyBytes = 3 << 20

// WebhookOptions configures a [Webhook]. AppSecrets is required; every
// other zero value means the documented default.
type WebhookOptions struct {
	// AppSecrets are the Meta app secrets deliveries may be signed with:
	// usually one, two while rotating. A delivery signed with any of them
	// is accepted.
	AppSecrets []string
	// VerifyToken is the token configured with the webhook in the app
	// dashboard, checked on the GET verification handshake. Empty: every
	// handshake is refused.
	VerifyToken string
	// Tenants, when set, are the Instagram professional account ids this
	// handler serves; events for other accounts are acknowledged and
	// ignored (reported to Hooks.Ignored). Empty: every account.
	Tenants []channel.TenantID
	// Client, when set, is told of every customer message the webhook
	// accepts, so that its Send knows each customer's service window
	// without a request (see [Client.Send]).
	Client *Client
	// MaxBodyBytes caps a delivery (default [DefaultMaxBodyBytes]); larger
	// ones are answered 413.
	MaxBodyBytes int64
	// Logger receives the webhook's logs (nil: [slog.Default]). Deliveries
	// log at Debug, refusals at Warn. Logs never hold message text, user
	// ids or secrets.
	Logger *slog.Logger
	// Hooks are called on events.
	Hooks WebhookHooks
}

// WebhookHooks are optional callbacks, called synchronously while a
// delivery is handled, possibly from many goroutines at once: they must be
// safe for concurrent use and return quickly.
type WebhookHooks struct {
	// Echo is called with every echo of a message the business sent: by
	// this app, another app, or a person in the Instagram app. Echoes are
	// not handed to the receiver as messages (they are not the customer's
	// and must not be answered); each is handed over as a Sent status of
	// its message instead. When the receiver is a [channel.EchoRecorder]
	// (the agent is), each echo is also recorded there, before the
	// delivery is acknowledged, so that what a person sent from the
	// Instagram app is in the conversation's history; this hook sees
	// every echo besides, with the id of the app that sent it.
	Echo func(Echo)
	// Ignored is called for each part of a delivery that carries nothing
	// for the receiver.
	Ignored func(IgnoredInfo)
	// Delivery is called once per POST, after it was answered.
	Delivery func(DeliveryInfo)
}

// Echo is the echo of a message the business sent.
type Echo struct {
	// Message is the message in channel form, with Echo set. Its From is
	// the conversation's address, the customer it was sent to, not its
	// author.
	Message channel.Message
	// AppID is the id of the app that sent it, when Meta says; empty for
	// messages written in the Instagram app.
	AppID string
}

// IgnoredInfo describes a part of a delivery the webhook did not turn into
// messages or statuses.
type IgnoredInfo struct {
	// Tenant is the business account of the entry, if known.
	Tenant channel.TenantID
	// Reason is "object" (a delivery for another object than instagram;
	// Field then holds the object), "changes" (entry changes, such as
	// comments, that are not messaging events), "standby" (events of a
	// thread another app controls), "tenant" (an account this handler
	// does not serve), "event" (an event of a kind wagent does not handle,
	// such as a referral, or one without sender or recipient), "message"
	// (a message without mid) or "watermark" (a read or delivery event
	// that names no message).
	Reason string
	Field  string
	// Value is the raw JSON of the item. It may hold personal data.
	Value json.RawMessage
}

// DeliveryInfo describes one POST.
type DeliveryInfo struct {
	HTTPStatus int           // the answer given to Meta
	Messages   int           // messages handed to the receiver
	Statuses   int           // statuses handed to the receiver
	Echoes     int           // echoes of the business's own messages
	Duration   time.Duration // from the request to the answer
	// Err is why the delivery was refused, if it was.
	Err error
}

// Webhook is the [net/http.Handler] for the Instagram messaging webhook,
// to mount on the host's own mux:
//
//	mux.Handle("/webhooks/instagram", hook)
//
// A GET answers the subscription handshake. A POST is checked (size,
// X-Hub-Signature-256 over the raw bytes, with any of the app secrets)
// before anything is parsed; every messaging event of every entry is then
// parsed into the channel model and handed to the Receiver in one Receive
// call, and the delivery is acknowledged with 200 only once Receive
// returned nil.
//
// Answers:
//
//	200  handshake verified; delivery recorded (or nothing in it to record)
//	400  signed but not valid JSON
//	401  signature missing or wrong: nothing was read
//	403  handshake refused
//	405  other methods
//	413  body larger than MaxBodyBytes
//	503  Receive failed or the receiver is closed: Meta delivers again
//
// The conversation's user is the Instagram-scoped id (IGSID) of the
// customer; the tenant is the business's Instagram professional account
// id (the event's recipient, the entry's id when absent). See the package
// documentation for how each event is mapped.
//
// A Webhook is safe for concurrent use.
type Webhook struct {
	recv    channel.Receiver
	secrets []string
	token   string
	tenants []channel.TenantID
	client  *Client
	maxBody int64
	log     *slog.Logger
	hooks   WebhookHooks
}

// NewWebhook returns the webhook handler that feeds recv, configured by
// opts, or an error naming every problem with the configuration.
func NewWebhook(recv channel.Receiver, opts WebhookOptions) (*Webhook, error) {
	var errs []error
	if recv == nil {
		errs = append(errs, errors.New("instagram: a receiver is required"))
	}
	secrets := make([]string, 0, len(opts.AppSecrets))
	for _, s := range opts.AppSecrets {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		errs = append(errs, errors.New("instagram: WebhookOptions.AppSecrets needs at least one app secret"))
	}
	if opts.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("instagram: WebhookOptions.MaxBodyBytes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Webhook{
		recv:    recv,
		secrets: secrets,
		token:   opts.VerifyToken,
		tenants: slices.Clone(opts.Tenants),
		client:  opts.Client,
		maxBody: cmp.Or(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		log:     cmp.Or(opts.Logger, slog.Default()),
		hooks:   opts.Hooks,
	}, nil
}

// ServeHTTP implements [net/http.Handler].
func (wh *Webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		wh.handshake(w, r)
	case http.MethodPost:
		wh.deliver(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}

func (wh *Webhook) handshake(w http.ResponseWriter, r *http.Request) {
	if !meta.AnswerHandshake(w, r, wh.token) {
		wh.log.LogAttrs(r.Context(), slog.LevelWarn, "instagram: webhook handshake refused", slog.String(logkey.Channel, string(channel.Instagram)))
	}
}

// errMalformed refuses a signed delivery that is not a webhook payload.
var errMalformed = errors.New("instagram: webhook body is not a valid payload")

func (wh *Webhook) deliver(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	info := DeliveryInfo{}
	defer func() {
		info.Duration = time.Since(start)
		if h := wh.hooks.Delivery; h != nil {
			h(info)
		}
	}()
	refuse := func(status int, err error, level slog.Level) {
		info.HTTPStatus, info.Err = status, err
		wh.log.LogAttrs(ctx, level, "instagram: webhook delivery refused",
			slog.Int(logkey.HTTPStatus, status), slog.Any(logkey.Error, err))
		http.Error(w, http.StatusText(status), status)
	}

	body, status, err := meta.ReadSigned(w, r, wh.maxBody, wh.secrets)
	if err != nil {
		level := slog.LevelWarn
		if status == http.StatusBadRequest {
			level = slog.LevelDebug // the client went away
		}
		refuse(status, fmt.Errorf("instagram: %w", err), level)
		return
	}
	in, echoes, err := wh.parse(ctx, body)
	if err != nil {
		refuse(http.StatusBadRequest, err, slog.LevelWarn)
		return
	}
	info.Messages, info.Statuses, info.Echoes = len(in.Messages), len(in.Statuses), len(echoes)
	if len(in.Messages)+len(in.Statuses) > 0 {
		if err := wh.recv.Receive(ctx, in); err != nil {
			// Not acknowledged: Meta delivers again, and the receiver
			// recognizes what it recorded already.
			refuse(http.StatusServiceUnavailable, fmt.Errorf("instagram: receiver: %w", err), slog.LevelWarn)
			return
		}
	}
	if er, ok := wh.recv.(channel.EchoRecorder); ok {
		for _, e := range echoes {
			if err := er.RecordEcho(ctx, e.Message); err != nil {
				refuse(http.StatusServiceUnavailable, fmt.Errorf("instagram: recording an echo: %w", err), slog.LevelWarn)
				return
			}
		}
	}
	if wh.client != nil {
		for _, m := range in.Messages {
			wh.client.windows.observe(m.From, m.Time)
		}
	}
	if h := wh.hooks.Echo; h != nil {
		for _, e := range echoes {
			h(e)
		}
	}
	info.HTTPStatus = http.StatusOK
	wh.log.LogAttrs(ctx, slog.LevelDebug, "instagram: webhook delivery recorded",
		slog.Int(logkey.Messages, len(in.Messages)), slog.Int(logkey.Statuses, len(in.Statuses)))
	w.WriteHeader(http.StatusOK)
}

// parse turns a verified payload into what it carries. It fails only when
// the payload is not JSON or not shaped as a webhook delivery at all.
func (wh *Webhook) parse(ctx context.Context, body []byte) (channel.Inbound, []Echo, error) {
	var p hookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return channel.Inbound{}, nil, fmt.Errorf("%w: %w", errMalformed, meta.SyntaxOnly(err))
	}
	var in channel.Inbound
	var echoes []Echo
	if p.Object != "instagram" {
		wh.ignored(ctx, IgnoredInfo{Field: p.Object, Reason: "object"})
		return in, nil, nil
	}
	for _, e := range p.Entry {
		entry := channel.TenantID(e.ID)
		for _, raw := range e.Changes {
			wh.ignored(ctx, IgnoredInfo{Tenant: entry, Reason: "changes", Value: raw})
		}
		for _, raw := range e.Standby {
			wh.ignored(ctx, IgnoredInfo{Tenant: entry, Reason: "standby", Value: raw})
		}
		for _, raw := range e.Messaging {
			got := parseEvent(raw, string(e.ID))
			if got.ignore != "" {
				wh.ignored(ctx, IgnoredInfo{Tenant: entry, Reason: got.ignore, Value: raw})
				continue
			}
			tenant := entry
			switch {
			case len(got.messages) > 0:
				tenant = got.messages[0].From.Tenant
			case len(got.statuses) > 0:
				tenant = got.statuses[0].Recipient.Tenant
			}
			if len(wh.tenants) > 0 && !slices.Contains(wh.tenants, tenant) {
				wh.ignored(ctx, IgnoredInfo{Tenant: tenant, Reason: "tenant", Value: raw})
				continue
			}
			in.Messages = append(in.Messages, got.messages...)
			in.Statuses = append(in.Statuses, got.statuses...)
			if got.echo != nil {
				echoes = append(echoes, *got.echo)
			}
		}
	}
	return in, echoes, nil
}

func (wh *Webhook) ignored(ctx context.Context, info IgnoredInfo) {
	wh.log.LogAttrs(ctx, slog.LevelDebug, "instagram: webhook event ignored", slog.String(logkey.Tenant, string(info.Tenant)),
		slog.String(logkey.Reason, info.Reason))
	if h := wh.hooks.Ignored; h != nil {
		h(info)
	}
}
