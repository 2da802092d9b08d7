package instagram

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// Instagram's limits, checked before any request.
const (
	maxTextBytes      = 1000 // text, UTF-8 bytes; longer texts are split
	maxQuickReplies   = 13
	maxQuickTitle     = 20 // characters
	maxPayload        = 1000
	maxCardButtonText = 20 // characters; channel.Outbound.Validate checks the other card limits
)

// HumanAgentTag is the message tag with which a human agent answers after
// the 24-hour window, up to [HumanAgentWindow] after the user's latest
// message.
const HumanAgentTag = "HUMAN_AGENT"

// The wire format of POST /{ig-id}/messages.
type wireSend struct {
	Recipient     wireRecipient `json:"recipient"`
	MessagingType string        `json:"messaging_type"`
	Tag           string        `json:"tag,omitempty"`
	Message       wireMessage   `json:"message"`
}

type wireRecipient struct {
	ID string `json:"id"`
}

type wireMessage struct {
	Text         string           `json:"text,omitempty"`
	Attachment   *wireAttachment  `json:"attachment,omitempty"`
	QuickReplies []wireQuickReply `json:"quick_replies,omitempty"`
}

type wireAttachment struct {
	Type    string      `json:"type"`
	Payload wirePayload `json:"payload"`
}

type wirePayload struct {
	URL          string        `json:"url,omitempty"`
	TemplateType string        `json:"template_type,omitempty"`
	Elements     []wireElement `json:"elements,omitempty"`
}

type wireElement struct {
	Title         string       `json:"title"`
	ImageURL      string       `json:"image_url,omitempty"`
	Subtitle      string       `json:"subtitle,omitempty"`
	DefaultAction *wireAction  `json:"default_action,omitempty"`
	Buttons       []wireButton `json:"buttons,omitempty"`
}

type wireAction struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type wireButton struct {
	Type    string `json:"type"`
	Title   string `json:"title"`
	URL     string `json:"url,omitempty"`
	Payload string `json:"payload,omitempty"`
}

type wireQuickReply struct {
	ContentType string `json:"content_type"`
	Title       string `json:"title"`
	Payload     string `json:"payload"`
}

type sendResponse struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

// Send implements [channel.Channel]. It validates out with
// [channel.Outbound.Validate] and then against Instagram's limits, before
// any request; a message that breaks them returns an error wrapping
// [channel.ErrInvalidMessage] that names the limit:
//
//   - text: bodies over 1000 bytes (Instagram counts UTF-8 bytes) are
//     split, on a paragraph, line, sentence or word boundary, into several
//     messages sent in order; the result lists every id.
//   - media: image, video, audio or document (sent as a file attachment),
//     by URL (http or https); Instagram takes no captions, so
//     Outbound.Text follows as a text message. Media ids and stickers are
//     not supported ([channel.ErrUnsupported]).
//   - interactive buttons: quick replies, at most 13, titles at most 20
//     characters, ids (the payload) at most 1000 bytes and all different,
//     under Outbound.Text (at most 1000 bytes, with the header and footer
//     folded in as first and last paragraphs).
//   - cards: Outbound.Text, if any, as a text message, then the cards as a
//     generic template (a carousel when there are several), within the
//     limits [channel.Outbound.Validate] checks and Instagram's: every card
//     has a subtitle, picture, URL or button besides its title; button
//     titles are at most 20 characters, payloads at most 1000 bytes; the
//     picture and URLs are http or https. Card.URL is the default action;
//     a tapped payload button comes back as a [channel.ReplyPostback]
//     reply with the payload as its ID.
//   - interactive list: Outbound.Text as a text message, then the rows as
//     cards (title: the row title; subtitle: its description), at most 10,
//     each with a postback button labelled List.Button (at most 20
//     characters) whose payload is the row id. Section titles are not
//     shown.
//   - templates, reactions and locations are not supported
//     ([channel.ErrUnsupported]).
//
// Outbound.ReplyTo and Outbound.Correlation are not sent: delivery
// statuses (echo, read) name the message by the id Send returns.
//
// The 24-hour window: when the client knows, from a [Webhook] configured
// with it, that the user last wrote more than [ServiceWindow] ago, Send
// fails at once with [channel.ErrWindowClosed] and makes no request; when
// it does not know, the API decides (error subcode 2534022, classified the
// same). A message with Outbound.Human set, written by a person, has
// [HumanAgentWindow] (7 days) instead: it is tagged HUMAN_AGENT
// (messaging_type MESSAGE_TAG) unless the client knows the user wrote
// within the last 24 hours. The app needs Meta's Human Agent permission
// for tagged messages, and Meta forbids the tag on automated messages.
//
// Each message first waits for the account's throughput (and audio and
// video for the media throughput); sends queue rather than fail, and only
// a wait that would outlast ctx's deadline fails, at once, with
// [channel.ErrRateLimited]. Failures are classified with [Kind]; rate
// limits and temporary failures are retried with exponential backoff and
// jitter, honouring Retry-After, up to Options.MaxAttempts requests per
// message. A request whose outcome is unknown is never retried (see
// [ErrUncertain]). Errors are [*channel.Error] values; [errors.As] also
// finds the [*GraphError]. When a split message fails after some parts
// were sent, the result holds the ids of those parts along with the error.
func (c *Client) Send(ctx context.Context, out channel.Outbound) (channel.SendResult, error) {
	if err := out.Validate(); err != nil {
		return channel.SendResult{}, err
	}
	if err := c.checkAddress(out.To); err != nil {
		return channel.SendResult{}, err
	}
	parts, err := build(out)
	if err != nil {
		return channel.SendResult{}, err
	}
	return c.deliver(ctx, out.To, parts, out.Human)
}

