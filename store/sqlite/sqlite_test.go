package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/store"
	"github.com/wagent/wagent/store/sqlite"
	"github.com/wagent/wagent/store/storetest"
)

func newStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "wagent.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.ConversationStore { return newStore(t) })
}

func TestPurger(t *testing.T) {
	storetest.RunPurger(t, func(t *testing.T) storetest.PurgerStore { return newStore(t) })
}

func TestEraser(t *testing.T) {
	storetest.RunEraser(t, func(t *testing.T) storetest.EraserStore { return newStore(t) })
}

func TestExporter(t *testing.T) {
	storetest.RunExporter(t, func(t *testing.T) storetest.ExporterStore { return newStore(t) })
}

func TestLeaser(t *testing.T) {
	storetest.RunLeaser(t, func(t *testing.T) storetest.LeaserStore { return newStore(t) })
}

func TestProcessingBatcher(t *testing.T) {
	storetest.RunProcessingBatcher(t, func(t *testing.T) storetest.ProcessingBatcherStore { return newStore(t) })
}
