package commerce

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store"
)

// Sentinel errors, possibly wrapped.
var (
	// ErrNotFound: no such product or order in this tenant (an order of
	// another customer is reported so by the agent too).
	ErrNotFound = errors.New("commerce: not found")
	// ErrInvalid: the argument breaks the contract (no items, a quantity
	// below one, mixed currencies); nothing changed.
	ErrInvalid = errors.New("commerce: invalid argument")
	// ErrOutOfStock: not enough stock for an item; no order was created.
	ErrOutOfStock = errors.New("commerce: out of stock")
	// ErrNotCancellable: the order has gone too far (shipped, delivered)
	// to be cancelled.
	ErrNotCancellable = errors.New("commerce: order cannot be cancelled")
)

// Money is an amount in minor units (cents) of an ISO 4217 currency.
type Money struct {
	// Amount is in minor units: 1999 is 19.99 in a currency with two
	// decimals.
	Amount int64 `json:"amount"`
	// Currency is the ISO 4217 code, upper case ("PEN", "USD").
	Currency string `json:"currency"`
}

// zeroDecimals are the ISO 4217 currencies without minor units that shops
// commonly use.
var zeroDecimals = map[string]bool{"CLP": true, "JPY": true, "KRW": true, "PYG": true, "VND": true, "ISK": true, "UGX": true}

// String formats m with its currency's decimals: "PEN 19.90".
func (m Money) String() string {
	if zeroDecimals[m.Currency] {
		return m.Currency + " " + strconv.FormatInt(m.Amount, 10)
	}
	sign, a := "", m.Amount
	if a < 0 {
		sign, a = "-", -a
	}
	return fmt.Sprintf("%s %s%d.%02d", m.Currency, sign, a/100, a%100)
}

// MoneyFromFloat converts a price given as a decimal number (as WhatsApp
// carts give it) to minor units of currency, rounding to the nearest.
func MoneyFromFloat(v float64, currency string) Money {
	currency = strings.ToUpper(currency)
	scale := 100.0
	if zeroDecimals[currency] {
		scale = 1
	}
	x := v * scale
	if x < 0 {
		return Money{Amount: int64(x - 0.5), Currency: currency}
	}
	return Money{Amount: int64(x + 0.5), Currency: currency}
}

// Product is an item of a catalog.
type Product struct {
	// ID is the catalog's id (WhatsApp's retailer id).
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Price       Money  `json:"price"`
	// Stock is how many can be ordered now; negative means not tracked
	// (always available).
	Stock int `json:"stock"`
	// URL is the product's page, if any.
	URL string `json:"url,omitempty"`
}

// Available reports whether quantity can be ordered.
func (p Product) Available(quantity int) bool { return p.Stock < 0 || p.Stock >= quantity }

// Catalog is a business's products. Every method is safe for concurrent
// use, bounded by ctx, and scoped by tenant.
type Catalog interface {
	// SearchProducts returns up to limit products of the tenant matching
	// query (words of the name or description; empty matches every
	// product), best first. No match is an empty result and a nil error.
	SearchProducts(ctx context.Context, tenant channel.TenantID, query string, limit int) ([]Product, error)
	// Product returns the product with id, its current price and stock;
	// an unknown id is [ErrNotFound].
	Product(ctx context.Context, tenant channel.TenantID, id string) (Product, error)
}

// OrderID identifies an order within its tenant.
type OrderID string

// OrderStatus is where an order stands.
type OrderStatus string

// Order statuses.
const (
	OrderPending   OrderStatus = "pending"   // placed, awaiting payment or confirmation
	OrderConfirmed OrderStatus = "confirmed" // paid or accepted, being prepared
	OrderShipped   OrderStatus = "shipped"
	OrderDelivered OrderStatus = "delivered"
	OrderCancelled OrderStatus = "cancelled"
)

// OrderItem is one line of an order.
type OrderItem struct {
	ProductID string `json:"product_id"`
	// Name is the product's name when the order was placed.
	Name     string `json:"name,omitempty"`
	Quantity int    `json:"quantity"`
	// UnitPrice is the price of one; a shop may ignore the price of a
	// NewOrder and charge its catalog's.
	UnitPrice Money `json:"unit_price"`
}

// Order is a customer's order.
type Order struct {
	ID     OrderID          `json:"id"`
	Tenant channel.TenantID `json:"tenant"`
	// Customer is the data subject who placed it; Conversation where.
	Customer     store.SubjectID      `json:"customer"`
	Conversation store.ConversationID `json:"conversation,omitempty"`
	Items        []OrderItem          `json:"items"`
	Total        Money                `json:"total"`
	Status       OrderStatus          `json:"status"`
	// Key is the idempotency key it was created with.
	Key       string    `json:"key,omitempty"`
	Note      string    `json:"note,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewOrder is what [Orders.CreateOrder] needs.
type NewOrder struct {
	Tenant       channel.TenantID
	Customer     store.SubjectID
	Conversation store.ConversationID
	Items        []OrderItem
	// Key makes the creation idempotent: an order created with the same
	// key in the tenant is returned instead of a new one. Empty means no
	// idempotency (the agent always sets it).
	Key string
	// Note is the customer's message with the order, if any.
	Note string
}

// Check returns an error wrapping [ErrInvalid] when n breaks the contract:
// no tenant or customer, no items, an item without product or with a
// quantity below one.
func (n NewOrder) Check() error {
	if n.Tenant == "" || n.Customer == "" {
		return fmt.Errorf("commerce: order: tenant and customer are required: %w", ErrInvalid)
	}
	if len(n.Items) == 0 {
		return fmt.Errorf("commerce: order: no items: %w", ErrInvalid)
	}
	for _, it := range n.Items {
		if it.ProductID == "" || it.Quantity < 1 {
			return fmt.Errorf("commerce: order: an item needs a product and a quantity of at least one: %w", ErrInvalid)
		}
	}
	return nil
}

// Orders places and follows a business's orders. Every method is safe for
// concurrent use, bounded by ctx, and scoped by tenant.
type Orders interface {
	// CreateOrder places n and returns the order, its status
	// [OrderPending]. When an order was created with n.Key in the tenant
	// before, it returns that order and changes nothing, also when calls
	// race. It returns [ErrInvalid] when n fails [NewOrder.Check],
	// [ErrNotFound] for an unknown product and [ErrOutOfStock] when an
	// item is not available; then nothing is created.
	CreateOrder(ctx context.Context, n NewOrder) (Order, error)
	// Order returns the order with id.
	Order(ctx context.Context, tenant channel.TenantID, id OrderID) (Order, error)
	// CustomerOrders returns up to limit orders of the customer, the latest
	// first.
	CustomerOrders(ctx context.Context, tenant channel.TenantID, customer store.SubjectID, limit int) ([]Order, error)
	// CancelOrder cancels the order and returns it; cancelling a cancelled
	// order changes nothing. An order shipped or delivered is
	// [ErrNotCancellable].
	CancelOrder(ctx context.Context, tenant channel.TenantID, id OrderID) (Order, error)
}
