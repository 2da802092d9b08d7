package privacy

import (
	"fmt"
	"strings"

	"github.com/wagent/wagent/internal/fold"
	"github.com/wagent/wagent/store"
)

// RequestPhrase is a way a subject asks for a request in chat.
type RequestPhrase struct {
	// Text is matched as whole words anywhere in a message, ignoring case,
	// accents and punctuation.
	Text string      `json:"text"`
	Type RequestType `json:"type"`
	// Lang is the language to answer in.
	Lang string `json:"lang"`
}

// DefaultRequestPhrases returns the default phrases in Spanish, English and
// Portuguese: "borrar mis datos", "delete my data", "apagar meus dados",
// "quiero mis datos", "export my data", "stop using AI"...
func DefaultRequestPhrases() []RequestPhrase {
	var out []RequestPhrase
	add := func(t RequestType, lang string, texts ...string) {
		for _, s := range texts {
			out = append(out, RequestPhrase{Text: s, Type: t, Lang: lang})
		}
	}
	add(RequestErasure, "en", "delete my data", "erase my data", "remove my data", "delete my information",
		"delete my personal data", "delete all my data", "delete my account", "delete my number", "forget me",
		"right to be forgotten", "erase everything about me", "delete my conversations")
	add(RequestErasure, "es", "borrar mis datos", "borren mis datos", "borra mis datos", "eliminar mis datos",
		"eliminen mis datos", "elimina mis datos", "borrar mi información", "eliminar mi información", "borrar mi número",
		"eliminar mi número", "borrar todos mis datos", "eliminar todos mis datos", "suprimir mis datos",
		"supriman mis datos", "cancelación de mis datos", "derecho al olvido", "olvídenme", "borrar mis conversaciones",
		"eliminar mis conversaciones", "eliminar mi cuenta", "borrar mi cuenta")
	add(RequestErasure, "pt", "apagar meus dados", "apaguem meus dados", "apague meus dados", "excluir meus dados",
		"excluam meus dados", "deletar meus dados", "remover meus dados", "eliminar meus dados", "apagar minhas informações",
		"apagar todos os meus dados", "excluir minha conta", "apagar minha conta", "direito ao esquecimento",
		"apagar minhas conversas")
	add(RequestExport, "en", "export my data", "download my data", "copy of my data", "send me my data",
		"data portability", "my data in a file")
	add(RequestExport, "es", "exportar mis datos", "quiero mis datos", "descargar mis datos", "copia de mis datos",
		"envíame mis datos", "envíenme mis datos", "portabilidad de mis datos", "portabilidad de datos")
	add(RequestExport, "pt", "exportar meus dados", "baixar meus dados", "cópia dos meus dados", "cópia de meus dados",
		"quero meus dados", "portabilidade dos dados", "portabilidade de dados")
	add(RequestAccess, "en", "what data do you have", "what data you have about me", "what do you know about me",
		"access my data", "see my data", "what information do you have about me")
	add(RequestAccess, "es", "qué datos tienen de mí", "qué datos tienen", "qué información tienen de mí",
		"acceso a mis datos", "ver mis datos", "derecho de acceso", "qué saben de mí")
	add(RequestAccess, "pt", "quais dados vocês têm", "que dados vocês têm", "acesso aos meus dados", "ver meus dados",
		"o que vocês sabem sobre mim")
	add(RequestRectification, "en", "correct my data", "fix my data", "rectify my data", "update my personal data")
	add(RequestRectification, "es", "corregir mis datos", "rectificar mis datos", "rectificación de mis datos",
		"corrijan mis datos")
	add(RequestRectification, "pt", "corrigir meus dados", "retificar meus dados", "corrijam meus dados")
	add(RequestObjection, "en", "stop using ai", "don't use ai", "do not use ai", "no more ai", "stop processing my data",
		"i object to the processing", "i don't want ai", "i do not want ai")
	add(RequestObjection, "es", "no usar ia", "no usen ia", "no quiero ia", "dejen de usar ia", "dejar de usar ia",
		"sin inteligencia artificial", "no usen inteligencia artificial", "no quiero inteligencia artificial",
		"me opongo al tratamiento", "oposición al tratamiento", "dejen de procesar mis datos", "no quiero hablar con una ia")
	add(RequestObjection, "pt", "parar de usar ia", "parem de usar ia", "não usar ia", "não usem ia", "não quero ia",
		"sem inteligência artificial", "me oponho ao tratamento", "oposição ao tratamento", "parem de processar meus dados")
	add(RequestRestriction, "en", "restrict processing", "restrict the processing of my data", "limit the use of my data")
	add(RequestRestriction, "es", "limitar el uso de mis datos", "restringir el tratamiento", "limitar el tratamiento",
		"restringir el uso de mis datos")
	add(RequestRestriction, "pt", "limitar o uso dos meus dados", "restringir o tratamento", "limitar o tratamento")
	add(RequestConsentWithdrawal, "en", "withdraw my consent", "withdraw consent", "revoke my consent", "revoke consent")
	add(RequestConsentWithdrawal, "es", "retiro mi consentimiento", "retirar mi consentimiento",
		"revocar mi consentimiento", "revoco mi consentimiento", "retirar el consentimiento")
	add(RequestConsentWithdrawal, "pt", "retiro meu consentimento", "retirar meu consentimento",
		"revogar meu consentimento", "revogo meu consentimento")
	return out
}

