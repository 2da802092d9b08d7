package redact

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wagent/wagent/internal/fold"
)

// group is a run of digits in a number as written: "987", "(01)".
type group struct {
	start, end int // bytes in the text, parentheses included
	digits     string
	paren      bool
	sep        byte // the separator before the group: ' ', '-', '.', or 0
}

// numCtx is what the words before a number say about it.
type numCtx struct {
	phone bool // "cel", "teléfono", "whatsapp"...
	order bool // "pedido", "order", "#", "factura": an identifier, not a phone
	doc   bool // "DNI", "documento": an identity document
	money bool // "S/", "$", "USD": an amount
}

// maxSegment bounds the groups one value may span.
const maxSegment = 8

// findNumbers finds cards, RUCs, DNIs and phone numbers. It reads each run
// of digit groups (separated by single spaces, dashes or dots, with an
// optional leading "+" and parenthesized area code), skips runs glued to
// words ("A-1001", "12kg") or to other numbers ("10:30", "12/03/2025"), and
// cuts each run into the longest values it recognizes, left to right.
func findNumbers(text string, on *modes, out []match) []match {
	for i := 0; i < len(text); {
		c := text[i]
		if !(isDigit(c) || (c == '+' || c == '(') && i+1 < len(text) && isDigit(text[i+1])) {
			i++
			continue
		}
		start := i
		plus := c == '+'
		j := i
		if plus {
			j++
		}
		var groups []group
		var sep byte
		for {
			g, next, ok := parseGroup(text, j)
			if !ok {
				break
			}
			g.sep = sep
			groups = append(groups, g)
			j = next
			if j+1 < len(text) && (text[j] == ' ' || text[j] == '-' || text[j] == '.') &&
				(isDigit(text[j+1]) || text[j+1] == '(' && j+2 < len(text) && isDigit(text[j+2])) {
				sep = text[j]
				j++
				continue
			}
			if g.paren && j < len(text) && isDigit(text[j]) {
				sep = 0
				continue
			}
			break
		}
		if len(groups) == 0 {
			i++
			continue
		}
		end := groups[len(groups)-1].end
		if boundedLeft(text, start) && boundedRight(text, end) {
			out = segment(text, start, plus, groups, on, out)
		}
		i = end
	}
	return out
}

// parseGroup reads "(digits)" or "digits" at p.
func parseGroup(text string, p int) (group, int, bool) {
	if p >= len(text) {
		return group{}, p, false
	}
	if text[p] == '(' {
		e := p + 1
		for e < len(text) && isDigit(text[e]) {
			e++
		}
		if e == p+1 || e >= len(text) || text[e] != ')' || e-p-1 > 4 {
			return group{}, p, false
		}
		g := group{start: p, end: e + 1, digits: text[p+1 : e], paren: true}
		e++
		if e < len(text) && text[e] == ' ' && e+1 < len(text) && isDigit(text[e+1]) {
			e++ // "(01) 456": the space belongs to the parenthesis
		}
		return g, e, true
	}
	e := p
	for e < len(text) && isDigit(text[e]) {
		e++
	}
	if e == p {
		return group{}, p, false
	}
	return group{start: p, end: e, digits: text[p:e]}, e, true
}

// boundedLeft reports whether a number starting at s stands on its own:
// not after a letter or digit, nor after "A-", "12/", "10:", "1," or "1.".
func boundedLeft(text string, s int) bool {
	if s == 0 {
		return true
	}
	r, n := utf8.DecodeLastRuneInString(text[:s])
	if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '@' {
		return false
	}
	if s-n == 0 {
		return true
	}
	b, _ := utf8.DecodeLastRuneInString(text[:s-n])
	switch r {
	case '-', '/':
		return !unicode.IsLetter(b) && !unicode.IsDigit(b)
	case ':', ',', '.':
		return !unicode.IsDigit(b) // "cel.987654321" and "cel: 987" are fine
	}
	return true
}

