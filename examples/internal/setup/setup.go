package setup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/gemini"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/llm/openai"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/store/postgres"
	"github.com/wagent/wagent/store/sqlite"
)

// ErrConfig is wrapped by every error about a setting that is missing or
// wrong.
var ErrConfig = errors.New("invalid configuration")

// EchoPrefix starts every answer of the echo model.
const EchoPrefix = "echo: "

// Options are what the calling example decides. The zero value is valid.
type Options struct {
	// Fallback is the model used when LLM is unset and no provider's key
	// is: the quickstart's offline demo model, say. nil means echo.
	Fallback llm.Provider
	// DefaultStore is the STORE used when STORE is unset, such as
	// "sqlite:wagent.db". Empty means "memory".
	DefaultStore string
	// HTTPClient makes the model providers' requests; nil leaves each
	// adapter its default.
	HTTPClient *http.Client
	// Retry configures the llm.Retry wrapped around real providers; nil
	// means its defaults.
	Retry *llm.RetryOptions
}

// Model is the model the environment chose.
//
// Pass Provider itself to the agent, not the Model: the agent finds the
// provider's optional capabilities (streaming) by type assertion.
type Model struct {
	Provider llm.Provider
	// Kind is "openai", "gemini", "echo" or "fallback".
	Kind string
	// Description says which model for a start-up line, such as "openai
	// gpt-4.1-mini"; it holds no key.
	Description string
}

// configError returns an error wrapping ErrConfig with the given text.
func configError(format string, args ...any) error {
	return &cfgError{msg: fmt.Sprintf(format, args...)}
}

type cfgError struct{ msg string }

func (e *cfgError) Error() string { return e.msg }
func (e *cfgError) Unwrap() error { return ErrConfig }

// NewModel returns the model chosen by LLM and the provider variables (see
// the package documentation), with the fallback of opts when none is
// chosen. ctx bounds the set-up only; no network call is made.
func NewModel(ctx context.Context, getenv func(string) string, opts *Options) (Model, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	kind := strings.ToLower(env("LLM"))
	if kind == "" {
		switch {
		case env("OPENAI_API_KEY") != "" || env("OPENAI_BASE_URL") != "":
			kind = "openai"
		case env("GEMINI_API_KEY") != "":
			kind = "gemini"
		case o.Fallback != nil:
			return Model{Provider: o.Fallback, Kind: "fallback", Description: o.Fallback.Name()}, nil
		default:
			kind = "echo"
		}
	}
	switch kind {
	case "echo":
		return Model{Provider: llmtest.Echo{Prefix: EchoPrefix}, Kind: "echo", Description: "echo"}, nil
	case "openai":
		key, base := env("OPENAI_API_KEY"), env("OPENAI_BASE_URL")
		if key == "" && base == "" {
			return Model{}, configError("LLM=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for an OpenAI-compatible server)")
		}
		model := cmp.Or(env("OPENAI_MODEL"), openai.DefaultModel)
		p, err := openai.New(key, &openai.Options{Model: model, BaseURL: base, HTTPClient: o.HTTPClient})
		if err != nil {
			return Model{}, configError("OPENAI_BASE_URL, OPENAI_MODEL: %v", err)
		}
		return Model{Provider: llm.Retry(p, o.Retry), Kind: "openai", Description: "openai " + model}, nil
	case "gemini":
		key := env("GEMINI_API_KEY")
		if key == "" {
			return Model{}, configError("LLM=gemini needs GEMINI_API_KEY")
		}
		model := cmp.Or(env("GEMINI_MODEL"), gemini.DefaultModel)
		p, err := gemini.New(ctx, key, &gemini.Options{Model: model, BaseURL: env("GEMINI_BASE_URL"), HTTPClient: o.HTTPClient})
		if err != nil {
			return Model{}, configError("GEMINI_BASE_URL, GEMINI_MODEL: %v", err)
		}
		return Model{Provider: llm.Retry(p, o.Retry), Kind: "gemini", Description: "gemini " + model}, nil
	}
	return Model{}, configError("LLM=%s: use openai, gemini or echo", kind)
}

// Store is the store the environment chose.
//
// Pass ConversationStore itself to the agent: the agent finds the store's
// optional capabilities (leases, purges) by type assertion.
type Store struct {
	ConversationStore store.ConversationStore
	// Kind is "memory", "sqlite" or "postgres".
	Kind string
	// Description says which store for a start-up line: "memory",
	// "sqlite wagent.db" or "postgres" (never the DSN, which may hold a
	// password).
	Description string
	// Close closes the store.
	Close func() error
}

// OpenStore opens the store STORE names (opts.DefaultStore when unset,
// else memory): memory, sqlite:PATH (the file is created when missing) or
// postgres:DSN. ctx bounds opening and migrating. Close the store when
// done.
func OpenStore(ctx context.Context, getenv func(string) string, opts *Options) (Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	spec := cmp.Or(strings.TrimSpace(getenv("STORE")), o.DefaultStore, "memory")
	kind, arg, hasArg := strings.Cut(spec, ":")
	switch kind {
	case "memory":
		if hasArg {
			return Store{}, configError("STORE=memory takes nothing after it")
		}
		st := memory.New(nil)
		return Store{ConversationStore: st, Kind: "memory", Description: "memory", Close: st.Close}, nil
	case "sqlite":
		if arg == "" {
			return Store{}, configError("STORE=sqlite needs a file, as in sqlite:wagent.db")
		}
		st, err := sqlite.Open(ctx, arg, nil)
		if err != nil {
			return Store{}, fmt.Errorf("STORE=sqlite:%s: %w", arg, err)
		}
		return Store{ConversationStore: st, Kind: "sqlite", Description: "sqlite " + arg, Close: st.Close}, nil
	case "postgres":
		if arg == "" {
			return Store{}, configError("STORE=postgres needs a DSN, as in postgres:postgres://user@localhost:5432/wagent")
		}
		st, err := postgres.Open(ctx, arg, nil)
		if err != nil {
			return Store{}, fmt.Errorf("STORE=postgres: %s", scrub(err.Error(), arg))
		}
		return Store{ConversationStore: st, Kind: "postgres", Description: "postgres", Close: st.Close}, nil
	}
	// Only the part before the colon is repeated: a misspelt kind may be
	// followed by a DSN with a password.
	return Store{}, configError("STORE=%s: use memory, sqlite:PATH or postgres:DSN", kind)
}

// scrub removes the DSN, and the password it may hold, from msg.
func scrub(msg, dsn string) string {
	msg = strings.ReplaceAll(msg, dsn, "[dsn]")
	if pw := password(dsn); pw != "" {
		msg = strings.ReplaceAll(msg, pw, "[redacted]")
	}
	return msg
}

// password returns the password of a URL or key=value DSN, or "".
func password(dsn string) string {
	if rest, ok := strings.CutPrefix(dsn, "postgres://"); ok || strings.HasPrefix(dsn, "postgresql://") {
		if !ok {
			rest = strings.TrimPrefix(dsn, "postgresql://")
		}
		userinfo, _, found := strings.Cut(rest, "@")
		if !found {
			return ""
		}
		_, pw, _ := strings.Cut(userinfo, ":")
		return pw
	}
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, "password="); ok {
			return strings.Trim(v, "'")
		}
	}
	return ""
}
