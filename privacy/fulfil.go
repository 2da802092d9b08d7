package privacy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/store"
)

// ConsentEraser is implemented by consent ledgers that can erase a
// subject's records ([*Ledger] does). Erasure requests use it when the
// configured ledger has it.
type ConsentEraser interface {
	Erase(ctx context.Context, tenant channel.TenantID, subject store.SubjectID, how ConsentErasure) (int, error)
}

var _ ConsentEraser = (*Ledger)(nil)

// Checkpointer is implemented by stores that keep a write-ahead log beside
// their database file (store/sqlite): Checkpoint moves the log into the
// file and empties it. An erasure calls it once everything is erased,
// the request's own identifiers included, so that what was erased does
// not linger in the log until the next automatic checkpoint.
type Checkpointer interface {
	Checkpoint(ctx context.Context) error
}

// ErasureReceipt proves an erasure without personal data: what was erased
// where, counted, and what was kept and why.
type ErasureReceipt struct {
	Request RequestID        `json:"request"`
	Tenant  channel.TenantID `json:"tenant"`
	Time    time.Time        `json:"time"`
	// Store counts what the conversation store erased.
	Store store.Erased `json:"store"`
	// Consent counts the consent records erased (their evidence, or whole).
	Consent int `json:"consent"`
	// Other counts what each configured [SubjectEraser] erased, by name.
	Other map[string]int `json:"other,omitempty"`
	// Kept lists what was kept, with the reason.
	Kept []Kept `json:"kept,omitempty"`
}

// Clone returns a copy of r sharing no memory with it.
func (r ErasureReceipt) Clone() ErasureReceipt {
	r.Other = maps.Clone(r.Other)
	r.Kept = slices.Clone(r.Kept)
	return r
}

// Counts returns the receipt's figures by store, for the audit log.
func (r ErasureReceipt) Counts() map[string]int {
	c := map[string]int{
		"subjects": r.Store.Subjects, "conversations": r.Store.Conversations, "messages": r.Store.Messages,
		"consent": r.Consent,
	}
	for k, v := range r.Other {
		c["other:"+k] = v
	}
	return c
}

// Kept is something an erasure kept, and why.
type Kept struct {
	What   string `json:"what"`
	Count  int    `json:"count,omitempty"`
	Reason string `json:"reason"`
}

// Reasons for keeping data through an erasure.
const (
	KeptConsentReason  = "proof of consent and of its withdrawal (GDPR Art. 7(1)), without the message that expressed it and under an id that no longer resolves to the person"
	KeptAuditReason    = "accountability: the record of who acted on the data and of this erasure; it holds no message text, phone number or name"
	KeptRequestsReason = "proof that the subject's requests were answered, without the subject's channel id"
)

// Bundle is a data subject's data, as returned to access and export
// requests: JSON, machine-readable, with every message and its delivery
// record, every consent record, media references, and what the
// configured exporters add (tickets, for instance).
type Bundle struct {
	// Format names the layout: "wagent.privacy.export/1".
	Format    string           `json:"format"`
	Request   RequestID        `json:"request"`
	Generated time.Time        `json:"generated"`
	Tenant    channel.TenantID `json:"tenant"`
	// Subject is nil when the store knows nobody at the request's address.
	Subject       *store.Subject       `json:"subject"`
	Conversations []store.Conversation `json:"conversations"`
	// Messages are every record of the subject's conversations, operator
	// notes included, each with its processing and delivery record.
	Messages []store.Message `json:"messages"`
	// Media references every attachment of the messages.
	Media   []MediaRef      `json:"media"`
	Consent []ConsentRecord `json:"consent"`
	// Requests are the subject's privacy requests, this one included.
	Requests []Request `json:"requests"`
	// Other holds what each configured [SubjectExporter] returned, by name.
	Other map[string]json.RawMessage `json:"other,omitempty"`
}

// BundleFormat is the Format of a [Bundle].
const BundleFormat = "wagent.privacy.export/1"

// MediaRef references an attachment of a message.
type MediaRef struct {
	Message  store.MessageID   `json:"message"`
	Kind     channel.MediaKind `json:"kind"`
	ID       string            `json:"id,omitempty"`
	URL      string            `json:"url,omitempty"`
	MIMEType string            `json:"mime_type,omitempty"`
	SHA256   string            `json:"sha256,omitempty"`
	Size     int64             `json:"size,omitempty"`
	Filename string            `json:"filename,omitempty"`
}

