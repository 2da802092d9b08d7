package whatsapp_test

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
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/send")

const token = "test-access-token"

func newClient(t testing.TB, opts *whatsapp.Options) (*whatsapp.Client, *whatsapptest.Server) {
	t.Helper()
	api := whatsapptest.NewServer(token, "")
	t.Cleanup(api.Close)
	return newClientFor(t, api, opts), api
}

func newClientFor(t testing.TB, api *whatsapptest.Server, opts *whatsapp.Options) *whatsapp.Client {
	t.Helper()
	o := whatsapp.Options{}
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
	c, err := whatsapp.New(whatsapp.StaticToken(token), &o)
	require.NoError(t, err)
	return c
}

func to(user string) channel.Address {
	return channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(user)}
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
		name string
		out  channel.Outbound
	}{
		{"text", channel.Outbound{To: to(waID), Text: "Your order A-1001 ships today.", ReplyTo: "wamid.IN0001", Correlation: "wagent:42"}},
		{"text_bsuid", channel.Outbound{To: to(bsuid), Text: "Hello <friend> & welcome"}},
		{"image_id", channel.Outbound{To: to(waID), Text: "Here is the photo", Media: &channel.Media{Kind: channel.Image, ID: "1003383421387256"}}},
		{"image_link", channel.Outbound{To: to(waID), Media: &channel.Media{Kind: channel.Image, URL: "https://example.com/a.jpg"}}},
		{"audio", channel.Outbound{To: to(waID), Media: &channel.Media{Kind: channel.Audio, ID: "1003383421387257"}}},
		{"video", channel.Outbound{To: to(waID), Text: "How to fold it", Media: &channel.Media{Kind: channel.Video, URL: "https://example.com/v.mp4"}}},
		{"document", channel.Outbound{To: to(waID), Text: "Your invoice", Media: &channel.Media{Kind: channel.Document, ID: "1003383421387259", Filename: "factura-0042.pdf"}}},
		{"sticker", channel.Outbound{To: to(waID), Media: &channel.Media{Kind: channel.Sticker, ID: "1003383421387260"}}},
		{"buttons", channel.Outbound{To: to(waID), Text: "Confirm your order?", ReplyTo: "wamid.IN0002", Interactive: &channel.Interactive{
			Header: "Order A-1001", Footer: "Tienda Sol",
			Buttons: []channel.Button{{ID: "yes", Title: "Sí, confirmar"}, {ID: "no", Title: "No"}, {ID: "agent", Title: "Talk to a person"}},
		}}},
		{"list", channel.Outbound{To: to(waID), Text: "Pick a size", Interactive: &channel.Interactive{List: &channel.List{Button: "Sizes", Sections: []channel.Section{
			{Title: "Women", Rows: []channel.Row{{ID: "w-s", Title: "Small", Description: "Fits 80-90 cm"}, {ID: "w-m", Title: "Medium"}}},
			{Title: "Men", Rows: []channel.Row{{ID: "m-l", Title: "Large"}}},
		}}}}},
		{"template_positional", channel.Outbound{To: to(waID), Correlation: "wagent:9", Template: &channel.Template{
			Name: "order_update", Language: "es",
			Header:  &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Image, URL: "https://example.com/p.jpg"}},
			Params:  []channel.TemplateParam{{Value: "Ana"}, {Value: "A-1001"}},
			Buttons: []channel.TemplateButton{{Index: 0, Payload: "track:A-1001"}, {Index: 1, URLSuffix: "A-1001"}},
		}}},
		{"template_named", channel.Outbound{To: to(bsuid), Template: &channel.Template{
			Name: "welcome_back", Language: "en_US",
			Header: &channel.TemplateHeader{Text: "Tienda Sol"},
			Params: []channel.TemplateParam{{Name: "first_name", Value: "Ana"}, {Name: "order_id", Value: "A-1001"}},
		}}},
		{"template_document_header", channel.Outbound{To: to(waID), Template: &channel.Template{
			Name: "invoice", Language: "en",
			Header: &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Document, ID: "1003383421387259", Filename: "factura.pdf"}},
		}}},
		{"reaction", channel.Outbound{To: to(waID), Reaction: &channel.Reaction{MessageID: "wamid.IN0003", Emoji: "👍"}}},
		{"reaction_removed", channel.Outbound{To: to(waID), Reaction: &channel.Reaction{MessageID: "wamid.IN0003"}}},
		{"location", channel.Outbound{To: to(waID), Location: &channel.Location{Latitude: -12.0464, Longitude: -77.0428, Name: "Tienda Sol", Address: "Jr. de la Unión 100, Lima"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newClient(t, nil)
			res, err := c.Send(t.Context(), tt.out)
			require.NoError(t, err)
			assert.Equal(t, []channel.MessageID{"wamid.FAKE000001"}, res.IDs)
			assert.Equal(t, 1, res.Attempts)
			reqs := api.Requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, "/v25.0/"+string(tenant)+"/messages", r.Path)
			assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Empty(t, r.Query.Get("appsecret_proof"))
			golden(t, tt.name, r.Body)
		})
	}
}

