package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/agent"
	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/commerce"
	"github.com/wagent/wagent/llm"
	"github.com/wagent/wagent/llm/llmtest"
	"github.com/wagent/wagent/store"
)

func call(name, args string) llm.ToolCall {
	return llm.ToolCall{ID: "call_" + name, Name: name, Args: json.RawMessage(args)}
}

// results returns the tool results the request ends with.
func results(t *testing.T, req *llm.Request) []llm.ToolResult {
	t.Helper()
	require.NotEmpty(t, req.Messages)
	var out []llm.ToolResult
	for _, p := range req.Messages[len(req.Messages)-1].Parts {
		if p.ToolResult != nil {
			out = append(out, *p.ToolResult)
		}
	}
	require.NotEmpty(t, out, "the request ends with tool results")
	return out
}

// lastResult returns the result of the last tool call the model saw.
func (f *fixture) lastResult(t *testing.T) llm.ToolResult {
	t.Helper()
	reqs := f.model.Requests()
	r := results(t, reqs[len(reqs)-1])
	return r[len(r)-1]
}

func TestTicketLifecycleThroughTools(t *testing.T) {
	f := setup(t, nil)
	const user = "51900000101"

	// The customer reports a problem: the model opens a ticket.
	f.model.Push(
		llmtest.ToolCalls(call("create_ticket", `{"title":"Mug arrived broken","summary":"The blue mug of order 1001 arrived broken; the customer wants a replacement."}`)),
		llmtest.Reply("I opened ticket T-1001 for you."),
	)
	f.receive(t, text("wamid.1", user, "my mug arrived broken"))
	require.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome)
	created := f.lastResult(t)
	require.False(t, created.IsError, created.Content)
	assert.Contains(t, created.Content, `"number":"T-1001"`)
	assert.Contains(t, created.Content, `"status":"open"`)

	conv, err := f.store.OpenConversation(t.Context(), addr(user))
	require.NoError(t, err)
	tk, err := f.store.Ticket(t.Context(), tenant, "T-1001")
	require.NoError(t, err)
	assert.Equal(t, conv.Subject, tk.Subject, "the ticket is the customer's")
	assert.Equal(t, conv.ID, tk.Conversation, "the ticket is linked to the conversation")
	assert.Equal(t, "Mug arrived broken", tk.Title)

	// More information goes to the ticket as a note.
	f.model.Push(
		llmtest.ToolCalls(call("add_ticket_note", `{"number":"t-1001","text":"Customer sent a photo of the broken mug."}`)),
		llmtest.Reply("Added to your case."),
	)
	f.receive(t, text("wamid.2", user, "I sent a photo"))
	f.waitTurns(t, 1)
	noted := f.lastResult(t)
	require.False(t, noted.IsError, noted.Content)
	tk, err = f.store.Ticket(t.Context(), tenant, "T-1001")
	require.NoError(t, err)
	require.Len(t, tk.Notes, 1)
	assert.Equal(t, store.TicketNote{Author: "assistant", Text: "Customer sent a photo of the broken mug.", Time: tk.Notes[0].Time}, tk.Notes[0])

	// The team works on it; later the customer asks how it went.
	_, err = f.store.AddTicketNote(t.Context(), tenant, "T-1001", store.TicketNote{Author: "Lucía", Text: "Replacement shipped."})
	require.NoError(t, err)
	_, err = f.store.SetTicketStatus(t.Context(), tenant, "T-1001", store.TicketResolved)
	require.NoError(t, err)
	f.model.Push(
		llmtest.ToolCalls(call("ticket_status", `{}`)),
		llmtest.Func(func(_ context.Context, req *llm.Request) (*llm.Response, error) {
			r := results(t, req)[0]
			var got struct {
				Tickets []struct {
					Number string
					Status string
					Notes  []store.TicketNote
				}
			}
			if err := json.Unmarshal([]byte(r.Content), &got); err != nil || len(got.Tickets) != 1 {
				return nil, errors.New("unexpected ticket_status result")
			}
			last := got.Tickets[0].Notes[len(got.Tickets[0].Notes)-1]
			return &llm.Response{Message: llm.AssistantText("Your case " + got.Tickets[0].Number + " is " + got.Tickets[0].Status + ": " + last.Text), FinishReason: llm.FinishStop}, nil
		}),
	)
	f.receive(t, text("wamid.3", user, "what happened with my case?"))
	require.Equal(t, agent.Answered, f.waitTurns(t, 1)[0].Outcome)
	sent := f.ch.Sent()
	assert.Equal(t, channel.Text("Your case T-1001 is resolved: Replacement shipped."), sent[len(sent)-1].Text,
		"the customer learns the ticket's status from ticket_status without giving its number")
}

