package redact_test

import (
	"fmt"

	"github.com/wagent/wagent/privacy/redact"
)

// The model sees placeholders; the reply gets restorable values back and
// only the masked form of a card.
func Example() {
	r, err := redact.New(redact.Config{})
	if err != nil {
		panic(err)
	}
	s := r.Session("tienda-sol")
	in := s.Redact("I am rosa@example.pe, card 4242 4242 4242 4242")
	fmt.Println(in)
	fmt.Println(s.Restore("Thanks <EMAIL_1>, we charged <CARD_1>."))
	// Output:
	// I am <EMAIL_1>, card <CARD_1>
	// Thanks rosa@example.pe, we charged •••• 4242.
}
