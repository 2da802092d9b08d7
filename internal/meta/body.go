package meta

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ReadBody reads the body of a webhook delivery, at most max bytes, before
// anything else is done with it: the signature is checked over these raw
// bytes. A body over max (by its Content-Length, or while reading) gives
// an [*http.MaxBytesError]; the caller answers 413.
func ReadBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, &http.MaxBytesError{Limit: max}
	}
	rd := http.MaxBytesReader(w, r.Body, max)
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	if _, err := buf.ReadFrom(rd); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Refusals of [ReadSigned].
var (
	// ErrBodyTooLarge: the delivery is larger than the limit (answer 413).
	ErrBodyTooLarge = errors.New("meta: webhook body too large")
	// ErrBadSignature: X-Hub-Signature-256 is missing or does not sign the
	// body with any of the app secrets (answer 401).
	ErrBadSignature = errors.New("meta: webhook signature missing or wrong")
)

// ReadSigned reads a webhook delivery with [ReadBody] and checks its
// X-Hub-Signature-256 over the raw bytes with [VerifySignature]. It returns
// the body, or the HTTP status to answer and why: 413 with
// [ErrBodyTooLarge], 400 when the body could not be read, 401 with
// [ErrBadSignature]. Nothing of the body is in the error.
func ReadSigned(w http.ResponseWriter, r *http.Request, max int64, secrets []string) ([]byte, int, error) {
	body, err := ReadBody(w, r, max)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, http.StatusRequestEntityTooLarge, ErrBodyTooLarge
		}
		return nil, http.StatusBadRequest, fmt.Errorf("meta: reading the webhook body: %w", err)
	}
	if !VerifySignature(body, r.Header.Get(SignatureHeader), secrets) {
		return nil, http.StatusUnauthorized, ErrBadSignature
	}
	return body, http.StatusOK, nil
}

// AnswerHandshake answers Meta's GET verification request on w: 200 with
// the raw challenge as text/plain when [Handshake] accepts the query with
// token, 403 otherwise. It reports whether the handshake was accepted.
func AnswerHandshake(w http.ResponseWriter, r *http.Request, token string) bool {
	challenge, ok := Handshake(r.URL.Query(), token)
	if !ok {
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		return false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, challenge)
	return true
}
