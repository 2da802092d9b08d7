package gemini

import (
	"context"
	"net/http"
	"sync"
)

// call is what the HTTP layer records of one API call for the adapter,
// through the request's context: whether the request was sent, and the
// status and headers of the answer (a gateway's Retry-After), which the
// SDK's errors do not carry.
type call struct {
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

// transport records calls. It never reads bodies.
type transport struct {
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c, _ := req.Context().Value(callKey{}).(*call)
	if c != nil {
		c.mu.Lock()
		c.sent = true
		c.mu.Unlock()
	}
	resp, err := t.base.RoundTrip(req)
	if c != nil && resp != nil {
		c.mu.Lock()
		c.status, c.header = resp.StatusCode, resp.Header
		c.mu.Unlock()
	}
	return resp, err
}
