package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/commerce"
	"github.com/wagent/wagent/store"
)

// The built-in tools of tickets and commerce.
const (
	createTicketTool  = "create_ticket"
	ticketStatusTool  = "ticket_status"
	addTicketNoteTool = "add_ticket_note"
	searchTool        = "search_products"
	productTool       = "product_details"
	createOrderTool   = "create_order"
	orderStatusTool   = "order_status"
	cancelOrderTool   = "cancel_order"
)

// BusinessProfile describes a tenant's business to the model: it is added
// to the instructions of the tenant's conversations. Empty fields are left
// out.
type BusinessProfile struct {
	// Name is the business's name.
	Name string
	// About says what the business is and sells.
	About string
	// Products highlights products, ranges or offers.
	Products string
	// Returns, Shipping, Payment and Hours are the business's policies.
	Returns  string
	Shipping string
	Payment  string
	Hours    string
	// Tone is how the assistant should speak ("warm and brief, use tú").
	Tone string
	// Extra is any other instruction for this business.
	Extra string
}

// render returns p as a section of the instructions.
func (p BusinessProfile) render() string {
	var b strings.Builder
	for _, f := range [...]struct{ label, v string }{
		{"Business", p.Name}, {"About the business", p.About}, {"Products", p.Products},
		{"Returns policy", p.Returns}, {"Shipping policy", p.Shipping}, {"Payment", p.Payment},
		{"Opening hours", p.Hours}, {"Tone", p.Tone}, {"Also", p.Extra},
	} {
		if v := strings.TrimSpace(f.v); v != "" {
			b.WriteString(f.label)
			b.WriteString(": ")
			b.WriteString(v)
			b.WriteString("\n")
		}
	}
	return b.String()
}

// ticketSystem returns the ticket system of the agent, or nil.
func (c Config) ticketSystem() store.TicketSystem {
	if c.DisableTickets {
		return nil
	}
	if c.Tickets != nil {
		return c.Tickets
	}
	ts, _ := store.Capability[store.TicketSystem](c.Store)
	return ts
}

// supportToolNames returns the names of the built-in tools c turns on.
func (c Config) supportToolNames() []string {
	var names []string
	if c.ticketSystem() != nil {
		names = append(names, createTicketTool, ticketStatusTool, addTicketNoteTool)
	}
	if c.Catalog != nil {
		names = append(names, searchTool, productTool)
	}
	if c.Orders != nil {
		names = append(names, createOrderTool, orderStatusTool, cancelOrderTool)
	}
	return names
}

// checkSupport reports the problems of the tickets, commerce, intents and
// routing configuration; names are the host's tools.
func (c Config) checkSupport(names map[string]bool) []error {
	var errs []error
	for _, n := range c.supportToolNames() {
		if names[n] {
			errs = append(errs, fmt.Errorf("agent: tool name %q is a built-in tool of tickets or commerce", n))
		}
	}
	errs = append(errs, c.Intents.check()...)
	if c.Routing.MaxFailures < 0 {
		errs = append(errs, errors.New("agent: Config.Routing.MaxFailures must not be negative"))
	}
	if len(c.Routing.HandoffIntents) > 0 && !c.Intents.Enabled {
		errs = append(errs, errors.New("agent: Config.Routing.HandoffIntents needs Config.Intents.Enabled"))
	}
	if c.Routing.HandoffOnNegative && !c.Intents.Enabled {
		errs = append(errs, errors.New("agent: Config.Routing.HandoffOnNegative needs Config.Intents.Enabled"))
	}
	return errs
}

// addSupportTools registers the built-in tools of tickets and commerce.
func (a *Agent) addSupportTools() {
	var tools []Tool
	if ts := a.cfg.ticketSystem(); ts != nil {
		tools = append(tools, ticketTools(ts)...)
	}
	if a.cfg.Catalog != nil {
		tools = append(tools, catalogTools(a.cfg.Catalog)...)
	}
	if a.cfg.Orders != nil {
		tools = append(tools, orderTools(a.cfg.Orders)...)
	}
	for _, t := range tools {
		def := t.Definition()
		a.tools[def.Name] = t
		a.toolDefs = append(a.toolDefs, def)
	}
}

// errNoTurn is returned by a built-in tool called outside a turn.
var errNoTurn = errors.New("agent: the tool was called outside a conversation")

