package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/llm"
)

// demoModel is an offline llm.Provider: it answers from a small FAQ by
// keyword, and calls the order_status tool when the customer names an
// order, so the demo shows the agent's tool loop without any API key.
type demoModel struct{}

func (demoModel) Name() string { return "offline-demo" }

var faq = []struct {
	keywords []string
	answer   string
}{
	{[]string{"hour", "open", "horario", "abren"}, "We are open Monday to Saturday, 9:00 to 18:00 (Lima time)."},
	{[]string{"ship", "deliver", "envío", "envio"}, "We ship across Peru in 2 to 5 working days; Lima orders over S/ 150 ship free."},
	{[]string{"return", "devol", "refund"}, "You can return any unworn item within 30 days for a full refund."},
	{[]string{"hello", "hi", "hola", "buenas"}, "Hello! I am the Tienda Sol assistant (offline demo). How can I help?"},
}

var orderNumber = regexp.MustCompile(`(?i)\b([a-z]-\d{4})\b`)

func (demoModel) Generate(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	last := req.Messages[len(req.Messages)-1]
	if last.Role == llm.ToolRole { // the tool answered: report it
		r := last.Parts[0].ToolResult
		if r.IsError {
			return reply("Sorry, I could not look that order up: " + r.Content), nil
		}
		return reply("Order status: " + r.Content + "."), nil
	}
	question := strings.ToLower(last.Text())
	if m := orderNumber.FindStringSubmatch(question); m != nil && req.ToolChoice != llm.ToolNone {
		args, _ := json.Marshal(map[string]string{"order": strings.ToUpper(m[1])})
		return &llm.Response{
			Message:      llm.Message{Role: llm.Assistant, Parts: []llm.Part{llm.ToolCallPart(llm.ToolCall{ID: "call_1", Name: "order_status", Args: args})}},
			FinishReason: llm.FinishToolCalls,
		}, nil
	}
	for _, f := range faq {
		for _, k := range f.keywords {
			if strings.Contains(question, k) {
				return reply(f.answer), nil
			}
		}
	}
	return reply("I am the offline demo model and only know hours, shipping, returns and orders (try A-1001)."), nil
}

func reply(text string) *llm.Response {
	return &llm.Response{Message: llm.AssistantText(text), FinishReason: llm.FinishStop}
}

// orderStatusTool looks orders up in the demo shop's order book.
func orderStatusTool() agent.Tool {
	orders := map[string]string{
		"A-1001": "shipped on 20 November, arriving in Cusco on 24 November",
		"A-1002": "being packed, ships tomorrow",
	}
	type args struct {
		Order string `json:"order" description:"Order number, such as A-1001"`
	}
	return agent.NewTool("order_status", "Look up the status of a customer's order",
		func(ctx context.Context, in args) (string, error) {
			status, ok := orders[in.Order]
			if !ok {
				return "", fmt.Errorf("no order %s", in.Order)
			}
			return status, nil
		})
}
