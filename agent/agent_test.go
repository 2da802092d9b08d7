package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

const tenant channel.TenantID = "1098765432"

// fixture is an agent wired to the memory store, a scripted model and a
// recording WhatsApp channel, running until the test ends.
type fixture struct {
	agent *agent.Agent
	store *memory.Store
	model *llmtest.Scripted
	ch    *channeltest.Recorder
	turns chan agent.TurnInfo
	logs  *syncBuffer
}

// setup builds and runs an agent. edit may change the config before New.
func setup(t *testing.T, edit func(*agent.Config), steps ...llmtest.Step) *fixture {
	t.Helper()
	f := &fixture{
		store: memory.New(nil),
		model: llmtest.NewScripted(steps...),
		ch:    channeltest.NewRecorder(channel.WhatsApp),
		turns: make(chan agent.TurnInfo, 100),
		logs:  &syncBuffer{},
	}
	cfg := agent.Config{
		Store:        f.store,
		Model:        f.model,
		Channels:     []channel.Channel{f.ch},
		Instructions: "You are the assistant of Tienda Sol.",
		Logger:       slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hooks:        agent.Hooks{TurnDone: func(ti agent.TurnInfo) { f.turns <- ti }},
		// One turn per message unless a test is about coalescing.
		CoalesceWindow: -1,
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := agent.New(cfg)
	require.NoError(t, err)
	f.agent = a
	f.start(t)
	return f
}

func (f *fixture) start(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.agent.Run(ctx) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		assert.NoError(t, f.agent.Shutdown(sctx))
		cancel()
		assert.NoError(t, <-done)
	})
}

// waitConv returns the conversation of user.
func (f *fixture) waitConv(t *testing.T, user string) store.ConversationID {
	t.Helper()
	conv, err := f.store.OpenConversation(t.Context(), addr(user))
	require.NoError(t, err)
	return conv.ID
}

// waitTurns returns the next n finished turns.
func (f *fixture) waitTurns(t *testing.T, n int) []agent.TurnInfo {
	t.Helper()
	var got []agent.TurnInfo
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case ti := <-f.turns:
			got = append(got, ti)
		case <-timeout:
			t.Fatalf("waited for %d turns, got %d", n, len(got))
		}
	}
	return got
}

func (f *fixture) receive(t *testing.T, msgs ...channel.Message) {
	t.Helper()
	require.NoError(t, f.agent.Receive(t.Context(), channel.Inbound{Messages: msgs}))
}

func addr(user string) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(user)}
}

func text(id, user, body string) channel.Message {
	return channel.Message{
		ID:     channel.MessageID(id),
		From:   addr(user),
		Time:   time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC),
		Type:   channel.TypeText,
		Text:   channel.Text(body),
		Sender: channel.Profile{Name: "Rosa Quispe", Phone: channel.Phone(user)},
	}
}

// echoLast answers with the text of the last user message.
func echoLast() llmtest.Step {
	return llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		return llmtest.Echo{Prefix: "re: "}.Generate(ctx, req)
	})
}

func inbound(t *testing.T, s store.ConversationStore, conv store.ConversationID) []store.Message {
	t.Helper()
	hist, err := s.History(t.Context(), tenant, conv, store.HistoryQuery{})
	require.NoError(t, err)
	var in []store.Message
	for _, m := range hist {
		if m.Role == store.User {
			in = append(in, m)
		}
	}
	return in
}

