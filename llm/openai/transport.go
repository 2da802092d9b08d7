package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// call is the state of one API call that the HTTP layer shares with the
// adapter through the request's context: go-openai returns neither the
// headers of an error response (Retry-After) nor a way to send content
// parts it does not model.
type call struct {
	// raw holds content parts go-openai cannot express (input_audio, file),
	// sent in place of the placeholder parts written by the translation.
	raw   []json.RawMessage
	nonce string

	mu     sync.Mutex
	sent   bool
	status int
	header http.Header
}

type callKey struct{}

func withCall(ctx context.Context, c *call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

func (c *call) response() (sent bool, status int, h http.Header) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.status, c.header
}

// doer is the HTTPDoer given to go-openai. It substitutes raw parts and
// records what the adapter needs of the response. It never reads or logs
// content otherwise.
type doer struct {
	client *http.Client
}

func (d doer) Do(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(callKey{}).(*call)
	if c != nil && len(c.raw) > 0 && req.Body != nil {
		if err := c.substitute(req); err != nil {
			return nil, err
		}
	}
	if c != nil {
		c.mu.Lock()
		c.sent = true
		c.mu.Unlock()
	}
	resp, err := d.client.Do(req)
	if c != nil && resp != nil {
		c.mu.Lock()
		c.status, c.header = resp.StatusCode, resp.Header
		c.mu.Unlock()
	}
	return resp, err
}

var errPlaceholder = errors.New("openai: internal error: content part placeholder not found in the request")

// substitute replaces the placeholder parts of the request body with the
// raw parts they stand for.
func (c *call) substitute(req *http.Request) error {
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return err
	}
	for i, raw := range c.raw {
		ph := placeholder(c.nonce, i)
		at := bytes.Index(body, ph)
		if at < 0 {
			return errPlaceholder
		}
		body = append(body[:at:at], append(raw, body[at+len(ph):]...)...)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return nil
}

// placeholderType is the type of the content parts that stand for raw
// parts in the body go-openai encodes. A part of this type is never sent.
const placeholderType = "wagent_raw_part"

// placeholder returns the JSON encoding/json writes for the placeholder
// part i of a call: {"type":"wagent_raw_part","text":"<nonce>:<i>"}. The
// text cannot occur in a JSON string written by the encoder (its quotes
// would be escaped), and the nonce keeps it from matching a tool schema by
// chance.
func placeholder(nonce string, i int) []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"type":"`+placeholderType+`","text":"`...)
	b = append(b, nonce...)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(i), 10)
	return append(b, `"}`...)
}
