package commerce

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

var (
	_ Catalog = (*Memory)(nil)
	_ Orders  = (*Memory)(nil)
)

// Memory is a [Catalog] and [Orders] kept in memory, for examples and
// tests. Orders take stock when placed and give it back when cancelled;
// they are charged at the catalog's prices. The zero value is an empty
// shop ready to use. A Memory is safe for concurrent use.
type Memory struct {
	mu       sync.Mutex
	products map[channel.TenantID]map[string]Product
	orders   map[channel.TenantID][]*Order
	keys     map[channel.TenantID]map[string]*Order
	last     map[channel.TenantID]int
}

// SetProduct adds p to the tenant's catalog, replacing the product with
// its ID. It returns an error wrapping [ErrInvalid] when p has no ID, no
// name or no currency, or a negative price.
func (m *Memory) SetProduct(tenant channel.TenantID, p Product) error {
	if tenant == "" || p.ID == "" || p.Name == "" || p.Price.Currency == "" || p.Price.Amount < 0 {
		return fmt.Errorf("commerce: product needs a tenant, an id, a name and a price: %w", ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.products == nil {
		m.products = make(map[channel.TenantID]map[string]Product)
	}
	if m.products[tenant] == nil {
		m.products[tenant] = make(map[string]Product)
	}
	m.products[tenant][p.ID] = p
	return nil
}

// SetOrderStatus moves an order to status, as the shop's back office
// would; it returns [ErrNotFound] for an unknown order and [ErrInvalid]
// for an unknown status.
func (m *Memory) SetOrderStatus(tenant channel.TenantID, id OrderID, status OrderStatus) (Order, error) {
	switch status {
	case OrderPending, OrderConfirmed, OrderShipped, OrderDelivered, OrderCancelled:
	default:
		return Order{}, fmt.Errorf("commerce: unknown order status: %w", ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.order(tenant, id)
	if o == nil {
		return Order{}, fmt.Errorf("commerce: order %s: %w", id, ErrNotFound)
	}
	o.Status, o.UpdatedAt = status, time.Now()
	return o.clone(), nil
}

// SearchProducts implements [Catalog]: a product matches when every word
// of query is in its name or description, ignoring case; results are
// ordered by name.
func (m *Memory) SearchProducts(ctx context.Context, tenant channel.TenantID, query string, limit int) ([]Product, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("commerce: search: %w", err)
	}
	if limit <= 0 {
		limit = 10
	}
	words := strings.Fields(strings.ToLower(query))
	m.mu.Lock()
	var out []Product
	for _, p := range m.products[tenant] {
		text := strings.ToLower(p.Name + " " + p.Description)
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(text, w) }) {
			out = append(out, p)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Product) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Product implements [Catalog].
func (m *Memory) Product(ctx context.Context, tenant channel.TenantID, id string) (Product, error) {
	if err := ctx.Err(); err != nil {
		return Product{}, fmt.Errorf("commerce: product: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.products[tenant][id]
	if !ok {
		return Product{}, fmt.Errorf("commerce: product %q: %w", id, ErrNotFound)
	}
	return p, nil
}

// CreateOrder implements [Orders]. Orders are numbered per tenant from
// "1001".
func (m *Memory) CreateOrder(ctx context.Context, n NewOrder) (Order, error) {
	if err := ctx.Err(); err != nil {
		return Order{}, fmt.Errorf("commerce: create order: %w", err)
	}
	if err := n.Check(); err != nil {
		return Order{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := m.keys[n.Tenant][n.Key]; n.Key != "" && o != nil {
		return o.clone(), nil
	}
	o := &Order{Tenant: n.Tenant, Customer: n.Customer, Conversation: n.Conversation, Status: OrderPending, Key: n.Key, Note: n.Note}
	// Quantities of one product on several lines add up.
	want := map[string]int{}
	for _, it := range n.Items {
		p, ok := m.products[n.Tenant][it.ProductID]
		if !ok {
			return Order{}, fmt.Errorf("commerce: create order: product %q: %w", it.ProductID, ErrNotFound)
		}
		want[p.ID] += it.Quantity
		if !p.Available(want[p.ID]) {
			return Order{}, fmt.Errorf("commerce: create order: product %q: %w", it.ProductID, ErrOutOfStock)
		}
		if o.Total.Currency == "" {
			o.Total.Currency = p.Price.Currency
		} else if o.Total.Currency != p.Price.Currency {
			return Order{}, fmt.Errorf("commerce: create order: products in several currencies: %w", ErrInvalid)
		}
		o.Items = append(o.Items, OrderItem{ProductID: p.ID, Name: p.Name, Quantity: it.Quantity, UnitPrice: p.Price})
		o.Total.Amount += p.Price.Amount * int64(it.Quantity)
	}
	for id, q := range want {
		if p := m.products[n.Tenant][id]; p.Stock >= 0 {
			p.Stock -= q
			m.products[n.Tenant][id] = p
		}
	}
	if m.last == nil {
		m.last = make(map[channel.TenantID]int)
		m.orders = make(map[channel.TenantID][]*Order)
		m.keys = make(map[channel.TenantID]map[string]*Order)
	}
	m.last[n.Tenant]++
	o.ID = OrderID(strconv.Itoa(1000 + m.last[n.Tenant]))
	o.CreatedAt = time.Now()
	o.UpdatedAt = o.CreatedAt
	m.orders[n.Tenant] = append(m.orders[n.Tenant], o)
	if n.Key != "" {
		if m.keys[n.Tenant] == nil {
			m.keys[n.Tenant] = make(map[string]*Order)
		}
		m.keys[n.Tenant][n.Key] = o
	}
	return o.clone(), nil
}

// Order implements [Orders].
func (m *Memory) Order(ctx context.Context, tenant channel.TenantID, id OrderID) (Order, error) {
	if err := ctx.Err(); err != nil {
		return Order{}, fmt.Errorf("commerce: order: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.order(tenant, id)
	if o == nil {
		return Order{}, fmt.Errorf("commerce: order %s: %w", id, ErrNotFound)
	}
	return o.clone(), nil
}

// CustomerOrders implements [Orders].
func (m *Memory) CustomerOrders(ctx context.Context, tenant channel.TenantID, customer store.SubjectID, limit int) ([]Order, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("commerce: customer orders: %w", err)
	}
	if limit <= 0 {
		limit = 10
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Order
	os := m.orders[tenant]
	for i := len(os) - 1; i >= 0 && len(out) < limit; i-- {
		if os[i].Customer == customer {
			out = append(out, os[i].clone())
		}
	}
	return out, nil
}

// CancelOrder implements [Orders]; the stock the order took is given back.
func (m *Memory) CancelOrder(ctx context.Context, tenant channel.TenantID, id OrderID) (Order, error) {
	if err := ctx.Err(); err != nil {
		return Order{}, fmt.Errorf("commerce: cancel order: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.order(tenant, id)
	switch {
	case o == nil:
		return Order{}, fmt.Errorf("commerce: order %s: %w", id, ErrNotFound)
	case o.Status == OrderCancelled:
		return o.clone(), nil
	case o.Status == OrderShipped || o.Status == OrderDelivered:
		return Order{}, fmt.Errorf("commerce: order %s is %s: %w", id, o.Status, ErrNotCancellable)
	}
	for _, it := range o.Items {
		if p, ok := m.products[tenant][it.ProductID]; ok && p.Stock >= 0 {
			p.Stock += it.Quantity
			m.products[tenant][it.ProductID] = p
		}
	}
	o.Status, o.UpdatedAt = OrderCancelled, time.Now()
	return o.clone(), nil
}

// order returns the tenant's order with id, or nil; m.mu must be held.
func (m *Memory) order(tenant channel.TenantID, id OrderID) *Order {
	for _, o := range m.orders[tenant] {
		if o.ID == id {
			return o
		}
	}
	return nil
}

func (o *Order) clone() Order {
	c := *o
	c.Items = slices.Clone(o.Items)
	return c
}