func TestNewRejectsBadConfig(t *testing.T) {
	st, model, ch := memory.New(nil), llmtest.NewScripted(), channeltest.NewRecorder(channel.WhatsApp)
	badTool := agent.NewTool("bad", "takes a func", func(context.Context, struct{ F func() }) (string, error) { return "", nil })
	notStruct := agent.NewTool("scalar", "takes a string", func(context.Context, string) (string, error) { return "", nil })
	ok := agent.NewTool("ok", "fine", func(context.Context, struct{}) (string, error) { return "", nil })
	tests := []struct {
		name string
		cfg  agent.Config
		want []string
	}{
		{"empty", agent.Config{}, []string{"Config.Store is required", "Config.Model is required", "at least one channel"}},
		{"duplicate channel", agent.Config{Store: st, Model: model, Channels: []channel.Channel{ch, ch}}, []string{`two channels are named "whatsapp"`}},
		{"nil channel", agent.Config{Store: st, Model: model, Channels: []channel.Channel{nil}}, []string{"Channels[0] is nil"}},
		{"tool with func argument", agent.Config{Store: st, Model: model, Channels: []channel.Channel{ch}, Tools: []agent.Tool{badTool}}, []string{`tool "bad"`}},
		{"tool without struct argument", agent.Config{Store: st, Model: model, Channels: []channel.Channel{ch}, Tools: []agent.Tool{notStruct}}, []string{`tool "scalar": argument type string is not a struct`}},
		{"duplicate tool", agent.Config{Store: st, Model: model, Channels: []channel.Channel{ch}, Tools: []agent.Tool{ok, ok}}, []string{`two tools are named "ok"`}},
		{"bad tool name", agent.Config{Store: st, Model: model, Channels: []channel.Channel{ch}, Tools: []agent.Tool{agent.NewTool("has space", "", func(context.Context, struct{}) (string, error) { return "", nil })}}, []string{`tool name "has space"`}},
		{"negative limits", agent.Config{Store: st, Model: model, Channels: []channel.Channel{ch}, Workers: -1, HistoryLimit: -2}, []string{"Config.Workers must not be negative", "Config.HistoryLimit must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := agent.New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, a)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestAnswersAMessage(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("Hola Rosa, ¿en qué te ayudo?"))
	f.receive(t, text("wamid.1", "51987654321", "Hola"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Answered, ti.Outcome)
	assert.Equal(t, 1, ti.Steps)
	assert.Positive(t, ti.Usage.OutputTokens)

	sent := f.ch.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, addr("51987654321"), sent[0].To)
	assert.Equal(t, channel.Text("Hola Rosa, ¿en qué te ayudo?"), sent[0].Text)
	assert.True(t, strings.HasPrefix(sent[0].Correlation, "wagent:"), "correlation data lets statuses find the record")
	assert.Equal(t, []channeltest.Signal{{To: addr("51987654321"), MessageID: "wamid.1"}}, f.ch.Typings(), "typing is shown while the model works")

	reqs := f.model.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "You are the assistant of Tienda Sol.", reqs[0].System)
	assert.Equal(t, []llm.Message{llm.UserText("Hola")}, reqs[0].Messages)

	hist, err := f.store.History(t.Context(), tenant, ti.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, store.ProcessDone, hist[0].Processing.State)
	assert.Equal(t, 1, hist[0].Processing.Attempts)
	reply := hist[1]
	assert.Equal(t, store.Assistant, reply.Role)
	assert.Equal(t, hist[0].ID, reply.Turn, "the reply belongs to the turn of the message it answers")
	assert.Equal(t, channel.Sent, reply.Delivery.State)
	assert.Equal(t, channel.MessageID("out-1"), reply.ProviderID)
	require.NotNil(t, reply.Outbound)
	assert.Equal(t, sent[0].Text, reply.Outbound.Text)

	st := f.agent.Stats()
	assert.Equal(t, int64(1), st.Received)
	assert.Equal(t, int64(1), st.Answered)
	assert.Equal(t, int64(1), st.Sent)
	assert.Equal(t, int64(1), st.ModelCalls)
}

func TestDuplicateDeliveryGivesOneReply(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("one answer"))
	msg := text("wamid.dup", "51911111111", "¿Tienen envío a Cusco?")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, f.agent.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{msg}}))
		}()
	}
	wg.Wait()
	f.waitTurns(t, 1)
	f.receive(t, msg) // a redelivery after the answer
	// A second, different message proves the queue is idle: had the
	// duplicates been queued, their turns would come first.
	f.model.Push(llmtest.Reply("second answer"))
	f.receive(t, text("wamid.next", "51911111111", "gracias"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Answered, ti.Outcome)

	sent := f.ch.Sent()
	require.Len(t, sent, 2)
	assert.Equal(t, channel.Text("one answer"), sent[0].Text)
	assert.Equal(t, channel.Text("second answer"), sent[1].Text)
	assert.Equal(t, 2, f.model.Calls())
	st := f.agent.Stats()
	assert.Equal(t, int64(2), st.Received)
	assert.Equal(t, int64(8), st.Duplicates)
}

func TestConcurrentMessagesOfOneContactAreAnsweredInOrder(t *testing.T) {
	f := setup(t, nil)
	f.model.SetDefault(echoLast())
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.receive(t, text(fmt.Sprintf("wamid.%d", i), "51922222222", fmt.Sprintf("message %d", i)))
		}()
	}
	wg.Wait()
	turns := f.waitTurns(t, n)

	in := inbound(t, f.store, turns[0].Conversation)
	require.Len(t, in, n)
	sent := f.ch.Sent()
	require.Len(t, sent, n)
	for i := range n {
		assert.Equal(t, "re: "+string(in[i].Inbound.Text), string(sent[i].Text), "reply %d answers the %d-th recorded message", i, i)
		assert.Equal(t, in[i].ID, turns[i].Message, "turns run in recording order")
	}
	// Each request saw the earlier exchanges and not the later messages.
	for i, req := range f.model.Requests() {
		last := req.Messages[len(req.Messages)-1]
		assert.Equal(t, string(in[i].Inbound.Text), last.Text())
		want := 2*i + 1 // earlier messages and replies, and this message
		if want > agent.DefaultHistoryLimit {
			want = agent.DefaultHistoryLimit - 1 // cut to start at a customer message
		}
		assert.Len(t, req.Messages, want)
	}
}

func TestConversationsRunInParallel(t *testing.T) {
	// Each model call waits until the other conversation's call has
	// started: with one conversation at a time this would deadlock.
	var started sync.WaitGroup
	started.Add(2)
	f := setup(t, func(c *agent.Config) { c.Workers = 2 })
	f.model.SetDefault(llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		started.Done()
		started.Wait()
		return llmtest.Echo{}.Generate(ctx, req)
	}))
	f.receive(t, text("wamid.a", "51900000001", "a"), text("wamid.b", "51900000002", "b"))
	for _, ti := range f.waitTurns(t, 2) {
		assert.Equal(t, agent.Answered, ti.Outcome)
	}
}

func TestModelErrorIsLoggedAndNotFatal(t *testing.T) {
	bad := &llm.Error{Provider: "scripted", Kind: llm.ErrInvalidRequest, StatusCode: 400}
	f := setup(t, nil, llmtest.Fail(bad), llmtest.Reply("back again"))
	f.receive(t, text("wamid.1", "51933333333", "hola"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Failed, ti.Outcome, "a request the model rejects will not pass by retrying")
	assert.Equal(t, "model_invalid_request", ti.Reason)
	assert.ErrorIs(t, ti.Err, llm.ErrInvalidRequest)
	assert.Empty(t, f.ch.Sent())

	m, err := f.store.Message(t.Context(), tenant, ti.Message)
	require.NoError(t, err)
	assert.Equal(t, store.ProcessFailed, m.Processing.State)
	assert.Equal(t, "model_invalid_request", m.Processing.Reason)
	assert.Contains(t, f.logs.String(), `"level":"WARN","msg":"agent: turn failed"`)

	f.receive(t, text("wamid.2", "51933333333", "¿hola?"))
	assert.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome, "the agent keeps working after a model failure")
	assert.Equal(t, int64(1), f.agent.Stats().Failed)
}

