package console

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/store"
)

// meView is the answer of /api/me.
type meView struct {
	Operator        string             `json:"operator"`
	Tenants         []channel.TenantID `json:"tenants"`
	MaxMessageBytes int                `json:"max_message_bytes"`
}

func (c *Console) me(rw http.ResponseWriter, r *http.Request, req *request) error {
	writeJSON(rw, http.StatusOK, meView{Operator: req.operator, Tenants: c.tenantsOf(r, req.operator), MaxMessageBytes: c.opts.MaxMessageBytes})
	return nil
}

// conversationSummary is a conversation as the queue shows it: who owns
// it and since when, and the customer's id masked, so that the queue
// reveals no one; the conversation view (audited) shows the rest.
type conversationSummary struct {
	ID            store.ConversationID `json:"id"`
	Channel       channel.Name         `json:"channel"`
	Customer      string               `json:"customer"`
	Owner         store.Owner          `json:"owner"`
	Operator      string               `json:"operator,omitempty"`
	Mine          bool                 `json:"mine"`
	Reason        string               `json:"reason,omitempty"`
	Since         time.Time            `json:"since,omitzero"`
	LastInboundAt time.Time            `json:"last_inbound_at,omitzero"`
	LastActivity  time.Time            `json:"last_activity"`
}

func summary(conv store.Conversation, operator string) conversationSummary {
	return conversationSummary{
		ID:            conv.ID,
		Channel:       conv.Address.Channel,
		Customer:      mask(string(conv.Address.User)),
		Owner:         conv.Handoff.Owner,
		Operator:      conv.Handoff.Operator,
		Mine:          conv.Handoff.Operator != "" && conv.Handoff.Operator == operator,
		Reason:        conv.Handoff.Reason,
		Since:         conv.Handoff.Since,
		LastInboundAt: conv.LastInboundAt,
		LastActivity:  conv.LastActivity(),
	}
}

// mask keeps the last four characters of a customer's id.
func mask(user string) string {
	r := []rune(user)
	if len(r) <= 4 {
		return strings.Repeat("•", len(r))
	}
	return "•••" + string(r[len(r)-4:])
}

// queueView is the answer of /queue.
type queueView struct {
	Conversations []conversationSummary `json:"conversations"`
	// Next is the cursor of the next page; empty on the last one.
	Next string `json:"next,omitempty"`
}

// queueCursor is where a page of the queue ends. The queue lists the
// unclaimed human-owned conversations first (phase 0), then the claimed
// ones (phase 1), each most recent activity first.
type queueCursor struct {
	Phase int                      `json:"p"`
	After store.ConversationCursor `json:"a"`
}

func (q queueCursor) encode() string {
	b, _ := json.Marshal(q)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseQueueCursor(s string) (queueCursor, error) {
	var q queueCursor
	if s == "" {
		return q, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &q)
	}
	if err != nil || q.Phase < 0 || q.Phase > 1 {
		return q, fmt.Errorf("%w: bad cursor", errBadRequest)
	}
	return q, nil
}

// queueScanPages bounds the store pages one queue page reads past the
// unclaimed conversations of phase 1.
const queueScanPages = 20