func TestTicketToolsAreScopedToTheCustomer(t *testing.T) {
	f := setup(t, nil)
	const alice, bob = "51900000111", "51900000112"
	f.model.Push(llmtest.ToolCalls(call("create_ticket", `{"title":"Refund","summary":"Alice wants a refund."}`)), llmtest.Reply("ok"))
	f.receive(t, text("wamid.a1", alice, "refund please"))
	f.waitTurns(t, 1)

	// Another tenant's ticket with the next number Bob might guess.
	other := channel.Address{Channel: channel.WhatsApp, Tenant: "another-shop", User: bob}
	oc, err := f.store.OpenConversation(t.Context(), other)
	require.NoError(t, err)
	_, err = f.store.CreateTicket(t.Context(), store.NewTicket{Tenant: "another-shop", Subject: oc.Subject, Title: "Elsewhere"})
	require.NoError(t, err)

	tests := []struct {
		name, args string
		tool       string
	}{
		{"status of another customer's ticket", `{"number":"T-1001"}`, "ticket_status"},
		{"note on another customer's ticket", `{"number":"T-1001","text":"I am Alice, give me the refund"}`, "add_ticket_note"},
		{"a number that exists only in another tenant", `{"number":"T-1002"}`, "ticket_status"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.model.Push(llmtest.ToolCalls(call(tt.tool, tt.args)), llmtest.Reply("sorry"))
			f.receive(t, text("wamid.b"+string(rune('0'+i)), bob, "what about T-1001?"))
			f.waitTurns(t, 1)
			r := f.lastResult(t)
			assert.True(t, r.IsError, "Bob gets an error, not the ticket")
			assert.NotContains(t, r.Content, "Refund")
			assert.NotContains(t, r.Content, "Alice")
			assert.NotContains(t, r.Content, "Elsewhere")
		})
	}
	tk, err := f.store.Ticket(t.Context(), tenant, "T-1001")
	require.NoError(t, err)
	assert.Empty(t, tk.Notes, "Bob's note never reached Alice's ticket")

	// Bob's own list is empty.
	f.model.Push(llmtest.ToolCalls(call("ticket_status", `{}`)), llmtest.Reply("none"))
	f.receive(t, text("wamid.b9", bob, "my cases?"))
	f.waitTurns(t, 1)
	assert.JSONEq(t, `{"tickets":[]}`, f.lastResult(t).Content)
}

func newShop(t *testing.T) *commerce.Memory {
	t.Helper()
	shop := &commerce.Memory{}
	require.NoError(t, shop.SetProduct(tenant, commerce.Product{ID: "mug-01", Name: "Taza azul", Description: "Cerámica 350 ml", Price: commerce.Money{Amount: 2990, Currency: "PEN"}, Stock: 10}))
	require.NoError(t, shop.SetProduct(tenant, commerce.Product{ID: "tee-02", Name: "Polo algodón", Price: commerce.Money{Amount: 4500, Currency: "PEN"}, Stock: -1}))
	return shop
}

func cart(id, user string) channel.Message {
	m := text(id, user, "")
	m.Type, m.Text = channel.TypeOrder, ""
	m.Order = &channel.Order{CatalogID: "cat-1", Text: "para el sábado", Items: []channel.OrderItem{
		{ProductID: "mug-01", Quantity: 2, UnitPrice: 29.9, Currency: "PEN"},
		{ProductID: "tee-02", Quantity: 1, UnitPrice: 45, Currency: "PEN"},
	}}
	return m
}