// boundedRight reports whether a number ending at e stands on its own.
func boundedRight(text string, e int) bool {
	if e >= len(text) {
		return true
	}
	r, n := utf8.DecodeRuneInString(text[e:])
	if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '@' {
		return false
	}
	if strings.ContainsRune("-/:,", r) && e+n < len(text) {
		b, _ := utf8.DecodeRuneInString(text[e+n:])
		if unicode.IsLetter(b) || unicode.IsDigit(b) {
			return false
		}
	}
	return true
}

// segment cuts a run of groups into values, longest first from the left.
func segment(text string, start int, plus bool, groups []group, on *modes, out []match) []match {
	ctx := contextBefore(text, start)
	for i := 0; i < len(groups); {
		found := false
		for j := min(len(groups)-1, i+maxSegment-1); j >= i; j-- {
			seg := groups[i : j+1]
			c := numCtx{}
			if i == 0 {
				c = ctx
			}
			kind, ok := classify(seg, plus && i == 0, c, on)
			if !ok {
				continue
			}
			s := seg[0].start
			if plus && i == 0 {
				s = start
			}
			out = append(out, match{kind, s, seg[len(seg)-1].end})
			i, found = j+1, true
			break
		}
		if !found {
			i++
		}
	}
	return out
}

func classify(seg []group, plus bool, ctx numCtx, on *modes) (Kind, bool) {
	var b strings.Builder
	for _, g := range seg {
		b.WriteString(g.digits)
	}
	digits := b.String()
	nd := len(digits)
	if nd > 19 {
		return "", false
	}
	single := len(seg) == 1 && !seg[0].paren
	if !plus {
		if on.enabled(RUC) && single && nd == 11 && rucValid(digits) {
			return RUC, true
		}
		if on.enabled(Card) && nd >= 13 && cardShape(seg) && digits[0] >= '2' && digits[0] <= '6' && luhn(digits) {
			return Card, true
		}
		if on.enabled(DNI) && ctx.doc && (single && nd == 8 ||
			len(seg) == 2 && len(seg[0].digits) == 8 && len(seg[1].digits) == 1 && seg[1].sep == '-' && !seg[0].paren) {
			return DNI, true
		}
	}
	if on.enabled(Phone) && isPhone(seg, digits, plus, ctx) {
		return Phone, true
	}
	return "", false
}

// cardShape: one block of digits, or groups of 3 to 6 digits joined by the
// same separator, space or dash ("4242 4242 4242 4242", "3782-822463-10005").
func cardShape(seg []group) bool {
	if len(seg) == 1 {
		return !seg[0].paren
	}
	sep := seg[1].sep
	if sep != ' ' && sep != '-' {
		return false
	}
	for i, g := range seg {
		if g.paren || len(g.digits) < 3 || len(g.digits) > 6 || i > 0 && g.sep != sep {
			return false
		}
	}
	return true
}

func isPhone(seg []group, digits string, plus bool, ctx numCtx) bool {
	nd := len(digits)
	if plus {
		return nd >= 8 && nd <= 15
	}
	if strings.HasPrefix(digits, "00") && len(seg[0].digits) >= 4 && nd-2 >= 10 && nd-2 <= 15 && !ctx.order {
		return true // "0051 987 654 321"
	}
	if ctx.order || ctx.money || dateShape(seg) {
		return false
	}
	if thousands(seg) && !(nd == 9 && digits[0] == '9') {
		return false
	}
	last := seg[len(seg)-1]
	switch {
	case nd == 9 && digits[0] == '9':
		return true // Peruvian mobile, Chilean mobile without +56
	case nd == 11 && strings.HasPrefix(digits, "519"):
		return true // Peruvian mobile with its country code, as WhatsApp ids are
	case seg[0].paren && len(seg) > 1 && nd >= 8 && nd <= 12:
		return true // "(01) 456-7890", "(11) 91234-5678", "(415) 555-2671"
	case len(seg) > 1 && seg[0].digits == "01" && nd == 9:
		return true // Lima landline "01 456 7890"
	case len(seg) > 1 && (nd == 10 || nd == 11) && len(seg[0].digits) >= 2 && len(seg[0].digits) <= 3 &&
		len(last.digits) >= 4 && allAtLeast(seg, 2):
		return true // "55 1234 5678", "300 123 4567", "415-555-2671", "11 91234-5678"
	case ctx.phone && nd >= 7 && nd <= 15:
		return true // "cel 4567890"
	}
	return false
}

