package webwidget

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
)

// Defaults for the zero values of [Options] and [Site].
const (
	// DefaultTokenTTL is how long a visitor token is valid after it was
	// issued. The widget refreshes its token each time it starts, so a
	// visitor who comes back within this time keeps their conversation.
	DefaultTokenTTL = 30 * 24 * time.Hour
	// DefaultMaxMessageBytes caps the text of one visitor message (UTF-8
	// bytes).
	DefaultMaxMessageBytes = 2000
	// DefaultHistoryLimit is how many messages the history endpoint returns
	// at most: the latest ones.
	DefaultHistoryLimit = 100
	// DefaultResumeBuffer is how many events are kept per visitor for
	// resuming an interrupted event stream.
	DefaultResumeBuffer = 64
	// DefaultResumeWindow is how long the events of a visitor with no open
	// stream are kept for a resume. A client that comes back later reloads
	// its history instead.
	DefaultResumeWindow = 10 * time.Minute
	// DefaultHeartbeat is how often an idle event stream carries a comment,
	// so that proxies do not close it.
	DefaultHeartbeat = 25 * time.Second
	// DefaultMaxStreams is how many event streams (browser tabs) one
	// visitor may hold open at once.
	DefaultMaxStreams = 8
	// DefaultColor is the accent colour of a site that sets none.
	DefaultColor = "#2563eb"
	// DefaultPrivacyNotice is the notice of a site that sets none.
	DefaultPrivacyNotice = "An AI assistant answers this chat and your messages are kept to reply to you. Please do not share passwords or card numbers."
	// MinSecretBytes is the shortest accepted [Options.Secret].
	MinSecretBytes = 32
)

// Default rate limits, for the zero fields of Options.VisitorLimit and
// Options.IPLimit.
const (
	// A visitor may send a burst of 5 messages, then one every 2 s.
	DefaultVisitorEvery = 2 * time.Second
	DefaultVisitorBurst = 5
	// A client IP address may make a burst of 60 requests (messages, new
	// tokens and erasures together), then one per second. Several visitors
	// behind one NAT share it.
	DefaultIPEvery = time.Second
	DefaultIPBurst = 60
)

// Limit is a token-bucket rate limit: Burst requests at once, then one more
// every Every. Zero fields take the documented defaults; a negative Every
// means no limit.
type Limit struct {
	Every time.Duration
	Burst int
}

// Options configures a [Widget]. Sites and Secret are required; every other
// zero value means the documented default.
type Options struct {
	// Sites are the websites the widget serves, one per site key. A site key
	// is the tenant of every message of its visitors.
	Sites []Site

	// Secret signs visitor tokens with HMAC-SHA256. It must be at least
	// [MinSecretBytes] long, random, and the same on every instance that
	// serves the same sites. Changing it logs every visitor out (they start
	// a new conversation) unless the old one is kept in PreviousSecrets.
	Secret []byte
	// PreviousSecrets are accepted when verifying tokens, not for signing,
	// so that Secret can be rotated: tokens signed with an old secret are
	// re-signed with Secret at their next refresh.
	PreviousSecrets [][]byte
	// TokenTTL is how long a visitor token is valid (default
	// [DefaultTokenTTL]).
	TokenTTL time.Duration

	// MaxMessageBytes caps the text of a visitor message (default
	// [DefaultMaxMessageBytes]); larger messages are refused with 413.
	MaxMessageBytes int
	// VisitorLimit is the message rate of one visitor (default
	// [DefaultVisitorEvery], [DefaultVisitorBurst]).
	VisitorLimit Limit
	// IPLimit is the rate of messages, new tokens and erasures from one
	// client IP address (default [DefaultIPEvery], [DefaultIPBurst]).
	IPLimit Limit
	// ClientIP returns the address the IP limit applies to. Nil uses the
	// host part of Request.RemoteAddr; behind a reverse proxy, return the
	// address the proxy reports (and that only the proxy can set).
	ClientIP func(*http.Request) string

	// HistoryLimit is how many messages the history endpoint returns at
	// most (default [DefaultHistoryLimit]).
	HistoryLimit int
	// ResumeBuffer is how many events are kept per visitor for resuming an
	// event stream (default [DefaultResumeBuffer]).
	ResumeBuffer int
	// ResumeWindow is how long the events of a visitor without an open
	// stream are kept (default [DefaultResumeWindow]).
	ResumeWindow time.Duration
	// Heartbeat is the interval of keep-alive comments on idle event
	// streams (default [DefaultHeartbeat]).
	Heartbeat time.Duration
	// MaxStreams is how many event streams one visitor may hold open
	// (default [DefaultMaxStreams]); more are refused with 429.
	MaxStreams int

	// Erase deletes what the business keeps about a visitor, for the
	// widget's "delete my data" action; the privacy engine provides it. Nil:
	// when the store implements [github.com/wagent/wagent/store.Eraser], the
	// visitor's data subject is erased from the store; otherwise the action
	// is not offered. It is called with the visitor's address and must be
	// idempotent.
	Erase func(ctx context.Context, visitor channel.Address) error

	// Logger receives the widget's logs (nil: [slog.Default]). Normal flow
	// logs at Debug; logs never hold message text, visitor ids or IP
	// addresses.
	Logger *slog.Logger
	// Now returns the current time, for tokens and rate limits (nil:
	// [time.Now]).
	Now func() time.Time
}

