package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/llm"
)

// offlineModel is the quickstart's model when no API key is set: an
// llm.Provider that answers from the demo shop's FAQ and catalog by keyword
// retrieval, in English or Spanish, and uses the tools the agent offers in
// the request the way a real model would:
//
//   - order_status, when the customer names an order (A-1001);
//   - create_ticket, when the customer reports a problem and the agent
//     offers it: the agent's built-in one (over a store that keeps
//     tickets, as store/sqlite does) or any other, since the arguments are
//     filled from the tool's JSON Schema;
//   - handoff_to_human, the agent's built-in tool, when the customer insists
//     on a person in words the agent's handoff phrases do not catch.
//
// It says plainly that it is the offline demo when greeted, when asked who
// it is, and when it does not know. It is safe for concurrent use.
type offlineModel struct{}

// offlineName is the offline model's Name.
const offlineName = "offline-demo"

// Tool names the offline model knows how to use when they are offered.
const (
	orderTool   = "order_status"
	ticketTool  = "create_ticket"
	handoffTool = "handoff_to_human"
)

func (offlineModel) Name() string { return offlineName }

// Generate answers the customer's latest message, or reports the result of
// the tool it called.
func (m offlineModel) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("quickstart: offline model: %w", err)
	}
	if len(req.Messages) == 0 {
		return nil, &llm.Error{Provider: offlineName, Kind: llm.ErrInvalidRequest, Err: errors.New("no messages")}
	}
	question := customerText(req.Messages)
	l := detect(question)
	if last := req.Messages[len(req.Messages)-1]; last.Role == llm.ToolRole {
		return reply(toolReport(last, l)), nil
	}
	words := words(question)
	tools := req.ToolChoice != llm.ToolNone
	order := orderNumber.FindString(question)

	switch {
	case insistsOnHuman(words):
		if tools && offered(req, handoffTool) {
			return call(handoffTool, map[string]string{"reason": "the customer asked for a person"}), nil
		}
		return reply(text{"Write \"talk to a person\" and someone from our team will reply here.",
			"Escribe \"hablar con una persona\" y alguien de nuestro equipo te responderá aquí."}.in(l)), nil
	case asksWhoItIs(words):
		return reply(text{
			"I am the offline demo model of " + shopName + ", not a person and not a real language model: I answer from the shop's FAQ and catalog. Write \"talk to a person\" to reach the team.",
			"Soy el modelo de demostración sin conexión de " + shopName + ", no una persona ni un modelo de lenguaje real: respondo con las preguntas frecuentes y el catálogo de la tienda. Escribe \"hablar con una persona\" para hablar con el equipo.",
		}.in(l)), nil
	case reportsProblem(words, question):
		if t, ok := tool(req, ticketTool); ok && tools {
			return call(ticketTool, ticketArgs(t, question, order, l)), nil
		}
		return reply(text{"I am sorry about that. The offline demo cannot open a ticket: write \"talk to a person\" and our team will help you.",
			"Lamento mucho lo ocurrido. La demostración sin conexión no puede abrir un reclamo: escribe \"hablar con una persona\" y nuestro equipo te ayudará."}.in(l)), nil
	case order != "" && tools && offered(req, orderTool):
		t, _ := tool(req, orderTool)
		return call(orderTool, map[string]string{orderField(t): strings.ToUpper(order)}), nil
	}
	if answer := retrieve(words, l); answer != "" {
		return reply(answer), nil
	}
	if greets(words) {
		return reply(text{
			"Hello! I am the " + shopName + " assistant, running as the offline demo model. Ask me about shipping, returns, sizes, payment or our ponchos, scarves and sweaters.",
			"¡Hola! Soy el asistente de " + shopName + " en modo de demostración sin conexión. Pregúntame por envíos, devoluciones, tallas, pagos o nuestros ponchos, chalinas y chompas.",
		}.in(l)), nil
	}
	return reply(text{
		"I am the offline demo model and only know the shop's FAQ and catalog: shipping, returns, hours, address, payment, sizes, care, and our ponchos, scarves and sweaters. Start the quickstart with OPENAI_API_KEY or GEMINI_API_KEY for a real model.",
		"Soy el modelo de demostración sin conexión y solo conozco las preguntas frecuentes y el catálogo: envíos, devoluciones, horario, dirección, pagos, tallas, cuidado, y nuestros ponchos, chalinas y chompas. Inicia el quickstart con OPENAI_API_KEY o GEMINI_API_KEY para usar un modelo real.",
	}.in(l)), nil
}

