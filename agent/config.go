package agent

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/commerce"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

// Defaults for the zero values of [Config].
const (
	// DefaultHistoryLimit is how many records of a conversation the model
	// sees, the message being answered included.
	DefaultHistoryLimit = 10
	// DefaultMaxSteps is how many model calls one turn may make; the last
	// one is made with tools disabled so that the turn ends with an answer.
	DefaultMaxSteps = 8
	// DefaultWorkers is how many conversations are processed at once.
	DefaultWorkers = 16
	// DefaultQueueSize is how many conversations with work may wait for a
	// worker. Beyond it, messages stay recorded and are picked up by the
	// next recovery scan.
	DefaultQueueSize = 1024
	// DefaultTurnTimeout bounds one turn, model calls and tools included.
	DefaultTurnTimeout = 2 * time.Minute
	// DefaultTypingInterval is how often the typing indicator is shown
	// again while a turn lasts (WhatsApp hides it after 25 s).
	DefaultTypingInterval = 20 * time.Second
	// DefaultMaxMediaBytes caps the media of a message handed to the model.
	DefaultMaxMediaBytes = 5 << 20
	// DefaultCoalesceWindow is how long the agent waits for a customer to
	// pause before answering, so that messages sent in a burst get one
	// answer.
	DefaultCoalesceWindow = 2 * time.Second
	// DefaultMaxAttempts is how many times a message is tried when its turn
	// fails for a reason that may pass.
	DefaultMaxAttempts = 5
	// DefaultRetryDelay is the wait before the second attempt at a message;
	// it doubles with each attempt.
	DefaultRetryDelay = 30 * time.Second
	// DefaultResendAfter is how long a reply recorded by an interrupted
	// turn waits for a delivery status before it is sent again.
	DefaultResendAfter = 2 * time.Minute
	// DefaultContactLimit is how many messages per minute one contact may
	// have answered.
	DefaultContactLimit = 30
	// DefaultContactLimitNotice is told once to a contact over the limit.
	DefaultContactLimitNotice = "You are sending messages faster than we can answer. Please wait a minute and write again."
	// DefaultRecoveryInterval is how often Run looks in the store for
	// recorded messages that no worker has taken (after a restart or an
	// overflow of the queue).
	DefaultRecoveryInterval = 30 * time.Second
)

