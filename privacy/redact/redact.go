package redact

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/wagent/wagent/channel"
)

// Kind is a kind of personal data or secret the redactor recognizes. Its
// value names its placeholders: <EMAIL_1>, <CARD_2>.
type Kind string

// Kinds, in the order they win when two values overlap.
const (
	// Secret is an API key, access token or private key: a known prefix
	// (sk-, sk_live_, AKIA, ghp_, xoxb-, AIza, EAA...), a JSON Web Token, a
	// PEM private key, or a long random token after "api key", "secret",
	// "token", "bearer".
	Secret Kind = "SECRET"
	// Password is the value after "password", "contraseña", "clave",
	// "senha", "pin" and a connector (":", "=", "es", "is", "é").
	Password Kind = "PASSWORD"
	// Card is a payment card number: 13 to 19 digits, compact or grouped
	// by spaces or dashes, passing the Luhn check.
	Card Kind = "CARD"
	// IBAN is an international bank account number of a country that
	// issues them, at its length, passing the mod 97 check.
	IBAN Kind = "IBAN"
	// Email is an e-mail address.
	Email Kind = "EMAIL"
	// RUC is a Peruvian taxpayer number: 11 digits starting 10, 15, 17 or
	// 20, with a valid check digit.
	RUC Kind = "RUC"
	// DNI is a Peruvian national identity number: 8 digits after "DNI" or
	// "documento".
	DNI Kind = "DNI"
	// Phone is a phone number: international (+ or 00 and a country code),
	// Peruvian mobile (9 digits starting with 9, or 51 and those), Lima
	// landline (01 and 7 digits), a parenthesized area code, a grouped
	// national number of 10 or 11 digits ("55 1234 5678"), or 7 to 15
	// digits after "cel", "teléfono", "whatsapp". Numbers after "pedido",
	// "order", "#", a currency, and dates are never phones.
	Phone Kind = "PHONE"
)

var allKinds = [...]Kind{Secret, Password, Card, IBAN, Email, RUC, DNI, Phone}

// Kinds returns every kind, in the order they win when two values overlap.
func Kinds() []Kind { return append([]Kind(nil), allKinds[:]...) }

// Mode is what happens to the values of a kind.
type Mode uint8

// Modes.
const (
	// Off: the kind is not looked for; its values reach the model and the
	// store as written.
	Off Mode = iota
	// Restore: the model sees a placeholder; the reply gets the original
	// value back, and the stored text keeps it.
	Restore
	// Mask: the model sees a placeholder; the reply gets the masked form
	// ("•••• 4242"), and the stored text has the masked form instead of the
	// value. The value never leaves the turn it was written in.
	Mask
)

var modeNames = [...]string{"off", "restore", "mask"}

// String returns "off", "restore" or "mask".
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// DefaultModes returns the mode of each kind when [Config] does not set it:
// contact data and identifiers the business may need in a reply (email,
// phone, IBAN, DNI, RUC) are restored; cards, passwords and secrets are
// masked.
func DefaultModes() map[Kind]Mode {
	return map[Kind]Mode{
		Secret: Mask, Password: Mask, Card: Mask,
		IBAN: Restore, Email: Restore, RUC: Restore, DNI: Restore, Phone: Restore,
	}
}

// neverLeave are the kinds whose values are never restored nor stored:
// they are masked or not looked for.
var neverLeave = map[Kind]bool{Secret: true, Password: true, Card: true}

// Config configures a [Redactor]. The zero value redacts with
// [DefaultModes] for every tenant.
type Config struct {
	// Modes overrides the default mode of the kinds it lists.
	Modes map[Kind]Mode
	// Tenants overrides Modes for one tenant's conversations.
	Tenants map[channel.TenantID]map[Kind]Mode
}

// modes is a resolved mode per kind, indexed like allKinds.
type modes [len(allKinds)]Mode

func (m *modes) mode(k Kind) Mode    { return m[priority(k)] }
func (m *modes) enabled(k Kind) bool { return m[priority(k)] != Off }

// only returns m with every kind not in mode turned off.
func (m modes) only(mode Mode) modes {
	for i := range m {
		if m[i] != mode {
			m[i] = Off
		}
	}
	return m
}

// Redactor finds personal data and secrets in text. It is configured once
// and safe for concurrent use; each conversation turn uses its own
// [Session].
type Redactor struct {
	base    modes
	tenants map[channel.TenantID]modes
}