var orderNumber = regexp.MustCompile(`(?i)\b[a-z]-\d{4}\b`)

// customerText returns the customer's latest messages: those after the
// last assistant message, so that a burst answered in one turn is read
// whole.
func customerText(msgs []llm.Message) string {
	var parts []string
	for i := len(msgs) - 1; i >= 0 && msgs[i].Role != llm.Assistant; i-- {
		if msgs[i].Role == llm.User {
			parts = append([]string{msgs[i].Text()}, parts...)
		}
	}
	if len(parts) == 0 { // after a tool call: the question before it
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].Role == llm.User {
				return msgs[i].Text()
			}
		}
	}
	return strings.Join(parts, "\n")
}

// retrieve returns the FAQ answer that matches the most keywords, followed
// by what the catalog says about the products named, or "".
func retrieve(words []string, l lang) string {
	var answers []string
	best, bestScore := -1, 0
	for i, f := range faq {
		if s := score(words, f.Keywords); s > bestScore {
			best, bestScore = i, s
		}
	}
	if best >= 0 {
		answers = append(answers, faq[best].Answer.in(l))
	}
	for _, p := range catalog {
		if score(words, p.Keywords) > 0 {
			answers = append(answers, p.answer(l))
		}
	}
	return strings.Join(answers, " ")
}

// score counts the keywords that start one of the words.
func score(words, keywords []string) int {
	n := 0
	for _, k := range keywords {
		for _, w := range words {
			if strings.HasPrefix(w, k) {
				n++
				break
			}
		}
	}
	return n
}

// has reports whether one of the words is one of list.
func has(words []string, list ...string) bool {
	for _, w := range words {
		for _, x := range list {
			if w == x {
				return true
			}
		}
	}
	return false
}

func greets(words []string) bool {
	return has(words, "hello", "hi", "hey", "hola", "buenas", "buenos", "saludos", "alo")
}

func asksWhoItIs(words []string) bool {
	return has(words, "bot", "robot", "ai", "ia", "chatbot") ||
		has(words, "who") && has(words, "you") ||
		has(words, "eres", "quien") && !has(words, "persona")
}

// insistsOnHuman reports a customer asking for a person in words the
// agent's handoff phrases may not catch ("I want a human", "necesito un
// asesor").
func insistsOnHuman(words []string) bool {
	return has(words, "human", "person", "someone", "agent", "operator", "representative", "staff",
		"humano", "persona", "alguien", "asesor", "agente", "operador", "ejecutivo") &&
		has(words, "want", "need", "talk", "speak", "connect", "transfer", "real", "please",
			"quiero", "necesito", "hablar", "pasame", "comunicame", "derivame", "favor")
}

// problemWords are word prefixes that report a problem with an order or a
// product.
var problemWords = []string{"broke", "damage", "defect", "wrong", "problem", "issue", "complain", "missing",
	"hole", "stain", "torn", "faulty", "roto", "rota", "dana", "defecto", "problema", "reclam", "queja",
	"equivocad", "incorrect", "falta", "mancha", "hueco", "descosid"}

var notArrived = regexp.MustCompile(`(?i)(never|not|hasn'?t|didn'?t|has not|did not)\s+(arrived?|come|came)|no\s+(me\s+)?(ha\s+)?(lleg[oó]|llegado)`)

func reportsProblem(words []string, question string) bool {
	return score(words, problemWords) > 0 || notArrived.MatchString(question)
}

// offered reports whether the request offers the tool named name.
func offered(req *llm.Request, name string) bool {
	_, ok := tool(req, name)
	return ok
}

