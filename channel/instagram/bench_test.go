package instagram_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/instagram"
	"github.com/wagent/wagent/channel/instagram/instagramtest"
)

type nopReceiver struct{}

func (nopReceiver) Receive(context.Context, channel.Inbound) error { return nil }

// body is a request body that can be read again.
type body struct{ bytes.Reader }

func (*body) Close() error { return nil }

// discard is a ResponseWriter that keeps nothing.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.code = code }

// BenchmarkWebhook measures one delivery through the webhook: body read,
// signature check, parse, and Receive into a receiver that does nothing.
//
//	go test ./channel/instagram -run '^$' -bench Webhook -benchmem
func BenchmarkWebhook(b *testing.B) {
	for _, name := range []string{"text", "image", "read", "echo", "batch"} {
		b.Run(name, func(b *testing.B) {
			payload := fixture(b, name)
			h := newWebhook(b, nopReceiver{}, instagram.WebhookOptions{})
			req, err := http.NewRequest(http.MethodPost, "/webhooks/instagram", nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("X-Hub-Signature-256", instagramtest.Sign(payload, appSecret))
			req.ContentLength = int64(len(payload))
			rb := &body{}
			req.Body = rb
			w := &discard{h: http.Header{}}
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				rb.Reset(payload)
				w.code = 0
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}
