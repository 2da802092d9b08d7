package privacy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/fold"
	"github.com/wagent/wagent/store"
)

// Keyword is a chat command that grants or withdraws consent to a
// purpose: "STOP" withdraws marketing. A message is the command only when
// it says nothing else: the keyword alone, in any case, with or without
// accents and punctuation, possibly with "please" or "gracias" around it.
// "don't stop" or "stop by the store" are not commands.
type Keyword struct {
	// Text is the command, one or more words.
	Text string `json:"text"`
	// Lang is the language of the confirmation ("es", "en", "pt").
	Lang    string  `json:"lang"`
	Purpose Purpose `json:"purpose"`
	Grant   bool    `json:"grant"`
	// Reply confirms the decision to the subject; empty means the
	// default confirmation for Lang, Purpose and Grant.
	Reply string `json:"reply,omitempty"`
}

// DefaultKeywords returns the default chat commands: opt-out of marketing
// (STOP, UNSUBSCRIBE, BAJA, CANCELAR, PARAR, SAIR, DESCADASTRAR and
// clear sentences such as "no quiero recibir más mensajes"), opt-in to
// marketing (START, SUBSCRIBE, ALTA, INSCREVER), and lifting a
// restriction of the assistant (ACTIVAR, RESUME, ATIVAR).
//
// "CANCELAR" alone withdraws marketing consent, as the opt-out
// list asks; a shop where customers write "cancelar" to cancel an order
// may want to drop it: "cancelar mi pedido" is never a command.
func DefaultKeywords() []Keyword {
	var out []Keyword
	add := func(lang string, p Purpose, grant bool, texts ...string) {
		for _, t := range texts {
			out = append(out, Keyword{Text: t, Lang: lang, Purpose: p, Grant: grant})
		}
	}
	add("en", PurposeMarketing, false, "STOP", "STOP ALL", "STOPALL", "UNSUBSCRIBE", "UNSUBSCRIBE ME", "OPT OUT", "OPTOUT",
		"STOP MESSAGES", "STOP SENDING ME MESSAGES", "STOP SENDING MESSAGES")
	add("es", PurposeMarketing, false, "BAJA", "DAR DE BAJA", "DARME DE BAJA", "QUIERO DARME DE BAJA", "CANCELAR",
		"CANCELAR SUSCRIPCIÓN", "PARAR", "DESUSCRIBIR", "DESUSCRIBIRME", "NO MÁS MENSAJES", "NO QUIERO RECIBIR MÁS MENSAJES",
		"NO ME ENVÍEN MÁS MENSAJES", "NO ME MANDEN MÁS MENSAJES")
	add("pt", PurposeMarketing, false, "SAIR", "QUERO SAIR", "PARE", "DESCADASTRAR", "DESCADASTRAR-ME", "CANCELAR INSCRIÇÃO",
		"NÃO QUERO RECEBER MAIS MENSAGENS", "PARAR DE RECEBER")
	add("en", PurposeMarketing, true, "START", "SUBSCRIBE", "UNSTOP")
	add("es", PurposeMarketing, true, "ALTA", "SUSCRIBIRME", "DARME DE ALTA")
	add("pt", PurposeMarketing, true, "INSCREVER", "QUERO RECEBER")
	add("es", PurposeAssistant, true, "ACTIVAR")
	add("en", PurposeAssistant, true, "RESUME")
	add("pt", PurposeAssistant, true, "ATIVAR")
	return out
}

// defaultReplies confirm a keyword, by language, purpose and grant.
var defaultReplies = map[string]map[Purpose][2]string{ // [withdrawn, granted]
	"es": {
		PurposeMarketing: {"Listo, no te enviaremos más mensajes promocionales. Si cambias de opinión, escribe ALTA.",
			"¡Gracias! Te enviaremos nuestras novedades. Para dejar de recibirlas, escribe BAJA."},
		PurposeAssistant: {"Listo, ya no procesaremos tus mensajes con inteligencia artificial. Para volver, escribe ACTIVAR.",
			"Listo, el asistente vuelve a responder tus mensajes."},
	},
	"en": {
		PurposeMarketing: {"Done, you will not receive promotional messages anymore. To subscribe again, write START.",
			"Thanks! We will send you our news. To stop them, write STOP."},
		PurposeAssistant: {"Done, we no longer process your messages with artificial intelligence. To undo it, write RESUME.",
			"Done, the assistant answers your messages again."},
	},
	"pt": {
		PurposeMarketing: {"Pronto, você não receberá mais mensagens promocionais. Para voltar a receber, escreva INSCREVER.",
			"Obrigado! Vamos enviar nossas novidades. Para parar de receber, escreva SAIR."},
		PurposeAssistant: {"Pronto, não processaremos mais suas mensagens com inteligência artificial. Para voltar, escreva ATIVAR.",
			"Pronto, o assistente volta a responder suas mensagens."},
	},
}

