package instagram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/instagram"
	"github.com/wagent/wagent/channel/instagram/instagramtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/send")

const token = "test-access-token"

func newClient(t testing.TB, opts *instagram.Options) (*instagram.Client, *instagramtest.Server) {
	t.Helper()
	api := instagramtest.NewServer(token, "")
	t.Cleanup(api.Close)
	return newClientFor(t, api, opts), api
}

func newClientFor(t testing.TB, api *instagramtest.Server, opts *instagram.Options) *instagram.Client {
	t.Helper()
	o := instagram.Options{}
	if opts != nil {
		o = *opts
	}
	o.BaseURL = api.URL
	if o.RetryDelay == 0 {
		o.RetryDelay = time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := instagram.New(instagram.StaticToken(token), &o)
	require.NoError(t, err)
	return c
}

func to(u string) channel.Address {
	return channel.Address{Channel: channel.Instagram, Tenant: tenant, User: channel.UserID(u)}
}

// golden compares body, indented, with testdata/send/name.golden.json.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var got bytes.Buffer
	require.NoError(t, json.Indent(&got, body, "", "  "))
	got.WriteByte('\n')
	path := filepath.Join("testdata", "send", name+".golden.json")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), got.String(), "request body differs from %s", path)
}

func TestSendEveryKind(t *testing.T) {
	tests := []struct {
		name    string
		out     channel.Outbound
		goldens []string
	}{
		{"text", channel.Outbound{To: to(igsid), Text: "Your order A-1001 ships today. <b>&</b>", ReplyTo: "aWdfZAG1fIN0001", Correlation: "wagent:42"}, []string{"text"}},
		{"image", channel.Outbound{To: to(igsid), Media: &channel.Media{Kind: channel.Image, URL: "https://example.com/a.jpg"}}, []string{"image"}},
		{"video with caption", channel.Outbound{To: to(igsid), Text: "How to fold it", Media: &channel.Media{Kind: channel.Video, URL: "https://example.com/v.mp4"}}, []string{"video", "video_caption"}},
		{"audio", channel.Outbound{To: to(igsid), Media: &channel.Media{Kind: channel.Audio, URL: "https://example.com/a.m4a"}}, []string{"audio"}},
		{"document", channel.Outbound{To: to(igsid), Media: &channel.Media{Kind: channel.Document, URL: "https://example.com/factura.pdf", Filename: "factura.pdf"}}, []string{"file"}},
		{"quick replies", channel.Outbound{To: to(igsid), Text: "Confirm your order?", Interactive: &channel.Interactive{
			Header: "Order A-1001", Footer: "Tienda Sol",
			Buttons: []channel.Button{{ID: "yes", Title: "Sí, confirmar"}, {ID: "no", Title: "No"}, {ID: "agent", Title: "Talk to a person"}},
		}}, []string{"quick_replies"}},
		{"list as cards", channel.Outbound{To: to(igsid), Text: "Pick a size", Interactive: &channel.Interactive{List: &channel.List{Button: "Choose", Sections: []channel.Section{
			{Title: "Women", Rows: []channel.Row{{ID: "w-s", Title: "Small", Description: "Fits 80-90 cm"}, {ID: "w-m", Title: "Medium"}}},
			{Title: "Men", Rows: []channel.Row{{ID: "m-l", Title: "Large"}}},
		}}}}, []string{"list_text", "list_cards"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newClient(t, nil)
			res, err := c.Send(t.Context(), tt.out)
			require.NoError(t, err)
			var want []channel.MessageID
			for i := range tt.goldens {
				want = append(want, channel.MessageID(fmt.Sprintf("aWdfZAFAKE%06d", i+1)))
			}
			assert.Equal(t, want, res.IDs)
			assert.Equal(t, len(tt.goldens), res.Attempts)
			reqs := api.Requests()
			require.Len(t, reqs, len(tt.goldens))
			for i, r := range reqs {
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "/v25.0/"+string(tenant)+"/messages", r.Path)
				assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
				assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
				assert.Empty(t, r.Query, "no token or proof in the URL")
				golden(t, tt.goldens[i], r.Body)
			}
		})
	}
}