func TestModelOutageIsRetriedInOrder(t *testing.T) {
	down := &llm.Error{Provider: "scripted", Kind: llm.ErrUnavailable, StatusCode: 503}
	f := setup(t, func(c *agent.Config) {
		c.RetryDelay = time.Millisecond
		c.RecoveryInterval = 5 * time.Millisecond
		c.Apology = "Sorry, we are having trouble answering. We will reply as soon as we can."
	}, llmtest.Fail(down), llmtest.Fail(down))
	f.model.SetDefault(echoLast())
	f.receive(t, text("wamid.1", "51933333334", "first"))
	f.receive(t, text("wamid.2", "51933333334", "second"))

	var outcomes []agent.Outcome
	for len(outcomes) < 4 {
		outcomes = append(outcomes, f.waitTurns(t, 1)[0].Outcome)
	}
	assert.Equal(t, []agent.Outcome{agent.Retrying, agent.Retrying, agent.Answered, agent.Answered}, outcomes)
	sent := f.ch.Sent()
	require.Len(t, sent, 3)
	assert.Equal(t, channel.Text("Sorry, we are having trouble answering. We will reply as soon as we can."), sent[0].Text, "one apology, at the first failure")
	assert.Equal(t, channel.Text("re: first"), sent[1].Text, "the failed message is answered first")
	assert.Equal(t, channel.Text("re: second"), sent[2].Text, "the later message waited behind it")

	in := inbound(t, f.store, f.waitConv(t, "51933333334"))
	assert.Equal(t, 3, in[0].Processing.Attempts)
	assert.Equal(t, store.ProcessDone, in[0].Processing.State)
	assert.Equal(t, int64(2), f.agent.Stats().Retries)
}

func TestAttemptsAreBounded(t *testing.T) {
	f := setup(t, func(c *agent.Config) {
		c.MaxAttempts = 2
		c.RetryDelay = time.Millisecond
		c.RecoveryInterval = 5 * time.Millisecond
	})
	f.model.SetDefault(llmtest.Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrRateLimited}))
	f.receive(t, text("wamid.1", "51933333335", "hola"))
	got := []agent.Outcome{f.waitTurns(t, 1)[0].Outcome, f.waitTurns(t, 1)[0].Outcome}
	assert.Equal(t, []agent.Outcome{agent.Retrying, agent.Failed}, got)
	m, err := f.store.Message(t.Context(), tenant, 1)
	require.NoError(t, err)
	assert.Equal(t, store.ProcessFailed, m.Processing.State)
	assert.Equal(t, 2, m.Processing.Attempts)
	pending, err := f.store.Pending(t.Context(), store.PendingQuery{})
	require.NoError(t, err)
	assert.Empty(t, pending, "a message out of attempts is no longer retried")
}