func (c *Console) queue(rw http.ResponseWriter, r *http.Request, req *request) error {
	cur, err := parseQueueCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		return err
	}
	out := queueView{Conversations: []conversationSummary{}}
	want := DefaultQueueLimit
	if cur.Phase == 0 {
		page, err := c.lister.Conversations(r.Context(), store.ConversationQuery{Tenant: req.tenant, Owner: store.OwnedByHuman, Unclaimed: true, Limit: want + 1, After: cur.After})
		if err != nil {
			return err
		}
		if len(page) > want {
			page = page[:want]
			out.Next = queueCursor{Phase: 0, After: page[want-1].Cursor()}.encode()
		}
		for _, conv := range page {
			out.Conversations = append(out.Conversations, summary(conv, req.operator))
		}
		if out.Next != "" {
			writeJSON(rw, http.StatusOK, out)
			return nil
		}
		cur = queueCursor{Phase: 1}
	}
	// Phase 1: the claimed ones, skipping the unclaimed listed before.
	// One more than fits tells whether there is a next page.
	var claimed []store.Conversation
	q := store.ConversationQuery{Tenant: req.tenant, Owner: store.OwnedByHuman, Limit: want + 1, After: cur.After}
	room := want - len(out.Conversations)
	exhausted := false
	for range queueScanPages {
		page, err := c.lister.Conversations(r.Context(), q)
		if err != nil {
			return err
		}
		for _, conv := range page {
			if conv.Handoff.Operator != "" && len(claimed) <= room {
				claimed = append(claimed, conv)
			}
		}
		if len(page) < q.Limit {
			exhausted = true
			break
		}
		q.After = page[len(page)-1].Cursor()
		if len(claimed) > room {
			break
		}
	}
	switch {
	case len(claimed) > room:
		claimed = claimed[:room]
		out.Next = queueCursor{Phase: 1, After: claimed[room-1].Cursor()}.encode()
	case !exhausted: // many unclaimed in a row: the next page scans on
		out.Next = queueCursor{Phase: 1, After: q.After}.encode()
	}
	for _, conv := range claimed {
		out.Conversations = append(out.Conversations, summary(conv, req.operator))
	}
	writeJSON(rw, http.StatusOK, out)
	return nil
}

// conversationDetail is a conversation as its view shows it.
type conversationDetail struct {
	conversationSummary
	// Customer holds the full id here; Name and Phone are the profile.
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	// WindowClosesAt is when the channel's customer-service window closes
	// (only templates reach the customer afterwards); zero when the
	// channel has none.
	WindowClosesAt time.Time `json:"window_closes_at,omitzero"`
	WindowClosed   bool      `json:"window_closed"`
}

// messageView is a record as the conversation view shows it.
type messageView struct {
	ID   store.MessageID `json:"id"`
	Role store.Role      `json:"role"`
	Time time.Time       `json:"time"`
	// Kind is the message type: text, image, template...
	Kind string `json:"kind,omitempty"`
	Text string `json:"text,omitempty"`
	// Delivery is the delivery state of a message sent to the customer.
	Delivery string `json:"delivery,omitempty"`
	// Removed reports that a retention purge removed what was said.
	Removed bool `json:"removed,omitempty"`
}

// conversationView is the answer of /conversations/{id}.
type conversationView struct {
	Conversation conversationDetail `json:"conversation"`
	Messages     []messageView      `json:"messages"`
}

// auditTimeout bounds the recording of a view in the audit log.
const auditTimeout = 10 * time.Second

func (c *Console) conversation(rw http.ResponseWriter, r *http.Request, req *request) error {
	var after store.MessageID
	if s := r.URL.Query().Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: after must be a record id", errBadRequest)
		}
		after = store.MessageID(n)
	}
	ctx := r.Context()
	conv, err := c.st.Conversation(ctx, req.tenant, store.ConversationID(r.PathValue("id")))
	if err != nil {
		return err
	}
	hist, err := c.st.History(ctx, req.tenant, conv.ID, store.HistoryQuery{Limit: c.opts.HistoryLimit})
	if err != nil {
		return err
	}
	view := conversationView{Conversation: c.detail(ctx, conv, req.operator), Messages: []messageView{}}
	for _, m := range hist {
		if m.ID <= after {
			continue
		}
		if v, ok := showMessage(m); ok {
			view.Messages = append(view.Messages, v)
		}
	}
	// The view is recorded before anything is shown; if it cannot be,
	// nothing is shown.
	detail := "conversation"
	if after > 0 {
		detail = "conversation_update"
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if _, err := c.opts.Audit.Log(actx, privacy.AuditEvent{Actor: "operator:" + req.operator, Action: privacy.AuditOperatorView,
		Tenant: req.tenant, Subject: conv.Subject, Detail: detail}); err != nil {
		return fmt.Errorf("console: recording the view: %w", err)
	}
	writeJSON(rw, http.StatusOK, view)
	return nil
}

