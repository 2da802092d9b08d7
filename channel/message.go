package channel

import (
	"encoding/json"
	"time"
)

// Type is the kind of an inbound [Message].
type Type string

// Inbound message types. A channel maps anything it does not understand to
// [TypeUnsupported] with the provider's raw JSON kept in Message.Raw, so that
// no delivery fails because of a type wagent does not know yet.
const (
	TypeText        Type = "text"
	TypeImage       Type = "image"
	TypeAudio       Type = "audio"
	TypeVideo       Type = "video"
	TypeDocument    Type = "document"
	TypeSticker     Type = "sticker"
	TypeLocation    Type = "location"
	TypeContacts    Type = "contacts"
	TypeInteractive Type = "interactive" // a tap on a button, list row, quick reply or form
	TypeReaction    Type = "reaction"
	TypeOrder       Type = "order"
	TypeSystem      Type = "system" // a notice from the provider, such as a changed number
	TypeUnsupported Type = "unsupported"
)

// Message is an inbound message in channel-neutral form. Exactly the field
// matching Type is set (Text for text; Media for image, audio, video,
// document and sticker, with an optional caption in Text; and so on).
//
// # Privacy
//
// Text, the sender's Profile and the user id are personal data; their types
// redact themselves when logged.
type Message struct {
	// ID is the provider's message id. Together with From.Channel and
	// From.Tenant it makes the idempotency key; it must not be empty.
	ID   MessageID `json:"id"`
	From Address   `json:"from"`
	// Time is when the provider says the user sent the message.
	Time time.Time `json:"time"`
	Type Type      `json:"type"`

	// Text is the body of a text message or the caption of a media message.
	Text     Text        `json:"text,omitempty"`
	Media    *Media      `json:"media,omitempty"`
	Location *Location   `json:"location,omitempty"`
	Contacts []Contact   `json:"contacts,omitempty"`
	Reply    *Reply      `json:"reply,omitempty"`
	Reaction *Reaction   `json:"reaction,omitempty"`
	Order    *Order      `json:"order,omitempty"`
	System   *SystemNote `json:"system,omitempty"`

	// Context describes the message this one quotes or was forwarded from.
	Context *Context `json:"context,omitempty"`
	// Referral describes the ad or post the user came from, when the
	// provider reports one (WhatsApp click-to-chat ads).
	Referral *Referral `json:"referral,omitempty"`
	// Sender is what the provider tells about the sender.
	Sender Profile `json:"sender,omitzero"`
	// Echo marks an echo of the business's own message, sent from another
	// app or inbox (a person answering in the Instagram app); From is then
	// the customer it went to. An echo is recorded, never answered by the
	// AI. Adapters set it on the echoes they report; they hand echoes to
	// their receiver's [EchoRecorder], never to [Receiver.Receive].
	Echo bool `json:"echo,omitempty"`
	// Errors are problems the provider reports with this message (for
	// example why its type is unsupported).
	Errors []ErrorInfo `json:"errors,omitempty"`
	// Raw is the provider's JSON for this message, kept for unsupported
	// types so that nothing the provider sent is lost.
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Profile is what a channel reveals about a user. Every field is optional.
type Profile struct {
	Name     Text   `json:"name,omitempty"`
	Phone    Phone  `json:"phone,omitempty"` // E.164 digits without '+', as WhatsApp's wa_id
	Username Text   `json:"username,omitempty"`
	Locale   string `json:"locale,omitempty"`
}

// MediaKind is the kind of a media attachment.
type MediaKind string

// Media kinds, shared by inbound and outbound messages.
const (
	Image    MediaKind = "image"
	Audio    MediaKind = "audio"
	Video    MediaKind = "video"
	Document MediaKind = "document"
	Sticker  MediaKind = "sticker"
)

// Media references an attachment held by the provider or at a URL. wagent
// keeps references, not content; a [MediaFetcher] opens the content.
type Media struct {
	Kind MediaKind `json:"kind"`
	// ID is the provider's media id (WhatsApp media ids live 30 days).
	ID string `json:"id,omitempty"`
	// URL is where the content can be fetched; provider URLs may be short
	// lived and need the channel's credentials.
	URL      string `json:"url,omitempty"`
	MIMEType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Size     int64  `json:"size,omitempty"`
	Filename string `json:"filename,omitempty"`
	Voice    bool   `json:"voice,omitempty"`    // audio recorded as a voice note
	Animated bool   `json:"animated,omitempty"` // animated sticker
}

// Location is a shared or sent place.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
	URL       string  `json:"url,omitempty"`
}

