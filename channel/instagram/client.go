package instagram

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// Defaults for the zero values of [Options].
const (
	// DefaultBaseURL is the Graph API host of the Instagram API with
	// Instagram Login. Apps on Facebook Login (a Page linked to the
	// account) use "https://graph.facebook.com" with Options.UseMe.
	DefaultBaseURL = "https://graph.instagram.com"
	// DefaultVersion is the Graph API version called.
	DefaultVersion = "v25.0"
	// DefaultThroughput is how many messages per second one Instagram
	// professional account sends: the Send API allows 300 calls per
	// second for text, links, reactions and stickers.
	DefaultThroughput = 300
	// DefaultMediaThroughput is how many audio and video messages per
	// second one account sends: the Send API allows 10.
	DefaultMediaThroughput = 10
	// DefaultMaxAttempts is how many requests one message may take, the
	// first included, when the API fails in a way worth retrying.
	DefaultMaxAttempts = 4
	// DefaultRetryDelay is the wait before the first retry; it doubles
	// with each retry, with jitter, up to DefaultMaxRetryDelay.
	DefaultRetryDelay    = time.Second
	DefaultMaxRetryDelay = 30 * time.Second
	// DefaultResponseTimeout is how long the default HTTP client waits for
	// the headers of an answer.
	DefaultResponseTimeout = 30 * time.Second
	// DefaultProfileTTL is how long a looked-up profile is cached, and
	// DefaultProfileCacheSize how many are.
	DefaultProfileTTL       = 10 * time.Minute
	DefaultProfileCacheSize = 1024
	// ServiceWindow is Instagram's standard messaging window: free-form
	// messages may be sent only this long after the user's latest message.
	ServiceWindow = 24 * time.Hour
	// HumanAgentWindow is how long after the user's latest message a human
	// agent may still answer, with the HUMAN_AGENT tag: messages with
	// channel.Outbound.Human set (see [Client.Send]).
	HumanAgentWindow = 7 * 24 * time.Hour
)

// Credentials gives the access token to call the Graph API with for an
// Instagram professional account (the tenant), so that one process can
// serve many accounts, each with its own token.
//
// AccessToken is called before each request, from many goroutines at once;
// implementations cache and refresh tokens (Instagram user tokens live 60
// days and must be refreshed) as they see fit. ctx bounds the call. An
// error, or an empty token, fails the request with [channel.ErrAuth].
// Tokens are sent in the Authorization header, never in URLs, and are never
// logged.
type Credentials interface {
	AccessToken(ctx context.Context, tenant channel.TenantID) (string, error)
}

// StaticToken is one access token used for every account.
type StaticToken string

// AccessToken implements [Credentials].
func (t StaticToken) AccessToken(context.Context, channel.TenantID) (string, error) {
	return string(t), nil
}

// Options configures a [Client]. A nil *Options, like the zero value, gives
// the defaults.
type Options struct {
	// BaseURL is the Graph API's address (default [DefaultBaseURL]); tests
	// and proxies point it elsewhere.
	BaseURL string
	// Version is the Graph API version (default [DefaultVersion]).
	Version string
	// UseMe sends through /me/messages, the account being the token's,
	// instead of /{tenant}/messages. Apps on Facebook Login need it: their
	// webhook names the Instagram account, their token the Page.
	UseMe bool
	// HTTPClient makes the requests (default: a client whose transport
	// waits at most [DefaultResponseTimeout] for an answer to start). The
	// ctx of each call bounds the call, retries included.
	HTTPClient *http.Client
	// AppSecret, when set, adds appsecret_proof to every call.
	AppSecret string
	// Throughput and MediaThroughput are how many messages per second
	// each account may send, and how many of them audio or video
	// (defaults [DefaultThroughput], [DefaultMediaThroughput]). Sends
	// beyond them wait for their turn rather than fail.
	Throughput      int
	MediaThroughput int
	// MaxAttempts bounds the requests per message (default
	// [DefaultMaxAttempts]); 1 disables retries.
	MaxAttempts int
	// RetryDelay and MaxRetryDelay shape the backoff between retries
	// (defaults [DefaultRetryDelay], [DefaultMaxRetryDelay]).
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration
	// ProfileTTL and ProfileCacheSize bound the cache of [Client.Profile]
	// (defaults [DefaultProfileTTL], [DefaultProfileCacheSize]).
	ProfileTTL       time.Duration
	ProfileCacheSize int
	// Logger receives the client's logs (nil: [slog.Default]). Requests
	// log at Debug, failures at Warn. Logs hold ids and codes, never
	// tokens, message text or user ids.
	Logger *slog.Logger
	// Hooks are called on events, for metrics.
	Hooks Hooks
}