// Config configures an [Agent]. Store, Model and at least one channel are
// required; every other zero value means the documented default.
type Config struct {
	// Store keeps conversations and makes inbound messages durable.
	Store store.ConversationStore
	// Model answers.
	Model llm.Provider
	// Channels send replies; each inbound message is answered through the
	// channel named by its address. Names must be unique.
	Channels []channel.Channel

	// Instructions are the system instructions given to the model.
	Instructions string
	// Tools the model may call. Names must be unique.
	Tools []Tool

	// WindowTemplate is sent instead of a free-form reply when the
	// conversation's customer-service window has closed on a channel that
	// has one ([channel.Windowed]), typically a utility template inviting
	// the customer to continue. Nil: such replies are not attempted and are
	// recorded as failed with [channel.ErrWindowClosed].
	WindowTemplate *channel.Template

	// Handoff configures how conversations go to human operators and back.
	Handoff HandoffConfig

	// Tickets keeps the support tickets the built-in tools create_ticket,
	// ticket_status and add_ticket_note work on, always for the customer
	// of the turn. Nil: the Store, when it implements
	// [store.TicketSystem]; with neither, or with DisableTickets, the
	// tools are not offered.
	Tickets        store.TicketSystem
	DisableTickets bool
	// Catalog and Orders, when set, are offered to the model as the tools
	// search_products and product_details, and create_order, order_status
	// and cancel_order (for the customer of the turn only). With Orders
	// set, a WhatsApp cart ([channel.TypeOrder]) becomes an order before
	// the model answers, once per message however often it is delivered.
	Catalog commerce.Catalog
	Orders  commerce.Orders
	// Business, when set, returns the profile of a tenant's business
	// (products, policies, hours, tone), added to Instructions for its
	// conversations.
	Business func(channel.TenantID) BusinessProfile
	// Intents configures the tagging of every inbound turn with an intent
	// and the values it mentions; off unless Intents.Enabled.
	Intents IntentConfig
	// Routing hands conversations to a human on rules: an intent, negative
	// sentiment, repeated failures.
	Routing RoutingConfig

	// Consent, when set, is asked before each turn whether the subject has
	// withdrawn [privacy.PurposeAssistant] (objection or restriction); such
	// messages are recorded and skipped. It also receives the decisions of
	// the opt-out keywords (see [PrivacyConfig.Keywords]) and is asked
	// before a marketing template is sent.
	Consent privacy.ConsentLedger

	// Privacy configures the privacy gates: consent keywords, data-subject
	// requests made in chat, redaction before the model, minors. The zero
	// value turns on only the default opt-out keywords, and only when
	// Consent is set.
	Privacy PrivacyConfig

	// HistoryLimit is how many records of the conversation the model sees
	// (default [DefaultHistoryLimit]). The window is cut at a turn boundary,
	// so it never starts with a tool result or a reply.
	HistoryLimit int
	// MaxSteps bounds the model calls of one turn (default
	// [DefaultMaxSteps]).
	MaxSteps int
	// Workers is how many conversations are processed in parallel (default
	// [DefaultWorkers]). Messages of one conversation are always processed
	// one at a time, in the order they were recorded.
	Workers int
	// QueueSize bounds the conversations waiting for a worker (default
	// [DefaultQueueSize]).
	QueueSize int
	// TurnTimeout bounds one turn (default [DefaultTurnTimeout]).
	TurnTimeout time.Duration
	// TypingInterval is how often the typing indicator is shown again
	// while a turn lasts (default [DefaultTypingInterval]).
	TypingInterval time.Duration
	// MaxMediaBytes caps the image, voice note or document of the message
	// being answered that is handed to the model, on channels that can
	// fetch media ([channel.MediaFetcher]); larger media is described in
	// words instead (default [DefaultMaxMediaBytes]).
	MaxMediaBytes int64
	// RecoveryInterval is how often recorded but unprocessed messages are
	// looked for (default [DefaultRecoveryInterval]).
	RecoveryInterval time.Duration

	// CoalesceWindow is how long the agent waits after a customer's message
	// for more before answering: messages sent within it of each other are
	// answered in one turn (default [DefaultCoalesceWindow]; a customer who
	// keeps writing waits at most four windows). Negative: every message is
	// answered on its own, as soon as a worker is free.
	CoalesceWindow time.Duration
	// MaxAttempts is how many times a message is tried when its turn fails
	// for a reason that may pass: the model rate limited, unavailable or
	// too slow, the store failing (default [DefaultMaxAttempts]). Between
	// attempts the message stays pending, and later messages of the
	// conversation wait behind it, keeping the order.
	MaxAttempts int
	// RetryDelay is the wait before the second attempt, doubling with each
	// attempt up to 30 minutes (default [DefaultRetryDelay]).
	RetryDelay time.Duration
	// ResendAfter: when a turn was interrupted after its reply was recorded
	// but before the send was confirmed (a crash, a kill), the message is
	// processed again and finds that reply. If no delivery status arrived
	// for it within ResendAfter of recording, the same reply is sent again;
	// until then the message waits, so that a reply that did go out is not
	// sent twice (default [DefaultResendAfter]).
	ResendAfter time.Duration
	// Apology, when set, is sent to the customer once when their message
	// could not be answered at the first attempt (the model failed), so that
	// nobody is left without a word while it is retried.
	Apology string
	// ContactLimit is how many messages per minute one contact may have
	// answered (default [DefaultContactLimit]; negative: no limit). Beyond
	// it messages are recorded but not answered, counted in
	// Stats.Throttled, and the contact is told once with
	// ContactLimitNotice (default [DefaultContactLimitNotice]).
	ContactLimit       int
	ContactLimitNotice string

	// Instance names this agent among several sharing one store (a host
	// name and process id will do). When set, Store must implement
	// [store.Leaser]: a conversation is then processed only by the instance
	// holding its lease, which keeps it in order across instances, and the
	// work of an instance that died is taken over when its leases expire.
	// Leave it empty when one agent uses the store.
	Instance string

	// Logger receives the agent's logs (nil: [slog.Default]). The normal
	// flow logs at Debug; failures at Warn and Error. Logs never hold
	// message text or phone numbers.
	Logger *slog.Logger
	// Hooks are called on events, for metrics and tracing.
	Hooks Hooks
}

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// withDefaults validates c and returns it with defaults applied.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("agent: Config.Store is required"))
	}
	if c.Model == nil {
		errs = append(errs, errors.New("agent: Config.Model is required"))
	}
	if len(c.Channels) == 0 {
		errs = append(errs, errors.New("agent: Config.Channels needs at least one channel"))
	}
	seen := make(map[channel.Name]bool, len(c.Channels))
	for i, ch := range c.Channels {
		switch {
		case ch == nil:
			errs = append(errs, fmt.Errorf("agent: Config.Channels[%d] is nil", i))
		case ch.Name() == "":
			errs = append(errs, fmt.Errorf("agent: Config.Channels[%d] has an empty name", i))
		case seen[ch.Name()]:
			errs = append(errs, fmt.Errorf("agent: two channels are named %q", ch.Name()))
		default:
			seen[ch.Name()] = true
		}
	}
	if _, ok := store.Capability[store.Leaser](c.Store); c.Instance != "" && c.Store != nil && !ok {
		errs = append(errs, errors.New("agent: Config.Instance is set but the store cannot lease conversations (store.Leaser)"))
	}
	names := make(map[string]bool, len(c.Tools))
	for i, t := range c.Tools {
		if t == nil {
			errs = append(errs, fmt.Errorf("agent: Config.Tools[%d] is nil", i))
			continue
		}
		if v, ok := t.(interface{ err() error }); ok && v.err() != nil {
			errs = append(errs, v.err())
			continue
		}
		name := t.Definition().Name
		switch {
		case !toolName.MatchString(name):
			errs = append(errs, fmt.Errorf("agent: tool name %q must be 1-64 letters, digits, '_' or '-'", name))
		case names[name]:
			errs = append(errs, fmt.Errorf("agent: two tools are named %q", name))
		case name == handoffTool && !c.Handoff.DisableTool:
			errs = append(errs, fmt.Errorf("agent: tool name %q is the built-in handoff tool (set Handoff.DisableTool to use your own)", name))
		default:
			names[name] = true
		}
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"HistoryLimit", int64(c.HistoryLimit)},
		{"MaxSteps", int64(c.MaxSteps)},
		{"Workers", int64(c.Workers)},
		{"QueueSize", int64(c.QueueSize)},
		{"TurnTimeout", int64(c.TurnTimeout)},
		{"RecoveryInterval", int64(c.RecoveryInterval)},
		{"TypingInterval", int64(c.TypingInterval)},
		{"MaxMediaBytes", c.MaxMediaBytes},
		{"MaxAttempts", int64(c.MaxAttempts)},
		{"RetryDelay", int64(c.RetryDelay)},
		{"ResendAfter", int64(c.ResendAfter)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("agent: Config.%s must not be negative", f.name))
		}
	}
	errs = append(errs, c.Privacy.check(c, names)...)
	errs = append(errs, c.checkSupport(names)...)
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	c.HistoryLimit = cmp.Or(c.HistoryLimit, DefaultHistoryLimit)
	c.MaxSteps = cmp.Or(c.MaxSteps, DefaultMaxSteps)
	c.Workers = cmp.Or(c.Workers, DefaultWorkers)
	c.QueueSize = cmp.Or(c.QueueSize, DefaultQueueSize)
	c.TurnTimeout = cmp.Or(c.TurnTimeout, DefaultTurnTimeout)
	c.RecoveryInterval = cmp.Or(c.RecoveryInterval, DefaultRecoveryInterval)
	c.TypingInterval = cmp.Or(c.TypingInterval, DefaultTypingInterval)
	c.MaxMediaBytes = cmp.Or(c.MaxMediaBytes, DefaultMaxMediaBytes)
	c.CoalesceWindow = cmp.Or(c.CoalesceWindow, DefaultCoalesceWindow)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, DefaultMaxAttempts)
	c.RetryDelay = cmp.Or(c.RetryDelay, DefaultRetryDelay)
	c.ResendAfter = cmp.Or(c.ResendAfter, DefaultResendAfter)
	c.ContactLimit = cmp.Or(c.ContactLimit, DefaultContactLimit)
	c.ContactLimitNotice = cmp.Or(c.ContactLimitNotice, DefaultContactLimitNotice)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}
