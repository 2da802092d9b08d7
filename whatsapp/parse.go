package whatsapp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// The wire format of webhook deliveries: object whatsapp_business_account,
// entry[].changes[].value.

type hookPayload struct {
	Object string      `json:"object"`
	Entry  []hookEntry `json:"entry"`
}

type hookEntry struct {
	ID      string       `json:"id"` // the WhatsApp Business Account
	Time    meta.FlexInt `json:"time"`
	Changes []hookChange `json:"changes"`
}

type hookChange struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"`
}

// hookValue is a change's value. Its parts are decoded one by one, so that
// one part of an unexpected shape loses only itself.
type hookValue struct {
	Metadata json.RawMessage   `json:"metadata"`
	Contacts []json.RawMessage `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
	Errors   []json.RawMessage `json:"errors"`
}

// decodeEach decodes every item of raws into a T, skipping those that do
// not decode.
func decodeEach[T any](raws []json.RawMessage) []T {
	if len(raws) == 0 {
		return nil
	}
	out := make([]T, 0, len(raws))
	for _, raw := range raws {
		var v T
		if json.Unmarshal(raw, &v) == nil {
			out = append(out, v)
		}
	}
	return out
}

type hookMetadata struct {
	DisplayPhoneNumber string `json:"display_phone_number"`
	PhoneNumberID      string `json:"phone_number_id"`
}

type hookContact struct {
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
	WaID   string `json:"wa_id"`
	UserID string `json:"user_id"`
}

type hookError struct {
	Code      meta.FlexInt `json:"code"`
	Title     string       `json:"title"`
	Message   string       `json:"message"`
	ErrorData struct {
		Details string `json:"details"`
	} `json:"error_data"`
}

// hookMessage is one messages[] item. Fields are decoded leniently: a
// field of an unexpected JSON type is ignored rather than failing the
// message.
type hookMessage struct {
	From       string          `json:"from"`
	FromUserID string          `json:"from_user_id"`
	ID         string          `json:"id"`
	Timestamp  meta.FlexString `json:"timestamp"`
	Type       string          `json:"type"`
	Context    *hookContext    `json:"context"`
	Referral   *hookRef        `json:"referral"`
	Errors     []hookError     `json:"errors"`

	Text        *struct{ Body string }          `json:"text"`
	Image       *hookMedia                      `json:"image"`
	Audio       *hookMedia                      `json:"audio"`
	Video       *hookMedia                      `json:"video"`
	Document    *hookMedia                      `json:"document"`
	Sticker     *hookMedia                      `json:"sticker"`
	Location    *hookLocation                   `json:"location"`
	Contacts    []hookCard                      `json:"contacts"`
	Interactive *hookInteractive                `json:"interactive"`
	Button      *struct{ Text, Payload string } `json:"button"`
	Reaction    *hookReaction                   `json:"reaction"`
	Order       *hookOrder                      `json:"order"`
	System      *hookSystem                     `json:"system"`
}

type hookContext struct {
	From                string `json:"from"`
	ID                  string `json:"id"`
	Forwarded           bool   `json:"forwarded"`
	FrequentlyForwarded bool   `json:"frequently_forwarded"`
	ReferredProduct     *struct {
		CatalogID         string `json:"catalog_id"`
		ProductRetailerID string `json:"product_retailer_id"`
	} `json:"referred_product"`
}

type hookRef struct {
	SourceURL  string `json:"source_url"`
	SourceID   string `json:"source_id"`
	SourceType string `json:"source_type"`
	Headline   string `json:"headline"`
	Body       string `json:"body"`
	CtwaClid   string `json:"ctwa_clid"`
}

type hookMedia struct {
	ID       string       `json:"id"`
	MIMEType string       `json:"mime_type"`
	SHA256   string       `json:"sha256"`
	Caption  string       `json:"caption"`
	Filename string       `json:"filename"`
	URL      string       `json:"url"`
	FileSize meta.FlexInt `json:"file_size"`
	Voice    bool         `json:"voice"`
	Animated bool         `json:"animated"`
}

type hookLocation struct {
	Latitude  flexFloat `json:"latitude"`
	Longitude flexFloat `json:"longitude"`
	Name      string    `json:"name"`
	Address   string    `json:"address"`
	URL       string    `json:"url"`
}

type hookCard struct {
	Name struct {
		FormattedName string `json:"formatted_name"`
		FirstName     string `json:"first_name"`
		LastName      string `json:"last_name"`
	} `json:"name"`
	Phones []struct {
		Phone string `json:"phone"`
		WaID  string `json:"wa_id"`
	} `json:"phones"`
	Emails []struct {
		Email string `json:"email"`
	} `json:"emails"`
	Org struct {
		Company string `json:"company"`
	} `json:"org"`
}

type hookInteractive struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID          string `json:"id"`
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"list_reply"`
	NfmReply *struct {
		Name         string `json:"name"`
		Body         string `json:"body"`
		ResponseJSON string `json:"response_json"`
	} `json:"nfm_reply"`
}

type hookReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

type hookOrder struct {
	CatalogID    string `json:"catalog_id"`
	Text         string `json:"text"`
	ProductItems []struct {
		ProductRetailerID string       `json:"product_retailer_id"`
		Quantity          meta.FlexInt `json:"quantity"`
		ItemPrice         flexFloat    `json:"item_price"`
		Currency          string       `json:"currency"`
	} `json:"product_items"`
}

type hookSystem struct {
	Body    string `json:"body"`
	Type    string `json:"type"`
	WaID    string `json:"wa_id"`
	NewWaID string `json:"new_wa_id"`
	UserID  string `json:"user_id"`
	// PreviousUserID is the user's business-scoped user id before the
	// change (user_changed_number, user_changed_user_id).
	PreviousUserID string `json:"previous_user_id"`
}

type hookStatus struct {
	ID              string          `json:"id"`
	Status          string          `json:"status"`
	Timestamp       meta.FlexString `json:"timestamp"`
	RecipientID     string          `json:"recipient_id"`
	RecipientUserID string          `json:"recipient_user_id"`
	BizOpaque       string          `json:"biz_opaque_callback_data"`
	Errors          []hookError     `json:"errors"`
}

// flexFloat accepts a JSON number or a string holding one.
type flexFloat float64

func (f *flexFloat) UnmarshalJSON(b []byte) error {
	var s meta.FlexString
	_ = s.UnmarshalJSON(b)
	if x, err := strconv.ParseFloat(string(s), 64); err == nil {
		*f = flexFloat(x)
	}
	return nil
}

func parseTime(s meta.FlexString) time.Time {
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil {
		return time.Time{}
	}
	return unixTime(n)
}

// unixTime is the time of n seconds since 1970, zero when n is not a
// plausible timestamp.
func unixTime(n int64) time.Time {
	if n <= 0 || n > 1<<40 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

func errorInfos(errs []hookError) []channel.ErrorInfo {
	if len(errs) == 0 {
		return nil
	}
	out := make([]channel.ErrorInfo, len(errs))
	for i, e := range errs {
		title := e.Title
		if title == "" {
			title = e.Message
		}
		out[i] = channel.ErrorInfo{Code: int(e.Code), Title: title, Detail: e.ErrorData.Details}
	}
	return out
}

// parseMessage turns one messages[] item into a channel.Message from
// tenant. It returns false when the item has no id or no sender, which no
// record can be made of. contacts are the change's contacts, which carry
// the profile of the sender.
func parseMessage(raw json.RawMessage, tenant channel.TenantID, contacts []hookContact) (channel.Message, bool) {
	var w hookMessage
	decodeErr := json.Unmarshal(raw, &w)
	if decodeErr != nil {
		// A field of a type this parser does not expect: keep what can be
		// known of the message and the raw JSON.
		var min struct {
			From       string          `json:"from"`
			FromUserID string          `json:"from_user_id"`
			ID         string          `json:"id"`
			Timestamp  meta.FlexString `json:"timestamp"`
			Type       string          `json:"type"`
		}
		if json.Unmarshal(raw, &min) != nil {
			return channel.Message{}, false
		}
		w = hookMessage{From: min.From, FromUserID: min.FromUserID, ID: min.ID, Timestamp: min.Timestamp, Type: "\x00undecodable"}
	}
	contact := findContact(contacts, w.From, w.FromUserID)
	user := w.FromUserID
	if user == "" && contact != nil {
		user = contact.UserID
	}
	if user == "" {
		user = w.From
	}
	if user == "" && w.System != nil {
		// A change of business-scoped user id carries no phone number:
		// the message comes from the id the user had.
		user = w.System.PreviousUserID
	}
	if w.ID == "" || user == "" {
		return channel.Message{}, false
	}
	m := channel.Message{
		ID:   channel.MessageID(w.ID),
		From: channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(user)},
		Time: parseTime(w.Timestamp),
	}
	phone := w.From
	if contact != nil {
		m.Sender.Name = channel.Text(contact.Profile.Name)
		m.Sender.Username = channel.Text(contact.Profile.Username)
		if phone == "" {
			phone = contact.WaID
		}
	}
	if isPhone(phone) {
		m.Sender.Phone = channel.Phone(strings.TrimPrefix(phone, "+"))
	}
	if c := w.Context; c != nil {
		m.Context = &channel.Context{MessageID: channel.MessageID(c.ID), Forwarded: c.Forwarded, FrequentlyForwarded: c.FrequentlyForwarded}
		if p := c.ReferredProduct; p != nil {
			m.Context.ProductID = p.ProductRetailerID
		}
		if *m.Context == (channel.Context{}) {
			m.Context = nil
		}
	}
	if r := w.Referral; r != nil {
		m.Referral = &channel.Referral{SourceURL: r.SourceURL, SourceID: r.SourceID, SourceType: r.SourceType, Headline: r.Headline, Body: r.Body, ClickID: r.CtwaClid}
	}
	m.Errors = errorInfos(w.Errors)
	if !fill(&m, &w) {
		m.Type = channel.TypeUnsupported
		m.Text, m.Media, m.Location, m.Contacts, m.Reply, m.Reaction, m.Order, m.System = "", nil, nil, nil, nil, nil, nil, nil
		m.Raw = bytes.Clone(raw)
	}
	return m, true
}

