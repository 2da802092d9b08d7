package agent_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

func TestRecordEcho(t *testing.T) {
	f := setup(t, nil)
	f.model.SetDefault(echoLast())

	assert.ErrorIs(t, f.agent.RecordEcho(t.Context(), channel.Message{From: addr("51900000095"), Text: "hola"}), store.ErrInvalid, "an echo needs its id")

	// The echo of the agent's own reply records nothing more.
	f.receive(t, text("wamid.e1", "51900000095", "hola"))
	conv := f.waitTurns(t, 1)[0].Conversation
	hist, err := f.store.History(t.Context(), tenant, conv, store.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, hist, 2)
	own := hist[1]
	require.NotEmpty(t, own.ProviderID)
	require.NoError(t, f.agent.RecordEcho(t.Context(), channel.Message{ID: own.ProviderID, From: addr("51900000095"), Text: own.Outbound.Text, Echo: true}))

	// A person's message from another inbox is recorded once, unanswered.
	person := channel.Message{ID: "wamid.person", From: addr("51900000095"), Text: "Soy Ana, de la tienda", Time: time.Now(), Echo: true}
	require.NoError(t, f.agent.RecordEcho(t.Context(), person))
	require.NoError(t, f.agent.RecordEcho(t.Context(), person))
	hist, err = f.store.History(t.Context(), tenant, conv, store.HistoryQuery{})
	require.NoError(t, err)
	require.Len(t, hist, 3)
	assert.Equal(t, store.Operator, hist[2].Role)
	assert.Equal(t, channel.Text("Soy Ana, de la tienda"), hist[2].Outbound.Text)
	assert.Len(t, f.ch.Sent(), 1, "only the assistant's reply was sent")
}
