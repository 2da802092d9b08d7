package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/privacy/redact"
	"github.com/wagent/wagent/store"
)

// persistTimeout bounds the writes that record the outcome of a turn. They
// run even when the turn's context is done: a reply that went out must be
// recorded as sent.
const persistTimeout = 10 * time.Second

// turn handles the inbound messages of one conversation answered together
// (one, or several coalesced): gates, history, the model and its tools, then
// records and sends the reply and records the outcome on every message.
type turn struct {
	a    *Agent
	ctx  context.Context
	msgs []store.Message // answered together, in order
	m    store.Message   // the latest of msgs: the history runs through it
	conv store.Conversation
	ch   channel.Channel
	info Turn
	// steps and usage count the model calls.
	steps int
	usage llm.Usage
	// operator marks the sending of an operator's message, outside any
	// turn of the agent's workers.
	operator bool
	// sess replaces personal data by placeholders for the model, when a
	// redactor is configured.
	sess *redact.Session
	// erased reports that the turn erased its subject: nothing more of the
	// conversation may be recorded.
	erased bool
	// minorFlagged reports that the model flagged the subject as a minor.
	minorFlagged atomic.Bool
	// tags are the turn's intent and extracted values, when tagged.
	tags store.Tags
}

// outcome is how a turn ended: reason is set for skipped and failed turns.
type outcome struct {
	kind   Outcome
	reason string
	err    error
}

func skip(reason string) outcome { return outcome{kind: Skipped, reason: reason} }

func fail(reason string, err error) outcome { return outcome{kind: Failed, reason: reason, err: err} }

// errAbandoned marks a send cut short because the agent was stopped.
var errAbandoned = errors.New("agent: stopped while sending")

// turn runs a turn over msgs and records its outcome. It reports whether
// the messages were left pending, to be tried again later (the turn failed
// for a reason that may pass, or the agent is stopping); later messages of
// the conversation must then wait.
func (a *Agent) turn(msgs []store.Message) (pending bool) {
	start := time.Now()
	a.n.activeTurns.Add(1)
	defer a.n.activeTurns.Add(-1)
	ctx, cancel := context.WithTimeout(a.runCtx, a.cfg.TurnTimeout)
	defer cancel()

	t := &turn{a: a, ctx: ctx, msgs: msgs, m: msgs[len(msgs)-1]}
	out := t.run()
	if a.runCtx.Err() != nil && out.kind != Answered {
		// The agent was stopped mid-turn. The messages stay pending and are
		// processed again on the next start. (A turn whose reply went out is
		// recorded as answered whatever happens, so it is never answered
		// twice.)
		a.log.LogAttrs(ctx, slog.LevelDebug, "agent: turn abandoned at shutdown",
			slog.String(logkey.Tenant, string(t.m.Tenant)), slog.Int64(logkey.Message, int64(t.m.ID)))
		return true
	}
	if out.kind == Failed && ctx.Err() != nil {
		out.reason, out.err = "timeout", fmt.Errorf("agent: turn exceeded %s: %w", a.cfg.TurnTimeout, out.err)
	}
	if out.kind == Failed {
		t.apologize(out)
		if mayPass(out.reason) {
			out.kind = Retrying
		}
	}
	return t.finish(out, time.Since(start))
}

// needsAnswer reports whether a customer's message calls for a reply.
// Reactions and the provider's notices (a changed number) do not; they are
// recorded and shown to the model with the next message. WhatsApp's
// request_welcome (the customer opened the chat) does: it is greeted.
func needsAnswer(m store.Message) bool {
	in := m.Inbound
	switch {
	case in == nil:
		return true
	case in.Type == channel.TypeReaction:
		return false
	case in.Type == channel.TypeSystem:
		return in.System != nil && in.System.Kind == "request_welcome"
	}
	return true
}

// mayPass reports whether a turn that failed for reason may succeed later.
func mayPass(reason string) bool {
	switch reason {
	case "timeout", "store", "model_rate_limited", "model_unavailable", "send_unknown", "privacy":
		return true
	}
	return false
}

