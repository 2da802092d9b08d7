package meta

import (
	"encoding/json"
	"strconv"
	"strings"
)

// GraphError is an error answered by the Graph API:
//
//	{"error": {"message": "...", "type": "OAuthException", "code": 131047,
//	  "error_subcode": 2494010, "error_data": {"details": "..."},
//	  "fbtrace_id": "..."}}
//
// Its Error method gives the code, subcode, type, trace id and the masked
// message (see [Mask]); Details, which may quote the request, is left out.
type GraphError struct {
	// HTTPStatus is the status of the answer.
	HTTPStatus int
	Code       int    // error code, such as 131047
	Subcode    int    // error_subcode, 0 if none
	Type       string // such as "OAuthException"
	// Message is the API's message, as sent. It may quote values of the
	// request; log it only through Error, which masks them.
	Message string
	// Details is error_data.details, the longer explanation, as sent.
	Details string
	// TraceID is fbtrace_id, what Meta's support asks for.
	TraceID string
}

// Error implements error.
func (e *GraphError) Error() string {
	var b strings.Builder
	b.WriteString("meta: graph api error")
	if e.Code != 0 {
		b.WriteString(" code ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.Subcode != 0 {
		b.WriteString(" subcode ")
		b.WriteString(strconv.Itoa(e.Subcode))
	}
	if e.Type != "" {
		b.WriteString(" (")
		b.WriteString(Mask(e.Type, 60))
		b.WriteString(")")
	}
	if e.HTTPStatus != 0 {
		b.WriteString(" http ")
		b.WriteString(strconv.Itoa(e.HTTPStatus))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(Mask(e.Message, 200))
	}
	if e.TraceID != "" {
		b.WriteString(" [fbtrace_id ")
		b.WriteString(Mask(e.TraceID, 60))
		b.WriteString("]")
	}
	return b.String()
}

type graphBody struct {
	Error *struct {
		Message   string          `json:"message"`
		Type      string          `json:"type"`
		Code      json.Number     `json:"code"`
		Subcode   json.Number     `json:"error_subcode"`
		FBTraceID string          `json:"fbtrace_id"`
		ErrorData json.RawMessage `json:"error_data"`
	} `json:"error"`
}

// ParseGraphError parses body, the answer to a Graph API call with HTTP
// status status, and returns the error it describes, or nil when body is
// not a Graph error (a proxy's HTML page, an empty body).
func ParseGraphError(status int, body []byte) *GraphError {
	var g graphBody
	if err := json.Unmarshal(body, &g); err != nil || g.Error == nil {
		return nil
	}
	e := &GraphError{
		HTTPStatus: status,
		Type:       g.Error.Type,
		Message:    g.Error.Message,
		TraceID:    g.Error.FBTraceID,
	}
	e.Code = atoi(g.Error.Code)
	e.Subcode = atoi(g.Error.Subcode)
	// error_data is an object with details in the WhatsApp API and a
	// string in older Graph endpoints.
	var data struct {
		Details string `json:"details"`
	}
	if json.Unmarshal(g.Error.ErrorData, &data) == nil {
		e.Details = data.Details
	} else {
		var s string
		if json.Unmarshal(g.Error.ErrorData, &s) == nil {
			e.Details = s
		}
	}
	return e
}

func atoi(n json.Number) int {
	if n == "" {
		return 0
	}
	if i, err := strconv.Atoi(string(n)); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return int(f)
	}
	return 0
}

// Mask returns s cut to at most max bytes (on a rune boundary, with "…"
// when cut) with every run of seven or more digits, optionally preceded by
// '+', replaced by "[redacted]": phone numbers and user ids that an API
// message may quote. Error codes (at most six digits) stay readable.
func Mask(s string, max int) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		if s[j] == '+' {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k-j >= 7 {
			b.WriteString("[redacted]")
			i = k
			continue
		}
		if k > i {
			b.WriteString(s[i:k])
			i = k
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	out := b.String()
	if len(out) > max {
		cut := max
		for cut > 0 && !isRuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "…"
	}
	return out
}

func isRuneStart(c byte) bool { return c&0xC0 != 0x80 }
