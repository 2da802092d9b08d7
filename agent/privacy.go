package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/privacy/redact"
	"github.com/wagent/wagent/store"
)

// PrivacyConfig configures the agent's privacy gates. Every field is
// optional; the zero value recognizes the default opt-out keywords when
// [Config.Consent] is set, and nothing else.
//
// The gates run before the handoff gate and before the restriction gate,
// so that a subject can always opt out, ask for their data, enter a code
// or lift a restriction, whoever owns the conversation. What they handle
// never reaches the model: the agent answers with the texts of the
// privacy engine.
type PrivacyConfig struct {
	// Keywords are the chat commands that grant or withdraw consent
	// ("STOP", "BAJA", "CANCELAR", "SAIR" withdraw marketing; "ACTIVAR"
	// lifts a restriction of the assistant). A message that is a command
	// is recorded in Config.Consent with the message id and text as
	// evidence and confirmed to the subject with the keyword's Reply, in
	// its language. Nil with Config.Consent set: [privacy.DefaultKeywords].
	// Setting Keywords needs Config.Consent.
	Keywords *privacy.Keywords
	// DisableKeywords turns the keyword commands off.
	DisableKeywords bool

	// Requests, when set, handles the data-subject requests subjects make
	// in chat ("borrar mis datos", "delete my data", "apagar meus dados"):
	// the agent opens the request, sends the one-time code of its identity
	// verification in the subject's own conversation when the type needs
	// one (Verify), takes the code the subject writes back (it never
	// reaches the model), tells the due date, and fulfils the types in
	// AutoFulfil once verified. When its configuration has no Sender, the
	// agent sends the codes itself ([Agent.SendText]). Setting Requests
	// needs Config.Consent, the same ledger the requests record in, which
	// is what stops AI processing of restricted subjects.
	Requests *privacy.Requests
	// Detector recognizes requests in messages (nil:
	// [privacy.NewRequestDetector] with the default phrases). It needs
	// Requests.
	Detector *privacy.RequestDetector
	// Verify lists the request types that need identity verification by a
	// code (nil: [DefaultVerify]). The others are opened verified: the
	// subject asked in their own conversation, and they only stop
	// processing.
	Verify []privacy.RequestType
	// AutoFulfil lists the request types fulfilled as soon as they are
	// verified (nil: [DefaultAutoFulfil]). The others wait for staff (see
	// privacy/admin); the subject is told their due date.
	AutoFulfil []privacy.RequestType

	// Redactor, when set, replaces personal data and secrets by
	// placeholders before the model sees them (history, the message being
	// answered, tool results), with one [redact.Session] per turn so that
	// a value keeps its placeholder across the window; the reply gets the
	// values back as the redactor's modes allow per tenant (restored, or
	// masked: cards, passwords and secrets never come back whole). Tool
	// arguments are restored before the tool is called. Inbound messages
	// are stored through [redact.Redactor.Mask], so that values of masked
	// kinds (secrets, passwords, cards) are never stored. Nil: the model
	// sees what the customer wrote.
	Redactor *redact.Redactor

	// MinorTool adds the built-in flag_minor tool, with which the model
	// reports a customer who says they are under the age of
	// Requests.MinorAge: the subject is flagged ([privacy.Requests.FlagMinor]:
	// processing stops and an erasure request is queued for staff) and the
	// turn ends, with MinorNotice when it is set. It needs Requests.
	// Operators flag minors with [Agent.FlagMinor].
	MinorTool   bool
	MinorNotice string

	// RestrictedNotice is told once to a subject who restricted or
	// objected to AI processing when they write again, by language; it
	// says how to lift the restriction. Missing languages use the
	// Restricted text of Requests (or of [privacy.DefaultRequestTexts]),
	// which names the default lifting keywords (ACTIVAR, RESUME, ATIVAR).
	// The notice is only told while keyword commands are on; minors are
	// never told.
	RestrictedNotice map[string]string
	// Lang is the language of notices to subjects whose language is not
	// known from a request of theirs (default [privacy.DefaultLang]).
	Lang string

	// Audit, when set, records the consent decisions of keyword commands.
	// Requests audit themselves with their own configuration.
	Audit *privacy.Audit
}

