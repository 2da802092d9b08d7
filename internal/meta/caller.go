package meta

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
)

// DefaultMaxAnswerBytes caps the answer to a Graph API call that [Caller]
// reads (1 MiB): answers are small JSON objects.
const DefaultMaxAnswerBytes = 1 << 20

// HTTPClient returns hc, or when hc is nil a client of its own whose
// transport waits at most responseTimeout for the headers of an answer:
// the default client of an adapter.
func HTTPClient(hc *http.Client, responseTimeout time.Duration) *http.Client {
	if hc != nil {
		return hc
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = responseTimeout
	return &http.Client{Transport: t}
}

// Caller makes Graph API calls for a channel adapter: it sends one request,
// reads and classifies the answer, and retries the failures worth retrying
// with backoff and jitter, honouring the API's wait hints, within the
// call's context. Every failure it returns but a done context is a
// [*channel.Error] whose Channel is Caller.Channel.
//
// A Caller holds no state of its own besides its configuration; it is safe
// for concurrent use once configured. Do not change its fields while calls
// run.
type Caller struct {
	// Channel names the adapter in the errors returned.
	Channel channel.Name
	// HTTP makes the requests. Required.
	HTTP *http.Client
	// Backoff shapes the waits between retries.
	Backoff Backoff
	// Classify turns an answer with a non-2xx status into the error to
	// return; it decides what is retried ([channel.Retryable]). Required.
	Classify func(status int, h http.Header, body []byte, now time.Time) *channel.Error
	// Observe, when set, is called after every request, from the calling
	// goroutine.
	Observe func(Attempt)
	// MaxAttempts, when set, may lower the attempts a failure allows: a
	// positive answer n ends the call once n requests were made (the
	// Cloud API's 131052 is worth one retry, not several).
	MaxAttempts func(e *channel.Error) int
}

// Call is one Graph API operation.
type Call struct {
	// Op names the operation in errors and in Observe ("send", "read",
	// "profile", ...).
	Op     string
	Method string
	// URL is the absolute URL called. Secrets in its query (an
	// appsecret_proof) never appear in errors.
	URL         string
	Body        []byte
	ContentType string
	// Token is sent as "Authorization: <Auth> <token>".
	Token string
	// Auth is the Authorization scheme; empty means "Bearer" (the
	// resumable upload API wants "OAuth").
	Auth string
	// Header holds extra request headers (the upload's file_offset).
	Header http.Header
	// Attempts bounds the requests made; 0 means 1.
	Attempts int
	// Idempotent calls are retried even when their outcome is unknown
	// (the connection failed after the request was written).
	Idempotent bool
	// Before, when set, runs before each retry, after the backoff (the
	// send path waits for its rate limiters there).
	Before func(ctx context.Context) error
	// OnError, when set, sees each failed attempt's error and may ask for
	// a longer wait before the next one (a pair backoff).
	OnError func(e *channel.Error) time.Duration
	// Out, when not nil, receives the decoded JSON of a successful answer;
	// an answer that does not decode fails with [channel.ErrUncertain].
	Out any
	// Stream returns a successful answer's body unread in Result.Stream,
	// for downloads; the caller closes it.
	Stream bool
}

// Result is what a successful [Caller.Do] returns.
type Result struct {
	// Attempts is how many requests the call took.
	Attempts   int
	HTTPStatus int
	Header     http.Header
	// Stream is the unread body, when Call.Stream was set.
	Stream io.ReadCloser
}

// Attempt describes one request, for [Caller.Observe]. It holds no token,
// URL or body.
type Attempt struct {
	Op      string
	Number  int // from 1
	Status  int // the HTTP status of the answer, 0 when there was none
	Code    int // the Graph error code, 0 on success
	Elapsed time.Duration
	Err     error // the classified failure, nil on success
}

// Log logs a as one line named msg ("whatsapp: request") with tenant:
// at debug level on success, warn on failure.
func (a Attempt) Log(ctx context.Context, log *slog.Logger, msg string, tenant channel.TenantID) {
	level := slog.LevelDebug
	if a.Err != nil {
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, msg,
		slog.String(logkey.Tenant, string(tenant)),
		slog.String(logkey.Op, a.Op),
		slog.Int(logkey.Attempt, a.Number),
		slog.Int(logkey.HTTPStatus, a.Status),
		slog.Int(logkey.Code, a.Code),
		slog.Duration(logkey.Duration, a.Elapsed),
		slog.Any(logkey.Error, a.Err))
}

// Do makes the call, retrying failures that [channel.Retryable] accepts, up
// to Call.Attempts requests (or fewer, as Caller.MaxAttempts says). The wait before retry n is the longest of
// Backoff.Delay(n), the answer's RetryAfter and what OnError asked for; a
// wait that would outlast ctx's deadline is not made and the last failure
// returned at once. A request whose outcome is unknown is retried only when
// the call is idempotent; its error wraps [channel.ErrUncertain] and
// [channel.ErrUnavailable]. When ctx is done while waiting, the error joins
// the last failure and ctx.Err().
func (c *Caller) Do(ctx context.Context, cl Call) (Result, error) {
	attempts := max(1, cl.Attempts)
	var last *channel.Error
	var hint time.Duration
	res := Result{}
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			wait := max(c.Backoff.Delay(attempt-1), last.RetryAfter, hint)
			if !Fits(ctx, wait) {
				return res, last
			}
			if err := Sleep(ctx, wait); err != nil {
				return res, errors.Join(last, err)
			}
			if cl.Before != nil {
				if err := cl.Before(ctx); err != nil {
					return res, errors.Join(last, err)
				}
			}
		}
		res.Attempts = attempt
		err := c.once(ctx, cl, attempt, &res)
		if err == nil {
			return res, nil
		}
		var ce *channel.Error
		if !errors.As(err, &ce) {
			return res, err // the context is done
		}
		ce.Attempts = attempt
		last = ce
		if cl.OnError != nil {
			hint = cl.OnError(ce)
			ce.RetryAfter = max(ce.RetryAfter, hint)
		}
		if attempt >= attempts || !retryable(ce, cl.Idempotent) || c.MaxAttempts != nil && capped(attempt, c.MaxAttempts(ce)) {
			return res, ce
		}
	}
}