// New returns a redactor for cfg. It returns an error for an unknown kind
// or mode, and when a card, password or secret is set to [Restore]: those
// are never restored into a reply nor stored. They may be turned [Off],
// for a business whose customers legitimately send such strings, at the
// cost of the promise that secrets are never stored.
func New(cfg Config) (*Redactor, error) {
	var base modes
	for k, m := range DefaultModes() {
		base[priority(k)] = m
	}
	base, err := apply(base, cfg.Modes)
	if err != nil {
		return nil, err
	}
	r := &Redactor{base: base, tenants: make(map[channel.TenantID]modes, len(cfg.Tenants))}
	for t, over := range cfg.Tenants {
		m, err := apply(base, over)
		if err != nil {
			return nil, fmt.Errorf("privacy: redact: tenant %q: %w", t, err)
		}
		r.tenants[t] = m
	}
	return r, nil
}

func apply(m modes, over map[Kind]Mode) (modes, error) {
	for k, mode := range over {
		i := priority(k)
		if i < 0 {
			return m, fmt.Errorf("privacy: redact: unknown kind %q", k)
		}
		if mode > Mask {
			return m, fmt.Errorf("privacy: redact: unknown mode %d for %s", mode, k)
		}
		if neverLeave[k] && mode == Restore {
			return m, fmt.Errorf("privacy: redact: %s is never restored", k)
		}
		m[i] = mode
	}
	return m, nil
}

func (r *Redactor) modes(tenant channel.TenantID) modes {
	if m, ok := r.tenants[tenant]; ok {
		return m
	}
	return r.base
}

// Mode returns the mode of kind for tenant's conversations.
func (r *Redactor) Mode(tenant channel.TenantID, k Kind) Mode {
	if priority(k) < 0 {
		return Off
	}
	m := r.modes(tenant)
	return m.mode(k)
}

// Match locates a value found in a text, without the value.
type Match struct {
	Kind Kind
	// Start and End are byte offsets: the value is text[Start:End].
	Start, End int
}

// Find returns where tenant's enabled kinds occur in text, in text order.
// It lets a caller react to what was found (warn a customer who sent a
// password) without handling the values.
func (r *Redactor) Find(tenant channel.TenantID, text string) []Match {
	m := r.modes(tenant)
	found := detect(text, &m)
	out := make([]Match, len(found))
	for i, f := range found {
		out[i] = Match{Kind: f.kind, Start: f.start, End: f.end}
	}
	return out
}

// Mask returns text as it may be stored: every value of a kind in [Mask]
// mode replaced by its masked form ("•••• 4242", "sk-••••"), wherever it
// occurs; values of kinds in [Restore] mode are kept. The agent stores
// what customers write through Mask, so that secrets are never stored.
func (r *Redactor) Mask(tenant channel.TenantID, text string) string {
	m := r.modes(tenant)
	found := detect(text, &m)
	var hidden []string
	for _, f := range found {
		if m.mode(f.kind) == Mask {
			hidden = append(hidden, text[f.start:f.end])
		}
	}
	if len(hidden) == 0 {
		return text
	}
	var b strings.Builder
	last := 0
	for _, f := range found {
		if m.mode(f.kind) != Mask {
			continue
		}
		b.WriteString(withoutHidden(text[last:f.start], hidden))
		b.WriteString(masked(f.kind, text[f.start:f.end]))
		last = f.end
	}
	b.WriteString(withoutHidden(text[last:], hidden))
	return b.String()
}

// withoutHidden returns s with every occurrence of the hidden values
// replaced: a value masked in one place is masked inside others too (an
// email whose local part is the password just typed).
func withoutHidden(s string, hidden []string) string {
	for _, h := range hidden {
		if h != "" {
			s = strings.ReplaceAll(s, h, "••••")
		}
	}
	return s
}

// Session returns a new set of placeholders for one conversation of
// tenant. The agent uses one session per turn: it redacts the history
// window, the tool results and the message being answered with it, in
// order, then restores the model's reply with it.
func (r *Redactor) Session(tenant channel.TenantID) *Session {
	return &Session{
		modes:    r.modes(tenant),
		tokens:   make(map[string]string),
		byValue:  make(map[string]string),
		reserved: make(map[string]bool),
	}
}

