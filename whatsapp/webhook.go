package whatsapp

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

// DefaultMaxBodyBytes caps a webhook delivery: Meta's payloads are at most
// 3 MB.
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
	// Tenants, when set, are the business phone numbers (phone_number_id)
	// this handler serves; changes for other numbers of the account are
	// acknowledged and ignored (reported to Hooks.Ignored). Empty: every
	// number.
	Tenants []channel.TenantID
	// MaxBodyBytes caps a delivery (default [DefaultMaxBodyBytes]); larger
	// ones are answered 413.
	MaxBodyBytes int64
	// Logger receives the webhook's logs (nil: [slog.Default]). Deliveries
	// log at Debug, refusals at Warn. Logs never hold message text, phone
	// numbers or secrets.
	Logger *slog.Logger
	// Hooks are called on events.
	Hooks WebhookHooks
}

// WebhookHooks are optional callbacks, called synchronously while a
// delivery is handled, possibly from many goroutines at once: they must be
// safe for concurrent use and return quickly.
type WebhookHooks struct {
	// Errors is called with the errors Meta reports about a delivery as a
	// whole (value.errors), such as a message that could not be delivered
	// to the app.
	Errors func(ErrorsInfo)
	// Ignored is called for each change that carries no messages for this
	// handler: other fields than "messages" (account, template and quality
	// updates, user preferences), other tenants, status values wagent does
	// not know, items without an id or a sender.
	Ignored func(IgnoredInfo)
	// Delivery is called once per POST, after it was answered.
	Delivery func(DeliveryInfo)
	// Account is called with each account-level notification of a
	// delivery: template status, quality and category updates, phone
	// number quality updates and account updates (see [AccountEvent]);
	// pass [Client.Observe] to let the client follow them. These changes
	// carry no messages: they are acknowledged, and also reported to
	// Ignored. Other fields are only reported to Ignored.
	Account func(AccountEvent)
}

// ErrorsInfo describes value.errors of a change.
type ErrorsInfo struct {
	Account string              // WhatsApp Business Account id
	Tenant  channel.TenantID    // the business phone number (phone_number_id)
	Errors  []channel.ErrorInfo // code, title and details of each error
}

// IgnoredInfo describes a part of a delivery the webhook did not turn into
// messages or statuses.
type IgnoredInfo struct {
	Account string           // WhatsApp Business Account id
	Tenant  channel.TenantID // the phone_number_id of the change, if any
	// Field is the change's field ("messages", "account_update",
	// "message_template_status_update", ...).
	Field string
	// Reason is "object" (a delivery for another product than
	// whatsapp_business_account; Field then holds the object), "field",
	// "value" (a change's value that is not an object), "tenant",
	// "message" (an item without id or sender), or "status" (an unknown
	// status value, or one without id).
	Reason string
	// Value is the raw JSON of the change's value ("field", "tenant") or
	// of the item. It may hold personal data.
	Value json.RawMessage
}

// DeliveryInfo describes one POST.
type DeliveryInfo struct {
	HTTPStatus int           // the answer given to Meta
	Messages   int           // messages handed to the receiver
	Statuses   int           // statuses handed to the receiver
	Duration   time.Duration // from the request to the answer
	// Err is why the delivery was refused, if it was.
	Err error
}

// Webhook is the [net/http.Handler] for the Cloud API's webhook, to mount on
// the host's own mux:
//
//	mux.Handle("/webhooks/whatsapp", hook)
//
// A GET answers the subscription handshake. A POST is checked (size,
// X-Hub-Signature-256 over the raw bytes) before anything is parsed; every
// message and status of every entry and change is then parsed into the
// channel model and handed to the Receiver in one Receive call, and the
// delivery is acknowledged with 200 only once Receive returned nil. The
// Receiver records and returns; the reply is made later, never within the
// request.
//
// Answers:
//
//	200  handshake verified; delivery recorded (or nothing in it to record)
//	400  signed but not valid JSON (logged; Meta will not fix it by retrying)
//	401  signature missing or wrong: nothing was read
//	403  handshake refused
//	405  other methods
//	413  body larger than MaxBodyBytes
//	503  Receive failed or the receiver is closed: Meta delivers again
//
// Messages of types wagent does not know, and items whose fields do not
// decode, become [channel.TypeUnsupported] messages with the raw JSON kept,
// so that a new type never fails a delivery. A conversation's user is the
// business-scoped user id (user_id) when the payload has one, the phone
// number (wa_id) otherwise; the phone number, when known, is in
// Message.Sender.Phone.
//
// A Webhook is safe for concurrent use.
type Webhook struct {
	recv    channel.Receiver
	secrets []string
	token   string
	tenants []channel.TenantID
	maxBody int64
	log     *slog.Logger
	hooks   WebhookHooks
}

