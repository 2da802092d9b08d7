package webwidget_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/webwidget"
)

// agentFixture serves a widget whose receiver is a real agent answering
// with model, and returns it with the agent and a channel of finished
// turns.
func agentFixture(t *testing.T, model llm.Provider, edit func(*webwidget.Options)) (*fixture, *agent.Agent, <-chan agent.TurnInfo) {
	t.Helper()
	f := &fixture{st: memory.New(nil), clock: newClock()}
	opts := testOptions(f.clock)
	if edit != nil {
		edit(opts)
	}
	w, err := webwidget.New(f.st, opts)
	require.NoError(t, err)
	f.w = w
	turns := make(chan agent.TurnInfo, 16)
	a, err := agent.New(agent.Config{
		Store:          f.st,
		Model:          model,
		Channels:       []channel.Channel{w},
		CoalesceWindow: -1,
		Hooks:          agent.Hooks{TurnDone: func(ti agent.TurnInfo) { turns <- ti }},
		Logger:         opts.Logger,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Run(ctx) }()
	f.srv = httptest.NewServer(w.Handler(a))
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), waitLong)
		defer scancel()
		require.NoError(t, w.Close(sctx))
		f.srv.Close()
		require.NoError(t, a.Shutdown(sctx))
		cancel()
		<-ran
	})
	return f, a, turns
}

func waitTurn(t *testing.T, turns <-chan agent.TurnInfo) agent.TurnInfo {
	t.Helper()
	select {
	case ti := <-turns:
		return ti
	case <-time.After(waitLong):
		t.Fatal("no turn finished")
		return agent.TurnInfo{}
	}
}

func TestEventsReplyAndTyping(t *testing.T) {
	f, _, turns := agentFixture(t, llmtest.NewScripted(llmtest.Reply("We ship to all of Peru. See https://tiendasol.example/shipping")), nil)
	tok := f.token(t)
	h := f.history(t, tok)
	s := f.openEvents(t, tok, h.Cursor)
	require.Equal(t, http.StatusAccepted, f.post(t, tok, "first-message-00001", "Do you ship to Cusco?"))

	var echo, reply wireMessage
	typing := false
	for reply.Role == "" {
		e := s.next(t)
		switch e.Name {
		case "typing":
			assert.Empty(t, e.ID, "typing indicators are not replayed, so they have no id")
			typing = true
		case "message":
			require.NotEmpty(t, e.ID)
			m := e.message(t)
			if m.Role == "visitor" {
				require.False(t, typing, "the visitor's message comes before the typing indicator")
				echo = m
			} else {
				require.True(t, typing, "the typing indicator comes before the reply")
				reply = m
			}
		default:
			t.Fatalf("unexpected event %+v", e)
		}
	}
	assert.Equal(t, "first-message-00001", echo.ClientID, "the visitor's other tabs see the message")
	assert.Equal(t, "Do you ship to Cusco?", echo.Text)
	assert.Equal(t, "assistant", reply.Role)
	assert.Equal(t, "We ship to all of Peru. See https://tiendasol.example/shipping", reply.Text)
	assert.Positive(t, reply.ID, "the reply names its record")
	assert.Equal(t, agent.Answered, waitTurn(t, turns).Outcome)

	got := f.history(t, tok).Messages
	require.Len(t, got, 2)
	assert.Equal(t, "visitor", got[0].Role)
	assert.Equal(t, "first-message-00001", got[0].ClientID)
	assert.Equal(t, reply.ID, got[1].ID, "history and events name a record alike, so the script shows it once")
	assert.Equal(t, reply.Text, got[1].Text)
}

func TestIdempotentSend(t *testing.T) {
	model := llmtest.NewScripted(llmtest.Reply("Once."), llmtest.Reply("Twice!"))
	f, a, turns := agentFixture(t, model, nil)
	tok := f.token(t)
	require.Equal(t, http.StatusAccepted, f.post(t, tok, "retried-message-0001", "hello"))
	require.Equal(t, http.StatusAccepted, f.post(t, tok, "retried-message-0001", "hello"), "a retried POST is acknowledged")
	assert.Equal(t, agent.Answered, waitTurn(t, turns).Outcome)

	st := a.Stats()
	assert.EqualValues(t, 1, st.Received)
	assert.EqualValues(t, 1, st.Duplicates)
	assert.EqualValues(t, 1, st.Sent)
	assert.Equal(t, 1, model.Calls(), "answered once")
	got := f.history(t, tok).Messages
	require.Len(t, got, 2)
	assert.Equal(t, "Once.", got[1].Text)
}