func tool(req *llm.Request, name string) (llm.Tool, bool) {
	for _, t := range req.Tools {
		if t.Name == name {
			return t, true
		}
	}
	return llm.Tool{}, false
}

// schema is the part of a tool's JSON Schema the offline model reads.
type schema struct {
	Properties map[string]struct {
		Type string   `json:"type"`
		Enum []string `json:"enum"`
	} `json:"properties"`
}

// ticketArgs fills a ticket tool's arguments from its schema: a summary in
// fields named like a title, the customer's words in fields named like a
// description, the order number in order fields, and for enums the value
// that fits a complaint best.
func ticketArgs(t llm.Tool, question, order string, l lang) map[string]string {
	summary := text{"Customer reports a problem", "El cliente reporta un problema"}.in(l)
	if order != "" {
		summary += " (" + strings.ToUpper(order) + ")"
	}
	var s schema
	if err := json.Unmarshal(t.Parameters, &s); err != nil || len(s.Properties) == 0 {
		return map[string]string{"summary": summary, "description": question}
	}
	// "summary" is the customer's account when a title field is there too,
	// as in the agent's built-in create_ticket {title, summary}.
	titled := false
	for name := range s.Properties {
		titled = titled || containsAny(strings.ToLower(name), "title", "subject", "headline")
	}
	args := make(map[string]string, len(s.Properties))
	for name, p := range s.Properties {
		if p.Type != "" && p.Type != "string" {
			continue
		}
		n := strings.ToLower(name)
		switch {
		case len(p.Enum) > 0:
			args[name] = pick(p.Enum, "complaint", "problem", "product", "order", "support", "normal", "medium")
		case strings.Contains(n, "order") || strings.Contains(n, "pedido"):
			if order != "" {
				args[name] = strings.ToUpper(order)
			}
		case containsAny(n, "desc", "detail", "body", "text", "message", "problem", "issue") || titled && strings.Contains(n, "summary"):
			args[name] = question
		case containsAny(n, "lang", "locale"):
			args[name] = text{"en", "es"}.in(l)
		default: // subject, title, summary and the rest
			args[name] = summary
		}
	}
	return args
}

// orderField returns the argument of an order tool that takes the order
// number: "order" for the quickstart's own tool, "order_id" for the
// agent's built-in one, whatever the schema names it.
func orderField(t llm.Tool) string {
	var s schema
	if json.Unmarshal(t.Parameters, &s) == nil {
		for _, want := range []string{"order", "id", "number"} {
			for name := range s.Properties {
				if strings.Contains(strings.ToLower(name), want) {
					return name
				}
			}
		}
	}
	return "order"
}

