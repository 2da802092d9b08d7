package instagram

import (
	"bytes"
	"cmp"
	"encoding/json"
	"strconv"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
)

// The wire format of webhook deliveries: object "instagram",
// entry[].messaging[] events.

type hookPayload struct {
	Object string      `json:"object"`
	Entry  []hookEntry `json:"entry"`
}

type hookEntry struct {
	ID        meta.FlexString   `json:"id"` // the Instagram professional account
	Time      meta.FlexInt      `json:"time"`
	Messaging []json.RawMessage `json:"messaging"`
	// Standby events (handover protocol: another app controls the
	// thread) and changes (comments, mentions) are not for this handler.
	Standby []json.RawMessage `json:"standby"`
	Changes []json.RawMessage `json:"changes"`
}

type hookParty struct {
	ID meta.FlexString `json:"id"`
}

// hookEvent is one messaging[] item: exactly one of Message, Reaction,
// Postback, Read, Delivery, Referral is set.
type hookEvent struct {
	Sender    hookParty    `json:"sender"`
	Recipient hookParty    `json:"recipient"`
	Timestamp meta.FlexInt `json:"timestamp"`

	Message  json.RawMessage `json:"message"`
	Reaction *hookReaction   `json:"reaction"`
	Postback *hookPostback   `json:"postback"`
	Read     *hookRead       `json:"read"`
	Delivery *hookDelivery   `json:"delivery"`
	Referral json.RawMessage `json:"referral"`
}

type hookMessage struct {
	MID           string                    `json:"mid"`
	Text          string                    `json:"text"`
	Attachments   []hookAttachment          `json:"attachments"`
	QuickReply    *struct{ Payload string } `json:"quick_reply"`
	ReplyTo       *hookReplyTo              `json:"reply_to"`
	Referral      *hookMsgReferral          `json:"referral"`
	IsEcho        bool                      `json:"is_echo"`
	IsDeleted     bool                      `json:"is_deleted"`
	IsUnsupported bool                      `json:"is_unsupported"`
	AppID         meta.FlexString           `json:"app_id"`
}

type hookAttachment struct {
	Type    string `json:"type"`
	Payload struct {
		URL           string          `json:"url"`
		Title         string          `json:"title"`
		IGPostMediaID meta.FlexString `json:"ig_post_media_id"`
		ReelVideoID   meta.FlexString `json:"reel_video_id"`
		StickerID     meta.FlexString `json:"sticker_id"`
		ID            meta.FlexString `json:"id"`
	} `json:"payload"`
}

type hookReplyTo struct {
	MID   string `json:"mid"`
	Story *struct {
		URL string          `json:"url"`
		ID  meta.FlexString `json:"id"`
	} `json:"story"`
}

type hookMsgReferral struct {
	Product *struct {
		ID meta.FlexString `json:"id"`
	} `json:"product"`
	Ref            string `json:"ref"`
	Source         string `json:"source"`
	Type           string `json:"type"`
	AdsContextData *struct {
		AdTitle  string          `json:"ad_title"`
		PhotoURL string          `json:"photo_url"`
		VideoURL string          `json:"video_url"`
		PostID   meta.FlexString `json:"post_id"`
	} `json:"ads_context_data"`
}

type hookReaction struct {
	MID      string `json:"mid"`
	Action   string `json:"action"` // react or unreact
	Reaction string `json:"reaction"`
	Emoji    string `json:"emoji"`
}

