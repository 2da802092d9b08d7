package webwidget

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/logkey"
	"github.com/wagent/wagent/store"
)

var (
	_ channel.Channel         = (*Widget)(nil)
	_ channel.TypingIndicator = (*Widget)(nil)
)

// maxReplyBytes caps the text of a message sent to a visitor.
const maxReplyBytes = 64 << 10

// Widget is the web widget channel: a [channel.Channel] that delivers
// messages to visitors' browsers over server-sent events, and the HTTP
// handler (see [Widget.Handler]) that serves the embeddable script and
// feeds visitors' messages to a [channel.Receiver].
//
// Create one with [New]; stop it with [Widget.Close]. A Widget is safe for
// concurrent use.
type Widget struct {
	cfg     config
	store   store.ConversationStore
	log     *slog.Logger
	secrets [][]byte // Secret first, then PreviousSecrets
	hub     *hub
	perVis  *limiters
	perIP   *limiters

	mu      sync.Mutex
	closed  bool
	done    chan struct{} // closed by Close
	streams sync.WaitGroup
}

// New returns a widget for the sites of opts that reads visitors'
// histories from st, or an error naming every problem with opts. st is
// the store the agent records the conversations in. It starts no
// goroutines.
func New(st store.ConversationStore, opts *Options) (*Widget, error) {
	if opts == nil {
		opts = &Options{}
	}
	cfg, err := opts.validate()
	if st == nil {
		err = errors.Join(errors.New("webwidget: a store is required"), err)
	}
	if err != nil {
		return nil, err
	}
	secrets := append([][]byte{cfg.Secret}, cfg.PreviousSecrets...)
	return &Widget{
		cfg:     cfg,
		store:   st,
		log:     cfg.Logger,
		secrets: secrets,
		hub:     newHub(cfg.ResumeBuffer, cfg.ResumeWindow, cfg.MaxStreams),
		perVis:  newLimiters("visitor", cfg.VisitorLimit),
		perIP:   newLimiters("ip", cfg.IPLimit),
		done:    make(chan struct{}),
	}, nil
}

// Name implements [channel.Channel]: it returns [channel.WebWidget].
func (w *Widget) Name() channel.Name { return channel.WebWidget }

