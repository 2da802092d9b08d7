package whatsapp

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// ErrUncertain marks a send whose outcome is unknown: the connection failed
// after the request was written, or the answer could not be read, so the
// Cloud API may have accepted the message. Such sends are not retried,
// because a retry could deliver the message twice; the error also wraps
// [channel.ErrUnavailable]. It is [channel.ErrUncertain]: the agent then
// waits for a status webhook before sending the reply again.
var ErrUncertain = channel.ErrUncertain

// GraphError is the Graph API's description of a failure, found with
// [errors.As] in the errors the [Client] returns:
//
//	var ge *whatsapp.GraphError
//	if errors.As(err, &ge) {
//		log.Print(ge.Code, ge.Subcode, ge.TraceID)
//	}
type GraphError = meta.GraphError

// Kind returns the sentinel of package channel that classifies the Cloud
// API error code, or nil when the code is not one wagent knows; the HTTP
// status then decides (see [Client.Send]).
//
//   - [channel.ErrRateLimited], retried: 4 and 80007 (app and account rate
//     limits), 613, 130429 (throughput), 131056 (pair rate limit).
//   - [channel.ErrUnavailable], retried: 1, 2, 131000 (something went
//     wrong), 131016 (service overloaded), 131057 (maintenance), 133004,
//     and 131052 (the media could not be downloaded), which is retried
//     once only: a second failure means the media itself is at fault.
//   - [channel.ErrWindowClosed]: 131047 (more than 24 hours since the
//     user's last message).
//   - [channel.ErrAuth]: 0, 190 (token), 3, 10 and 200-299 (permissions).
//   - [channel.ErrUndeliverable]: 131021, 131026 (cannot be delivered),
//     131030, 131031 (account locked), 131045, 131048 (spam), 131049
//     (Meta chose not to deliver), 131050, 131062, 368 (policy block).
//   - [channel.ErrInvalidMessage]: 100, 131008, 131009, 131051, 131053
//     (the media could not be uploaded: its MIME type or size is wrong),
//     132000-132999 (templates), 135000.
func Kind(code int) error {
	switch code {
	case 4, 80007, 613, 130429, 131056:
		return channel.ErrRateLimited
	case 1, 2, 131000, 131016, 131052, 131057, 133004:
		return channel.ErrUnavailable
	case 131047:
		return channel.ErrWindowClosed
	case 0, 190, 3, 10:
		return channel.ErrAuth
	case 131021, 131026, 131030, 131031, 131045, 131048, 131049, 131050, 131062, 368:
		return channel.ErrUndeliverable
	case 100, 131008, 131009, 131051, 131053, 135000:
		return channel.ErrInvalidMessage
	}
	switch {
	case code >= 200 && code <= 299:
		return channel.ErrAuth
	case code >= 132000 && code <= 132999:
		return channel.ErrInvalidMessage
	}
	return nil
}

// retryOnce are the codes retried at most once, whatever
// Options.MaxAttempts allows.
func retryOnce(code int) bool { return code == 131052 }

// classify turns an error answer into a *channel.Error.
func classify(status int, h http.Header, body []byte, now time.Time) *channel.Error {
	e := &channel.Error{Channel: channel.WhatsApp, HTTPStatus: status, RetryAfter: meta.RetryAfter(h, now)}
	ge := meta.ParseGraphError(status, body)
	if ge != nil {
		e.Code, e.Err = ge.Code, ge
		// Code 0 (an auth failure) is trusted on 4xx answers only; a 5xx
		// page with an error object but no code is an outage.
		if ge.Code != 0 || status < 500 {
			e.Kind = Kind(ge.Code)
		}
	} else {
		e.Err = fmt.Errorf("whatsapp: http status %d without a graph error", status)
	}
	if e.Kind == nil {
		switch {
		case status >= 500:
			e.Kind = channel.ErrUnavailable
		case status == http.StatusTooManyRequests:
			e.Kind = channel.ErrRateLimited
		case status == http.StatusUnauthorized || status == http.StatusForbidden:
			e.Kind = channel.ErrAuth
		default:
			e.Kind = channel.ErrInvalidMessage
		}
	}
	return e
}

func invalidf(format string, args ...any) error {
	return &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrInvalidMessage, Err: fmt.Errorf("whatsapp: "+format, args...)}
}

// Errors of the template check (Options.Accounts), wrapped with
// [channel.ErrInvalidMessage] in the [*channel.Error] that Send returns.
var (
	// ErrTemplateNotFound: the business account has no template of that
	// name in that language.
	ErrTemplateNotFound = errors.New("whatsapp: template not found")
	// ErrTemplateNotApproved: the template exists but its status is not
	// APPROVED (pending, rejected, paused, disabled...).
	ErrTemplateNotApproved = errors.New("whatsapp: template not approved")
	// ErrTemplateParams: the message's parameters do not fill the
	// template's components (a count, a name or a kind differs).
	ErrTemplateParams = errors.New("whatsapp: template parameters do not match")
)

// errNoAccount is what [AccountMap] answers for a number it does not hold.
var errNoAccount = errors.New("whatsapp: no business account is known for the phone number id")

// templateErr returns the error of a template that fails the local check.
func templateErr(kind error, format string, args ...any) error {
	return &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrInvalidMessage, Err: fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)}
}

// errUploadAnswer: the resumable upload API answered without the session
// id or file handle it owes.
var errUploadAnswer = fmt.Errorf("%w: the upload answer has no session id or handle", ErrUncertain)
