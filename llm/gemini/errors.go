package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/wagent/wagent/llm"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// VendorError describes an error answered by the API, without its message,
// which may quote the request.
type VendorError struct {
	StatusCode int
	// Status is the API's status ("RESOURCE_EXHAUSTED").
	Status string
}

// Error implements error.
func (e *VendorError) Error() string {
	s := "gemini: API error"
	if e.StatusCode != 0 {
		s += " " + strconv.Itoa(e.StatusCode)
	}
	if e.Status != "" {
		s += " status=" + e.Status
	}
	return s
}

func ctxError(err error) error { return fmt.Errorf("%s: %w", Name, err) }

func invalid(err error) error {
	return &llm.Error{Provider: Name, Kind: llm.ErrInvalidRequest, Err: err}
}

// classify turns the error of a call into an [*llm.Error], or into the
// context's error when ctx is done.
func classify(ctx context.Context, c *call, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return ctxError(cerr)
	}
	sent, status, header := c.response()
	e := &llm.Error{Provider: Name, StatusCode: status}
	var apiErr genai.APIError
	var apiErrP *genai.APIError
	var urlErr *url.Error
	switch {
	case errors.As(err, &apiErr) || errors.As(err, &apiErrP):
		if apiErrP != nil {
			apiErr = *apiErrP
		}
		e.StatusCode = apiErr.Code
		e.Code = apiErr.Status
		e.Kind = kind(apiErr.Code, apiErr.Status, apiErr.Message, apiErr.Details)
		e.Err = &VendorError{StatusCode: apiErr.Code, Status: apiErr.Status}
		e.RetryAfter = retryInfo(apiErr.Details)
	case !sent:
		e.Kind = llm.ErrInvalidRequest
		e.Err = fmt.Errorf("gemini: %T", err)
	case errors.As(err, &urlErr):
		e.Kind = llm.ErrUnavailable
		e.Err = fmt.Errorf("gemini: %s: %w", urlErr.Op, urlErr.Err)
	default:
		e.Kind = llm.ErrUnavailable
		e.Err = fmt.Errorf("gemini: %T", err)
	}
	if e.RetryAfter == 0 && header != nil {
		if v := header.Get("Retry-After"); v != "" {
			if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
				e.RetryAfter = time.Duration(s * float64(time.Second))
			} else if t, err := http.ParseTime(v); err == nil && time.Until(t) > 0 {
				e.RetryAfter = time.Until(t)
			}
		}
	}
	return e
}

// kind classifies an API error by its HTTP status, its status name, its
// message (read, never kept) and the reason of its ErrorInfo detail.
func kind(status int, st, message string, details []map[string]any) error {
	m := strings.ToLower(message)
	if strings.Contains(m, "token count") && strings.Contains(m, "exceed") || strings.Contains(m, "context window") {
		return llm.ErrContextTooLong
	}
	switch errorReason(details) {
	case "API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED", "API_KEY_EXPIRED":
		return llm.ErrAuth
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden || st == "UNAUTHENTICATED" || st == "PERMISSION_DENIED":
		return llm.ErrAuth
	case status == http.StatusBadRequest && strings.Contains(m, "api key"):
		return llm.ErrAuth
	case status == http.StatusTooManyRequests || st == "RESOURCE_EXHAUSTED":
		return llm.ErrRateLimited
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500:
		return llm.ErrUnavailable
	}
	return llm.ErrInvalidRequest
}

// retryInfo reads the retryDelay of a google.rpc.RetryInfo detail ("7s").
func retryInfo(details []map[string]any) time.Duration {
	for _, d := range details {
		if t, _ := d["@type"].(string); strings.HasSuffix(t, "google.rpc.RetryInfo") {
			if s, ok := d["retryDelay"].(string); ok {
				if v, err := time.ParseDuration(s); err == nil && v > 0 {
					return v
				}
			}
		}
	}
	return 0
}

// errorReason returns the reason of a google.rpc.ErrorInfo detail
// ("API_KEY_INVALID").
func errorReason(details []map[string]any) string {
	for _, d := range details {
		if t, _ := d["@type"].(string); strings.HasSuffix(t, "google.rpc.ErrorInfo") {
			if r, ok := d["reason"].(string); ok {
				return r
			}
		}
	}
	return ""
}