// Hooks are optional callbacks, called synchronously from the goroutine
// making the request: they must be safe for concurrent use and return
// quickly.
type Hooks struct {
	// Request is called after each request to the Graph API.
	Request func(RequestInfo)
}

// RequestInfo describes one request. It holds no token, text or user id.
type RequestInfo struct {
	Tenant channel.TenantID // the account called for
	// Op is what the request did: "send", "read", "typing" or "profile".
	Op string
	// Attempt counts the requests for the same operation, from 1.
	Attempt int
	// HTTPStatus is the status of the answer, 0 when there was none.
	HTTPStatus int
	// Code is the Graph API error code, 0 on success.
	Code     int
	Duration time.Duration
	Err      error // the classified failure, nil on success
}

// Stats is a snapshot of a client's counters.
type Stats struct {
	// Requests counts requests made; Retries the ones that repeated a
	// failed request.
	Requests int64
	Retries  int64
	// Sent counts messages the API accepted; Failed the sends that
	// returned an error; WindowClosed the sends refused without a request
	// because the user's window is known to be closed.
	Sent         int64
	Failed       int64
	WindowClosed int64
	// ThroughputWaits counts messages that waited for the account's
	// throughput.
	ThroughputWaits int64
	// HumanAgentTags counts messages sent with the HUMAN_AGENT tag.
	HumanAgentTags int64
	// ProfileHits and ProfileMisses count profile lookups answered from
	// the cache and by a request.
	ProfileHits   int64
	ProfileMisses int64
}

// Client is a [channel.Channel] for Instagram Direct, through the Graph
// API's Send API. It sends text (split above 1000 bytes), image, video,
// audio and file attachments by URL, quick replies, and generic template
// cards; it marks messages seen, shows the typing indicator, looks up
// profiles, and keeps to the messaging window. The tenant of every address
// is the Instagram professional account id, the user the customer's
// Instagram-scoped id (IGSID).
//
// Create one with [New]. A Client is safe for concurrent use; it starts no
// goroutines.
type Client struct {
	creds       Credentials
	base        string // BaseURL + "/" + Version
	useMe       bool
	appSecret   string
	throughput  int
	mediaRate   int
	maxAttempts int
	retryDelay  time.Duration
	log         *slog.Logger
	hooks       Hooks
	caller      meta.Caller

	limits   meta.Limiters[channel.TenantID]
	media    meta.Limiters[channel.TenantID]
	windows  windows
	profiles profileCache
	n        struct {
		requests, retries, sent, failed, windowClosed, throughputWaits, humanTags, profileHits, profileMisses atomic.Int64
	}
}

var (
	_ channel.Channel         = (*Client)(nil)
	_ channel.ReadMarker      = (*Client)(nil)
	_ channel.TypingIndicator = (*Client)(nil)
	_ channel.Windowed        = (*Client)(nil)
	_ channel.HumanWindowed   = (*Client)(nil)
)