// NewWebhook returns the webhook handler that feeds recv, configured by
// opts, or an error naming every problem with the configuration.
func NewWebhook(recv channel.Receiver, opts WebhookOptions) (*Webhook, error) {
	var errs []error
	if recv == nil {
		errs = append(errs, errors.New("whatsapp: a receiver is required"))
	}
	secrets := make([]string, 0, len(opts.AppSecrets))
	for _, s := range opts.AppSecrets {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	if len(secrets) == 0 {
		errs = append(errs, errors.New("whatsapp: WebhookOptions.AppSecrets needs at least one app secret"))
	}
	if opts.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("whatsapp: WebhookOptions.MaxBodyBytes must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w := &Webhook{
		recv:    recv,
		secrets: secrets,
		token:   opts.VerifyToken,
		tenants: slices.Clone(opts.Tenants),
		maxBody: cmp.Or(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		log:     opts.Logger,
		hooks:   opts.Hooks,
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	return w, nil
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
		wh.log.LogAttrs(r.Context(), slog.LevelWarn, "whatsapp: webhook handshake refused", slog.String(logkey.Channel, string(channel.WhatsApp)))
	}
}

// errMalformed refuses a signed delivery that is not a webhook payload, as
// given to Hooks.Delivery; the size and signature refusals are
// [meta.ErrBodyTooLarge] and [meta.ErrBadSignature].
var errMalformed = errors.New("whatsapp: webhook body is not a valid payload")

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
		wh.log.LogAttrs(ctx, level, "whatsapp: webhook delivery refused",
			slog.Int(logkey.HTTPStatus, status), slog.Any(logkey.Error, err))
		http.Error(w, http.StatusText(status), status)
	}

	body, status, err := meta.ReadSigned(w, r, wh.maxBody, wh.secrets)
	if err != nil {
		level := slog.LevelWarn
		if status == http.StatusBadRequest {
			level = slog.LevelDebug // the connection broke while reading
		}
		refuse(status, err, level)
		return
	}
	in, err := wh.parse(ctx, body)
	if err != nil {
		refuse(http.StatusBadRequest, err, slog.LevelWarn)
		return
	}
	info.Messages, info.Statuses = len(in.Messages), len(in.Statuses)
	if len(in.Messages)+len(in.Statuses) > 0 {
		if err := wh.recv.Receive(ctx, in); err != nil {
			// Not acknowledged: Meta delivers again, and the receiver
			// recognizes what it recorded already.
			refuse(http.StatusServiceUnavailable, fmt.Errorf("whatsapp: receiver: %w", err), slog.LevelWarn)
			return
		}
	}
	info.HTTPStatus = http.StatusOK
	wh.log.LogAttrs(ctx, slog.LevelDebug, "whatsapp: webhook delivery recorded",
		slog.Int(logkey.Messages, len(in.Messages)), slog.Int(logkey.Statuses, len(in.Statuses)))
	w.WriteHeader(http.StatusOK)
}

// parse turns a verified payload into what it carries. It fails only when
// the payload is not JSON or not shaped as a webhook delivery at all.
func (wh *Webhook) parse(ctx context.Context, body []byte) (channel.Inbound, error) {
	var p hookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return channel.Inbound{}, fmt.Errorf("%w: %w", errMalformed, meta.SyntaxOnly(err))
	}
	var in channel.Inbound
	if p.Object != "whatsapp_business_account" {
		wh.ignored(ctx, IgnoredInfo{Field: p.Object, Reason: "object"})
		return in, nil
	}
	for _, e := range p.Entry {
		for _, ch := range e.Changes {
			wh.parseChange(ctx, e.ID, unixTime(int64(e.Time)), ch, &in)
		}
	}
	return in, nil
}

func (wh *Webhook) parseChange(ctx context.Context, account string, at time.Time, ch hookChange, in *channel.Inbound) {
	if ch.Field != "messages" {
		if ev, ok := parseAccountEvent(account, at, ch.Field, ch.Value); ok {
			wh.log.LogAttrs(ctx, slog.LevelDebug, "whatsapp: account notification", slog.String(logkey.Field, ch.Field))
			if h := wh.hooks.Account; h != nil {
				h(ev)
			}
		}
		wh.ignored(ctx, IgnoredInfo{Account: account, Field: ch.Field, Reason: "field", Value: ch.Value})
		return
	}
	var v hookValue
	if err := json.Unmarshal(ch.Value, &v); err != nil {
		wh.ignored(ctx, IgnoredInfo{Account: account, Field: ch.Field, Reason: "value", Value: ch.Value})
		return
	}
	var md hookMetadata
	_ = json.Unmarshal(v.Metadata, &md)
	tenant := channel.TenantID(md.PhoneNumberID)
	if tenant == "" || len(wh.tenants) > 0 && !slices.Contains(wh.tenants, tenant) {
		wh.ignored(ctx, IgnoredInfo{Account: account, Tenant: tenant, Field: ch.Field, Reason: "tenant", Value: ch.Value})
		return
	}
	if errs := errorInfos(decodeEach[hookError](v.Errors)); len(errs) > 0 {
		wh.log.LogAttrs(ctx, slog.LevelWarn, "whatsapp: webhook reports errors", slog.String(logkey.Tenant, string(tenant)),
			slog.Int(logkey.Code, errs[0].Code), slog.Int(logkey.Errors, len(errs)))
		if h := wh.hooks.Errors; h != nil {
			h(ErrorsInfo{Account: account, Tenant: tenant, Errors: errs})
		}
	}
	contacts := decodeEach[hookContact](v.Contacts)
	for _, raw := range v.Messages {
		m, ok := parseMessage(raw, tenant, contacts)
		if !ok {
			wh.ignored(ctx, IgnoredInfo{Account: account, Tenant: tenant, Field: ch.Field, Reason: "message", Value: raw})
			continue
		}
		in.Messages = append(in.Messages, m)
	}
	for _, raw := range v.Statuses {
		s, ok := parseStatus(raw, tenant)
		if !ok {
			wh.ignored(ctx, IgnoredInfo{Account: account, Tenant: tenant, Field: ch.Field, Reason: "status", Value: raw})
			continue
		}
		in.Statuses = append(in.Statuses, s)
	}
}

func (wh *Webhook) ignored(ctx context.Context, info IgnoredInfo) {
	wh.log.LogAttrs(ctx, slog.LevelDebug, "whatsapp: webhook change ignored", slog.String(logkey.Tenant, string(info.Tenant)),
		slog.String(logkey.Field, info.Field), slog.String(logkey.Reason, info.Reason))
	if h := wh.hooks.Ignored; h != nil {
		h(info)
	}
}
