package memory_test

import (
	"testing"
	"time"

	"github.com/wagent/wagent/store/memory"
	"github.com/wagent/wagent/store/storetest"
)

func TestTickets(t *testing.T) {
	storetest.RunTickets(t, func(t *testing.T) storetest.TicketStore { return memory.New(nil) })
	storetest.RunTicketErasure(t, func(t *testing.T) storetest.TicketEraserStore { return memory.New(nil) })
}

func TestTagger(t *testing.T) {
	storetest.RunTagger(t, func(t *testing.T) storetest.TaggerStore { return memory.New(nil) })
	storetest.RunTaggerErasure(t, func(t *testing.T) storetest.TaggerEraserStore { return memory.New(nil) })
}

func TestTicketPurger(t *testing.T) {
	storetest.RunTicketPurger(t, func(t *testing.T, now func() time.Time) storetest.TicketPurgerStore {
		return memory.New(&memory.Options{Now: now})
	})
}