// fill sets the type and content of m from w, and reports whether the
// type was understood.
func fill(m *channel.Message, w *hookMessage) bool {
	media := func(kind channel.MediaKind, h *hookMedia) bool {
		if h == nil || h.ID == "" && h.URL == "" {
			return false
		}
		m.Type = channel.Type(kind)
		m.Media = &channel.Media{Kind: kind, ID: h.ID, URL: h.URL, MIMEType: h.MIMEType, SHA256: h.SHA256, Size: int64(h.FileSize),
			Filename: h.Filename, Voice: h.Voice, Animated: h.Animated}
		m.Text = channel.Text(h.Caption)
		return true
	}
	switch w.Type {
	case "text":
		if w.Text == nil {
			return false
		}
		m.Type, m.Text = channel.TypeText, channel.Text(w.Text.Body)
		return true
	case "image":
		return media(channel.Image, w.Image)
	case "audio":
		return media(channel.Audio, w.Audio)
	case "video":
		return media(channel.Video, w.Video)
	case "document":
		return media(channel.Document, w.Document)
	case "sticker":
		return media(channel.Sticker, w.Sticker)
	case "location":
		if w.Location == nil {
			return false
		}
		l := w.Location
		m.Type = channel.TypeLocation
		m.Location = &channel.Location{Latitude: float64(l.Latitude), Longitude: float64(l.Longitude), Name: l.Name, Address: l.Address, URL: l.URL}
		return true
	case "contacts":
		if len(w.Contacts) == 0 {
			return false
		}
		m.Type = channel.TypeContacts
		m.Contacts = make([]channel.Contact, 0, len(w.Contacts))
		for _, c := range w.Contacts {
			name := c.Name.FormattedName
			if name == "" {
				name = strings.TrimSpace(c.Name.FirstName + " " + c.Name.LastName)
			}
			card := channel.Contact{Name: channel.Text(name), Org: c.Org.Company}
			for _, p := range c.Phones {
				if d := digits(p.WaID); d != "" {
					card.Phones = append(card.Phones, channel.Phone(d))
				} else if d := digits(p.Phone); d != "" {
					card.Phones = append(card.Phones, channel.Phone(d))
				}
			}
			for _, e := range c.Emails {
				if e.Email != "" {
					card.Emails = append(card.Emails, channel.Text(e.Email))
				}
			}
			m.Contacts = append(m.Contacts, card)
		}
		return true
	case "interactive":
		in := w.Interactive
		if in == nil {
			return false
		}
		switch {
		case in.Type == "button_reply" && in.ButtonReply != nil:
			m.Reply = &channel.Reply{Kind: channel.ReplyButton, ID: in.ButtonReply.ID, Title: channel.Text(in.ButtonReply.Title)}
		case in.Type == "list_reply" && in.ListReply != nil:
			m.Reply = &channel.Reply{Kind: channel.ReplyList, ID: in.ListReply.ID, Title: channel.Text(in.ListReply.Title), Description: channel.Text(in.ListReply.Description)}
		case in.Type == "nfm_reply" && in.NfmReply != nil:
			m.Reply = &channel.Reply{Kind: channel.ReplyFlow, ID: in.NfmReply.Name, Title: channel.Text(in.NfmReply.Body)}
			if data := []byte(in.NfmReply.ResponseJSON); json.Valid(data) {
				m.Reply.Data = data
			} else if in.NfmReply.ResponseJSON != "" {
				m.Reply.Data, _ = json.Marshal(in.NfmReply.ResponseJSON)
			}
		default:
			return false
		}
		m.Type = channel.TypeInteractive
		return true
	case "button":
		if w.Button == nil {
			return false
		}
		m.Type = channel.TypeInteractive
		m.Reply = &channel.Reply{Kind: channel.ReplyQuick, ID: w.Button.Payload, Title: channel.Text(w.Button.Text)}
		return true
	case "reaction":
		if w.Reaction == nil || w.Reaction.MessageID == "" {
			return false
		}
		m.Type = channel.TypeReaction
		m.Reaction = &channel.Reaction{MessageID: channel.MessageID(w.Reaction.MessageID), Emoji: w.Reaction.Emoji}
		return true
	case "order":
		if w.Order == nil {
			return false
		}
		o := &channel.Order{CatalogID: w.Order.CatalogID, Text: channel.Text(w.Order.Text), Items: make([]channel.OrderItem, 0, len(w.Order.ProductItems))}
		for _, it := range w.Order.ProductItems {
			o.Items = append(o.Items, channel.OrderItem{ProductID: it.ProductRetailerID, Quantity: int(it.Quantity), UnitPrice: float64(it.ItemPrice), Currency: it.Currency})
		}
		m.Type, m.Order = channel.TypeOrder, o
		return true
	case "system":
		if w.System == nil {
			return false
		}
		s := w.System
		note := &channel.SystemNote{Kind: s.Type, Body: channel.Text(s.Body)}
		switch {
		case s.UserID != "":
			note.NewUser = channel.UserID(s.UserID)
		case s.WaID != "":
			note.NewUser = channel.UserID(s.WaID)
		case s.NewWaID != "":
			note.NewUser = channel.UserID(s.NewWaID)
		}
		m.Type, m.System = channel.TypeSystem, note
		return true
	case "request_welcome":
		// The user opened the chat for the first time: a cue to greet.
		m.Type, m.System = channel.TypeSystem, &channel.SystemNote{Kind: "request_welcome"}
		return true
	}
	return false
}