func TestSendLinkPreview(t *testing.T) {
	c, api := newClient(t, &whatsapp.Options{LinkPreviews: true})
	_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "Track it at https://example.com/t/A-1001"})
	require.NoError(t, err)
	_, err = c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "No link here"})
	require.NoError(t, err)
	sent := api.Sent()
	require.Len(t, sent, 2)
	assert.Contains(t, string(sent[0].Body), `"preview_url":true`)
	assert.NotContains(t, string(sent[1].Body), `preview_url`)
}

func TestSendAppSecretProof(t *testing.T) {
	api := whatsapptest.NewServer(token, "the-app-secret")
	t.Cleanup(api.Close)
	c := newClientFor(t, api, &whatsapp.Options{AppSecret: "the-app-secret"})
	_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
	require.NoError(t, err, "the fake checks the proof")
	require.NoError(t, c.Typing(t.Context(), to(waID), "wamid.IN0001"))
	for _, r := range api.Requests() {
		assert.Len(t, r.Query.Get("appsecret_proof"), 64)
	}

	without := newClientFor(t, api, nil)
	_, err = without.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
	assert.ErrorIs(t, err, channel.ErrInvalidMessage, "the API refuses calls without the proof with code 100")
}

func TestSendSplitsLongText(t *testing.T) {
	para := strings.Repeat("Alpaca wool keeps you warm. ", 100) // 2800 characters
	long := strings.TrimSpace(para) + "\n\n" + strings.TrimSpace(para) + "\n\n" + strings.TrimSpace(para)
	c, api := newClient(t, nil)
	res, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: channel.Text(long), ReplyTo: "wamid.IN0001", Correlation: "wagent:5"})
	require.NoError(t, err)
	require.Len(t, res.IDs, 3)
	assert.Equal(t, []channel.MessageID{"wamid.FAKE000001", "wamid.FAKE000002", "wamid.FAKE000003"}, res.IDs)
	assert.Equal(t, 3, res.Attempts)
	sent := api.Sent()
	require.Len(t, sent, 3)
	var parts []string
	for i, r := range sent {
		var body struct {
			Context *struct {
				MessageID string `json:"message_id"`
			} `json:"context"`
			Biz  string `json:"biz_opaque_callback_data"`
			Text struct {
				Body string `json:"body"`
			} `json:"text"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		assert.LessOrEqual(t, len([]rune(body.Text.Body)), 4096)
		assert.Equal(t, "wagent:5", body.Biz, "every part carries the correlation")
		if i == 0 {
			require.NotNil(t, body.Context)
			assert.Equal(t, "wamid.IN0001", body.Context.MessageID)
		} else {
			assert.Nil(t, body.Context, "only the first part quotes")
		}
		parts = append(parts, body.Text.Body)
	}
	assert.Equal(t, long, strings.Join(parts, "\n\n"), "split at the paragraph breaks, in order")
}

func TestSendValidatesLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	buttons := func(titles ...string) *channel.Interactive {
		in := &channel.Interactive{}
		for i, title := range titles {
			in.Buttons = append(in.Buttons, channel.Button{ID: "b" + strconv.Itoa(i), Title: title})
		}
		return in
	}
	rows := func(n int) []channel.Row {
		var rs []channel.Row
		for i := range n {
			rs = append(rs, channel.Row{ID: "r" + strconv.Itoa(n) + "-" + strconv.Itoa(i), Title: "Row"})
		}
		return rs
	}
	tests := []struct {
		name string
		out  channel.Outbound
		want string
	}{
		{"no content", channel.Outbound{To: to(waID)}, "set text or exactly one"},
		{"other channel", channel.Outbound{To: channel.Address{Channel: channel.WebWidget, Tenant: tenant, User: waID}, Text: "hi"}, "address of channel"},
		{"bad recipient", channel.Outbound{To: to("not a user"), Text: "hi"}, "neither a phone number nor a business-scoped user id"},
		{"correlation too long", channel.Outbound{To: to(waID), Text: "hi", Correlation: long(513)}, "correlation data is 513 characters"},
		{"caption too long", channel.Outbound{To: to(waID), Text: channel.Text(long(1025)), Media: &channel.Media{Kind: channel.Image, ID: "1"}}, "caption is 1025 characters"},
		{"caption on audio", channel.Outbound{To: to(waID), Text: "hi", Media: &channel.Media{Kind: channel.Audio, ID: "1"}}, "audio messages take no caption"},
		{"media link not http", channel.Outbound{To: to(waID), Media: &channel.Media{Kind: channel.Image, URL: "ftp://x"}}, "http or https"},
		{"four buttons", channel.Outbound{To: to(waID), Text: "?", Interactive: buttons("a", "b", "c", "d")}, "4 buttons, more than 3"},
		{"button title", channel.Outbound{To: to(waID), Text: "?", Interactive: buttons(long(21))}, "title is 21 characters, more than 20"},
		{"button id", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{Buttons: []channel.Button{{ID: long(257), Title: "a"}}}}, "id is 257 characters, more than 256"},
		{"duplicate buttons", channel.Outbound{To: to(waID), Text: "?", Interactive: buttons("a", "a")}, "repeats the id or title"},
		{"interactive body", channel.Outbound{To: to(waID), Text: channel.Text(long(1025)), Interactive: buttons("a")}, "interactive body is 1025 characters"},
		{"footer", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{Footer: long(61), Buttons: []channel.Button{{ID: "a", Title: "a"}}}}, "footer is 61 characters, more than 60"},
		{"header", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{Header: long(61), Buttons: []channel.Button{{ID: "a", Title: "a"}}}}, "header is 61 characters, more than 60"},
		{"eleven rows", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: "b", Sections: []channel.Section{{Title: "s1", Rows: rows(6)}, {Title: "s2", Rows: rows(5)}}}}}, "11 list rows, more than 10"},
		{"eleven sections", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: "b", Sections: func() []channel.Section {
			var s []channel.Section
			for i := range 11 {
				s = append(s, channel.Section{Title: "s", Rows: []channel.Row{{ID: long(i + 1), Title: "r"}}})
			}
			return s
		}()}}}, "11 list sections, more than 10"},
		{"row title", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: "b", Sections: []channel.Section{{Rows: []channel.Row{{ID: "r", Title: long(25)}}}}}}}, "title is 25 characters, more than 24"},
		{"row description", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: "b", Sections: []channel.Section{{Rows: []channel.Row{{ID: "r", Title: "t", Description: long(73)}}}}}}}, "description is 73 characters, more than 72"},
		{"list button", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: long(21), Sections: []channel.Section{{Rows: []channel.Row{{ID: "r", Title: "t"}}}}}}}, "button label is 21 characters, more than 20"},
		{"untitled sections", channel.Outbound{To: to(waID), Text: "?", Interactive: &channel.Interactive{List: &channel.List{Button: "b", Sections: []channel.Section{{Rows: []channel.Row{{ID: "r", Title: "t"}}}, {Title: "x", Rows: []channel.Row{{ID: "q", Title: "t"}}}}}}}, "needs a title"},
		{"mixed template params", channel.Outbound{To: to(waID), Template: &channel.Template{Name: "t", Language: "en", Params: []channel.TemplateParam{{Name: "a", Value: "1"}, {Value: "2"}}}}, "all named or all positional"},
		{"bad param name", channel.Outbound{To: to(waID), Template: &channel.Template{Name: "t", Language: "en", Params: []channel.TemplateParam{{Name: "First Name", Value: "1"}}}}, "lower-case letters"},
		{"empty param", channel.Outbound{To: to(waID), Template: &channel.Template{Name: "t", Language: "en", Params: []channel.TemplateParam{{Value: ""}}}}, "has no value"},
		{"template button both", channel.Outbound{To: to(waID), Template: &channel.Template{Name: "t", Language: "en", Buttons: []channel.TemplateButton{{Index: 0, Payload: "p", URLSuffix: "u"}}}}, "either a payload or a URL suffix"},
		{"template button index", channel.Outbound{To: to(waID), Template: &channel.Template{Name: "t", Language: "en", Buttons: []channel.TemplateButton{{Index: 10, Payload: "p"}}}}, "index must be 0-9"},
		{"template header audio", channel.Outbound{To: to(waID), Template: &channel.Template{Name: "t", Language: "en", Header: &channel.TemplateHeader{Media: &channel.Media{Kind: channel.Audio, ID: "1"}}}}, "image, video or document"},
		{"template with text", channel.Outbound{To: to(waID), Text: "hi", Template: &channel.Template{Name: "t", Language: "en"}}, "no text of its own"},
		{"location range", channel.Outbound{To: to(waID), Location: &channel.Location{Latitude: 91}}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newClient(t, nil)
			_, err := c.Send(t.Context(), tt.out)
			require.Error(t, err)
			assert.ErrorIs(t, err, channel.ErrInvalidMessage)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, api.Requests(), "nothing is sent")
		})
	}
}

func TestSendClassifiesErrors(t *testing.T) {
	tests := []struct {
		code   int
		status int
		kind   error
	}{
		{131000, 500, channel.ErrUnavailable},
		{131016, 503, channel.ErrUnavailable},
		{130429, 400, channel.ErrRateLimited},
		{4, 400, channel.ErrRateLimited},
		{80007, 400, channel.ErrRateLimited},
		{131056, 400, channel.ErrRateLimited},
		{131047, 400, channel.ErrWindowClosed},
		{0, 401, channel.ErrAuth},
		{190, 401, channel.ErrAuth},
		{131026, 400, channel.ErrUndeliverable},
		{131051, 400, channel.ErrInvalidMessage},
		{100, 400, channel.ErrInvalidMessage},
		{131008, 400, channel.ErrInvalidMessage},
		{131009, 400, channel.ErrInvalidMessage},
		{131048, 400, channel.ErrUndeliverable},
		{131049, 400, channel.ErrUndeliverable},
		{368, 403, channel.ErrUndeliverable},
		{131031, 400, channel.ErrUndeliverable},
		{131052, 400, channel.ErrUnavailable},
		{131053, 400, channel.ErrInvalidMessage},
		{3, 403, channel.ErrAuth},
		{10, 403, channel.ErrAuth},
		{200, 403, channel.ErrAuth},
		{131021, 400, channel.ErrUndeliverable},
		{131057, 503, channel.ErrUnavailable},
		{613, 400, channel.ErrRateLimited},
		{132001, 400, channel.ErrInvalidMessage},
		{999999, 400, channel.ErrInvalidMessage},
		{999999, 502, channel.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(http.StatusText(tt.status), " ", "_")+"_"+itoa(tt.code), func(t *testing.T) {
			c, api := newClient(t, &whatsapp.Options{MaxAttempts: 1})
			api.Script(whatsapptest.GraphError(tt.status, tt.code, 2494010, "(#"+itoa(tt.code)+") failure for +16505551234"))
			_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.kind)
			for _, other := range []error{channel.ErrUnavailable, channel.ErrRateLimited, channel.ErrWindowClosed, channel.ErrAuth, channel.ErrUndeliverable, channel.ErrInvalidMessage} {
				if other != tt.kind {
					assert.NotErrorIs(t, err, other)
				}
			}
			var ce *channel.Error
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, channel.WhatsApp, ce.Channel)
			assert.Equal(t, tt.code, ce.Code)
			assert.Equal(t, tt.status, ce.HTTPStatus)
			assert.Equal(t, 1, ce.Attempts)
			var ge *whatsapp.GraphError
			require.ErrorAs(t, err, &ge)
			assert.Equal(t, tt.code, ge.Code)
			assert.Equal(t, 2494010, ge.Subcode)
			assert.Equal(t, "OAuthException", ge.Type)
			assert.Equal(t, "AbCdEfGhIjK", ge.TraceID)
			assert.Contains(t, ge.Details, "failure for")
			assert.NotContains(t, err.Error(), "16505551234", "errors never hold phone numbers")
			assert.Contains(t, err.Error(), "fbtrace_id AbCdEfGhIjK")
		})
	}
	t.Run("no graph body", func(t *testing.T) {
		for _, tt := range []struct {
			status int
			kind   error
		}{{500, channel.ErrUnavailable}, {429, channel.ErrRateLimited}, {401, channel.ErrAuth}, {404, channel.ErrInvalidMessage}} {
			c, api := newClient(t, &whatsapp.Options{MaxAttempts: 1})
			api.Script(whatsapptest.Response{Status: tt.status, Body: "<html>proxy error</html>"})
			_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
			assert.ErrorIs(t, err, tt.kind, tt.status)
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSendRetries(t *testing.T) {
	t.Run("500 then 200", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3})
		api.Script(whatsapptest.GraphError(500, 131000, 0, "Something went wrong"))
		res, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
		require.NoError(t, err)
		assert.Equal(t, 2, res.Attempts)
		assert.Equal(t, []channel.MessageID{"wamid.FAKE000002"}, res.IDs)
		assert.Len(t, api.Sent(), 2)
		assert.Equal(t, int64(1), c.Stats().Retries)
	})
	t.Run("130429 backs off and succeeds", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3})
		api.Script(whatsapptest.GraphError(400, 130429, 0, "Rate limit hit"), whatsapptest.GraphError(400, 130429, 0, "Rate limit hit"))
		res, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
		require.NoError(t, err)
		assert.Equal(t, 3, res.Attempts)
	})
	t.Run("attempts are bounded", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3})
		for range 5 {
			api.Script(whatsapptest.GraphError(503, 131016, 0, "Service unavailable"))
		}
		_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
		require.ErrorIs(t, err, channel.ErrUnavailable)
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 3, ce.Attempts)
		assert.Equal(t, 131016, ce.Code)
		assert.Len(t, api.Sent(), 3)
		assert.Equal(t, whatsapp.Stats{Requests: 3, Retries: 2, Failed: 1}, c.Stats())
	})
	t.Run("permanent errors are not retried", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3})
		api.Script(whatsapptest.GraphError(400, 131047, 0, "Re-engagement message"))
		_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
		require.ErrorIs(t, err, channel.ErrWindowClosed)
		assert.Len(t, api.Sent(), 1)
	})
	t.Run("131056 backs off per recipient", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3, RetryDelay: time.Hour})
		api.Script(whatsapptest.GraphError(400, 131056, 0, "(Business Account, Consumer Account) pair rate limit hit"))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := c.Send(ctx, channel.Outbound{To: to(waID), Text: "first"})
		require.ErrorIs(t, err, channel.ErrRateLimited)
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, time.Hour, ce.RetryAfter, "the pair backoff does not fit in ctx: Send returns at once and says how long to wait")
		assert.Equal(t, 1, ce.Attempts)

		_, err = c.Send(ctx, channel.Outbound{To: to("5215512345678"), Text: "another user"})
		require.NoError(t, err, "other recipients are not held back")

		_, err = c.Send(ctx, channel.Outbound{To: to(waID), Text: "second"})
		require.ErrorIs(t, err, channel.ErrRateLimited, "the user's next message waits for the backoff too")
		assert.Len(t, api.Sent(), 2, "no request for the held-back message")
		assert.Equal(t, int64(2), c.Stats().PairWaits, "the backoff and the held-back message")
	})
	t.Run("131056 retried after the pair backoff", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3})
		api.Script(whatsapptest.GraphError(400, 131056, 0, "pair rate limit hit"), whatsapptest.GraphError(400, 131056, 0, "pair rate limit hit"))
		res, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
		require.NoError(t, err)
		assert.Equal(t, 3, res.Attempts)
		assert.Equal(t, int64(2), c.Stats().PairWaits)
	})
	t.Run("131052 is retried once only", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 4})
		api.Script(whatsapptest.GraphError(400, 131052, 0, "Media download error"), whatsapptest.GraphError(400, 131052, 0, "Media download error"))
		_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Media: &channel.Media{Kind: channel.Image, URL: "https://example.com/a.jpg"}})
		require.ErrorIs(t, err, channel.ErrUnavailable)
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 131052, ce.Code)
		assert.Equal(t, 2, ce.Attempts, "one retry, though MaxAttempts allows three")
		assert.Len(t, api.Sent(), 2)

		api.Script(whatsapptest.GraphError(400, 131052, 0, "Media download error"))
		res, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Media: &channel.Media{Kind: channel.Image, URL: "https://example.com/a.jpg"}})
		require.NoError(t, err, "a download that works the second time")
		assert.Equal(t, 2, res.Attempts)
	})
	t.Run("131053 is not retried", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 4})
		api.Script(whatsapptest.GraphError(400, 131053, 0, "Media upload error"))
		_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Media: &channel.Media{Kind: channel.Image, URL: "https://example.com/a.jpg"}})
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
		assert.Len(t, api.Sent(), 1)
	})
	t.Run("Retry-After is honoured", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3})
		r := whatsapptest.GraphError(429, 80007, 0, "rate limit")
		r.Header.Set("Retry-After", "3600")
		api.Script(r)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err := c.Send(ctx, channel.Outbound{To: to(waID), Text: "hi"})
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, time.Hour, ce.RetryAfter)
		assert.Len(t, api.Sent(), 1, "a wait longer than ctx allows is not attempted")
	})
	t.Run("an uncertain outcome is not retried", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3})
		api.Script(whatsapptest.Response{Hang: true})
		_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
		require.ErrorIs(t, err, whatsapp.ErrUncertain)
		assert.ErrorIs(t, err, channel.ErrUnavailable)
		assert.Len(t, api.Sent(), 1)
	})
	t.Run("a connection refused before writing is retried", func(t *testing.T) {
		api := whatsapptest.NewServer(token, "")
		url := api.URL
		api.Close()
		c, err := whatsapp.New(whatsapp.StaticToken(token), &whatsapp.Options{BaseURL: url, MaxAttempts: 2, RetryDelay: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		_, err = c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
		require.ErrorIs(t, err, channel.ErrUnavailable)
		assert.NotErrorIs(t, err, whatsapp.ErrUncertain)
		var ce *channel.Error
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, 2, ce.Attempts)
	})
	t.Run("ctx cancelled while backing off", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{MaxAttempts: 3, RetryDelay: time.Hour})
		api.Script(whatsapptest.GraphError(500, 131000, 0, "Something went wrong"))
		ctx, cancel := context.WithCancel(t.Context())
		var hook sync.Once
		c2 := newClientFor(t, api, &whatsapp.Options{MaxAttempts: 3, RetryDelay: time.Hour, Hooks: whatsapp.Hooks{Request: func(whatsapp.RequestInfo) { hook.Do(cancel) }}})
		_ = c
		_, err := c2.Send(ctx, channel.Outbound{To: to(waID), Text: "hi"})
		require.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, channel.ErrUnavailable, "the failure that caused the retry is kept")
	})
}

func TestThroughputLimiterWaits(t *testing.T) {
	c, api := newClient(t, &whatsapp.Options{Throughput: 5})
	users := []string{"5215500000001", "5215500000002", "5215500000003", "5215500000004", "5215500000005", "5215500000006", "5215500000007", "5215500000008"}
	for _, u := range users {
		_, err := c.Send(t.Context(), channel.Outbound{To: to(u), Text: "hi"})
		require.NoError(t, err, "sends beyond the throughput wait, they do not fail")
	}
	assert.Len(t, api.Sent(), len(users))
	st := c.Stats()
	assert.Equal(t, int64(len(users)-5), st.ThroughputWaits, "a burst of one second's worth, then every send waits")
	assert.Equal(t, int64(len(users)), st.Sent)
}

func TestThroughputDefaults(t *testing.T) {
	t.Run("up to 1000", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{Throughput: whatsapp.MaxThroughput})
		for i := range 200 {
			_, err := c.Send(t.Context(), channel.Outbound{To: to(fmt.Sprintf("52155%08d", i)), Text: "hi"})
			require.NoError(t, err)
		}
		assert.Len(t, api.Sent(), 200)
		assert.Zero(t, c.Stats().ThroughputWaits, "200 fit in a burst of 1000")
	})
	t.Run("each number has its own bucket", func(t *testing.T) {
		c, api := newClient(t, &whatsapp.Options{Throughput: 2})
		for i := range 4 {
			tenant := channel.TenantID([]string{"106540352242922", "106540352242923"}[i%2])
			_, err := c.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: tenant, User: channel.UserID(fmt.Sprintf("52155%08d", i))}, Text: "hi"})
			require.NoError(t, err)
		}
		assert.Len(t, api.Sent(), 4)
		assert.Zero(t, c.Stats().ThroughputWaits, "two numbers, two messages each: no wait")
	})
}

func TestThroughputLimiterConcurrent(t *testing.T) {
	c, api := newClient(t, &whatsapp.Options{Throughput: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Send(t.Context(), channel.Outbound{To: to(fmt.Sprintf("521550000%04d", i)), Text: "hi"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.Len(t, api.Sent(), 6)
	assert.Equal(t, int64(2), c.Stats().ThroughputWaits)
}

func TestPairPacing(t *testing.T) {
	c, api := newClient(t, &whatsapp.Options{PairInterval: 20 * time.Millisecond, PairBurst: 2})
	for i := range 4 {
		_, err := c.Send(t.Context(), channel.Outbound{To: to(waID), Text: channel.Text(fmt.Sprintf("message %d", i+1))})
		require.NoError(t, err)
	}
	sent := api.Sent()
	require.Len(t, sent, 4)
	for i, r := range sent {
		assert.Contains(t, string(r.Body), fmt.Sprintf("message %d", i+1), "in order")
	}
	assert.Equal(t, int64(2), c.Stats().PairWaits)
}

func TestTypingAndRead(t *testing.T) {
	c, api := newClient(t, nil)
	require.NoError(t, c.Typing(t.Context(), to(waID), "wamid.IN0001"))
	require.NoError(t, c.MarkRead(t.Context(), to(bsuid), "wamid.IN0002"))
	reqs := api.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "typing", reqs[0].Op())
	assert.Equal(t, "read", reqs[1].Op())
	for _, r := range reqs {
		assert.Equal(t, "/v25.0/"+string(tenant)+"/messages", r.Path)
		assert.Equal(t, "Bearer "+token, r.Header.Get("Authorization"))
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	}
	golden(t, "typing", reqs[0].Body)
	golden(t, "read", reqs[1].Body)

	err := c.Typing(t.Context(), channel.Address{Channel: channel.WhatsApp, User: waID}, "wamid.IN0001")
	assert.ErrorIs(t, err, channel.ErrInvalidMessage)
}

// tokens gives a token per tenant.
type tokens map[channel.TenantID]string

func (t tokens) AccessToken(_ context.Context, tenant channel.TenantID) (string, error) {
	if tok, ok := t[tenant]; ok {
		return tok, nil
	}
	return "", errors.New("no token for this number")
}

func TestCredentialsPerTenant(t *testing.T) {
	api := whatsapptest.NewServer(token, "")
	t.Cleanup(api.Close)
	var logs bytes.Buffer
	c, err := whatsapp.New(tokens{tenant: token, "222": "stale-token"}, &whatsapp.Options{BaseURL: api.URL, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	_, err = c.Send(t.Context(), channel.Outbound{To: to(waID), Text: "hi"})
	require.NoError(t, err)

	_, err = c.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: "222", User: waID}, Text: "hi"})
	require.ErrorIs(t, err, channel.ErrAuth)
	var ce *channel.Error
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 190, ce.Code)
	assert.Equal(t, "/v25.0/222/messages", api.Requests()[1].Path)

	n := len(api.Requests())
	_, err = c.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: "333", User: waID}, Text: "hi"})
	require.ErrorIs(t, err, channel.ErrAuth)
	assert.Len(t, api.Requests(), n, "no request without a token")

	for _, secret := range []string{token, "stale-token", waID, "hi\""} {
		assert.NotContains(t, logs.String(), secret)
		assert.NotContains(t, err.Error(), secret)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := whatsapp.New(nil, &whatsapp.Options{BaseURL: "ftp://x", Throughput: 1001, MaxAttempts: -1})
	require.Error(t, err)
	for _, want := range []string{"credentials are required", "BaseURL", "Throughput must be at most 1000", "MaxAttempts must not be negative"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = whatsapp.New(whatsapp.StaticToken(""), nil)
	assert.ErrorContains(t, err, "static access token is empty")

	c, err := whatsapp.New(whatsapp.StaticToken("t"), nil)
	require.NoError(t, err)
	assert.Equal(t, channel.WhatsApp, c.Name())
	assert.Equal(t, 24*time.Hour, c.ServiceWindow())
}
