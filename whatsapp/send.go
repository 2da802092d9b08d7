package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// WhatsApp's limits, checked before any request. Lengths count characters
// (Unicode code points).
const (
	maxText           = 4096 // text body; longer texts are split
	maxCaption        = 1024
	maxButtons        = 3
	maxButtonTitle    = 20
	maxButtonID       = 256
	maxInteractive    = 1024 // interactive body
	maxHeader         = 60
	maxFooter         = 60
	maxSections       = 10
	maxRows           = 10 // in all sections together
	maxRowID          = 200
	maxRowTitle       = 24
	maxRowDescription = 72
	maxSectionTitle   = 24
	maxListButton     = 20
	maxCorrelation    = 512
	maxTemplateName   = 512
	maxTemplateButton = 10
	maxParamName      = 20
)

var paramName = regexp.MustCompile(`^[a-z0-9_]+$`)

// The wire format of POST /{phone-number-id}/messages.
type wireMessage struct {
	MessagingProduct string           `json:"messaging_product"`
	RecipientType    string           `json:"recipient_type"`
	To               string           `json:"to,omitempty"`
	Recipient        string           `json:"recipient,omitempty"`
	Context          *wireContext     `json:"context,omitempty"`
	BizOpaque        string           `json:"biz_opaque_callback_data,omitempty"`
	Type             string           `json:"type"`
	Text             *wireText        `json:"text,omitempty"`
	Image            *wireMedia       `json:"image,omitempty"`
	Audio            *wireMedia       `json:"audio,omitempty"`
	Video            *wireMedia       `json:"video,omitempty"`
	Document         *wireMedia       `json:"document,omitempty"`
	Sticker          *wireMedia       `json:"sticker,omitempty"`
	Interactive      *wireInteractive `json:"interactive,omitempty"`
	Template         *wireTemplate    `json:"template,omitempty"`
	Reaction         *wireReaction    `json:"reaction,omitempty"`
	Location         *wireLocation    `json:"location,omitempty"`
}

type wireContext struct {
	MessageID string `json:"message_id"`
}

type wireText struct {
	PreviewURL bool   `json:"preview_url,omitempty"`
	Body       string `json:"body"`
}

type wireMedia struct {
	ID       string `json:"id,omitempty"`
	Link     string `json:"link,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

type wireInteractive struct {
	Type   string      `json:"type"`
	Header *wireHeader `json:"header,omitempty"`
	Body   wireBody    `json:"body"`
	Footer *wireBody   `json:"footer,omitempty"`
	Action wireAction  `json:"action"`
}

type wireHeader struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type wireBody struct {
	Text string `json:"text"`
}

type wireAction struct {
	Button   string        `json:"button,omitempty"`
	Buttons  []wireButton  `json:"buttons,omitempty"`
	Sections []wireSection `json:"sections,omitempty"`
}

type wireButton struct {
	Type  string    `json:"type"`
	Reply wireReply `json:"reply"`
}

type wireReply struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type wireSection struct {
	Title string    `json:"title,omitempty"`
	Rows  []wireRow `json:"rows"`
}

type wireRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

type wireTemplate struct {
	Name       string          `json:"name"`
	Language   wireLanguage    `json:"language"`
	Components []wireComponent `json:"components,omitempty"`
}

type wireLanguage struct {
	Code string `json:"code"`
}

type wireComponent struct {
	Type       string      `json:"type"`
	SubType    string      `json:"sub_type,omitempty"`
	Index      string      `json:"index,omitempty"`
	Parameters []wireParam `json:"parameters"`
}

type wireParam struct {
	Type          string     `json:"type"`
	ParameterName string     `json:"parameter_name,omitempty"`
	Text          string     `json:"text,omitempty"`
	Payload       string     `json:"payload,omitempty"`
	Image         *wireMedia `json:"image,omitempty"`
	Video         *wireMedia `json:"video,omitempty"`
	Document      *wireMedia `json:"document,omitempty"`
}

type wireReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"` // empty removes the reaction
}

type wireLocation struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

type sendResponse struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