func TestCartMessageBecomesOneOrder(t *testing.T) {
	shop := newShop(t)
	var mu sync.Mutex
	var systems []string
	answer := llmtest.Func(func(_ context.Context, req *llm.Request) (*llm.Response, error) {
		mu.Lock()
		systems = append(systems, req.System)
		mu.Unlock()
		return &llm.Response{Message: llm.AssistantText("¡Gracias por tu pedido!"), FinishReason: llm.FinishStop}, nil
	})
	f := setup(t, func(c *agent.Config) {
		c.Orders, c.RetryDelay, c.RecoveryInterval = shop, time.Millisecond, 5*time.Millisecond
	},
		// The first attempt fails after the order was placed; the retry
		// must find the same order.
		llmtest.Fail(&llm.Error{Provider: "scripted", Kind: llm.ErrUnavailable}),
		answer)
	const user = "51900000121"
	f.receive(t, cart("wamid.cart1", user))
	turns := f.waitTurns(t, 2)
	assert.Equal(t, agent.Retrying, turns[0].Outcome)
	assert.Equal(t, agent.Answered, turns[1].Outcome)

	// The webhook is delivered again.
	f.receive(t, cart("wamid.cart1", user))
	assert.Equal(t, int64(1), f.agent.Stats().Duplicates)

	conv, err := f.store.OpenConversation(t.Context(), addr(user))
	require.NoError(t, err)
	orders, err := shop.CustomerOrders(t.Context(), tenant, conv.Subject, 10)
	require.NoError(t, err)
	require.Len(t, orders, 1, "a cart becomes one order, however often it is processed or delivered")
	o := orders[0]
	assert.Equal(t, conv.ID, o.Conversation)
	assert.Equal(t, "whatsapp:wamid.cart1", o.Key)
	assert.Equal(t, "para el sábado", o.Note)
	assert.Equal(t, commerce.Money{Amount: 2*2990 + 4500, Currency: "PEN"}, o.Total)
	p, err := shop.Product(t.Context(), tenant, "mug-01")
	require.NoError(t, err)
	assert.Equal(t, 8, p.Stock, "stock taken once")

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, systems, 1)
	assert.Contains(t, systems[0], "You are the assistant of Tienda Sol.")
	assert.Contains(t, systems[0], "order "+string(o.ID)+", status pending, total PEN 104.80", "the model is told about the order")
}

func TestCartOutOfStockIsExplainedToTheModel(t *testing.T) {
	shop := &commerce.Memory{}
	require.NoError(t, shop.SetProduct(tenant, commerce.Product{ID: "mug-01", Name: "Taza", Price: commerce.Money{Amount: 2990, Currency: "PEN"}, Stock: 1}))
	require.NoError(t, shop.SetProduct(tenant, commerce.Product{ID: "tee-02", Name: "Polo", Price: commerce.Money{Amount: 4500, Currency: "PEN"}, Stock: 1}))
	f := setup(t, func(c *agent.Config) { c.Orders = shop }, llmtest.Reply("Lo siento, no hay stock."))
	f.receive(t, cart("wamid.cart2", "51900000122"))
	f.waitTurns(t, 1)
	assert.Contains(t, f.model.Requests()[0].System, "could not be ordered: not enough stock")
	conv, err := f.store.OpenConversation(t.Context(), addr("51900000122"))
	require.NoError(t, err)
	orders, err := shop.CustomerOrders(t.Context(), tenant, conv.Subject, 10)
	require.NoError(t, err)
	assert.Empty(t, orders)
}

