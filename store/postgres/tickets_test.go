package postgres_test

import (
	"testing"
	"time"

	"github.com/wagent/wagent/store/postgres"

	"github.com/wagent/wagent/store/storetest"
)

func TestTickets(t *testing.T) {
	dsn(t)
	storetest.RunTickets(t, func(t *testing.T) storetest.TicketStore { return fresh(t) })
	storetest.RunTicketErasure(t, func(t *testing.T) storetest.TicketEraserStore { return fresh(t) })
}

func TestTagger(t *testing.T) {
	dsn(t)
	storetest.RunTagger(t, func(t *testing.T) storetest.TaggerStore { return fresh(t) })
	storetest.RunTaggerErasure(t, func(t *testing.T) storetest.TaggerEraserStore { return fresh(t) })
}

func TestTicketPurger(t *testing.T) {
	dsn(t)
	storetest.RunTicketPurger(t, func(t *testing.T, now func() time.Time) storetest.TicketPurgerStore {
		return open(t, freshSchema(t), &postgres.Options{Now: now})
	})
}