// retryable reports whether a failed attempt is worth another: what
// channel.Retryable accepts, and for idempotent calls also an unknown
// outcome, which repeating cannot make worse.
func retryable(e *channel.Error, idempotent bool) bool {
	if errors.Is(e, channel.ErrUncertain) {
		return idempotent
	}
	return channel.Retryable(e)
}

// capped reports whether attempt reached a positive limit.
func capped(attempt, limit int) bool { return limit > 0 && attempt >= limit }

func (c *Caller) once(ctx context.Context, cl Call, attempt int, res *Result) error {
	start := time.Now()
	info := Attempt{Op: cl.Op, Number: attempt}
	err := c.roundTrip(ctx, cl, res)
	info.Status, info.Elapsed, info.Err = res.HTTPStatus, time.Since(start), err
	var ce *channel.Error
	if errors.As(err, &ce) {
		info.Code = ce.Code
	}
	if c.Observe != nil {
		c.Observe(info)
	}
	return err
}

func (c *Caller) roundTrip(ctx context.Context, cl Call, res *Result) error {
	res.HTTPStatus, res.Header = 0, nil
	var rd io.Reader
	if cl.Body != nil {
		rd = bytes.NewReader(cl.Body)
	}
	// wrote records whether the request reached the wire, to tell a
	// failure that certainly did nothing from one that may have.
	var wrote atomic.Bool
	tctx := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(tctx, cl.Method, cl.URL, rd)
	if err != nil {
		return &channel.Error{Channel: c.Channel, Kind: channel.ErrInvalidMessage, Err: fmt.Errorf("%s: building the %s request failed", c.Channel, cl.Op)}
	}
	for k, v := range cl.Header {
		req.Header[k] = v
	}
	if cl.Token != "" {
		req.Header.Set("Authorization", cmp.Or(cl.Auth, "Bearer")+" "+cl.Token)
	}
	if cl.ContentType != "" {
		req.Header.Set("Content-Type", cl.ContentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return c.transportErr(ctx, cl, err, wrote.Load())
	}
	res.HTTPStatus = resp.StatusCode
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		res.Header = resp.Header
		if cl.Stream {
			res.Stream = resp.Body
			return nil
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, DefaultMaxAnswerBytes))
		if err != nil {
			return &channel.Error{Channel: c.Channel, Kind: channel.ErrUnavailable, HTTPStatus: resp.StatusCode,
				Err: fmt.Errorf("%w: reading the answer failed", channel.ErrUncertain)}
		}
		if cl.Out != nil {
			if err := json.Unmarshal(data, cl.Out); err != nil {
				return &channel.Error{Channel: c.Channel, Kind: channel.ErrUnavailable, HTTPStatus: resp.StatusCode,
					Err: fmt.Errorf("%w: the answer is not the expected JSON", channel.ErrUncertain)}
			}
		}
		return nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return c.Classify(resp.StatusCode, resp.Header, data, time.Now())
}

// transportErr classifies a request that got no answer. Before the request
// was written nothing happened, and it may be retried; after, the API may
// have acted on it, and the error wraps channel.ErrUncertain. The URL,
// which may carry appsecret_proof, is left out.
func (c *Caller) transportErr(ctx context.Context, cl Call, err error, wrote bool) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if ctx.Err() != nil && !wrote {
		return ctx.Err()
	}
	e := &channel.Error{Channel: c.Channel, Kind: channel.ErrUnavailable}
	if wrote {
		e.Err = fmt.Errorf("%w: %s %s: %w", channel.ErrUncertain, cl.Method, cl.Op, err)
	} else {
		e.Err = fmt.Errorf("%s: %s %s: %w", c.Channel, cl.Method, cl.Op, err)
	}
	return e
}

// ClassifyStatus returns the sentinel an error answer without a known
// Graph error code calls for, by its HTTP status: 5xx unavailable, 429
// rate limited, 401 and 403 auth, anything else an invalid request.
func ClassifyStatus(status int) error {
	switch {
	case status >= 500:
		return channel.ErrUnavailable
	case status == http.StatusTooManyRequests:
		return channel.ErrRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return channel.ErrAuth
	}
	return channel.ErrInvalidMessage
}
