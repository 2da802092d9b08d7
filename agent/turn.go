package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

// persistTimeout bounds the writes that record the outcome of a turn. They
// run even when the turn's context is done: a reply that went out must be
// recorded as sent.
const persistTimeout = 10 * time.Second

// turn handles one inbound message: gates, history, the model and its tools,
// then records and sends the reply and records the outcome.
type turn struct {
	a     *Agent
	ctx   context.Context
	m     store.Message
	conv  store.Conversation
	info  Turn
	steps int
	usage llm.Usage
}

// outcome is how a turn ended: reason is set for skipped and failed turns.
type outcome struct {
	kind   Outcome
	reason string
	err    error
}

func skip(reason string) outcome { return outcome{kind: Skipped, reason: reason} }

func fail(reason string, err error) outcome { return outcome{kind: Failed, reason: reason, err: err} }

func (a *Agent) turn(m store.Message) {
	start := time.Now()
	a.n.activeTurns.Add(1)
	defer a.n.activeTurns.Add(-1)
	ctx, cancel := context.WithTimeout(a.runCtx, a.cfg.TurnTimeout)
	defer cancel()

	t := &turn{a: a, ctx: ctx, m: m}
	out := t.run()
	if a.runCtx.Err() != nil && out.kind != Answered {
		// The agent was stopped mid-turn. The message stays pending and is
		// processed again on the next start. (A turn whose reply went out is
		// recorded as answered whatever happens, so it is never answered
		// twice.)
		a.log.LogAttrs(ctx, slog.LevelDebug, "agent: turn abandoned at shutdown",
			slog.String(logkey.Tenant, string(m.Tenant)), slog.Int64(logkey.Message, int64(m.ID)))
		return
	}
	if out.kind == Failed && ctx.Err() != nil {
		out.reason, out.err = "timeout", fmt.Errorf("agent: turn exceeded %s: %w", a.cfg.TurnTimeout, out.err)
	}
	t.finish(out, time.Since(start))
}

func (t *turn) run() outcome {
	a, ctx, m := t.a, t.ctx, t.m
	conv, err := a.cfg.Store.Conversation(ctx, m.Tenant, m.Conversation)
	if err != nil {
		return fail("store", err)
	}
	t.conv = conv
	t.info = Turn{Tenant: m.Tenant, Address: conv.Address, Conversation: conv.ID, Subject: conv.Subject, Message: m.ID}

	if conv.Handoff.Owner == store.OwnerHuman {
		return skip("handoff")
	}
	if a.cfg.Consent != nil {
		st, err := a.cfg.Consent.State(ctx, m.Tenant, conv.Subject, privacy.PurposeAssistant)
		if err != nil {
			return fail("consent_check", err)
		}
		if st.Status == privacy.ConsentWithdrawn {
			return skip("objection")
		}
	}
	ch := a.channels[conv.Address.Channel]
	if ch == nil {
		return fail("no_channel", fmt.Errorf("agent: no channel named %q", conv.Address.Channel))
	}
	stopTyping := a.keepTyping(ctx, ch, conv.Address, m.ProviderID)
	defer stopTyping()

	hist, err := a.cfg.Store.History(ctx, m.Tenant, m.Conversation, store.HistoryQuery{Through: m.ID, Limit: a.cfg.HistoryLimit})
	if err != nil {
		return fail("store", err)
	}
	msgs := historyMessages(hist)
	if media, ok := a.fetchMedia(ctx, ch, m); ok && len(msgs) > 0 {
		last := &msgs[len(msgs)-1] // the customer's turn, this message last
		last.Parts = append(last.Parts, media)
	}
	req := &llm.Request{System: a.cfg.Instructions, Messages: msgs, Tools: a.toolDefs}
	resp, out := t.generate(req)
	if resp == nil {
		return out
	}
	stopTyping() // the reply hides the indicator; do not show it again
	return t.reply(ch, resp)
}

// generate runs the model, and the tools it calls, until it answers.
func (t *turn) generate(req *llm.Request) (*llm.Response, outcome) {
	a, ctx := t.a, t.ctx
	var toolCtx context.Context
	for {
		t.steps++
		if t.steps == a.cfg.MaxSteps && len(req.Tools) > 0 {
			req.ToolChoice = llm.ToolNone // the last step must answer
		}
		resp, err := t.callModel(req)
		if err != nil {
			return nil, fail(modelReason(err), err)
		}
		calls := resp.Message.ToolCalls()
		if len(calls) == 0 {
			return resp, outcome{}
		}
		if t.steps >= a.cfg.MaxSteps {
			return nil, fail("max_steps", fmt.Errorf("agent: model still calling tools after %d steps", t.steps))
		}
		if _, err := a.cfg.Store.Append(ctx, t.record(store.Assistant, resp.Message.Parts, nil)); err != nil {
			return nil, fail("store", err)
		}
		if toolCtx == nil {
			toolCtx = context.WithValue(ctx, turnKey{}, &t.info)
		}
		results := llm.Message{Role: llm.ToolRole, Parts: t.runTools(toolCtx, calls)}
		if _, err := a.cfg.Store.Append(ctx, t.record(store.Tool, results.Parts, nil)); err != nil {
			return nil, fail("store", err)
		}
		req.Messages = append(req.Messages, resp.Message, results)
	}
}