// New returns a Client that calls the Graph API with the tokens creds
// gives, configured by opts (nil: defaults), or an error naming every
// problem with the configuration. It starts no goroutines.
func New(creds Credentials, opts *Options) (*Client, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	var errs []error
	if creds == nil {
		errs = append(errs, errors.New("instagram: credentials are required"))
	}
	if t, ok := creds.(StaticToken); ok && t == "" {
		errs = append(errs, errors.New("instagram: the static access token is empty"))
	}
	o.BaseURL = strings.TrimRight(cmp.Or(o.BaseURL, DefaultBaseURL), "/")
	if u, err := url.Parse(o.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, errors.New("instagram: Options.BaseURL must be an http or https URL"))
	}
	o.Version = cmp.Or(o.Version, DefaultVersion)
	if strings.ContainsAny(o.Version, "/?#") {
		errs = append(errs, errors.New("instagram: Options.Version must be a version such as v25.0"))
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Throughput", int64(o.Throughput)},
		{"MediaThroughput", int64(o.MediaThroughput)},
		{"MaxAttempts", int64(o.MaxAttempts)},
		{"RetryDelay", int64(o.RetryDelay)},
		{"MaxRetryDelay", int64(o.MaxRetryDelay)},
		{"ProfileTTL", int64(o.ProfileTTL)},
		{"ProfileCacheSize", int64(o.ProfileCacheSize)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("instagram: Options.%s must not be negative", f.name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Client{
		creds:       creds,
		base:        o.BaseURL + "/" + o.Version,
		useMe:       o.UseMe,
		appSecret:   o.AppSecret,
		throughput:  cmp.Or(o.Throughput, DefaultThroughput),
		mediaRate:   cmp.Or(o.MediaThroughput, DefaultMediaThroughput),
		maxAttempts: cmp.Or(o.MaxAttempts, DefaultMaxAttempts),
		retryDelay:  cmp.Or(o.RetryDelay, DefaultRetryDelay),
		log:         cmp.Or(o.Logger, slog.Default()),
		hooks:       o.Hooks,
		profiles:    profileCache{ttl: cmp.Or(o.ProfileTTL, DefaultProfileTTL), size: cmp.Or(o.ProfileCacheSize, DefaultProfileCacheSize)},
	}
	c.caller = meta.Caller{
		Channel:  channel.Instagram,
		HTTP:     meta.HTTPClient(o.HTTPClient, DefaultResponseTimeout),
		Backoff:  meta.Backoff{Base: c.retryDelay, Max: cmp.Or(o.MaxRetryDelay, DefaultMaxRetryDelay)},
		Classify: classify,
	}
	return c, nil
}

// validID reports whether s can be an account or user id: it becomes part
// of request paths.
func validID[T ~string](s T) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Name implements [channel.Channel]: it returns [channel.Instagram].
func (c *Client) Name() channel.Name { return channel.Instagram }

// ServiceWindow implements [channel.Windowed]: it returns [ServiceWindow],
// the window of automated replies.
func (c *Client) ServiceWindow() time.Duration { return ServiceWindow }

// HumanAgentWindow implements [channel.HumanWindowed]: it returns
// [HumanAgentWindow], the window of messages a person wrote
// (channel.Outbound.Human set).
func (c *Client) HumanAgentWindow() time.Duration { return HumanAgentWindow }

// Stats returns a snapshot of the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:        c.n.requests.Load(),
		Retries:         c.n.retries.Load(),
		Sent:            c.n.sent.Load(),
		Failed:          c.n.failed.Load(),
		WindowClosed:    c.n.windowClosed.Load(),
		ThroughputWaits: c.n.throughputWaits.Load(),
		HumanAgentTags:  c.n.humanTags.Load(),
		ProfileHits:     c.n.profileHits.Load(),
		ProfileMisses:   c.n.profileMisses.Load(),
	}
}

// MarkRead implements [channel.ReadMarker]: it marks the conversation with
// to as seen (Instagram marks the latest message; id is not sent). It makes
// one request.
func (c *Client) MarkRead(ctx context.Context, to channel.Address, id channel.MessageID) error {
	return c.senderAction(ctx, "read", to, "mark_seen")
}

