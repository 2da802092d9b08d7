package sqlite_test

import (
	"testing"

	"github.com/wagent/wagent/store/storetest"
)

func TestTickets(t *testing.T) {
	storetest.RunTickets(t, func(t *testing.T) storetest.TicketStore { return newStore(t) })
	storetest.RunTicketErasure(t, func(t *testing.T) storetest.TicketEraserStore { return newStore(t) })
}

func TestTagger(t *testing.T) {
	storetest.RunTagger(t, func(t *testing.T) storetest.TaggerStore { return newStore(t) })
	storetest.RunTaggerErasure(t, func(t *testing.T) storetest.TaggerEraserStore { return newStore(t) })
}