// ticketView is a ticket as the model sees it.
type ticketView struct {
	Number    store.TicketNumber `json:"number"`
	Title     string             `json:"title"`
	Summary   string             `json:"summary,omitempty"`
	Status    store.TicketStatus `json:"status"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
	Notes     []store.TicketNote `json:"notes,omitempty"`
}

func viewTicket(t store.Ticket) ticketView {
	return ticketView{Number: t.Number, Title: t.Title, Summary: t.Summary, Status: t.Status, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Notes: t.Notes}
}

type createTicketArgs struct {
	Title   string `json:"title" description:"A short subject line for the case, such as 'Order arrived damaged'."`
	Summary string `json:"summary" description:"What happened and what the customer asks for, in a few sentences."`
}

type ticketStatusArgs struct {
	Number string `json:"number,omitempty" description:"The ticket number, such as T-1042. Leave it out to get the customer's latest tickets."`
}

type ticketNoteArgs struct {
	Number string `json:"number" description:"The ticket number, such as T-1042."`
	Text   string `json:"text" description:"What to add to the case: new facts from the customer."`
}

// customerTicket returns the ticket number of the turn's customer;
// another customer's ticket is reported as unknown, as a missing one is.
func customerTicket(ctx context.Context, ts store.TicketSystem, tr Turn, number string) (store.Ticket, error) {
	n, ok := store.ParseTicketNumber(number)
	if !ok { // a helpdesk of the host's may number tickets its own way
		n = store.TicketNumber(strings.TrimSpace(number))
	}
	if n == "" {
		return store.Ticket{}, errors.New("a ticket number is required")
	}
	tk, err := ts.Ticket(ctx, tr.Tenant, n)
	if errors.Is(err, store.ErrNotFound) || (err == nil && tk.Subject != tr.Subject) {
		return store.Ticket{}, fmt.Errorf("this customer has no ticket %s", n)
	}
	return tk, err
}

func ticketTools(ts store.TicketSystem) []Tool {
	return []Tool{
		NewTool(createTicketTool, "Open a support ticket for the customer when their problem needs follow-up by the team (a damaged or missing item, a refund, a complaint). Tell the customer the ticket number.",
			func(ctx context.Context, in createTicketArgs) (ticketView, error) {
				tr, ok := TurnFrom(ctx)
				if !ok {
					return ticketView{}, errNoTurn
				}
				tk, err := ts.CreateTicket(ctx, store.NewTicket{Tenant: tr.Tenant, Subject: tr.Subject, Conversation: tr.Conversation, Title: in.Title, Summary: in.Summary})
				if errors.Is(err, store.ErrInvalid) {
					return ticketView{}, fmt.Errorf("the ticket needs a title of at most %d characters and a summary of at most %d", store.MaxTicketTitle, store.MaxTicketSummary)
				}
				return viewTicket(tk), err
			}),
		NewTool(ticketStatusTool, "Look up the customer's support tickets: one by its number, or, without a number, their latest ones (when they ask what happened with their case).",
			func(ctx context.Context, in ticketStatusArgs) (any, error) {
				tr, ok := TurnFrom(ctx)
				if !ok {
					return nil, errNoTurn
				}
				if strings.TrimSpace(in.Number) != "" {
					tk, err := customerTicket(ctx, ts, tr, in.Number)
					if err != nil {
						return nil, err
					}
					return viewTicket(tk), nil
				}
				list, err := ts.Tickets(ctx, store.TicketQuery{Tenant: tr.Tenant, Subject: tr.Subject, Limit: 5})
				if err != nil {
					return nil, err
				}
				views := make([]ticketView, len(list))
				for i, tk := range list {
					views[i] = viewTicket(tk)
				}
				return struct {
					Tickets []ticketView `json:"tickets"`
				}{views}, nil
			}),
		NewTool(addTicketNoteTool, "Add information the customer gives to one of their open tickets.",
			func(ctx context.Context, in ticketNoteArgs) (ticketView, error) {
				tr, ok := TurnFrom(ctx)
				if !ok {
					return ticketView{}, errNoTurn
				}
				tk, err := customerTicket(ctx, ts, tr, in.Number)
				if err != nil {
					return ticketView{}, err
				}
				tk, err = ts.AddTicketNote(ctx, tr.Tenant, tk.Number, store.TicketNote{Author: "assistant", Text: in.Text})
				if errors.Is(err, store.ErrInvalid) {
					return ticketView{}, fmt.Errorf("the note must not be empty nor longer than %d characters", store.MaxTicketNote)
				}
				return viewTicket(tk), err
			}),
	}
}

type searchArgs struct {
	Query string `json:"query" description:"Words to look for in product names and descriptions."`
}

type productArgs struct {
	ProductID string `json:"product_id" description:"The product's id, as search_products returns it."`
}

// productView is a product as the model sees it.
type productView struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Price       string `json:"price"`
	InStock     bool   `json:"in_stock"`
	Stock       *int   `json:"stock,omitempty"`
	URL         string `json:"url,omitempty"`
}

func viewProduct(p commerce.Product) productView {
	v := productView{ID: p.ID, Name: p.Name, Description: p.Description, Price: p.Price.String(), InStock: p.Available(1), URL: p.URL}
	if p.Stock >= 0 {
		v.Stock = &p.Stock
	}
	return v
}

func catalogTools(c commerce.Catalog) []Tool {
	return []Tool{
		NewTool(searchTool, "Search the business's products by words of their name or description. Returns ids, names, prices and availability.",
			func(ctx context.Context, in searchArgs) (any, error) {
				tr, ok := TurnFrom(ctx)
				if !ok {
					return nil, errNoTurn
				}
				ps, err := c.SearchProducts(ctx, tr.Tenant, in.Query, 8)
				if err != nil {
					return nil, commerceError(err)
				}
				views := make([]productView, len(ps))
				for i, p := range ps {
					views[i] = viewProduct(p)
				}
				return struct {
					Products []productView `json:"products"`
				}{views}, nil
			}),
		NewTool(productTool, "Details of one product: description, current price and stock.",
			func(ctx context.Context, in productArgs) (productView, error) {
				tr, ok := TurnFrom(ctx)
				if !ok {
					return productView{}, errNoTurn
				}
				p, err := c.Product(ctx, tr.Tenant, in.ProductID)
				if err != nil {
					return productView{}, commerceError(err)
				}
				return viewProduct(p), nil
			}),
	}
}

type orderItemArgs struct {
	ProductID string `json:"product_id" description:"The product's id."`
	Quantity  int    `json:"quantity" description:"How many, at least 1."`
}

type createOrderArgs struct {
	Items []orderItemArgs `json:"items" description:"The products and quantities the customer confirmed."`
	Note  string          `json:"note,omitempty" description:"Delivery or other instructions from the customer."`
}

type orderArgs struct {
	OrderID string `json:"order_id,omitempty" description:"The order number. Leave it out to get the customer's latest orders."`
}

type cancelArgs struct {
	OrderID string `json:"order_id" description:"The order number to cancel."`
}

// orderView is an order as the model sees it.
type orderView struct {
	ID        commerce.OrderID     `json:"order_id"`
	Status    commerce.OrderStatus `json:"status"`
	Items     []orderItemView      `json:"items"`
	Total     string               `json:"total"`
	CreatedAt time.Time            `json:"created_at"`
}

type orderItemView struct {
	ProductID string `json:"product_id"`
	Name      string `json:"name,omitempty"`
	Quantity  int    `json:"quantity"`
	UnitPrice string `json:"unit_price"`
}

func viewOrder(o commerce.Order) orderView {
	v := orderView{ID: o.ID, Status: o.Status, Total: o.Total.String(), CreatedAt: o.CreatedAt}
	for _, it := range o.Items {
		v.Items = append(v.Items, orderItemView{ProductID: it.ProductID, Name: it.Name, Quantity: it.Quantity, UnitPrice: it.UnitPrice.String()})
	}
	return v
}

// commerceError returns what the model is told of a shop's error: the
// sentinel's meaning, never the shop's own text.
func commerceError(err error) error {
	switch {
	case errors.Is(err, commerce.ErrNotFound):
		return errors.New("not found")
	case errors.Is(err, commerce.ErrOutOfStock):
		return errors.New("not enough stock for one of the products")
	case errors.Is(err, commerce.ErrNotCancellable):
		return errors.New("the order can no longer be cancelled (it has shipped or been delivered)")
	case errors.Is(err, commerce.ErrInvalid):
		return errors.New("invalid order: every item needs a product id and a quantity of at least 1")
	}
	return err
}

// customerOrder returns the order id of the turn's customer; another
// customer's order is reported as not found, as a missing one is.
func customerOrder(ctx context.Context, o commerce.Orders, tr Turn, id string) (commerce.Order, error) {
	id = strings.TrimPrefix(strings.TrimSpace(id), "#")
	ord, err := o.Order(ctx, tr.Tenant, commerce.OrderID(id))
	if errors.Is(err, commerce.ErrNotFound) || (err == nil && ord.Customer != tr.Subject) {
		return commerce.Order{}, fmt.Errorf("this customer has no order %q", id)
	}
	if err != nil {
		return commerce.Order{}, commerceError(err)
	}
	return ord, nil
}

func orderTools(o commerce.Orders) []Tool {
	return []Tool{
		NewTool(createOrderTool, "Place an order for the customer, once they confirmed the products and quantities. Tell them the order number and total.",
			func(ctx context.Context, in createOrderArgs) (orderView, error) {
				tr, ok := TurnFrom(ctx)
				if !ok {
					return orderView{}, errNoTurn
				}
				n := commerce.NewOrder{Tenant: tr.Tenant, Customer: tr.Subject, Conversation: tr.Conversation, Note: in.Note}
				for _, it := range in.Items {
					n.Items = append(n.Items, commerce.OrderItem{ProductID: it.ProductID, Quantity: it.Quantity})
				}
				// The same order asked again in this turn (a retried turn,
				// a repeated call) is the same order.
				n.Key = "tool:" + strconv.FormatInt(int64(tr.Message), 10) + ":" + itemsKey(n.Items)
				ord, err := o.CreateOrder(ctx, n)
				if err != nil {
					return orderView{}, commerceError(err)
				}
				return viewOrder(ord), nil
			}),
		NewTool(orderStatusTool, "Status of one of the customer's orders by its number, or, without a number, of their latest orders.",
			func(ctx context.Context, in orderArgs) (any, error) {
				tr, ok := TurnFrom(ctx)
				if !ok {
					return nil, errNoTurn
				}
				if strings.TrimSpace(in.OrderID) != "" {
					ord, err := customerOrder(ctx, o, tr, in.OrderID)
					if err != nil {
						return nil, err
					}
					return viewOrder(ord), nil
				}
				list, err := o.CustomerOrders(ctx, tr.Tenant, tr.Subject, 5)
				if err != nil {
					return nil, commerceError(err)
				}
				views := make([]orderView, len(list))
				for i, ord := range list {
					views[i] = viewOrder(ord)
				}
				return struct {
					Orders []orderView `json:"orders"`
				}{views}, nil
			}),
		NewTool(cancelOrderTool, "Cancel one of the customer's orders, when they ask for it and confirmed.",
			func(ctx context.Context, in cancelArgs) (orderView, error) {
				tr, ok := TurnFrom(ctx)
				if !ok {
					return orderView{}, errNoTurn
				}
				ord, err := customerOrder(ctx, o, tr, in.OrderID)
				if err != nil {
					return orderView{}, err
				}
				if ord, err = o.CancelOrder(ctx, tr.Tenant, ord.ID); err != nil {
					return orderView{}, commerceError(err)
				}
				return viewOrder(ord), nil
			}),
	}
}

// itemsKey returns a short digest of items, independent of their order.
func itemsKey(items []commerce.OrderItem) string {
	lines := make([]string, len(items))
	for i, it := range items {
		lines[i] = it.ProductID + "\x00" + strconv.Itoa(it.Quantity)
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\x01")))
	return hex.EncodeToString(sum[:8])
}

// placeCartOrders turns the WhatsApp carts of the turn's messages into
// orders, once per message (the key is the provider's message id, so a
// redelivered or retried message finds its order), and returns what the
// model is told about them. It reports false when there was no cart.
func (t *turn) placeCartOrders() (string, bool) {
	o := t.a.cfg.Orders
	if o == nil {
		return "", false
	}
	var b strings.Builder
	for _, m := range t.msgs {
		in := m.Inbound
		if in == nil || in.Type != channel.TypeOrder || in.Order == nil {
			continue
		}
		n := commerce.NewOrder{Tenant: m.Tenant, Customer: t.conv.Subject, Conversation: t.conv.ID, Key: "whatsapp:" + string(in.ID), Note: string(in.Order.Text)}
		for _, it := range in.Order.Items {
			n.Items = append(n.Items, commerce.OrderItem{ProductID: it.ProductID, Quantity: it.Quantity, UnitPrice: commerce.MoneyFromFloat(it.UnitPrice, it.Currency)})
		}
		ord, err := o.CreateOrder(t.ctx, n)
		if err != nil {
			t.a.log.LogAttrs(t.ctx, slog.LevelWarn, "agent: placing the order of a cart failed", t.attrs(err)...)
			fmt.Fprintf(&b, "The customer sent a cart from the catalog, but it could not be ordered: %s. Explain it and offer alternatives.\n", commerceError(err))
			continue
		}
		fmt.Fprintf(&b, "The customer sent a cart from the catalog and it was ordered: order %s, status %s, total %s. Confirm it to the customer.\n", ord.ID, ord.Status, ord.Total)
	}
	return b.String(), b.Len() > 0
}
