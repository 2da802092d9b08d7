package whatsapp

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/wagent/wagent/internal/meta"
)

// Webhook fields of the account-level notifications that [Webhook] parses
// into an [AccountEvent].
const (
	FieldTemplateStatus   = "message_template_status_update"
	FieldTemplateQuality  = "message_template_quality_update"
	FieldTemplateCategory = "template_category_update"
	FieldPhoneQuality     = "phone_number_quality_update"
	FieldAccountUpdate    = "account_update"
)

// AccountEvent is a notification about a WhatsApp Business Account: a
// template's review status, quality or category changed, a phone
// number's throughput or messaging limit changed, or the account itself
// changed (verified, restricted, banned...). Exactly one of the pointer
// fields is set, the one of Field. [Webhook] hands them to
// WebhookHooks.Account; pass them to [Client.Observe] so that the
// client's template cache and throughput follow.
type AccountEvent struct {
	// Account is the WhatsApp Business Account id (entry.id).
	Account string
	// Time is when Meta sent the notification (entry.time), zero if absent.
	Time time.Time
	// Field is the webhook field, one of the Field* constants.
	Field string

	TemplateStatus   *TemplateStatusUpdate
	TemplateQuality  *TemplateQualityUpdate
	TemplateCategory *TemplateCategoryUpdate
	PhoneQuality     *PhoneQualityUpdate
	AccountUpdate    *AccountUpdate
}

// TemplateRef names the template a notification is about.
type TemplateRef struct {
	ID       string // message_template_id
	Name     string // message_template_name
	Language string // message_template_language
}

// TemplateStatusUpdate is a message_template_status_update: the
// template's review ended or its status changed.
type TemplateStatusUpdate struct {
	TemplateRef
	// Event is the new status: APPROVED, REJECTED, PENDING, PAUSED,
	// DISABLED, FLAGGED, IN_APPEAL, PENDING_DELETION, ...
	Event TemplateStatus
	// Reason says why, for rejections ("NONE" otherwise).
	Reason string
	// Title and Description are other_info, given for pauses and
	// disablements.
	Title, Description string
}

// TemplateQualityUpdate is a message_template_quality_update.
type TemplateQualityUpdate struct {
	TemplateRef
	// PreviousScore and NewScore are GREEN, YELLOW, RED or UNKNOWN.
	PreviousScore, NewScore string
}

// TemplateCategoryUpdate is a template_category_update: Meta changed, or
// will change, the template's category.
type TemplateCategoryUpdate struct {
	TemplateRef
	PreviousCategory, NewCategory TemplateCategory
	// CorrectCategory is the category Meta announces it will apply, when
	// the notification is a warning.
	CorrectCategory TemplateCategory
}

// PhoneQualityUpdate is a phone_number_quality_update: a business phone
// number's throughput level or messaging limit changed.
type PhoneQualityUpdate struct {
	// DisplayPhoneNumber is the business number (not a user's).
	DisplayPhoneNumber string
	// Event is what happened: THROUGHPUT_UPGRADE, UPGRADE, DOWNGRADE,
	// FLAGGED, UNFLAGGED, ONBOARDING...
	Event string
	// CurrentLimit and OldLimit are messaging limits such as TIER_1K.
	CurrentLimit, OldLimit string
	// MaxDailyConversations is max_daily_conversations_per_business.
	MaxDailyConversations string
}

// AccountUpdate is an account_update: the account was verified,
// restricted, banned, or changed otherwise.
type AccountUpdate struct {
	// Event is what happened: VERIFIED_ACCOUNT, DISABLED_UPDATE,
	// ACCOUNT_VIOLATION, ACCOUNT_RESTRICTION, ACCOUNT_DELETED,
	// PARTNER_ADDED, ...
	Event string
	// PhoneNumber is the business number concerned, if any.
	PhoneNumber string
	// BanState and BanDate are ban_info, for DISABLED_UPDATE.
	BanState, BanDate string
	// ViolationType is violation_info.violation_type.
	ViolationType string
	// Restrictions are restriction_info.
	Restrictions []AccountRestriction
}

// AccountRestriction is one restriction of an account.
type AccountRestriction struct {
	Type       string    // such as RESTRICTED_BIZ_INITIATED_MESSAGING
	Expiration time.Time // zero if not given
}

type hookTemplateRef struct {
	ID       meta.FlexString `json:"message_template_id"`
	Name     string          `json:"message_template_name"`
	Language string          `json:"message_template_language"`
}

func (r hookTemplateRef) ref() TemplateRef {
	return TemplateRef{ID: string(r.ID), Name: r.Name, Language: r.Language}
}