func TestOfflineVisitorGetsReplyInHistory(t *testing.T) {
	f, a, turns := agentFixture(t, llmtest.NewScripted(llmtest.Reply("Yes, we are open.")), nil)
	tok := f.token(t)
	require.Equal(t, http.StatusAccepted, f.post(t, tok, "offline-message-0001", "Open today?"))
	assert.Equal(t, agent.Answered, waitTurn(t, turns).Outcome, "sending to a visitor with no open stream succeeds")
	assert.EqualValues(t, 0, a.Stats().SendErrors)
	got := f.history(t, tok).Messages
	require.Len(t, got, 2)
	assert.Equal(t, "Yes, we are open.", got[1].Text)
}

func TestEventsResume(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(t)
	addr := visitor(t, tok)
	h := f.history(t, tok)
	s := f.openEvents(t, tok, h.Cursor)
	send := func(s string) string {
		res, err := f.w.Send(t.Context(), text(addr, s))
		require.NoError(t, err)
		require.Len(t, res.IDs, 1)
		return string(res.IDs[0])
	}

	var ids []string
	for _, m := range []string{"one", "two", "three"} {
		id := send(m)
		e := s.next(t)
		assert.Equal(t, id, e.ID, "the send's id is the event's id")
		assert.Equal(t, m, e.message(t).Text)
		ids = append(ids, e.ID)
	}
	s.close()
	send("four") // while the visitor is away
	send("five")

	resumed := f.openEvents(t, tok, ids[2])
	for _, want := range []string{"four", "five"} {
		assert.Equal(t, want, resumed.next(t).message(t).Text, "exactly the missed events, in order")
	}
	send("six")
	assert.Equal(t, "six", resumed.next(t).message(t).Text, "then live events")

	again := f.openEvents(t, tok, ids[0])
	for _, want := range []string{"two", "three", "four", "five", "six"} {
		assert.Equal(t, want, again.next(t).message(t).Text)
	}

	t.Run("from the history cursor", func(t *testing.T) {
		fromCursor := f.openEvents(t, tok, h.Cursor)
		for _, want := range []string{"one", "two", "three", "four", "five", "six"} {
			assert.Equal(t, want, fromCursor.next(t).message(t).Text)
		}
	})
}

func TestEventsReload(t *testing.T) {
	f := newFixture(t, func(o *webwidget.Options) {
		o.ResumeBuffer = 2
		o.ResumeWindow = time.Minute
	})
	tok := f.token(t)
	addr := visitor(t, tok)
	h := f.history(t, tok)
	for _, m := range []string{"one", "two", "three"} {
		_, err := f.w.Send(t.Context(), text(addr, m))
		require.NoError(t, err)
	}
	epoch, _, _ := strings.Cut(h.Cursor, ".")

	for _, tc := range []struct{ name, last string }{
		{"older than the buffer", h.Cursor},
		{"from another process", "0123456789abcdef.1"},
		{"from the future", epoch + ".999999"},
		{"malformed", "garbage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := f.openEvents(t, tok, tc.last)
			e := s.next(t)
			assert.Equal(t, "reload", e.Name)
			assert.Empty(t, e.ID)
			s.ended(t) // the client reloads its history and comes back
		})
	}

	t.Run("within the buffer", func(t *testing.T) {
		s := f.openEvents(t, tok, epoch+"."+"2")
		assert.Equal(t, "three", s.next(t).message(t).Text)
	})

	t.Run("after the resume window", func(t *testing.T) {
		tok, other := f.token(t), f.token(t) // visitors without streams
		cursor := f.history(t, tok).Cursor
		f.clock.Advance(2 * time.Minute)
		f.history(t, other) // any visitor's activity sweeps idle ones
		_, err := f.w.Send(t.Context(), text(visitor(t, tok), "while forgotten"))
		require.NoError(t, err)
		e := f.openEvents(t, tok, cursor).next(t)
		assert.Equal(t, "reload", e.Name, "a visitor forgotten may have missed events")
	})
}