// DefaultVerify returns the request types verified by a code when
// [PrivacyConfig.Verify] is nil: those that disclose, change or delete
// data (access, export, rectification, erasure).
func DefaultVerify() []privacy.RequestType {
	return []privacy.RequestType{privacy.RequestAccess, privacy.RequestExport, privacy.RequestRectification, privacy.RequestErasure}
}

// DefaultAutoFulfil returns the request types fulfilled at once when
// [PrivacyConfig.AutoFulfil] is nil: erasure, restriction, objection and
// consent withdrawal, which the engine carries out completely. Access and
// export need staff to deliver the bundle; rectification the corrected
// fields.
func DefaultAutoFulfil() []privacy.RequestType {
	return []privacy.RequestType{privacy.RequestErasure, privacy.RequestRestriction, privacy.RequestObjection, privacy.RequestConsentWithdrawal}
}

// The built-in tool with which the model reports a minor.
const minorTool = "flag_minor"

// Reasons of the turns the privacy gates handle, as recorded in
// store.Processing.Reason. A message taken as a verification code is
// never shown to the model, in this turn or later ones.
const (
	reasonPrivacyCode    = "privacy_code"
	reasonPrivacyRequest = "privacy_request"
	reasonPrivacyKeyword = "privacy_keyword"
)

// restrictedNoticeWindow is how many recent records are searched for the
// restriction notice before it is told again.
const restrictedNoticeWindow = 64

func (p PrivacyConfig) check(c Config, tools map[string]bool) []error {
	var errs []error
	if p.Keywords != nil && c.Consent == nil {
		errs = append(errs, errors.New("agent: Config.Privacy.Keywords needs Config.Consent"))
	}
	if p.Requests != nil && c.Consent == nil {
		errs = append(errs, errors.New("agent: Config.Privacy.Requests needs Config.Consent, the ledger the requests record in"))
	}
	if p.Detector != nil && p.Requests == nil {
		errs = append(errs, errors.New("agent: Config.Privacy.Detector needs Config.Privacy.Requests"))
	}
	if p.MinorTool && p.Requests == nil {
		errs = append(errs, errors.New("agent: Config.Privacy.MinorTool needs Config.Privacy.Requests"))
	}
	if p.MinorTool && tools[minorTool] {
		errs = append(errs, fmt.Errorf("agent: tool name %q is the built-in minor tool (unset Privacy.MinorTool to use your own)", minorTool))
	}
	for _, l := range []struct {
		name  string
		types []privacy.RequestType
	}{{"Verify", p.Verify}, {"AutoFulfil", p.AutoFulfil}} {
		for _, rt := range l.types {
			if !slices.Contains(privacy.RequestTypes(), rt) {
				errs = append(errs, fmt.Errorf("agent: Config.Privacy.%s: unknown request type %q", l.name, rt))
			}
		}
	}
	return errs
}

// privacyGates is the resolved PrivacyConfig.
type privacyGates struct {
	keywords   *privacy.Keywords
	requests   *privacy.Requests
	detector   *privacy.RequestDetector
	verify     map[privacy.RequestType]bool
	autoFulfil map[privacy.RequestType]bool
	redactor   *redact.Redactor
	lang       string
	// commands reports that chat messages may be privacy commands.
	commands bool
}

func newPrivacyGates(cfg Config, sender privacy.Sender) (privacyGates, error) {
	p := cfg.Privacy
	g := privacyGates{keywords: p.Keywords, redactor: p.Redactor, lang: p.Lang}
	if g.lang == "" {
		g.lang = privacy.DefaultLang
	}
	if g.keywords == nil && cfg.Consent != nil {
		kw, err := privacy.NewKeywords(nil)
		if err != nil {
			return g, fmt.Errorf("agent: default keywords: %w", err)
		}
		g.keywords = kw
	}
	if p.DisableKeywords {
		g.keywords = nil
	}
	if rs := p.Requests; rs != nil {
		if !rs.HasSender() {
			rs = rs.WithSender(sender)
		}
		g.requests, g.detector = rs, p.Detector
		if g.detector == nil {
			d, err := privacy.NewRequestDetector(nil)
			if err != nil {
				return g, fmt.Errorf("agent: default request phrases: %w", err)
			}
			g.detector = d
		}
	}
	set := func(types, def []privacy.RequestType) map[privacy.RequestType]bool {
		if types == nil {
			types = def
		}
		m := make(map[privacy.RequestType]bool, len(types))
		for _, t := range types {
			m[t] = true
		}
		return m
	}
	g.verify, g.autoFulfil = set(p.Verify, DefaultVerify()), set(p.AutoFulfil, DefaultAutoFulfil())
	g.commands = g.keywords != nil || g.requests != nil
	return g, nil
}