// Send implements [channel.Channel]. It validates out with
// [channel.Outbound.Validate] and then against WhatsApp's limits, before
// any request; a message that breaks them returns an error wrapping
// [channel.ErrInvalidMessage] that names the limit:
//
//   - text: bodies over 4096 characters are split, on a paragraph, line,
//     sentence or word boundary in that order of preference, into several
//     messages sent in order (ReplyTo quotes the first; Correlation tags
//     all); the result lists every id.
//   - media: image, audio, video, document or sticker by id or link;
//     Outbound.Text is the caption (at most 1024 characters; audio and
//     stickers take none); Filename names documents.
//   - interactive: a body (Outbound.Text, at most 1024) with at most 3
//     reply buttons (title at most 20, id at most 256, all different) or
//     a list (button label at most 20, at most 10 sections and 10 rows in
//     all, row id at most 200, title 24, description 72; sections need
//     titles when there are several); header and footer at most 60.
//   - template: positional or named body parameters (names of lower-case
//     letters, digits and '_', at most 20), a text or media header, and
//     quick-reply payloads or URL suffixes for buttons 0-9.
//   - reaction (an empty emoji removes it) and location.
//
// With Options.Accounts set, a template is also checked against the
// business account's cached template list (see [Options]): it must exist
// in the language, be APPROVED, and the parameters must fill its
// components; otherwise Send fails before any send request with
// [ErrTemplateNotFound], [ErrTemplateNotApproved] or [ErrTemplateParams].
//
// The recipient, out.To.User, is a phone number (wa_id, digits) or a
// business-scoped user id (such as "US.13491208655302741918"), sent as
// "to" and "recipient" respectively. out.Correlation (at most 512
// characters) is sent as biz_opaque_callback_data and comes back in the
// message's statuses.
//
// Each message first waits for the business number's throughput and for
// the pacing of messages to the user: sends queue rather than fail. Only a
// wait that would outlast ctx's deadline fails, at once, with
// [channel.ErrRateLimited].
//
// Failures are classified with [Kind]. Rate limits and temporary failures
// are retried with exponential backoff and jitter, honouring Retry-After,
// up to Options.MaxAttempts requests per message; after a pair rate limit
// (131056) the user's messages wait RetryDelay×4^n. Other failures are
// returned at once. A retry whose wait would outlast ctx's deadline is not
// attempted: Send returns the last failure at once. Its
// channel.Error.RetryAfter is the wait the API asked for (Retry-After,
// X-Business-Use-Case-Usage) or the pause its rate limit calls for
// (130429, 4, 80007: at least RetryDelay; 131056: the pair backoff), and
// the number's or the user's next sends wait for it too. A request whose
// outcome is unknown is never retried (see [ErrUncertain]).
//
// Errors are [*channel.Error] values, with the number of requests made in
// Attempts; [errors.As] also finds the [*GraphError] when the API answered
// one. When a split text fails after some parts were sent, the result
// holds the ids of those parts along with the error.
func (c *Client) Send(ctx context.Context, out channel.Outbound) (channel.SendResult, error) {
	if err := out.Validate(); err != nil {
		return channel.SendResult{}, err
	}
	if out.To.Channel != channel.WhatsApp {
		return channel.SendResult{}, invalidf("address of channel %q", out.To.Channel)
	}
	if !validTenant(out.To.Tenant) {
		return channel.SendResult{}, invalidf("the tenant must be a phone_number_id")
	}
	msgs, err := c.build(out)
	if err != nil {
		return channel.SendResult{}, err
	}
	if out.Template != nil && c.accounts != nil {
		if err := c.checkTemplate(ctx, out.To.Tenant, out.Template); err != nil {
			return channel.SendResult{}, err
		}
	}
	tenant := c.tenantLimiter(out.To.Tenant)
	pair := c.limits.pair(out.To, c.pairInterval, c.pairBurst)
	waitLimits := func(ctx context.Context) error {
		waited, err := tenant.wait(ctx)
		if waited {
			c.n.throughputWaits.Add(1)
		}
		if err != nil {
			return err
		}
		waited, err = pair.wait(ctx)
		if waited {
			c.n.pairWaits.Add(1)
		}
		return err
	}
	onError := func(e *channel.Error) time.Duration {
		switch e.Code {
		case 131056:
			c.n.pairWaits.Add(1)
			return pair.strike(c.retryDelay)
		case 130429, 4, 80007, 613:
			d := max(e.RetryAfter, c.retryDelay)
			tenant.pause(d)
			return d
		}
		return 0
	}
	res := channel.SendResult{IDs: make([]channel.MessageID, 0, len(msgs))}
	for _, body := range msgs {
		if err := waitLimits(ctx); err != nil {
			return c.failed(res, fmt.Errorf("whatsapp: waiting for the rate limits: %w", err))
		}
		var resp sendResponse
		r, err := c.call(ctx, call{
			op: "send", tenant: out.To.Tenant, method: http.MethodPost,
			path: "/" + string(out.To.Tenant) + "/messages", body: body, contentType: "application/json",
			attempts: c.maxAttempts, before: waitLimits, onError: onError,
		}, &resp)
		res.Attempts += r.attempts
		if err != nil {
			var ce *channel.Error
			if errors.As(err, &ce) {
				ce.Attempts = res.Attempts
			}
			return c.failed(res, err)
		}
		if len(resp.Messages) == 0 || resp.Messages[0].ID == "" {
			return c.failed(res, &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnavailable, HTTPStatus: http.StatusOK, Attempts: res.Attempts,
				Err: fmt.Errorf("%w: the answer has no message id", ErrUncertain)})
		}
		pair.ok()
		res.IDs = append(res.IDs, channel.MessageID(resp.Messages[0].ID))
	}
	c.n.sent.Add(1)
	return res, nil
}

