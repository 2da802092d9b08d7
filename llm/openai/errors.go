package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	oai "github.com/sashabaranov/go-openai"

	"github.com/wagent/wagent/llm"
)

// VendorError describes an error answered by the API, as the Err of an
// [*llm.Error]. It holds what classifies the error and leaves out the
// vendor's message, which may quote the request.
type VendorError struct {
	// StatusCode is the HTTP status, 0 for an error sent in a stream.
	StatusCode int
	// Type, Code and Param are the error object's fields
	// ("invalid_request_error", "context_length_exceeded", "messages").
	Type  string
	Code  string
	Param string
}

// Error implements error.
func (e *VendorError) Error() string {
	var b strings.Builder
	b.WriteString("openai: API error")
	if e.StatusCode != 0 {
		b.WriteString(" ")
		b.WriteString(strconv.Itoa(e.StatusCode))
	}
	for _, kv := range [...][2]string{{"type", e.Type}, {"code", e.Code}, {"param", e.Param}} {
		if kv[1] != "" {
			b.WriteString(" ")
			b.WriteString(kv[0])
			b.WriteString("=")
			b.WriteString(kv[1])
		}
	}
	return b.String()
}

// ctxError reports the end of the call's context, unclassified.
func (p *Provider) ctxError(err error) error {
	return fmt.Errorf("%s: %w", p.name, err)
}

// invalid classifies an error found before the request was sent.
func (p *Provider) invalid(err error) error {
	return &llm.Error{Provider: p.name, Kind: llm.ErrInvalidRequest, Err: err}
}

// classify turns the error of a call into an [*llm.Error], or into the
// context's error when ctx is done.
func (p *Provider) classify(ctx context.Context, c *call, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return p.ctxError(cerr)
	}
	var (
		apiErr *oai.APIError
		reqErr *oai.RequestError
		urlErr *url.Error
	)
	sent, status, header := c.response()
	e := &llm.Error{Provider: p.name, StatusCode: status}
	inStream := false
	switch {
	case errors.As(err, &apiErr):
		// go-openai sets the status of errors answered with one; an error
		// without is one sent in the body of a stream.
		inStream = apiErr.HTTPStatusCode == 0
		ve := &VendorError{StatusCode: apiErr.HTTPStatusCode, Type: apiErr.Type, Param: deref(apiErr.Param)}
		ve.Code = codeString(apiErr.Code)
		e.StatusCode = ve.StatusCode
		e.Code = ve.Code
		if e.Code == "" {
			e.Code = ve.Type
		}
		innerCode := ""
		if apiErr.InnerError != nil {
			innerCode = apiErr.InnerError.Code
		}
		e.Kind = kind(ve.StatusCode, ve.Type, ve.Code, innerCode, apiErr.Message)
		e.Err = ve
	case errors.As(err, &reqErr):
		// An answer go-openai could not read as {"error": {...}}: some
		// compatible servers (vLLM) put the error object at the top.
		ve := &VendorError{StatusCode: reqErr.HTTPStatusCode}
		var top struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    any    `json:"code"`
		}
		if json.Unmarshal(reqErr.Body, &top) == nil {
			ve.Type = top.Type
			ve.Code = codeString(top.Code)
		}
		e.StatusCode = ve.StatusCode
		e.Code = ve.Code
		e.Kind = kind(ve.StatusCode, ve.Type, ve.Code, "", top.Message)
		e.Err = ve
	case !sent:
		// Refused before sending: go-openai's checks, or a request that
		// cannot be encoded.
		e.Kind = llm.ErrInvalidRequest
		e.Err = describe(err)
	case errors.As(err, &urlErr):
		// No response: the connection failed or timed out.
		e.Kind = llm.ErrUnavailable
		e.Err = fmt.Errorf("openai: %s: %w", urlErr.Op, urlErr.Err)
	default:
		// A response that could not be read.
		e.Kind = llm.ErrUnavailable
		e.Err = describe(err)
	}
	if header != nil && !inStream {
		e.RetryAfter = retryAfter(header, e.StatusCode == http.StatusTooManyRequests)
	}
	return e
}

