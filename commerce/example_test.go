package commerce_test

import (
	"context"
	"fmt"

	"github.com/wagent/wagent/commerce"
)

func ExampleMemory() {
	ctx := context.Background()
	shop := &commerce.Memory{}
	_ = shop.SetProduct("tienda-sol", commerce.Product{ID: "mug-01", Name: "Taza azul", Price: commerce.Money{Amount: 2990, Currency: "PEN"}, Stock: 3})

	found, _ := shop.SearchProducts(ctx, "tienda-sol", "taza", 5)
	fmt.Println(found[0].Name, found[0].Price)

	n := commerce.NewOrder{Tenant: "tienda-sol", Customer: "s1", Key: "wamid.HBgL", Items: []commerce.OrderItem{{ProductID: "mug-01", Quantity: 2}}}
	o, _ := shop.CreateOrder(ctx, n)
	again, _ := shop.CreateOrder(ctx, n) // a redelivered cart
	fmt.Println(o.ID, o.Status, o.Total, again.ID == o.ID)

	_, err := shop.CreateOrder(ctx, commerce.NewOrder{Tenant: "tienda-sol", Customer: "s1", Items: []commerce.OrderItem{{ProductID: "mug-01", Quantity: 2}}})
	fmt.Println(err)
	// Output:
	// Taza azul PEN 29.90
	// 1001 pending PEN 59.80 true
	// commerce: create order: product "mug-01": commerce: out of stock
}