func (c *Client) failed(res channel.SendResult, err error) (channel.SendResult, error) {
	c.n.failed.Add(1)
	if len(res.IDs) == 0 {
		res.IDs = nil
	}
	return res, err
}

// build validates out against WhatsApp's limits and returns the request
// bodies that send it: several for a long text.
func (c *Client) build(out channel.Outbound) ([][]byte, error) {
	base := wireMessage{MessagingProduct: "whatsapp", RecipientType: "individual"}
	user := string(out.To.User)
	switch {
	case isPhone(user):
		base.To = strings.TrimPrefix(user, "+")
	case isBSUID(user):
		base.Recipient = user
	default:
		return nil, invalidf("recipient is neither a phone number nor a business-scoped user id")
	}
	if out.ReplyTo != "" {
		base.Context = &wireContext{MessageID: string(out.ReplyTo)}
	}
	if n := utf8.RuneCountInString(out.Correlation); n > maxCorrelation {
		return nil, invalidf("correlation data is %d characters, more than %d", n, maxCorrelation)
	}
	base.BizOpaque = out.Correlation

	var msgs []wireMessage
	switch out.Kind() {
	case channel.OutText:
		for i, part := range meta.SplitText(string(out.Text), maxText, meta.UTF16Width) {
			m := base
			if i > 0 {
				m.Context = nil
			}
			m.Type = "text"
			m.Text = &wireText{Body: part, PreviewURL: c.linkPreviews && hasURL(part)}
			msgs = append(msgs, m)
		}
	case channel.OutMedia:
		m := base
		if err := buildMedia(&m, out.Media, string(out.Text)); err != nil {
			return nil, err
		}
		msgs = append(msgs, m)
	case channel.OutInteractive:
		m := base
		in, err := buildInteractive(out.Interactive, string(out.Text))
		if err != nil {
			return nil, err
		}
		m.Type, m.Interactive = "interactive", in
		msgs = append(msgs, m)
	case channel.OutTemplate:
		if out.Text != "" {
			return nil, invalidf("a template carries no text of its own; fill its parameters")
		}
		m := base
		t, err := buildTemplate(out.Template)
		if err != nil {
			return nil, err
		}
		m.Type, m.Template = "template", t
		msgs = append(msgs, m)
	case channel.OutReaction:
		if out.Text != "" {
			return nil, invalidf("a reaction carries no text")
		}
		m := base
		m.Context = nil // the reaction names its message itself
		m.Type = "reaction"
		m.Reaction = &wireReaction{MessageID: string(out.Reaction.MessageID), Emoji: out.Reaction.Emoji}
		if utf8.RuneCountInString(out.Reaction.Emoji) > 10 {
			return nil, invalidf("a reaction is one emoji")
		}
		msgs = append(msgs, m)
	case channel.OutLocation:
		if out.Text != "" {
			return nil, invalidf("a location carries no text; use its name and address")
		}
		l := out.Location
		if l.Latitude < -90 || l.Latitude > 90 || l.Longitude < -180 || l.Longitude > 180 {
			return nil, invalidf("location coordinates out of range")
		}
		m := base
		m.Type = "location"
		m.Location = &wireLocation{Latitude: l.Latitude, Longitude: l.Longitude, Name: l.Name, Address: l.Address}
		msgs = append(msgs, m)
	default:
		return nil, &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnsupported, Err: fmt.Errorf("whatsapp: cannot send a message of kind %q", out.Kind())}
	}
	bodies := make([][]byte, len(msgs))
	for i, m := range msgs {
		b, err := meta.Marshal(m)
		if err != nil {
			return nil, err
		}
		bodies[i] = b
	}
	return bodies, nil
}

