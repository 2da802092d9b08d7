package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/fold"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// Intent is one of the things a customer may want, as the classifier is
// told about it.
type Intent struct {
	// Name is the tag stored: lower case letters, digits and '_'.
	Name string
	// Description tells the classifier when it applies.
	Description string
}

// The intents the agent itself decides by rule, without the classifier.
const (
	IntentHumanRequest    = "human_request"    // the customer asked for a person (handoff phrases)
	IntentPrivacyRequest  = "privacy_request"  // a privacy command (opt-out, access, erasure)
	IntentPurchaseInquiry = "purchase_inquiry" // also a cart sent from the catalog
	IntentOther           = "other"            // what the classifier answered outside the set
)

// DefaultIntents is the intent set of an [IntentConfig] with nil Intents.
var DefaultIntents = []Intent{
	{IntentPurchaseInquiry, "asks about products, prices, availability, or wants to buy"},
	{"order_status", "asks where an order is or about its delivery"},
	{"support", "needs help with a problem, a product or a service"},
	{"complaint", "complains or is dissatisfied"},
	{IntentHumanRequest, "asks to talk to a person"},
	{IntentPrivacyRequest, "asks about their personal data: a copy, its deletion, to stop messages"},
	{"greeting", "greets or thanks, without a request"},
	{IntentOther, "anything else"},
}

// IntentConfig configures intent tagging. When Enabled, every inbound turn
// the AI answers is tagged with an intent of Intents, a sentiment and the
// values it mentions (order number, product, e-mail, date), by one extra
// call to the model with structured output, unless a rule already decided:
// a handoff phrase (human_request), a privacy command (privacy_request), a
// cart (purchase_inquiry); such turns make no classifier call. Tags are
// stored on each message of the turn when the Store implements
// [store.Tagger], reported in [TurnInfo] and given to the routing rules.
// A classifier that fails leaves the turn untagged; the turn goes on.
type IntentConfig struct {
	Enabled bool
	// Intents is the intent set (nil: [DefaultIntents]). It should hold
	// "other", given when the classifier answers outside the set, and the
	// rule intents the host wants to see.
	Intents []Intent
	// Model classifies; nil means Config.Model. A small, cheap model
	// will do.
	Model llm.Provider
}

func (c IntentConfig) intents() []Intent {
	if c.Intents == nil {
		return DefaultIntents
	}
	return c.Intents
}

func (c IntentConfig) check() []error {
	var errs []error
	seen := map[string]bool{}
	for i, in := range c.Intents {
		switch {
		case !intentName(in.Name):
			errs = append(errs, fmt.Errorf("agent: Config.Intents.Intents[%d]: name %q must be 1-64 lower-case letters, digits or '_'", i, in.Name))
		case seen[in.Name]:
			errs = append(errs, fmt.Errorf("agent: Config.Intents.Intents: %q twice", in.Name))
		}
		seen[in.Name] = true
	}
	if c.Intents != nil && len(c.Intents) == 0 {
		errs = append(errs, errors.New("agent: Config.Intents.Intents is empty; leave it nil for the defaults"))
	}
	return errs
}

func intentName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// RoutingConfig hands conversations to a human on rules. Handoffs by rule
// are recorded with the reason "rule_intent", "rule_sentiment",
// "rule_failures", or the reason Rule returns.
type RoutingConfig struct {
	// HandoffIntents hand the conversation over when a turn is tagged with
	// one of them. Nil: human_request, when intents are enabled (the
	// classifier heard a request for a person the phrases missed).
	HandoffIntents []string
	// HandoffOnNegative hands over when the classifier reports negative
	// sentiment.
	HandoffOnNegative bool
	// MaxFailures, when positive, hands over after that many turns in a row
	// went wrong: the turn failed, or the model's answer said it cannot
	// help (CannotHelp). The turns are counted in the history the model
	// sees (Config.HistoryLimit records). The handoff follows the answer
	// that reached the count, or replaces the answer of the next message.
	MaxFailures int
	// CannotHelp are phrases of an answer in which the model says it
	// cannot help, matched as whole words ignoring case and accents. Nil:
	// [DefaultCannotHelpPhrases].
	CannotHelp []string
	// Rule, when set, is called for every turn the AI is about to answer,
	// after tagging; a non-empty result hands the conversation over with
	// that reason. It must be safe for concurrent use and return quickly.
	Rule func(context.Context, RouteInfo) (reason string)
}

