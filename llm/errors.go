package llm

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors. Adapters return them wrapped in [*Error] so that callers
// classify failures with [errors.Is], whatever the provider.
var (
	// ErrRateLimited: the provider refused the call for rate or quota;
	// retry after Error.RetryAfter.
	ErrRateLimited = errors.New("llm: rate limited")
	// ErrUnavailable: the provider failed or timed out; retry, or fall back
	// to another provider.
	ErrUnavailable = errors.New("llm: provider unavailable")
	// ErrContextTooLong: the request exceeds the model's context window;
	// send less history.
	ErrContextTooLong = errors.New("llm: context too long")
	// ErrContentBlocked: a safety filter blocked the prompt or the answer.
	ErrContentBlocked = errors.New("llm: content blocked")
	// ErrInvalidRequest: the provider rejected the request as malformed;
	// retrying or falling back will not help.
	ErrInvalidRequest = errors.New("llm: invalid request")
	// ErrAuth: the credentials were refused.
	ErrAuth = errors.New("llm: authentication failed")
)

// Error is a failed model call. Unwrap returns Kind, one of the sentinels,
// and Err, the provider's own error, so both errors.Is and errors.As see
// them.
type Error struct {
	// Provider is the Name of the provider that failed.
	Provider string
	// Kind is the sentinel that classifies the failure.
	Kind error
	// StatusCode is the HTTP status of the provider's answer, 0 if none.
	StatusCode int
	// Code is the provider's error code or type ("rate_limit_exceeded").
	Code string
	// RetryAfter is how long the provider asked to wait, 0 if it did not say.
	RetryAfter time.Duration
	// Err is the provider's own error. Adapters keep it free of request
	// content: vendors sometimes quote the prompt in error messages.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("llm: ")
	b.WriteString(e.Provider)
	b.WriteString(": ")
	if e.Kind != nil {
		b.WriteString(strings.TrimPrefix(e.Kind.Error(), "llm: "))
	} else {
		b.WriteString("error")
	}
	if e.StatusCode != 0 {
		b.WriteString(" (HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
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

// Retryable reports whether a call that failed with err may succeed if made
// again later or elsewhere: rate limits and unavailability.
func Retryable(err error) bool {
	return errors.Is(err, ErrRateLimited) || errors.Is(err, ErrUnavailable)
}