func TestCoalescesABurstIntoOneTurn(t *testing.T) {
	f := setup(t, func(c *agent.Config) { c.CoalesceWindow = 300 * time.Millisecond }, llmtest.Reply("one answer for all three"))
	// One webhook delivery carrying three messages: they arrive within the
	// window whatever the machine's speed.
	f.receive(t, text("wamid.1", "51900000040", "hola"), text("wamid.2", "51900000040", "quiero una chompa"), text("wamid.3", "51900000040", "talla M"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Answered, ti.Outcome)
	assert.Equal(t, 3, ti.Messages)
	assert.Equal(t, []channel.Outbound{{To: addr("51900000040"), Text: "one answer for all three", Correlation: f.ch.Sent()[0].Correlation}}, f.ch.Sent())

	reqs := f.model.Requests()
	require.Len(t, reqs, 1)
	require.Len(t, reqs[0].Messages, 1)
	assert.Equal(t, []llm.Part{llm.TextPart("hola"), llm.TextPart("quiero una chompa"), llm.TextPart("talla M")}, reqs[0].Messages[0].Parts)
	for _, m := range inbound(t, f.store, ti.Conversation) {
		assert.Equal(t, store.ProcessDone, m.Processing.State)
	}
	hist, err := f.store.History(t.Context(), tenant, ti.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	assert.Equal(t, ti.Message, hist[len(hist)-1].Turn, "the reply belongs to the turn of the latest message")
}

func TestContactLimit(t *testing.T) {
	f := setup(t, func(c *agent.Config) { c.ContactLimit = 2 })
	f.model.SetDefault(echoLast())
	for i := range 4 {
		f.receive(t, text(fmt.Sprintf("wamid.%d", i), "51900000050", fmt.Sprintf("m%d", i)))
		f.waitTurns(t, 1)
	}
	var texts []string
	for _, o := range f.ch.Sent() {
		texts = append(texts, string(o.Text))
	}
	assert.Equal(t, []string{"re: m0", "re: m1", agent.DefaultContactLimitNotice}, texts, "answered up to the limit, told once, then silent")
	assert.Equal(t, int64(2), f.agent.Stats().Throttled)
	// Another contact is not affected.
	f.receive(t, text("wamid.other", "51900000051", "hola"))
	assert.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome)
}

type weatherArgs struct {
	City string `json:"city" description:"City name"`
	Unit string `json:"unit,omitempty" enum:"c,f"`
}

func TestToolErrorsAreReportedToTheModel(t *testing.T) {
	weather := agent.NewTool("get_weather", "Current weather in a city",
		func(ctx context.Context, in weatherArgs) (map[string]any, error) {
			turn, ok := agent.TurnFrom(ctx)
			if !ok || turn.Tenant != tenant {
				return nil, errors.New("no turn in context")
			}
			if in.City == "Atlantis" {
				return nil, errors.New("no weather station in Atlantis")
			}
			return map[string]any{"city": in.City, "temp_c": 19}, nil
		})
	panicky := agent.NewTool("explode", "Always panics", func(context.Context, struct{}) (string, error) {
		panic("boom")
	})
	f := setup(t, func(c *agent.Config) { c.Tools, c.DisableTickets = []agent.Tool{weather, panicky}, true },
		llmtest.ToolCalls(
			llm.ToolCall{ID: "c1", Name: "get_weather", Args: json.RawMessage(`{"city":"Lima"}`)},
			llm.ToolCall{ID: "c2", Name: "get_weather", Args: json.RawMessage(`{"city":"Atlantis"}`)},
			llm.ToolCall{ID: "c3", Name: "get_weather", Args: json.RawMessage(`{"city":7}`)},
			llm.ToolCall{ID: "c4", Name: "get_weather", Args: json.RawMessage(`{"city":`)},
			llm.ToolCall{ID: "c5", Name: "no_such_tool", Args: json.RawMessage(`{}`)},
			llm.ToolCall{ID: "c6", Name: "explode"},
		),
		llmtest.Reply("19 °C in Lima; I could not check Atlantis."),
	)
	f.receive(t, text("wamid.1", "51944444444", "weather?"))
	ti := f.waitTurns(t, 1)[0]
	require.Equal(t, agent.Answered, ti.Outcome)
	assert.Equal(t, 2, ti.Steps)

	reqs := f.model.Requests()
	require.Len(t, reqs, 2)
	require.Len(t, reqs[0].Tools, 3)
	assert.Equal(t, "get_weather", reqs[0].Tools[0].Name)
	assert.Equal(t, "handoff_to_human", reqs[0].Tools[2].Name, "the built-in handoff tool comes last")
	assert.JSONEq(t, `{"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"],"additionalProperties":false}`,
		string(reqs[0].Tools[0].Parameters))

	msgs := reqs[1].Messages
	require.Len(t, msgs, 3)
	assert.Equal(t, llm.Assistant, msgs[1].Role)
	assert.Len(t, msgs[1].ToolCalls(), 6)
	require.Equal(t, llm.ToolRole, msgs[2].Role)
	results := map[string]*llm.ToolResult{}
	for _, p := range msgs[2].Parts {
		results[p.ToolResult.CallID] = p.ToolResult
	}
	require.Len(t, results, 6, "every call is answered")
	assert.False(t, results["c1"].IsError)
	assert.JSONEq(t, `{"city":"Lima","temp_c":19}`, results["c1"].Content)
	for id, want := range map[string]string{
		"c2": "no weather station in Atlantis",
		"c3": "invalid arguments",
		"c4": "invalid arguments",
		"c5": `unknown tool "no_such_tool"`,
		"c6": "the tool failed unexpectedly",
	} {
		assert.True(t, results[id].IsError, id)
		assert.Contains(t, results[id].Content, want, id)
	}
	assert.Contains(t, f.logs.String(), `"panic":"boom"`, "a panicking tool is logged with its stack")
	assert.Equal(t, int64(5), f.agent.Stats().ToolErrors)

	hist, err := f.store.History(t.Context(), tenant, ti.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	roles := make([]store.Role, len(hist))
	for i, m := range hist {
		roles[i] = m.Role
		assert.Equal(t, ti.Message, m.Turn)
	}
	assert.Equal(t, []store.Role{store.User, store.Assistant, store.Tool, store.Assistant}, roles)
}

func TestToolExchangesAreReplayedInLaterTurns(t *testing.T) {
	lookup := agent.NewTool("order_status", "Status of an order", func(_ context.Context, in struct {
		Order string `json:"order"`
	}) (string, error) {
		return "shipped", nil
	})
	f := setup(t, func(c *agent.Config) { c.Tools = []agent.Tool{lookup} },
		llmtest.ToolCalls(llm.ToolCall{ID: "call_9", Name: "order_status", Args: json.RawMessage(`{"order":"A-1"}`)}),
		llmtest.Reply("Your order A-1 has shipped."),
		llmtest.Reply("You're welcome!"),
	)
	f.receive(t, text("wamid.1", "51955555555", "where is A-1?"))
	f.waitTurns(t, 1)
	f.receive(t, text("wamid.2", "51955555555", "thanks"))
	f.waitTurns(t, 1)

	reqs := f.model.Requests()
	require.Len(t, reqs, 3)
	msgs := reqs[2].Messages
	require.Len(t, msgs, 5)
	assert.Equal(t, []llm.Role{llm.User, llm.Assistant, llm.ToolRole, llm.Assistant, llm.User}, []llm.Role{msgs[0].Role, msgs[1].Role, msgs[2].Role, msgs[3].Role, msgs[4].Role})
	assert.Equal(t, "call_9", msgs[1].ToolCalls()[0].ID, "tool-call ids survive the store")
	assert.Equal(t, "call_9", msgs[2].Parts[0].ToolResult.CallID)
	assert.Equal(t, "shipped", msgs[2].Parts[0].ToolResult.Content)
}

func TestLastStepMustAnswer(t *testing.T) {
	loop := agent.NewTool("again", "Call me again", func(context.Context, struct{}) (string, error) { return "again", nil })
	f := setup(t, func(c *agent.Config) {
		c.Tools = []agent.Tool{loop}
		c.MaxSteps = 3
	})
	f.model.SetDefault(llmtest.ToolCalls(llm.ToolCall{Name: "again", Args: json.RawMessage(`{}`)}))
	f.receive(t, text("wamid.1", "51966666666", "loop"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Failed, ti.Outcome)
	assert.Equal(t, "max_steps", ti.Reason)
	reqs := f.model.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, llm.ToolAuto, reqs[1].ToolChoice)
	assert.Equal(t, llm.ToolNone, reqs[2].ToolChoice, "the last step is made with tools disabled")
	assert.Empty(t, f.ch.Sent())
}

func TestHistoryWindow(t *testing.T) {
	f := setup(t, func(c *agent.Config) { c.HistoryLimit = 4 })
	f.model.SetDefault(echoLast())
	for i := range 5 {
		f.receive(t, text(fmt.Sprintf("wamid.%d", i), "51977777777", fmt.Sprintf("m%d", i)))
		f.waitTurns(t, 1)
	}
	reqs := f.model.Requests()
	last := reqs[len(reqs)-1].Messages
	require.Len(t, last, 3, "4 records, cut to start at a customer message")
	assert.Equal(t, "m3", last[0].Text())
	assert.Equal(t, "re: m3", last[1].Text())
	assert.Equal(t, "m4", last[2].Text())
}

func TestHumanOwnedConversationIsNotAnswered(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("should not be sent"))
	conv, err := f.store.OpenConversation(t.Context(), addr("51988888888"))
	require.NoError(t, err)
	_, err = f.store.SetHandoff(t.Context(), tenant, conv.ID, store.Handoff{Owner: store.OwnerHuman, Operator: "ana", Reason: "operator_claim"})
	require.NoError(t, err)

	f.receive(t, text("wamid.1", "51988888888", "hola"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Skipped, ti.Outcome)
	assert.Equal(t, "handoff", ti.Reason)
	assert.Zero(t, f.model.Calls())
	assert.Empty(t, f.ch.Sent())
	in := inbound(t, f.store, conv.ID)
	require.Len(t, in, 1)
	assert.Equal(t, store.ProcessSkipped, in[0].Processing.State, "the message is kept for the operator")
}

// ledger is a ConsentLedger test double whose state is fixed.
type ledger struct{ status privacy.ConsentStatus }

func (l ledger) Record(context.Context, privacy.ConsentRecord) error { return nil }
func (l ledger) State(_ context.Context, _ channel.TenantID, _ store.SubjectID, p privacy.Purpose) (privacy.ConsentState, error) {
	return privacy.ConsentState{Purpose: p, Status: l.status}, nil
}
func (l ledger) History(context.Context, channel.TenantID, store.SubjectID) ([]privacy.ConsentRecord, error) {
	return nil, nil
}

func TestObjectionStopsAIProcessing(t *testing.T) {
	f := setup(t, func(c *agent.Config) { c.Consent = ledger{status: privacy.ConsentWithdrawn} }, llmtest.Reply("no"))
	f.receive(t, text("wamid.1", "51999999999", "hola"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Skipped, ti.Outcome)
	assert.Equal(t, "objection", ti.Reason)
	assert.Zero(t, f.model.Calls())

	g := setup(t, func(c *agent.Config) { c.Consent = ledger{status: privacy.ConsentUnknown} }, llmtest.Reply("sí"))
	g.receive(t, text("wamid.1", "51999999999", "hola"))
	assert.Equal(t, agent.Answered, g.waitTurns(t, 1)[0].Outcome, "no record means the customer who wrote first is answered")
}

func TestStatusesUpdateTheDeliveryRecord(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("hi"))
	f.receive(t, text("wamid.1", "51900000011", "hola"))
	ti := f.waitTurns(t, 1)[0]
	sent := f.ch.Sent()
	require.Len(t, sent, 1)
	hist, err := f.store.History(t.Context(), tenant, ti.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	replyID := hist[1].ID

	status := func(state channel.DeliveryState, corr string, errs ...channel.ErrorInfo) channel.Status {
		return channel.Status{MessageID: "out-1", Recipient: addr("51900000011"), State: state, Time: time.Now(), Correlation: corr, Errors: errs}
	}
	require.NoError(t, f.agent.Receive(t.Context(), channel.Inbound{Statuses: []channel.Status{
		status(channel.Read, ""),
		status(channel.Delivered, sent[0].Correlation), // late and out of order
		{MessageID: "wamid.unknown", Recipient: addr("51900000011"), State: channel.Delivered},
	}}))
	m, err := f.store.Message(t.Context(), tenant, replyID)
	require.NoError(t, err)
	assert.Equal(t, channel.Read, m.Delivery.State, "a late delivered never downgrades read")
	assert.Equal(t, int64(3), f.agent.Stats().Statuses)
}

func TestSendFailureIsRecorded(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("hi"))
	f.ch.FailNext(&channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUndeliverable, Code: 131026})
	f.receive(t, text("wamid.1", "51900000012", "hola"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Failed, ti.Outcome)
	assert.Equal(t, "send_undeliverable", ti.Reason)
	hist, err := f.store.History(t.Context(), tenant, ti.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, hist, 2)
	assert.Equal(t, channel.Failed, hist[1].Delivery.State)
	assert.Equal(t, 131026, hist[1].Delivery.ErrorCode)
	assert.Equal(t, int64(1), f.agent.Stats().SendErrors)
}

func TestShutdownWaitsForTurnsInProgress(t *testing.T) {
	st := memory.New(nil)
	ch := channeltest.NewRecorder(channel.WhatsApp)
	started, release := make(chan struct{}), make(chan struct{})
	model := llmtest.NewScripted(llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		close(started)
		<-release
		return llmtest.Echo{}.Generate(ctx, req)
	}))
	a, err := agent.New(agent.Config{Store: st, Model: model, Channels: []channel.Channel{ch}, CoalesceWindow: -1})
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- a.Run(context.Background()) }()
	require.NoError(t, a.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{text("wamid.1", "51900000013", "hola")}}))
	<-started

	shut := make(chan error, 1)
	go func() { shut <- a.Shutdown(context.Background()) }()
	// Receive refuses new input as soon as Shutdown began...
	require.Eventually(t, func() bool {
		return errors.Is(a.Receive(t.Context(), channel.Inbound{}), agent.ErrClosed)
	}, 5*time.Second, time.Millisecond)
	// ...but Shutdown cannot return while the model call is blocked.
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v before the turn in progress finished", err)
	default:
	}
	close(release)
	require.NoError(t, <-shut)
	require.NoError(t, <-ran)
	assert.Len(t, ch.Sent(), 1, "the turn in progress was completed")
	pending, err := st.Pending(t.Context(), store.PendingQuery{})
	require.NoError(t, err)
	assert.Empty(t, pending)
	assert.ErrorIs(t, a.Run(context.Background()), agent.ErrRunning)
}

