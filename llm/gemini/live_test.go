package gemini_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/gemini"
	"github.com/wagent/wagent/llm/llmtest"
)

// liveProvider returns a provider for the real Gemini API, or skips the
// test when GEMINI_API_KEY is not set. GEMINI_MODEL picks the model.
func liveProvider(t *testing.T) *gemini.Provider {
	t.Helper()
	key := os.Getenv("GEMINI_API_KEY")
	if key == "" {
		t.Skip("Live test skipped: set GEMINI_API_KEY (and optionally GEMINI_MODEL) to run it against the real Gemini API")
	}
	p, err := gemini.New(t.Context(), key, &gemini.Options{Model: os.Getenv("GEMINI_MODEL")})
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

// TestLiveToolCall makes a tool call, stores the answer as JSON, and sends
// the result back with the replayed history (thought signatures included),
// once with Generate and once with Stream.
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

	results := llm.Message{Role: llm.ToolRole}
	for _, c := range calls {
		results.Parts = append(results.Parts, llm.ToolResultPart(llm.ToolResult{CallID: c.ID, Name: c.Name, Content: llmtest.LimaWeather}))
	}
	req.ToolChoice = llm.ToolAuto
	req.Messages = append(req.Messages, roundTrip(t, resp.Message), results)
	resp, err = p.Generate(ctx, req)
	require.NoError(t, err)
	assert.Contains(t, resp.Message.Text(), "19")
	assert.Equal(t, llm.FinishStop, resp.FinishReason)

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
