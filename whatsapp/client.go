package whatsapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// Defaults for the zero values of [Options].
const (
	// DefaultBaseURL is the Graph API.
	DefaultBaseURL = "https://graph.facebook.com"
	// DefaultVersion is the Graph API version called.
	DefaultVersion = "v25.0"
	// DefaultThroughput is how many messages per second one business phone
	// number sends: the Cloud API's default throughput.
	DefaultThroughput = 80
	// MaxThroughput is the highest throughput the Cloud API grants a
	// number, and the highest Options.Throughput accepted.
	MaxThroughput = 1000
	// DefaultPairInterval and DefaultPairBurst pace the messages to one
	// user: the Cloud API's pair rate limit allows about one message every
	// 6 seconds to the same user, in bursts of up to 45.
	DefaultPairInterval = 6 * time.Second
	DefaultPairBurst    = 45
	// DefaultMaxAttempts is how many requests one message may take, the
	// first included, when the API fails in a way worth retrying.
	DefaultMaxAttempts = 4
	// DefaultRetryDelay is the wait before the first retry; it doubles
	// with each retry, with jitter, up to DefaultMaxRetryDelay. After a
	// pair rate limit (131056) the user's messages wait RetryDelay×4^n
	// instead, n counting that user's consecutive 131056 answers.
	DefaultRetryDelay    = time.Second
	DefaultMaxRetryDelay = 30 * time.Second
	// DefaultMaxMediaBytes caps what FetchMedia reads: the largest media
	// the Cloud API accepts (documents, 100 MB).
	DefaultMaxMediaBytes = 100 << 20
	// DefaultResponseTimeout is how long the default HTTP client waits for
	// the headers of an answer.
	DefaultResponseTimeout = 30 * time.Second
	// ServiceWindow is WhatsApp's customer-service window: free-form
	// messages may be sent only this long after the user's latest message.
	ServiceWindow = 24 * time.Hour
)

// Credentials gives the access token to call the Cloud API with for a
// business phone number (the tenant), so that one process can serve many
// numbers, each with its own system-user token.
//
// AccessToken is called before each request, from many goroutines at once;
// implementations cache and refresh tokens as they see fit. ctx bounds the
// call. An error, or an empty token, fails the request with
// [channel.ErrAuth].
type Credentials interface {
	AccessToken(ctx context.Context, tenant channel.TenantID) (string, error)
}

// StaticToken is one access token used for every business phone number.
type StaticToken string

// AccessToken implements [Credentials].
func (t StaticToken) AccessToken(context.Context, channel.TenantID) (string, error) {
	return string(t), nil
}

// String returns "[redacted]", so that a StaticToken printed by mistake
// does not leak the token.
func (t StaticToken) String() string { return "[redacted]" }

// GoString returns "[redacted]", as String does, for %#v.
func (t StaticToken) GoString() string { return "[redacted]" }

// LogValue implements [slog.LogValuer]: the token never reaches a log.
func (t StaticToken) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// Options configures a [Client]. A nil *Options, like the zero value, gives
// the defaults.
type Options struct {
	// BaseURL is the Graph API's address (default [DefaultBaseURL]); tests
	// and proxies point it elsewhere.
	BaseURL string
	// Version is the Graph API version (default [DefaultVersion]).
	Version string
	// HTTPClient makes the requests (default: a client whose transport
	// waits at most [DefaultResponseTimeout] for an answer to start, with
	// no overall timeout, so that large media downloads are bounded by
	// their ctx only). The ctx of each call bounds the call, retries
	// included.
	HTTPClient *http.Client
	// AppSecret, when set, adds appsecret_proof to every Graph API call.
	AppSecret string
	// Throughput is how many messages per second each business phone
	// number may send (default [DefaultThroughput], at most
	// [MaxThroughput]). Sends beyond it wait for their turn rather than
	// fail. A number whose throughput level is reported HIGH, by
	// [Client.ListPhoneNumbers] or a phone_number_quality_update passed to
	// [Client.Observe], sends up to [MaxThroughput] instead.
	Throughput int
	// PairInterval and PairBurst pace messages to one user (defaults
	// [DefaultPairInterval] and [DefaultPairBurst]): a token bucket of
	// PairBurst refilled every PairInterval. Sends beyond it wait.
	PairInterval time.Duration
	PairBurst    int
	// MaxAttempts bounds the requests per message (default
	// [DefaultMaxAttempts]); 1 disables retries.
	MaxAttempts int
	// RetryDelay and MaxRetryDelay shape the backoff between retries
	// (defaults [DefaultRetryDelay], [DefaultMaxRetryDelay]).
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// MaxMediaBytes caps the media FetchMedia reads (default
	// [DefaultMaxMediaBytes]).
	MaxMediaBytes int64
	// LinkPreviews asks WhatsApp to render a preview of the first URL of
	// text messages that contain one.
	LinkPreviews bool
	// Logger receives the client's logs (nil: [slog.Default]). Requests
	// log at Debug, failures at Warn. Logs hold ids and codes, never
	// tokens, message text or phone numbers.
	Logger *slog.Logger
	// Accounts, when set, turns on the local template check: before a
	// template message is sent, the client looks up the business account
	// of the sending number with it and checks, against that account's
	// template list (fetched on first use and cached), that the template
	// exists in the message's language, is APPROVED, and that the
	// parameters fill its header, body and buttons. A message that fails
	// the check returns an error wrapping [channel.ErrInvalidMessage] and
	// one of [ErrTemplateNotFound], [ErrTemplateNotApproved] or
	// [ErrTemplateParams], without any send request. The list is fetched
	// again when a template is missing from it (at most once per
	// [DefaultTemplateRefresh] per account) and after [Client.Observe]
	// saw a template status, quality or category webhook for the account.
	// Nil: no check, the Cloud API alone judges templates.
	Accounts Accounts
	// Hooks are called on events, for metrics.
	Hooks Hooks
}