// Keywords recognizes consent commands in chat messages. It is immutable
// and safe for concurrent use.
type Keywords struct {
	byPhrase map[string]Keyword
}

// NewKeywords returns a matcher for list (nil: [DefaultKeywords]). It
// returns an error wrapping [store.ErrInvalid] for a keyword without
// words or purpose, and for one without a Reply whose language and
// purpose have no default confirmation. When two keywords read the same,
// the first wins.
func NewKeywords(list []Keyword) (*Keywords, error) {
	if list == nil {
		list = DefaultKeywords()
	}
	k := &Keywords{byPhrase: make(map[string]Keyword, len(list))}
	for _, kw := range list {
		p := fold.Phrase(kw.Text)
		if p == "" || kw.Purpose == "" {
			return nil, fmt.Errorf("privacy: keyword %q needs words and a purpose: %w", kw.Text, store.ErrInvalid)
		}
		if kw.Reply == "" {
			r, ok := defaultReplies[kw.Lang][kw.Purpose]
			if !ok {
				return nil, fmt.Errorf("privacy: keyword %q needs a reply: no default for %q %s: %w", kw.Text, kw.Lang, kw.Purpose, store.ErrInvalid)
			}
			kw.Reply = r[0]
			if kw.Grant {
				kw.Reply = r[1]
			}
		}
		if _, dup := k.byPhrase[p]; !dup {
			k.byPhrase[p] = kw
		}
	}
	return k, nil
}

// politeness are words around a command that do not change it.
var politeness = []string{"por favor", "porfavor", "porfa", "pls", "plz", "please", "gracias", "thanks", "thank you",
	"obrigado", "obrigada", "ok", "okay", "ya", "hola", "hi", "hello", "oi", "ola"}

// commandWords returns the words of text without politeness around them
// and with repeated words ("stop stop") once.
func commandWords(text string) string {
	ws := fold.Words(text)
	ws = slices.Compact(ws)
	s := " " + strings.Join(ws, " ") + " "
	for changed := true; changed; {
		changed = false
		for _, p := range politeness {
			if t, ok := strings.CutPrefix(s, " "+p+" "); ok {
				s, changed = " "+t, true
			}
			if t, ok := strings.CutSuffix(s, " "+p+" "); ok {
				s, changed = t+" ", true
			}
		}
	}
	return strings.TrimSpace(s)
}

// Match reports whether text is a consent command, and which.
func (k *Keywords) Match(text string) (Keyword, bool) {
	if len(text) > 200 {
		return Keyword{}, false // a command is short
	}
	kw, ok := k.byPhrase[commandWords(text)]
	return kw, ok
}

// Record returns the consent record of a subject's command: the decision
// of kw, by chat keyword, with the message as evidence.
func (kw Keyword) Record(tenant channel.TenantID, subject store.SubjectID, ev Evidence, t time.Time) ConsentRecord {
	return ConsentRecord{Tenant: tenant, Subject: subject, Purpose: kw.Purpose, Granted: kw.Grant,
		Basis: BasisConsent, Method: "chat_keyword", Evidence: ev, Time: t}
}

var defaultKeywords, _ = NewKeywords(nil)

// OptOut reports whether text is one of the [DefaultKeywords] that
// withdraws marketing consent ("STOP", "baja", "Cancelar.", "SAIR").
func OptOut(text string) bool {
	kw, ok := defaultKeywords.Match(text)
	return ok && kw.Purpose == PurposeMarketing && !kw.Grant
}
