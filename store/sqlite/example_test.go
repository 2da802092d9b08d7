package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/wagent/wagent/channel"
	"github.com/wagent/wagent/store/sqlite"
)

// A redelivered webhook message is recorded once, and what was recorded
// survives closing and reopening the file.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "wagent-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "wagent.db")

	s, err := sqlite.Open(ctx, path, nil)
	if err != nil {
		log.Fatal(err)
	}
	m := channel.Message{
		ID:   "wamid.1",
		From: channel.Address{Channel: channel.WhatsApp, Tenant: "tienda-sol", User: "51900000001"},
		Type: channel.TypeText,
		Text: "¿Hacen envíos a Cusco?",
	}
	for range 2 { // Meta delivers at least once
		r, err := s.AppendInbound(ctx, m)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("duplicate:", r.Duplicate)
	}
	s.Close()

	s, err = sqlite.Open(ctx, path, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	r, err := s.AppendInbound(ctx, m)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after reopening, duplicate:", r.Duplicate)
	// Output:
	// duplicate: false
	// duplicate: true
	// after reopening, duplicate: true
}
