package setup

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/wagent/wagent/webwidget"
)

// Origins returns the URL people open for the listener at addr and the
// page origins that may embed the widget: the loopback names of the
// listening port, its own address when it listens on one address only, and
// the origin of publicURL (PUBLIC_URL: where the site is reached through a
// proxy or a tunnel) when it is set.
func Origins(addr net.Addr, publicURL string) (string, []string, error) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "", nil, err
	}
	public := "http://localhost:" + port
	list := []string{public, "http://127.0.0.1:" + port, "http://[::1]:" + port}
	if ip := net.ParseIP(host); host != "" && !ip.IsLoopback() && !ip.IsUnspecified() {
		public = "http://" + net.JoinHostPort(host, port) // listening on one address only: that is the one to open
		list = append(list, public)
	}
	if publicURL = strings.TrimSpace(publicURL); publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", nil, configError("PUBLIC_URL=%s: use an absolute http(s) URL such as https://shop.example", publicURL)
		}
		public = u.Scheme + "://" + u.Host
		list = append(list, public)
	}
	return public, list, nil
}

// WidgetSecret returns the secret that signs the widget's visitor tokens:
// WIDGET_SECRET when set (at least [webwidget.MinSecretBytes] characters;
// give every instance sharing a PostgreSQL store the same one); else, with
// a durable store, one kept in the file "widget-secret" in dir, made on
// first use, so that visitors keep their conversation across restarts;
// else (the memory store, which forgets the conversations anyway) a fresh
// random one.
func WidgetSecret(getenv func(string) string, dir, storeKind string) ([]byte, error) {
	if s := strings.TrimSpace(getenv("WIDGET_SECRET")); s != "" {
		if len(s) < webwidget.MinSecretBytes {
			return nil, configError("WIDGET_SECRET is too short: use at least %d characters", webwidget.MinSecretBytes)
		}
		return []byte(s), nil
	}
	if storeKind == "memory" {
		return []byte(RandomHex(32)), nil
	}
	path := filepath.Join(dir, "widget-secret")
	if b, err := os.ReadFile(path); err == nil && len(b) >= webwidget.MinSecretBytes {
		return b, nil
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("widget secret: %w", err)
	}
	b := []byte(RandomHex(32))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, fmt.Errorf("widget secret: %w", err)
	}
	return b, nil
}

// RandomHex returns n random bytes in hexadecimal: generated tokens and
// secrets.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