func TestSendCards(t *testing.T) {
	cards := []channel.Card{
		{Title: "Alpaca scarf", Subtitle: "S/ 120.00", ImageURL: "https://example.com/scarf.jpg", URL: "https://example.com/p/scarf",
			Buttons: []channel.CardButton{{Title: "Buy", Payload: "buy:scarf"}, {Title: "See more", URL: "https://example.com/p/scarf"}}},
		{Title: "Wool hat", Subtitle: "S/ 60.00", ImageURL: "https://example.com/hat.jpg", Buttons: []channel.CardButton{{Title: "Buy", Payload: "buy:hat"}}},
	}
	t.Run("cards alone: one generic template", func(t *testing.T) {
		c, api := newClient(t, nil)
		res, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Cards: cards})
		require.NoError(t, err)
		assert.Equal(t, []channel.MessageID{"aWdfZAFAKE000001"}, res.IDs)
		sent := api.Sent()
		require.Len(t, sent, 1)
		golden(t, "cards", sent[0].Body)
	})
	t.Run("with text: the text first, then the cards", func(t *testing.T) {
		c, api := newClient(t, nil)
		res, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "Two we have in stock:", Cards: cards})
		require.NoError(t, err)
		assert.Equal(t, []channel.MessageID{"aWdfZAFAKE000001", "aWdfZAFAKE000002"}, res.IDs)
		sent := api.Sent()
		require.Len(t, sent, 2)
		golden(t, "cards_text", sent[0].Body)
		golden(t, "cards", sent[1].Body)
	})
}

