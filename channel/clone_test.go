package channel_test

import (
	"testing"

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
