package main

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/channel/channeltest"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/memory"
)

var (
	orderDef   = orderStatusTool().Definition()
	handoffDef = llm.Tool{Name: handoffTool, Parameters: json.RawMessage(`{"type":"object","properties":{"reason":{"type":"string"}}}`)}
)

func ask(t *testing.T, req *llm.Request) *llm.Response {
	t.Helper()
	resp, err := offlineModel{}.Generate(t.Context(), req)
	require.NoError(t, err)
	return resp
}

func user(texts ...string) *llm.Request {
	req := &llm.Request{}
	for _, s := range texts {
		req.Messages = append(req.Messages, llm.UserText(s))
	}
	return req
}

func TestOfflineModelAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, question string
		want           []string // the answer is these, joined by a space
	}{
		{"shipping en", "Do you deliver to Arequipa?", []string{faq[0].Answer.EN}},
		{"shipping es", "¿Hacen envíos a Cusco?", []string{faq[0].Answer.ES}},
		{"returns", "Can I get a refund?", []string{faq[1].Answer.EN}},
		{"hours es", "¿A qué hora abren el sábado?", []string{faq[2].Answer.ES}},
		{"order without number", "where is my order?", []string{faq[3].Answer.EN}},
		{"address es", "¿Dónde queda la tienda?", []string{faq[4].Answer.ES}},
		{"payment es", "¿Puedo pagar con Yape?", []string{faq[5].Answer.ES}},
		{"size", "Which size fits me?", []string{faq[6].Answer.EN}},
		{"product en", "How much is the poncho?", []string{catalog[0].answer(english)}},
		{"product es", "¿Tienen chalinas?", []string{catalog[1].answer(spanish)}},
		{"faq and product", "how do I wash the sweater", []string{faq[7].Answer.EN, catalog[2].answer(english)}},
		{"privacy", "What do you do with my data?", []string{faq[8].Answer.EN}},
		{"greeting en", "hi!", []string{"Hello! I am the Tienda Sol assistant, running as the offline demo model. Ask me about shipping, returns, sizes, payment or our ponchos, scarves and sweaters."}},
		{"greeting es", "Hola", []string{"¡Hola! Soy el asistente de Tienda Sol en modo de demostración sin conexión. Pregúntame por envíos, devoluciones, tallas, pagos o nuestros ponchos, chalinas y chompas."}},
		{"greeting and question", "hola, ¿hacen envíos?", []string{faq[0].Answer.ES}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := ask(t, user(tc.question))
			assert.Equal(t, llm.FinishStop, resp.FinishReason)
			want := tc.want[0]
			for _, w := range tc.want[1:] {
				want += " " + w
			}
			assert.Equal(t, want, resp.Message.Text())
		})
	}
}

func TestOfflineModelSaysItIsTheDemo(t *testing.T) {
	for _, q := range []string{"are you a bot?", "¿quién eres?", "tell me a joke", "cuéntame un chiste"} {
		t.Run(q, func(t *testing.T) {
			got := ask(t, user(q)).Message.Text()
			assert.Regexp(t, `offline demo|demostración sin conexión`, got)
		})
	}
	assert.Contains(t, ask(t, user("tell me a joke")).Message.Text(), "OPENAI_API_KEY", "how to get a real model")
	assert.Contains(t, ask(t, user("cuéntame un chiste")).Message.Text(), "Soy el modelo", "in the customer's language")
}

func TestOfflineModelReadsTheBurst(t *testing.T) {
	req := user("hola", "¿cuánto cuesta la chompa?")
	assert.Equal(t, catalog[2].answer(spanish), ask(t, req).Message.Text(), "both messages of the turn are read")
	req.Messages = append(req.Messages, llm.AssistantText("..."), llm.UserText("gracias, y ¿hacen envíos?"))
	assert.Equal(t, faq[0].Answer.ES, ask(t, req).Message.Text(), "only what came after the last answer")
}

func toolCall(t *testing.T, resp *llm.Response) llm.ToolCall {
	t.Helper()
	require.Equal(t, llm.FinishToolCalls, resp.FinishReason)
	calls := resp.Message.ToolCalls()
	require.Len(t, calls, 1)
	require.NotEmpty(t, calls[0].ID)
	return calls[0]
}