type hookPostback struct {
	MID     string `json:"mid"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

type hookRead struct {
	MID       string       `json:"mid"`
	Watermark meta.FlexInt `json:"watermark"`
}

type hookDelivery struct {
	MIDs      []string     `json:"mids"`
	Watermark meta.FlexInt `json:"watermark"`
}

// eventTime converts a messaging timestamp: milliseconds since the epoch
// in Instagram's payloads; seconds are accepted too.
func eventTime(n meta.FlexInt) time.Time {
	switch {
	case n <= 0 || n > 1<<52:
		return time.Time{}
	case n > 1e11: // after 1973 in milliseconds, after 5138 in seconds
		return time.UnixMilli(int64(n)).UTC()
	}
	return time.Unix(int64(n), 0).UTC()
}

// parsed is what one messaging[] event carries.
type parsed struct {
	messages []channel.Message
	statuses []channel.Status
	echo     *Echo
	// ignore, when not empty, is why the event carries nothing for the
	// receiver (see IgnoredInfo.Reason).
	ignore string
}

// parseEvent turns one messaging[] event of the business account entryID
// into channel values.
func parseEvent(raw json.RawMessage, entryID string) parsed {
	var ev hookEvent
	if json.Unmarshal(raw, &ev) != nil {
		return parsed{ignore: "event"}
	}
	sender, recipient := string(ev.Sender.ID), string(ev.Recipient.ID)
	at := eventTime(ev.Timestamp)
	// The business is the recipient of what a user does, and the sender of
	// its own messages' echoes.
	business, user := recipient, sender
	if len(ev.Message) > 0 && isEcho(ev.Message) {
		business, user = sender, recipient
	}
	if business == "" {
		business = entryID
	}
	if business == "" || user == "" || !validID(business) {
		return parsed{ignore: "event"}
	}
	addr := channel.Address{Channel: channel.Instagram, Tenant: channel.TenantID(business), User: channel.UserID(user)}

	switch {
	case len(ev.Message) > 0 && !bytes.Equal(bytes.TrimSpace(ev.Message), []byte("null")):
		return parseMessage(ev.Message, addr, at)
	case ev.Reaction != nil:
		r := ev.Reaction
		if r.MID == "" {
			return parsed{ignore: "event"}
		}
		emoji := r.Emoji
		if r.Action == "unreact" {
			emoji = ""
		} else if emoji == "" {
			emoji = reactionEmoji(r.Reaction)
		}
		// A reaction has no id of its own: it is named by what it reacts
		// to, how and when, which a redelivery repeats.
		id := "reaction:" + r.MID + ":" + cmp.Or(r.Action, "react") + ":" + strconv.FormatInt(int64(ev.Timestamp), 10)
		return parsed{messages: []channel.Message{{
			ID: channel.MessageID(id), From: addr, Time: at, Type: channel.TypeReaction,
			Reaction: &channel.Reaction{MessageID: channel.MessageID(r.MID), Emoji: emoji},
		}}}
	case ev.Postback != nil:
		p := ev.Postback
		id := p.MID
		if id == "" {
			id = "postback:" + user + ":" + strconv.FormatInt(int64(ev.Timestamp), 10)
		}
		return parsed{messages: []channel.Message{{
			ID: channel.MessageID(id), From: addr, Time: at, Type: channel.TypeInteractive,
			Reply: &channel.Reply{Kind: channel.ReplyPostback, ID: p.Payload, Title: channel.Text(p.Title)},
		}}}
	case ev.Read != nil:
		if ev.Read.MID == "" {
			// A watermark alone names no message.
			return parsed{ignore: "watermark"}
		}
		return parsed{statuses: []channel.Status{{MessageID: channel.MessageID(ev.Read.MID), Recipient: addr, State: channel.Read, Time: at}}}
	case ev.Delivery != nil:
		var out parsed
		for _, mid := range ev.Delivery.MIDs {
			if mid != "" {
				out.statuses = append(out.statuses, channel.Status{MessageID: channel.MessageID(mid), Recipient: addr, State: channel.Delivered, Time: at})
			}
		}
		if len(out.statuses) == 0 {
			out.ignore = "watermark"
		}
		return out
	}
	return parsed{ignore: "event"}
}

func isEcho(raw json.RawMessage) bool {
	var m struct {
		IsEcho bool `json:"is_echo"`
	}
	return json.Unmarshal(raw, &m) == nil && m.IsEcho
}

// parseMessage turns a message event into one message per attachment (or
// one message), an echo, or an unsupported message keeping the raw JSON.
func parseMessage(raw json.RawMessage, addr channel.Address, at time.Time) parsed {
	var w hookMessage
	if err := json.Unmarshal(raw, &w); err != nil {
		// A field of a type this parser does not expect: keep the raw JSON.
		var min struct {
			MID    string `json:"mid"`
			IsEcho bool   `json:"is_echo"`
		}
		if json.Unmarshal(raw, &min) != nil || min.MID == "" {
			return parsed{ignore: "message"}
		}
		if min.IsEcho {
			return echoOf(channel.Message{ID: channel.MessageID(min.MID), From: addr, Time: at, Type: channel.TypeUnsupported, Raw: bytes.Clone(raw)}, "")
		}
		return parsed{messages: []channel.Message{{ID: channel.MessageID(min.MID), From: addr, Time: at, Type: channel.TypeUnsupported, Raw: bytes.Clone(raw)}}}
	}
	if w.MID == "" {
		return parsed{ignore: "message"}
	}
	base := channel.Message{ID: channel.MessageID(w.MID), From: addr, Time: at}
	if r := w.ReplyTo; r != nil {
		if r.MID != "" {
			base.Context = &channel.Context{MessageID: channel.MessageID(r.MID)}
		}
		if s := r.Story; s != nil && (s.URL != "" || s.ID != "") {
			// A reply to the business's story.
			base.Referral = &channel.Referral{SourceType: "story", SourceID: string(s.ID), SourceURL: s.URL}
		}
	}
	if ref := w.Referral; ref != nil {
		if ref.Product != nil && ref.Product.ID != "" {
			if base.Context == nil {
				base.Context = &channel.Context{}
			}
			base.Context.ProductID = string(ref.Product.ID)
		} else if base.Referral == nil && (ref.Source != "" || ref.Ref != "") {
			base.Referral = &channel.Referral{SourceType: ref.Source, SourceID: ref.Ref}
			if ad := ref.AdsContextData; ad != nil {
				base.Referral.Headline = ad.AdTitle
				base.Referral.SourceURL = cmp.Or(ad.PhotoURL, ad.VideoURL)
			}
		}
	}

	var msgs []channel.Message
	switch {
	case w.IsDeleted:
		// The user unsent the message w.MID. The notice needs an id of its
		// own: the deleted message's id is already recorded.
		m := base
		m.ID = channel.MessageID(w.MID + "#deleted")
		m.Type = channel.TypeSystem
		m.System = &channel.SystemNote{Kind: "message_deleted"}
		m.Context = &channel.Context{MessageID: channel.MessageID(w.MID)}
		m.Referral = nil
		msgs = append(msgs, m)
	case w.IsUnsupported:
		m := base
		m.Type, m.Raw = channel.TypeUnsupported, bytes.Clone(raw)
		msgs = append(msgs, m)
	case len(w.Attachments) > 0:
		for i, a := range dropLegacyShares(w.Attachments) {
			m := base
			if i > 0 {
				// One record per attachment; the first keeps the mid.
				m.ID = channel.MessageID(w.MID + "#" + strconv.Itoa(i+1))
			}
			if !fillAttachment(&m, a) {
				ar, _ := json.Marshal(a)
				m.Type, m.Media, m.Raw = channel.TypeUnsupported, nil, ar
				if len(w.Attachments) == 1 {
					m.Raw = bytes.Clone(raw)
				}
			}
			if i == 0 && w.Text != "" && m.Type != channel.TypeUnsupported {
				m.Text = channel.Text(w.Text)
			}
			msgs = append(msgs, m)
		}
	case w.QuickReply != nil:
		m := base
		m.Type = channel.TypeInteractive
		m.Reply = &channel.Reply{Kind: channel.ReplyQuick, ID: w.QuickReply.Payload, Title: channel.Text(w.Text)}
		msgs = append(msgs, m)
	case w.Text != "":
		m := base
		m.Type, m.Text = channel.TypeText, channel.Text(w.Text)
		msgs = append(msgs, m)
	default:
		m := base
		m.Type, m.Raw = channel.TypeUnsupported, bytes.Clone(raw)
		msgs = append(msgs, m)
	}
	if w.IsEcho {
		// The business's own message: one echo, of the first part.
		return echoOf(msgs[0], string(w.AppID))
	}
	return parsed{messages: msgs}
}

// echoOf reports the echo of the business's message m: as an Echo for the
// hooks, with Message.Echo set, and as a Sent status that confirms the
// message.
func echoOf(m channel.Message, appID string) parsed {
	m.Echo = true
	return parsed{
		echo:     &Echo{Message: m, AppID: appID},
		statuses: []channel.Status{{MessageID: m.ID, Recipient: m.From, State: channel.Sent, Time: m.Time}},
	}
}

// dropLegacyShares drops "share" attachments from a message that also has
// "ig_post" ones: since November 2025 a shared post comes as both, the
// share being the legacy form of the same post.
func dropLegacyShares(as []hookAttachment) []hookAttachment {
	hasPost := false
	for _, a := range as {
		hasPost = hasPost || a.Type == "ig_post"
	}
	if !hasPost {
		return as
	}
	out := make([]hookAttachment, 0, len(as))
	for _, a := range as {
		if a.Type != "share" {
			out = append(out, a)
		}
	}
	return out
}

// fillAttachment sets the type and media of m from a, and reports whether
// the attachment type is understood.
func fillAttachment(m *channel.Message, a hookAttachment) bool {
	p := a.Payload
	media := func(kind channel.MediaKind) bool {
		if p.URL == "" {
			return false
		}
		m.Type = channel.Type(kind)
		m.Media = &channel.Media{Kind: kind, URL: p.URL}
		return true
	}
	switch a.Type {
	case "image":
		return media(channel.Image)
	case "video":
		return media(channel.Video)
	case "audio":
		return media(channel.Audio)
	case "file":
		return media(channel.Document)
	case "share", "ig_post":
		// A post the user shared: its preview, and the post as referral.
		if !media(channel.Image) {
			return false
		}
		m.Referral = &channel.Referral{SourceType: a.Type, SourceID: string(p.IGPostMediaID), SourceURL: p.URL, Headline: p.Title}
		return true
	case "ig_reel", "reel":
		if !media(channel.Video) {
			return false
		}
		m.Referral = &channel.Referral{SourceType: a.Type, SourceID: string(cmp.Or(p.ReelVideoID, p.ID)), SourceURL: p.URL, Headline: p.Title}
		return true
	case "story_mention":
		// The user mentioned the business in their story: the story's
		// media, and the mention as referral.
		if !media(channel.Image) {
			return false
		}
		m.Referral = &channel.Referral{SourceType: "story_mention", SourceID: string(p.ID), SourceURL: p.URL}
		return true
	}
	return false
}

// reactionEmoji maps Instagram's reaction names to an emoji, for payloads
// that carry the name only.
func reactionEmoji(name string) string {
	switch name {
	case "love":
		return "❤️"
	case "like":
		return "👍"
	case "laugh", "smile":
		return "😆"
	case "wow":
		return "😮"
	case "sad":
		return "😢"
	case "angry":
		return "😠"
	case "dislike":
		return "👎"
	}
	return name
}
