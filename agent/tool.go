package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"runtime/debug"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/jsonschema"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// Tool is a function the model may call during a turn.
//
// Call is made with the turn's context ([TurnFrom] tells which conversation
// it serves) and the arguments exactly as the model wrote them. An error is
// not fatal: its text is returned to the model as the tool's result so that
// it can correct itself or tell the customer. Tools are called from many
// goroutines at once (several conversations, parallel calls of one turn) and
// must be safe for concurrent use. A panicking tool is recovered and reported
// to the model as an error.
type Tool interface {
	// Definition describes the tool to the model. It must not change.
	Definition() llm.Tool
	// Call runs the tool and returns its result as text, usually JSON.
	Call(ctx context.Context, args json.RawMessage) (string, error)
}

// NewTool makes a [Tool] from a Go function whose argument is a struct. The
// JSON Schema the model sees is generated from In: field names from json
// tags, fields required unless they are pointers or tagged omitempty,
// descriptions from `description:"..."` tags and allowed values from
// `enum:"a,b"` tags. The model's arguments are validated against that
// schema before fn is called; invalid arguments are returned to the model as
// an error naming what is wrong.
//
// fn's result is given to the model as is when Out is a string, and as JSON
// otherwise.
//
// When In cannot be described by a JSON Schema (a func field, a recursive
// type, not a struct), the tool carries the error and [New] returns it.
func NewTool[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error)) Tool {
	t := &funcTool{def: llm.Tool{Name: name, Description: description}}
	typ := reflect.TypeFor[In]()
	if typ.Kind() != reflect.Struct && !(typ.Kind() == reflect.Pointer && typ.Elem().Kind() == reflect.Struct) {
		t.failed = fmt.Errorf("agent: tool %q: argument type %s is not a struct", name, typ)
		return t
	}
	schema, err := jsonschema.Reflect(typ)
	if err != nil {
		t.failed = fmt.Errorf("agent: tool %q: %w", name, err)
		return t
	}
	params, err := json.Marshal(schema)
	if err != nil {
		t.failed = fmt.Errorf("agent: tool %q: %w", name, err)
		return t
	}
	t.def.Parameters = params
	t.call = func(ctx context.Context, args json.RawMessage) (string, error) {
		if err := schema.Validate(args); err != nil {
			return "", fmt.Errorf("invalid arguments: %w", err)
		}
		var in In
		if err := json.Unmarshal(args, &in); err != nil {
			return "", fmt.Errorf("invalid arguments: %w", err)
		}
		out, err := fn(ctx, in)
		if err != nil {
			return "", err
		}
		if s, ok := any(out).(string); ok {
			return s, nil
		}
		b, err := json.Marshal(out)
		if err != nil {
			return "", fmt.Errorf("tool result cannot be encoded: %w", err)
		}
		return string(b), nil
	}
	return t
}

type funcTool struct {
	def    llm.Tool
	call   func(context.Context, json.RawMessage) (string, error)
	failed error
}

func (t *funcTool) Definition() llm.Tool { return t.def }

func (t *funcTool) Call(ctx context.Context, args json.RawMessage) (string, error) {
	if t.failed != nil {
		return "", t.failed
	}
	if len(args) == 0 {
		args = json.RawMessage("{}")
	}
	return t.call(ctx, args)
}

func (t *funcTool) err() error { return t.failed }

// Turn tells a tool which conversation it is serving.
type Turn struct {
	Tenant       channel.TenantID
	Address      channel.Address
	Conversation store.ConversationID
	Subject      store.SubjectID
	// Message is the inbound record being answered.
	Message store.MessageID
}

type turnKey struct{}

// TurnFrom returns the turn a tool call belongs to, from the context the
// agent passes to [Tool.Call].
func TurnFrom(ctx context.Context) (Turn, bool) {
	t, ok := ctx.Value(turnKey{}).(*Turn)
	if !ok {
		return Turn{}, false
	}
	return *t, true
}

// callTool runs t, turning a panic into a *toolPanic error so that a faulty
// tool cannot bring the agent down.
func callTool(ctx context.Context, t Tool, args json.RawMessage) (result string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &toolPanic{value: r, stack: debug.Stack()}
		}
	}()
	return t.Call(ctx, args)
}

// toolPanic is what a panicking tool returns. The model reads only its
// Error text; the value and stack go to the log.
type toolPanic struct {
	value any
	stack []byte
}

func (p *toolPanic) Error() string { return "the tool failed unexpectedly" }
