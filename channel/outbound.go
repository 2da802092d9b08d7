package channel

import (
	"fmt"
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
)

// Outbound is a message to send, in channel-neutral form. Set Text alone for
// a text message, or exactly one of Media, Interactive, Template, Reaction or
// Location; Text is then the media caption or the interactive body. Channels
// translate it to their wire format and check their own limits (button
// counts, lengths) in Send.
type Outbound struct {
	To          Address      `json:"to"`
	Text        Text         `json:"text,omitempty"`
	Media       *Media       `json:"media,omitempty"`
	Interactive *Interactive `json:"interactive,omitempty"`
	Template    *Template    `json:"template,omitempty"`
	Reaction    *Reaction    `json:"reaction,omitempty"`
	Location    *Location    `json:"location,omitempty"`

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
		return invalid("set text or exactly one of media, interactive, template, reaction, location")
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