func (c *Console) detail(ctx context.Context, conv store.Conversation, operator string) conversationDetail {
	d := conversationDetail{conversationSummary: summary(conv, operator)}
	d.Customer = string(conv.Address.User)
	if subj, err := c.st.Subject(ctx, conv.Address); err == nil {
		d.Name, d.Phone = string(subj.Profile.Name), string(subj.Profile.Phone)
	}
	if closes, ok := c.a.ReplyWindow(conv); ok {
		d.WindowClosesAt, d.WindowClosed = closes, time.Now().After(closes)
	}
	return d
}

// showMessage returns the view of a record, and false for records the
// operator has no use for: tool results, the model's tool calls.
func showMessage(m store.Message) (messageView, bool) {
	v := messageView{ID: m.ID, Role: m.Role, Time: m.Time, Removed: m.ContentRemoved}
	switch {
	case m.Role == store.User && m.Inbound != nil:
		v.Kind, v.Text = inboundText(m.Inbound)
	case m.Outbound != nil:
		v.Kind, v.Text = outboundText(m.Outbound)
		if m.Role != store.Note {
			v.Delivery = m.Delivery.State.String()
		}
	case m.ContentRemoved && m.Role != store.Tool:
	default:
		return v, false
	}
	return v, true
}

func inboundText(in *channel.Message) (kind, text string) {
	kind = string(in.Type)
	switch {
	case in.Text != "":
		text = string(in.Text)
	case in.Reply != nil:
		text = string(in.Reply.Title)
	case in.Reaction != nil:
		text = in.Reaction.Emoji
	case in.Location != nil:
		text = strings.TrimSpace(in.Location.Name + " " + in.Location.Address)
	case in.Media != nil:
		text = in.Media.Filename
	}
	return kind, text
}

func outboundText(out *channel.Outbound) (kind, text string) {
	switch {
	case out.Template != nil:
		return string(channel.OutTemplate), out.Template.Name
	case out.Media != nil:
		return string(channel.OutMedia), string(out.Text)
	case out.Interactive != nil:
		return string(channel.OutInteractive), string(out.Text)
	}
	return string(channel.OutText), string(out.Text)
}

// convResult is the answer of claim, release and close.
type convResult struct {
	Conversation conversationSummary `json:"conversation"`
}

func (c *Console) claim(rw http.ResponseWriter, r *http.Request, req *request) error {
	if err := c.emptyBody(rw, r); err != nil {
		return err
	}
	conv, err := c.a.Claim(r.Context(), req.tenant, store.ConversationID(r.PathValue("id")), req.operator)
	if err != nil {
		return err
	}
	writeJSON(rw, http.StatusOK, convResult{summary(conv, req.operator)})
	return nil
}

func (c *Console) release(rw http.ResponseWriter, r *http.Request, req *request) error {
	if err := c.emptyBody(rw, r); err != nil {
		return err
	}
	id := store.ConversationID(r.PathValue("id"))
	conv, err := c.st.Conversation(r.Context(), req.tenant, id)
	if err != nil {
		return err
	}
	if conv.Handoff.Owner != store.OwnerHuman || (conv.Handoff.Operator != "" && conv.Handoff.Operator != req.operator) {
		return agent.ErrNotOwner
	}
	conv, err = c.a.Release(r.Context(), req.tenant, id, req.operator, "operator_release")
	if err != nil {
		return err
	}
	writeJSON(rw, http.StatusOK, convResult{summary(conv, req.operator)})
	return nil
}