// Fulfil carries out a verified request (in progress or extended) and
// completes it:
//
//   - access, export: checks that the store can export; the bundle is
//     built by [Requests.Bundle] when it is downloaded.
//   - erasure: refused with [ErrLegalHold], and the request denied with
//     [ReasonLegalHold], when a hold covers the subject; otherwise erases
//     the subject from the store ([store.Eraser]), the consent ledger (as
//     ConsentErasure says) and every configured [SubjectEraser], ends the
//     subject's other requests, and stores an [ErasureReceipt].
//   - restriction, objection: records the withdrawal of
//     [PurposeAssistant], which stops AI processing, and notes how to lift
//     it in the request's Notice.
//   - consent_withdrawal: records the withdrawal of each purpose.
//   - rectification: applies it with the Rectifier; without one it
//     returns [ErrUnsupported] and staff complete it with
//     [Requests.Complete].
//
// Fulfilling again after a failure is safe: each step is idempotent.
func (rs *Requests) Fulfil(ctx context.Context, id RequestID, actor string) (Request, error) {
	r, err := rs.Request(ctx, id)
	if err != nil {
		return Request{}, err
	}
	if r.Status != StatusInProgress && r.Status != StatusExtended {
		return Request{}, invalidState(&r, "fulfil")
	}
	if r.Subject == "" {
		if r.Subject, err = rs.subjectAt(ctx, r.Address); err != nil {
			return Request{}, err
		}
	}
	texts := rs.Texts(r.Lang)
	var (
		notice  string
		receipt *ErasureReceipt
		action  AuditAction
		counts  map[string]int
	)
	switch r.Type {
	case RequestAccess, RequestExport:
		if _, ok := store.Capability[store.Exporter](rs.cfg.Store); !ok {
			return Request{}, fmt.Errorf("privacy: the store cannot export: %w", ErrUnsupported)
		}
		action, notice = AuditAccess, texts.Exported
	case RequestErasure:
		rc, err := rs.erase(ctx, r)
		if errors.Is(err, ErrLegalHold) {
			denied, derr := rs.update(ctx, r.ID, func(q *Request) error {
				q.Status, q.Reason, q.Completed, q.Rectify = StatusDenied, ReasonLegalHold, rs.cfg.Now(), nil
				return nil
			})
			if derr != nil {
				return Request{}, errors.Join(err, derr)
			}
			rs.audit(ctx, AuditEvent{Actor: actor, Action: AuditRequest, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID,
				Detail: string(StatusDenied) + ":" + ReasonLegalHold})
			return denied, err
		}
		if err != nil {
			return Request{}, err
		}
		receipt, action, counts, notice = &rc, AuditErasure, rc.Counts(), texts.Erased
	case RequestRestriction, RequestObjection, RequestConsentWithdrawal:
		purposes := []Purpose{PurposeAssistant}
		notice = texts.Restricted
		if r.Type == RequestConsentWithdrawal {
			purposes, notice = r.Purposes, texts.Withdrawn
		}
		if r.Subject == "" {
			// Nobody to restrict: the request is completed, and audited,
			// as a request.
			action, notice = AuditRequest, texts.NoData
			break
		}
		if rs.cfg.Consent == nil {
			return Request{}, fmt.Errorf("privacy: no consent ledger to record a %s: %w", r.Type, ErrUnsupported)
		}
		for _, p := range purposes {
			if err := rs.cfg.Consent.Record(ctx, ConsentRecord{Tenant: r.Tenant, Subject: r.Subject, Purpose: p,
				Method: "request", Evidence: r.Evidence, Time: rs.cfg.Now()}); err != nil {
				return Request{}, fmt.Errorf("privacy: recording %s: %w", r.Type, err)
			}
		}
		action = AuditConsent
	case RequestRectification:
		if rs.cfg.Rectifier == nil {
			return Request{}, fmt.Errorf("privacy: no rectifier configured: %w", ErrUnsupported)
		}
		if r.Subject != "" && r.Rectify != nil {
			if err := rs.cfg.Rectifier.Rectify(ctx, r.Tenant, r.Subject, *r.Rectify); err != nil {
				return Request{}, fmt.Errorf("privacy: rectifying: %w", err)
			}
		}
		action, notice = AuditRectification, texts.Rectified
	}
	done, err := rs.update(ctx, r.ID, func(q *Request) error {
		if q.Status != StatusInProgress && q.Status != StatusExtended {
			return invalidState(q, "complete")
		}
		q.Status, q.Completed, q.Notice, q.Subject, q.Rectify = StatusCompleted, rs.cfg.Now(), texts.Format(notice, *q), r.Subject, nil
		if receipt != nil {
			c := receipt.Clone()
			q.Receipt = &c
			q.forget()
		}
		return nil
	})
	if err != nil {
		return Request{}, err
	}
	if receipt != nil {
		rs.checkpoint(ctx, r.Tenant)
	}
	rs.audit(ctx, AuditEvent{Actor: actor, Action: action, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID, Counts: counts,
		Detail: string(r.Type)})
	return done, nil
}