// Hooks are optional callbacks, called synchronously from the goroutine
// making the request, possibly from many goroutines at once: they must be
// safe for concurrent use and return quickly.
type Hooks struct {
	// Request is called after each request to the Cloud API.
	Request func(RequestInfo)
}

// RequestInfo describes one request to the Cloud API. It holds no token,
// text or phone number.
type RequestInfo struct {
	// Tenant is the business phone number called for, or the business
	// account for management calls.
	Tenant channel.TenantID
	// Op is what the request did: "send", "read", "typing", "upload",
	// "media" (resolving a media id) or "download"; for the management
	// calls, whose Tenant is the business account id, "templates",
	// "template", "template.create", "template.edit", "template.delete",
	// "phone_numbers", "profile", "profile.update", "upload.session" and
	// "upload.file".
	Op string
	// Attempt counts the requests for the same operation, from 1.
	Attempt int
	// HTTPStatus is the status of the answer, 0 when there was none.
	HTTPStatus int
	// Code is the Graph API error code, 0 on success.
	Code     int
	Duration time.Duration // of the request, answer read included
	Err      error         // the classified failure, nil on success
}

// Stats is a snapshot of a client's counters.
type Stats struct {
	// Requests counts requests made to the Cloud API; Retries the ones
	// that repeated a failed request.
	Requests int64
	Retries  int64
	// Sent counts messages the API accepted; Failed the sends that
	// returned an error.
	Sent   int64
	Failed int64
	// ThroughputWaits counts messages that waited for the business
	// number's throughput, PairWaits those that waited for the pacing of
	// messages to one user (including a pair rate limit backoff).
	ThroughputWaits int64
	PairWaits       int64
}

// Client is a [channel.Channel] for the WhatsApp Business Cloud API. It
// sends messages (splitting long texts, validating WhatsApp's limits before
// any request, retrying by error class, pacing by the throughput and pair
// rate limits), marks messages read, shows the typing indicator, uploads
// and fetches media. The tenant of every address is the business's
// phone_number_id.
//
// Create one with [New]. A Client is safe for concurrent use; it starts no
// goroutines.
type Client struct {
	creds         Credentials
	base          string // BaseURL + "/" + Version
	appSecret     string
	throughput    int
	pairInterval  time.Duration
	pairBurst     int
	maxAttempts   int
	caller        meta.Caller
	retryDelay    time.Duration
	maxMediaBytes int64
	linkPreviews  bool
	log           *slog.Logger
	hooks         Hooks

	accounts  Accounts
	limits    limits
	rates     rates
	templates templateCache
	n         struct {
		requests, retries, sent, failed, throughputWaits, pairWaits atomic.Int64
	}
}

var (
	_ channel.Channel         = (*Client)(nil)
	_ channel.ReadMarker      = (*Client)(nil)
	_ channel.TypingIndicator = (*Client)(nil)
	_ channel.MediaFetcher    = (*Client)(nil)
	_ channel.Windowed        = (*Client)(nil)
)