// apologize tells the customer, once per message, that their message could
// not be answered yet, when Config.Apology is set and the model is what
// failed (a failing channel would not carry the apology either).
func (t *turn) apologize(out outcome) {
	if t.a.cfg.Apology == "" || t.ch == nil || t.m.Processing.Attempts > 0 || strings.HasPrefix(out.reason, "send_") || out.reason == "store" {
		return
	}
	if _, err := t.deliver(store.System, nil, channel.Outbound{To: t.conv.Address, Text: channel.Text(t.a.cfg.Apology)}); err != nil {
		t.a.log.LogAttrs(t.ctx, slog.LevelWarn, "agent: sending the apology failed",
			slog.String(logkey.Tenant, string(t.m.Tenant)), slog.String(logkey.Conversation, string(t.m.Conversation)), slog.Any(logkey.Error, err))
	}
}

func (t *turn) run() outcome {
	a, ctx, m := t.a, t.ctx, t.m
	conv, err := a.cfg.Store.Conversation(ctx, m.Tenant, m.Conversation)
	if err != nil {
		return fail("store", err)
	}
	t.conv = conv
	t.info = Turn{Tenant: m.Tenant, Address: conv.Address, Conversation: conv.ID, Subject: conv.Subject, Message: m.ID}
	t.ch = a.channels[conv.Address.Channel]

	if a.priv.commands && t.ch != nil {
		if out, ok := t.privacyCommands(); ok {
			t.tagRule(IntentPrivacyRequest)
			return out
		}
	}
	if conv.Handoff.Owner == store.OwnerHuman {
		for _, msg := range t.msgs {
			a.notify(ctx, HandoffEvent{Kind: CustomerWrote, Tenant: m.Tenant, Conversation: conv.ID, Message: msg.ID, Operator: conv.Handoff.Operator})
		}
		t.placeCartOrders() // a cart is an order whoever answers
		return skip("handoff")
	}
	if a.cfg.Consent != nil {
		st, err := a.cfg.Consent.State(ctx, m.Tenant, conv.Subject, privacy.PurposeAssistant)
		if err != nil {
			return fail("consent_check", err)
		}
		if st.Status == privacy.ConsentWithdrawn {
			t.noticeRestricted(st)
			return skip("objection")
		}
	}
	if t.ch == nil {
		return fail("no_channel", fmt.Errorf("agent: no channel named %q", conv.Address.Channel))
	}
	if out, over := t.overLimit(); over {
		return out
	}
	if !slices.ContainsFunc(t.msgs, needsAnswer) {
		return skip("no_reply_needed")
	}
	if a.wantsHuman(t.msgs) {
		t.tagRule(IntentHumanRequest)
		return t.handOver("customer_request")
	}
	stopTyping := a.keepTyping(ctx, t.ch, conv.Address, m.ProviderID)
	defer stopTyping()

	hist, err := a.cfg.Store.History(ctx, m.Tenant, m.Conversation, store.HistoryQuery{Through: m.ID, Limit: max(a.cfg.HistoryLimit, len(t.msgs))})
	if err != nil {
		return fail("store", err)
	}
	if out, settled := t.reconcile(hist); settled {
		return out
	}
	notes, out, routed := t.route(hist)
	if routed {
		return out
	}
	req := &llm.Request{System: t.instructions(notes), Messages: historyMessages(hist, a.fetchMedia(ctx, t.ch, t.msgs)), Tools: a.toolDefs}
	if r := a.priv.redactor; r != nil {
		t.sess = r.Session(m.Tenant)
		req.Messages = redactMessages(t.sess, req.Messages)
		defer t.countRedacted()
	}
	resp, out := t.generate(req)
	if resp == nil {
		return out
	}
	stopTyping() // the reply hides the indicator; do not show it again
	return t.afterReply(hist, resp, t.reply(resp))
}