func TestShutdownDeadlineLeavesWorkForTheNextStart(t *testing.T) {
	st := memory.New(nil)
	ch := channeltest.NewRecorder(channel.WhatsApp)
	started := make(chan struct{})
	blocked := llmtest.NewScripted(llmtest.Func(func(ctx context.Context, _ *llm.Request) (*llm.Response, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}))
	a, err := agent.New(agent.Config{Store: st, Model: blocked, Channels: []channel.Channel{ch}, CoalesceWindow: -1})
	require.NoError(t, err)
	ran := make(chan error, 1)
	go func() { ran <- a.Run(context.Background()) }()
	require.NoError(t, a.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{text("wamid.1", "51900000014", "hola")}}))
	<-started
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, a.Shutdown(expired), context.Canceled)
	require.NoError(t, <-ran)

	pending, err := st.Pending(t.Context(), store.PendingQuery{})
	require.NoError(t, err)
	require.Len(t, pending, 1, "the abandoned message stays pending")

	// A new agent on the same store picks it up on start.
	b, err := agent.New(agent.Config{Store: st, Model: llmtest.NewScripted(llmtest.Reply("sorry for the wait")), Channels: []channel.Channel{ch}, CoalesceWindow: -1})
	require.NoError(t, err)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go b.Run(ctx)
	sent, err := ch.Wait(t.Context(), 1)
	require.NoError(t, err)
	assert.Equal(t, channel.Text("sorry for the wait"), sent[0].Text)
	require.NoError(t, b.Shutdown(t.Context()))
}

