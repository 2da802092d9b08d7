package llm_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
)

func TestErrorClassifies(t *testing.T) {
	cause := errors.New("Rate limit reached for gpt-4o")
	err := fmt.Errorf("turn: %w", &llm.Error{Provider: "openai", Kind: llm.ErrRateLimited, StatusCode: 429, RetryAfter: 2 * time.Second, Err: cause})
	assert.ErrorIs(t, err, llm.ErrRateLimited)
	assert.ErrorIs(t, err, cause)
	var le *llm.Error
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 2*time.Second, le.RetryAfter)
	assert.Equal(t, "turn: llm: openai: rate limited (HTTP 429): Rate limit reached for gpt-4o", err.Error())

	for _, tt := range []struct {
		err       error
		retryable bool
	}{
		{&llm.Error{Kind: llm.ErrRateLimited}, true},
		{&llm.Error{Kind: llm.ErrUnavailable}, true},
		{&llm.Error{Kind: llm.ErrContextTooLong}, false},
		{&llm.Error{Kind: llm.ErrContentBlocked}, false},
		{&llm.Error{Kind: llm.ErrInvalidRequest}, false},
		{&llm.Error{Kind: llm.ErrAuth}, false},
		{context.Canceled, false},
	} {
		assert.Equal(t, tt.retryable, llm.Retryable(tt.err), "%v", tt.err)
	}
}

func TestMessageHelpers(t *testing.T) {
	m := llm.Message{Role: llm.Assistant, Parts: []llm.Part{
		llm.TextPart("Checking "),
		llm.ToolCallPart(llm.ToolCall{ID: "c1", Name: "order_status"}),
		{Kind: llm.KindReasoning, Text: "the user wants..."},
		llm.TextPart("your order."),
	}}
	assert.Equal(t, "Checking your order.", m.Text())
	assert.Equal(t, []llm.ToolCall{{ID: "c1", Name: "order_status"}}, m.ToolCalls())
	assert.Equal(t, llm.Usage{InputTokens: 3, OutputTokens: 5, CachedInputTokens: 1, ReasoningTokens: 2},
		llm.Usage{InputTokens: 1, OutputTokens: 2, CachedInputTokens: 1}.Add(llm.Usage{InputTokens: 2, OutputTokens: 3, ReasoningTokens: 2}))
}
