package jsonschema_test

import (
	"encoding/json"
	"time"
)

// orderArgs is a realistic tool argument struct, used by the golden test,
// the validation tests and the benchmark.
type orderArgs struct {
	Customer   string            `json:"customer" description:"Customer id, such as C-1042"`
	Items      []orderItem       `json:"items" description:"What to order, at least one item"`
	Delivery   *address          `json:"delivery,omitempty" description:"Where to deliver; omit for pick-up"`
	DeliverAt  time.Time         `json:"deliver_at" description:"When to deliver, in RFC 3339"`
	Priority   string            `json:"priority,omitempty" enum:"low, normal, high"`
	Tags       []string          `json:"tags,omitempty" enum:"gift,fragile,cold"`
	Notes      map[string]string `json:"notes,omitempty" description:"Free-form notes by topic"`
	Tip        float64           `json:"tip,omitempty"`
	Confirmed  bool              `json:"confirmed"`
	Attachment []byte            `json:"attachment,omitempty"`
	Extra      json.RawMessage   `json:"extra,omitempty"`
	internal   string            //nolint:unused // unexported: not in the schema
}

type orderItem struct {
	SKU  string  `json:"sku"`
	Qty  uint16  `json:"qty" description:"Number of units"`
	Unit string  `json:"unit" enum:"piece,kg"`
	Size *string `json:"size" enum:"s,m,l"`
}

type address struct {
	Street  string `json:"street"`
	City    string `json:"city"`
	Country string `json:"country" description:"ISO 3166-1 alpha-2 code"`
}

// weatherArgs is the smallest realistic tool argument struct.
type weatherArgs struct {
	City string `json:"city" description:"City name"`
	Unit string `json:"unit,omitempty" enum:"c,f"`
}
