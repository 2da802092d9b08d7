// Package jsonschema describes Go types with JSON Schema and validates JSON
// documents against those schemas.
//
// The agent turns Go functions into tools for language models: [Reflect]
// (or [For]) generates the schema of a tool's argument struct, which is
// sent to the model as the tool's parameters, and [Schema.Validate] checks
// the arguments the model writes before they are decoded, so that a
// mistake goes back to the model as a message it can act on.
//
//	type weatherArgs struct {
//		City string `json:"city" description:"City name, such as Lisbon"`
//		Unit string `json:"unit,omitempty" enum:"c,f"`
//	}
//
//	schema, err := jsonschema.For[weatherArgs]()
//	...
//	params, err := json.Marshal(schema) // {"type":"object","properties":{...},...}
//	...
//	err = schema.Validate([]byte(`{"cty":"Lisbon"}`))
//	// unknown property "cty"; "city" is required
//
// A [Schema] is a plain Go value covering the subset of JSON Schema that
// models accept, with no references: a type used twice is described twice,
// and a type that contains itself is an error. Provider adapters inspect
// it and derive their dialect (OpenAI strict mode, Gemini) from a
// [Schema.Clone].
//
// Reflect follows encoding/json, and Validate is strict enough that a
// document it accepts against the schema of a Go type decodes into that
// type with [encoding/json.Unmarshal]. It is also stricter than JSON
// Schema in places where encoding/json is: an integer must be written
// without fraction or exponent (2, not 2.0) and must fit the Go type.
//
// # Concurrency
//
// Schemas are immutable after construction by convention: nothing in this
// package modifies a Schema once Reflect returns it, and Validate and
// MarshalJSON only read it, so a Schema is safe to share between
// goroutines as long as no one writes to it. Callers that want to change
// a Schema change a [Schema.Clone]. Reflect and For are safe for
// concurrent use.
//
// # Errors
//
// Reflect and For return errors matching [ErrUnsupported] for Go types
// that JSON Schema cannot describe; the message names the field path and
// the type, as in
//
//	jsonschema: field Order.Items[].Callback: unsupported type func()
//
// Validate returns a [*ValidationError] matching [ErrInvalid]. Its
// message is meant for the model that wrote the document: it lists up to
// ten problems, each with a path and what was expected, as in
//
//	"items[2].qty": expected integer, got string; "unit": must be one of "c", "f"
//
// Validate never panics, whatever the document.
//
// # Privacy
//
// Documents written by models may carry customers' personal data.
// Validation messages never include a value from the document. They do
// include paths, so object keys the model wrote appear in them: keys of
// map-typed objects and unknown property names, shortened to 64 bytes.
package jsonschema