func (t *turn) callModel(req *llm.Request) (*llm.Response, error) {
	a := t.a
	start := time.Now()
	resp, err := a.cfg.Model.Generate(t.ctx, req)
	a.n.modelCalls.Add(1)
	info := ModelCallInfo{Provider: a.cfg.Model.Name(), Tenant: t.m.Tenant, Conversation: t.m.Conversation, Step: t.steps, Duration: time.Since(start), Err: err}
	if err == nil && resp == nil {
		err = fmt.Errorf("agent: provider %q returned no response and no error", info.Provider)
		info.Err = err
	}
	if err == nil {
		t.usage = t.usage.Add(resp.Usage)
		info.Usage, info.FinishReason = resp.Usage, resp.FinishReason
	}
	if h := a.cfg.Hooks.ModelCall; h != nil {
		h(info)
	}
	return resp, err
}

// runTools runs the calls of one model step, in parallel when there are
// several, and returns their results in the order of the calls.
func (t *turn) runTools(ctx context.Context, calls []llm.ToolCall) []llm.Part {
	parts := make([]llm.Part, len(calls))
	if len(calls) == 1 {
		parts[0] = t.runTool(ctx, calls[0])
		return parts
	}
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parts[i] = t.runTool(ctx, c)
		}()
	}
	wg.Wait()
	return parts
}

func (t *turn) runTool(ctx context.Context, c llm.ToolCall) llm.Part {
	a := t.a
	start := time.Now()
	var content string
	var err error
	if tool, ok := a.tools[c.Name]; ok {
		content, err = callTool(ctx, tool, c.Args)
	} else {
		err = fmt.Errorf("unknown tool %q", c.Name)
	}
	a.n.toolCalls.Add(1)
	if err != nil {
		a.n.toolErrors.Add(1)
		content = err.Error()
		level, attrs := slog.LevelDebug, []slog.Attr{
			slog.String(logkey.Tenant, string(t.m.Tenant)), slog.String(logkey.Conversation, string(t.m.Conversation)),
			slog.String(logkey.Tool, c.Name), slog.Any(logkey.Error, err),
		}
		if p, ok := err.(*toolPanic); ok {
			level = slog.LevelError
			attrs = append(attrs, slog.Any("panic", p.value), slog.String("stack", string(p.stack)))
		}
		a.log.LogAttrs(ctx, level, "agent: tool returned an error", attrs...)
	}
	if h := a.cfg.Hooks.ToolCall; h != nil {
		h(ToolCallInfo{Tool: c.Name, Tenant: t.m.Tenant, Conversation: t.m.Conversation, Duration: time.Since(start), Err: err})
	}
	return llm.ToolResultPart(llm.ToolResult{CallID: c.ID, Name: c.Name, Content: content, IsError: err != nil})
}

