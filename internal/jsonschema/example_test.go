package jsonschema_test

import (
	"encoding/json"
	"fmt"

	"github.com/wagent/wagent/internal/jsonschema"
)

func Example() {
	type weather struct {
		City string `json:"city" description:"City name"`
		Unit string `json:"unit,omitempty" enum:"c,f"`
	}
	schema, err := jsonschema.For[weather]()
	if err != nil {
		panic(err)
	}
	params, err := json.Marshal(schema)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(params))

	fmt.Println(schema.Validate([]byte(`{"city":"Lisboa","unit":"c"}`)))
	fmt.Println(schema.Validate([]byte(`{"cty":"Lisboa","unit":"kelvin"}`)))
	// Output:
	// {"type":"object","properties":{"city":{"type":"string","description":"City name"},"unit":{"type":"string","enum":["c","f"]}},"required":["city"],"additionalProperties":false}
	// <nil>
	// unknown property "cty"; "unit": must be one of "c", "f"; "city" is required
}

func ExampleReflect_error() {
	type order struct {
		Items []struct {
			Callback func()
		}
	}
	_, err := jsonschema.For[order]()
	fmt.Println(err)
	// Output:
	// jsonschema: field order.Items[].Callback: unsupported type func()
}