// overLimit applies the per-contact limit to the turn's messages. Over it,
// the contact is told once, and the turn ends with the outcome returned.
func (t *turn) overLimit() (outcome, bool) {
	a, m := t.a, t.m
	ok, notify := a.limits.take(lane{tenant: m.Tenant, conv: m.Conversation}, len(t.msgs), time.Now())
	if ok {
		return outcome{}, false
	}
	a.n.throttled.Add(int64(len(t.msgs)))
	if notify {
		if _, err := t.deliver(store.System, nil, channel.Outbound{To: t.conv.Address, Text: channel.Text(a.cfg.ContactLimitNotice)}); err != nil {
			a.log.LogAttrs(t.ctx, slog.LevelWarn, "agent: sending the contact limit notice failed",
				slog.String(logkey.Tenant, string(m.Tenant)), slog.String(logkey.Conversation, string(m.Conversation)), slog.Any(logkey.Error, err))
		}
	}
	return skip("contact_limit"), true
}

// countRedacted reports the values the turn's session replaced.
func (t *turn) countRedacted() {
	if n := t.sess.Len(); n > 0 {
		t.a.n.redacted.Add(int64(n))
		pi := t.privacyInfo(PrivacyRedacted, t.m.ID)
		pi.Count = n
		t.a.privacyEvent(t.ctx, pi)
	}
}