func buildMedia(m *wireMessage, media *channel.Media, caption string) error {
	w := &wireMedia{ID: media.ID, Link: media.URL}
	if w.ID != "" {
		w.Link = "" // the id wins: it is what WhatsApp already holds
	} else if !strings.HasPrefix(w.Link, "https://") && !strings.HasPrefix(w.Link, "http://") {
		return invalidf("media link must be an http or https URL")
	}
	switch media.Kind {
	case channel.Image, channel.Video, channel.Document:
		if n := utf8.RuneCountInString(caption); n > maxCaption {
			return invalidf("caption is %d characters, more than %d", n, maxCaption)
		}
		w.Caption = caption
	case channel.Audio, channel.Sticker:
		if caption != "" {
			return invalidf("%s messages take no caption", media.Kind)
		}
	default:
		return &channel.Error{Channel: channel.WhatsApp, Kind: channel.ErrUnsupported, Err: fmt.Errorf("whatsapp: cannot send media of kind %q", media.Kind)}
	}
	if media.Kind == channel.Document {
		w.Filename = media.Filename
	}
	m.Type = string(media.Kind)
	switch media.Kind {
	case channel.Image:
		m.Image = w
	case channel.Audio:
		m.Audio = w
	case channel.Video:
		m.Video = w
	case channel.Document:
		m.Document = w
	case channel.Sticker:
		m.Sticker = w
	}
	return nil
}

func buildInteractive(in *channel.Interactive, body string) (*wireInteractive, error) {
	if n := utf8.RuneCountInString(body); n > maxInteractive {
		return nil, invalidf("interactive body is %d characters, more than %d", n, maxInteractive)
	}
	w := &wireInteractive{Body: wireBody{Text: body}}
	if in.Header != "" {
		if n := utf8.RuneCountInString(in.Header); n > maxHeader {
			return nil, invalidf("interactive header is %d characters, more than %d", n, maxHeader)
		}
		w.Header = &wireHeader{Type: "text", Text: in.Header}
	}
	if in.Footer != "" {
		if n := utf8.RuneCountInString(in.Footer); n > maxFooter {
			return nil, invalidf("interactive footer is %d characters, more than %d", n, maxFooter)
		}
		w.Footer = &wireBody{Text: in.Footer}
	}
	if len(in.Buttons) > 0 {
		if len(in.Buttons) > maxButtons {
			return nil, invalidf("%d buttons, more than %d", len(in.Buttons), maxButtons)
		}
		w.Type = "button"
		ids := make(map[string]bool, len(in.Buttons))
		titles := make(map[string]bool, len(in.Buttons))
		for i, b := range in.Buttons {
			if n := utf8.RuneCountInString(b.Title); n > maxButtonTitle {
				return nil, invalidf("button %d title is %d characters, more than %d", i, n, maxButtonTitle)
			}
			if n := utf8.RuneCountInString(b.ID); n > maxButtonID {
				return nil, invalidf("button %d id is %d characters, more than %d", i, n, maxButtonID)
			}
			if ids[b.ID] || titles[b.Title] {
				return nil, invalidf("button %d repeats the id or title of another button", i)
			}
			ids[b.ID], titles[b.Title] = true, true
			w.Action.Buttons = append(w.Action.Buttons, wireButton{Type: "reply", Reply: wireReply{ID: b.ID, Title: b.Title}})
		}
		return w, nil
	}
	l := in.List
	w.Type = "list"
	if n := utf8.RuneCountInString(l.Button); n > maxListButton {
		return nil, invalidf("list button label is %d characters, more than %d", n, maxListButton)
	}
	if len(l.Sections) > maxSections {
		return nil, invalidf("%d list sections, more than %d", len(l.Sections), maxSections)
	}
	w.Action.Button = l.Button
	rows := 0
	ids := make(map[string]bool)
	for i, s := range l.Sections {
		if len(l.Sections) > 1 && s.Title == "" {
			return nil, invalidf("list section %d needs a title: a list with several sections titles each", i)
		}
		if n := utf8.RuneCountInString(s.Title); n > maxSectionTitle {
			return nil, invalidf("list section %d title is %d characters, more than %d", i, n, maxSectionTitle)
		}
		if len(s.Rows) == 0 {
			return nil, invalidf("list section %d has no rows", i)
		}
		ws := wireSection{Title: s.Title, Rows: make([]wireRow, 0, len(s.Rows))}
		for j, r := range s.Rows {
			rows++
			if n := utf8.RuneCountInString(r.ID); n > maxRowID {
				return nil, invalidf("list row %d.%d id is %d characters, more than %d", i, j, n, maxRowID)
			}
			if n := utf8.RuneCountInString(r.Title); n > maxRowTitle {
				return nil, invalidf("list row %d.%d title is %d characters, more than %d", i, j, n, maxRowTitle)
			}
			if n := utf8.RuneCountInString(r.Description); n > maxRowDescription {
				return nil, invalidf("list row %d.%d description is %d characters, more than %d", i, j, n, maxRowDescription)
			}
			if ids[r.ID] {
				return nil, invalidf("list row %d.%d repeats the id of another row", i, j)
			}
			ids[r.ID] = true
			ws.Rows = append(ws.Rows, wireRow{ID: r.ID, Title: r.Title, Description: r.Description})
		}
		w.Action.Sections = append(w.Action.Sections, ws)
	}
	if rows > maxRows {
		return nil, invalidf("%d list rows, more than %d in all sections", rows, maxRows)
	}
	return w, nil
}