// Site is one website that embeds the widget: a business (tenant) and how
// the widget looks and behaves there.
type Site struct {
	// Key is the site key written in the script tag's data-site attribute,
	// and the tenant of every message of the site's visitors. 1 to 64
	// letters, digits, '-' or '_'.
	Key channel.TenantID
	// Name is the business's name, shown in the widget's header. Required.
	Name string
	// Color is the accent colour, "#rrggbb" (default [DefaultColor]). The
	// text on it is black or white, whichever contrasts more.
	Color string
	// Greeting, when set, is shown as the first message of every
	// conversation. It is not recorded.
	Greeting string
	// PrivacyNotice is the short notice shown before the first message
	// (default [DefaultPrivacyNotice]).
	PrivacyNotice string
	// PrivacyPolicyURL is the business's privacy policy, linked from the
	// notice: an absolute http or https URL. Required.
	PrivacyPolicyURL string
	// AllowedOrigins are the origins of the pages that may embed the
	// widget, such as "https://shop.example"; "https://*.shop.example"
	// allows every subdomain. At least one is required.
	AllowedOrigins []string
	// Labels are the widget's texts; zero fields take the English ones of
	// [EnglishLabels].
	Labels Labels
}

// Labels are the texts of the widget's interface, for translation.
type Labels struct {
	Open          string `json:"open"`           // launcher button
	Close         string `json:"close"`          // close button
	Assistant     string `json:"assistant"`      // under the business name: who answers
	Operator      string `json:"operator"`       // label of a human operator's messages
	You           string `json:"you"`            // label of the visitor's messages, for screen readers
	Messages      string `json:"messages"`       // label of the message list
	Placeholder   string `json:"placeholder"`    // message box
	Send          string `json:"send"`           // send button
	Typing        string `json:"typing"`         // typing indicator, after the business name
	Policy        string `json:"policy"`         // privacy policy link
	Delete        string `json:"delete"`         // "delete my data" action
	DeleteConfirm string `json:"delete_confirm"` // confirmation question
	DeleteYes     string `json:"delete_yes"`     // confirm button
	Cancel        string `json:"cancel"`         // cancel button
	Deleted       string `json:"deleted"`        // after deletion
	NotSent       string `json:"not_sent"`       // a message that could not be sent
	Retry         string `json:"retry"`          // resend button
	Error         string `json:"error"`          // a failure other than sending
	TooFast       string `json:"too_fast"`       // rate limited
	TooLong       string `json:"too_long"`       // message too large
	NewMessage    string `json:"new_message"`    // launcher label when a reply arrived while closed
	Image         string `json:"image"`          // alternative text of images without a caption
	Map           string `json:"map"`            // link to a shared location
}

// EnglishLabels returns the widget's English texts, the defaults.
func EnglishLabels() Labels {
	return Labels{
		Open:          "Open chat",
		Close:         "Close chat",
		Assistant:     "AI assistant",
		Operator:      "Agent",
		You:           "You",
		Messages:      "Messages",
		Placeholder:   "Write a message…",
		Send:          "Send",
		Typing:        "is typing…",
		Policy:        "Privacy policy",
		Delete:        "Delete my data",
		DeleteConfirm: "Delete this conversation and the data kept about you?",
		DeleteYes:     "Delete",
		Cancel:        "Cancel",
		Deleted:       "Your data was deleted.",
		NotSent:       "Not sent.",
		Retry:         "Retry",
		Error:         "Something went wrong. Please try again.",
		TooFast:       "You are writing faster than we can answer. Please wait a moment.",
		TooLong:       "This message is too long.",
		NewMessage:    "New message",
		Image:         "Image",
		Map:           "Open map",
	}
}