// pick returns the first of prefer found in enum, else enum's first value.
func pick(enum []string, prefer ...string) string {
	for _, p := range prefer {
		for _, e := range enum {
			if strings.EqualFold(e, p) {
				return e
			}
		}
	}
	return enum[0]
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// toolReport tells the customer what the tools called answered.
func toolReport(results llm.Message, l lang) string {
	var out []string
	for _, p := range results.Parts {
		r := p.ToolResult
		if r == nil {
			continue
		}
		switch {
		case r.Name == ticketTool && r.IsError:
			out = append(out, text{"Sorry, I could not open a ticket right now. Write \"talk to a person\" and our team will help you.",
				"Lo siento, no pude abrir el reclamo ahora. Escribe \"hablar con una persona\" y nuestro equipo te ayudará."}.in(l))
		case r.Name == ticketTool:
			id := ticketID(r.Content)
			out = append(out, fmt.Sprintf(text{"I am sorry about that. I opened ticket %s for you; our team will follow up in this chat.",
				"Lamento lo ocurrido. Abrí el reclamo %s; nuestro equipo te responderá en este chat."}.in(l), id))
		case r.Name == orderTool && r.IsError:
			out = append(out, text{"Sorry, I could not look that order up: ", "Lo siento, no pude encontrar ese pedido: "}.in(l)+r.Content)
		case r.Name == orderTool:
			out = append(out, text{"Order status: ", "Estado del pedido: "}.in(l)+orderStatusText(r.Content)+".")
		default:
			out = append(out, r.Content)
		}
	}
	return strings.Join(out, " ")
}

// orderStatusText returns an order tool's result in words: the status of
// a JSON order ({"id": ..., "status": ...}), or the text itself.
func orderStatusText(content string) string {
	var o map[string]any
	if json.Unmarshal([]byte(content), &o) != nil || o["status"] == nil {
		return content
	}
	for _, k := range []string{"id", "order_id", "number"} {
		if id, ok := o[k]; ok {
			return fmt.Sprintf("%v is %v", id, o["status"])
		}
	}
	return fmt.Sprint(o["status"])
}

// ticketID finds the ticket's id in a tool result: a JSON object's id,
// ticket_id, number or reference, or the text itself.
func ticketID(content string) string {
	var obj map[string]any
	if json.Unmarshal([]byte(content), &obj) == nil {
		for _, k := range []string{"id", "ticket_id", "ticket", "number", "reference"} {
			if v, ok := obj[k]; ok {
				return fmt.Sprint(v)
			}
		}
	}
	if len(content) > 40 {
		content = content[:40]
	}
	return strings.TrimSpace(content)
}

func reply(s string) *llm.Response {
	return &llm.Response{Message: llm.AssistantText(s), FinishReason: llm.FinishStop}
}

func call(name string, args map[string]string) *llm.Response {
	raw, _ := json.Marshal(args)
	return &llm.Response{
		Message:      llm.Message{Role: llm.Assistant, Parts: []llm.Part{llm.ToolCallPart(llm.ToolCall{ID: "call_" + name, Name: name, Args: raw})}},
		FinishReason: llm.FinishToolCalls,
	}
}

// spanishWords and englishWords tell the language of a question.
var spanishWords, englishWords = set("hola", "buenas", "gracias", "quiero", "tienen", "hacen", "cuanto", "precio", "donde",
	"cual", "que", "por", "para", "mi", "mis", "pedido", "tienda", "horario", "talla", "necesito", "ayuda", "como", "es",
	"el", "la", "los", "las", "un", "una", "de", "del", "y", "envian", "envio", "puedo", "esta", "estan", "llego", "con"),
	set("hello", "hi", "thanks", "the", "is", "are", "do", "does", "you", "what", "how", "my", "i", "can", "where",
		"price", "shipping", "want", "please", "a", "an", "of", "and", "to", "it", "your", "with", "when")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// detect returns the language of s: Spanish when it has more Spanish words
// than English ones, or as many and Spanish punctuation or accents.
func detect(s string) lang {
	es, en := 0, 0
	for _, w := range words(s) {
		if spanishWords[w] {
			es++
		}
		if englishWords[w] {
			en++
		}
	}
	if es > en || es == en && strings.ContainsAny(s, "¿¡ñáéíóú") {
		return spanish
	}
	return english
}

// accents folds the accented letters of Spanish and Portuguese.
var accents = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n",
	"à", "a", "â", "a", "ã", "a", "ê", "e", "ô", "o", "õ", "o", "ç", "c")

// words returns the lower-case words of s without accents.
func words(s string) []string {
	return strings.FieldsFunc(accents.Replace(strings.ToLower(s)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// orderStatusTool looks orders up in the demo shop's order book.
func orderStatusTool() agent.Tool {
	orders := map[string]string{
		"A-1001": "shipped on 20 November, arriving in Cusco on 24 November",
		"A-1002": "being packed, ships tomorrow",
	}
	type args struct {
		Order string `json:"order" description:"Order number, such as A-1001"`
	}
	return agent.NewTool(orderTool, "Look up the status of a customer's order",
		func(ctx context.Context, in args) (string, error) {
			status, ok := orders[strings.ToUpper(in.Order)]
			if !ok {
				return "", fmt.Errorf("no order %s", in.Order)
			}
			return status, nil
		})
}
