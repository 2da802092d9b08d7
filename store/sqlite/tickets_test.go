package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/store/sqlite"

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

func TestTicketPurger(t *testing.T) {
	storetest.RunTicketPurger(t, func(t *testing.T, now func() time.Time) storetest.TicketPurgerStore {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "wagent.db"), &sqlite.Options{Now: now})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		return s
	})
}
