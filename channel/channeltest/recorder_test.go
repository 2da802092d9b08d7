package channeltest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
)

func TestRecorder(t *testing.T) {
	r := channeltest.NewRecorder(channel.WebWidget)
	to := channel.Address{Channel: channel.WebWidget, Tenant: "site-1", User: "visitor-1"}

	res, err := r.Send(t.Context(), channel.Outbound{To: to, Text: "hola"})
	require.NoError(t, err)
	assert.Equal(t, []channel.MessageID{"out-1"}, res.IDs)

	r.FailNext(channel.ErrUnavailable)
	_, err = r.Send(t.Context(), channel.Outbound{To: to, Text: "again"})
	assert.ErrorIs(t, err, channel.ErrUnavailable, "scripted failures come first")

	_, err = r.Send(t.Context(), channel.Outbound{To: to})
	assert.ErrorIs(t, err, channel.ErrInvalidMessage, "messages are validated")
	_, err = r.Send(t.Context(), channel.Outbound{To: channel.Address{Channel: channel.WhatsApp, Tenant: "1", User: "2"}, Text: "x"})
	assert.ErrorIs(t, err, channel.ErrInvalidMessage, "addresses of other channels are refused")

	require.NoError(t, r.Typing(t.Context(), to, "m1"))
	require.NoError(t, r.MarkRead(t.Context(), to, "m1"))
	assert.Equal(t, []channeltest.Signal{{To: to, MessageID: "m1"}}, r.Typings())
	assert.Equal(t, []channeltest.Signal{{To: to, MessageID: "m1"}}, r.Reads())
	assert.Equal(t, 1, r.Count())

	go func() { _, _ = r.Send(context.Background(), channel.Outbound{To: to, Text: "later"}) }()
	sent, err := r.Wait(t.Context(), 2)
	require.NoError(t, err)
	assert.Equal(t, channel.Text("later"), sent[1].Text)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = r.Wait(ctx, 10)
	assert.ErrorIs(t, err, context.Canceled)
}
