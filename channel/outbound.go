package channel

import (
	"fmt"
	"unicode/utf8"
)

// OutboundKind is the kind of an [Outbound] message, derived from which of
// its fields are set.
type OutboundKind string

// Outbound kinds.
const (
	OutText        OutboundKind = "text"
	OutMedia       OutboundKind = "media"
	OutInteractive OutboundKind = "interactive"
	OutTemplate    OutboundKind = "template"
	OutReaction    OutboundKind = "reaction"
	OutLocation    OutboundKind = "location"
	OutCards       OutboundKind = "cards"
)

// Limits of [Outbound.Cards], checked by [Outbound.Validate]: those of
// Meta's generic template, the strictest of the channels that show cards.
// Channels may check more (button title lengths, URL schemes).
const (
	MaxCards        = 10 // cards in one message
	MaxCardTitle    = 80 // characters
	MaxCardSubtitle = 80 // characters
	MaxCardButtons  = 3  // buttons on one card
)

// Outbound is a message to send, in channel-neutral form. Set Text alone for
// a text message, or exactly one of Media, Interactive, Template, Reaction,
// Location or Cards; Text is then the media caption, the interactive body,
// or the text that introduces the cards. Channels translate it to their
// wire format and check their own limits (button counts, lengths) in Send;
// a channel that cannot show a kind (cards on WhatsApp or the web widget)
// fails with [ErrUnsupported] rather than send something else.
type Outbound struct {
	To          Address      `json:"to"`
	Text        Text         `json:"text,omitempty"`
	Media       *Media       `json:"media,omitempty"`
	Interactive *Interactive `json:"interactive,omitempty"`
	Template    *Template    `json:"template,omitempty"`
	Reaction    *Reaction    `json:"reaction,omitempty"`
	Location    *Location    `json:"location,omitempty"`
	// Cards are product cards shown side by side (a carousel when there
	// are several): 1 to [MaxCards]. A non-nil empty slice is an invalid
	// message, not a text message.
	Cards []Card `json:"cards,omitempty"`

	// Human marks a message a person wrote, such as an operator's reply,
	// rather than the AI. A channel that gives human agents a longer window
	// ([HumanWindowed]) sends it under that window (Instagram: with the
	// HUMAN_AGENT tag, up to 7 days after the user's latest message);
	// other channels ignore it. Never set it on automated messages: the
	// providers forbid it.
	Human bool `json:"human,omitempty"`

	// ReplyTo quotes an earlier message of the conversation.
	ReplyTo MessageID `json:"reply_to,omitempty"`
	// Correlation is opaque data the provider echoes in the delivery
	// statuses of this message (WhatsApp biz_opaque_callback_data). The agent
	// uses it to find the outbound record a status belongs to.
	Correlation string `json:"correlation,omitempty"`
}

// Kind reports the kind of o, or "" when o sets no content or more than one
// kind of content.
func (o Outbound) Kind() OutboundKind {
	var kind OutboundKind
	n := 0
	for _, c := range [...]struct {
		set  bool
		kind OutboundKind
	}{
		{o.Media != nil, OutMedia},
		{o.Interactive != nil, OutInteractive},
		{o.Template != nil, OutTemplate},
		{o.Reaction != nil, OutReaction},
		{o.Location != nil, OutLocation},
		{o.Cards != nil, OutCards},
	} {
		if c.set {
			kind = c.kind
			n++
		}
	}
	switch {
	case n == 0 && o.Text != "":
		return OutText
	case n == 1:
		return kind
	}
	return ""
}

// Validate checks what every channel requires of an Outbound: a complete
// address and exactly one kind of content, with the parts that kind needs.
// The error wraps [ErrInvalidMessage]. Channels call it before checking
// their own limits.
func (o Outbound) Validate() error {
	if o.To.Channel == "" || o.To.Tenant == "" || o.To.User == "" {
		return invalid("recipient address needs channel, tenant and user")
	}
	switch o.Kind() {
	case "":
		return invalid("set text or exactly one of media, interactive, template, reaction, location, cards")
	case OutMedia:
		if o.Media.ID == "" && o.Media.URL == "" {
			return invalid("media needs an id or a url")
		}
		if o.Media.Kind == "" {
			return invalid("media needs a kind")
		}
	case OutInteractive:
		return o.Interactive.validate(o.Text)
	case OutTemplate:
		if o.Template.Name == "" || o.Template.Language == "" {
			return invalid("template needs a name and a language")
		}
	case OutReaction:
		if o.Reaction.MessageID == "" {
			return invalid("reaction needs the id of the message it reacts to")
		}
	case OutCards:
		return validateCards(o.Cards)
	}
	return nil
}

// Card is one card of [Outbound.Cards]: a product, say, with its picture,
// its price as the subtitle, and buttons.
type Card struct {
	// Title is required, at most [MaxCardTitle] characters.
	Title string `json:"title"`
	// Subtitle, such as the price, is at most [MaxCardSubtitle] characters.
	Subtitle string `json:"subtitle,omitempty"`
	// ImageURL is the picture.
	ImageURL string `json:"image_url,omitempty"`
	// URL, when set, opens when the card is tapped.
	URL string `json:"url,omitempty"`
	// Buttons are at most [MaxCardButtons].
	Buttons []CardButton `json:"buttons,omitempty"`
}