// SpanishLabels returns the widget's Spanish texts.
func SpanishLabels() Labels {
	return Labels{
		Open:          "Abrir chat",
		Close:         "Cerrar chat",
		Assistant:     "Asistente de IA",
		Operator:      "Agente",
		You:           "Tú",
		Messages:      "Mensajes",
		Placeholder:   "Escribe un mensaje…",
		Send:          "Enviar",
		Typing:        "está escribiendo…",
		Policy:        "Política de privacidad",
		Delete:        "Borrar mis datos",
		DeleteConfirm: "¿Borrar esta conversación y los datos guardados sobre ti?",
		DeleteYes:     "Borrar",
		Cancel:        "Cancelar",
		Deleted:       "Tus datos fueron borrados.",
		NotSent:       "No enviado.",
		Retry:         "Reintentar",
		Error:         "Algo salió mal. Inténtalo de nuevo.",
		TooFast:       "Escribes más rápido de lo que podemos responder. Espera un momento.",
		TooLong:       "Este mensaje es demasiado largo.",
		NewMessage:    "Mensaje nuevo",
		Image:         "Imagen",
		Map:           "Ver mapa",
	}
}

// withDefaults returns l with its empty fields taken from d.
func (l Labels) withDefaults(d Labels) Labels {
	for _, f := range []struct{ v, d *string }{
		{&l.Open, &d.Open}, {&l.Close, &d.Close}, {&l.Assistant, &d.Assistant},
		{&l.Operator, &d.Operator}, {&l.You, &d.You}, {&l.Messages, &d.Messages},
		{&l.Placeholder, &d.Placeholder}, {&l.Send, &d.Send}, {&l.Typing, &d.Typing},
		{&l.Policy, &d.Policy}, {&l.Delete, &d.Delete}, {&l.DeleteConfirm, &d.DeleteConfirm},
		{&l.DeleteYes, &d.DeleteYes}, {&l.Cancel, &d.Cancel}, {&l.Deleted, &d.Deleted},
		{&l.NotSent, &d.NotSent}, {&l.Retry, &d.Retry}, {&l.Error, &d.Error}, {&l.TooFast, &d.TooFast},
		{&l.TooLong, &d.TooLong}, {&l.NewMessage, &d.NewMessage}, {&l.Image, &d.Image},
		{&l.Map, &d.Map},
	} {
		if *f.v == "" {
			*f.v = *f.d
		}
	}
	return l
}

var (
	siteKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	colorRE   = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
)

// site is a validated Site with what the handler needs precomputed.
type site struct {
	Site
	onColor string
	origins []originPattern
}

// originPattern is an allowed origin: scheme and host (with port), the host
// possibly a "*." wildcard for subdomains.
type originPattern struct {
	scheme, host string
	wildcard     bool // host is a suffix: ".shop.example"
}

func (p originPattern) match(o string) bool {
	u, ok := parseOrigin(o)
	if !ok || u.scheme != p.scheme {
		return false
	}
	if p.wildcard {
		return strings.HasSuffix(u.host, p.host) && len(u.host) > len(p.host)
	}
	return u.host == p.host
}

// parseOrigin splits an Origin header value, "scheme://host[:port]".
func parseOrigin(o string) (originPattern, bool) {
	scheme, host, ok := strings.Cut(o, "://")
	if !ok || (scheme != "http" && scheme != "https") || host == "" || strings.ContainsAny(host, "/?#@ ") {
		return originPattern{}, false
	}
	return originPattern{scheme: scheme, host: strings.ToLower(host)}, true
}

func parseAllowedOrigin(o string) (originPattern, error) {
	o = strings.TrimSuffix(o, "/")
	p, ok := parseOrigin(o)
	if !ok {
		return p, fmt.Errorf("%q is not an origin such as https://shop.example", o)
	}
	if rest, ok := strings.CutPrefix(p.host, "*."); ok {
		if rest == "" || strings.Contains(rest, "*") {
			return p, fmt.Errorf("%q: a wildcard origin is https://*.domain", o)
		}
		p.host, p.wildcard = "."+rest, true
	} else if strings.Contains(p.host, "*") {
		return p, fmt.Errorf("%q: a wildcard origin is https://*.domain", o)
	}
	return p, nil
}

func (s *site) allows(origin string) bool {
	for _, p := range s.origins {
		if p.match(origin) {
			return true
		}
	}
	return false
}

// config is Options validated, with defaults applied.
type config struct {
	Options
	sites map[channel.TenantID]*site
}