func minorToolDef(age int) llm.Tool {
	return llm.Tool{
		Name: minorTool,
		Description: "Report that the customer is a minor, under " + strconv.Itoa(age) + " years old, when they say so or it is evident. " +
			"Their data is then deleted and the conversation ends: do not answer after calling it.",
		Parameters: json.RawMessage(`{"type":"object","properties":{"age":{"type":"integer","description":"The age the customer gave; 0 when they gave none."}},"additionalProperties":false}`),
	}
}

// PrivacyEvent is what a [PrivacyInfo] reports.
type PrivacyEvent string

// Privacy events.
const (
	// PrivacyConsent: a keyword command granted or withdrew consent.
	PrivacyConsent PrivacyEvent = "consent"
	// PrivacyRequest: a data-subject request was opened in chat (or an
	// open one of the same type found).
	PrivacyRequest PrivacyEvent = "request"
	// PrivacyVerification: the subject entered a verification code; Err
	// is set when it was wrong or expired.
	PrivacyVerification PrivacyEvent = "verification"
	// PrivacyFulfilled: a request made in chat was fulfilled, or refused
	// (Err, a legal hold).
	PrivacyFulfilled PrivacyEvent = "fulfilled"
	// PrivacyRestricted: a restricted subject was told how to lift the
	// restriction.
	PrivacyRestricted PrivacyEvent = "restricted_notice"
	// PrivacyMinor: a subject was flagged as a minor.
	PrivacyMinor PrivacyEvent = "minor"
	// PrivacyRedacted: Count values were replaced by placeholders before
	// the model saw them.
	PrivacyRedacted PrivacyEvent = "redacted"
	// PrivacyMasked: an inbound message had values masked before it was
	// stored.
	PrivacyMasked PrivacyEvent = "masked"
	// PrivacyNoConsent: a marketing template was refused for want of
	// consent.
	PrivacyNoConsent PrivacyEvent = "no_consent"
)

// PrivacyInfo describes an event of the privacy gates. It holds ids,
// never message text, phone numbers or codes.
type PrivacyInfo struct {
	Event        PrivacyEvent
	Tenant       channel.TenantID
	Conversation store.ConversationID
	Subject      store.SubjectID
	// Message is the inbound record concerned, zero when none.
	Message store.MessageID
	// Purpose and Granted are set for PrivacyConsent.
	Purpose privacy.Purpose
	Granted bool
	// Request, RequestType and Status are set for request events.
	Request     privacy.RequestID
	RequestType privacy.RequestType
	Status      privacy.RequestStatus
	// Count is how many values PrivacyRedacted and PrivacyMasked replaced.
	Count int
	Err   error
}

func (a *Agent) privacyEvent(ctx context.Context, pi PrivacyInfo) {
	a.log.LogAttrs(ctx, slog.LevelDebug, "agent: privacy "+string(pi.Event),
		slog.String(logkey.Tenant, string(pi.Tenant)),
		slog.String(logkey.Conversation, string(pi.Conversation)),
		slog.Int64(logkey.Message, int64(pi.Message)),
		slog.String(logkey.Request, string(pi.Request)),
		slog.String(logkey.State, string(pi.Status)),
		slog.Any(logkey.Error, pi.Err))
	if h := a.cfg.Hooks.Privacy; h != nil {
		h(pi)
	}
}

// privacyInfo returns a PrivacyInfo of the turn's conversation about msg.
func (t *turn) privacyInfo(ev PrivacyEvent, msg store.MessageID) PrivacyInfo {
	return PrivacyInfo{Event: ev, Tenant: t.conv.Address.Tenant, Conversation: t.conv.ID, Subject: t.conv.Subject, Message: msg}
}

func requestInfo(pi PrivacyInfo, r privacy.Request) PrivacyInfo {
	pi.Request, pi.RequestType, pi.Status = r.ID, r.Type, r.Status
	return pi
}

// commandText returns the text of a customer's message that may be a
// privacy command.
func commandText(m store.Message) (string, bool) {
	in := m.Inbound
	if in == nil || in.Type != channel.TypeText || in.Text == "" {
		return "", false
	}
	return string(in.Text), true
}

