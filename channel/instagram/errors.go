package instagram

import (
	"fmt"
	"net/http"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// ErrUncertain marks a send whose outcome is unknown: the connection
// failed after the request was written, or the answer could not be read,
// so the Graph API may have accepted the message. Such sends are not
// retried, because a retry could deliver the message twice; the error also
// wraps [channel.ErrUnavailable]. It is [channel.ErrUncertain].
var ErrUncertain = channel.ErrUncertain

// GraphError is the Graph API's description of a failure, found with
// [errors.As] in the errors the [Client] returns (code, subcode, type,
// details, fbtrace_id).
type GraphError = meta.GraphError

// Subcodes of the Graph API that decide a classification on their own,
// whatever the code.
const (
	subcodeOutsideWindow     = 2534022 // Instagram: sent outside of the allowed window
	subcodeOutsideWindowPage = 2018278 // Messenger Platform: sent outside of the allowed window
	subcodeNewsMessaging     = 2018065 // outside of the window, needs another permission
	subcodeUserNotFound      = 2534014 // Instagram: the user cannot be found
	subcodeNoMatchingUser    = 2018001 // no matching user found
	subcodeThreadGone        = 2534001 // the thread was archived or deleted
	subcodeUnavailableUser   = 1545041 // this person isn't available right now
	subcodeTemporary         = 1545133 // service temporarily unavailable
)

// Kind returns the sentinel of package channel that classifies the Graph
// API error code and subcode of an Instagram Messaging call, or nil when
// wagent does not know them; the HTTP status then decides (5xx
// unavailable, 429 rate limited, 401/403 auth, others invalid).
//
//   - [channel.ErrWindowClosed]: subcodes 2534022 and 2018278 ("this
//     message is sent outside of allowed window") and 2018065, whatever
//     the code (usually 10).
//   - [channel.ErrUndeliverable]: 551 (this person isn't available), 368
//     (policy block), and subcodes 2534014 and 2018001 (no such user),
//     2534001 (thread archived or deleted), 1545041.
//   - [channel.ErrRateLimited], retried: 4, 17, 32, 613, 80002 (too many
//     calls to this Instagram account), 80006 (messaging rate limit).
//   - [channel.ErrUnavailable], retried: 1, 2, 1200 (temporary send
//     failure), -1, and subcode 1545133.
//   - [channel.ErrAuth]: 0, 102, 190 (token), 3, 10, 200-299
//     (permissions).
//   - [channel.ErrInvalidMessage]: 100 (invalid parameter, attachment
//     that cannot be fetched).
func Kind(code, subcode int) error {
	switch subcode {
	case subcodeOutsideWindow, subcodeOutsideWindowPage, subcodeNewsMessaging:
		return channel.ErrWindowClosed
	case subcodeUserNotFound, subcodeNoMatchingUser, subcodeThreadGone, subcodeUnavailableUser:
		return channel.ErrUndeliverable
	case subcodeTemporary:
		return channel.ErrUnavailable
	}
	switch code {
	case 551, 368:
		return channel.ErrUndeliverable
	case 4, 17, 32, 613, 80002, 80006:
		return channel.ErrRateLimited
	case 1, 2, 1200, -1:
		return channel.ErrUnavailable
	case 0, 102, 190, 3, 10:
		return channel.ErrAuth
	case 100:
		return channel.ErrInvalidMessage
	}
	if code >= 200 && code <= 299 {
		return channel.ErrAuth
	}
	return nil
}

// classify turns an error answer into a *channel.Error.
func classify(status int, h http.Header, body []byte, now time.Time) *channel.Error {
	e := &channel.Error{Channel: channel.Instagram, HTTPStatus: status, RetryAfter: meta.RetryAfter(h, now)}
	if ge := meta.ParseGraphError(status, body); ge != nil {
		e.Code, e.Err = ge.Code, ge
		// Code 0 (an auth failure) is trusted on 4xx answers only; a 5xx
		// page with an error object but no code is an outage.
		if ge.Code != 0 || ge.Subcode != 0 || status < 500 {
			e.Kind = Kind(ge.Code, ge.Subcode)
		}
	} else {
		e.Err = fmt.Errorf("instagram: http status %d without a graph error", status)
	}
	if e.Kind == nil {
		e.Kind = meta.ClassifyStatus(status)
	}
	return e
}

func invalidf(format string, args ...any) error {
	return &channel.Error{Channel: channel.Instagram, Kind: channel.ErrInvalidMessage, Err: fmt.Errorf("instagram: "+format, args...)}
}

func unsupportedf(format string, args ...any) error {
	return &channel.Error{Channel: channel.Instagram, Kind: channel.ErrUnsupported, Err: fmt.Errorf("instagram: "+format, args...)}
}