func TestSendSplitsLongText(t *testing.T) {
	para := strings.TrimSpace(strings.Repeat("La lana de alpaca abriga. ", 30)) // 779 bytes
	long := para + "\n\n" + para + "\n\n" + para
	c, api := newClient(t, nil)
	res, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: channel.Text(long)})
	require.NoError(t, err)
	assert.Len(t, res.IDs, 3)
	var parts []string
	for _, r := range api.Sent() {
		var b struct {
			Message struct{ Text string } `json:"message"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &b))
		assert.LessOrEqual(t, len(b.Message.Text), 1000, "Instagram counts bytes")
		parts = append(parts, b.Message.Text)
	}
	assert.Equal(t, long, strings.Join(parts, "\n\n"), "split at the paragraph breaks, in order")

	// 600 "é" are 600 characters but 1200 bytes: two messages.
	c, api = newClient(t, nil)
	res, err = c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: channel.Text(strings.Repeat("é", 600))})
	require.NoError(t, err)
	assert.Len(t, res.IDs, 2)
	assert.Len(t, api.Sent(), 2)
}

func TestSendValidatesLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	buttons := func(n int) *channel.Interactive {
		in := &channel.Interactive{}
		for i := range n {
			in.Buttons = append(in.Buttons, channel.Button{ID: "b" + strconv.Itoa(i), Title: "B" + strconv.Itoa(i)})
		}
		return in
	}
	rows := func(n int) []channel.Row {
		var rs []channel.Row
		for i := range n {
			rs = append(rs, channel.Row{ID: "r" + strconv.Itoa(i), Title: "Row"})
		}
		return rs
	}
	tests := []struct {
		name string
		out  channel.Outbound
		kind error
		want string
	}{
		{"no content", channel.Outbound{To: to(igsid)}, channel.ErrInvalidMessage, "set text or exactly one"},
		{"other channel", channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: igsid}, Text: "hi"}, channel.ErrInvalidMessage, "address of channel"},
		{"bad user", channel.Outbound{To: to("not/an/id"), Text: "hi"}, channel.ErrInvalidMessage, "Instagram-scoped id"},
		{"bad tenant", channel.Outbound{To: channel.Address{Channel: channel.Instagram, Tenant: "a/b", User: igsid}, Text: "hi"}, channel.ErrInvalidMessage, "professional account id"},
		{"fourteen quick replies", channel.Outbound{To: to(igsid), Text: "?", Interactive: buttons(14)}, channel.ErrInvalidMessage, "14 quick replies, more than 13"},
		{"quick reply title", channel.Outbound{To: to(igsid), Text: "?", Interactive: &channel.Interactive{Buttons: []channel.Button{{ID: "a", Title: long(21)}}}}, channel.ErrInvalidMessage, "title is 21 characters, more than 20"},
		{"quick reply payload", channel.Outbound{To: to(igsid), Text: "?", Interactive: &channel.Interactive{Buttons: []channel.Button{{ID: long(1001), Title: "a"}}}}, channel.ErrInvalidMessage, "id is 1001 bytes"},
		{"duplicate quick replies", channel.Outbound{To: to(igsid), Text: "?", Interactive: &channel.Interactive{Buttons: []channel.Button{{ID: "a", Title: "a"}, {ID: "a", Title: "b"}}}}, channel.ErrInvalidMessage, "repeats the id"},
		{"quick reply text", channel.Outbound{To: to(igsid), Text: channel.Text(long(990)), Interactive: &channel.Interactive{Header: "Header", Footer: "Footer", Buttons: []channel.Button{{ID: "a", Title: "a"}}}}, channel.ErrInvalidMessage, "quick reply text is 1006 bytes"},
		{"eleven cards", channel.Outbound{To: to(igsid), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: "b", Sections: []channel.Section{{Rows: rows(11)}}}}}, channel.ErrInvalidMessage, "list rows as cards: channel: invalid message: 11 cards; send 1 to 10"},
		{"card title", channel.Outbound{To: to(igsid), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: "b", Sections: []channel.Section{{Rows: []channel.Row{{ID: "r", Title: long(81)}}}}}}}, channel.ErrInvalidMessage, "title is 81 characters, more than 80"},
		{"card subtitle", channel.Outbound{To: to(igsid), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: "b", Sections: []channel.Section{{Rows: []channel.Row{{ID: "r", Title: "t", Description: long(81)}}}}}}}, channel.ErrInvalidMessage, "subtitle is 81 characters"},
		{"card button", channel.Outbound{To: to(igsid), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: long(21), Sections: []channel.Section{{Rows: []channel.Row{{ID: "r", Title: "t"}}}}}}}, channel.ErrInvalidMessage, "title is 21 characters, more than 20"},
		{"media url not http", channel.Outbound{To: to(igsid), Media: &channel.Media{Kind: channel.Image, URL: "ftp://x"}}, channel.ErrInvalidMessage, "http or https"},
		{"media by id", channel.Outbound{To: to(igsid), Media: &channel.Media{Kind: channel.Image, ID: "1003383421387256"}}, channel.ErrUnsupported, "sent by url"},
		{"sticker", channel.Outbound{To: to(igsid), Media: &channel.Media{Kind: channel.Sticker, URL: "https://example.com/s.webp"}}, channel.ErrUnsupported, "sticker"},
		{"template", channel.Outbound{To: to(igsid), Template: &channel.Template{Name: "t", Language: "en"}}, channel.ErrUnsupported, "kind \"template\""},
		{"reaction", channel.Outbound{To: to(igsid), Reaction: &channel.Reaction{MessageID: "m", Emoji: "👍"}}, channel.ErrUnsupported, "kind \"reaction\""},
		{"location", channel.Outbound{To: to(igsid), Location: &channel.Location{Latitude: 1}}, channel.ErrUnsupported, "kind \"location\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newClient(t, nil)
			_, err := c.Send(t.Context(), tt.out)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, api.Requests(), "nothing is sent")
		})
	}
	t.Run("cards", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			cards []channel.Card
			want  string
		}{
			{"none", []channel.Card{}, "0 cards; send 1 to 10"},
			{"title only", []channel.Card{{Title: "t"}}, "needs a subtitle, picture, url or button"},
			{"no title", []channel.Card{{Subtitle: "s"}}, "needs a title"},
			{"four buttons", []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Title: "a", Payload: "a"}, {Title: "b", Payload: "b"}, {Title: "c", Payload: "c"}, {Title: "d", Payload: "d"}}}}, "4 buttons, more than 3"},
			{"button both", []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Title: "a", Payload: "a", URL: "https://x"}}}}, "either a payload or a url"},
			{"button title", []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Title: strings.Repeat("x", 21), Payload: "a"}}}}, "button 0 title is 21 characters, more than 20"},
			{"button payload", []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Title: "a", Payload: strings.Repeat("x", 1001)}}}}, "payload is 1001 bytes, more than 1000"},
			{"button url not http", []channel.Card{{Title: "t", Buttons: []channel.CardButton{{Title: "a", URL: "tel:+51987654321"}}}}, "button 0 url must be an http or https URL"},
			{"picture not http", []channel.Card{{Title: "t", ImageURL: "data:x"}}, "picture must be an http or https URL"},
			{"url not http", []channel.Card{{Title: "t", URL: "javascript:x"}}, "card 0 url must be an http or https URL"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c, api := newClient(t, nil)
				_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Cards: tt.cards})
				require.ErrorIs(t, err, channel.ErrInvalidMessage)
				assert.Contains(t, err.Error(), tt.want)
				assert.Empty(t, api.Requests())
			})
		}
	})
}

func TestSendClassifiesErrors(t *testing.T) {
	tests := []struct {
		code, subcode, status int
		kind                  error
	}{
		{10, 2534022, 400, channel.ErrWindowClosed},
		{10, 2018278, 400, channel.ErrWindowClosed},
		{100, 2534014, 400, channel.ErrUndeliverable},
		{100, 2018001, 400, channel.ErrUndeliverable},
		{551, 1545041, 400, channel.ErrUndeliverable},
		{100, 2534001, 400, channel.ErrUndeliverable},
		{368, 0, 403, channel.ErrUndeliverable},
		{4, 0, 400, channel.ErrRateLimited},
		{613, 0, 400, channel.ErrRateLimited},
		{80002, 0, 400, channel.ErrRateLimited},
		{2, 1545133, 500, channel.ErrUnavailable},
		{1200, 0, 500, channel.ErrUnavailable},
		{1, 0, 500, channel.ErrUnavailable},
		{190, 0, 401, channel.ErrAuth},
		{10, 0, 403, channel.ErrAuth},
		{230, 0, 403, channel.ErrAuth},
		{100, 0, 400, channel.ErrInvalidMessage},
		{999999, 0, 400, channel.ErrInvalidMessage},
		{999999, 0, 502, channel.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_%d_%d", tt.code, tt.subcode, tt.status), func(t *testing.T) {
			c, api := newClient(t, &instagram.Options{MaxAttempts: 1})
			api.Script(instagramtest.GraphError(tt.status, tt.code, tt.subcode, fmt.Sprintf("(#%d) failure for user %s", tt.code, igsid)))
			_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			for _, other := range []error{channel.ErrUnavailable, channel.ErrRateLimited, channel.ErrWindowClosed, channel.ErrAuth, channel.ErrUndeliverable, channel.ErrInvalidMessage} {
				if other != tt.kind {
					assert.NotErrorIs(t, err, other)
				}
			}
			if tt.code == 999999 {
				assert.Nil(t, instagram.Kind(tt.code, tt.subcode), "an unknown code: the status decides")
			} else {
				assert.Equal(t, tt.kind, instagram.Kind(tt.code, tt.subcode))
			}
			var ce *channel.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, channel.Instagram, ce.Channel)
			assert.Equal(t, tt.code, ce.Code)
			assert.Equal(t, tt.status, ce.HTTPStatus)
			assert.Equal(t, 1, ce.Attempts)
			var ge *instagram.GraphError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, tt.subcode, ge.Subcode)
			assert.Equal(t, "AbCdEfGhIjK", ge.TraceID)
			assert.NotContains(t, err.Error(), igsid, "errors never hold user ids")
		})
	}
}

func TestSendRetries(t *testing.T) {
	t.Run("500 then 200", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 3})
		api.Script(instagramtest.GraphError(500, 2, 0, "An unexpected error has occurred. Please retry your request later."))
		res, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.NoError(t, err)
		assert.Equal(t, 2, res.Attempts)
		assert.Len(t, api.Sent(), 2)
		assert.Equal(t, int64(1), c.Stats().Retries)
	})
	t.Run("attempts are bounded", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 3})
		for range 5 {
			api.Script(instagramtest.GraphError(500, 1200, 0, "Temporary send message failure. Please try again later."))
		}
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.ErrorIs(t, err, channel.ErrUnavailable)
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 3, ce.Attempts)
		assert.Len(t, api.Sent(), 3)
		assert.Equal(t, instagram.Stats{Requests: 3, Retries: 2, Failed: 1}, c.Stats())
	})
	t.Run("permanent errors are not retried", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 3})
		api.CloseWindow(igsid)
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.ErrorIs(t, err, channel.ErrWindowClosed, "the API's window refusal")
		assert.Len(t, api.Sent(), 1)
	})
	t.Run("a rate limit pauses the account's sends", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 3, RetryDelay: time.Hour})
		api.Script(instagramtest.GraphError(400, 613, 0, "Calls to this api have exceeded the rate limit."))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := c.Send(ctx, channel.Outbound{To: to(igsid), Text: "first"})
		require.ErrorIs(t, err, channel.ErrRateLimited)
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, time.Hour, ce.RetryAfter, "the pause does not fit in ctx: Send returns at once and says how long to wait")
		_, err = c.Send(ctx, channel.Outbound{To: to("6543210987654321"), Text: "second"})
		require.ErrorIs(t, err, channel.ErrRateLimited, "the account's next message waits for the pause too")
		assert.Len(t, api.Sent(), 1, "no request for the held-back message")
	})
	t.Run("Retry-After is honoured", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 3})
		r := instagramtest.GraphError(429, 4, 0, "Application request limit reached")
		r.Header.Set("Retry-After", "3600")
		api.Script(r)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := c.Send(ctx, channel.Outbound{To: to(igsid), Text: "hi"})
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, time.Hour, ce.RetryAfter)
		assert.Len(t, api.Sent(), 1)
	})
	t.Run("an uncertain outcome is not retried", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 3})
		api.Script(instagramtest.Response{Hang: true})
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.ErrorIs(t, err, instagram.ErrUncertain)
		assert.ErrorIs(t, err, channel.ErrUnavailable)
		assert.False(t, channel.Retryable(err))
		assert.Len(t, api.Sent(), 1)
	})
	t.Run("an answer without message id is uncertain", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 3})
		api.Script(instagramtest.Response{Body: `{"recipient_id":"` + igsid + `"}`})
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.ErrorIs(t, err, instagram.ErrUncertain)
		assert.Len(t, api.Sent(), 1)
	})
	t.Run("a split text that fails midway returns the ids sent", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 1})
		api.Script(instagramtest.Response{Body: `{"recipient_id":"` + igsid + `","message_id":"first-part"}`}, instagramtest.GraphError(400, 100, 0, "Invalid parameter"))
		res, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: channel.Text(strings.Repeat("word ", 300))})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.Equal(t, []channel.MessageID{"first-part"}, res.IDs)
		assert.Equal(t, 2, res.Attempts)
	})
}

func TestThroughputLimiterWaits(t *testing.T) {
	c, api := newClient(t, &instagram.Options{Throughput: 5})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Send(t.Context(), channel.Outbound{To: to(fmt.Sprintf("10000000000000%02d", i)), Text: "hi"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "sends beyond the throughput wait, they do not fail")
	}
	assert.Len(t, api.Sent(), 8)
	assert.Equal(t, int64(3), c.Stats().ThroughputWaits, "a burst of one second's worth, then every send waits")
}

func TestMediaThroughput(t *testing.T) {
	c, api := newClient(t, &instagram.Options{MediaThroughput: 2})
	for range 3 {
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Media: &channel.Media{Kind: channel.Video, URL: "https://example.com/v.mp4"}})
		require.NoError(t, err)
	}
	_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "text is not paced by the media rate"})
	require.NoError(t, err)
	assert.Len(t, api.Sent(), 4)
	assert.Equal(t, int64(1), c.Stats().ThroughputWaits, "the third video waited")
}

func TestServiceWindow(t *testing.T) {
	hookFor := func(t *testing.T, c *instagram.Client) *instagram.Webhook {
		return newWebhook(t, &receiver{}, instagram.WebhookOptions{Client: c})
	}
	deliver := func(t *testing.T, h *instagram.Webhook, at time.Time) {
		body := instagramtest.TextDelivery(string(tenant), igsid, "aWdfZAG1fW"+strconv.FormatInt(at.UnixNano(), 10), "hola", at)
		require.Equal(t, http.StatusOK, post(h, body, instagramtest.Sign(body, appSecret)).Code)
	}
	body := func(r instagramtest.Request) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(r.Body, &m))
		return m
	}
	t.Run("within 24 hours: a response", func(t *testing.T) {
		c, api := newClient(t, nil)
		deliver(t, hookFor(t, c), time.Now().Add(-23*time.Hour))
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.NoError(t, err)
		_, err = c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "a person here", Human: true})
		require.NoError(t, err)
		sent := api.Sent()
		require.Len(t, sent, 2)
		assert.Equal(t, "RESPONSE", body(sent[0])["messaging_type"])
		assert.Equal(t, "RESPONSE", body(sent[1])["messaging_type"], "no tag needed inside the standard window")
		assert.NotContains(t, body(sent[1]), "tag")
	})
	t.Run("after 24 hours: closed for the AI, open with the human agent tag", func(t *testing.T) {
		c, api := newClient(t, nil)
		deliver(t, hookFor(t, c), time.Now().Add(-25*time.Hour))
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.ErrorIs(t, err, channel.ErrWindowClosed)
		assert.Empty(t, api.Requests(), "refused without a request")
		res, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "Sorry for the delay, a person here.", Human: true})
		require.NoError(t, err)
		assert.Len(t, res.IDs, 1)
		sent := api.Sent()
		require.Len(t, sent, 1)
		golden(t, "human_agent", sent[0].Body)
		st := c.Stats()
		assert.Equal(t, int64(1), st.WindowClosed)
		assert.Equal(t, int64(1), st.HumanAgentTags)
	})
	t.Run("after 7 days: closed for everyone", func(t *testing.T) {
		c, api := newClient(t, nil)
		deliver(t, hookFor(t, c), time.Now().Add(-8*24*time.Hour))
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi", Human: true})
		require.ErrorIs(t, err, channel.ErrWindowClosed)
		assert.Empty(t, api.Requests())
	})
	t.Run("the latest message counts, not an older redelivery", func(t *testing.T) {
		c, api := newClient(t, nil)
		h := hookFor(t, c)
		deliver(t, h, time.Now().Add(-time.Hour))
		deliver(t, h, time.Now().Add(-30*time.Hour))
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.NoError(t, err)
		assert.Len(t, api.Sent(), 1)
	})
	t.Run("unknown window: the API decides; a human message is tagged", func(t *testing.T) {
		c, api := newClient(t, nil)
		api.CloseWindow(igsid)
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		require.ErrorIs(t, err, channel.ErrWindowClosed, "code 10, subcode 2534022")
		_, err = c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "a person here", Human: true})
		require.NoError(t, err)
		sent := api.Sent()
		require.Len(t, sent, 2)
		assert.Equal(t, "MESSAGE_TAG", body(sent[1])["messaging_type"])
		assert.Equal(t, "HUMAN_AGENT", body(sent[1])["tag"])
	})
	t.Run("windows are per account", func(t *testing.T) {
		c, api := newClient(t, nil)
		deliver(t, hookFor(t, c), time.Now().Add(-25*time.Hour))
		other := channel.Address{Channel: channel.Instagram, Tenant: "17841400000000002", User: igsid}
		_, err := c.Send(t.Context(), channel.Outbound{To: other, Text: "hi"})
		require.NoError(t, err, "the same IGSID at another account is another conversation")
		assert.Len(t, api.Sent(), 1)
	})
}

func TestTypingAndRead(t *testing.T) {
	c, api := newClient(t, nil)
	require.NoError(t, c.Typing(t.Context(), to(igsid), "aWdfZAG1fIN0001"))
	require.NoError(t, c.MarkRead(t.Context(), to(igsid), "aWdfZAG1fIN0002"))
	reqs := api.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, []string{"read", "typing", "read"}, []string{reqs[0].Op(), reqs[1].Op(), reqs[2].Op()}, "typing marks seen first")
	for _, r := range reqs {
		assert.Equal(t, "/v25.0/"+string(tenant)+"/messages", r.Path)
		assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
	}
	golden(t, "mark_seen", reqs[0].Body)
	golden(t, "typing_on", reqs[1].Body)
	assert.ErrorIs(t, c.Typing(t.Context(), channel.Address{Channel: channel.Instagram, User: igsid}, "m"), channel.ErrInvalidMessage)
	assert.ErrorIs(t, c.MarkRead(t.Context(), channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: igsid}, "m"), channel.ErrInvalidMessage)
}

func TestUseMeAndAppSecretProof(t *testing.T) {
	api := instagramtest.NewServer(token, "the-app-secret")
	t.Cleanup(api.Close)
	c := newClientFor(t, api, &instagram.Options{AppSecret: "the-app-secret", UseMe: true})
	_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
	require.NoError(t, err, "the fake checks the proof")
	r := api.Requests()[0]
	assert.Equal(t, "/v25.0/me/messages", r.Path)
	assert.Len(t, r.Query.Get("appsecret_proof"), 64)

	without := newClientFor(t, api, nil)
	_, err = without.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
	assert.ErrorIs(t, err, channel.ErrInvalidMessage, "the API refuses calls without the proof with code 100")
}

func TestProfile(t *testing.T) {
	c, api := newClient(t, nil)
	api.SetProfile(igsid, instagramtest.Profile{Name: "Ana Quispe", Username: "ana.q"})
	for range 3 {
		p, err := c.Profile(t.Context(), to(igsid))
		require.NoError(t, err)
		assert.Equal(t, channel.Profile{Name: "Ana Quispe", Username: "ana.q"}, p)
	}
	reqs := api.Filter("profile")
	require.Len(t, reqs, 1, "cached")
	assert.Equal(t, "/v25.0/"+igsid, reqs[0].Path)
	assert.Equal(t, "name,username", reqs[0].Query.Get("fields"))
	assert.Equal(t, "Bearer "+token, reqs[0].Header.Get("Authorization"))
	st := c.Stats()
	assert.Equal(t, int64(2), st.ProfileHits)
	assert.Equal(t, int64(1), st.ProfileMisses)

	_, err := c.Profile(t.Context(), to("6543210987654321"))
	require.ErrorIs(t, err, channel.ErrInvalidMessage, "unknown user: code 100")
	_, err = c.Profile(t.Context(), to("6543210987654321"))
	require.Error(t, err)
	assert.Len(t, api.Filter("profile"), 3, "failures are not cached")

	t.Run("expires", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{ProfileTTL: time.Nanosecond})
		api.SetProfile(igsid, instagramtest.Profile{Name: "Ana"})
		for range 2 {
			_, err := c.Profile(t.Context(), to(igsid))
			require.NoError(t, err)
		}
		assert.Len(t, api.Filter("profile"), 2)
	})
}

// tokens gives a token per account.
type tokens map[channel.TenantID]string

func (t tokens) AccessToken(_ context.Context, tenant channel.TenantID) (string, error) {
	if tok, ok := t[tenant]; ok {
		return tok, nil
	}
	return "", errors.New("no token for this account")
}

func TestCredentialsPerTenant(t *testing.T) {
	api := instagramtest.NewServer(token, "")
	t.Cleanup(api.Close)
	var logs bytes.Buffer
	c, err := instagram.New(tokens{tenant: token, "222": "stale-token"}, &instagram.Options{BaseURL: api.URL, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	_, err = c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
	require.NoError(t, err)

	_, err = c.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.Instagram, Tenant: "222", User: igsid}, Text: "hi"})
	require.ErrorIs(t, err, channel.ErrAuth)
	var ce *channel.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 190, ce.Code)
	assert.Equal(t, "/v25.0/222/messages", api.Requests()[1].Path)
	assert.Equal(t, "Bearer stale-token", api.Requests()[1].Header.Get("Authorization"))

	n := len(api.Requests())
	_, err = c.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.Instagram, Tenant: "333", User: igsid}, Text: "hi"})
	require.ErrorIs(t, err, channel.ErrAuth)
	assert.Len(t, api.Requests(), n, "no request without a token")

	for _, secret := range []string{token, "stale-token", igsid, "hi\""} {
		assert.NotContains(t, logs.String(), secret)
		assert.NotContains(t, err.Error(), secret)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := instagram.New(nil, &instagram.Options{BaseURL: "ftp://x", Version: "v1/x", MaxAttempts: -1, ProfileTTL: -1})
	require.Error(t, err)
	for _, want := range []string{"credentials are required", "BaseURL", "Version", "MaxAttempts must not be negative", "ProfileTTL must not be negative"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = instagram.New(instagram.StaticToken(""), nil)
	assert.ErrorContains(t, err, "static access token is empty")

	c, err := instagram.New(instagram.StaticToken("t"), nil)
	require.NoError(t, err)
	assert.Equal(t, channel.Instagram, c.Name())
	assert.Equal(t, 24*time.Hour, c.ServiceWindow())
}

// TestChannelContract checks the clauses of channel.Channel that every
// adapter keeps (channeltest has no conformance suite yet; these are the
// checks the whatsapp adapter's tests make too).
func TestChannelContract(t *testing.T) {
	t.Run("Name is the address channel and does not change", func(t *testing.T) {
		c, _ := newClient(t, nil)
		assert.Equal(t, channel.Instagram, c.Name())
		assert.Equal(t, c.Name(), c.Name())
	})
	t.Run("ctx bounds the call: a done ctx sends nothing", func(t *testing.T) {
		c, api := newClient(t, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.Send(ctx, channel.Outbound{To: to(igsid), Text: "hi"})
		require.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, api.Requests())
	})
	t.Run("invalid messages fail before any request with ErrInvalidMessage", func(t *testing.T) {
		c, api := newClient(t, nil)
		_, err := c.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.Instagram, Tenant: tenant}, Text: "hi"})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.Empty(t, api.Requests())
	})
	t.Run("provider failures are *channel.Error with a sentinel", func(t *testing.T) {
		c, api := newClient(t, &instagram.Options{MaxAttempts: 1})
		api.Script(instagramtest.GraphError(503, 2, 0, "unavailable"))
		_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: "hi"})
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.True(t, channel.Retryable(err))
	})
	t.Run("messages to one address keep their order", func(t *testing.T) {
		c, api := newClient(t, nil)
		for i := range 5 {
			_, err := c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: channel.Text("message " + strconv.Itoa(i))})
			require.NoError(t, err)
		}
		for i, r := range api.Sent() {
			assert.Contains(t, string(r.Body), "message "+strconv.Itoa(i))
		}
	})
	t.Run("capabilities", func(t *testing.T) {
		var c channel.Channel
		c, _ = newClient(t, nil)
		_, ok := c.(channel.TypingIndicator)
		assert.True(t, ok)
		_, ok = c.(channel.ReadMarker)
		assert.True(t, ok)
		w, ok := c.(channel.Windowed)
		require.True(t, ok)
		assert.Equal(t, instagram.ServiceWindow, w.ServiceWindow())
		hw, ok := c.(channel.HumanWindowed)
		require.True(t, ok, "human agents have their own window")
		assert.Equal(t, instagram.HumanAgentWindow, hw.HumanAgentWindow())
		_, ok = c.(channel.MediaFetcher)
		assert.False(t, ok, "inbound media are CDN URLs, not fetched")
	})
}
