// Package browsertest starts the headless Chromium that the widget's and
// the console's browser tests drive with chromedp, with a fresh profile,
// and collects the page's script errors and warnings (a CSP violation is
// one).
package browsertest
