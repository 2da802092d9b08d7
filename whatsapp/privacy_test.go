package whatsapp_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/meta"
	"github.com/wagent/wagent/whatsapp"
	"github.com/wagent/wagent/whatsapp/whatsapptest"
)

// TestClientLogsNoSecrets sends, fails, retries, marks read and fetches
// media through a client logging JSON at Debug, and checks that no token,
// proof, phone number, user id or text reaches the logs or the errors.
func TestClientLogsNoSecrets(t *testing.T) {
	const secret = "the-app-secret"
	api := whatsapptest.NewServer(token, secret)
	t.Cleanup(api.Close)
	var logs bytes.Buffer
	var requests []whatsapp.RequestInfo
	c, err := whatsapp.New(whatsapp.StaticToken(token), &whatsapp.Options{
		BaseURL: api.URL, AppSecret: secret, MaxAttempts: 2, RetryDelay: 1,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hooks:  whatsapp.Hooks{Request: func(i whatsapp.RequestInfo) { requests = append(requests, i) }},
	})
	require.NoError(t, err)
	text := "Mi dirección es Av. Arequipa 123"
	var errs []error
	record := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	_, err = c.Send(t.Context(), channel.Outbound{To: to(waID), Text: channel.Text(text)})
	record(err)
	api.Script(whatsapptest.GraphError(500, 131000, 0, "(#131000) Something went wrong for "+waID))
	_, err = c.Send(t.Context(), channel.Outbound{To: to(bsuid), Text: channel.Text(text)})
	record(err)
	api.Script(whatsapptest.GraphError(400, 131026, 0, "(#131026) Message undeliverable to +"+waID), whatsapptest.GraphError(400, 131030, 0, "Recipient "+bsuid+" not allowed"))
	_, err = c.Send(t.Context(), channel.Outbound{To: to(waID), Text: channel.Text(text)})
	record(err)
	_, err = c.Send(t.Context(), channel.Outbound{To: to(bsuid), Text: channel.Text(text)})
	record(err)
	record(c.Typing(t.Context(), to(waID), "wamid.IN0001"))
	id := api.AddMedia(whatsapptest.Media{Content: []byte("img"), MIMEType: "image/png"})
	rc, err := c.FetchMedia(t.Context(), tenant, channel.Media{Kind: channel.Image, ID: id})
	require.NoError(t, err)
	rc.Close()

	require.Len(t, errs, 2)
	require.NotEmpty(t, requests)
	all := logs.String()
	for _, e := range errs {
		all += "\n" + e.Error()
	}
	for _, r := range requests {
		if r.Err != nil {
			all += "\n" + r.Err.Error()
		}
	}
	for _, leak := range []string{token, secret, meta.AppSecretProof(token, secret), waID, strings.TrimPrefix(bsuid, "US."), "Arequipa", "/download/"} {
		assert.NotContains(t, all, leak)
	}
	assert.Contains(t, all, "131026", "codes are kept")
}
