package redact

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wagent/wagent/internal/fold"
)

// match is a value found in a text: text[start:end] is of kind.
type match struct {
	kind       Kind
	start, end int
}

// minRepeat is the shortest value whose other occurrences in the text are
// replaced too (a password typed twice, a number quoted again).
const minRepeat = 4

// detect finds the values of the kinds on in text, resolves overlaps (the
// kind earlier in [Kinds] wins, then the longer value), adds the other
// occurrences of every value found, and returns the matches in text order.
func detect(text string, on *modes) []match {
	var cands []match
	if on.enabled(Secret) {
		cands = findSecrets(text, cands)
	}
	if on.enabled(Password) {
		cands = findPasswords(text, cands)
	}
	if on.enabled(Email) {
		cands = findEmails(text, cands)
	}
	if on.enabled(IBAN) {
		cands = findIBANs(text, cands)
	}
	if on.enabled(Card) || on.enabled(RUC) || on.enabled(DNI) || on.enabled(Phone) {
		cands = findNumbers(text, on, cands)
	}
	if len(cands) == 0 {
		return nil
	}
	slices.SortStableFunc(cands, func(a, b match) int {
		if d := priority(a.kind) - priority(b.kind); d != 0 {
			return d
		}
		if d := (b.end - b.start) - (a.end - a.start); d != 0 {
			return d
		}
		return a.start - b.start
	})
	covered := make([]bool, len(text))
	free := func(s, e int) bool {
		for i := s; i < e; i++ {
			if covered[i] {
				return false
			}
		}
		return true
	}
	take := func(s, e int) {
		for i := s; i < e; i++ {
			covered[i] = true
		}
	}
	var out []match
	for _, c := range cands {
		if c.end > c.start && free(c.start, c.end) {
			take(c.start, c.end)
			out = append(out, c)
		}
	}
	// The same value elsewhere in the text goes too, wherever it is.
	found := len(out)
	for _, m := range out[:found] {
		v := text[m.start:m.end]
		if len(v) < minRepeat {
			continue
		}
		for from := 0; from < len(text); {
			i := strings.Index(text[from:], v)
			if i < 0 {
				break
			}
			s, e := from+i, from+i+len(v)
			if free(s, e) {
				take(s, e)
				out = append(out, match{kind: m.kind, start: s, end: e})
				from = e
			} else {
				from = s + 1
			}
		}
	}
	slices.SortFunc(out, func(a, b match) int { return a.start - b.start })
	return out
}

// priority orders kinds for overlaps: the lower wins.
func priority(k Kind) int { return slices.Index(allKinds[:], k) }