// reasonRank orders the reasons of privacy turns: when one turn handles
// several commands, the highest names it, so that a code is never shown
// to the model whatever came with it.
func reasonRank(r string) int {
	switch r {
	case reasonPrivacyCode:
		return 3
	case reasonPrivacyRequest:
		return 2
	case reasonPrivacyKeyword:
		return 1
	}
	return 0
}

// privacyCommands handles the turn's messages that are privacy commands:
// a verification code, a consent keyword, a data-subject request. It
// reports whether there was any; the turn then ends with the outcome
// returned, without the model.
func (t *turn) privacyCommands() (outcome, bool) {
	a := t.a
	reason := ""
	limited := false
	for _, msg := range t.msgs {
		text, ok := commandText(msg)
		if !ok {
			continue
		}
		got, err := "", error(nil)
		if rs := a.priv.requests; rs != nil {
			r, isCode, verr := rs.VerifyReply(t.ctx, t.conv.Address, text)
			if isCode {
				got, err = reasonPrivacyCode, t.verified(msg, r, verr)
			} else if verr != nil {
				err = verr
			}
		}
		if got == "" && err == nil {
			var kw privacy.Keyword
			var intent privacy.RequestIntent
			isKeyword, isRequest := false, false
			if a.priv.keywords != nil {
				kw, isKeyword = a.priv.keywords.Match(text)
			}
			if !isKeyword && a.priv.detector != nil {
				intent, isRequest = a.priv.detector.Detect(text)
			}
			if !isKeyword && !isRequest {
				continue
			}
			if !limited {
				limited = true
				if out, over := t.overLimit(); over {
					return out, true
				}
			}
			if isKeyword {
				var handled bool
				handled, err = t.keyword(msg, kw)
				if handled {
					got = reasonPrivacyKeyword
				}
			} else {
				got, err = reasonPrivacyRequest, t.request(msg, intent)
			}
		}
		if err != nil {
			return fail("privacy", err), true
		}
		if reasonRank(got) > reasonRank(reason) {
			reason = got
		}
		if t.erased {
			break // nothing of the subject is left to handle
		}
	}
	if reason == "" {
		return outcome{}, false
	}
	return outcome{kind: Answered, reason: reason}, true
}

// evidence is the consent evidence of msg: the message that expressed it.
func (t *turn) evidence(msg store.Message) privacy.Evidence {
	ev := privacy.Evidence{Channel: t.conv.Address.Channel, MessageID: msg.ProviderID}
	if msg.Inbound != nil {
		ev.Text = msg.Inbound.Text
		if ev.MessageID == "" {
			ev.MessageID = msg.Inbound.ID
		}
	}
	return ev
}