// part is one request of a send.
type part struct {
	msg   wireMessage
	media bool // audio or video: paced by the media throughput
}

func (c *Client) checkAddress(to channel.Address) error {
	if to.Channel != channel.Instagram {
		return invalidf("address of channel %q", to.Channel)
	}
	if !validID(to.Tenant) {
		return invalidf("the tenant must be an Instagram professional account id")
	}
	if !validID(to.User) {
		return invalidf("the user must be an Instagram-scoped id (IGSID)")
	}
	return nil
}

// windowTag returns the tag a message to to needs, or ErrWindowClosed when
// the client knows the window has closed.
func (c *Client) windowTag(to channel.Address, human bool) (string, error) {
	age, known := c.windows.since(to)
	switch {
	case !human && known && age > ServiceWindow:
		return "", &channel.Error{Channel: channel.Instagram, Kind: channel.ErrWindowClosed,
			Err: errors.New("instagram: the user last wrote more than 24 hours ago")}
	case human && known && age > HumanAgentWindow:
		return "", &channel.Error{Channel: channel.Instagram, Kind: channel.ErrWindowClosed,
			Err: errors.New("instagram: the user last wrote more than 7 days ago")}
	case human && (!known || age > ServiceWindow):
		return HumanAgentTag, nil
	}
	return "", nil
}

