package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/console"
	"github.com/wagent/wagent/store"
)

// sse is a server-sent event as a stream delivered it.
type sse struct {
	ID, Name string
	Data     struct {
		Conversation store.ConversationID `json:"conversation"`
		Message      store.MessageID      `json:"message"`
		Operator     string               `json:"operator"`
		Reason       string               `json:"reason"`
	}
	Raw string
}

// stream opens the event stream of tenant as operator, resuming after
// lastID when set, and returns its events.
func stream(t *testing.T, srv *httptest.Server, tenant channel.TenantID, lastID string) (<-chan sse, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/console/api/tenants/"+string(tenant)+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("X-Staff", "ana")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	out := make(chan sse, 100)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var e sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.Name != "" {
					_ = json.Unmarshal([]byte(e.Raw), &e.Data)
					out <- e
				}
				e = sse{}
			case strings.HasPrefix(line, "id: "):
				e.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				e.Name = line[7:]
			case strings.HasPrefix(line, "data: "):
				e.Raw = line[6:]
			}
		}
	}()
	t.Cleanup(cancel)
	return out, cancel
}

func next(t *testing.T, events <-chan sse) sse {
	t.Helper()
	select {
	case e, ok := <-events:
		require.True(t, ok, "the stream ended")
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	return sse{}
}

func TestEvents(t *testing.T) {
	f := setup(t, nil)
	srv := httptest.NewServer(f.mux)
	t.Cleanup(srv.Close)
	shopEvents, stopShop := stream(t, srv, shop, "")
	otherEvents, _ := stream(t, srv, other, "")

	conv := f.waiting(t, customer(shop, "51900000041"), "wamid.1")
	e := next(t, shopEvents)
	assert.Equal(t, "waiting", e.Name)
	assert.Equal(t, conv, e.Data.Conversation)
	assert.Equal(t, "customer_request", e.Data.Reason)
	assert.NotContains(t, e.Raw, "persona", "events carry ids, never what was said")
	assert.NotContains(t, e.Raw, "51900000041")

	otherConv := f.waiting(t, customer(other, "51900000042"), "wamid.2")
	e = next(t, otherEvents)
	assert.Equal(t, otherConv, e.Data.Conversation, "each tenant's stream has its own events only")

	p := convPath(shop, conv)
	require.Equal(t, 200, f.call(t, "ana", "POST", p+"/claim", "{}").Code)
	claimed := next(t, shopEvents)
	assert.Equal(t, "claimed", claimed.Name)
	assert.Equal(t, "ana", claimed.Data.Operator)
	assert.NotEmpty(t, claimed.ID)

	// The page goes away; meanwhile a note and a reply.
	stopShop()
	require.Equal(t, 201, f.call(t, "ana", "POST", p+"/notes", `{"text":"vip"}`).Code)
	require.Equal(t, 201, f.call(t, "ana", "POST", p+"/reply", `{"text":"Hola"}`).Code)

	resumed, _ := stream(t, srv, shop, claimed.ID)
	assert.Equal(t, "note", next(t, resumed).Name, "Last-Event-ID resumes with what was missed, in order")
	e = next(t, resumed)
	assert.Equal(t, "operator_reply", e.Name)
	assert.NotZero(t, e.Data.Message)

	f.write(t, customer(shop, "51900000041"), "wamid.3", "gracias", time.Time{})
	assert.Equal(t, "customer_message", next(t, resumed).Name)
	require.Equal(t, 200, f.call(t, "ana", "POST", p+"/release", "{}").Code)
	e = next(t, resumed)
	assert.Equal(t, "returned", e.Name)
	assert.Equal(t, "operator_release", e.Data.Reason)

	for _, id := range []string{"0123456789ab-1", "garbage", claimed.ID + "0000"} {
		stale, _ := stream(t, srv, shop, id)
		assert.Equal(t, "reload", next(t, stale).Name, "an id that cannot be resumed (%s) tells the page to fetch again", id)
	}
}

func TestEventStreamsAreBounded(t *testing.T) {
	f := setup(t, func(o *console.Options) { o.MaxStreams = 1 })
	srv := httptest.NewServer(f.mux)
	t.Cleanup(srv.Close)
	stream(t, srv, shop, "")
	refused(t, f.call(t, "ana", "GET", "/api/tenants/tienda-sol/events", ""), 429, "too_many_streams")
}

func TestCloseEndsStreams(t *testing.T) {
	f := setup(t, nil)
	srv := httptest.NewServer(f.mux)
	t.Cleanup(srv.Close)
	events, _ := stream(t, srv, shop, "")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, f.console.Close(ctx))
	select {
	case _, ok := <-events:
		assert.False(t, ok, "the stream ends")
	case <-time.After(10 * time.Second):
		t.Fatal("the stream did not end")
	}
}