// keyword records the decision of a consent command and confirms it. A
// minor's command to lift the restriction of the assistant is not one:
// only staff lift it.
func (t *turn) keyword(msg store.Message, kw privacy.Keyword) (bool, error) {
	a, ctx := t.a, t.ctx
	if kw.Purpose == privacy.PurposeAssistant && kw.Grant {
		minor, err := t.minor()
		if err != nil {
			return false, err
		}
		if minor {
			return false, nil
		}
	}
	rec := kw.Record(t.conv.Address.Tenant, t.conv.Subject, t.evidence(msg), time.Now())
	if err := a.cfg.Consent.Record(ctx, rec); err != nil {
		return false, fmt.Errorf("agent: recording a consent keyword: %w", err)
	}
	a.n.consentChanges.Add(1)
	if au := a.cfg.Privacy.Audit; au != nil {
		status := "withdrawn"
		if kw.Grant {
			status = "granted"
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
		_, err := au.Log(actx, privacy.AuditEvent{Actor: privacy.ActorSubject, Action: privacy.AuditConsent, Tenant: rec.Tenant,
			Subject: rec.Subject, Detail: string(kw.Purpose) + ":" + status})
		cancel()
		if err != nil {
			a.log.LogAttrs(ctx, slog.LevelError, "agent: auditing a consent keyword failed",
				slog.String(logkey.Tenant, string(rec.Tenant)), slog.Int64(logkey.Message, int64(msg.ID)), slog.Any(logkey.Error, err))
		}
	}
	pi := t.privacyInfo(PrivacyConsent, msg.ID)
	pi.Purpose, pi.Granted = kw.Purpose, kw.Grant
	a.privacyEvent(ctx, pi)
	t.tell(kw.Reply)
	return true, nil
}

// request opens the data-subject request intent asks for, starts its
// verification or fulfils it, and tells the subject.
func (t *turn) request(msg store.Message, intent privacy.RequestIntent) error {
	a, ctx, rs := t.a, t.ctx, t.a.priv.requests
	sub := privacy.Submission{Type: intent.Type, Address: t.conv.Address, Origin: privacy.OriginChat, Actor: privacy.ActorSubject,
		Lang: intent.Lang, Evidence: t.evidence(msg), Verified: !a.priv.verify[intent.Type]}
	if intent.Type == privacy.RequestRectification {
		sub.Rectify = &channel.Profile{} // the fields are agreed with staff
	}
	r, err := rs.Submit(ctx, sub)
	if err != nil {
		return fmt.Errorf("agent: opening a privacy request: %w", err)
	}
	a.n.privacyRequests.Add(1)
	a.privacyEvent(ctx, requestInfo(t.privacyInfo(PrivacyRequest, msg.ID), r))
	texts := rs.Texts(r.Lang)
	switch r.Status {
	case privacy.StatusReceived, privacy.StatusVerifying:
		t.tell(texts.Format(texts.Opened, r))
		t.sendCode(r)
	case privacy.StatusInProgress, privacy.StatusExtended:
		if a.priv.autoFulfil[r.Type] {
			t.fulfil(msg, r)
			return nil
		}
		t.tell(texts.Format(texts.Opened, r))
	}
	return nil
}

// sendCode sends a new verification code for r. When every code allowed
// was sent, the request is denied and the subject told.
func (t *turn) sendCode(r privacy.Request) {
	a, ctx, rs := t.a, t.ctx, t.a.priv.requests
	_, err := rs.SendCode(ctx, r.ID)
	if errors.Is(err, privacy.ErrVerification) {
		denied, derr := rs.Deny(ctx, r.ID, privacy.ActorSystem, privacy.ReasonUnverified)
		if derr == nil {
			texts := rs.Texts(r.Lang)
			t.tell(texts.Format(texts.Denied, denied))
			return
		}
		err = errors.Join(err, derr)
	}
	if err != nil {
		a.log.LogAttrs(ctx, slog.LevelWarn, "agent: sending a verification code failed",
			slog.String(logkey.Tenant, string(r.Tenant)), slog.String(logkey.Request, string(r.ID)), slog.Any(logkey.Error, err))
	}
}

// verified answers a verification code: the outcome of
// [privacy.Requests.VerifyReply] for msg.
func (t *turn) verified(msg store.Message, r privacy.Request, verr error) error {
	a, rs := t.a, t.a.priv.requests
	pi := requestInfo(t.privacyInfo(PrivacyVerification, msg.ID), r)
	pi.Err = verr
	texts := rs.Texts(r.Lang)
	switch {
	case verr == nil:
		a.privacyEvent(t.ctx, pi)
		if a.priv.autoFulfil[r.Type] {
			t.fulfil(msg, r)
			return nil
		}
		t.tell(texts.Format(texts.Verified, r))
	case errors.Is(verr, privacy.ErrCodeExpired):
		a.privacyEvent(t.ctx, pi)
		t.sendCode(r)
	case errors.Is(verr, privacy.ErrVerification):
		a.privacyEvent(t.ctx, pi)
		if r.Status == privacy.StatusDenied {
			t.tell(texts.Format(texts.Denied, r))
		} else {
			t.tell(texts.WrongCode)
		}
	default:
		return fmt.Errorf("agent: verifying a privacy request: %w", verr)
	}
	return nil
}

// fulfil carries out a verified request made in chat and tells the
// subject. A request the engine cannot fulfil now stays with staff, and
// the subject is told its due date. After an erasure nothing more of the
// conversation is recorded: the confirmation is sent without a trace.
func (t *turn) fulfil(msg store.Message, r privacy.Request) {
	a, ctx, rs := t.a, t.ctx, t.a.priv.requests
	done, err := rs.Fulfil(ctx, r.ID, privacy.ActorSystem)
	texts := rs.Texts(r.Lang)
	pi := requestInfo(t.privacyInfo(PrivacyFulfilled, msg.ID), done)
	switch {
	case errors.Is(err, privacy.ErrLegalHold):
		pi.Err = err
		a.privacyEvent(ctx, pi)
		t.tell(texts.Format(texts.Denied, done))
		return
	case err != nil:
		a.log.LogAttrs(ctx, slog.LevelWarn, "agent: fulfilling a privacy request failed; it stays with staff",
			slog.String(logkey.Tenant, string(r.Tenant)), slog.String(logkey.Request, string(r.ID)), slog.Any(logkey.Error, err))
		t.tell(texts.Format(texts.Verified, r))
		return
	}
	if done.Type == privacy.RequestErasure {
		t.erased = true
	}
	a.privacyEvent(ctx, pi)
	t.tell(done.Notice)
}

// tell sends a notice of the privacy gates to the turn's subject,
// recorded as a system message, or unrecorded once the subject was
// erased. A failure is logged: what the notice confirms is done.
func (t *turn) tell(text string) {
	if text == "" {
		return
	}
	var err error
	if t.erased {
		err = t.a.SendText(t.ctx, t.conv.Address, text)
	} else {
		_, err = t.deliver(store.System, nil, channel.Outbound{To: t.conv.Address, Text: channel.Text(text)})
	}
	if err != nil && !errors.Is(err, errAbandoned) {
		t.a.log.LogAttrs(t.ctx, slog.LevelWarn, "agent: sending a privacy notice failed",
			slog.String(logkey.Tenant, string(t.conv.Address.Tenant)), slog.String(logkey.Conversation, string(t.conv.ID)), slog.Any(logkey.Error, err))
	}
}

// minor reports whether the turn's subject was flagged as a minor: the
// latest decision on the assistant purpose is a flag's withdrawal.
func (t *turn) minor() (bool, error) {
	hist, err := t.a.cfg.Consent.History(t.ctx, t.conv.Address.Tenant, t.conv.Subject)
	if err != nil {
		return false, fmt.Errorf("agent: consent history: %w", err)
	}
	for i := len(hist) - 1; i >= 0; i-- {
		if hist[i].Purpose == privacy.PurposeAssistant {
			return !hist[i].Granted && hist[i].Method == privacy.MethodMinor, nil
		}
	}
	return false, nil
}

// lang returns the language to tell the turn's subject things in: that of
// their latest request, else the configured one.
func (t *turn) lang() string {
	if rs := t.a.priv.requests; rs != nil {
		reqs, err := rs.Find(t.ctx, privacy.RequestQuery{Tenant: t.conv.Address.Tenant, User: t.conv.Address.User})
		if err == nil {
			for i := len(reqs) - 1; i >= 0; i-- {
				if reqs[i].Address == t.conv.Address && reqs[i].Lang != "" {
					return reqs[i].Lang
				}
			}
		}
	}
	return t.a.priv.lang
}

// restrictedNotice returns what a restricted subject is told in lang.
func (a *Agent) restrictedNotice(lang string) string {
	if n := a.cfg.Privacy.RestrictedNotice[lang]; n != "" {
		return n
	}
	if rs := a.priv.requests; rs != nil {
		return rs.Texts(lang).Restricted
	}
	defaults := privacy.DefaultRequestTexts()
	if n := defaults[lang].Restricted; n != "" {
		return n
	}
	return defaults[privacy.DefaultLang].Restricted
}

// noticeRestricted tells a subject whose assistant consent is withdrawn
// (st) how to lift it, unless they were told since, or are a minor.
func (t *turn) noticeRestricted(st privacy.ConsentState) {
	a, ctx := t.a, t.ctx
	if a.priv.keywords == nil || t.ch == nil {
		return
	}
	minor, err := t.minor()
	if err != nil || minor {
		return
	}
	notice := a.restrictedNotice(t.lang())
	hist, err := a.cfg.Store.History(ctx, t.m.Tenant, t.m.Conversation, store.HistoryQuery{Through: t.m.ID, Limit: restrictedNoticeWindow})
	if err != nil {
		return
	}
	for _, r := range hist {
		if r.Role == store.System && r.Outbound != nil && string(r.Outbound.Text) == notice && !r.Time.Before(st.Since) {
			return
		}
	}
	t.tell(notice)
	a.privacyEvent(ctx, t.privacyInfo(PrivacyRestricted, t.m.ID))
}

// flagMinor runs the built-in minor tool.
func (t *turn) flagMinor(ctx context.Context, args json.RawMessage) (string, error) {
	var in struct {
		Age int `json:"age"`
	}
	if len(args) > 0 {
		if err := json.Unmarshal(args, &in); err != nil {
			return "", fmt.Errorf("invalid arguments: %w", err)
		}
	}
	r, err := t.a.priv.requests.FlagMinor(ctx, privacy.MinorFlag{Address: t.conv.Address, Age: in.Age, Actor: privacy.ActorSystem})
	if err != nil {
		return "", err
	}
	t.minorFlagged.Store(true)
	t.a.privacyEvent(ctx, requestInfo(t.privacyInfo(PrivacyMinor, t.m.ID), r))
	return "The customer is a minor: their data will be deleted and the conversation ends here. Do not answer.", nil
}

// endForMinor ends a turn in which the model flagged a minor.
func (t *turn) endForMinor() outcome {
	t.tell(t.a.cfg.Privacy.MinorNotice)
	return skip("minor")
}

// FlagMinor acts on the subject of a conversation that an operator found
// to be a minor (age 0 when unknown; a known age at or above the
// threshold is refused): their messages are no longer processed, and an
// erasure request is queued for staff ([privacy.Requests.FlagMinor]). It
// needs [PrivacyConfig.Requests]; without it the error wraps
// [privacy.ErrUnsupported].
func (a *Agent) FlagMinor(ctx context.Context, tenant channel.TenantID, conv store.ConversationID, age int, actor string) (privacy.Request, error) {
	rs := a.priv.requests
	if rs == nil {
		return privacy.Request{}, fmt.Errorf("agent: flagging a minor needs Config.Privacy.Requests: %w", privacy.ErrUnsupported)
	}
	if actor == "" {
		return privacy.Request{}, errors.New("agent: flagging a minor: actor is required")
	}
	c, err := a.cfg.Store.Conversation(ctx, tenant, conv)
	if err != nil {
		return privacy.Request{}, fmt.Errorf("agent: flagging a minor: %w", err)
	}
	r, err := rs.FlagMinor(ctx, privacy.MinorFlag{Address: c.Address, Age: age, Actor: actor})
	if err != nil {
		return r, fmt.Errorf("agent: flagging a minor: %w", err)
	}
	a.privacyEvent(ctx, requestInfo(PrivacyInfo{Event: PrivacyMinor, Tenant: tenant, Conversation: conv, Subject: c.Subject}, r))
	return r, nil
}

// SendText sends text to the user at to through the channel of
// to.Channel, without recording it in the conversation. It implements
// [privacy.Sender]: it is how the privacy engine's verification codes
// reach the subject's own conversation (recorded nowhere, they never
// reach the model), and how an erasure is confirmed once nothing of the
// conversation is left to record it in. Use [Agent.Reply] and the turns
// for everything else.
func (a *Agent) SendText(ctx context.Context, to channel.Address, text string) error {
	ch := a.channels[to.Channel]
	if ch == nil {
		return fmt.Errorf("agent: no channel named %q", to.Channel)
	}
	start := time.Now()
	_, err := ch.Send(ctx, channel.Outbound{To: to, Text: channel.Text(text)})
	if err != nil {
		a.n.sendErrors.Add(1)
	} else {
		a.n.sent.Add(1)
	}
	if h := a.cfg.Hooks.Sent; h != nil {
		h(SentInfo{Tenant: to.Tenant, Channel: to.Channel, Duration: time.Since(start), Err: err})
	}
	return err
}

var _ privacy.Sender = (*Agent)(nil)

// SendTemplate sends tpl to the user at to, opening the conversation when
// there is none, recorded with role store.System like any notice (delivery
// statuses update it). A template of [channel.CategoryMarketing] is sent
// only to a subject whose current consent to [privacy.PurposeMarketing]
// in Config.Consent is granted; otherwise nothing is recorded or sent and
// the error wraps [privacy.ErrNoConsent].
func (a *Agent) SendTemplate(ctx context.Context, to channel.Address, tpl channel.Template) (store.Message, error) {
	if tpl.Category == channel.CategoryMarketing {
		// Refuse before opening a conversation for someone who never wrote.
		sub, err := a.cfg.Store.Subject(ctx, to)
		if errors.Is(err, store.ErrNotFound) {
			a.privacyEvent(ctx, PrivacyInfo{Event: PrivacyNoConsent, Tenant: to.Tenant})
			return store.Message{}, fmt.Errorf("agent: marketing template to an unknown subject: %w", privacy.ErrNoConsent)
		}
		if err != nil {
			return store.Message{}, fmt.Errorf("agent: send template: %w", err)
		}
		if err := a.marketingAllowed(ctx, to.Tenant, sub.ID); err != nil {
			a.privacyEvent(ctx, PrivacyInfo{Event: PrivacyNoConsent, Tenant: to.Tenant, Subject: sub.ID})
			return store.Message{}, err
		}
	}
	c, err := a.cfg.Store.OpenConversation(ctx, to)
	if err != nil {
		return store.Message{}, fmt.Errorf("agent: send template: %w", err)
	}
	ch := a.channels[c.Address.Channel]
	if ch == nil {
		return store.Message{}, fmt.Errorf("agent: send template: no channel named %q", c.Address.Channel)
	}
	t := &turn{a: a, ctx: ctx, conv: c, ch: ch, m: store.Message{Tenant: c.Address.Tenant, Conversation: c.ID}, operator: true}
	rec, err := t.deliver(store.System, nil, channel.Outbound{To: c.Address, Template: &tpl})
	if err != nil {
		return rec, fmt.Errorf("agent: send template: %w", err)
	}
	return rec, nil
}

// marketingAllowed returns an error wrapping privacy.ErrNoConsent unless
// subject's current consent to marketing is granted.
func (a *Agent) marketingAllowed(ctx context.Context, tenant channel.TenantID, subject store.SubjectID) error {
	if a.cfg.Consent == nil {
		return fmt.Errorf("agent: no consent ledger to check marketing consent in: %w", privacy.ErrNoConsent)
	}
	st, err := a.cfg.Consent.State(ctx, tenant, subject, privacy.PurposeMarketing)
	if err != nil {
		return fmt.Errorf("agent: checking marketing consent: %w", err)
	}
	if st.Status != privacy.ConsentGranted {
		return fmt.Errorf("agent: marketing template without the subject's consent: %w", privacy.ErrNoConsent)
	}
	return nil
}

// maskInbound returns m as it may be stored: its texts through the
// redactor's Mask, so that values of masked kinds (secrets, passwords,
// cards) are never stored, and how many texts changed. Raw provider JSON
// that masking would make invalid is dropped.
func maskInbound(r *redact.Redactor, m channel.Message) (channel.Message, int) {
	tenant, n := m.From.Tenant, 0
	mask := func(s string) string {
		if s == "" {
			return s
		}
		out := r.Mask(tenant, s)
		if out != s {
			n++
		}
		return out
	}
	m.Text = channel.Text(mask(string(m.Text)))
	if m.Reply != nil {
		rep := *m.Reply
		rep.Title, rep.Description = channel.Text(mask(string(rep.Title))), channel.Text(mask(string(rep.Description)))
		m.Reply = &rep
	}
	if m.Order != nil {
		o := *m.Order
		o.Text = channel.Text(mask(string(o.Text)))
		m.Order = &o
	}
	if len(m.Raw) > 0 {
		raw := mask(string(m.Raw))
		if raw != string(m.Raw) {
			if json.Valid([]byte(raw)) {
				m.Raw = json.RawMessage(raw)
			} else {
				m.Raw = nil
			}
		}
	}
	return m, n
}

// mapParts returns parts with f applied to every text: text and reasoning
// parts, tool call arguments and tool results. Media and provider state
// are kept as they are.
func mapParts(parts []llm.Part, f func(string) string) []llm.Part {
	out := make([]llm.Part, len(parts))
	for i, p := range parts {
		switch p.Kind {
		case llm.KindText, llm.KindReasoning:
			p.Text = f(p.Text)
		case llm.KindToolCall:
			if p.ToolCall != nil {
				c := *p.ToolCall
				if len(c.Args) > 0 {
					c.Args = json.RawMessage(f(string(c.Args)))
				}
				p.ToolCall = &c
			}
		case llm.KindToolResult:
			if p.ToolResult != nil {
				r := *p.ToolResult
				r.Content = f(r.Content)
				p.ToolResult = &r
			}
		}
		out[i] = p
	}
	return out
}

// redactMessages returns msgs with their texts replaced through s.
func redactMessages(s *redact.Session, msgs []llm.Message) []llm.Message {
	out := make([]llm.Message, len(msgs))
	for i, m := range msgs {
		out[i] = llm.Message{Role: m.Role, Parts: mapParts(m.Parts, s.Redact)}
	}
	return out
}