// reply records the model's answer in the conversation, then sends it.
// Recording first means a reply is never sent without a trace, and its
// delivery statuses find the record through the correlation data.
func (t *turn) reply(ch channel.Channel, resp *llm.Response) outcome {
	a, ctx := t.a, t.ctx
	text := resp.Message.Text()
	if strings.TrimSpace(text) == "" {
		if resp.FinishReason == llm.FinishBlocked {
			return fail("model_blocked", fmt.Errorf("agent: the model's answer was blocked: %w", llm.ErrContentBlocked))
		}
		return fail("empty_reply", errors.New("agent: the model answered with no text"))
	}
	out := channel.Outbound{To: t.conv.Address, Text: channel.Text(text)}
	windowClosed := a.windowClosed(ch, t.conv)
	if windowClosed && a.cfg.WindowTemplate != nil {
		tpl := *a.cfg.WindowTemplate
		out.Text, out.Template = "", &tpl
	}
	rec, err := a.cfg.Store.Append(ctx, t.record(store.Assistant, resp.Message.Parts, &out))
	if err != nil {
		return fail("store", err)
	}
	out.Correlation = correlation(rec.ID)

	start := time.Now()
	var sent channel.SendResult
	var sendErr error
	if windowClosed && out.Template == nil {
		sendErr = &channel.Error{Channel: ch.Name(), Kind: channel.ErrWindowClosed}
	} else {
		sent, sendErr = ch.Send(ctx, out)
	}
	if h := a.cfg.Hooks.Sent; h != nil {
		h(SentInfo{Tenant: t.m.Tenant, Channel: ch.Name(), Conversation: t.conv.ID, Message: rec.ID, Duration: time.Since(start), Err: sendErr})
	}
	if a.runCtx.Err() != nil && sendErr != nil {
		return outcome{} // stopped mid-send: the caller abandons the turn
	}
	u := store.DeliveryUpdate{ID: rec.ID, State: channel.Sent, Attempts: max(1, sent.Attempts), Time: time.Now()}
	if sendErr != nil {
		a.n.sendErrors.Add(1)
		u.State = channel.Failed
		var ce *channel.Error
		if errors.As(sendErr, &ce) {
			u.ErrorCode, u.Attempts = ce.Code, max(1, ce.Attempts)
		}
		if windowClosed && out.Template == nil {
			u.Attempts = 0 // not attempted
		}
	} else {
		a.n.sent.Add(1)
		if len(sent.IDs) > 0 {
			u.ProviderID = sent.IDs[0]
		}
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
	defer cancel()
	if _, err := a.cfg.Store.UpdateDelivery(pctx, t.m.Tenant, u); err != nil {
		a.log.LogAttrs(ctx, slog.LevelError, "agent: recording delivery failed",
			slog.String(logkey.Tenant, string(t.m.Tenant)), slog.Int64(logkey.Message, int64(rec.ID)), slog.Any(logkey.Error, err))
	}
	if sendErr != nil {
		return fail(sendReason(sendErr), sendErr)
	}
	return outcome{kind: Answered}
}

// windowClosed reports whether conv's customer-service window on ch, if
// the channel has one, has closed: the customer wrote last more than the
// window ago (a backlog processed late, a conversation resumed by an
// operator).
func (a *Agent) windowClosed(ch channel.Channel, conv store.Conversation) bool {
	w, ok := ch.(channel.Windowed)
	return ok && !conv.LastInboundAt.IsZero() && time.Since(conv.LastInboundAt) > w.ServiceWindow()
}

// record returns a new record of the turn's conversation.
func (t *turn) record(role store.Role, parts []llm.Part, out *channel.Outbound) store.Message {
	return store.Message{Tenant: t.m.Tenant, Conversation: t.m.Conversation, Turn: t.m.ID, Role: role, Parts: parts, Outbound: out}
}

// finish records the outcome of the turn on the inbound message.
func (t *turn) finish(out outcome, d time.Duration) {
	a, m := t.a, t.m
	p := store.Processing{Attempts: m.Processing.Attempts + 1, Reason: out.reason, UpdatedAt: time.Now()}
	level := slog.LevelDebug
	switch out.kind {
	case Answered:
		p.State = store.ProcessDone
		a.n.answered.Add(1)
	case Skipped:
		p.State = store.ProcessSkipped
		a.n.skipped.Add(1)
	default:
		out.kind = Failed
		p.State = store.ProcessFailed
		a.n.failed.Add(1)
		level = slog.LevelWarn
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), persistTimeout)
	defer cancel()
	if err := a.cfg.Store.SetProcessing(pctx, m.Tenant, m.ID, p); err != nil {
		level = slog.LevelError
		out.err = errors.Join(out.err, fmt.Errorf("agent: recording the outcome: %w", err))
	}
	a.log.LogAttrs(t.ctx, level, "agent: turn "+string(out.kind),
		slog.String(logkey.Tenant, string(m.Tenant)),
		slog.String(logkey.Conversation, string(m.Conversation)),
		slog.Int64(logkey.Message, int64(m.ID)),
		slog.String(logkey.Reason, out.reason),
		slog.Int(logkey.Steps, t.steps),
		slog.Duration(logkey.Duration, d),
		slog.Any(logkey.Error, out.err))
	if h := a.cfg.Hooks.TurnDone; h != nil {
		h(TurnInfo{Tenant: m.Tenant, Conversation: m.Conversation, Message: m.ID, Outcome: out.kind, Reason: out.reason, Steps: t.steps, Usage: t.usage, Duration: d, Err: out.err})
	}
}