// New returns a Client that calls the Cloud API with the tokens creds gives,
// configured by opts (nil: defaults), or an error naming every problem with
// the configuration. It starts no goroutines.
func New(creds Credentials, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	var errs []error
	if creds == nil {
		errs = append(errs, errors.New("whatsapp: credentials are required"))
	}
	if t, ok := creds.(StaticToken); ok && t == "" {
		errs = append(errs, errors.New("whatsapp: the static access token is empty"))
	}
	o.BaseURL = strings.TrimRight(cmp.Or(o.BaseURL, DefaultBaseURL), "/")
	if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, errors.New("whatsapp: Options.BaseURL must be an http or https URL"))
	}
	o.Version = cmp.Or(o.Version, DefaultVersion)
	if strings.ContainsAny(o.Version, "/?#") {
		errs = append(errs, errors.New("whatsapp: Options.Version must be a version such as v25.0"))
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Throughput", int64(o.Throughput)},
		{"PairInterval", int64(o.PairInterval)},
		{"PairBurst", int64(o.PairBurst)},
		{"MaxAttempts", int64(o.MaxAttempts)},
		{"RetryDelay", int64(o.RetryDelay)},
		{"MaxRetryDelay", int64(o.MaxRetryDelay)},
		{"MaxMediaBytes", o.MaxMediaBytes},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("whatsapp: Options.%s must not be negative", f.name))
		}
	}
	if o.Throughput > MaxThroughput {
		errs = append(errs, fmt.Errorf("whatsapp: Options.Throughput must be at most %d", MaxThroughput))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Client{
		creds:         creds,
		base:          o.BaseURL + "/" + o.Version,
		appSecret:     o.AppSecret,
		throughput:    cmp.Or(o.Throughput, DefaultThroughput),
		pairInterval:  cmp.Or(o.PairInterval, DefaultPairInterval),
		pairBurst:     cmp.Or(o.PairBurst, DefaultPairBurst),
		maxAttempts:   cmp.Or(o.MaxAttempts, DefaultMaxAttempts),
		retryDelay:    cmp.Or(o.RetryDelay, DefaultRetryDelay),
		maxMediaBytes: cmp.Or(o.MaxMediaBytes, DefaultMaxMediaBytes),
		linkPreviews:  o.LinkPreviews,
		log:           o.Logger,
		hooks:         o.Hooks,
		accounts:      o.Accounts,
	}
	c.caller = meta.Caller{
		Channel:  channel.WhatsApp,
		HTTP:     meta.HTTPClient(o.HTTPClient, DefaultResponseTimeout),
		Backoff:  meta.Backoff{Base: c.retryDelay, Max: cmp.Or(o.MaxRetryDelay, DefaultMaxRetryDelay)},
		Classify: classify,
		MaxAttempts: func(e *channel.Error) int {
			if retryOnce(e.Code) {
				return 2
			}
			return 0
		},
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// validTenant reports whether t can be a phone_number_id: it becomes part
// of request paths.
func validTenant(t channel.TenantID) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Name implements [channel.Channel]: it returns [channel.WhatsApp].
func (c *Client) Name() channel.Name { return channel.WhatsApp }

// ServiceWindow implements [channel.Windowed]: it returns [ServiceWindow].
func (c *Client) ServiceWindow() time.Duration { return ServiceWindow }

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:        c.n.requests.Load(),
		Retries:         c.n.retries.Load(),
		Sent:            c.n.sent.Load(),
		Failed:          c.n.failed.Load(),
		ThroughputWaits: c.n.throughputWaits.Load(),
		PairWaits:       c.n.pairWaits.Load(),
	}
}

// MarkRead implements [channel.ReadMarker]: it marks the message id that to
// sent as read (blue ticks). It makes one request, counted against the
// number's throughput.
func (c *Client) MarkRead(ctx context.Context, to channel.Address, id channel.MessageID) error {
	return c.status(ctx, "read", to, id, false)
}

// Typing implements [channel.TypingIndicator]: one request marks id read
// and shows the typing indicator to to, until the reply is sent or for 25
// seconds.
func (c *Client) Typing(ctx context.Context, to channel.Address, id channel.MessageID) error {
	return c.status(ctx, "typing", to, id, true)
}

type statusRequest struct {
	MessagingProduct string           `json:"messaging_product"`
	Status           string           `json:"status"`
	MessageID        string           `json:"message_id"`
	TypingIndicator  *typingIndicator `json:"typing_indicator,omitempty"`
}

type typingIndicator struct {
	Type string `json:"type"`
}

