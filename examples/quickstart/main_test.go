package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQuickstartConversation(t *testing.T) {
	var out bytes.Buffer
	in := strings.NewReader("hola\nwhen do you open?\nwhere is my order a-1001?\nand A-9999?\n")
	require.NoError(t, run(t.Context(), in, &out))
	got := out.String()
	for _, want := range []string{
		"bot> Hello! I am the Tienda Sol assistant (offline demo).",
		"bot> We are open Monday to Saturday",
		"bot> Order status: shipped on 20 November",                   // through the order_status tool
		"bot> Sorry, I could not look that order up: no order A-9999", // the tool's error reached the model
	} {
		assert.Contains(t, got, want)
	}
	assert.Equal(t, 4, strings.Count(got, "bot> "), "one answer per message")
}
