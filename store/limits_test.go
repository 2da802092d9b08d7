package store_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/wagent/wagent/store"
)

func TestSealedValuesFitTheirLimits(t *testing.T) {
	sealedOf := func(n int) string { return store.SealedPrefix + strings.Repeat("A", n-len(store.SealedPrefix)) }
	limit := store.SealedLimit(store.MaxTagValue)
	assert.Greater(t, limit, store.MaxTagValue*4/3+286, "the limit leaves room for the longest envelope")

	assert.NoError(t, store.Tags{Intent: "order", Product: sealedOf(limit)}.Check())
	assert.ErrorIs(t, store.Tags{Intent: "order", Product: sealedOf(limit + 1)}.Check(), store.ErrInvalid)
	assert.ErrorIs(t, store.Tags{Intent: "order", Product: strings.Repeat("A", store.MaxTagValue+1)}.Check(), store.ErrInvalid,
		"a plaintext value gets no sealed allowance")

	tk := store.NewTicket{Tenant: "t", Subject: "s", Title: sealedOf(store.SealedLimit(store.MaxTicketTitle))}
	assert.NoError(t, tk.Check())
	tk.Title = strings.Repeat("x", store.MaxTicketTitle+1)
	assert.ErrorIs(t, tk.Check(), store.ErrInvalid)
	assert.ErrorIs(t, store.CheckNote(store.TicketNote{Author: "a", Text: sealedOf(store.SealedLimit(store.MaxTicketNote) + 1)}), store.ErrInvalid)
}