// CardButton is a button of a [Card]. Set exactly one of Payload, for a
// button whose tap comes back as a [ReplyPostback] reply with Payload as
// its ID, and URL, for a link.
type CardButton struct {
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
}

func validateCards(cards []Card) error {
	if len(cards) == 0 || len(cards) > MaxCards {
		return invalid(fmt.Sprintf("%d cards; send 1 to %d", len(cards), MaxCards))
	}
	for i, c := range cards {
		if c.Title == "" {
			return invalid(fmt.Sprintf("card %d needs a title", i))
		}
		if n := utf8.RuneCountInString(c.Title); n > MaxCardTitle {
			return invalid(fmt.Sprintf("card %d title is %d characters, more than %d", i, n, MaxCardTitle))
		}
		if n := utf8.RuneCountInString(c.Subtitle); n > MaxCardSubtitle {
			return invalid(fmt.Sprintf("card %d subtitle is %d characters, more than %d", i, n, MaxCardSubtitle))
		}
		if len(c.Buttons) > MaxCardButtons {
			return invalid(fmt.Sprintf("card %d has %d buttons, more than %d", i, len(c.Buttons), MaxCardButtons))
		}
		for j, b := range c.Buttons {
			if b.Title == "" {
				return invalid(fmt.Sprintf("card %d button %d needs a title", i, j))
			}
			if (b.Payload == "") == (b.URL == "") {
				return invalid(fmt.Sprintf("card %d button %d needs either a payload or a url", i, j))
			}
		}
	}
	return nil
}

// Interactive is a message with reply buttons or a list to choose from. Its
// body is Outbound.Text.
type Interactive struct {
	Header string `json:"header,omitempty"`
	Footer string `json:"footer,omitempty"`
	// Buttons are reply buttons; List is a menu. Exactly one is set.
	Buttons []Button `json:"buttons,omitempty"`
	List    *List    `json:"list,omitempty"`
}

func (i *Interactive) validate(body Text) error {
	if body == "" {
		return invalid("interactive message needs a body text")
	}
	if (len(i.Buttons) == 0) == (i.List == nil) {
		return invalid("interactive message needs either buttons or a list")
	}
	for _, b := range i.Buttons {
		if b.ID == "" || b.Title == "" {
			return invalid("every button needs an id and a title")
		}
	}
	if i.List != nil {
		if i.List.Button == "" {
			return invalid("list needs a button label")
		}
		rows := 0
		for _, s := range i.List.Sections {
			for _, r := range s.Rows {
				if r.ID == "" || r.Title == "" {
					return invalid("every list row needs an id and a title")
				}
				rows++
			}
		}
		if rows == 0 {
			return invalid("list needs at least one row")
		}
	}
	return nil
}

// Button is a reply button. Its ID comes back in the user's [Reply].
type Button struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// List is a menu of rows in sections, opened with a button labelled Button.
type List struct {
	Button   string    `json:"button"`
	Sections []Section `json:"sections"`
}

// Section is a titled group of list rows.
type Section struct {
	Title string `json:"title,omitempty"`
	Rows  []Row  `json:"rows"`
}

// Row is one choice of a [List]. Its ID comes back in the user's [Reply].
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// Template is a pre-approved message template, the only kind of message a
// WhatsApp business may send outside the customer-service window.
type Template struct {
	Name     string `json:"name"`
	Language string `json:"language"` // such as "en_US" or "es"
	// Category is the category the template was approved in. Channels do
	// not send it (the provider knows it); the agent sends a
	// [CategoryMarketing] template only to a subject who consented to
	// marketing. Empty means not marketing: set it on marketing templates.
	Category TemplateCategory `json:"category,omitempty"`
	// Header fills a media or text header.
	Header *TemplateHeader `json:"header,omitempty"`
	// Params fill the body's variables: positionally ({{1}}, {{2}}) when
	// Name is empty, by name ({{order_id}}) otherwise. Do not mix the two.
	Params []TemplateParam `json:"params,omitempty"`
	// Buttons fill the template's quick-reply payloads and URL suffixes,
	// by button index.
	Buttons []TemplateButton `json:"buttons,omitempty"`
}

// TemplateCategory is the category of a message template, as WhatsApp
// approves them.
type TemplateCategory string

// Template categories.
const (
	CategoryMarketing      TemplateCategory = "marketing"
	CategoryUtility        TemplateCategory = "utility"
	CategoryAuthentication TemplateCategory = "authentication"
)

// TemplateHeader fills a template's header: Text for a text header with a
// variable, Media for an image, video or document header.
type TemplateHeader struct {
	Text  string `json:"text,omitempty"`
	Media *Media `json:"media,omitempty"`
}

// TemplateParam is one body variable of a template.
type TemplateParam struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
}

// TemplateButton fills the dynamic part of one template button.
type TemplateButton struct {
	Index int `json:"index"`
	// Payload is returned in the user's quick reply; URLSuffix completes a
	// dynamic URL button. Set one.
	Payload   string `json:"payload,omitempty"`
	URLSuffix string `json:"url_suffix,omitempty"`
}

func invalid(msg string) error {
	return fmt.Errorf("%w: %s", ErrInvalidMessage, msg)
}