// Send implements [channel.Channel]. It hands out to the visitor's open
// event streams (every tab) and keeps it for resuming them; it succeeds
// when the visitor is offline too, since the history shows the message
// when they come back. The returned id is the event's id.
//
// Text, media with an http(s) URL (images are shown, other kinds linked),
// interactive messages (buttons and list rows become quick-reply chips)
// and locations are supported. Templates and reactions are not
// ([channel.ErrUnsupported]); nor is media known only by a provider id.
// An address of another channel or of an unknown site, or a message over
// the widget's limits, is [channel.ErrInvalidMessage] or
// [channel.ErrUndeliverable]. After [Widget.Close] it returns an error
// wrapping [channel.ErrClosed].
func (w *Widget) Send(ctx context.Context, out channel.Outbound) (channel.SendResult, error) {
	if err := ctx.Err(); err != nil {
		return channel.SendResult{}, err
	}
	if w.isClosed() {
		return channel.SendResult{}, sendError(channel.ErrClosed, nil)
	}
	if err := out.Validate(); err != nil {
		return channel.SendResult{}, fmt.Errorf("webwidget: send: %w", err)
	}
	if out.To.Channel != channel.WebWidget {
		return channel.SendResult{}, sendError(channel.ErrInvalidMessage, fmt.Errorf("address of channel %q", out.To.Channel))
	}
	if w.cfg.sites[out.To.Tenant] == nil {
		return channel.SendResult{}, sendError(channel.ErrUndeliverable, fmt.Errorf("unknown site %q", out.To.Tenant))
	}
	m, err := outboundView(out)
	if err != nil {
		return channel.SendResult{}, err
	}
	m.Time = w.cfg.Now()
	if id, ok := store.ParseCorrelation(out.Correlation); ok {
		m.ID = id
		rec, err := w.store.Message(ctx, out.To.Tenant, id)
		switch {
		case err == nil && rec.Outbound != nil && rec.Outbound.To == out.To:
			m.Role = roleOf(rec.Role)
			if !rec.Time.IsZero() {
				m.Time = rec.Time
			}
		case err != nil && ctx.Err() != nil:
			return channel.SendResult{}, err
		case err != nil:
			w.log.LogAttrs(ctx, slog.LevelDebug, "webwidget: record of an outgoing message not found",
				slog.String(logkey.Tenant, string(out.To.Tenant)), slog.Int64(logkey.Message, int64(id)), slog.Any(logkey.Error, err))
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		return channel.SendResult{}, sendError(channel.ErrInvalidMessage, err)
	}
	id := w.hub.publish(out.To, eventMessage, data, w.cfg.Now())
	w.log.LogAttrs(ctx, slog.LevelDebug, "webwidget: message sent",
		slog.Any(logkey.Address, out.To), slog.String(logkey.ProviderID, id), slog.Int64(logkey.Message, int64(m.ID)))
	return channel.SendResult{IDs: []channel.MessageID{channel.MessageID(id)}}, nil
}

// Typing implements [channel.TypingIndicator]: the visitor's open streams
// show that a reply is being written, until the reply arrives or for 25 s.
// It is not kept for resuming streams.
func (w *Widget) Typing(ctx context.Context, to channel.Address, id channel.MessageID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if w.isClosed() {
		return sendError(channel.ErrClosed, nil)
	}
	if to.Channel != channel.WebWidget {
		return sendError(channel.ErrInvalidMessage, fmt.Errorf("address of channel %q", to.Channel))
	}
	w.hub.signal(to, eventTyping, []byte("{}"))
	return nil
}

// Close ends every open event stream, refuses new requests with 503 and
// sends with [channel.ErrClosed], and waits for the stream handlers to
// return or for ctx to be done. Call it before
// [net/http.Server.Shutdown], which otherwise waits for the streams until
// its own deadline. Close is idempotent.
func (w *Widget) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.done)
	}
	w.mu.Unlock()
	w.hub.close()
	done := make(chan struct{})
	go func() {
		w.streams.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Widget) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// startStream counts a stream handler, or reports that the widget is
// closed.
func (w *Widget) startStream() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.streams.Add(1)
	return true
}

func sendError(kind, err error) error {
	return &channel.Error{Channel: channel.WebWidget, Kind: kind, Err: err}
}

// Roles on the wire.
const (
	roleVisitor   = "visitor"
	roleAssistant = "assistant"
	roleOperator  = "operator"
	roleSystem    = "system"
)

func roleOf(r store.Role) string {
	switch r {
	case store.Operator:
		return roleOperator
	case store.System:
		return roleSystem
	}
	return roleAssistant
}

// message is a message as the widget's script shows it, in history
// answers and message events.
type message struct {
	// ID is the store's record id, when known: the client shows a record
	// once, however often it receives it.
	ID store.MessageID `json:"id,omitempty"`
	// ClientID is the id the client gave a visitor's message.
	ClientID string    `json:"client_id,omitempty"`
	Role     string    `json:"role"`
	Time     time.Time `json:"time"`
	Text     string    `json:"text,omitempty"`
	Header   string    `json:"header,omitempty"`
	Footer   string    `json:"footer,omitempty"`
	Chips    []chip    `json:"chips,omitempty"`
	Media    *media    `json:"media,omitempty"`
	Location *location `json:"location,omitempty"`
}

// chip is a quick reply: a button or a list row of an interactive message.
type chip struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Kind  string `json:"kind"` // "button" or "list"
}

type media struct {
	Kind     channel.MediaKind `json:"kind"`
	URL      string            `json:"url"`
	Filename string            `json:"filename,omitempty"`
}

type location struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address,omitempty"`
	URL     string `json:"url"`
}