// Contact is a contact card shared by the user.
type Contact struct {
	Name   Text    `json:"name"`
	Phones []Phone `json:"phones,omitempty"`
	Emails []Text  `json:"emails,omitempty"`
	Org    string  `json:"org,omitempty"`
}

// ReplyKind tells what the user tapped to produce an interactive [Reply].
type ReplyKind string

// Kinds of interactive replies.
const (
	ReplyButton     ReplyKind = "button"      // a reply button of an interactive message
	ReplyList       ReplyKind = "list"        // a row of a list message
	ReplyQuick      ReplyKind = "quick_reply" // a template quick-reply button or an Instagram quick reply
	ReplyFlow       ReplyKind = "flow"        // a completed form (WhatsApp Flow)
	ReplyPostback   ReplyKind = "postback"    // a postback button of a card
	ReplyUnknownTap ReplyKind = "unknown"
)

// Reply is the user's answer to an interactive message.
type Reply struct {
	Kind ReplyKind `json:"kind"`
	// ID is the id or payload the business gave the button or row.
	ID string `json:"id,omitempty"`
	// Title is the text the user saw and tapped.
	Title       Text `json:"title,omitempty"`
	Description Text `json:"description,omitempty"`
	// Data is the form's answers for ReplyFlow (JSON).
	Data json.RawMessage `json:"data,omitempty"`
}

// Reaction is an emoji reaction to a message. An empty Emoji removes the
// reaction.
type Reaction struct {
	MessageID MessageID `json:"message_id"`
	Emoji     string    `json:"emoji,omitempty"`
}

// Order is a cart the user sent from the business's catalog.
type Order struct {
	CatalogID string      `json:"catalog_id,omitempty"`
	Text      Text        `json:"text,omitempty"`
	Items     []OrderItem `json:"items"`
}

// OrderItem is one line of an [Order].
type OrderItem struct {
	ProductID string  `json:"product_id"` // the catalog's retailer id
	Quantity  int     `json:"quantity"`
	UnitPrice float64 `json:"unit_price"`
	Currency  string  `json:"currency"`
}

// SystemNote is a notice from the provider about the user, such as a changed
// phone number or user id.
type SystemNote struct {
	Kind string `json:"kind"`
	Body Text   `json:"body,omitempty"`
	// NewUser is the user's new id when the notice reports a change.
	NewUser UserID `json:"new_user,omitempty"`
}

// Context describes how a message relates to an earlier one.
type Context struct {
	// MessageID is the id of the quoted message, if the user replied to one.
	MessageID MessageID `json:"message_id,omitempty"`
	// Forwarded reports a forwarded message; FrequentlyForwarded one
	// forwarded many times.
	Forwarded           bool `json:"forwarded,omitempty"`
	FrequentlyForwarded bool `json:"frequently_forwarded,omitempty"`
	// ProductID is set when the user asked about a catalog product.
	ProductID string `json:"product_id,omitempty"`
}

// Referral describes the ad or post a conversation started from.
type Referral struct {
	SourceURL  string `json:"source_url,omitempty"`
	SourceID   string `json:"source_id,omitempty"`
	SourceType string `json:"source_type,omitempty"`
	Headline   string `json:"headline,omitempty"`
	Body       string `json:"body,omitempty"`
	ClickID    string `json:"click_id,omitempty"`
}