func allAtLeast(seg []group, n int) bool {
	for _, g := range seg {
		if len(g.digits) < n {
			return false
		}
	}
	return true
}

// dateShape: "12-03-2025", "2025.03.12", "12.03.25".
func dateShape(seg []group) bool {
	if len(seg) != 3 || seg[1].sep != seg[2].sep || seg[1].sep == ' ' {
		return false
	}
	a, b, c := len(seg[0].digits), len(seg[1].digits), len(seg[2].digits)
	return a <= 2 && b <= 2 && (c == 2 || c == 4) || a == 4 && b <= 2 && c <= 2
}

// thousands: "1.299.000", digits grouped by three with dots.
func thousands(seg []group) bool {
	if len(seg) < 2 {
		return false
	}
	for i, g := range seg {
		if i > 0 && (g.sep != '.' || len(g.digits) != 3) || g.paren {
			return false
		}
	}
	return len(seg[0].digits) <= 3
}

var (
	phoneWords = set("cel", "celular", "cell", "cellphone", "mobile", "movil", "tel", "telf", "telef", "telefono",
		"telephone", "phone", "fono", "whatsapp", "wsp", "wpp", "whats", "zap", "llamar", "llamame", "llamen",
		"llama", "call", "contacto", "contact", "contato", "telefone", "fijo", "landline")
	orderWords = set("pedido", "pedidos", "orden", "order", "nro", "num", "ticket", "factura", "boleta", "guia",
		"tracking", "seguimiento", "codigo", "code", "ref", "referencia", "operacion", "transaccion",
		"transaction", "cuenta", "account", "ruc", "invoice", "encomenda", "rastreio", "protocolo", "sku", "id",
		"producto", "product", "item", "articulo", "serie", "serial", "lote", "cupon", "coupon", "voucher",
		"comprobante", "recibo", "receipt", "reserva", "booking", "reservation", "expediente", "caso", "case",
		"solicitud", "cliente", "customer", "contrato", "poliza", "placa", "pasaporte", "passport", "cpf",
		"cnpj", "rg", "nit", "rut", "cedula", "precio", "price", "total", "monto", "importe", "valor", "preco",
		"cci", "iban", "swift", "pago", "payment", "pagamento", "nota", "envio", "shipment", "awb", "bl")
	docWords = set("dni", "documento", "doc", "identidad")
)

var moneyMarks = []string{"s/", "s/.", "$", "r$", "us$", "€", "£", "usd", "pen", "brl", "mxn", "cop", "clp", "ars",
	"eur", "soles", "sol", "dolares", "reales", "reais", "pesos"}

// contextBefore reads the words just before a number at s, nearest first,
// up to four words and not past another number.
func contextBefore(text string, s int) numCtx {
	var ctx numCtx
	lo := max(0, s-48)
	for lo > 0 && lo < s && !utf8.RuneStart(text[lo]) {
		lo++
	}
	window := text[lo:s]
	raw := strings.TrimRight(fold.String(window), " \t:=")
	for _, m := range moneyMarks {
		if strings.HasSuffix(raw, m) {
			ctx.money = true
			return ctx
		}
	}
	if strings.HasSuffix(raw, "#") || strings.HasSuffix(raw, "°") || strings.HasSuffix(raw, "n.") || strings.HasSuffix(raw, "no.") {
		ctx.order = true
		return ctx
	}
	words := fold.Words(window)
	if n := len(words); n >= 3 && words[n-3] == "d" && words[n-2] == "n" && words[n-1] == "i" {
		ctx.doc, ctx.order = true, true // "D.N.I."
		return ctx
	}
	for k := len(words) - 1; k >= 0 && k >= len(words)-4; k-- {
		w := words[k]
		if w[0] >= '0' && w[0] <= '9' {
			break
		}
		switch {
		case phoneWords[w]:
			ctx.phone = true
			return ctx
		case docWords[w]:
			ctx.doc, ctx.order = true, true
			return ctx
		case orderWords[w]:
			ctx.order = true
			return ctx
		}
	}
	return ctx
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}
