package webwidget_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/browsertest"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/webwidget"
)

// The host page: a strict Content-Security-Policy that allows the
// widget's origin only, so that any inline script or style, eval or
// request elsewhere the widget attempted would be blocked and reported.
const hostPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tienda Sol</title>
<script src="/probe.js"></script>
</head>
<body>
<h1>Tienda Sol</h1>
<p>Alpaca wool from Lima.</p>
<script src="%s/chat/widget.js" data-site="tienda-sol" async></script>
</body>
</html>`

// probe.js records the page's CSP violations.
const probeJS = `window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`

const (
	firstReply      = "We ship to all of Peru in 3 days. Details: https://tiendasol.example/shipping"
	secondReply     = "Your order A-1001 shipped yesterday."
	sameOriginReply = "Same origin works too."
)

// TestBrowserWidget drives the widget in headless Chromium: a page of
// another origin embeds the script tag; the visitor opens the widget, reads
// the privacy notice, writes, sees the scripted model's reply, taps a
// quick-reply chip, reloads and finds the conversation restored.
func TestBrowserWidget(t *testing.T) {
	bin := browsertest.Binary()
	if bin == "" {
		t.Skip(browsertest.SkipMessage)
	}

	// The business: a real agent over a memory store, a scripted model.
	st := memory.New(nil)
	model := llmtest.NewScripted(llmtest.Reply(firstReply), llmtest.Reply(secondReply), llmtest.Reply(sameOriginReply))
	// The host page's origin is known only once its server listens, and
	// the allowed origins are fixed at New: listen first, then build.
	host, widgetSrv := httptest.NewUnstartedServer(nil), httptest.NewUnstartedServer(nil)
	hostURL, widgetURL := "http://"+host.Listener.Addr().String(), "http://"+widgetSrv.Listener.Addr().String()
	erased := make(chan channel.Address, 1)
	w, err := webwidget.New(st, &webwidget.Options{
		Secret: testSecret,
		Sites: []webwidget.Site{{
			Key:              site,
			Name:             "Tienda Sol",
			Color:            "#0b6e4f",
			Greeting:         "¡Hola! How can we help?",
			PrivacyPolicyURL: policy,
			AllowedOrigins:   []string{hostURL, widgetURL},
		}},
		Erase: func(ctx context.Context, who channel.Address) error {
			erased <- who // the privacy engine would erase the subject here
			return nil
		},
		Logger: testLogger(t),
	})
	require.NoError(t, err)
	var (
		turnsMu sync.Mutex
		turns   []agent.TurnInfo
	)
	a, err := agent.New(agent.Config{
		Store:          st,
		Model:          model,
		Channels:       []channel.Channel{w},
		CoalesceWindow: -1,
		Logger:         testLogger(t),
		Hooks: agent.Hooks{TurnDone: func(ti agent.TurnInfo) {
			turnsMu.Lock()
			defer turnsMu.Unlock()
			turns = append(turns, ti)
		}},
	})
	require.NoError(t, err)
	runCtx, stopAgent := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(runCtx) }()

	mux := http.NewServeMux()
	mux.Handle("/chat/", http.StripPrefix("/chat", w.Handler(a)))
	// The business's own page, on the widget's origin.
	mux.HandleFunc("GET /shop", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Header().Set("Content-Security-Policy", "default-src 'self'; base-uri 'none'; form-action 'none'")
		fmt.Fprintf(rw, hostPage, "")
	})
	mux.HandleFunc("GET /probe.js", func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/javascript")
		fmt.Fprint(rw, probeJS)
	})
	widgetSrv.Config.Handler = mux
	widgetSrv.Start()

	host.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			rw.Header().Set("Content-Type", "text/html; charset=utf-8")
			rw.Header().Set("Content-Security-Policy", fmt.Sprintf(
				"default-src 'none'; script-src 'self' %[1]s; style-src %[1]s; connect-src %[1]s; img-src %[1]s; base-uri 'none'; form-action 'none'", widgetSrv.URL))
			fmt.Fprintf(rw, hostPage, widgetSrv.URL)
		case "/probe.js":
			rw.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(rw, probeJS)
		default:
			http.NotFound(rw, r)
		}
	})
	host.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLong)
		defer cancel()
		assert.NoError(t, w.Close(ctx))
		widgetSrv.Close()
		host.Close()
		assert.NoError(t, a.Shutdown(ctx))
		stopAgent()
		<-ran
	})

	// The browser, with a fresh profile.
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	b := browsertest.Start(t, ctx, bin)
	defer b.Stop()
	bctx := b.Ctx

	run := func(what string, actions ...chromedp.Action) {
		t.Helper()
		require.NoError(t, chromedp.Run(bctx, actions...), what)
	}
	eval := func(expr string, res any) chromedp.Action { return chromedp.Evaluate(inWidget(expr), res) }

	start := time.Now()
	run("open the host page", chromedp.Navigate(hostURL))
	t.Logf("Chromium started and loaded the page in %s", time.Since(start).Round(time.Millisecond))
	run("the launcher appears once the stylesheet is loaded", waitFor(inWidget(`!R.querySelector('.w').hidden && R.querySelector('.launch').getBoundingClientRect().width > 0`)))

	var label string
	run("the launcher is labelled", eval(`R.querySelector('.launch').getAttribute('aria-label')`, &label))
	assert.Equal(t, "Open chat", label)

	run("open the widget with a click", clickOn(`R.querySelector('.launch')`))
	run("the panel opens", waitFor(inWidget(`!R.querySelector('.panel').hidden`)))
	var state struct {
		Expanded, Focus, Notice, Policy, Greeting, Title string
	}
	run("read the panel", eval(`({
		Expanded: R.querySelector('.launch').getAttribute('aria-expanded'),
		Focus: R.activeElement && R.activeElement.tagName,
		Notice: R.querySelector('.notice').textContent,
		Policy: R.querySelector('.notice a').href,
		Greeting: R.querySelector('.scroll > .m').textContent,
		Title: R.querySelector('h2').textContent,
	})`, &state))
	assert.Equal(t, "true", state.Expanded)
	assert.Equal(t, "TEXTAREA", state.Focus, "opening the panel moves the focus to the message box")
	assert.Contains(t, state.Notice, webwidget.DefaultPrivacyNotice, "the privacy notice is shown before the first message")
	assert.Equal(t, policy, state.Policy)
	assert.Equal(t, "¡Hola! How can we help?", state.Greeting)
	assert.Equal(t, "Tienda Sol", state.Title)
	var stored string
	run("nothing is stored before the visitor writes", chromedp.Evaluate(`JSON.stringify(Object.keys(localStorage))`, &stored))
	assert.Equal(t, `[]`, stored, "nothing kept, no token, until the visitor writes")

	run("type a message and press Enter", chromedp.KeyEvent("Do you ship to Cusco?"), chromedp.KeyEvent("\r"))
	run("the reply appears", waitFor(inWidget(`[...R.querySelectorAll('.m.assistant')].some(b => b.textContent.includes('We ship to all of Peru'))`)))

	var links []string
	run("links in replies are clickable", eval(`[...R.querySelectorAll('.log .m.assistant a')].map(a => a.href + ' ' + a.target + ' ' + a.rel)`, &links))
	assert.Equal(t, []string{"https://tiendasol.example/shipping _blank noopener noreferrer nofollow"}, links)

	// The business follows up with a menu (as a tool or an operator
	// would): recorded in the conversation, then sent through the widget.
	var tok string
	run("the token is kept in localStorage", chromedp.Evaluate(`localStorage.getItem('wagent:tienda-sol:token')`, &tok))
	require.NotEmpty(t, tok)
	addr := visitor(t, tok)
	conv, err := st.OpenConversation(t.Context(), addr)
	require.NoError(t, err)
	menu := channel.Outbound{To: addr, Text: "Anything else?", Interactive: &channel.Interactive{Buttons: []channel.Button{
		{ID: "track", Title: "Track my order"}, {ID: "human", Title: "Talk to a person"},
	}}}
	rec, err := st.Append(t.Context(), store.Message{Tenant: site, Conversation: conv.ID, Role: store.Assistant, Outbound: &menu})
	require.NoError(t, err)
	menu.Correlation = "wagent:" + strconv.FormatInt(int64(rec.ID), 10)
	_, err = w.Send(t.Context(), menu)
	require.NoError(t, err)

	run("the menu's buttons become chips", waitFor(inWidget(`R.querySelectorAll('.chip:not(:disabled)').length === 2`)))
	run("tap a chip", clickOn(`[...R.querySelectorAll('.chip')].find(c => c.textContent === 'Track my order')`))
	run("the chip's reply is answered", waitFor(inWidget(`[...R.querySelectorAll('.m.assistant')].some(b => b.textContent.includes('A-1001 shipped'))`)))
	var chipsDisabled bool
	run("chips are spent", eval(`[...R.querySelectorAll('.chip')].every(c => c.disabled)`, &chipsDisabled))
	assert.True(t, chipsDisabled)

	hist, err := st.History(t.Context(), site, conv.ID, store.HistoryQuery{})
	require.NoError(t, err)
	var tapped *channel.Message
	for _, r := range hist {
		if r.Inbound != nil && r.Inbound.Type == channel.TypeInteractive {
			tapped = r.Inbound
		}
	}
	require.NotNil(t, tapped, "the chip was sent as an interactive reply")
	assert.Equal(t, &channel.Reply{Kind: channel.ReplyButton, ID: "track", Title: "Track my order"}, tapped.Reply)

	want := []string{
		"visitor:Do you ship to Cusco?",
		"assistant:" + firstReply,
		"assistant:Anything else?Track my orderTalk to a person",
		"visitor:Track my order",
		"assistant:" + secondReply,
	}
	var before []string
	run("read the conversation", eval(logTexts, &before))
	assert.Equal(t, want, before)

	run("reload the page", chromedp.Reload())
	run("the widget reopens and restores the history", waitFor(inWidget(`!R.querySelector('.panel').hidden && R.querySelectorAll('.log .m').length === 5`)))
	var after []string
	run("read the restored conversation", eval(logTexts, &after))
	assert.Equal(t, want, after, "the same messages, once each, in order")

	var shot []byte
	run("screenshot", waitFor(inWidget(`R.getAnimations().length === 0`)), chromedp.FullScreenshot(&shot, 100))
	path := filepath.Join(t.TempDir(), "widget.png")
	require.NoError(t, os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot: %s", path)

	var visible bool
	run("the reply is visible", eval(`(() => {
		const b = [...R.querySelectorAll('.m.assistant')].find(b => b.textContent.includes('A-1001 shipped'));
		const r = b.getBoundingClientRect();
		return b.checkVisibility() && r.width > 0 && r.height > 0 && r.bottom <= innerHeight && r.right <= innerWidth;
	})()`, &visible))
	assert.True(t, visible, "the reply's text is visible in the DOM")

	run("Escape in the message box closes the panel", clickOn(`R.querySelector('textarea')`), chromedp.KeyEvent("\x1b"))
	run("the panel closes", waitFor(inWidget(`R.querySelector('.panel').hidden`)))
	var focus string
	run("read the focus", eval(`R.activeElement && R.activeElement.className`, &focus))
	assert.Equal(t, "launch", focus, "the focus returns to the launcher")

	// A phone in dark mode: the panel takes the whole screen.
	run("phone, dark",
		chromedp.EmulateViewport(375, 740, chromedp.EmulateScale(2)),
		emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}),
		clickOn(`R.querySelector('.launch')`),
		waitFor(inWidget(`!R.querySelector('.panel').hidden`)))
	var phone struct {
		Width         float64
		Background    string
		SendReachable bool
	}
	run("measure the panel", waitFor(inWidget(`R.getAnimations().length === 0`)), eval(`(() => {
		const send = R.querySelector('form button'), r = send.getBoundingClientRect();
		return {
			Width: R.querySelector('.panel').getBoundingClientRect().width,
			Background: getComputedStyle(R.querySelector('.panel')).backgroundColor,
			SendReachable: send.contains(R.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)),
		};
	})()`, &phone))
	assert.Equal(t, 375.0, phone.Width, "full width on a narrow screen")
	assert.Equal(t, "rgb(28, 33, 40)", phone.Background, "dark colours when the system prefers them")
	assert.True(t, phone.SendReachable, "nothing covers the send button")
	run("phone screenshot", chromedp.FullScreenshot(&shot, 100))
	phonePath := filepath.Join(filepath.Dir(path), "widget-phone-dark.png")
	require.NoError(t, os.WriteFile(phonePath, shot, 0o644))
	t.Logf("screenshot: %s", phonePath)

	run("delete my data", clickOn(`R.querySelector('.del')`), waitFor(inWidget(`!R.querySelector('.confirm').hidden`)),
		clickOn(`R.querySelector('.confirm .yes')`), waitFor(inWidget(`R.querySelector('.status').textContent === 'Your data was deleted.'`)))
	select {
	case who := <-erased:
		assert.Equal(t, addr, who, "the erasure hook got the visitor's address")
	default:
		t.Error("the erasure hook was not called")
	}
	var left struct {
		Keys     string
		Messages int
	}
	run("read what is left", eval(`({Keys: JSON.stringify([...Object.keys(localStorage), ...Object.keys(sessionStorage)]), Messages: R.querySelectorAll('.log .m').length})`, &left))
	assert.Equal(t, "[]", left.Keys, "localStorage (and sessionStorage) are cleared")
	assert.Zero(t, left.Messages, "the conversation is gone from the page")

	var violations []string
	run("read the CSP violations", chromedp.Evaluate(`window.__csp`, &violations))
	assert.Empty(t, violations, "the widget works under a strict CSP: no inline script or style, no eval")

	// The business's own pages: same origin, so the browser sends no
	// Origin on GETs, only Sec-Fetch-Site.
	run("open a page of the widget's own origin", chromedp.Navigate(widgetURL+"/shop"),
		waitFor(inWidget(`!R.querySelector('.w').hidden`)),
		clickOn(`R.querySelector('.launch')`), waitFor(inWidget(`!R.querySelector('.panel').hidden`)),
		chromedp.KeyEvent("Hi from the shop"), chromedp.KeyEvent("\r"),
		waitFor(inWidget(`[...R.querySelectorAll('.m.assistant')].some(b => b.textContent.includes('Same origin works too.'))`)))
	run("read the CSP violations", chromedp.Evaluate(`window.__csp`, &violations))
	assert.Empty(t, violations)

	assert.Empty(t, b.Errors(), "no script errors or warnings")
	turnsMu.Lock()
	assert.Len(t, turns, 3)
	turnsMu.Unlock()
	assert.Equal(t, 3, model.Calls())
}

// testLogger logs warnings and errors to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// logTexts lists the conversation's messages as "role:text".
const logTexts = `[...R.querySelectorAll('.log .m')].map(b => b.classList[1] + ':' + [...b.childNodes].filter(n => !n.classList || !n.classList.contains('sr')).map(n => n.textContent).join(''))`

// inWidget wraps a JavaScript expression so that R is the widget's shadow
// root; it is null before the widget is built.
func inWidget(expr string) string {
	return `(() => { const h = document.querySelector('[data-wagent]'); const R = h && h.shadowRoot; if (!R) return null; return (` + expr + `); })()`
}

// waitFor evaluates expr until it is truthy. Runtime.evaluate is not
// subject to the page's CSP, unlike chromedp.Poll's page function.
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

// clickOn clicks with the mouse at the centre of the element expr returns
// (evaluated in the widget's shadow root).
func clickOn(expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var p struct{ X, Y float64 }
		if err := chromedp.Evaluate(inWidget(`(() => { const r = (`+expr+`).getBoundingClientRect(); return {X: r.x + r.width / 2, Y: r.y + r.height / 2}; })()`), &p).Do(ctx); err != nil {
			return err
		}
		return chromedp.MouseClickXY(p.X, p.Y).Do(ctx)
	})
}
