package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

// TestFaultsErasedDuringTurn erases the customer (a data-subject request
// fulfilled from the admin API) while the model is answering them. The
// turn ends quietly: nothing is retried, no error is logged, and the
// reply recorded for an erased conversation is not kept.
func TestFaultsErasedDuringTurn(t *testing.T) {
	entered, proceed := make(chan struct{}), make(chan struct{})
	f := setup(t, nil, llmtest.Func(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		close(entered)
		<-proceed
		return llmtest.Reply("Your order ships today.").Response, nil
	}))
	f.receive(t, text("wamid.erase.1", "51987650001", "where is my order?"))
	<-entered
	conv, err := f.store.Conversation(t.Context(), tenant, f.waitConv(t, "51987650001"))
	require.NoError(t, err)
	erased, err := f.store.Erase(t.Context(), tenant, conv.Subject)
	require.NoError(t, err)
	require.Equal(t, 1, erased.Subjects)
	close(proceed)

	ti := f.waitTurns(t, 1)[0]
	assert.NotEqual(t, agent.Retrying, ti.Outcome, "an erased message is not retried")
	assert.Equal(t, "erased", ti.Reason)
	assert.NotContains(t, f.logs.String(), `"level":"ERROR"`)
	assert.Zero(t, f.agent.Stats().Retries)
	_, err = f.store.Export(t.Context(), tenant, conv.Subject)
	assert.Error(t, err, "nothing of the erased subject is recorded after the turn")
}