func (c *Console) closeConv(rw http.ResponseWriter, r *http.Request, req *request) error {
	if err := c.emptyBody(rw, r); err != nil {
		return err
	}
	conv, err := c.a.CloseConversation(r.Context(), req.tenant, store.ConversationID(r.PathValue("id")), req.operator)
	if err != nil {
		return err
	}
	writeJSON(rw, http.StatusOK, convResult{summary(conv, req.operator)})
	return nil
}

// textBody is the body of reply and notes.
type textBody struct {
	Text string `json:"text"`
}

// readText decodes a {"text"} body: one JSON object, nothing else, the
// text valid UTF-8, not blank, at most MaxMessageBytes.
func (c *Console) readText(rw http.ResponseWriter, r *http.Request) (string, error) {
	limit := c.opts.MaxMessageBytes
	// JSON may spell a byte in up to six ("\u00e9"); the text is checked
	// after decoding.
	dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, int64(6*limit+1024)))
	dec.DisallowUnknownFields()
	var in textBody
	if err := dec.Decode(&in); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", errTooLarge
		}
		return "", fmt.Errorf("%w: %v", errBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return "", fmt.Errorf("%w: data after the object", errBadRequest)
	}
	switch {
	case len(in.Text) > limit:
		return "", errTooLarge
	case !utf8.ValidString(in.Text) || strings.TrimSpace(in.Text) == "":
		return "", fmt.Errorf("%w: text is empty or not UTF-8", errBadRequest)
	}
	return in.Text, nil
}

// emptyBody checks that the body of a POST without arguments is an empty
// JSON object (or nothing).
func (c *Console) emptyBody(rw http.ResponseWriter, r *http.Request) error {
	b, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, 1024))
	if err != nil {
		return errTooLarge
	}
	if b = bytes.TrimSpace(b); len(b) == 0 {
		return nil
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil || len(v) > 0 {
		return fmt.Errorf("%w: the body must be {}", errBadRequest)
	}
	return nil
}

// replyView is the answer of reply and notes.
type replyView struct {
	Message messageView `json:"message"`
	// Template reports that the customer-service window had closed and
	// the agent's window template was sent instead of the text.
	Template bool `json:"template,omitempty"`
}

func (c *Console) reply(rw http.ResponseWriter, r *http.Request, req *request) error {
	text, err := c.readText(rw, r)
	if err != nil {
		return err
	}
	id := store.ConversationID(r.PathValue("id"))
	// The console has operators claim a conversation before they write in
	// it, so that two never answer one customer at once.
	conv, err := c.st.Conversation(r.Context(), req.tenant, id)
	if err != nil {
		return err
	}
	if conv.Handoff.Owner != store.OwnerHuman || conv.Handoff.Operator != req.operator {
		return agent.ErrNotOwner
	}
	// The reply is sent and recorded even if the operator's browser goes.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), sendTimeout)
	defer cancel()
	rec, err := c.a.Reply(ctx, req.tenant, id, req.operator, text)
	if err != nil {
		return err
	}
	if fresh, err := c.st.Message(ctx, req.tenant, rec.ID); err == nil {
		rec = fresh // with the delivery state the send recorded
	}
	v, _ := showMessage(rec)
	writeJSON(rw, http.StatusCreated, replyView{Message: v, Template: rec.Outbound != nil && rec.Outbound.Template != nil})
	return nil
}

// sendTimeout bounds the sending of an operator's reply.
const sendTimeout = time.Minute

func (c *Console) note(rw http.ResponseWriter, r *http.Request, req *request) error {
	text, err := c.readText(rw, r)
	if err != nil {
		return err
	}
	id := store.ConversationID(r.PathValue("id"))
	// Notes are for the conversation's own tenant only: Append checks it.
	rec, err := c.a.Note(r.Context(), req.tenant, id, req.operator, text)
	if err != nil {
		return err
	}
	c.publish(req.tenant, eventNote, eventData{Conversation: id, Message: rec.ID, Operator: req.operator})
	v, _ := showMessage(rec)
	writeJSON(rw, http.StatusCreated, replyView{Message: v})
	return nil
}

