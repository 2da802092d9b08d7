package instagram_test

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/instagram"
	"github.com/wagent/wagent/channel/instagram/instagramtest"
	"github.com/wagent/wagent/internal/meta"
)

// TestClientLogsNoSecrets sends, fails, retries, marks seen and looks up a
// profile through a client logging JSON at Debug, and checks that no
// token, proof, user id, name or text reaches the logs, the errors or the
// request hooks.
func TestClientLogsNoSecrets(t *testing.T) {
	const secret = "the-app-secret"
	api := instagramtest.NewServer(token, secret)
	t.Cleanup(api.Close)
	api.SetProfile(igsid, instagramtest.Profile{Name: "Ana Quispe", Username: "ana.q"})
	var logs bytes.Buffer
	var requests []instagram.RequestInfo
	c, err := instagram.New(instagram.StaticToken(token), &instagram.Options{
		BaseURL: api.URL, AppSecret: secret, MaxAttempts: 2, RetryDelay: 1,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hooks:  instagram.Hooks{Request: func(i instagram.RequestInfo) { requests = append(requests, i) }},
	})
	require.NoError(t, err)
	text := "Mi dirección es Av. Arequipa 123"
	var errs []error
	record := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	_, err = c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: channel.Text(text)})
	record(err)
	api.Script(instagramtest.GraphError(500, 2, 0, "(#2) Unexpected error for user "+igsid))
	_, err = c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: channel.Text(text)})
	record(err)
	api.Script(instagramtest.GraphError(400, 100, 2534014, "The user "+igsid+" cannot be found"))
	_, err = c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: channel.Text(text)})
	record(err)
	api.CloseWindow(igsid)
	_, err = c.Send(t.Context(), channel.Outbound{To: to(igsid), Text: channel.Text(text)})
	record(err)
	record(c.Typing(t.Context(), to(igsid), "aWdfZAG1fIN0001"))
	_, err = c.Profile(t.Context(), to(igsid))
	record(err)

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
	for _, leak := range []string{token, secret, meta.AppSecretProof(token, secret), igsid, "Arequipa", "Ana Quispe", "ana.q"} {
		assert.NotContains(t, all, leak)
	}
	assert.Contains(t, all, "2534014", "codes are kept")
}