// Session replaces values by placeholders for one conversation: the same
// value gets the same placeholder each time, and [Session.Restore] puts
// the originals (or their masked forms) back. A Session holds the
// restorable values it has seen and the masked forms of the others, never
// a card, password or secret itself. It is safe for concurrent use.
type Session struct {
	modes modes

	mu sync.Mutex
	// tokens maps each placeholder to what Restore writes for it.
	tokens map[string]string
	// byValue maps a kind and value (a digest for masked kinds) to its
	// placeholder.
	byValue map[string]string
	next    [len(allKinds)]int
	// reserved holds placeholder-like text written by users, which is
	// never allocated so that Restore leaves it alone.
	reserved map[string]bool
	restorer *strings.Replacer
}

var tokenRe = regexp.MustCompile(`<[A-Z]+_[0-9]+>`)

// Redact returns text with every value of an enabled kind replaced by its
// placeholder.
func (s *Session) Redact(text string) string {
	found := detect(text, &s.modes)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range tokenRe.FindAllString(text, -1) {
		s.reserved[t] = true
	}
	if len(found) == 0 {
		return text
	}
	var hidden []string // values that never leave, to keep out of restored forms
	for _, f := range found {
		if s.modes.mode(f.kind) == Mask {
			hidden = append(hidden, text[f.start:f.end])
		}
	}
	var b strings.Builder
	last := 0
	for _, f := range found {
		b.WriteString(text[last:f.start])
		b.WriteString(s.placeholder(f.kind, text[f.start:f.end], hidden))
		last = f.end
	}
	b.WriteString(text[last:])
	return b.String()
}

// placeholder returns the placeholder of value, allocating one when it is
// new. s.mu is held.
func (s *Session) placeholder(k Kind, value string, hidden []string) string {
	mode := s.modes.mode(k)
	key := string(k) + "\x00" + value
	if mode == Mask {
		sum := sha256.Sum256([]byte(value))
		key = string(k) + "\x00" + string(sum[:])
	}
	if t, ok := s.byValue[key]; ok {
		return t
	}
	i := priority(k)
	var tok string
	for {
		s.next[i]++
		tok = "<" + string(k) + "_" + strconv.Itoa(s.next[i]) + ">"
		if !s.reserved[tok] {
			break
		}
	}
	restored := value
	if mode == Mask {
		restored = masked(k, value)
	} else {
		restored = withoutHidden(value, hidden)
	}
	s.byValue[key] = tok
	s.tokens[tok] = restored
	s.restorer = nil
	return tok
}

// Restore returns text with every placeholder of this session replaced:
// by the original value for kinds in [Restore] mode, by the masked form
// for kinds in [Mask] mode. Other text, placeholder-like or not, is left
// as it is.
func (s *Session) Restore(text string) string {
	s.mu.Lock()
	if s.restorer == nil {
		pairs := make([]string, 0, 2*len(s.tokens))
		for t, v := range s.tokens {
			pairs = append(pairs, t, v)
		}
		s.restorer = strings.NewReplacer(pairs...)
	}
	rep := s.restorer
	s.mu.Unlock()
	return rep.Replace(text)
}

// Len returns how many distinct values the session has replaced.
func (s *Session) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}

// masked returns the form of a value shown in replies and stored: enough
// to recognize it (the last digits of a card, the domain of an email), not
// enough to use it.
func masked(k Kind, v string) string {
	const dots = "••••"
	switch k {
	case Card:
		d := digitsOf(v)
		return dots + " " + d[max(0, len(d)-4):]
	case IBAN:
		c := strings.ReplaceAll(v, " ", "")
		return c[:min(2, len(c))] + "•• " + dots + " " + c[max(0, len(c)-4):]
	case Phone:
		d := digitsOf(v)
		return dots + d[max(0, len(d)-3):]
	case DNI, RUC:
		d := digitsOf(v)
		return dots + d[max(0, len(d)-3):]
	case Email:
		at := strings.LastIndexByte(v, '@')
		if at <= 0 {
			return dots
		}
		_, n := utf8.DecodeRuneInString(v)
		return v[:n] + dots + v[at:]
	case Secret:
		for _, p := range secretPrefixes {
			if strings.HasPrefix(v, p) && len(v) >= 2*len(p) {
				return p + dots
			}
		}
		return dots + dots
	}
	return dots + dots
}

func digitsOf(v string) string {
	var b strings.Builder
	for i := range len(v) {
		if isDigit(v[i]) {
			b.WriteByte(v[i])
		}
	}
	return b.String()
}