func buildTemplate(t *channel.Template) (*wireTemplate, error) {
	if n := utf8.RuneCountInString(t.Name); n > maxTemplateName {
		return nil, invalidf("template name is %d characters, more than %d", n, maxTemplateName)
	}
	w := &wireTemplate{Name: t.Name, Language: wireLanguage{Code: t.Language}}
	if h := t.Header; h != nil {
		if (h.Text == "") == (h.Media == nil) {
			return nil, invalidf("template header needs either text or media")
		}
		var p wireParam
		if h.Media != nil {
			m := &wireMedia{ID: h.Media.ID, Link: h.Media.URL}
			if m.ID != "" {
				m.Link = ""
			} else if m.Link == "" {
				return nil, invalidf("template header media needs an id or a link")
			}
			switch h.Media.Kind {
			case channel.Image:
				p = wireParam{Type: "image", Image: m}
			case channel.Video:
				p = wireParam{Type: "video", Video: m}
			case channel.Document:
				m.Filename = h.Media.Filename
				p = wireParam{Type: "document", Document: m}
			default:
				return nil, invalidf("template header media must be an image, video or document")
			}
		} else {
			p = wireParam{Type: "text", Text: h.Text}
		}
		w.Components = append(w.Components, wireComponent{Type: "header", Parameters: []wireParam{p}})
	}
	if len(t.Params) > 0 {
		named := t.Params[0].Name != ""
		body := wireComponent{Type: "body", Parameters: make([]wireParam, 0, len(t.Params))}
		seen := make(map[string]bool)
		for i, p := range t.Params {
			if (p.Name != "") != named {
				return nil, invalidf("template parameters are either all named or all positional")
			}
			if p.Value == "" {
				return nil, invalidf("template parameter %d has no value", i)
			}
			if named {
				if len(p.Name) > maxParamName || !paramName.MatchString(p.Name) {
					return nil, invalidf("template parameter %d: names are 1-%d lower-case letters, digits or '_'", i, maxParamName)
				}
				if seen[p.Name] {
					return nil, invalidf("template parameter %d repeats a name", i)
				}
				seen[p.Name] = true
			}
			body.Parameters = append(body.Parameters, wireParam{Type: "text", ParameterName: p.Name, Text: p.Value})
		}
		w.Components = append(w.Components, body)
	}
	seen := make(map[int]bool)
	for i, b := range t.Buttons {
		if b.Index < 0 || b.Index >= maxTemplateButton {
			return nil, invalidf("template button %d: index must be 0-%d", i, maxTemplateButton-1)
		}
		if seen[b.Index] {
			return nil, invalidf("template button %d repeats index %d", i, b.Index)
		}
		seen[b.Index] = true
		c := wireComponent{Type: "button", Index: strconv.Itoa(b.Index)}
		switch {
		case b.Payload != "" && b.URLSuffix == "":
			c.SubType = "quick_reply"
			c.Parameters = []wireParam{{Type: "payload", Payload: b.Payload}}
		case b.URLSuffix != "" && b.Payload == "":
			c.SubType = "url"
			c.Parameters = []wireParam{{Type: "text", Text: b.URLSuffix}}
		default:
			return nil, invalidf("template button %d needs either a payload or a URL suffix", i)
		}
		w.Components = append(w.Components, c)
	}
	return w, nil
}

// isPhone reports whether s is a wa_id: digits, with an optional '+'.
func isPhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) < 5 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isBSUID reports whether s looks like a business-scoped user id: a
// two-letter country code, a period and an alphanumeric id, possibly with
// more period-separated parts (parent ids: "US.ENT.1181...").
func isBSUID(s string) bool {
	if len(s) < 4 || len(s) > 256 {
		return false
	}
	if !isUpper(s[0]) || !isUpper(s[1]) || s[2] != '.' {
		return false
	}
	for i := 3; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || isUpper(c) || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return s[len(s)-1] != '.'
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

func hasURL(s string) bool {
	return strings.Contains(s, "https://") || strings.Contains(s, "http://")
}
