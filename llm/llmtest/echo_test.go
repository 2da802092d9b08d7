package llmtest_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
)

func TestEcho(t *testing.T) {
	image := llm.Part{Kind: llm.KindImage, MIMEType: "image/png", Data: []byte{1}}
	tests := []struct {
		name      string
		prefix    string
		req       *llm.Request
		want      string
		wantUsage llm.Usage
	}{
		{
			name:      "one user message",
			req:       userReq("hello there"),
			want:      "hello there",
			wantUsage: llm.Usage{InputTokens: 2, OutputTokens: 2},
		},
		{
			name:      "prefix",
			prefix:    "echo: ",
			req:       userReq("hello there"),
			want:      "echo: hello there",
			wantUsage: llm.Usage{InputTokens: 2, OutputTokens: 3},
		},
		{
			name: "last user message, text parts concatenated",
			req: &llm.Request{
				System: "Be brief.",
				Messages: []llm.Message{
					llm.UserText("first question"),
					llm.AssistantText("first answer"),
					{Role: llm.User, Parts: []llm.Part{llm.TextPart("look "), image, llm.TextPart("at this")}},
					{Role: llm.Assistant, Parts: []llm.Part{llm.ToolCallPart(llm.ToolCall{ID: "c1", Name: "t"})}},
					{Role: llm.ToolRole, Parts: []llm.Part{llm.ToolResultPart(llm.ToolResult{CallID: "c1", Name: "t", Content: "result"})}},
				},
			},
			want:      "look at this",
			wantUsage: llm.Usage{InputTokens: 9, OutputTokens: 3},
		},
		{
			name:      "last user message without text",
			prefix:    "echo: ",
			req:       &llm.Request{Messages: []llm.Message{llm.UserText("earlier"), {Role: llm.User, Parts: []llm.Part{image}}}},
			want:      "echo: ",
			wantUsage: llm.Usage{InputTokens: 1, OutputTokens: 1},
		},
		{
			name:      "no user message",
			prefix:    "echo:",
			req:       &llm.Request{Messages: []llm.Message{llm.AssistantText("hi")}},
			want:      "echo:",
			wantUsage: llm.Usage{InputTokens: 1, OutputTokens: 1},
		},
		{
			name:      "empty request",
			req:       &llm.Request{},
			want:      "",
			wantUsage: llm.Usage{InputTokens: 1, OutputTokens: 1},
		},
		{
			name:      "nil request",
			prefix:    "p",
			want:      "p",
			wantUsage: llm.Usage{InputTokens: 1, OutputTokens: 1},
		},
		{
			name:      "unicode spaces",
			req:       userReq("  días\u00a0de\tsol \n"),
			want:      "  días\u00a0de\tsol \n",
			wantUsage: llm.Usage{InputTokens: 3, OutputTokens: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before *llm.Request
			if tt.req != nil {
				before = cloneForTest(tt.req)
			}
			resp, err := llmtest.Echo{Prefix: tt.prefix}.Generate(t.Context(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, &llm.Response{
				Message:      llm.AssistantText(tt.want),
				FinishReason: llm.FinishStop,
				Usage:        tt.wantUsage,
			}, resp)
			assert.Equal(t, before, tt.req, "Generate must not modify req")
		})
	}
}

// cloneForTest copies the parts of req that Echo could modify.
func cloneForTest(req *llm.Request) *llm.Request {
	c := *req
	c.Messages = nil
	for _, m := range req.Messages {
		m.Parts = append([]llm.Part(nil), m.Parts...)
		c.Messages = append(c.Messages, m)
	}
	return &c
}

func TestEchoName(t *testing.T) {
	assert.Equal(t, "echo", llmtest.Echo{}.Name())
}

func TestEchoCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	resp, err := llmtest.Echo{}.Generate(ctx, userReq("hi"))
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, resp)
}

func TestEchoConcurrent(t *testing.T) {
	var p llm.Provider = llmtest.Echo{Prefix: "> "}
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := p.Generate(context.Background(), userReq("hi"))
			if assert.NoError(t, err) {
				assert.Equal(t, "> hi", resp.Message.Text())
			}
		}()
	}
	wg.Wait()
}

func TestEchoAllocs(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		req    *llm.Request
		want   float64
	}{
		{"no prefix, one text part", "", userReq("hello there"), 1},
		{"prefix", "echo: ", userReq("hello there"), 2},
		{"several text parts", "", &llm.Request{Messages: []llm.Message{{Role: llm.User, Parts: []llm.Part{llm.TextPart("a"), llm.TextPart("b")}}}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ctx := llmtest.Echo{Prefix: tt.prefix}, context.Background()
			allocs := testing.AllocsPerRun(100, func() {
				if _, err := e.Generate(ctx, tt.req); err != nil {
					t.Fatal(err)
				}
			})
			assert.Equal(t, tt.want, allocs, "Echo allocates its response (and the joined text) only")
		})
	}
}

func BenchmarkEcho(b *testing.B) {
	e, req := llmtest.Echo{Prefix: "echo: "}, userReq("What time do you open on Sunday?")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Generate(b.Context(), req); err != nil {
			b.Fatal(err)
		}
	}
}
