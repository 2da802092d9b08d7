package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/console"
	"github.com/wagent/wagent/internal/browsertest"
)

// TestBrowserConsole drives the console page in headless Chromium: a
// customer asks for a person over the fake channel, the page shows the
// waiting conversation, the operator opens it, claims it, types a reply
// and sends it, and the reply arrives at the channel.
func TestBrowserConsole(t *testing.T) {
	bin := browsertest.Binary()
	if bin == "" {
		t.Skip(browsertest.SkipMessage)
	}
	f := setup(t, func(o *console.Options) {
		o.Tenants = []channel.TenantID{shop}
		// The host's authentication: every request of this test is Ana's.
		o.Operator = func(*http.Request) (string, error) { return "ana", nil }
	})
	srv := httptest.NewServer(f.mux)
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	b := browsertest.Start(t, ctx, bin)
	defer b.Stop()
	bctx := b.Ctx
	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		require.NoError(t, chromedp.Run(bctx, actions...), what)
	}

	run("open the console", chromedp.Navigate(srv.URL+"/console/"))
	run("the page follows the live stream and shows an empty queue", waitFor(`document.body.dataset.live === 'true' && document.querySelector('#queue .none') !== null`))
	var who string
	run("read who is signed in", chromedp.Evaluate(`document.getElementById('who').textContent`, &who))
	assert.Equal(t, "Signed in as ana", who)

	// The customer asks for a person; the live stream brings the
	// conversation to the queue.
	from := customer(shop, "51987654321")
	conv := f.waiting(t, from, "wamid.1")
	run("the waiting conversation appears", waitFor(fmt.Sprintf(`document.querySelector('#queue .item.waiting[data-id=%q]') !== null`, conv)))
	var label string
	run("read it", chromedp.Evaluate(`document.querySelector('#queue .item').textContent`, &label))
	assert.Contains(t, label, "•••4321", "the queue masks the customer")
	assert.Contains(t, label, "Waiting since")

	run("open it", clickOn(`document.querySelector('#queue .item')`))
	run("the conversation shows", waitFor(`!document.getElementById('conv').hidden && document.querySelectorAll('#log .m').length === 2`))
	var view struct{ Title, Log string }
	run("read the conversation", chromedp.Evaluate(`({Title: document.getElementById('conv-h').textContent, Log: document.getElementById('log').textContent})`, &view))
	assert.Equal(t, "Rosa Quispe", view.Title)
	assert.Contains(t, view.Log, "quiero hablar con una persona")
	var sendDisabled bool
	run("read the send button", chromedp.Evaluate(`document.getElementById('send').disabled`, &sendDisabled))
	assert.True(t, sendDisabled, "no reply before the claim")

	run("claim it", clickOn(`document.getElementById('claim')`))
	run("the claim is done", waitFor(`!document.getElementById('send').disabled && document.getElementById('claim').hidden`))
	const reply = "Hola Rosa, soy Ana. ¿En qué te ayudo?"
	run("type the reply", clickOn(`document.getElementById('text')`), chromedp.SendKeys(`#text`, reply, chromedp.ByID))
	run("send it", clickOn(`document.getElementById('send')`))

	sent, err := f.ch.Wait(ctx, 2)
	require.NoError(t, err, "the reply reaches the channel")
	assert.Equal(t, channel.Text(reply), sent[1].Text)
	assert.Equal(t, from, sent[1].To)
	run("the reply is in the conversation", waitFor(`[...document.querySelectorAll('#log .m.operator')].some(m => m.textContent.includes('soy Ana'))`))
	var status string
	run("read the status", chromedp.Evaluate(`document.getElementById('status').textContent`, &status))
	assert.Equal(t, "Reply sent.", status)

	var shot []byte
	run("screenshot", chromedp.FullScreenshot(&shot, 100))
	path := filepath.Join(t.TempDir(), "console.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)

	assert.Empty(t, b.Errors(), "no script errors or warnings (a CSP violation would be one)")
}

// waitFor evaluates expr until it is truthy.
func waitFor(expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var ok bool
			if err := chromedp.Evaluate(`!!(`+expr+`)`, &ok).Do(ctx); err != nil {
				return err
			}
			if ok {
				return nil
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return fmt.Errorf("waiting for %s: %w", expr, ctx.Err())
			}
		}
	})
}

// clickOn clicks with the mouse at the centre of the element expr returns.
func clickOn(expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var p struct{ X, Y float64 }
		if err := chromedp.Evaluate(`(() => { const r = (`+expr+`).getBoundingClientRect(); return {X: r.x + r.width / 2, Y: r.y + r.height / 2}; })()`, &p).Do(ctx); err != nil {
			return err
		}
		return chromedp.MouseClickXY(p.X, p.Y).Do(ctx)
	})
}
