package jsonschema

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel errors, matched with [errors.Is].
var (
	// ErrUnsupported is returned by [Reflect] and [For] when a Go type
	// cannot be described by a JSON Schema.
	ErrUnsupported = errors.New("jsonschema: unsupported type")
	// ErrInvalid is returned by [Schema.Validate], as a [*ValidationError],
	// when a document is not valid JSON or does not match the schema.
	ErrInvalid = errors.New("jsonschema: invalid document")
)

// typeError reports a Go type that cannot be described. Its message names
// the field path (Go field names from the top-level type, [] for an
// element of a slice, array or map) and the type.
type typeError struct {
	root   string // name of the top-level type, if it has one
	path   string // path below it, empty for the top-level type itself
	reason string
}

func (e *typeError) Error() string {
	if e.path == "" {
		return "jsonschema: " + e.reason
	}
	path := e.path
	if e.root != "" {
		if path[0] == '[' {
			path = e.root + path
		} else {
			path = e.root + "." + path
		}
	}
	return "jsonschema: field " + path + ": " + e.reason
}

func (e *typeError) Unwrap() error { return ErrUnsupported }

// maxProblems bounds how many problems a [ValidationError] holds.
const maxProblems = 10

// ValidationError lists what is wrong with a document, in document order.
// Its message is written for the language model that produced the
// document, so that it can correct its call: it names paths, expected types
// and allowed values, never the values found. It is a plain value, safe to
// read from several goroutines.
type ValidationError struct {
	// Problems holds at most ten problems.
	Problems []Problem
	// Omitted counts the problems found beyond those.
	Omitted int
}

// Problem is one thing wrong with a document.
type Problem struct {
	// Path locates the value, such as items[2].qty; it is empty for the
	// document itself. Object keys that are not plain names are written
	// in brackets, as in labels["first name"].
	Path string
	// Message says what is wrong, such as "expected string, got number"
	// or "is required".
	Message string
}

// String returns the problem as it appears in the error message, such as
// "city": expected string, got number.
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	sep := ": "
	if strings.HasPrefix(p.Message, "is ") {
		sep = " "
	}
	return `"` + p.Path + `"` + sep + p.Message
}

// Error lists every problem, separated by semicolons.
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	if e.Omitted > 0 {
		b.WriteString("; and ")
		b.WriteString(strconv.Itoa(e.Omitted))
		b.WriteString(" more")
	}
	return b.String()
}

// Unwrap returns [ErrInvalid].
func (e *ValidationError) Unwrap() error { return ErrInvalid }