// Typing implements [channel.TypingIndicator]: it marks the conversation
// seen and shows the typing indicator to to, which disappears when the
// reply arrives. Two requests; id is not sent.
func (c *Client) Typing(ctx context.Context, to channel.Address, id channel.MessageID) error {
	if err := c.senderAction(ctx, "read", to, "mark_seen"); err != nil {
		return err
	}
	return c.senderAction(ctx, "typing", to, "typing_on")
}

type senderActionRequest struct {
	Recipient    wireRecipient `json:"recipient"`
	SenderAction string        `json:"sender_action"`
}

func (c *Client) senderAction(ctx context.Context, op string, to channel.Address, action string) error {
	if to.Channel != "" && to.Channel != channel.Instagram {
		return invalidf("address of channel %q", to.Channel)
	}
	if !validID(to.Tenant) || !validID(to.User) {
		return invalidf("%s needs a tenant (an Instagram account id) and a user (an IGSID)", op)
	}
	body, err := meta.Marshal(senderActionRequest{Recipient: wireRecipient{ID: string(to.User)}, SenderAction: action})
	if err != nil {
		return err
	}
	if _, err := c.limits.Get(to.Tenant, rate.Limit(c.throughput), c.throughput, time.Second).Wait(ctx); err != nil {
		return c.limitErr(err)
	}
	var resp struct {
		RecipientID string `json:"recipient_id"`
	}
	_, err = c.call(ctx, to.Tenant, meta.Call{Op: op, Method: http.MethodPost, URL: c.messagesURL(to.Tenant), Body: body,
		ContentType: "application/json", Attempts: 2, Idempotent: true, Out: &resp})
	return err
}

func (c *Client) messagesURL(tenant channel.TenantID) string {
	if c.useMe {
		return c.base + "/me/messages"
	}
	return c.base + "/" + string(tenant) + "/messages"
}

// call makes cl for tenant with tenant's token, counting, logging and
// reporting each request.
func (c *Client) call(ctx context.Context, tenant channel.TenantID, cl meta.Call) (meta.Result, error) {
	token, err := c.token(ctx, tenant)
	if err != nil {
		return meta.Result{}, err
	}
	cl.Token = token
	cl.URL = meta.WithProof(cl.URL, token, c.appSecret)
	caller := c.caller
	caller.Observe = func(a meta.Attempt) {
		c.n.requests.Add(1)
		if a.Number > 1 {
			c.n.retries.Add(1)
		}
		a.Log(ctx, c.log, "instagram: request", tenant)
		if h := c.hooks.Request; h != nil {
			h(RequestInfo{Tenant: tenant, Op: a.Op, Attempt: a.Number, HTTPStatus: a.Status, Code: a.Code, Duration: a.Elapsed, Err: a.Err})
		}
	}
	return caller.Do(ctx, cl)
}

func (c *Client) token(ctx context.Context, tenant channel.TenantID) (string, error) {
	token, err := c.creds.AccessToken(ctx, tenant)
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", &channel.Error{Channel: channel.Instagram, Kind: channel.ErrAuth, Err: fmt.Errorf("instagram: credentials: %w", err)}
	}
	if token == "" {
		return "", &channel.Error{Channel: channel.Instagram, Kind: channel.ErrAuth, Err: errors.New("instagram: credentials gave an empty access token")}
	}
	return token, nil
}

// limitErr turns a limiter's pause that outlasts the deadline into a
// rate-limit error; other errors (a done context) pass.
func (c *Client) limitErr(err error) error {
	var pe *meta.PauseError
	if errors.As(err, &pe) {
		return &channel.Error{Channel: channel.Instagram, Kind: channel.ErrRateLimited, RetryAfter: pe.Left, Err: pe}
	}
	return err
}