// parseAccountEvent parses the value of an account-level change. It
// reports false for other fields, for a value that is not a JSON object,
// and for one missing what identifies the event.
func parseAccountEvent(account string, t time.Time, field string, raw json.RawMessage) (AccountEvent, bool) {
	ev := AccountEvent{Account: account, Time: t, Field: field}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return ev, false
	}
	switch field {
	case FieldTemplateStatus:
		var v struct {
			hookTemplateRef
			Event     string `json:"event"`
			Reason    string `json:"reason"`
			OtherInfo struct {
				Title       string `json:"title"`
				Description string `json:"description"`
			} `json:"other_info"`
		}
		if !decodeLenient(raw, &v) || v.Event == "" || v.ID == "" && v.Name == "" {
			return ev, false
		}
		ev.TemplateStatus = &TemplateStatusUpdate{TemplateRef: v.ref(), Event: TemplateStatus(v.Event), Reason: v.Reason,
			Title: v.OtherInfo.Title, Description: v.OtherInfo.Description}
	case FieldTemplateQuality:
		var v struct {
			hookTemplateRef
			Previous string `json:"previous_quality_score"`
			New      string `json:"new_quality_score"`
		}
		if !decodeLenient(raw, &v) || v.ID == "" && v.Name == "" {
			return ev, false
		}
		ev.TemplateQuality = &TemplateQualityUpdate{TemplateRef: v.ref(), PreviousScore: v.Previous, NewScore: v.New}
	case FieldTemplateCategory:
		var v struct {
			hookTemplateRef
			Previous string `json:"previous_category"`
			New      string `json:"new_category"`
			Correct  string `json:"correct_category"`
		}
		if !decodeLenient(raw, &v) || v.ID == "" && v.Name == "" {
			return ev, false
		}
		ev.TemplateCategory = &TemplateCategoryUpdate{TemplateRef: v.ref(), PreviousCategory: TemplateCategory(v.Previous),
			NewCategory: TemplateCategory(v.New), CorrectCategory: TemplateCategory(v.Correct)}
	case FieldPhoneQuality:
		var v struct {
			Display  meta.FlexString `json:"display_phone_number"`
			Event    string          `json:"event"`
			Current  string          `json:"current_limit"`
			Old      string          `json:"old_limit"`
			MaxDaily meta.FlexString `json:"max_daily_conversations_per_business"`
		}
		if !decodeLenient(raw, &v) || v.Event == "" {
			return ev, false
		}
		ev.PhoneQuality = &PhoneQualityUpdate{DisplayPhoneNumber: string(v.Display), Event: v.Event, CurrentLimit: v.Current,
			OldLimit: v.Old, MaxDailyConversations: string(v.MaxDaily)}
	case FieldAccountUpdate:
		var v struct {
			Phone   meta.FlexString `json:"phone_number"`
			Event   string          `json:"event"`
			BanInfo struct {
				State string `json:"waba_ban_state"`
				Date  string `json:"waba_ban_date"`
			} `json:"ban_info"`
			Violation struct {
				Type string `json:"violation_type"`
			} `json:"violation_info"`
			Restrictions []json.RawMessage `json:"restriction_info"`
		}
		if !decodeLenient(raw, &v) || v.Event == "" {
			return ev, false
		}
		u := &AccountUpdate{Event: v.Event, PhoneNumber: string(v.Phone), BanState: v.BanInfo.State, BanDate: v.BanInfo.Date, ViolationType: v.Violation.Type}
		for _, r := range decodeEach[struct {
			Type       string          `json:"restriction_type"`
			Expiration meta.FlexString `json:"expiration"`
		}](v.Restrictions) {
			u.Restrictions = append(u.Restrictions, AccountRestriction{Type: r.Type, Expiration: parseTime(r.Expiration)})
		}
		ev.AccountUpdate = u
	default:
		return ev, false
	}
	return ev, true
}

// decodeLenient decodes raw into v and reports whether it could: ids and
// numbers decode as strings or numbers (meta.FlexString); another field of
// an unexpected type fails the event, which is then only reported to
// WebhookHooks.Ignored.
func decodeLenient(raw json.RawMessage, v any) bool {
	return json.Unmarshal(raw, v) == nil
}

// Observe lets the client follow what an account notification says, so
// that it sees every notification [Webhook] parses:
//
//	hook, err := whatsapp.NewWebhook(a, whatsapp.WebhookOptions{
//		...
//		Hooks: whatsapp.WebhookHooks{Account: wa.Observe},
//	})
//
// A template status, quality or category update marks the account's
// cached template list stale, so that the next template check (see
// Options.Accounts) fetches it again. A phone_number_quality_update with
// event THROUGHPUT_UPGRADE raises the number's throughput to
// [MaxThroughput], for numbers the client listed with
// [Client.ListPhoneNumbers] (the notification names the display number
// only). Observe is safe for concurrent use and makes no request.
func (c *Client) Observe(ev AccountEvent) {
	switch {
	case ev.TemplateStatus != nil, ev.TemplateQuality != nil, ev.TemplateCategory != nil:
		if ev.Account != "" {
			c.templates.stale(ev.Account)
		}
	case ev.PhoneQuality != nil:
		id, ok := c.rates.idOf(ev.PhoneQuality.DisplayPhoneNumber)
		if !ok {
			return
		}
		switch ev.PhoneQuality.Event {
		case "THROUGHPUT_UPGRADE":
			c.applyLevel(id, ThroughputHigh)
		case "THROUGHPUT_DOWNGRADE":
			c.applyLevel(id, ThroughputStandard)
		}
	}
}