// restored returns the model's parts as they are recorded and sent: with
// the values of the session's placeholders back.
func (t *turn) restored(parts []llm.Part) []llm.Part {
	if t.sess == nil {
		return parts
	}
	return mapParts(parts, t.sess.Restore)
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
		if len(resp.Message.ToolCalls()) == 0 {
			return resp, outcome{}
		}
		if t.steps >= a.cfg.MaxSteps {
			return nil, fail("max_steps", fmt.Errorf("agent: model still calling tools after %d steps", t.steps))
		}
		// The tools get, and the store keeps, the values the model saw as
		// placeholders.
		asked := llm.Message{Role: resp.Message.Role, Parts: t.restored(resp.Message.Parts)}
		calls := asked.ToolCalls()
		if _, err := a.cfg.Store.Append(ctx, t.record(store.Assistant, asked.Parts, nil)); err != nil {
			return nil, fail("store", err)
		}
		if toolCtx == nil {
			toolCtx = context.WithValue(ctx, turnKey{}, &t.info)
		}
		results := llm.Message{Role: llm.ToolRole, Parts: t.runTools(toolCtx, calls)}
		if _, err := a.cfg.Store.Append(ctx, t.record(store.Tool, results.Parts, nil)); err != nil {
			return nil, fail("store", err)
		}
		for _, c := range calls {
			if c.Name == handoffTool && !a.cfg.Handoff.DisableTool {
				return nil, t.handOver("tool") // the notice is the answer
			}
		}
		if t.minorFlagged.Load() {
			return nil, t.endForMinor()
		}
		if t.sess != nil {
			results.Parts = mapParts(results.Parts, t.sess.Redact)
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
	} else if c.Name == handoffTool && !a.cfg.Handoff.DisableTool {
		content = "The conversation is handed to a human operator, who will reply to the customer."
	} else if c.Name == minorTool && a.cfg.Privacy.MinorTool {
		content, err = t.flagMinor(ctx, c.Args)
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

// reply sends the model's answer.
func (t *turn) reply(resp *llm.Response) outcome {
	answer := llm.Message{Role: resp.Message.Role, Parts: t.restored(resp.Message.Parts)}
	text := answer.Text()
	if strings.TrimSpace(text) == "" {
		if resp.FinishReason == llm.FinishBlocked {
			return fail("model_blocked", fmt.Errorf("agent: the model's answer was blocked: %w", llm.ErrContentBlocked))
		}
		return fail("empty_reply", errors.New("agent: the model answered with no text"))
	}
	_, err := t.deliver(store.Assistant, answer.Parts, channel.Outbound{To: t.conv.Address, Text: channel.Text(text)})
	switch {
	case errors.Is(err, errAbandoned):
		return outcome{} // the caller abandons the turn
	case errors.Is(err, errRecording):
		return fail("store", err)
	case err != nil:
		return fail(sendReason(err), err)
	}
	return outcome{kind: Answered}
}

// errRecording marks a message that could not be recorded, and so was not
// sent.
var errRecording = errors.New("agent: recording the outgoing message failed")

// deliver records an outgoing message of the conversation (role and model
// parts as given), then sends it. Recording first means nothing is sent
// without a trace, and the delivery statuses find the record through the
// correlation data. Outside the channel's customer-service window,
// Config.WindowTemplate is sent instead, or nothing is attempted and the
// record fails with channel.ErrWindowClosed. A marketing template is
// neither recorded nor sent without the subject's consent to marketing:
// the error wraps privacy.ErrNoConsent.
func (t *turn) deliver(role store.Role, parts []llm.Part, out channel.Outbound) (store.Message, error) {
	if out.Template == nil && t.a.windowClosed(t.ch, t.conv, out.Human) && t.a.cfg.WindowTemplate != nil {
		tpl := *t.a.cfg.WindowTemplate
		out.Text, out.Template = "", &tpl
	}
	if out.Template != nil && out.Template.Category == channel.CategoryMarketing {
		if err := t.a.marketingAllowed(t.ctx, t.conv.Address.Tenant, t.conv.Subject); err != nil {
			return store.Message{}, err
		}
	}
	rec, err := t.a.cfg.Store.Append(t.ctx, t.record(role, parts, &out))
	if err != nil {
		return rec, fmt.Errorf("%w: %w", errRecording, err)
	}
	return rec, t.send(rec)
}

// send sends the recorded outgoing message rec through the turn's channel
// and records the delivery: sent with the provider's id, or failed with its
// error code and the attempts made.
func (t *turn) send(rec store.Message) error {
	a, ctx, ch := t.a, t.ctx, t.ch
	out := rec.Outbound.Clone()
	out.Correlation = rec.ID.Correlation()
	start := time.Now()
	var sent channel.SendResult
	var sendErr error
	attempted := out.Template != nil || !a.windowClosed(ch, t.conv, out.Human)
	if attempted {
		sent, sendErr = ch.Send(ctx, out)
	} else {
		sendErr = &channel.Error{Channel: ch.Name(), Kind: channel.ErrWindowClosed}
	}
	if h := a.cfg.Hooks.Sent; h != nil {
		h(SentInfo{Tenant: rec.Tenant, Channel: ch.Name(), Conversation: rec.Conversation, Message: rec.ID, Duration: time.Since(start), Err: sendErr})
	}
	if !t.operator && a.runCtx.Err() != nil && sendErr != nil {
		return errAbandoned
	}
	u := store.DeliveryUpdate{ID: rec.ID, State: channel.Sent, Attempts: rec.Delivery.Attempts + max(1, sent.Attempts), Time: time.Now()}
	if sendErr != nil {
		a.n.sendErrors.Add(1)
		u.State = channel.Failed
		if errors.Is(sendErr, channel.ErrUncertain) {
			u.State = channel.Pending // it may have gone out: a status will tell
		}
		var ce *channel.Error
		if errors.As(sendErr, &ce) {
			u.ErrorCode, u.Attempts = ce.Code, rec.Delivery.Attempts+max(1, ce.Attempts)
		}
		if !attempted {
			u.Attempts = rec.Delivery.Attempts
		}
	} else {
		a.n.sent.Add(1)
		if len(sent.IDs) > 0 {
			u.ProviderID = sent.IDs[0]
		}
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
	defer cancel()
	if _, err := a.cfg.Store.UpdateDelivery(pctx, rec.Tenant, u); err != nil {
		a.log.LogAttrs(ctx, slog.LevelError, "agent: recording delivery failed",
			slog.String(logkey.Tenant, string(rec.Tenant)), slog.Int64(logkey.Message, int64(rec.ID)), slog.Any(logkey.Error, err))
	}
	return sendErr
}

// reconcile looks, before answering, for the replies earlier attempts at
// this turn's messages recorded (the agent stopped or crashed between
// recording, sending and recording the outcome), so that a customer never
// gets two answers to one message and never loses one. A coalesced turn
// answers several messages, and an earlier attempt may have answered only
// the first of them, so every message of the turn is looked at, in order.
// A reply whose fate is unknown and may still be told by a delivery status
// settles the turn (retry later); one never confirmed for ResendAfter is
// sent again, the same text. It returns the outcome to record and true
// when the turn is settled: the latest message has its reply, or the turn
// must wait; false when the model is still to answer (what was sent is in
// the history it sees).
func (t *turn) reconcile(hist []store.Message) (outcome, bool) {
	prior := make(map[store.MessageID]*store.Message, len(t.msgs))
	for _, m := range t.msgs {
		prior[m.ID] = nil
	}
	for i := range hist {
		if r := &hist[i]; r.Role == store.Assistant && r.Outbound != nil {
			if _, ok := prior[r.Turn]; ok {
				prior[r.Turn] = r
			}
		}
	}
	for _, m := range t.msgs {
		p, latest := prior[m.ID], m.ID == t.m.ID
		switch {
		case p == nil || p.Delivery.State == channel.Failed:
			continue // nothing went out for m
		case p.Delivery.State != channel.Pending:
			if latest {
				return outcome{kind: Answered, reason: "already_sent"}, true
			}
			continue
		case time.Since(p.Time) < t.a.cfg.ResendAfter:
			return outcome{kind: Failed, reason: "send_unknown", err: errors.New("agent: an earlier reply's delivery is unknown; waiting for its status")}, true
		}
		err := t.send(*p)
		switch {
		case errors.Is(err, errAbandoned):
			return outcome{}, true
		case err != nil:
			return fail(sendReason(err), err), true
		case latest:
			return outcome{kind: Answered, reason: "resent"}, true
		}
	}
	return outcome{}, false
}

// windowClosed reports whether conv's customer-service window on ch, if
// ch has one, has closed for a message written by a person (human) or by
// the assistant.
func (a *Agent) windowClosed(ch channel.Channel, conv store.Conversation, human bool) bool {
	closes, ok := window(ch, conv, human)
	return ok && time.Now().After(closes)
}

// window returns when conv's customer-service window on ch closes: the
// channel's ServiceWindow after the customer last wrote, or for a message
// written by a person its HumanAgentWindow when longer. ok is false when ch
// has no window or the customer never wrote.
func window(ch channel.Channel, conv store.Conversation, human bool) (closes time.Time, ok bool) {
	w, isWindowed := ch.(channel.Windowed)
	if !isWindowed || conv.LastInboundAt.IsZero() {
		return time.Time{}, false
	}
	d := w.ServiceWindow()
	if hw, ok := ch.(channel.HumanWindowed); ok && human {
		d = max(d, hw.HumanAgentWindow())
	}
	return conv.LastInboundAt.Add(d), true
}

// record returns a new record of the turn's conversation.
func (t *turn) record(role store.Role, parts []llm.Part, out *channel.Outbound) store.Message {
	return store.Message{Tenant: t.m.Tenant, Conversation: t.m.Conversation, Turn: t.m.ID, Role: role, Parts: parts, Outbound: out}
}

// finish records the outcome of the turn on each of its messages, and
// reports whether they stay pending for another attempt. A message whose
// attempts are used up fails for good.
// recordOutcome sets the processing state of a turn's messages, all of
// tenant, in one write when the store can, and reports whether any is
// gone.
func (a *Agent) recordOutcome(ctx context.Context, tenant channel.TenantID, updates []store.ProcessingUpdate) (gone bool, err error) {
	if a.batcher != nil && len(updates) > 1 {
		missing, err := a.batcher.SetProcessingBatch(ctx, tenant, updates)
		return len(missing) > 0, err
	}
	var errs []error
	for _, u := range updates {
		if err := a.cfg.Store.SetProcessing(ctx, tenant, u.ID, u.Processing); errors.Is(err, store.ErrNotFound) {
			gone = true
		} else if err != nil {
			errs = append(errs, err)
		}
	}
	return gone, errors.Join(errs...)
}

func (t *turn) finish(out outcome, d time.Duration) (pending bool) {
	a, m := t.a, t.m
	now := time.Now()
	level := slog.LevelDebug
	switch out.kind {
	case Answered:
		a.n.answered.Add(1)
	case Skipped:
		a.n.skipped.Add(1)
	case Retrying:
		level = slog.LevelWarn
	default:
		out.kind = Failed
		level = slog.LevelWarn
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), persistTimeout)
	defer cancel()
	retried, failed := false, false
	msgs := t.msgs
	if t.erased {
		msgs = nil // erased with their subject: nothing to record the outcome on
	}
	updates := make([]store.ProcessingUpdate, 0, len(msgs))
	for _, msg := range msgs {
		p := store.Processing{Attempts: msg.Processing.Attempts + 1, Reason: out.reason, UpdatedAt: now}
		switch out.kind {
		case Answered:
			p.State = store.ProcessDone
		case Skipped:
			p.State = store.ProcessSkipped
		case Retrying:
			if p.Attempts < a.cfg.MaxAttempts {
				p.State, retried = store.ProcessPending, true
			} else {
				p.State, failed = store.ProcessFailed, true
			}
		default:
			p.State, failed = store.ProcessFailed, true
		}
		updates = append(updates, store.ProcessingUpdate{ID: msg.ID, Processing: p})
	}
	// Messages erased (a data-subject request) or purged while the turn
	// ran leave nothing to record the outcome on, and nothing to retry.
	gone, err := a.recordOutcome(pctx, m.Tenant, updates)
	if err != nil {
		level = slog.LevelError
		out.err = errors.Join(out.err, fmt.Errorf("agent: recording the outcome: %w", err))
	}
	if gone {
		if out.kind != Skipped && out.kind != Answered {
			a.n.skipped.Add(1)
			out.kind = Skipped
		}
		retried, failed = false, false
		out.reason, level = "erased", slog.LevelInfo
	}
	if retried {
		a.n.retries.Add(1)
	}
	if failed {
		a.n.failed.Add(1)
		if !retried {
			out.kind = Failed
		}
	}
	a.log.LogAttrs(t.ctx, level, "agent: turn "+string(out.kind),
		slog.String(logkey.Tenant, string(m.Tenant)),
		slog.String(logkey.Conversation, string(m.Conversation)),
		slog.Int64(logkey.Message, int64(m.ID)),
		slog.Int(logkey.Messages, len(t.msgs)),
		slog.String(logkey.Reason, out.reason),
		slog.Int(logkey.Steps, t.steps),
		slog.Duration(logkey.Duration, d),
		slog.Any(logkey.Error, out.err))
	if h := a.cfg.Hooks.TurnDone; h != nil {
		h(TurnInfo{Tenant: m.Tenant, Conversation: m.Conversation, Message: m.ID, Messages: len(t.msgs), Outcome: out.kind, Reason: out.reason, Steps: t.steps, Usage: t.usage, Duration: d, Err: out.err,
			Intent: t.tags.Intent, Sentiment: t.tags.Sentiment})
	}
	return retried
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

// fetchMedia downloads the image, voice note or document of each message
// being answered, for channels that can, and returns them as parts for the
// model by record id. Media that is too large, of another kind, or that
// cannot be fetched is left to its description in words.
func (a *Agent) fetchMedia(ctx context.Context, ch channel.Channel, msgs []store.Message) map[store.MessageID]llm.Part {
	f, ok := ch.(channel.MediaFetcher)
	if !ok {
		return nil
	}
	var parts map[store.MessageID]llm.Part
	for _, m := range msgs {
		if m.Inbound == nil || m.Inbound.Media == nil {
			continue
		}
		media := *m.Inbound.Media
		var kind llm.PartKind
		switch {
		case media.Kind == channel.Image || media.Kind == channel.Sticker:
			kind = llm.KindImage
		case media.Kind == channel.Audio:
			kind = llm.KindAudio
		case media.Kind == channel.Document && media.MIMEType == "application/pdf":
			kind = llm.KindDocument
		default:
			continue
		}
		if media.Size > a.cfg.MaxMediaBytes {
			continue
		}
		data, err := a.readMedia(ctx, f, m.Tenant, media)
		if err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "agent: fetching media failed",
				slog.String(logkey.Tenant, string(m.Tenant)), slog.Int64(logkey.Message, int64(m.ID)), slog.Any(logkey.Error, err))
			continue
		}
		if parts == nil {
			parts = make(map[store.MessageID]llm.Part)
		}
		parts[m.ID] = llm.Part{Kind: kind, MIMEType: media.MIMEType, Data: data, Filename: media.Filename}
	}
	return parts
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
		{privacy.ErrNoConsent, "no_consent"},
		{channel.ErrUncertain, "send_unknown"},
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