func (c *Client) status(ctx context.Context, op string, to channel.Address, id channel.MessageID, typing bool) error {
	if !validTenant(to.Tenant) || id == "" {
		return invalidf("%s needs a tenant (a phone_number_id) and a message id", op)
	}
	if to.Channel != "" && to.Channel != channel.WhatsApp {
		return invalidf("address of channel %q", to.Channel)
	}
	body := statusRequest{MessagingProduct: "whatsapp", Status: "read", MessageID: string(id)}
	if typing {
		body.TypingIndicator = &typingIndicator{Type: "text"}
	}
	payload, err := meta.Marshal(body)
	if err != nil {
		return err
	}
	if _, err := c.tenantLimiter(to.Tenant).wait(ctx); err != nil {
		return err
	}
	var resp struct {
		Success bool `json:"success"`
	}
	_, err = c.call(ctx, call{op: op, tenant: to.Tenant, method: http.MethodPost, path: "/" + string(to.Tenant) + "/messages", body: payload, contentType: "application/json", attempts: 1}, &resp)
	return err
}

// call is one Cloud API operation, retried as its attempts allow.
type call struct {
	op          string
	tenant      channel.TenantID
	method      string
	path        string // under base
	rawURL      string // instead of path: an absolute URL (media downloads)
	body        []byte
	contentType string
	attempts    int
	// before runs before each retry, after the backoff; the send path
	// waits for its limiters there.
	before func(ctx context.Context) error
	// onError sees each failed attempt's classified error and may ask for
	// a longer wait before the next one.
	onError func(e *channel.Error) time.Duration
	// stream returns the response body unread on success, for downloads.
	stream bool
	// idempotent requests are retried even when their outcome is unknown.
	idempotent bool
	// creds, when set, give the token instead of the client's Credentials
	// (management calls made with an [Account]'s own credentials).
	creds Credentials
	// auth is the Authorization scheme: "Bearer" when empty; the
	// resumable upload API wants "OAuth".
	auth string
	// header holds extra request headers (file_offset).
	header http.Header
}

// callResult is what call returns besides the decoded body.
type callResult struct {
	attempts int
	body     io.ReadCloser // when stream
	header   http.Header
}

// call makes the request, retrying failures worth retrying with backoff
// and jitter, and decodes a successful JSON answer into out. It returns a
// *channel.Error for every failure but a done context.
//
// Requests whose outcome is unknown, because the connection failed after
// the request was written, are retried only when cl.idempotent: the API
// may have acted on them. Their error wraps [ErrUncertain].
func (c *Client) call(ctx context.Context, cl call, out any) (callResult, error) {
	caller := c.caller
	caller.Observe = func(a meta.Attempt) {
		c.n.requests.Add(1)
		if a.Number > 1 {
			c.n.retries.Add(1)
		}
		a.Log(ctx, c.log, "whatsapp: request", cl.tenant)
		if h := c.hooks.Request; h != nil {
			h(RequestInfo{Tenant: cl.tenant, Op: cl.op, Attempt: a.Number, HTTPStatus: a.Status, Code: a.Code, Duration: a.Elapsed, Err: a.Err})
		}
	}
	creds := c.creds
	if cl.creds != nil {
		creds = cl.creds
	}
	token, err := tokenOf(ctx, creds, cl.tenant)
	if err != nil {
		if ctx.Err() == nil {
			caller.Observe(meta.Attempt{Op: cl.op, Number: 1, Err: err})
		}
		return callResult{}, err
	}
	u := cl.rawURL
	if u == "" {
		u = meta.WithProof(c.base+cl.path, token, c.appSecret)
	}
	res, err := caller.Do(ctx, meta.Call{
		Op: cl.op, Method: cl.method, URL: u, Body: cl.body, ContentType: cl.contentType,
		Token: token, Auth: cl.auth, Header: cl.header,
		Attempts: cl.attempts, Idempotent: cl.idempotent, Before: cl.before, OnError: cl.onError,
		Out: out, Stream: cl.stream,
	})
	return callResult{attempts: res.Attempts, body: res.Stream, header: res.Header}, err
}

func tokenOf(ctx context.Context, creds Credentials, tenant channel.TenantID) (string, error) {
	token, err := creds.AccessToken(ctx, tenant)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrAuth, Err: fmt.Errorf("whatsapp: credentials: %w", err)}
	}
	if token == "" {
		return "", &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrAuth, Err: errors.New("whatsapp: credentials gave an empty access token")}
	}
	return token, nil
}