func TestQueueOverflowIsRecovered(t *testing.T) {
	release := make(chan struct{})
	f := setup(t, func(c *agent.Config) {
		c.Workers = 1
		c.QueueSize = 1
		c.RecoveryInterval = time.Hour // only the overflow rescan can help
	})
	var once sync.Once
	started := make(chan struct{})
	f.model.SetDefault(llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		once.Do(func() { close(started) })
		<-release
		return llmtest.Echo{}.Generate(ctx, req)
	}))
	f.receive(t, text("wamid.0", "51900000100", "first"))
	<-started // the only worker is busy
	for i := 1; i <= 4; i++ {
		f.receive(t, text(fmt.Sprintf("wamid.%d", i), fmt.Sprintf("5190000010%d", i), "hola"))
	}
	assert.Positive(t, f.agent.Stats().Overflows, "a full queue leaves work in the store")
	close(release)
	for _, ti := range f.waitTurns(t, 5) {
		assert.Equal(t, agent.Answered, ti.Outcome)
	}
}

func TestLogsHoldNoPersonalData(t *testing.T) {
	const phone, secret, name = "51987650000", "mi tarjeta termina en 4242", "Rosa Quispe"
	f := setup(t, nil, llmtest.Reply("ok"), llmtest.Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrRateLimited}))
	f.receive(t, text("wamid.1", phone, secret))
	f.waitTurns(t, 1)
	f.receive(t, text("wamid.2", phone, secret+" otra vez"))
	f.waitTurns(t, 1)
	require.NoError(t, f.agent.Receive(t.Context(), channel.Inbound{Statuses: []channel.Status{{MessageID: "out-1", Recipient: addr(phone), State: channel.Delivered}}}))

	logs := f.logs.String()
	require.NotEmpty(t, logs)
	for _, s := range []string{phone, secret, name} {
		assert.NotContains(t, logs, s)
	}
	assert.Contains(t, logs, "agent: turn answered")
	assert.Contains(t, logs, "agent: turn retrying")
}

// syncBuffer is a bytes.Buffer safe for concurrent writes by the logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// windowed is a recorder with a customer-service window, like WhatsApp.
type windowed struct{ *channeltest.Recorder }

func (windowed) ServiceWindow() time.Duration { return 24 * time.Hour }

func TestClosedWindow(t *testing.T) {
	late := text("wamid.old", "51900000020", "¿siguen ahí?")
	late.Time = time.Now().Add(-25 * time.Hour) // processed a day late, after an outage

	t.Run("no template: not attempted, recorded as failed", func(t *testing.T) {
		ch := windowed{channeltest.NewRecorder(channel.WhatsApp)}
		f := setup(t, func(c *agent.Config) { c.Channels = []channel.Channel{ch} }, llmtest.Reply("sí"))
		f.receive(t, late)
		ti := f.waitTurns(t, 1)[0]
		assert.Equal(t, agent.Failed, ti.Outcome)
		assert.Equal(t, "send_window_closed", ti.Reason)
		assert.ErrorIs(t, ti.Err, channel.ErrWindowClosed)
		assert.Empty(t, ch.Sent())
		hist, err := f.store.History(t.Context(), tenant, ti.Conversation, store.HistoryQuery{})
		require.NoError(t, err)
		assert.Equal(t, channel.Failed, hist[1].Delivery.State)
		assert.Zero(t, hist[1].Delivery.Attempts, "nothing was attempted")
	})
	t.Run("template fallback", func(t *testing.T) {
		ch := windowed{channeltest.NewRecorder(channel.WhatsApp)}
		tpl := &channel.Template{Name: "reply_waiting", Language: "es"}
		f := setup(t, func(c *agent.Config) {
			c.Channels = []channel.Channel{ch}
			c.WindowTemplate = tpl
		}, llmtest.Reply("sí"))
		f.receive(t, late)
		assert.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome)
		sent := ch.Sent()
		require.Len(t, sent, 1)
		assert.Equal(t, tpl, sent[0].Template)
		assert.Empty(t, sent[0].Text)
	})
	t.Run("open window: free-form reply", func(t *testing.T) {
		ch := windowed{channeltest.NewRecorder(channel.WhatsApp)}
		f := setup(t, func(c *agent.Config) { c.Channels = []channel.Channel{ch} }, llmtest.Reply("sí"))
		fresh := late
		fresh.ID, fresh.Time = "wamid.new", time.Now().Add(-time.Minute)
		f.receive(t, fresh)
		assert.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome)
		assert.Equal(t, channel.Text("sí"), ch.Sent()[0].Text)
	})
}