// DefaultCannotHelpPhrases are phrases with which a model says it cannot
// help, in English, Spanish and Portuguese.
var DefaultCannotHelpPhrases = []string{
	"i can't help", "i cannot help", "i am unable to help", "i'm unable to help", "i am not able to help",
	"i'm not able to help", "i don't have that information", "i do not have that information",
	"no puedo ayudar", "no te puedo ayudar", "no le puedo ayudar", "no tengo esa informacion",
	"nao posso ajudar", "não consigo ajudar", "nao tenho essa informacao",
}

// RouteInfo is what [RoutingConfig.Rule] decides on. Tags hold what the
// customer wrote (an e-mail, an order number): personal data, not to be
// logged.
type RouteInfo struct {
	Tenant       channel.TenantID
	Conversation store.ConversationID
	Subject      store.SubjectID
	// Message is the latest inbound record of the turn.
	Message store.MessageID
	// Tags are the turn's tags; Tags.Intent is empty when the turn was not
	// tagged.
	Tags store.Tags
	// Failures is how many turns in a row before this one went wrong.
	Failures int
}

// classifierAnswer is the JSON the classifier answers with.
type classifierAnswer struct {
	Intent      string `json:"intent"`
	Sentiment   string `json:"sentiment"`
	OrderNumber string `json:"order_number"`
	Product     string `json:"product"`
	Email       string `json:"email"`
	Date        string `json:"date"`
}

const classifierSystem = `You classify the latest message(s) of a customer of a business, for its customer-service assistant. Do not answer the customer.
Answer with one JSON object: "intent" is one of the intents below; "sentiment" is "positive", "neutral" or "negative"; "order_number", "product", "email" and "date" are the values the customer mentions, verbatim, or "" when they mention none (dates as YYYY-MM-DD when you can).
Intents:
`

// classifierRequest returns the request classifying msgs, as the model
// sees them (redacted when a redactor is configured).
func (a *Agent) classifierRequest(msgs []llm.Message) *llm.Request {
	intents := a.cfg.Intents.intents()
	var b strings.Builder
	b.WriteString(classifierSystem)
	names := make([]string, len(intents))
	for i, in := range intents {
		names[i] = in.Name
		fmt.Fprintf(&b, "- %s: %s\n", in.Name, in.Description)
	}
	str := map[string]any{"type": "string"}
	schema, _ := json.Marshal(map[string]any{
		"type": "object",
		"properties": map[string]any{
			"intent":       map[string]any{"type": "string", "enum": names},
			"sentiment":    map[string]any{"type": "string", "enum": []string{"positive", "neutral", "negative"}},
			"order_number": str, "product": str, "email": str, "date": str,
		},
		"required":             []string{"intent", "sentiment", "order_number", "product", "email", "date"},
		"additionalProperties": false,
	})
	// No temperature nor output cap: reasoning models refuse the one and
	// may spend the other before answering.
	return &llm.Request{
		System:         b.String(),
		Messages:       msgs,
		ResponseFormat: &llm.ResponseFormat{Name: "intent", Schema: schema},
	}
}

