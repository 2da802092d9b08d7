// Package examples holds runnable programs that show wagent at work. Each
// lives in its own directory and is run with go run:
//
//	go run ./examples/quickstart
//
// Only examples read environment variables or flags; the library never does.
package examples