func TestSendAttemptsAreRecorded(t *testing.T) {
	f := setup(t, nil, llmtest.Reply("hi"))
	f.ch.FailNext(&channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrRateLimited, Code: 130429, Attempts: 4})
	f.receive(t, text("wamid.1", "51900000021", "hola"))
	ti := f.waitTurns(t, 1)[0]
	hist, err := f.store.History(t.Context(), tenant, ti.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	assert.Equal(t, 4, hist[1].Delivery.Attempts, "the channel's retries land on the outbound record")
	assert.Equal(t, 130429, hist[1].Delivery.ErrorCode)
}

func TestTypingIsShownAgainDuringLongTurns(t *testing.T) {
	f := setup(t, func(c *agent.Config) { c.TypingInterval = time.Millisecond })
	f.model.Push(llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		if err := f.ch.WaitTypings(ctx, 3); err != nil { // the turn is slow: typing repeats
			return nil, err
		}
		return llmtest.Echo{}.Generate(ctx, req)
	}))
	f.receive(t, text("wamid.1", "51900000030", "hola"))
	assert.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome)
	n := len(f.ch.Typings())
	assert.GreaterOrEqual(t, n, 3)
	// After the reply no indicator follows: a later turn's first signal is
	// the next one recorded.
	f.model.Push(llmtest.Reply("ok"))
	f.receive(t, text("wamid.2", "51900000030", "gracias"))
	f.waitTurns(t, 1)
	assert.Equal(t, channel.MessageID("wamid.2"), f.ch.Typings()[n].MessageID, "no indicator was shown after the first reply")
}

// fetcher is a recorder that can fetch media, like WhatsApp.
type fetcher struct {
	*channeltest.Recorder
	files map[string][]byte
}

func (f fetcher) FetchMedia(_ context.Context, _ channel.TenantID, m channel.Media) (io.ReadCloser, error) {
	data, ok := f.files[m.ID]
	if !ok {
		return nil, errors.New("no such media")
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

func TestMediaOfTheAnsweredMessageGoesToTheModel(t *testing.T) {
	jpeg := []byte("\xff\xd8\xff\xe0 a tiny jpeg")
	big := bytes.Repeat([]byte("x"), 2048)
	ch := fetcher{channeltest.NewRecorder(channel.WhatsApp), map[string][]byte{"img-1": jpeg, "pdf-1": []byte("%PDF-1.7"), "big": big}}
	f := setup(t, func(c *agent.Config) {
		c.Channels = []channel.Channel{ch}
		c.MaxMediaBytes = 1024
	})
	f.model.SetDefault(llmtest.Reply("ok"))
	media := func(id string, kind channel.MediaKind, mime string, caption string) channel.Message {
		m := text("wamid."+id, "51900000031", caption)
		m.Type, m.Media = channel.Type(kind), &channel.Media{Kind: kind, ID: id, MIMEType: mime}
		return m
	}
	tests := []struct {
		name string
		msg  channel.Message
		want []llm.Part
	}{
		{"image with caption", media("img-1", channel.Image, "image/jpeg", "is it damaged?"),
			[]llm.Part{llm.TextPart("[image] is it damaged?"), {Kind: llm.KindImage, MIMEType: "image/jpeg", Data: jpeg}}},
		{"pdf document", media("pdf-1", channel.Document, "application/pdf", ""),
			[]llm.Part{llm.TextPart("[document]"), {Kind: llm.KindDocument, MIMEType: "application/pdf", Data: []byte("%PDF-1.7")}}},
		{"other documents are described only", media("pdf-1", channel.Document, "application/zip", ""),
			[]llm.Part{llm.TextPart("[document]")}},
		{"too large: described only", media("big", channel.Image, "image/png", ""),
			[]llm.Part{llm.TextPart("[image]")}},
		{"fetch fails: described only", media("gone", channel.Image, "image/png", ""),
			[]llm.Part{llm.TextPart("[image]")}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.msg.ID = channel.MessageID(fmt.Sprintf("wamid.media.%d", i))
			f.receive(t, tt.msg)
			require.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome)
			reqs := f.model.Requests()
			msgs := reqs[len(reqs)-1].Messages
			last := msgs[len(msgs)-1]
			assert.Equal(t, tt.want, last.Parts)
		})
	}
	assert.Contains(t, f.logs.String(), "agent: fetching media failed")
}