func TestCommerceTools(t *testing.T) {
	shop := newShop(t)
	f := setup(t, func(c *agent.Config) { c.Catalog, c.Orders = shop, shop })
	const user, other = "51900000131", "51900000132"
	step := func(id, user, body string, c llm.ToolCall) llm.ToolResult {
		t.Helper()
		f.model.Push(llmtest.ToolCalls(c), llmtest.Reply("ok"))
		f.receive(t, text(id, user, body))
		f.waitTurns(t, 1)
		return f.lastResult(t)
	}

	r := step("wamid.c1", user, "¿tienen tazas?", call("search_products", `{"query":"taza"}`))
	require.False(t, r.IsError, r.Content)
	assert.JSONEq(t, `{"products":[{"id":"mug-01","name":"Taza azul","description":"Cerámica 350 ml","price":"PEN 29.90","in_stock":true,"stock":10}]}`, r.Content)

	r = step("wamid.c2", user, "¿y el polo?", call("product_details", `{"product_id":"tee-02"}`))
	assert.JSONEq(t, `{"id":"tee-02","name":"Polo algodón","price":"PEN 45.00","in_stock":true}`, r.Content)

	r = step("wamid.c3", user, "quiero 3 tazas", call("create_order", `{"items":[{"product_id":"mug-01","quantity":3}]}`))
	require.False(t, r.IsError, r.Content)
	var placed struct {
		OrderID string `json:"order_id"`
		Total   string `json:"total"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Content), &placed))
	assert.Equal(t, "PEN 89.70", placed.Total)

	r = step("wamid.c4", user, "¿cómo va mi pedido?", call("order_status", `{}`))
	assert.Contains(t, r.Content, `"order_id":"`+placed.OrderID+`"`)
	assert.Contains(t, r.Content, `"status":"pending"`)

	// Another customer can neither see nor cancel it.
	r = step("wamid.x1", other, "estado del pedido "+placed.OrderID, call("order_status", `{"order_id":"`+placed.OrderID+`"}`))
	assert.True(t, r.IsError)
	assert.NotContains(t, r.Content, "PEN")
	r = step("wamid.x2", other, "cancela "+placed.OrderID, call("cancel_order", `{"order_id":"`+placed.OrderID+`"}`))
	assert.True(t, r.IsError)
	o, err := shop.Order(t.Context(), tenant, commerce.OrderID(placed.OrderID))
	require.NoError(t, err)
	assert.Equal(t, commerce.OrderPending, o.Status, "another customer cannot cancel the order")

	r = step("wamid.c5", user, "cancélalo", call("cancel_order", `{"order_id":"#`+placed.OrderID+`"}`))
	require.False(t, r.IsError, r.Content)
	assert.Contains(t, r.Content, `"status":"cancelled"`)

	r = step("wamid.c6", user, "quiero 99 tazas", call("create_order", `{"items":[{"product_id":"mug-01","quantity":99}]}`))
	assert.True(t, r.IsError)
	assert.Equal(t, "not enough stock for one of the products", r.Content)
}

func TestBusinessProfileGoesIntoTheInstructions(t *testing.T) {
	f := setup(t, func(c *agent.Config) {
		c.Business = func(tn channel.TenantID) agent.BusinessProfile {
			if tn != tenant {
				return agent.BusinessProfile{}
			}
			return agent.BusinessProfile{Name: "Tienda Sol", Returns: "30 days, unused, with receipt.", Shipping: "Lima 24 h, provinces 72 h.", Hours: "Mon-Sat 9-19", Tone: "Warm, brief, use tú."}
		}
	}, llmtest.Reply("hola"))
	f.receive(t, text("wamid.p1", "51900000141", "¿cuál es su política de cambios?"))
	f.waitTurns(t, 1)
	sys := f.model.Requests()[0].System
	assert.True(t, strings.HasPrefix(sys, "You are the assistant of Tienda Sol.\n\n"), sys)
	for _, want := range []string{"Business: Tienda Sol", "Returns policy: 30 days, unused, with receipt.", "Shipping policy: Lima 24 h, provinces 72 h.", "Opening hours: Mon-Sat 9-19", "Tone: Warm, brief, use tú."} {
		assert.Contains(t, sys, want)
	}
	assert.NotContains(t, sys, "Payment", "empty fields are left out")
}

func TestNewRejectsBadSupportConfig(t *testing.T) {
	base := func() agent.Config {
		return agent.Config{Store: newMemory(), Model: llmtest.NewScripted(), Channels: []channel.Channel{newRecorder()}}
	}
	clash := base()
	clash.Tools = []agent.Tool{agent.NewTool("create_ticket", "mine", func(context.Context, struct{}) (string, error) { return "", nil })}
	_, err := agent.New(clash)
	assert.ErrorContains(t, err, `tool name "create_ticket" is a built-in tool`)
	clash.DisableTickets = true
	_, err = agent.New(clash)
	assert.NoError(t, err, "with the ticket tools disabled the host may use the name")

	rules := base()
	rules.Routing = agent.RoutingConfig{HandoffIntents: []string{"complaint"}, MaxFailures: -1}
	rules.Intents.Intents = []agent.Intent{{Name: "Bad Name"}, {Name: "ok"}, {Name: "ok"}}
	_, err = agent.New(rules)
	require.Error(t, err)
	for _, want := range []string{"HandoffIntents needs Config.Intents.Enabled", "MaxFailures must not be negative", `name "Bad Name"`, `"ok" twice`} {
		assert.ErrorContains(t, err, want)
	}
}

func TestCartIsOrderedWhileAHumanOwnsTheConversation(t *testing.T) {
	shop := newShop(t)
	f := setup(t, func(c *agent.Config) { c.Orders = shop })
	const user = "51900000151"
	conv, err := f.store.OpenConversation(t.Context(), addr(user))
	require.NoError(t, err)
	_, err = f.agent.Claim(t.Context(), tenant, conv.ID, "lucia")
	require.NoError(t, err)
	f.receive(t, cart("wamid.cart3", user))
	ti := f.waitTurns(t, 1)[0]
	assert.Equal(t, agent.Skipped, ti.Outcome, "the AI does not answer")
	assert.Zero(t, f.model.Calls())
	orders, err := shop.CustomerOrders(t.Context(), tenant, conv.Subject, 10)
	require.NoError(t, err)
	assert.Len(t, orders, 1, "the cart still becomes an order, for the operator to follow up")
}

func TestSupportDataExportsTicketsAndTags(t *testing.T) {
	f := setup(t, func(c *agent.Config) { c.Intents.Enabled = true },
		classifier(`{"intent":"complaint","sentiment":"negative","order_number":"1001","product":"","email":"rosa@example.com","date":""}`),
		llmtest.ToolCalls(call("create_ticket", `{"title":"Broken mug","summary":"Arrived broken."}`)),
		llmtest.Reply("Ticket T-1001 opened."))
	const user = "51900000161"
	f.receive(t, text("wamid.e1", user, "my mug arrived broken, rosa@example.com"))
	ti := f.waitTurns(t, 1)[0]
	conv, err := f.store.OpenConversation(t.Context(), addr(user))
	require.NoError(t, err)
	// Another customer's ticket stays out of the export.
	oc, err := f.store.OpenConversation(t.Context(), addr("51900000162"))
	require.NoError(t, err)
	_, err = f.store.CreateTicket(t.Context(), store.NewTicket{Tenant: tenant, Subject: oc.Subject, Title: "Not Rosa's"})
	require.NoError(t, err)

	d := agent.SupportData{Tickets: f.store, Store: f.store}
	raw, err := d.ExportSubject(t.Context(), tenant, conv.Subject)
	require.NoError(t, err)
	var got struct {
		Tickets []store.Ticket `json:"tickets"`
		Tags    []struct {
			Message store.MessageID `json:"message"`
			Tags    store.Tags      `json:"tags"`
		} `json:"message_tags"`
	}
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Len(t, got.Tickets, 1)
	assert.Equal(t, "Broken mug", got.Tickets[0].Title)
	require.Len(t, got.Tags, 1)
	assert.Equal(t, ti.Message, got.Tags[0].Message)
	assert.Equal(t, "rosa@example.com", got.Tags[0].Tags.Email)

	// After an erasure there is nothing left to export.
	_, err = f.store.Erase(t.Context(), tenant, conv.Subject)
	require.NoError(t, err)
	raw, err = d.ExportSubject(t.Context(), tenant, conv.Subject)
	require.NoError(t, err)
	assert.JSONEq(t, `{"tickets":[],"message_tags":[]}`, string(raw))
}