func TestOfflineModelLooksOrdersUp(t *testing.T) {
	req := user("¿dónde está mi pedido a-1002?")
	assert.Equal(t, faq[3].Answer.ES, ask(t, req).Message.Text(), "no tool offered: asks for... the FAQ answer")
	req.Tools = []llm.Tool{orderDef}
	c := toolCall(t, ask(t, req))
	assert.Equal(t, orderTool, c.Name)
	assert.JSONEq(t, `{"order":"A-1002"}`, string(c.Args))

	req.ToolChoice = llm.ToolNone
	assert.Equal(t, llm.FinishStop, ask(t, req).FinishReason, "tools disabled: no call")
	req.ToolChoice = llm.ToolAuto

	req.Messages = append(req.Messages,
		llm.Message{Role: llm.Assistant, Parts: []llm.Part{llm.ToolCallPart(c)}},
		llm.Message{Role: llm.ToolRole, Parts: []llm.Part{llm.ToolResultPart(llm.ToolResult{CallID: c.ID, Name: orderTool, Content: "being packed, ships tomorrow"})}})
	assert.Equal(t, "Estado del pedido: being packed, ships tomorrow.", ask(t, req).Message.Text())

	// The agent's built-in order tool takes order_id and answers JSON.
	builtin := llm.Tool{Name: orderTool, Parameters: json.RawMessage(`{"type":"object","properties":{"order_id":{"type":"string"}}}`)}
	req = user("status of order A-1001 please")
	req.Tools = []llm.Tool{builtin}
	c = toolCall(t, ask(t, req))
	assert.JSONEq(t, `{"order_id":"A-1001"}`, string(c.Args))
	req.Messages = append(req.Messages,
		llm.Message{Role: llm.Assistant, Parts: []llm.Part{llm.ToolCallPart(c)}},
		llm.Message{Role: llm.ToolRole, Parts: []llm.Part{llm.ToolResultPart(llm.ToolResult{CallID: c.ID, Name: orderTool, Content: `{"id":"A-1001","status":"shipped","total":"S/ 320.00"}`})}})
	assert.Equal(t, "Order status: A-1001 is shipped.", ask(t, req).Message.Text())
}

func TestOfflineModelOpensTickets(t *testing.T) {
	for _, tc := range []struct {
		name, schema, question string
		want                   map[string]string
	}{
		{
			name:     "summary and details",
			schema:   `{"type":"object","properties":{"title":{"type":"string"},"details":{"type":"string"},"order_id":{"type":"string"}},"required":["title","details"]}`,
			question: "My order A-1001 arrived with a stain",
			want:     map[string]string{"title": "Customer reports a problem (A-1001)", "details": "My order A-1001 arrived with a stain", "order_id": "A-1001"},
		},
		{
			name:     "the agent's built-in tool",
			schema:   `{"type":"object","properties":{"title":{"type":"string"},"summary":{"type":"string"}},"required":["title","summary"]}`,
			question: "My poncho arrived damaged",
			want:     map[string]string{"title": "Customer reports a problem", "summary": "My poncho arrived damaged"},
		},
		{
			name:     "enums and language",
			schema:   `{"type":"object","properties":{"subject":{"type":"string"},"category":{"type":"string","enum":["billing","complaint","other"]},"lang":{"type":"string"},"count":{"type":"integer"}}}`,
			question: "Mi pedido no llegó",
			want:     map[string]string{"subject": "El cliente reporta un problema", "category": "complaint", "lang": "es"},
		},
		{
			name:     "no schema",
			schema:   ``,
			question: "the scarf is broken",
			want:     map[string]string{"summary": "Customer reports a problem", "description": "the scarf is broken"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := user(tc.question)
			req.Tools = []llm.Tool{orderDef, {Name: ticketTool, Parameters: json.RawMessage(tc.schema)}}
			c := toolCall(t, ask(t, req))
			assert.Equal(t, ticketTool, c.Name)
			var got map[string]string
			require.NoError(t, json.Unmarshal(c.Args, &got))
			assert.Equal(t, tc.want, got)
		})
	}

	t.Run("without a ticket tool", func(t *testing.T) {
		got := ask(t, user("the scarf is broken")).Message.Text()
		assert.Contains(t, got, "cannot open a ticket")
		assert.Contains(t, got, "talk to a person")
	})
	t.Run("the result", func(t *testing.T) {
		for content, want := range map[string]string{
			`{"ticket_id":42,"status":"open"}`: "I am sorry about that. I opened ticket 42 for you; our team will follow up in this chat.",
			`{"number":"T-1042","title":"x"}`:  "I am sorry about that. I opened ticket T-1042 for you; our team will follow up in this chat.",
			`T-99`:                             "I am sorry about that. I opened ticket T-99 for you; our team will follow up in this chat.",
		} {
			req := user("the scarf is broken")
			req.Messages = append(req.Messages, llm.Message{Role: llm.ToolRole, Parts: []llm.Part{llm.ToolResultPart(llm.ToolResult{CallID: "c1", Name: ticketTool, Content: content})}})
			assert.Equal(t, want, ask(t, req).Message.Text())
		}
		req := user("la chalina está rota")
		req.Messages = append(req.Messages, llm.Message{Role: llm.ToolRole, Parts: []llm.Part{llm.ToolResultPart(llm.ToolResult{CallID: "c1", Name: ticketTool, Content: "down", IsError: true})}})
		assert.Contains(t, ask(t, req).Message.Text(), "no pude abrir el reclamo")
	})
}