// crashedTurn records what an agent that crashed mid-turn leaves in st: an
// inbound message still pending and, if state is not nil, the reply it had
// recorded, in that delivery state.
func crashedTurn(t *testing.T, st store.ConversationStore, user string, state *channel.DeliveryState, recorded time.Time) store.Message {
	t.Helper()
	ap, err := st.AppendInbound(t.Context(), text("wamid.crash", user, "¿llegó mi pedido?"))
	require.NoError(t, err)
	if state != nil {
		out := &channel.Outbound{To: addr(user), Text: "Sí, llegó ayer."}
		rec, err := st.Append(t.Context(), store.Message{Tenant: tenant, Conversation: ap.Message.Conversation, Turn: ap.Message.ID,
			Role: store.Assistant, Time: recorded, Parts: []llm.Part{llm.TextPart("Sí, llegó ayer.")}, Outbound: out})
		require.NoError(t, err)
		if *state != channel.Pending {
			_, err = st.UpdateDelivery(t.Context(), tenant, store.DeliveryUpdate{ID: rec.ID, ProviderID: "wamid.out.1", State: *state, Attempts: 1})
			require.NoError(t, err)
		}
	}
	return ap.Message
}

func TestInterruptedTurnsAreNotAnsweredTwice(t *testing.T) {
	state := func(s channel.DeliveryState) *channel.DeliveryState { return &s }
	tests := []struct {
		name     string
		prior    *channel.DeliveryState
		recorded time.Duration // before now
		outcome  agent.Outcome
		reason   string
		sent     []channel.Text
		calls    int
	}{
		{"no reply recorded: answered", nil, 0, agent.Answered, "", []channel.Text{"nuevo"}, 1},
		{"reply sent before the crash: not sent again", state(channel.Sent), time.Hour, agent.Answered, "already_sent", nil, 0},
		{"reply delivered: not sent again", state(channel.Delivered), time.Hour, agent.Answered, "already_sent", nil, 0},
		{"send outcome unknown, recent: wait for a status", state(channel.Pending), 0, agent.Retrying, "send_unknown", nil, 0},
		{"send outcome unknown, no status for long: the same reply again", state(channel.Pending), time.Hour, agent.Answered, "resent", []channel.Text{"Sí, llegó ayer."}, 0},
		{"reply failed: answered anew", state(channel.Failed), time.Hour, agent.Answered, "", []channel.Text{"nuevo"}, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := memory.New(nil)
			user := fmt.Sprintf("5190000006%d", i)
			m := crashedTurn(t, st, user, tt.prior, time.Now().Add(-tt.recorded))
			f := &fixture{store: st, model: llmtest.NewScripted(llmtest.Reply("nuevo")), ch: channeltest.NewRecorder(channel.WhatsApp), turns: make(chan agent.TurnInfo, 10), logs: &syncBuffer{}}
			a, err := agent.New(agent.Config{Store: st, Model: f.model, Channels: []channel.Channel{f.ch}, CoalesceWindow: -1,
				Logger: slog.New(slog.DiscardHandler),
				Hooks:  agent.Hooks{TurnDone: func(ti agent.TurnInfo) { f.turns <- ti }}})
			require.NoError(t, err)
			f.agent = a
			f.start(t) // the restart: recovery finds the pending message
			ti := f.waitTurns(t, 1)[0]
			assert.Equal(t, m.ID, ti.Message)
			assert.Equal(t, tt.outcome, ti.Outcome)
			assert.Equal(t, tt.reason, ti.Reason)
			var sent []channel.Text
			for _, o := range f.ch.Sent() {
				sent = append(sent, o.Text)
			}
			assert.Equal(t, tt.sent, sent)
			assert.Equal(t, tt.calls, f.model.Calls())
		})
	}
}

func newMemory() *memory.Store { return memory.New(nil) }

func newRecorder() *channeltest.Recorder { return channeltest.NewRecorder(channel.WhatsApp) }

func TestNotEveryMessageNeedsAnAnswer(t *testing.T) {
	f := setup(t, nil)
	f.model.SetDefault(echoLast())
	reaction := text("wamid.r", "51900000080", "")
	reaction.Type, reaction.Reaction = channel.TypeReaction, &channel.Reaction{MessageID: "out-1", Emoji: "👍"}
	changed := text("wamid.s", "51900000080", "")
	changed.Type, changed.System = channel.TypeSystem, &channel.SystemNote{Kind: "customer_changed_number"}
	welcome := text("wamid.w", "51900000081", "")
	welcome.Type, welcome.System = channel.TypeSystem, &channel.SystemNote{Kind: "request_welcome"}

	f.receive(t, reaction)
	f.receive(t, changed)
	f.receive(t, welcome)
	got := f.waitTurns(t, 3)
	// The two contacts' turns run concurrently, in either order.
	var outcomes []string
	for _, ti := range got {
		outcomes = append(outcomes, string(ti.Outcome)+":"+ti.Reason)
	}
	assert.ElementsMatch(t, []string{"skipped:no_reply_needed", "skipped:no_reply_needed", "answered:"}, outcomes)
	assert.Len(t, f.ch.Sent(), 1, "only the customer who opened the chat is greeted")
}

func TestUncertainSendWaitsForAStatus(t *testing.T) {
	f := setup(t, func(c *agent.Config) { c.RetryDelay = time.Hour }, llmtest.Reply("hi"))
	f.ch.FailNext(&channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, Err: channel.ErrUncertain})
	f.receive(t, text("wamid.1", "51900000082", "hola"))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Retrying, ti.Outcome, "the reply may have gone out")
	assert.Equal(t, "send_unknown", ti.Reason)
	hist, err := f.store.History(t.Context(), tenant, ti.Conversation, store.HistoryQuery{})
	require.NoError(t, err)
	assert.Equal(t, channel.Pending, hist[1].Delivery.State, "not recorded as failed: its fate is unknown")
	assert.False(t, channel.Retryable(&channel.Error{Kind: channel.ErrUnavailable, Err: channel.ErrUncertain}))
}