// outboundView translates out, validated, for the script.
func outboundView(out channel.Outbound) (message, error) {
	m := message{Role: roleAssistant, Text: string(out.Text)}
	if len(m.Text) > maxReplyBytes {
		return m, sendError(channel.ErrInvalidMessage, fmt.Errorf("text longer than %d bytes", maxReplyBytes))
	}
	switch out.Kind() {
	case channel.OutText:
	case channel.OutMedia:
		if out.Media.URL == "" {
			return m, sendError(channel.ErrUnsupported, errors.New("media known only by a provider id"))
		}
		if !webURL(out.Media.URL) {
			return m, sendError(channel.ErrInvalidMessage, errors.New("media URL must be absolute http(s)"))
		}
		m.Media = &media{Kind: out.Media.Kind, URL: out.Media.URL, Filename: out.Media.Filename}
	case channel.OutInteractive:
		in := out.Interactive
		m.Header, m.Footer = in.Header, in.Footer
		for _, b := range in.Buttons {
			m.Chips = append(m.Chips, chip{ID: b.ID, Title: b.Title, Kind: string(channel.ReplyButton)})
		}
		if in.List != nil {
			for _, s := range in.List.Sections {
				for _, r := range s.Rows {
					m.Chips = append(m.Chips, chip{ID: r.ID, Title: r.Title, Kind: string(channel.ReplyList)})
				}
			}
		}
	case channel.OutLocation:
		l := out.Location
		u := l.URL
		if !webURL(u) {
			u = fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f#map=17/%.6f/%.6f", l.Latitude, l.Longitude, l.Latitude, l.Longitude)
		}
		m.Location = &location{Name: l.Name, Address: l.Address, URL: u}
	default: // templates, reactions
		return m, sendError(channel.ErrUnsupported, fmt.Errorf("%s messages", out.Kind()))
	}
	return m, nil
}

// webURL reports whether s is an absolute http or https URL.
func webURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// recordView translates a record of the visitor's conversation for the
// script, or reports false for records the visitor does not see (tool
// calls and results, notes, failed sends, removed content).
func recordView(rec store.Message) (message, bool) {
	if rec.ContentRemoved {
		return message{}, false
	}
	switch rec.Role {
	case store.User:
		in := rec.Inbound
		if in == nil {
			return message{}, false
		}
		m := message{ID: rec.ID, ClientID: string(in.ID), Role: roleVisitor, Time: rec.Time, Text: string(in.Text)}
		if in.Type == channel.TypeInteractive && in.Reply != nil && m.Text == "" {
			m.Text = string(in.Reply.Title)
		}
		return m, m.Text != ""
	case store.Assistant, store.Operator, store.System:
		if rec.Outbound == nil || rec.Delivery.State == channel.Failed {
			return message{}, false
		}
		m, err := outboundView(*rec.Outbound)
		if err != nil {
			return message{}, false
		}
		m.ID, m.Role, m.Time = rec.ID, roleOf(rec.Role), rec.Time
		return m, true
	}
	return message{}, false
}

// history returns the visitor's conversation, the latest HistoryLimit
// messages it sees, oldest first. A visitor who never wrote has none; it
// is not created.
func (w *Widget) history(ctx context.Context, addr channel.Address) ([]message, error) {
	subj, err := w.store.Subject(ctx, addr)
	if errors.Is(err, store.ErrNotFound) || (err == nil && subj.Address != addr) {
		return []message{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("webwidget: history: %w", err)
	}
	conv, err := w.store.OpenConversation(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("webwidget: history: %w", err)
	}
	// Tool calls and results are records too: ask for more than needed.
	recs, err := w.store.History(ctx, addr.Tenant, conv.ID, store.HistoryQuery{Limit: 4 * w.cfg.HistoryLimit})
	if err != nil {
		return nil, fmt.Errorf("webwidget: history: %w", err)
	}
	msgs := make([]message, 0, len(recs))
	for _, rec := range recs {
		if m, ok := recordView(rec); ok {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) > w.cfg.HistoryLimit {
		msgs = msgs[len(msgs)-w.cfg.HistoryLimit:]
	}
	return msgs, nil
}

// eraser returns the function that erases a visitor's data, or nil when
// there is none.
func (w *Widget) eraser() func(context.Context, channel.Address) error {
	if w.cfg.Erase != nil {
		return w.cfg.Erase
	}
	e, ok := store.Capability[store.Eraser](w.store)
	if !ok {
		return nil
	}
	return func(ctx context.Context, addr channel.Address) error {
		subj, err := w.store.Subject(ctx, addr)
		if errors.Is(err, store.ErrNotFound) || (err == nil && subj.Address != addr) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = e.Erase(ctx, addr.Tenant, subj.ID)
		return err
	}
}