// Event names of the stream.
const (
	eventWaiting  = "waiting"          // a conversation was handed to a human and waits for one
	eventClaimed  = "claimed"          // an operator claimed it
	eventCustomer = "customer_message" // the customer wrote while a human owns it
	eventReplied  = "operator_reply"   // an operator's reply went out
	eventReturned = "returned"         // back with the AI: released, closed, timeout
	eventNote     = "note"             // an internal note was added
	eventReload   = "reload"           // the stream cannot resume: fetch everything again
)

// eventData is the data of an event: ids only, never what was said.
type eventData struct {
	Conversation store.ConversationID `json:"conversation"`
	Message      store.MessageID      `json:"message,omitempty"`
	Operator     string               `json:"operator,omitempty"`
	Reason       string               `json:"reason,omitempty"`
}

func (c *Console) publish(tenant channel.TenantID, name string, d eventData) {
	b, _ := json.Marshal(d)
	c.hub.publish(tenant, name, b)
}

// handoffEvent turns the agent's handoff events into stream events.
func (c *Console) handoffEvent(_ context.Context, e agent.HandoffEvent) {
	if !c.tenants[e.Tenant] {
		return
	}
	name := ""
	switch e.Kind {
	case agent.HandedToHuman:
		name = eventWaiting
		if e.Operator != "" {
			name = eventClaimed
		}
	case agent.CustomerWrote:
		name = eventCustomer
	case agent.OperatorReplied:
		name = eventReplied
	case agent.ReturnedToAI:
		name = eventReturned
	default:
		return
	}
	c.publish(e.Tenant, name, eventData{Conversation: e.Conversation, Message: e.Message, Operator: e.Operator, Reason: e.Reason})
}

// events streams the tenant's events until the page goes, the stream
// falls too far behind (the page resumes), or the console is closed.
func (c *Console) events(rw http.ResponseWriter, r *http.Request, req *request) error {
	if !c.startStream() {
		return errClosed
	}
	defer c.streams.Done()
	sub, replay, reload, err := c.hub.subscribe(req.tenant, r.Header.Get("Last-Event-ID"))
	if err != nil {
		return err
	}
	defer c.hub.unsubscribe(sub)
	rc := http.NewResponseController(rw)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's WriteTimeout
	hd := rw.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("X-Accel-Buffering", "no")
	rw.WriteHeader(http.StatusOK)
	var buf bytes.Buffer
	buf.WriteString("retry: " + retryMillis + "\n\n")
	if reload {
		c.log.LogAttrs(r.Context(), slog.LevelDebug, "console: stream cannot resume, page reloads", slog.String(logkey.Tenant, string(req.tenant)))
		writeEvent(&buf, "", eventReload, []byte("{}"))
	}
	for _, e := range replay {
		writeEvent(&buf, c.hub.id(e.seq), e.name, e.data)
	}
	if _, err := rw.Write(buf.Bytes()); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	heartbeat := time.NewTicker(c.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		buf.Reset()
		select {
		case e, ok := <-sub.ch:
			if !ok {
				return nil
			}
			writeEvent(&buf, c.hub.id(e.seq), e.name, e.data)
		case <-heartbeat.C:
			buf.WriteString(": heartbeat\n\n")
		case <-r.Context().Done():
			return nil
		}
		if _, err := rw.Write(buf.Bytes()); err != nil {
			return nil
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}

// writeEvent writes one server-sent event. data is JSON, which holds no
// line breaks.
func writeEvent(buf *bytes.Buffer, id, name string, data []byte) {
	if id != "" {
		buf.WriteString("id: " + id + "\n")
	}
	buf.WriteString("event: " + name + "\ndata: ")
	buf.Write(data)
	buf.WriteString("\n\n")
}