func (c *Client) deliver(ctx context.Context, to channel.Address, parts []part, human bool) (channel.SendResult, error) {
	tag, err := c.windowTag(to, human)
	if err != nil {
		c.n.windowClosed.Add(1)
		return c.failed(channel.SendResult{}, err)
	}
	tenant := c.limits.Get(to.Tenant, rate.Limit(c.throughput), c.throughput, time.Second)
	res := channel.SendResult{IDs: make([]channel.MessageID, 0, len(parts))}
	for _, p := range parts {
		var media *meta.Limiter
		if p.media {
			media = c.media.Get(to.Tenant, rate.Limit(c.mediaRate), c.mediaRate, time.Second)
		}
		waitLimits := func(ctx context.Context) error {
			waited, err := tenant.Wait(ctx)
			if err == nil && media != nil {
				var w bool
				w, err = media.Wait(ctx)
				waited = waited || w
			}
			if waited {
				c.n.throughputWaits.Add(1)
			}
			return c.limitErr(err)
		}
		onError := func(e *channel.Error) time.Duration {
			if errors.Is(e, channel.ErrRateLimited) {
				d := max(e.RetryAfter, c.retryDelay)
				tenant.Pause(d)
				return d
			}
			return 0
		}
		if err := waitLimits(ctx); err != nil {
			return c.failed(res, fmt.Errorf("instagram: waiting for the rate limits: %w", err))
		}
		w := wireSend{Recipient: wireRecipient{ID: string(to.User)}, MessagingType: "RESPONSE", Message: p.msg}
		if tag != "" {
			w.MessagingType, w.Tag = "MESSAGE_TAG", tag
		}
		body, err := meta.Marshal(w)
		if err != nil {
			return c.failed(res, err)
		}
		var resp sendResponse
		r, err := c.call(ctx, to.Tenant, meta.Call{Op: "send", Method: http.MethodPost, URL: c.messagesURL(to.Tenant), Body: body,
			ContentType: "application/json", Attempts: c.maxAttempts, Before: waitLimits, OnError: onError, Out: &resp})
		res.Attempts += r.Attempts
		if err != nil {
			var ce *channel.Error
			if errors.As(err, &ce) {
				ce.Attempts = res.Attempts
			}
			return c.failed(res, err)
		}
		if resp.MessageID == "" {
			return c.failed(res, &channel.Error{Channel: channel.Instagram, Kind: channel.ErrUnavailable, HTTPStatus: http.StatusOK, Attempts: res.Attempts,
				Err: fmt.Errorf("%w: the answer has no message id", ErrUncertain)})
		}
		res.IDs = append(res.IDs, channel.MessageID(resp.MessageID))
	}
	if tag != "" {
		c.n.humanTags.Add(1)
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

// build validates out against Instagram's limits and returns the messages
// that send it.
func build(out channel.Outbound) ([]part, error) {
	switch out.Kind() {
	case channel.OutText:
		return textParts(string(out.Text)), nil
	case channel.OutMedia:
		m := out.Media
		var typ string
		switch m.Kind {
		case channel.Image:
			typ = "image"
		case channel.Video:
			typ = "video"
		case channel.Audio:
			typ = "audio"
		case channel.Document:
			typ = "file"
		default:
			return nil, unsupportedf("cannot send media of kind %q", m.Kind)
		}
		if m.URL == "" {
			return nil, unsupportedf("media is sent by url; media ids are not supported")
		}
		if !isHTTP(m.URL) {
			return nil, invalidf("media url must be an http or https URL")
		}
		parts := []part{{msg: wireMessage{Attachment: &wireAttachment{Type: typ, Payload: wirePayload{URL: m.URL}}}, media: typ == "audio" || typ == "video"}}
		if out.Text != "" {
			parts = append(parts, textParts(string(out.Text))...)
		}
		return parts, nil
	case channel.OutInteractive:
		in := out.Interactive
		if in.List != nil {
			return buildList(out)
		}
		return buildQuickReplies(in, string(out.Text))
	case channel.OutCards:
		tpl, err := buildCards(out.Cards)
		if err != nil {
			return nil, err
		}
		var parts []part
		if out.Text != "" {
			parts = textParts(string(out.Text))
		}
		return append(parts, part{msg: tpl}), nil
	}
	return nil, unsupportedf("cannot send a message of kind %q", out.Kind())
}

func textParts(text string) []part {
	texts := meta.SplitText(text, maxTextBytes, meta.UTF8Width)
	parts := make([]part, len(texts))
	for i, t := range texts {
		parts[i] = part{msg: wireMessage{Text: t}}
	}
	return parts
}

func buildQuickReplies(in *channel.Interactive, body string) ([]part, error) {
	text := body
	if in.Header != "" {
		text = in.Header + "\n\n" + text
	}
	if in.Footer != "" {
		text += "\n\n" + in.Footer
	}
	if n := len(text); n > maxTextBytes {
		return nil, invalidf("quick reply text is %d bytes, more than %d (header and footer included)", n, maxTextBytes)
	}
	if len(in.Buttons) > maxQuickReplies {
		return nil, invalidf("%d quick replies, more than %d", len(in.Buttons), maxQuickReplies)
	}
	msg := wireMessage{Text: text, QuickReplies: make([]wireQuickReply, 0, len(in.Buttons))}
	seen := make(map[string]bool, len(in.Buttons))
	for i, b := range in.Buttons {
		if n := utf8.RuneCountInString(b.Title); n > maxQuickTitle {
			return nil, invalidf("quick reply %d title is %d characters, more than %d", i, n, maxQuickTitle)
		}
		if n := len(b.ID); n > maxPayload {
			return nil, invalidf("quick reply %d id is %d bytes, more than %d", i, n, maxPayload)
		}
		if seen[b.ID] {
			return nil, invalidf("quick reply %d repeats the id of another", i)
		}
		seen[b.ID] = true
		msg.QuickReplies = append(msg.QuickReplies, wireQuickReply{ContentType: "text", Title: b.Title, Payload: b.ID})
	}
	return []part{{msg: msg}}, nil
}

// buildList sends the list out.Interactive.List as its body text and the
// rows as cards.
func buildList(out channel.Outbound) ([]part, error) {
	in := out.Interactive
	l := in.List
	var cards []channel.Card
	for _, s := range l.Sections {
		for _, r := range s.Rows {
			cards = append(cards, channel.Card{Title: r.Title, Subtitle: r.Description, Buttons: []channel.CardButton{{Title: l.Button, Payload: r.ID}}})
		}
	}
	// The rows become cards, held to the limits of cards.
	if err := (channel.Outbound{To: out.To, Cards: cards}).Validate(); err != nil {
		return nil, fmt.Errorf("instagram: list rows as cards: %w", err)
	}
	tpl, err := buildCards(cards)
	if err != nil {
		return nil, err
	}
	text := string(out.Text)
	if in.Header != "" {
		text = in.Header + "\n\n" + text
	}
	if in.Footer != "" {
		text += "\n\n" + in.Footer
	}
	return append(textParts(text), part{msg: tpl}), nil
}

// buildCards returns the generic template that shows cards, which
// [channel.Outbound.Validate] has checked, after checking Instagram's own
// limits.
func buildCards(cards []channel.Card) (wireMessage, error) {
	payload := wirePayload{TemplateType: "generic", Elements: make([]wireElement, 0, len(cards))}
	for i, cd := range cards {
		if cd.Subtitle == "" && cd.ImageURL == "" && cd.URL == "" && len(cd.Buttons) == 0 {
			return wireMessage{}, invalidf("card %d needs a subtitle, picture, url or button besides its title", i)
		}
		e := wireElement{Title: cd.Title, Subtitle: cd.Subtitle, ImageURL: cd.ImageURL}
		if cd.ImageURL != "" && !isHTTP(cd.ImageURL) {
			return wireMessage{}, invalidf("card %d picture must be an http or https URL", i)
		}
		if cd.URL != "" {
			if !isHTTP(cd.URL) {
				return wireMessage{}, invalidf("card %d url must be an http or https URL", i)
			}
			e.DefaultAction = &wireAction{Type: "web_url", URL: cd.URL}
		}
		for j, b := range cd.Buttons {
			if n := utf8.RuneCountInString(b.Title); n > maxCardButtonText {
				return wireMessage{}, invalidf("card %d button %d title is %d characters, more than %d", i, j, n, maxCardButtonText)
			}
			if b.Payload != "" {
				if len(b.Payload) > maxPayload {
					return wireMessage{}, invalidf("card %d button %d payload is %d bytes, more than %d", i, j, len(b.Payload), maxPayload)
				}
				e.Buttons = append(e.Buttons, wireButton{Type: "postback", Title: b.Title, Payload: b.Payload})
				continue
			}
			if !isHTTP(b.URL) {
				return wireMessage{}, invalidf("card %d button %d url must be an http or https URL", i, j)
			}
			e.Buttons = append(e.Buttons, wireButton{Type: "web_url", Title: b.Title, URL: b.URL})
		}
		payload.Elements = append(payload.Elements, e)
	}
	return wireMessage{Attachment: &wireAttachment{Type: "template", Payload: payload}}, nil
}

func isHTTP(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}
