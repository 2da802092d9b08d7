package sqlite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
)

// Times are kept as microseconds since the Unix epoch, UTC. The zero
// time.Time is kept as its own microsecond count and comes back zero.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// asKept returns t as the store gives it back: UTC, to the microsecond.
func asKept(t time.Time) time.Time { return fromMicros(micros(t)) }

// Conversation and subject ids are the row ids, prefixed so that one is
// never taken for the other.

func conversationID(id int64) store.ConversationID {
	return store.ConversationID("c" + strconv.FormatInt(id, 10))
}

func subjectID(id int64) store.SubjectID { return store.SubjectID("s" + strconv.FormatInt(id, 10)) }

// parseID returns the row id of an id made by conversationID or subjectID,
// or false.
func parseID(prefix, id string) (int64, bool) {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil && n > 0 && rest == strconv.FormatInt(n, 10)
}

func parseConversation(id store.ConversationID) (int64, bool) { return parseID("c", string(id)) }

func parseSubject(id store.SubjectID) (int64, bool) { return parseID("s", string(id)) }

// nullable returns nil for an empty string, so that the column holds NULL.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// encode returns the JSON of v, without escaping HTML characters.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// content is what was said in a record, as the content columns keep it:
// JSON, or nil for NULL.
type content struct {
	inbound, parts, outbound []byte
	hasMedia                 bool
}

// encodeContent returns the content columns of m.
func encodeContent(m *store.Message) (content, error) {
	var c content
	var err error
	if m.Inbound != nil {
		if c.inbound, err = encode(m.Inbound); err != nil {
			return c, fmt.Errorf("encode inbound message: %w", err)
		}
	}
	if m.Parts != nil {
		if c.parts, err = encode(m.Parts); err != nil {
			return c, fmt.Errorf("encode parts: %w", err)
		}
	}
	if m.Outbound != nil {
		if c.outbound, err = encode(m.Outbound); err != nil {
			return c, fmt.Errorf("encode outbound message: %w", err)
		}
	}
	c.hasMedia = hasMedia(m)
	return c, nil
}

// hasMedia reports whether m holds media references: what
// [store.Message.WithoutMedia] removes.
func hasMedia(m *store.Message) bool {
	if m.Inbound != nil && m.Inbound.Media != nil {
		return true
	}
	if o := m.Outbound; o != nil {
		if o.Media != nil || o.Template != nil && o.Template.Header != nil && o.Template.Header.Media != nil {
			return true
		}
	}
	for i := range m.Parts {
		if m.Parts[i].Data != nil || m.Parts[i].URL != "" {
			return true
		}
	}
	return false
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanMessage reads the messageColumns of a record.
func scanMessage(r scanner) (store.Message, error) {
	var (
		m                        store.Message
		id, conv, turn           int64
		tenant, pid, role        string
		tm, pUpdated, dUpdated   int64
		pState, pAttempts        int64
		dState, dAttempts, dCode int64
		pReason, dTitle          string
		removed                  int64
		inbound, parts, outbound []byte
	)
	err := r.Scan(&id, &conv, &tenant, &pid, &turn, &role, &tm,
		&pState, &pAttempts, &pReason, &pUpdated,
		&dState, &dAttempts, &dCode, &dTitle, &dUpdated,
		&removed, &inbound, &parts, &outbound)
	if err != nil {
		return m, err
	}
	m = store.Message{
		ID:           store.MessageID(id),
		Tenant:       channel.TenantID(tenant),
		Conversation: conversationID(conv),
		Turn:         store.MessageID(turn),
		Role:         store.Role(role),
		Time:         fromMicros(tm),
		ProviderID:   channel.MessageID(pid),
		Processing: store.Processing{
			State:     store.ProcessState(pState),
			Attempts:  int(pAttempts),
			Reason:    pReason,
			UpdatedAt: fromMicros(pUpdated),
		},
		Delivery: store.Delivery{
			State:      channel.DeliveryState(dState),
			Attempts:   int(dAttempts),
			ErrorCode:  int(dCode),
			ErrorTitle: dTitle,
			UpdatedAt:  fromMicros(dUpdated),
		},
		ContentRemoved: removed != 0,
	}
	if err := decodeContent(&m, inbound, parts, outbound); err != nil {
		return m, err
	}
	return m, nil
}

// decodeContent sets the content of m from its columns.
func decodeContent(m *store.Message, inbound, parts, outbound []byte) error {
	if inbound != nil {
		m.Inbound = new(channel.Message)
		if err := json.Unmarshal(inbound, m.Inbound); err != nil {
			return fmt.Errorf("message %d: decode inbound message: %w", m.ID, err)
		}
	}
	if parts != nil {
		m.Parts = []llm.Part{}
		if err := json.Unmarshal(parts, &m.Parts); err != nil {
			return fmt.Errorf("message %d: decode parts: %w", m.ID, err)
		}
	}
	if outbound != nil {
		m.Outbound = new(channel.Outbound)
		if err := json.Unmarshal(outbound, m.Outbound); err != nil {
			return fmt.Errorf("message %d: decode outbound message: %w", m.ID, err)
		}
	}
	return nil
}

// scanConversation reads the conversationColumns of a conversation, and
// then extra.
func scanConversation(r scanner, extra ...any) (store.Conversation, error) {
	var (
		c                    store.Conversation
		id, subj             int64
		ch, tenant, user     string
		created, last, since int64
		owner                int64
		operator, reason     string
	)
	dest := append([]any{&id, &subj, &ch, &tenant, &user, &created, &last, &owner, &operator, &reason, &since}, extra...)
	if err := r.Scan(dest...); err != nil {
		return c, err
	}
	return store.Conversation{
		ID:            conversationID(id),
		Address:       channel.Address{Channel: channel.Name(ch), Tenant: channel.TenantID(tenant), User: channel.UserID(user)},
		Subject:       subjectID(subj),
		Handoff:       store.Handoff{Owner: store.Owner(owner), Operator: operator, Reason: reason, Since: fromMicros(since)},
		CreatedAt:     fromMicros(created),
		LastInboundAt: fromMicros(last),
	}, nil
}

// scanSubject reads the subjectColumns of a subject.
func scanSubject(r scanner) (store.Subject, error) {
	var (
		s                store.Subject
		id               int64
		ch, tenant, user string
		profile          []byte
		created, updated int64
	)
	if err := r.Scan(&id, &ch, &tenant, &user, &profile, &created, &updated); err != nil {
		return s, err
	}
	s = store.Subject{
		ID:        subjectID(id),
		Address:   channel.Address{Channel: channel.Name(ch), Tenant: channel.TenantID(tenant), User: channel.UserID(user)},
		CreatedAt: fromMicros(created),
		UpdatedAt: fromMicros(updated),
	}
	if profile != nil {
		if err := json.Unmarshal(profile, &s.Profile); err != nil {
			return s, fmt.Errorf("subject %s: decode profile: %w", s.ID, err)
		}
	}
	return s, nil
}

// mergeProfile returns old with the non-empty fields of p applied.
func mergeProfile(old, p channel.Profile) channel.Profile {
	if p.Name != "" {
		old.Name = p.Name
	}
	if p.Phone != "" {
		old.Phone = p.Phone
	}
	if p.Username != "" {
		old.Username = p.Username
	}
	if p.Locale != "" {
		old.Locale = p.Locale
	}
	return old
}
