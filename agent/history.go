package agent

import (
	"strconv"
	"strings"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// historyMessages turns a conversation's records, ordered by (Turn, ID), into
// the messages the model sees:
//
//   - customer messages become user messages, consecutive ones merged;
//   - assistant records replay their parts verbatim (tool-call ids and
//     provider state included), but an assistant tool call is kept only
//     when the next record holds the results of all its calls, so a turn
//     cut short by a crash never leaves a call without its result;
//   - operator and system messages sent to the customer become assistant
//     text; internal notes are not shown to the model;
//   - the window starts at a customer message: leading replies and tool
//     results whose question fell out of the window are dropped.
//
// media holds, by record id, media parts fetched for customer messages;
// each follows its message's description.
func historyMessages(recs []store.Message, media map[store.MessageID]llm.Part) []llm.Message {
	msgs := make([]llm.Message, 0, len(recs))
	add := func(role llm.Role, parts []llm.Part, mergeable bool) {
		if n := len(msgs); mergeable && n > 0 && msgs[n-1].Role == role && len(msgs[n-1].ToolCalls()) == 0 {
			msgs[n-1].Parts = append(msgs[n-1].Parts, parts...)
			return
		}
		msgs = append(msgs, llm.Message{Role: role, Parts: parts})
	}
	for i := 0; i < len(recs); i++ {
		r := &recs[i]
		switch r.Role {
		case store.User:
			if r.Processing.Reason == reasonPrivacyCode {
				continue // a verification code is for the privacy engine only
			}
			parts := inboundParts(r.Inbound)
			if p, ok := media[r.ID]; ok {
				parts = append(parts, p)
			}
			add(llm.User, parts, true)
		case store.Assistant:
			calls := hasToolCalls(r.Parts)
			switch {
			case calls && i+1 < len(recs) && recs[i+1].Role == store.Tool && answersAll(r.Parts, recs[i+1].Parts):
				add(llm.Assistant, r.Parts, false)
				add(llm.ToolRole, recs[i+1].Parts, false)
				i++
			case calls:
				// A call without its results: drop it.
			case len(r.Parts) > 0:
				add(llm.Assistant, r.Parts, true)
			case r.Outbound != nil && r.Outbound.Text != "":
				add(llm.Assistant, []llm.Part{llm.TextPart(string(r.Outbound.Text))}, true)
			}
		case store.Operator, store.System:
			if r.Outbound != nil && r.Outbound.Text != "" {
				add(llm.Assistant, []llm.Part{llm.TextPart(string(r.Outbound.Text))}, true)
			}
		}
	}
	for len(msgs) > 0 && msgs[0].Role != llm.User {
		msgs = msgs[1:]
	}
	return msgs
}

func hasToolCalls(parts []llm.Part) bool {
	for _, p := range parts {
		if p.Kind == llm.KindToolCall {
			return true
		}
	}
	return false
}

// answersAll reports whether results holds a result for every call in calls.
func answersAll(calls, results []llm.Part) bool {
	for _, c := range calls {
		if c.Kind != llm.KindToolCall || c.ToolCall == nil {
			continue
		}
		found := false
		for _, r := range results {
			if r.Kind == llm.KindToolResult && r.ToolResult != nil && r.ToolResult.CallID == c.ToolCall.ID {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// inboundParts describes a customer's message to the model. Text is passed
// as is; other kinds are described in brackets so that the model knows what
// the customer did (media content is handed over by channels that can fetch
// it).
func inboundParts(m *channel.Message) []llm.Part {
	if m == nil {
		return []llm.Part{llm.TextPart("[message]")}
	}
	var b strings.Builder
	switch m.Type {
	case channel.TypeText:
		return []llm.Part{llm.TextPart(string(m.Text))}
	case channel.TypeImage, channel.TypeAudio, channel.TypeVideo, channel.TypeDocument, channel.TypeSticker:
		b.WriteString("[")
		switch {
		case m.Media != nil && m.Media.Voice:
			b.WriteString("voice note")
		default:
			b.WriteString(string(m.Type))
		}
		if m.Media != nil && m.Media.Filename != "" {
			b.WriteString(": ")
			b.WriteString(m.Media.Filename)
		}
		b.WriteString("]")
	case channel.TypeLocation:
		b.WriteString("[location")
		if l := m.Location; l != nil {
			b.WriteString(": ")
			b.WriteString(strconv.FormatFloat(l.Latitude, 'f', -1, 64))
			b.WriteString(", ")
			b.WriteString(strconv.FormatFloat(l.Longitude, 'f', -1, 64))
			for _, s := range []string{l.Name, l.Address} {
				if s != "" {
					b.WriteString(", ")
					b.WriteString(s)
				}
			}
		}
		b.WriteString("]")
	case channel.TypeContacts:
		b.WriteString("[contact card")
		for i, c := range m.Contacts {
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString("; ")
			}
			b.WriteString(string(c.Name))
			for _, p := range c.Phones {
				b.WriteString(" +")
				b.WriteString(string(p))
			}
		}
		b.WriteString("]")
	case channel.TypeInteractive:
		if r := m.Reply; r != nil {
			switch {
			case r.Title != "":
				b.WriteString(string(r.Title))
			case len(r.Data) > 0:
				b.WriteString("[form answers: ")
				b.Write(r.Data)
				b.WriteString("]")
			default:
				b.WriteString("[chose ")
				b.WriteString(r.ID)
				b.WriteString("]")
			}
		}
	case channel.TypeReaction:
		if r := m.Reaction; r != nil && r.Emoji != "" {
			b.WriteString("[reacted ")
			b.WriteString(r.Emoji)
			b.WriteString(" to a message]")
		} else {
			b.WriteString("[removed a reaction]")
		}
	case channel.TypeOrder:
		b.WriteString("[order")
		if o := m.Order; o != nil {
			for i, it := range o.Items {
				if i == 0 {
					b.WriteString(": ")
				} else {
					b.WriteString("; ")
				}
				b.WriteString(strconv.Itoa(it.Quantity))
				b.WriteString(" x ")
				b.WriteString(it.ProductID)
				b.WriteString(" at ")
				b.WriteString(strconv.FormatFloat(it.UnitPrice, 'f', -1, 64))
				b.WriteString(" ")
				b.WriteString(it.Currency)
			}
		}
		b.WriteString("]")
	case channel.TypeSystem:
		b.WriteString("[notice")
		if m.System != nil && m.System.Kind != "" {
			b.WriteString(": ")
			b.WriteString(m.System.Kind)
		}
		b.WriteString("]")
	default:
		b.WriteString("[a message of a kind that cannot be shown]")
	}
	if m.Type != channel.TypeText && m.Text != "" {
		b.WriteString(" ")
		b.WriteString(string(m.Text))
	}
	return []llm.Part{llm.TextPart(b.String())}
}