// keepTyping shows the customer that a reply is coming, where the channel
// can, and shows it again every TypingInterval until the returned stop
// function is called; after stop returns, no indicator is shown.
// Failures are logged and otherwise ignored: the indicator is a courtesy.
func (a *Agent) keepTyping(ctx context.Context, ch channel.Channel, to channel.Address, id channel.MessageID) (stop func()) {
	var show func(context.Context, channel.Address, channel.MessageID) error
	if ti, ok := ch.(channel.TypingIndicator); ok {
		show = ti.Typing
	} else if rm, ok := ch.(channel.ReadMarker); ok {
		show = rm.MarkRead // no indicator: at least show the message was read
	}
	if show == nil {
		return func() {}
	}
	signal := func() {
		if err := show(ctx, to, id); err != nil && ctx.Err() == nil {
			a.log.LogAttrs(ctx, slog.LevelDebug, "agent: typing indicator failed", slog.Any(logkey.Address, to), slog.Any(logkey.Error, err))
		}
	}
	signal()
	if _, repeats := ch.(channel.TypingIndicator); !repeats {
		return func() {}
	}
	// The timer re-arms itself; mu makes stop wait for a signal in flight,
	// so that no indicator is shown after the reply.
	var (
		mu      sync.Mutex
		stopped bool
		timer   *time.Timer
	)
	mu.Lock()
	timer = time.AfterFunc(a.cfg.TypingInterval, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped || ctx.Err() != nil {
			return
		}
		signal()
		timer.Reset(a.cfg.TypingInterval)
	})
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		timer.Stop()
	}
}

// fetchMedia downloads the image, voice note or document of the message
// being answered, for channels that can, and returns it as a part for the
// model. Media that is too large, of another kind, or that cannot be
// fetched is left to its description in words.
func (a *Agent) fetchMedia(ctx context.Context, ch channel.Channel, m store.Message) (llm.Part, bool) {
	f, ok := ch.(channel.MediaFetcher)
	if !ok || m.Inbound == nil || m.Inbound.Media == nil {
		return llm.Part{}, false
	}
	media := *m.Inbound.Media
	var kind llm.PartKind
	switch media.Kind {
	case channel.Image, channel.Sticker:
		kind = llm.KindImage
	case channel.Audio:
		kind = llm.KindAudio
	case channel.Document:
		if media.MIMEType != "application/pdf" {
			return llm.Part{}, false
		}
		kind = llm.KindDocument
	default:
		return llm.Part{}, false
	}
	if media.Size > a.cfg.MaxMediaBytes {
		return llm.Part{}, false
	}
	data, err := a.readMedia(ctx, f, m.Tenant, media)
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "agent: fetching media failed",
			slog.String(logkey.Tenant, string(m.Tenant)), slog.Int64(logkey.Message, int64(m.ID)), slog.Any(logkey.Error, err))
		return llm.Part{}, false
	}
	return llm.Part{Kind: kind, MIMEType: media.MIMEType, Data: data, Filename: media.Filename}, true
}

func (a *Agent) readMedia(ctx context.Context, f channel.MediaFetcher, tenant channel.TenantID, media channel.Media) ([]byte, error) {
	r, err := f.FetchMedia(ctx, tenant, media)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, a.cfg.MaxMediaBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > a.cfg.MaxMediaBytes {
		return nil, fmt.Errorf("agent: media larger than %d bytes", a.cfg.MaxMediaBytes)
	}
	return data, nil
}

// modelReason classifies a model failure for store.Processing.Reason.
func modelReason(err error) string {
	for _, c := range [...]struct {
		err    error
		reason string
	}{
		{context.DeadlineExceeded, "timeout"},
		{llm.ErrRateLimited, "model_rate_limited"},
		{llm.ErrUnavailable, "model_unavailable"},
		{llm.ErrContextTooLong, "model_context_too_long"},
		{llm.ErrContentBlocked, "model_blocked"},
		{llm.ErrInvalidRequest, "model_invalid_request"},
		{llm.ErrAuth, "model_auth"},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return "model_error"
}

// sendReason classifies a send failure for store.Processing.Reason.
func sendReason(err error) string {
	for _, c := range [...]struct {
		err    error
		reason string
	}{
		{channel.ErrWindowClosed, "send_window_closed"},
		{channel.ErrRateLimited, "send_rate_limited"},
		{channel.ErrUnavailable, "send_unavailable"},
		{channel.ErrUndeliverable, "send_undeliverable"},
		{channel.ErrInvalidMessage, "send_invalid"},
		{channel.ErrUnsupported, "send_unsupported"},
		{channel.ErrAuth, "send_auth"},
		{context.DeadlineExceeded, "timeout"},
	} {
		if errors.Is(err, c.err) {
			return c.reason
		}
	}
	return "send_error"
}