// negations before a phrase turn it around: "no quiero borrar mis datos".
var negations = map[string]bool{"no": true, "not": true, "don": true, "dont": true, "nao": true, "nunca": true,
	"never": true, "ni": true, "nem": true, "doesn": true, "didn": true, "sin": true}

// RequestDetector recognizes data-subject requests in chat messages. It is
// immutable and safe for concurrent use.
type RequestDetector struct {
	phrases []RequestPhrase // folded texts
}

// NewRequestDetector returns a detector for phrases (nil:
// [DefaultRequestPhrases]). It returns an error wrapping
// [store.ErrInvalid] for a phrase without words or with an unknown type.
func NewRequestDetector(phrases []RequestPhrase) (*RequestDetector, error) {
	if phrases == nil {
		phrases = DefaultRequestPhrases()
	}
	d := &RequestDetector{phrases: make([]RequestPhrase, 0, len(phrases))}
	types := RequestTypes()
	for _, p := range phrases {
		f := fold.Phrase(p.Text)
		known := false
		for _, t := range types {
			known = known || t == p.Type
		}
		if f == "" || !known {
			return nil, fmt.Errorf("privacy: request phrase %q: %w", p.Text, store.ErrInvalid)
		}
		p.Text = f
		d.phrases = append(d.phrases, p)
	}
	return d, nil
}

// RequestIntent is a request recognized in a message.
type RequestIntent struct {
	Type RequestType
	// Lang is the language of the phrase recognized.
	Lang string
}

// Detect returns the request text asks for: the longest phrase found as
// whole words and not negated by the two words before it ("no quiero
// borrar mis datos" asks for nothing).
func (d *RequestDetector) Detect(text string) (RequestIntent, bool) {
	if len(text) > 4096 {
		text = text[:4096]
	}
	words := fold.Words(text)
	padded := " " + strings.Join(words, " ") + " "
	var best RequestPhrase
	for _, p := range d.phrases {
		if len(p.Text) <= len(best.Text) {
			continue
		}
		for from := 0; ; {
			i := strings.Index(padded[from:], " "+p.Text+" ")
			if i < 0 {
				break
			}
			at := from + i
			before := strings.Fields(padded[:at+1])
			negated := false
			for k := len(before) - 1; k >= 0 && k >= len(before)-2; k-- {
				negated = negated || negations[before[k]]
			}
			if !negated {
				best = p
				break
			}
			from = at + 1
		}
	}
	if best.Text == "" {
		return RequestIntent{}, false
	}
	return RequestIntent{Type: best.Type, Lang: best.Lang}, true
}

var defaultDetector, _ = NewRequestDetector(nil)

// DetectRequest returns the request a chat message asks for with the
// [DefaultRequestPhrases].
func DetectRequest(text string) (RequestType, bool) {
	in, ok := defaultDetector.Detect(text)
	return in.Type, ok
}
