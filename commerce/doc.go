// Package commerce is the contract between the agent and a business's shop:
// a [Catalog] of products the model can search and describe, and [Orders]
// it can place, look up and cancel for the customer it talks to. The host
// implements both over its own shop (Shopify, WooCommerce, an ERP);
// [Memory] implements both in memory, for examples and tests.
//
// Prices are [Money]: an amount in minor units (cents) with its ISO 4217
// currency, never a float.
//
// Orders are created idempotently: a [NewOrder] carries a key (for a
// WhatsApp cart, the provider's message id), and creating an order with a
// key already used returns the order made the first time, so that a
// redelivered webhook never places two orders.
//
// # Concurrency
//
// Implementations must be safe for concurrent use; the agent calls them
// from many conversations at once. [Memory] is.
//
// # Errors
//
// Implementations return errors wrapping the sentinels of this package
// ([ErrNotFound], [ErrInvalid], [ErrOutOfStock], [ErrNotCancellable]) so
// that the agent can tell the model what went wrong; their text must not
// contain personal data.
//
// # Privacy
//
// An order names its customer by [store.SubjectID] and the conversation it
// was placed in, never by phone number. Every call is scoped by tenant: a
// shop never returns another tenant's products or orders.
package commerce