// validate checks o and returns it with defaults applied, or an error
// naming every problem.
func (o Options) validate() (config, error) {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("webwidget: "+format, args...)) }
	if len(o.Sites) == 0 {
		add("Options.Sites needs at least one site")
	}
	if len(o.Secret) < MinSecretBytes {
		add("Options.Secret must be at least %d bytes", MinSecretBytes)
	}
	for i, s := range o.PreviousSecrets {
		if len(s) < MinSecretBytes {
			add("Options.PreviousSecrets[%d] must be at least %d bytes", i, MinSecretBytes)
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"TokenTTL", int64(o.TokenTTL)},
		{"MaxMessageBytes", int64(o.MaxMessageBytes)},
		{"HistoryLimit", int64(o.HistoryLimit)},
		{"ResumeBuffer", int64(o.ResumeBuffer)},
		{"ResumeWindow", int64(o.ResumeWindow)},
		{"Heartbeat", int64(o.Heartbeat)},
		{"MaxStreams", int64(o.MaxStreams)},
		{"VisitorLimit.Burst", int64(o.VisitorLimit.Burst)},
		{"IPLimit.Burst", int64(o.IPLimit.Burst)},
	} {
		if f.v < 0 {
			add("Options.%s must not be negative", f.name)
		}
	}
	c := config{Options: o, sites: make(map[channel.TenantID]*site, len(o.Sites))}
	for i, s := range o.Sites {
		name := "Options.Sites[" + strconv.Itoa(i) + "]"
		if !siteKeyRE.MatchString(string(s.Key)) {
			add("%s.Key must be 1-64 letters, digits, '-' or '_'", name)
		} else if c.sites[s.Key] != nil {
			add("two sites have the key %q", s.Key)
		}
		if strings.TrimSpace(s.Name) == "" {
			add("%s.Name is required", name)
		}
		if s.Color == "" {
			s.Color = DefaultColor
		}
		if !colorRE.MatchString(s.Color) {
			add("%s.Color must be #rrggbb", name)
		}
		if s.PrivacyNotice == "" {
			s.PrivacyNotice = DefaultPrivacyNotice
		}
		if u, err := url.Parse(s.PrivacyPolicyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("%s.PrivacyPolicyURL must be an absolute http(s) URL", name)
		}
		if len(s.AllowedOrigins) == 0 {
			add("%s.AllowedOrigins needs at least one origin", name)
		}
		st := &site{Site: s}
		st.Labels = s.Labels.withDefaults(EnglishLabels())
		for _, ao := range s.AllowedOrigins {
			p, err := parseAllowedOrigin(ao)
			if err != nil {
				add("%s.AllowedOrigins: %v", name, err)
				continue
			}
			st.origins = append(st.origins, p)
		}
		if colorRE.MatchString(s.Color) {
			st.onColor = textOn(s.Color)
		}
		if c.sites[s.Key] == nil {
			c.sites[s.Key] = st
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	c.TokenTTL = orDefault(c.TokenTTL, DefaultTokenTTL)
	c.MaxMessageBytes = orDefault(c.MaxMessageBytes, DefaultMaxMessageBytes)
	c.HistoryLimit = orDefault(c.HistoryLimit, DefaultHistoryLimit)
	c.ResumeBuffer = orDefault(c.ResumeBuffer, DefaultResumeBuffer)
	c.ResumeWindow = orDefault(c.ResumeWindow, DefaultResumeWindow)
	c.Heartbeat = orDefault(c.Heartbeat, DefaultHeartbeat)
	c.MaxStreams = orDefault(c.MaxStreams, DefaultMaxStreams)
	c.VisitorLimit.Every = orDefault(c.VisitorLimit.Every, DefaultVisitorEvery)
	c.VisitorLimit.Burst = orDefault(c.VisitorLimit.Burst, DefaultVisitorBurst)
	c.IPLimit.Every = orDefault(c.IPLimit.Every, DefaultIPEvery)
	c.IPLimit.Burst = orDefault(c.IPLimit.Burst, DefaultIPBurst)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ClientIP == nil {
		c.ClientIP = remoteIP
	}
	return c, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// textOn returns the text colour, black or white, that contrasts more with
// the background colour bg ("#rrggbb"), by WCAG relative luminance.
func textOn(bg string) string {
	lum := 0.0
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.ParseUint(bg[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		lum += w * c
	}
	// Contrast with white is 1.05/(lum+0.05), with black (lum+0.05)/0.05.
	if 1.05/(lum+0.05) >= (lum+0.05)/0.05 {
		return "#ffffff"
	}
	return "#000000"
}