func TestEventsTabs(t *testing.T) {
	f := newFixture(t, func(o *webwidget.Options) { o.MaxStreams = 2 })
	tok := f.token(t)
	addr := visitor(t, tok)
	a, b := f.openEvents(t, tok, ""), f.openEvents(t, tok, "")
	_, status := f.tryEvents(t, tok, "")
	assert.Equal(t, http.StatusTooManyRequests, status, "at most MaxStreams streams per visitor")

	require.NoError(t, f.w.Typing(t.Context(), addr, "m1"))
	_, err := f.w.Send(t.Context(), text(addr, "to every tab"))
	require.NoError(t, err)
	for _, s := range []*stream{a, b} {
		assert.Equal(t, "typing", s.next(t).Name)
		assert.Equal(t, "to every tab", s.next(t).message(t).Text)
	}

	other := f.openEvents(t, f.token(t), "")
	_, err = f.w.Send(t.Context(), text(addr, "only for the first visitor"))
	require.NoError(t, err)
	a.next(t)
	select {
	case e := <-other.events:
		if e.Name != "" {
			t.Fatalf("another visitor's stream got %+v", e)
		}
	default:
	}
}

func TestEventsHeartbeat(t *testing.T) {
	f := newFixture(t, func(o *webwidget.Options) { o.Heartbeat = 10 * time.Millisecond })
	s := f.openEvents(t, f.token(t), "")
	assert.Equal(t, "heartbeat", s.nextComment(t))
}

func TestSendNeverBlocksOnSlowStream(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(t)
	addr := visitor(t, tok)
	cursor := f.history(t, tok).Cursor
	// A stream whose client stops reading: once the socket buffers and the
	// stream's queue are full, the hub closes it rather than wait.
	s := f.openEvents(t, tok, cursor)
	big := strings.Repeat("x", 16<<10)
	for range 200 {
		_, err := f.w.Send(t.Context(), text(addr, big))
		require.NoError(t, err, "a slow browser never blocks or fails a send")
	}
	s.close()
	e := f.openEvents(t, tok, cursor).next(t)
	assert.Equal(t, "reload", e.Name, "200 events do not fit the default buffer of 64")
}

