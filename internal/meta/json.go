package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// FlexString decodes a JSON string or number as its text (Meta sends
// timestamps and ids as strings in some payloads and numbers in others);
// any other JSON value leaves it empty rather than failing the decoding.
type FlexString string

// UnmarshalJSON implements [json.Unmarshaler].
func (f *FlexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil
		}
		*f = FlexString(s)
		return nil
	}
	if len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		*f = FlexString(b)
	}
	return nil
}

// FlexInt decodes a JSON number, or a string holding one, as an integer;
// anything else decodes as 0 rather than failing.
type FlexInt int64

// UnmarshalJSON implements [json.Unmarshaler].
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	var s FlexString
	_ = s.UnmarshalJSON(b)
	if n, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		*f = FlexInt(n)
	} else if x, err := strconv.ParseFloat(string(s), 64); err == nil && x >= -1<<62 && x <= 1<<62 {
		*f = FlexInt(x)
	}
	return nil
}

// Marshal encodes v as the Graph API expects it: compact JSON without the
// HTML escaping of encoding/json ("<", ">" and "&" stay as they are).
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("meta: encoding the request: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// SyntaxOnly returns an error that keeps the position of a JSON decoding
// error and drops its text, which may quote the payload (message text,
// names): safe to log.
func SyntaxOnly(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at offset %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("unexpected JSON %s at offset %d", te.Value, te.Offset)
	}
	return errors.New("invalid JSON")
}