func TestOfflineModelHandsOff(t *testing.T) {
	for _, q := range []string{"I want a human", "necesito un asesor por favor", "can you connect me to an agent"} {
		t.Run(q, func(t *testing.T) {
			req := user(q)
			req.Tools = []llm.Tool{orderDef, handoffDef}
			c := toolCall(t, ask(t, req))
			assert.Equal(t, handoffTool, c.Name)
			req.Tools = []llm.Tool{orderDef}
			assert.Regexp(t, `talk to a person|hablar con una persona`, ask(t, req).Message.Text(), "no handoff tool: tells how")
		})
	}
	req := user("is a human reading this?")
	req.Tools = []llm.Tool{handoffDef}
	assert.Equal(t, llm.FinishStop, ask(t, req).FinishReason, "a question about humans is not a request for one")
}

func TestOfflineModelContract(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := offlineModel{}.Generate(ctx, user("hi"))
	assert.ErrorIs(t, err, context.Canceled)
	_, err = offlineModel{}.Generate(t.Context(), &llm.Request{})
	assert.ErrorIs(t, err, llm.ErrInvalidRequest)
	assert.Equal(t, offlineName, offlineModel{}.Name())

	req := user("hola")
	before, _ := json.Marshal(req)
	ask(t, req)
	after, _ := json.Marshal(req)
	assert.JSONEq(t, string(before), string(after), "Generate does not modify the request")
}

func TestDetect(t *testing.T) {
	for s, want := range map[string]lang{
		"Do you ship to Lima?":     english,
		"¿Envían a Lima?":          spanish,
		"quiero una chompa":        spanish,
		"hi":                       english,
		"mi pedido":                spanish,
		"what is the price of it?": english,
	} {
		assert.Equal(t, want, detect(s), s)
	}
}

// fakeTicket is the argument of a ticket tool of the host's own, with
// other field names than the agent's built-in one.
type fakeTicket struct {
	Subject     string `json:"subject" description:"Short summary"`
	Description string `json:"description" description:"What the customer reports"`
	Priority    string `json:"priority" enum:"low,normal,high"`
}

// A create_ticket tool that is not the agent's built-in one works as well:
// the offline model fills its arguments from the schema.
func TestOfflineModelUsesAnyTicketTool(t *testing.T) {
	var mu sync.Mutex
	var got []fakeTicket
	tickets := agent.NewTool(ticketTool, "Open a support ticket for a problem the customer reports",
		func(ctx context.Context, in fakeTicket) (map[string]string, error) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, in)
			return map[string]string{"id": "T-7", "status": "open"}, nil
		})
	web := channeltest.NewRecorder(channel.WebWidget)
	a, err := agent.New(agent.Config{
		// The memory store keeps tickets too; hiding its capabilities
		// leaves the agent without built-in ticket tools.
		Store:          struct{ store.ConversationStore }{memory.New(nil)},
		Model:          offlineModel{},
		Channels:       []channel.Channel{web},
		Tools:          []agent.Tool{tickets},
		CoalesceWindow: -1,
	})
	require.NoError(t, err)
	go a.Run(t.Context())
	t.Cleanup(func() { require.NoError(t, a.Shutdown(context.Background())) })

	err = a.Receive(t.Context(), channel.Inbound{Messages: []channel.Message{{
		ID: "m-1", From: channel.Address{Channel: channel.WebWidget, Tenant: site, User: "visitor-1"},
		Type: channel.TypeText, Text: "La chompa llegó con una mancha",
	}}})
	require.NoError(t, err)
	sent, err := web.Wait(t.Context(), 1)
	require.NoError(t, err)
	assert.Equal(t, channel.Text("Lamento lo ocurrido. Abrí el reclamo T-7; nuestro equipo te responderá en este chat."), sent[0].Text)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 1)
	assert.Equal(t, fakeTicket{Subject: "El cliente reporta un problema", Description: "La chompa llegó con una mancha", Priority: "normal"}, got[0])
}

func BenchmarkOfflineModel(b *testing.B) {
	req := user("hola, ¿hacen envíos a Cusco? ¿y cuánto cuesta la chompa?")
	req.Tools = []llm.Tool{orderDef, handoffDef}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (offlineModel{}).Generate(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