// findContact returns the contact that describes the sender: the one with
// the sender's user id or wa_id, or the only one.
func findContact(contacts []hookContact, waID, userID string) *hookContact {
	for i := range contacts {
		c := &contacts[i]
		if userID != "" && c.UserID == userID || waID != "" && c.WaID == waID {
			return c
		}
	}
	if len(contacts) == 1 && (waID == "" || contacts[0].WaID == "") && (userID == "" || contacts[0].UserID == "") {
		return &contacts[0]
	}
	return nil
}

// parseStatus turns one statuses[] item into a channel.Status of tenant.
func parseStatus(raw json.RawMessage, tenant channel.TenantID) (channel.Status, bool) {
	var w hookStatus
	if json.Unmarshal(raw, &w) != nil || w.ID == "" {
		return channel.Status{}, false
	}
	var state channel.DeliveryState
	switch w.Status {
	case "sent":
		state = channel.Sent
	case "delivered":
		state = channel.Delivered
	case "read":
		state = channel.Read
	case "played":
		state = channel.Played
	case "failed":
		state = channel.Failed
	default:
		return channel.Status{}, false
	}
	user := w.RecipientUserID
	if user == "" {
		user = w.RecipientID
	}
	return channel.Status{
		MessageID:   channel.MessageID(w.ID),
		Recipient:   channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(user)},
		State:       state,
		Time:        parseTime(w.Timestamp),
		Correlation: w.BizOpaque,
		Errors:      errorInfos(w.Errors),
	}, true
}

func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
