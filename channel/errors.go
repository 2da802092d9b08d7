package channel

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Channel adapters wrap them, usually through [*Error], so
// that callers classify failures with [errors.Is] without knowing the
// provider's codes.
var (
	// ErrInvalidMessage: the message breaks the channel's rules or limits;
	// sending it again will fail again.
	ErrInvalidMessage = errors.New("channel: invalid message")
	// ErrUnsupported: the channel cannot send this kind of message.
	ErrUnsupported = errors.New("channel: unsupported message kind")
	// ErrWindowClosed: the customer-service window is closed; only
	// templates may be sent (WhatsApp 131047).
	ErrWindowClosed = errors.New("channel: customer service window closed")
	// ErrRateLimited: a throughput or pair rate limit was hit; retry after
	// a pause.
	ErrRateLimited = errors.New("channel: rate limited")
	// ErrUnavailable: the provider failed temporarily; retry.
	ErrUnavailable = errors.New("channel: provider unavailable")
	// ErrAuth: the credentials were refused; retrying will not help until
	// they are fixed.
	ErrAuth = errors.New("channel: authentication failed")
	// ErrUndeliverable: the provider refused this recipient or message for
	// good (not on the service, blocked, spam, policy).
	ErrUndeliverable = errors.New("channel: undeliverable")
	// ErrClosed: the channel or receiver has been shut down.
	ErrClosed = errors.New("channel: closed")
	// ErrUncertain: the request may have reached the provider and been
	// accepted (the connection failed after it was written); sending again
	// could deliver the message twice. Not [Retryable]: a delivery status
	// may still tell.
	ErrUncertain = errors.New("channel: outcome unknown")
)

// Error is a failure reported by a channel's provider. Unwrap returns both
// Kind, one of the sentinels above, and the provider's own error, so both
// errors.Is(err, channel.ErrRateLimited) and errors.As work.
type Error struct {
	Channel Name
	// Kind is the sentinel that classifies the failure.
	Kind error
	// Code is the provider's error code (WhatsApp 131047, ...), 0 if none.
	Code int
	// HTTPStatus is the status of the provider's answer, 0 if none.
	HTTPStatus int
	// RetryAfter is how long the provider asked to wait, 0 if it did not say.
	RetryAfter time.Duration
	// Attempts is how many requests were made before giving up, the
	// channel's own retries included; 0 means 1.
	Attempts int
	// Err is the provider-specific cause, if any.
	Err error
}

// Error implements error. It never contains message text or user ids.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("channel: ")
	b.WriteString(string(e.Channel))
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "channel: "))
	} else {
		b.WriteString("error")
	}
	if e.Code != 0 {
		b.WriteString(" (code ")
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteString(")")
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns Kind and Err.
func (e *Error) Unwrap() []error {
	errs := make([]error, 0, 2)
	for _, err := range [...]error{e.Kind, e.Err} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Retryable reports whether a send that failed with err may succeed if tried
// again later: rate limits and temporary provider failures.
func Retryable(err error) bool {
	return !errors.Is(err, ErrUncertain) && (errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable))
}
