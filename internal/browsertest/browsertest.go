package browsertest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// SkipMessage is the reason a browser test gives when [Binary] finds no
// Chromium. CI installs Chromium and fails on any such skip.
const SkipMessage = "no Chromium binary (/usr/bin/chromium, chromium, chromium-browser, google-chrome): install it with apt-get install -y chromium"

// Binary returns the path of a Chromium or Chrome binary, or "" when there
// is none.
func Binary() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Browser is a running headless Chromium.
type Browser struct {
	// Ctx is the chromedp context of the browser's first tab.
	Ctx context.Context

	t       *testing.T
	profile string
	cancel  []context.CancelFunc

	mu     sync.Mutex
	errors []string
}

// Start starts bin (from [Binary]) headless with a fresh profile and a
// 1280×900 window, under ctx. Stop it when done.
func Start(t *testing.T, ctx context.Context, bin string) *Browser {
	t.Helper()
	profile, err := os.MkdirTemp("", "wagent-chromium-")
	require.NoError(t, err)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	bctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithErrorf(func(string, ...any) {
		// Events of a newer Chromium that this cdproto does not know;
		// failures that matter show up as failed actions.
	}))
	b := &Browser{Ctx: bctx, t: t, profile: profile, cancel: []context.CancelFunc{cancelBrowser, cancelAlloc}}
	chromedp.ListenTarget(bctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.errors = append(b.errors, ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				b.errors = append(b.errors, "console."+string(ev.Type)+": "+strings.Join(args, " "))
			}
		}
	})
	return b
}

// Errors returns the script errors and console errors and warnings the
// pages reported so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// Stop closes the browser gracefully, waits for it, then removes its
// profile, which its helper processes may still be writing.
func (b *Browser) Stop() {
	_ = chromedp.Cancel(b.Ctx)
	for _, c := range b.cancel {
		c()
	}
	var err error
	for range 50 {
		if err = os.RemoveAll(b.profile); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Logf("could not remove the browser profile %s: %v", b.profile, err)
}