// checkpoint empties the write-ahead log of the store and of the request
// storage when they keep one ([Checkpointer]), once an erasure has
// removed everything, its request's identifiers included, so that the
// erased data is gone from disk too. A failure is logged: the rows are
// gone, and the next checkpoint empties the log.
func (rs *Requests) checkpoint(ctx context.Context, tenant channel.TenantID) {
	for i, s := range []any{rs.cfg.Store, rs.cfg.Storage} {
		cp, ok := s.(Checkpointer)
		if !ok || i == 1 && same(rs.cfg.Store, rs.cfg.Storage) {
			continue // one store keeping both is checkpointed once
		}
		if err := cp.Checkpoint(ctx); err != nil {
			log := rs.cfg.Logger
			if log == nil {
				log = slog.Default()
			}
			log.LogAttrs(ctx, slog.LevelWarn, "privacy: checkpoint after erasure failed",
				slog.String(logkey.Tenant, string(tenant)), slog.String(logkey.Op, "erase"), slog.Any(logkey.Error, err))
		}
	}
}

// same reports whether a and b are one value; values of a type that
// cannot be compared are taken as different.
func same(a, b any) bool {
	t := reflect.TypeOf(a)
	return t != nil && t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// erase erases r's subject everywhere and returns the receipt.
func (rs *Requests) erase(ctx context.Context, r Request) (ErasureReceipt, error) {
	if rs.cfg.Holds != nil && r.Subject != "" {
		if err := rs.cfg.Holds.Check(ctx, r.Tenant, r.Subject); err != nil {
			return ErasureReceipt{}, err
		}
	}
	eraser, ok := store.Capability[store.Eraser](rs.cfg.Store)
	if !ok {
		return ErasureReceipt{}, fmt.Errorf("privacy: the store cannot erase: %w", ErrUnsupported)
	}
	rc := ErasureReceipt{Request: r.ID, Tenant: r.Tenant, Time: rs.cfg.Now()}
	if r.Subject != "" {
		erased, err := eraser.Erase(ctx, r.Tenant, r.Subject)
		if err != nil {
			return ErasureReceipt{}, fmt.Errorf("privacy: erasing from the store: %w", err)
		}
		rc.Store = erased
		if ce, ok := rs.cfg.Consent.(ConsentEraser); ok {
			n, err := ce.Erase(ctx, r.Tenant, r.Subject, rs.cfg.ConsentErasure)
			if err != nil {
				return ErasureReceipt{}, fmt.Errorf("privacy: erasing consent records: %w", err)
			}
			rc.Consent = n
		}
		if rs.cfg.Consent != nil {
			kept, err := rs.cfg.Consent.History(ctx, r.Tenant, r.Subject)
			if err != nil {
				return ErasureReceipt{}, fmt.Errorf("privacy: consent records: %w", err)
			}
			if len(kept) > 0 {
				rc.Kept = append(rc.Kept, Kept{What: "consent_decisions", Count: len(kept), Reason: KeptConsentReason})
			}
		}
		for _, name := range slices.Sorted(maps.Keys(rs.cfg.Erasers)) {
			n, err := rs.cfg.Erasers[name].EraseSubject(ctx, r.Tenant, r.Subject)
			if err != nil {
				return ErasureReceipt{}, fmt.Errorf("privacy: erasing from %s: %w", name, err)
			}
			if rc.Other == nil {
				rc.Other = map[string]int{}
			}
			rc.Other[name] = n
		}
	}
	n, err := rs.endOtherRequests(ctx, r)
	if err != nil {
		return ErasureReceipt{}, err
	}
	rc.Kept = append(rc.Kept, Kept{What: "request_records", Count: n + 1, Reason: KeptRequestsReason})
	if rs.cfg.Audit != nil {
		rc.Kept = append(rc.Kept, Kept{What: "audit_log", Reason: KeptAuditReason})
	}
	return rc, nil
}

// endOtherRequests removes the subject's identifiers from their other
// requests, denying the open ones (there is nothing left to act on), and
// returns how many there were.
func (rs *Requests) endOtherRequests(ctx context.Context, r Request) (int, error) {
	others, err := rs.cfg.Storage.FindRequests(ctx, RequestQuery{Tenant: r.Tenant, User: r.Address.User})
	if err != nil {
		return 0, fmt.Errorf("privacy: requests: %w", err)
	}
	if r.Subject != "" {
		more, err := rs.cfg.Storage.FindRequests(ctx, RequestQuery{Tenant: r.Tenant, Subject: r.Subject})
		if err != nil {
			return 0, fmt.Errorf("privacy: requests: %w", err)
		}
		others = append(others, more...)
	}
	seen := map[RequestID]bool{r.ID: true}
	n := 0
	for _, o := range others {
		if seen[o.ID] || o.Address.Channel != r.Address.Channel {
			continue
		}
		seen[o.ID] = true
		n++
		_, err := rs.update(ctx, o.ID, func(q *Request) error {
			if q.Status.Open() {
				q.Status, q.Reason, q.Completed = StatusDenied, "subject_erased", rs.cfg.Now()
			}
			q.forget()
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Bundle builds the export of a completed access or export request, from
// the store's [store.Exporter], the consent ledger, the subject's requests
// and the configured exporters, and records the download in the audit log
// as actor.
func (rs *Requests) Bundle(ctx context.Context, id RequestID, actor string) (Bundle, error) {
	r, err := rs.Request(ctx, id)
	if err != nil {
		return Bundle{}, err
	}
	if r.Type != RequestAccess && r.Type != RequestExport || r.Status != StatusCompleted {
		return Bundle{}, fmt.Errorf("privacy: no export for a %s request that is %s: %w", r.Type, r.Status, store.ErrInvalid)
	}
	ex, ok := store.Capability[store.Exporter](rs.cfg.Store)
	if !ok {
		return Bundle{}, fmt.Errorf("privacy: the store cannot export: %w", ErrUnsupported)
	}
	b := Bundle{Format: BundleFormat, Request: r.ID, Generated: rs.cfg.Now(), Tenant: r.Tenant,
		Conversations: []store.Conversation{}, Messages: []store.Message{}, Media: []MediaRef{}, Consent: []ConsentRecord{}}
	if r.Subject != "" {
		data, err := ex.Export(ctx, r.Tenant, r.Subject)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return Bundle{}, fmt.Errorf("privacy: exporting from the store: %w", err)
		default:
			b.Subject = &data.Subject
			b.Conversations = append(b.Conversations, data.Conversations...)
			b.Messages = append(b.Messages, data.Messages...)
			b.Media = mediaRefs(data.Messages)
		}
		if rs.cfg.Consent != nil {
			hist, err := rs.cfg.Consent.History(ctx, r.Tenant, r.Subject)
			if err != nil {
				return Bundle{}, fmt.Errorf("privacy: consent records: %w", err)
			}
			b.Consent = append(b.Consent, hist...)
		}
		for _, name := range slices.Sorted(maps.Keys(rs.cfg.Exporters)) {
			raw, err := rs.cfg.Exporters[name].ExportSubject(ctx, r.Tenant, r.Subject)
			if err != nil {
				return Bundle{}, fmt.Errorf("privacy: exporting from %s: %w", name, err)
			}
			if !json.Valid(raw) {
				return Bundle{}, fmt.Errorf("privacy: exporter %s returned invalid JSON", name)
			}
			if b.Other == nil {
				b.Other = map[string]json.RawMessage{}
			}
			b.Other[name] = json.RawMessage(slices.Clone(raw))
		}
	}
	reqs, err := rs.cfg.Storage.FindRequests(ctx, RequestQuery{Tenant: r.Tenant, User: r.Address.User})
	if err != nil {
		return Bundle{}, fmt.Errorf("privacy: requests: %w", err)
	}
	for _, q := range reqs {
		if q.Address == r.Address {
			q.Verification = Verification{}
			b.Requests = append(b.Requests, q)
		}
	}
	rs.audit(ctx, AuditEvent{Actor: actor, Action: AuditExport, Tenant: r.Tenant, Subject: r.Subject, Request: r.ID,
		Counts: map[string]int{"messages": len(b.Messages), "consent": len(b.Consent)}})
	return b, nil
}

func mediaRefs(msgs []store.Message) []MediaRef {
	out := []MediaRef{}
	add := func(id store.MessageID, m *channel.Media) {
		if m != nil {
			out = append(out, MediaRef{Message: id, Kind: m.Kind, ID: m.ID, URL: m.URL, MIMEType: m.MIMEType,
				SHA256: m.SHA256, Size: m.Size, Filename: m.Filename})
		}
	}
	for _, m := range msgs {
		if m.Inbound != nil {
			add(m.ID, m.Inbound.Media)
		}
		if o := m.Outbound; o != nil {
			add(m.ID, o.Media)
			if o.Template != nil && o.Template.Header != nil {
				add(m.ID, o.Template.Header.Media)
			}
		}
	}
	return out
}

// RequestTexts are what the subject is told about their request, in one
// language. "{type}" is replaced by the request type's name, "{due}" by
// its due date (YYYY-MM-DD), "{id}" by its id, "{code}" and "{minutes}"
// in Code by the code and its validity.
type RequestTexts struct {
	// Opened acknowledges a request made in chat.
	Opened string `json:"opened"`
	// Code carries the verification code.
	Code string `json:"code"`
	// Verified confirms the subject's identity was verified.
	Verified string `json:"verified"`
	// WrongCode answers a wrong code.
	WrongCode string `json:"wrong_code"`
	// Restricted is told after a restriction or objection: AI processing
	// stopped and how to lift it.
	Restricted string `json:"restricted"`
	Withdrawn  string `json:"withdrawn"`
	Erased     string `json:"erased"`
	Exported   string `json:"exported"`
	Rectified  string `json:"rectified"`
	Denied     string `json:"denied"`
	// NoData is told when nothing is held about the subject.
	NoData string `json:"no_data"`
	// Types names each request type.
	Types map[RequestType]string `json:"types,omitempty"`
}

// DefaultRequestTexts returns the default texts in Spanish ("es"),
// English ("en") and Portuguese ("pt").
func DefaultRequestTexts() map[string]RequestTexts {
	return map[string]RequestTexts{
		"es": {
			Opened:     "Recibimos tu solicitud de {type} (n.º {id}). La atenderemos a más tardar el {due}.",
			Code:       "Tu código para confirmar tu solicitud de {type} es {code}. Vence en {minutes} minutos. Si no la pediste, ignora este mensaje.",
			Verified:   "Listo, confirmamos tu identidad. Atenderemos tu solicitud de {type} a más tardar el {due}.",
			WrongCode:  "El código no es correcto. Revisa el último código que te enviamos.",
			Restricted: "Listo: ya no procesaremos tus mensajes con inteligencia artificial. Si quieres volver a usar el asistente, escribe ACTIVAR.",
			Withdrawn:  "Listo: retiramos tu consentimiento. No te enviaremos más mensajes promocionales.",
			Erased:     "Listo: borramos tus datos y tus conversaciones con nosotros. Conservamos solo lo que la ley nos obliga a guardar.",
			Exported:   "Tu copia de datos está lista.",
			Rectified:  "Listo: corregimos tus datos.",
			Denied:     "No pudimos atender tu solicitud de {type}.",
			NoData:     "No tenemos datos asociados a este número.",
			Types: map[RequestType]string{RequestAccess: "acceso a tus datos", RequestExport: "copia de tus datos",
				RequestRectification: "rectificación", RequestErasure: "borrado de tus datos", RequestRestriction: "limitación del tratamiento",
				RequestObjection: "oposición al tratamiento", RequestConsentWithdrawal: "retiro de consentimiento"},
		},
		"en": {
			Opened:     "We received your {type} request (no. {id}). We will answer it by {due}.",
			Code:       "Your code to confirm your {type} request is {code}. It expires in {minutes} minutes. If you did not ask for it, ignore this message.",
			Verified:   "Done, your identity is confirmed. We will answer your {type} request by {due}.",
			WrongCode:  "That code is not right. Check the latest code we sent you.",
			Restricted: "Done: we no longer process your messages with artificial intelligence. To use the assistant again, write RESUME.",
			Withdrawn:  "Done: your consent is withdrawn. We will not send you promotional messages.",
			Erased:     "Done: we erased your data and your conversations with us, keeping only what the law requires us to keep.",
			Exported:   "Your copy of your data is ready.",
			Rectified:  "Done: your data is corrected.",
			Denied:     "We could not fulfil your {type} request.",
			NoData:     "We hold no data linked to this number.",
			Types: map[RequestType]string{RequestAccess: "data access", RequestExport: "data export",
				RequestRectification: "rectification", RequestErasure: "data erasure", RequestRestriction: "restriction of processing",
				RequestObjection: "objection to processing", RequestConsentWithdrawal: "consent withdrawal"},
		},
		"pt": {
			Opened:     "Recebemos sua solicitação de {type} (n.º {id}). Vamos atendê-la até {due}.",
			Code:       "Seu código para confirmar sua solicitação de {type} é {code}. Ele vence em {minutes} minutos. Se você não pediu, ignore esta mensagem.",
			Verified:   "Pronto, confirmamos sua identidade. Vamos atender sua solicitação de {type} até {due}.",
			WrongCode:  "O código não está correto. Confira o último código que enviamos.",
			Restricted: "Pronto: não processaremos mais suas mensagens com inteligência artificial. Para voltar a usar o assistente, escreva ATIVAR.",
			Withdrawn:  "Pronto: retiramos seu consentimento. Não enviaremos mais mensagens promocionais.",
			Erased:     "Pronto: apagamos seus dados e suas conversas conosco, guardando só o que a lei nos obriga a guardar.",
			Exported:   "Sua cópia dos dados está pronta.",
			Rectified:  "Pronto: corrigimos seus dados.",
			Denied:     "Não pudemos atender sua solicitação de {type}.",
			NoData:     "Não temos dados ligados a este número.",
			Types: map[RequestType]string{RequestAccess: "acesso aos seus dados", RequestExport: "cópia dos seus dados",
				RequestRectification: "retificação", RequestErasure: "exclusão dos seus dados", RequestRestriction: "limitação do tratamento",
				RequestObjection: "oposição ao tratamento", RequestConsentWithdrawal: "revogação do consentimento"},
		},
	}
}

// Texts returns the texts for lang: the configured ones, completed field by
// field from the defaults of lang, then of the default language.
func (rs *Requests) Texts(lang string) RequestTexts {
	defaults := DefaultRequestTexts()
	out := rs.cfg.Texts[lang]
	for _, fallback := range []RequestTexts{defaults[lang], rs.cfg.Texts[rs.cfg.DefaultLang], defaults[rs.cfg.DefaultLang], defaults[DefaultLang]} {
		out = out.completedBy(fallback)
	}
	return out
}

func (t RequestTexts) completedBy(f RequestTexts) RequestTexts {
	for _, p := range []struct{ dst, src *string }{
		{&t.Opened, &f.Opened}, {&t.Code, &f.Code}, {&t.Verified, &f.Verified}, {&t.WrongCode, &f.WrongCode},
		{&t.Restricted, &f.Restricted}, {&t.Withdrawn, &f.Withdrawn}, {&t.Erased, &f.Erased}, {&t.Exported, &f.Exported},
		{&t.Rectified, &f.Rectified}, {&t.Denied, &f.Denied}, {&t.NoData, &f.NoData},
	} {
		if *p.dst == "" {
			*p.dst = *p.src
		}
	}
	if len(f.Types) > 0 {
		types := maps.Clone(t.Types)
		if types == nil {
			types = map[RequestType]string{}
		}
		for k, v := range f.Types {
			if types[k] == "" {
				types[k] = v
			}
		}
		t.Types = types
	}
	return t
}

func (t RequestTexts) typeName(rt RequestType) string {
	if n := t.Types[rt]; n != "" {
		return n
	}
	return string(rt)
}

// Format returns text with r's "{type}", "{due}" and "{id}" filled in.
func (t RequestTexts) Format(text string, r Request) string {
	return strings.NewReplacer("{type}", t.typeName(r.Type), "{due}", r.Due.Format(time.DateOnly), "{id}", string(r.ID)).Replace(text)
}
