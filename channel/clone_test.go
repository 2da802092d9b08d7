package channel_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/internal/testfill"
)

func TestCloneIsDeep(t *testing.T) {
	t.Run("message", func(t *testing.T) {
		testfill.DeepClone(t, func(m *channel.Message) *channel.Message { c := m.Clone(); return &c })
	})
	t.Run("outbound", func(t *testing.T) {
		testfill.DeepClone(t, func(o *channel.Outbound) *channel.Outbound { c := o.Clone(); return &c })
	})
}

// The stores persist outbound messages as JSON: every field must survive
// it.
func TestOutboundJSONKeepsEveryField(t *testing.T) {
	var orig channel.Outbound
	testfill.Fill(t, reflect.ValueOf(&orig), 1)
	b, err := json.Marshal(orig)
	require.NoError(t, err)
	var got channel.Outbound
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, orig, got)
}
