package commerce_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/commerce"
)

const shop = "tienda-sol"

func newShop(t *testing.T) *commerce.Memory {
	t.Helper()
	m := &commerce.Memory{}
	require.NoError(t, m.SetProduct(shop, commerce.Product{ID: "mug-01", Name: "Taza de cerámica", Description: "Taza azul 350 ml", Price: commerce.Money{Amount: 2990, Currency: "PEN"}, Stock: 5}))
	require.NoError(t, m.SetProduct(shop, commerce.Product{ID: "tee-02", Name: "Polo algodón", Price: commerce.Money{Amount: 4500, Currency: "PEN"}, Stock: -1}))
	require.NoError(t, m.SetProduct("other", commerce.Product{ID: "mug-01", Name: "Other mug", Price: commerce.Money{Amount: 1, Currency: "USD"}, Stock: 1}))
	return m
}

func TestMoney(t *testing.T) {
	assert.Equal(t, "PEN 29.90", commerce.Money{Amount: 2990, Currency: "PEN"}.String())
	assert.Equal(t, "CLP 15000", commerce.Money{Amount: 15000, Currency: "CLP"}.String())
	assert.Equal(t, "USD -0.05", commerce.Money{Amount: -5, Currency: "USD"}.String())
	assert.Equal(t, commerce.Money{Amount: 1999, Currency: "USD"}, commerce.MoneyFromFloat(19.99, "usd"), "floats round to the nearest cent")
	assert.Equal(t, commerce.Money{Amount: 15000, Currency: "CLP"}, commerce.MoneyFromFloat(15000, "CLP"))
}

func TestCatalog(t *testing.T) {
	m := newShop(t)
	got, err := m.SearchProducts(t.Context(), shop, "taza AZUL", 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "mug-01", got[0].ID, "every word must match name or description, ignoring case")
	all, err := m.SearchProducts(t.Context(), shop, "", 10)
	require.NoError(t, err)
	assert.Len(t, all, 2, "an empty query matches every product of the tenant, and no other tenant's")
	none, err := m.SearchProducts(t.Context(), shop, "bicicleta", 10)
	require.NoError(t, err)
	assert.Empty(t, none)
	p, err := m.Product(t.Context(), "other", "mug-01")
	require.NoError(t, err)
	assert.Equal(t, "Other mug", p.Name, "products are scoped by tenant")
	_, err = m.Product(t.Context(), shop, "nope")
	assert.ErrorIs(t, err, commerce.ErrNotFound)
	assert.ErrorIs(t, m.SetProduct(shop, commerce.Product{ID: "x"}), commerce.ErrInvalid)
}

func TestOrders(t *testing.T) {
	m := newShop(t)
	ctx := t.Context()
	n := commerce.NewOrder{Tenant: shop, Customer: "s1", Key: "wamid.1", Items: []commerce.OrderItem{
		{ProductID: "mug-01", Quantity: 2, UnitPrice: commerce.Money{Amount: 1, Currency: "PEN"}},
		{ProductID: "tee-02", Quantity: 1},
	}}
	o, err := m.CreateOrder(ctx, n)
	require.NoError(t, err)
	assert.Equal(t, commerce.OrderPending, o.Status)
	assert.Equal(t, commerce.Money{Amount: 2*2990 + 4500, Currency: "PEN"}, o.Total, "orders are charged at the catalog's prices")
	p, _ := m.Product(ctx, shop, "mug-01")
	assert.Equal(t, 3, p.Stock, "an order takes stock")

	again, err := m.CreateOrder(ctx, n)
	require.NoError(t, err)
	assert.Equal(t, o.ID, again.ID, "a key used before returns the first order")
	p, _ = m.Product(ctx, shop, "mug-01")
	assert.Equal(t, 3, p.Stock, "a repeated key takes no stock")

	_, err = m.CreateOrder(ctx, commerce.NewOrder{Tenant: shop, Customer: "s1", Items: []commerce.OrderItem{{ProductID: "mug-01", Quantity: 4}}})
	assert.ErrorIs(t, err, commerce.ErrOutOfStock)
	_, err = m.CreateOrder(ctx, commerce.NewOrder{Tenant: shop, Customer: "s1", Items: []commerce.OrderItem{{ProductID: "mug-01", Quantity: 0}}})
	assert.ErrorIs(t, err, commerce.ErrInvalid)
	_, err = m.CreateOrder(ctx, commerce.NewOrder{Tenant: shop, Customer: "s1", Items: []commerce.OrderItem{{ProductID: "ghost", Quantity: 1}}})
	assert.ErrorIs(t, err, commerce.ErrNotFound)

	mine, err := m.CustomerOrders(ctx, shop, "s1", 10)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	theirs, err := m.CustomerOrders(ctx, shop, "s2", 10)
	require.NoError(t, err)
	assert.Empty(t, theirs)
	_, err = m.Order(ctx, "other", o.ID)
	assert.ErrorIs(t, err, commerce.ErrNotFound, "orders are scoped by tenant")

	c, err := m.CancelOrder(ctx, shop, o.ID)
	require.NoError(t, err)
	assert.Equal(t, commerce.OrderCancelled, c.Status)
	p, _ = m.Product(ctx, shop, "mug-01")
	assert.Equal(t, 5, p.Stock, "cancelling gives the stock back")

	o2, err := m.CreateOrder(ctx, commerce.NewOrder{Tenant: shop, Customer: "s1", Items: []commerce.OrderItem{{ProductID: "tee-02", Quantity: 1}}})
	require.NoError(t, err)
	_, err = m.SetOrderStatus(shop, o2.ID, commerce.OrderShipped)
	require.NoError(t, err)
	_, err = m.CancelOrder(ctx, shop, o2.ID)
	assert.ErrorIs(t, err, commerce.ErrNotCancellable)
}

func TestOrdersRaceOnOneKey(t *testing.T) {
	m := newShop(t)
	var wg sync.WaitGroup
	ids := make([]commerce.OrderID, 10)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := m.CreateOrder(t.Context(), commerce.NewOrder{Tenant: shop, Customer: "s1", Key: "wamid.race", Items: []commerce.OrderItem{{ProductID: "mug-01", Quantity: 1}}})
			assert.NoError(t, err)
			ids[i] = o.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		assert.Equal(t, ids[0], id, "racing calls with one key create one order")
	}
	p, _ := m.Product(t.Context(), shop, "mug-01")
	assert.Equal(t, 4, p.Stock)
}