// describe returns err if it is one of go-openai's own errors, which say
// nothing of the request, and otherwise an error naming its type: the
// message of a decoding error may quote what was being decoded.
func describe(err error) error {
	for _, known := range [...]error{
		oai.ErrChatCompletionInvalidModel, oai.ErrChatCompletionStreamNotSupported, oai.ErrContentFieldsMisused,
		oai.ErrReasoningEffortUnsupported, oai.ErrReasoningToolsRequireResponses, oai.ErrReasoningSamplingUnsupported,
		oai.ErrReasoningModelMaxTokensDeprecated, oai.ErrReasoningModelLimitationsLogprobs, oai.ErrReasoningModelLimitationsOther,
		oai.ErrTooManyEmptyStreamMessages, errPlaceholder, errNoChoices, errStreamEnded,
	} {
		if errors.Is(err, known) {
			return known
		}
	}
	return fmt.Errorf("openai: %T", err)
}

// kind classifies an API error.
func kind(status int, typ, code, innerCode, message string) error {
	switch code {
	case "context_length_exceeded":
		return llm.ErrContextTooLong
	case "content_filter", "content_policy_violation", "invalid_prompt":
		return llm.ErrContentBlocked
	case "rate_limit_exceeded", "insufficient_quota":
		return llm.ErrRateLimited
	case "invalid_api_key", "invalid_organization":
		return llm.ErrAuth
	}
	if innerCode == "ResponsibleAIPolicyViolation" {
		return llm.ErrContentBlocked
	}
	if tooLong(message) {
		// Compatible servers (vLLM, llama.cpp) say it in words.
		return llm.ErrContextTooLong
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return llm.ErrAuth
	case status == http.StatusTooManyRequests:
		return llm.ErrRateLimited
	case status == http.StatusRequestTimeout || status == http.StatusConflict || status >= 500:
		return llm.ErrUnavailable
	case status >= 400:
		return llm.ErrInvalidRequest
	}
	switch typ {
	case "invalid_request_error":
		return llm.ErrInvalidRequest
	case "authentication_error", "permission_error":
		return llm.ErrAuth
	}
	// An error in a stream, of a kind not named above.
	return llm.ErrUnavailable
}

// tooLong reports whether an error message says the context window was
// exceeded. The message is only matched, never kept.
func tooLong(message string) bool {
	m := strings.ToLower(message)
	for _, s := range [...]string{"maximum context length", "context length exceeded", "context_length_exceeded", "exceeds the available context size", "context window"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// retryAfter reads how long the server asked to wait: retry-after-ms,
// Retry-After (seconds or a date), and for a 429 OpenAI's
// x-ratelimit-reset-* headers of the exhausted limit.
func retryAfter(h http.Header, limited bool) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < math.MaxInt64/float64(time.Millisecond) {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 && s < math.MaxInt64/float64(time.Second) {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := time.Until(t); d > 0 {
				return d
			}
		}
	}
	if !limited {
		return 0
	}
	reset := func(remaining, reset string) time.Duration {
		d, err := time.ParseDuration(h.Get(reset))
		if err != nil || d <= 0 {
			return 0
		}
		if r := h.Get(remaining); r != "" && r != "0" {
			return -d // not the exhausted limit
		}
		return d
	}
	req := reset("X-Ratelimit-Remaining-Requests", "X-Ratelimit-Reset-Requests")
	tok := reset("X-Ratelimit-Remaining-Tokens", "X-Ratelimit-Reset-Tokens")
	if d := max(req, tok); d > 0 {
		return d
	}
	// Neither limit says it is exhausted: wait for the later reset.
	return max(-req, -tok)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// codeString returns an error code as text. go-openai reads a null code as
// the number 0.
func codeString(code any) string {
	switch c := code.(type) {
	case nil:
		return ""
	case int:
		if c == 0 {
			return ""
		}
	case float64:
		if c == 0 {
			return ""
		}
	}
	return fmt.Sprint(code)
}