// Secrets with a recognizable prefix: OpenAI, Anthropic, Stripe, AWS access
// keys, GitHub, GitLab, Slack, Google API keys, Meta access tokens,
// SendGrid, JSON Web Tokens and PEM private keys.
var secretRe = regexp.MustCompile(`sk-[A-Za-z0-9_-]{20,}` +
	`|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}` +
	`|whsec_[A-Za-z0-9+/=]{16,}` +
	`|(?:AKIA|ASIA)[0-9A-Z]{16}` +
	`|gh[pousr]_[A-Za-z0-9]{30,}` +
	`|github_pat_[A-Za-z0-9_]{22,}` +
	`|glpat-[A-Za-z0-9_-]{20,}` +
	`|xox[abposr]-[A-Za-z0-9-]{10,}` +
	`|AIza[0-9A-Za-z_-]{35}` +
	`|EAA[A-Za-z0-9]{30,}` +
	`|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}` +
	`|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)

// pemRe finds the header of a PEM private key; findSecrets looks for its
// footer.
var pemRe = regexp.MustCompile(`-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----`)

// pemEndRe is the footer of a PEM private key.
var pemEndRe = regexp.MustCompile(`-----END [A-Z ]{0,40}PRIVATE KEY-----`)

// secretPrefixes are kept in the masked form of a secret: they tell which
// service it was for without revealing it. Longest first.
var secretPrefixes = []string{
	"github_pat_", "sk_live_", "sk_test_", "rk_live_", "rk_test_", "sk-proj-", "sk-ant-",
	"whsec_", "glpat-", "xoxb-", "xoxa-", "xoxp-", "xoxo-", "xoxs-", "xoxr-",
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "AKIA", "ASIA", "AIza", "sk-", "EAA", "eyJ", "SG.",
}

// keyWordRe finds words after which a long random token is a secret.
var keyWordRe = regexp.MustCompile(`(?i)\b(?:api[ _-]?key|apikey|secret(?:[ _-]?key)?|client[ _-]?secret|access[ _-]?token|auth[ _-]?token|refresh[ _-]?token|token|bearer|authorization|private[ _-]?key|llave|chave)\b`)

// passwordWordRe finds words after which a value is a password.
var passwordWordRe = regexp.MustCompile(`(?i)\b(?:password|passwd|passcode|pwd|pass|contrase(?:ñ|n)a|clave|senha|pin)\b`)

func isTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

func findSecrets(text string, out []match) []match {
	for _, loc := range secretRe.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		if s > 0 && isTokenByte(text[s-1]) {
			continue // inside a longer word: "task-force-..."
		}
		for e < len(text) && isTokenByte(text[e]) {
			e++
		}
		out = append(out, match{Secret, s, e})
	}
	// A PEM private key runs to its footer, or, cut short, to the end of
	// its base64 lines.
	noFooterAfter := len(text) + 1
	for _, loc := range pemRe.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		if e < noFooterAfter {
			if end := pemEndRe.FindStringIndex(text[e:]); end != nil {
				out = append(out, match{Secret, s, e + end[1]})
				continue
			}
			noFooterAfter = e
		}
		for e < len(text) {
			c := text[e]
			if c == '\n' && e+1 < len(text) && (text[e+1] == '\n' || text[e+1] == '\r') {
				break // a blank line ends it
			}
			if !isTokenByte(c) && c != '+' && c != '/' && c != '=' && c != '\n' && c != '\r' {
				break
			}
			e++
		}
		for e > s && (text[e-1] == '\n' || text[e-1] == '\r') {
			e--
		}
		out = append(out, match{Secret, s, e})
	}
	for _, loc := range keyWordRe.FindAllStringIndex(text, -1) {
		s, e, ok := valueAfter(text, loc[1], 256)
		if !ok || e-s < 16 {
			continue
		}
		v := text[s:e]
		if !isSecretToken(v) || entropy(v) < 3 || classes(v) < 2 {
			continue
		}
		out = append(out, match{Secret, s, e})
	}
	return out
}

func isSecretToken(v string) bool {
	for i := range len(v) {
		if !isTokenByte(v[i]) && !strings.ContainsRune("./+=~:", rune(v[i])) {
			return false
		}
	}
	return true
}

func findPasswords(text string, out []match) []match {
	for _, loc := range passwordWordRe.FindAllStringIndex(text, -1) {
		s, e, ok := valueAfter(text, loc[1], 128)
		if !ok || utf8.RuneCountInString(text[s:e]) < minRepeat {
			continue
		}
		out = append(out, match{Password, s, e})
	}
	return out
}

// connectors join a keyword to its value: "contraseña es x", "password is x".
var connectors = set("es", "is", "e", "era", "was", "sera", "son", "are", "eh")

// stopwords are values that say something about a password rather than
// being one: "la contraseña es incorrecta", "the password is too short".
var stopwords = set(
	"la", "el", "lo", "los", "las", "un", "una", "uno", "the", "a", "an", "my", "mi", "mis", "tu", "tus", "su", "sus",
	"your", "our", "que", "muy", "too", "very", "not", "no", "nao", "incorrect", "incorrecta", "incorrecto",
	"wrong", "correct", "correcta", "correcto", "valid", "valida", "valido", "invalida", "invalido", "invalid",
	"nueva", "nuevo", "new", "old", "vieja", "viejo", "antigua", "antiguo", "igual", "same", "misma", "mismo",
	"segura", "seguro", "secure", "strong", "fuerte", "debil", "weak", "larga", "largo", "long", "short",
	"corta", "corto", "obligatoria", "obligatorio", "required", "requerida", "requerido", "necesaria",
	"necesario", "diferente", "different", "expired", "vencida", "caducada", "caducado", "bloqueada",
	"bloqueado", "blocked", "locked", "facil", "easy", "dificil", "hard", "secreta", "secreto", "secret",
	"personal", "privada", "private", "importante", "important", "paciencia", "simple", "sencilla",
	"esta", "este", "this", "that", "eso", "esa", "ese", "otra", "otro", "another", "other", "de", "del",
	"para", "for", "por", "en", "in", "on", "of", "to", "y", "and", "o", "or", "demasiado", "bastante",
	"muito", "minha", "meu", "sua", "seu", "uma", "um", "os", "as", "errada", "errado", "certa", "certo",
	"forte", "fraca", "segura", "nova", "velha", "mesma", "mesmo", "required", "changed", "cambiada",
	"actualizada", "reset", "none", "ninguna", "nenhuma", "temporal", "temporary", "provisional", "provisoria",
)

// valueAfter finds the value that follows a keyword ending at p: optional
// words ("de mi cuenta"), a connector (":", "=", "es", "is"), then the value,
// quoted or up to the next space, without trailing punctuation. Without a
// connector only a value right after the keyword that mixes character
// classes counts ("password Xk9f2!").
func valueAfter(text string, p, maxLen int) (start, end int, ok bool) {
	p = skipSpace(text, p)
	connected, words := false, 0
	for !connected {
		if p < len(text) && (text[p] == ':' || text[p] == '=') {
			p, connected = p+1, true
			break
		}
		w, next := wordAt(text, p)
		if w == "" {
			break
		}
		if connectors[fold.String(w)] {
			p, connected = skipSpace(text, next), true
			if p < len(text) && text[p] == ':' {
				p++
			}
			break
		}
		if words == 3 {
			return 0, 0, false
		}
		words++
		p = skipSpace(text, next)
	}
	if !connected && words > 0 {
		return 0, 0, false
	}
	p = skipSpace(text, p)
	if p >= len(text) {
		return 0, 0, false
	}
	r, size := utf8.DecodeRuneInString(text[p:])
	if closer, quoted := quotes[r]; quoted {
		s := p + size
		limit := min(len(text), s+maxLen)
		for i := s; i < limit; {
			c, n := utf8.DecodeRuneInString(text[i:])
			if c == '\n' {
				break
			}
			if strings.ContainsRune(closer, c) {
				if i > s {
					return s, i, true
				}
				break
			}
			i += n
		}
		return 0, 0, false
	}
	e := p
	for e < len(text) && e-p <= maxLen {
		c, n := utf8.DecodeRuneInString(text[e:])
		if unicode.IsSpace(c) {
			break
		}
		e += n
	}
	for e > p {
		c, n := utf8.DecodeLastRuneInString(text[p:e])
		if !strings.ContainsRune(".,;:!?)]}\"'”’»…", c) {
			break
		}
		e -= n
	}
	if e == p || e-p > maxLen {
		return 0, 0, false
	}
	v := text[p:e]
	if stopwords[fold.String(v)] {
		return 0, 0, false
	}
	if !connected && (len(v) < 6 || classes(v) < 2) {
		return 0, 0, false
	}
	return p, e, true
}

var quotes = map[rune]string{'"': `"`, '\'': "'", '“': "”\"", '‘': "’'", '«': "»", '`': "`"}

func skipSpace(text string, p int) int {
	for p < len(text) && (text[p] == ' ' || text[p] == '\t') {
		p++
	}
	return p
}

// wordAt returns the word of letters starting at p and where it ends.
func wordAt(text string, p int) (string, int) {
	e := p
	for e < len(text) && e-p < 64 {
		c, n := utf8.DecodeRuneInString(text[e:])
		if !unicode.IsLetter(c) {
			break
		}
		e += n
	}
	return text[p:e], e
}

var emailRe = regexp.MustCompile(`[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}`)

func findEmails(text string, out []match) []match {
	for _, loc := range emailRe.FindAllStringIndex(text, -1) {
		s, e := loc[0], loc[1]
		if e < len(text) && (isTokenByte(text[e]) || text[e] == '@') {
			continue
		}
		at := strings.IndexByte(text[s:e], '@')
		if at > 64 || e-s > 254 {
			continue
		}
		out = append(out, match{Email, s, e})
	}
	return out
}

func isUpperAlnum(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
func isDigit(c byte) bool      { return c >= '0' && c <= '9' }

// findIBANs finds IBANs written compact or in groups of four: a country
// code, two check digits, then up to 30 letters and digits; the longest
// prefix ending at a word boundary that passes mod 97 wins.
func findIBANs(text string, out []match) []match {
	for i := 0; i+4 <= len(text); i++ {
		if !(text[i] >= 'A' && text[i] <= 'Z' && text[i+1] >= 'A' && text[i+1] <= 'Z' && isDigit(text[i+2]) && isDigit(text[i+3])) {
			continue
		}
		if i > 0 && isTokenByte(text[i-1]) {
			continue
		}
		if _, ok := ibanLengths[text[i:i+2]]; !ok {
			continue
		}
		var compact []byte
		var ends []int // ends[n] is where the prefix of n+1 characters ends
		for j := i; j < len(text) && len(compact) < 34; {
			switch c := text[j]; {
			case isUpperAlnum(c):
				compact = append(compact, c)
				j++
				ends = append(ends, j)
			case c == ' ' && j+1 < len(text) && isUpperAlnum(text[j+1]) && len(compact) >= 4:
				j++
			default:
				j = len(text)
			}
		}
		for n := len(compact); n >= 15; n-- {
			e := ends[n-1]
			if e < len(text) && isTokenByte(text[e]) {
				continue
			}
			if ibanValid(string(compact[:n])) {
				out = append(out, match{IBAN, i, e})
				i = e - 1
				break
			}
		}
	}
	return out
}