func TestSendRendering(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token(t)
	addr := visitor(t, tok)
	s := f.openEvents(t, tok, "")

	for _, tc := range []struct {
		name  string
		out   channel.Outbound
		check func(t *testing.T, m wireMessage)
	}{
		{"buttons", channel.Outbound{To: addr, Text: "What do you need?", Interactive: &channel.Interactive{
			Header: "Help", Footer: "Tienda Sol",
			Buttons: []channel.Button{{ID: "track", Title: "Track my order"}, {ID: "human", Title: "Talk to a person"}},
		}}, func(t *testing.T, m wireMessage) {
			assert.Equal(t, "What do you need?", m.Text)
			assert.Equal(t, "Help", m.Header)
			assert.Equal(t, "Tienda Sol", m.Footer)
			require.Len(t, m.Chips, 2)
			assert.Equal(t, "track", m.Chips[0].ID)
			assert.Equal(t, "Track my order", m.Chips[0].Title)
			assert.Equal(t, "button", m.Chips[0].Kind)
		}},
		{"list", channel.Outbound{To: addr, Text: "Pick a size", Interactive: &channel.Interactive{List: &channel.List{
			Button: "Sizes", Sections: []channel.Section{{Title: "All", Rows: []channel.Row{{ID: "s", Title: "S"}, {ID: "m", Title: "M"}}}},
		}}}, func(t *testing.T, m wireMessage) {
			require.Len(t, m.Chips, 2)
			assert.Equal(t, "m", m.Chips[1].ID)
			assert.Equal(t, "list", m.Chips[1].Kind)
		}},
		{"image", channel.Outbound{To: addr, Text: "Our alpaca scarf", Media: &channel.Media{Kind: channel.Image, URL: "https://cdn.tiendasol.example/scarf.jpg"}}, func(t *testing.T, m wireMessage) {
			require.NotNil(t, m.Media)
			assert.Equal(t, "image", m.Media.Kind)
			assert.Equal(t, "https://cdn.tiendasol.example/scarf.jpg", m.Media.URL)
			assert.Equal(t, "Our alpaca scarf", m.Text)
		}},
		{"location", channel.Outbound{To: addr, Location: &channel.Location{Latitude: -12.046374, Longitude: -77.042793, Name: "Tienda Sol"}}, func(t *testing.T, m wireMessage) {
			require.NotNil(t, m.Location)
			assert.Equal(t, "Tienda Sol", m.Location.Name)
			assert.True(t, strings.HasPrefix(m.Location.URL, "https://www.openstreetmap.org/?mlat=-12.046374&mlon=-77.042793"), m.Location.URL)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.w.Send(t.Context(), tc.out)
			require.NoError(t, err)
			m := s.next(t).message(t)
			assert.Equal(t, "assistant", m.Role)
			tc.check(t, m)
		})
	}

	t.Run("an operator's message", func(t *testing.T) {
		conv, err := f.st.OpenConversation(t.Context(), addr)
		require.NoError(t, err)
		out := channel.Outbound{To: addr, Text: "Hi, this is Rosa from Tienda Sol."}
		rec, err := f.st.Append(t.Context(), store.Message{Tenant: site, Conversation: conv.ID, Role: store.Operator, Outbound: &out})
		require.NoError(t, err)
		out.Correlation = "wagent:" + itoa(int64(rec.ID))
		_, err = f.w.Send(t.Context(), out)
		require.NoError(t, err)
		m := s.next(t).message(t)
		assert.Equal(t, "operator", m.Role, "the widget tells a human's messages apart")
		assert.Equal(t, int64(rec.ID), m.ID)
		h := f.history(t, tok).Messages
		require.NotEmpty(t, h)
		assert.Equal(t, "operator", h[len(h)-1].Role)

		// A correlation naming another visitor's record changes nothing.
		mallory := visitor(t, f.token(t))
		_, err = f.w.Send(t.Context(), channel.Outbound{To: mallory, Text: "x", Correlation: out.Correlation})
		require.NoError(t, err)
	})
}

func TestSendErrors(t *testing.T) {
	f := newFixture(t, nil)
	addr := channel.Address{Channel: channel.WebWidget, Tenant: site, User: "vAAAAAAAAAAAAAAAAAAAAAA"}
	for _, tc := range []struct {
		name string
		out  channel.Outbound
		want error
	}{
		{"nothing to send", channel.Outbound{To: addr}, channel.ErrInvalidMessage},
		{"template", channel.Outbound{To: addr, Template: &channel.Template{Name: "hello", Language: "es"}}, channel.ErrUnsupported},
		{"reaction", channel.Outbound{To: addr, Reaction: &channel.Reaction{MessageID: "m1", Emoji: "👍"}}, channel.ErrUnsupported},
		{"media by provider id", channel.Outbound{To: addr, Media: &channel.Media{Kind: channel.Image, ID: "123"}}, channel.ErrUnsupported},
		{"script URL", channel.Outbound{To: addr, Media: &channel.Media{Kind: channel.Image, URL: "javascript:alert(1)"}}, channel.ErrInvalidMessage},
		{"relative URL", channel.Outbound{To: addr, Media: &channel.Media{Kind: channel.Image, URL: "/x.png"}}, channel.ErrInvalidMessage},
		{"text too long", channel.Outbound{To: addr, Text: channel.Text(strings.Repeat("a", 64<<10+1))}, channel.ErrInvalidMessage},
		{"another channel", channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: site, User: "51987654321"}, Text: "hi"}, channel.ErrInvalidMessage},
		{"unknown site", channel.Outbound{To: channel.Address{Channel: channel.WebWidget, Tenant: "nope", User: addr.User}, Text: "hi"}, channel.ErrUndeliverable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.w.Send(t.Context(), tc.out)
			require.ErrorIs(t, err, tc.want)
			assert.False(t, channel.Retryable(err))
		})
	}
	t.Run("context done", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := f.w.Send(ctx, text(addr, "hi"))
		assert.ErrorIs(t, err, context.Canceled)
	})
	assert.Equal(t, channel.WebWidget, f.w.Name())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