// parseClassifier reads the classifier's answer into tags, with an intent
// outside the set made "other".
func (a *Agent) parseClassifier(text string) (store.Tags, error) {
	text = strings.TrimSpace(text)
	text = strings.TrimPrefix(strings.TrimPrefix(text, "```json"), "```")
	text = strings.TrimSpace(strings.TrimSuffix(text, "```"))
	var ans classifierAnswer
	if err := json.Unmarshal([]byte(text), &ans); err != nil {
		return store.Tags{}, fmt.Errorf("agent: the classifier's answer is not the JSON asked for: %w", err)
	}
	tags := store.Tags{Intent: IntentOther, OrderNumber: clip(ans.OrderNumber), Product: clip(ans.Product), Email: clip(ans.Email), Date: clip(ans.Date), Source: "model"}
	if slices.ContainsFunc(a.cfg.Intents.intents(), func(in Intent) bool { return in.Name == ans.Intent }) {
		tags.Intent = ans.Intent
	}
	switch s := store.Sentiment(ans.Sentiment); s {
	case store.SentimentPositive, store.SentimentNeutral, store.SentimentNegative:
		tags.Sentiment = s
	}
	return tags, nil
}

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > store.MaxTagValue {
		s = s[:store.MaxTagValue]
	}
	return s
}

// classify tags the turn with the classifier, or with the tags an earlier
// attempt at its latest message stored.
func (t *turn) classify() {
	a := t.a
	if tg, ok := store.Capability[store.Tagger](a.cfg.Store); ok {
		if tags, err := tg.Tags(t.ctx, t.m.Tenant, t.m.ID); err == nil {
			t.tags = tags
			return
		}
	}
	msgs := historyMessages(t.msgs, nil)
	var restore func(string) string
	if r := a.priv.redactor; r != nil {
		sess := r.Session(t.m.Tenant)
		msgs, restore = redactMessages(sess, msgs), sess.Restore
	}
	model := a.cfg.Intents.Model
	if model == nil {
		model = a.cfg.Model
	}
	start := time.Now()
	resp, err := model.Generate(t.ctx, a.classifierRequest(msgs))
	a.n.modelCalls.Add(1)
	if err == nil && resp == nil {
		err = errors.New("agent: the classifier returned no response and no error")
	}
	info := ModelCallInfo{Provider: model.Name(), Tenant: t.m.Tenant, Conversation: t.m.Conversation, Duration: time.Since(start), Err: err}
	var tags store.Tags
	if err == nil {
		t.usage = t.usage.Add(resp.Usage)
		info.Usage, info.FinishReason = resp.Usage, resp.FinishReason
		tags, err = a.parseClassifier(resp.Message.Text())
	}
	if h := a.cfg.Hooks.ModelCall; h != nil {
		h(info)
	}
	if err != nil {
		a.log.LogAttrs(t.ctx, slog.LevelWarn, "agent: classifying the turn failed", t.attrs(err)...)
		return
	}
	if restore != nil {
		tags.OrderNumber, tags.Product, tags.Email, tags.Date = restore(tags.OrderNumber), restore(tags.Product), restore(tags.Email), restore(tags.Date)
		tags.OrderNumber, tags.Product, tags.Email, tags.Date = clip(tags.OrderNumber), clip(tags.Product), clip(tags.Email), clip(tags.Date)
	}
	t.setTags(tags)
}

// tagRule tags the turn with an intent a rule decided, when tagging is on.
func (t *turn) tagRule(intent string) {
	if t.a.cfg.Intents.Enabled && !t.erased {
		t.setTags(store.Tags{Intent: intent, Source: "rule"})
	}
}

// setTags keeps tags as the turn's and stores them on its messages.
func (t *turn) setTags(tags store.Tags) {
	if tags.Time.IsZero() {
		tags.Time = time.Now().UTC().Truncate(time.Microsecond)
	}
	t.tags = tags
	tg, ok := store.Capability[store.Tagger](t.a.cfg.Store)
	if !ok {
		return
	}
	for _, m := range t.msgs {
		if err := tg.SetTags(t.ctx, m.Tenant, m.ID, tags); err != nil {
			t.a.log.LogAttrs(t.ctx, slog.LevelWarn, "agent: storing the tags of a message failed", t.attrs(err)...)
		}
	}
}

