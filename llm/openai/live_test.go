package openai_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/llm/openai"
)

// liveProvider returns a provider for the real API, or skips the test when
// OPENAI_API_KEY is not set. OPENAI_BASE_URL and OPENAI_MODEL point it
// elsewhere.
func liveProvider(t *testing.T) *openai.Provider {
	t.Helper()
	key := os.Getenv("OPENAI_API_KEY")
	if key == "" {
		t.Skip("live test: set OPENAI_API_KEY (and optionally OPENAI_BASE_URL, OPENAI_MODEL) to run it against the real API")
	}
	p, err := openai.New(key, &openai.Options{BaseURL: os.Getenv("OPENAI_BASE_URL"), Model: os.Getenv("OPENAI_MODEL")})
	require.NoError(t, err)
	return p
}

func TestLiveText(t *testing.T) {
	p := liveProvider(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	req := llmtest.Request(llmtest.CaseText)
	req.Messages[0] = llm.UserText("Reply with exactly these words: Hello from wagent.")
	resp, err := p.Generate(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, resp.Message.Text(), "Hello")
	assert.Equal(t, llm.FinishStop, resp.FinishReason)
	assert.Positive(t, resp.Usage.InputTokens)
	assert.Positive(t, resp.Usage.OutputTokens)
}

func TestLiveToolCall(t *testing.T) {
	p := liveProvider(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	req := llmtest.Request(llmtest.CaseToolCall)
	req.ToolChoice = llm.ToolRequired
	resp, err := p.Generate(ctx, req)
	require.NoError(t, err)
	calls := resp.Message.ToolCalls()
	require.NotEmpty(t, calls)
	assert.Equal(t, llmtest.WeatherTool, calls[0].Name)
	assert.Equal(t, llm.FinishToolCalls, resp.FinishReason)

	// Answer every call and get the final text.
	results := llm.Message{Role: llm.ToolRole}
	for _, c := range calls {
		results.Parts = append(results.Parts, llm.ToolResultPart(llm.ToolResult{CallID: c.ID, Name: c.Name, Content: llmtest.LimaWeather}))
	}
	req.ToolChoice = llm.ToolAuto
	req.Messages = append(req.Messages, resp.Message, results)
	resp, err = p.Generate(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, resp.Message.Text(), "19")
	assert.Equal(t, llm.FinishStop, resp.FinishReason)

	// The same through a stream.
	var text string
	for c, err := range p.Stream(ctx, req) {
		require.NoError(t, err)
		text += c.Text
		if c.Response != nil {
			assert.Equal(t, text, c.Response.Message.Text())
		}
	}
	assert.Contains(t, text, "19")
}