// route runs what comes before the model: the orders of carts, the
// failure count, tagging and the routing rules. It returns the notes for
// the model's instructions, or the outcome of a handoff and true.
func (t *turn) route(hist []store.Message) (notes string, out outcome, done bool) {
	a, r := t.a, t.a.cfg.Routing
	notes, cart := t.placeCartOrders()
	failures := 0
	if r.MaxFailures > 0 {
		failures = t.priorFailures(hist)
		if failures >= r.MaxFailures {
			return "", t.handOver("rule_failures"), true
		}
	}
	if a.cfg.Intents.Enabled {
		if cart {
			t.tagRule(IntentPurchaseInquiry)
		} else {
			t.classify()
		}
		handoffIntents := r.HandoffIntents
		if handoffIntents == nil {
			handoffIntents = []string{IntentHumanRequest}
		}
		switch {
		case t.tags.Intent != "" && slices.Contains(handoffIntents, t.tags.Intent):
			return "", t.handOver("rule_intent"), true
		case r.HandoffOnNegative && t.tags.Sentiment == store.SentimentNegative:
			return "", t.handOver("rule_sentiment"), true
		}
	}
	if r.Rule != nil {
		if reason := r.Rule(t.ctx, RouteInfo{Tenant: t.m.Tenant, Conversation: t.conv.ID, Subject: t.conv.Subject, Message: t.m.ID, Tags: t.tags, Failures: failures}); reason != "" {
			return "", t.handOver(reason), true
		}
	}
	return notes, outcome{}, false
}

// priorFailures counts the turns in a row, before this one, that went
// wrong: failed, or answered with a phrase of RoutingConfig.CannotHelp.
// Messages answered together with a later one are passed over; a skipped
// turn (a human answered) or a good answer ends the count.
func (t *turn) priorFailures(hist []store.Message) int {
	mine := make(map[store.MessageID]bool, len(t.msgs))
	for _, m := range t.msgs {
		mine[m.ID] = true
	}
	replies := make(map[store.MessageID]string)
	for _, r := range hist {
		if r.Role == store.Assistant && r.Outbound != nil {
			replies[r.Turn] = string(r.Outbound.Text)
		}
	}
	n := 0
	for i := len(hist) - 1; i >= 0; i-- {
		r := hist[i]
		if r.Role != store.User || mine[r.ID] {
			continue
		}
		switch r.Processing.State {
		case store.ProcessFailed:
			n++
			continue
		case store.ProcessDone:
			text, ok := replies[r.ID]
			if !ok {
				continue // answered with a later message, or by a notice
			}
			if t.cannotHelp(text) {
				n++
				continue
			}
		}
		break
	}
	return n
}

func (t *turn) cannotHelp(text string) bool {
	phrases := t.a.cfg.Routing.CannotHelp
	if phrases == nil {
		phrases = DefaultCannotHelpPhrases
	}
	return slices.ContainsFunc(phrases, func(p string) bool { return fold.Contains(text, p) })
}

// afterReply hands the conversation over when the answer just sent said
// the model cannot help and that makes MaxFailures turns in a row.
func (t *turn) afterReply(hist []store.Message, resp *llm.Response, out outcome) outcome {
	limit := t.a.cfg.Routing.MaxFailures
	if out.kind != Answered || limit <= 0 || !t.cannotHelp(resp.Message.Text()) {
		return out
	}
	if t.priorFailures(hist)+1 < limit {
		return out
	}
	return t.handOver("rule_failures")
}

// instructions returns the system instructions of the turn: the agent's,
// the business profile of the tenant, and notes about the turn.
func (t *turn) instructions(notes string) string {
	parts := []string{t.a.cfg.Instructions}
	if f := t.a.cfg.Business; f != nil {
		if p := f(t.m.Tenant).render(); p != "" {
			parts = append(parts, p)
		}
	}
	if notes != "" {
		parts = append(parts, notes)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.TrimSpace(strings.Join(parts, "\n\n"))
}

// attrs are the log attributes of the turn with err.
func (t *turn) attrs(err error) []slog.Attr {
	return []slog.Attr{slog.String(logkey.Tenant, string(t.m.Tenant)), slog.String(logkey.Conversation, string(t.m.Conversation)),
		slog.Int64(logkey.Message, int64(t.m.ID)), slog.Any(logkey.Error, err)}
}
