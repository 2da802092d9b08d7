package postgres_test

import (
	"testing"

	"github.com/wagent/wagent/store/storetest"
)

// The optional capabilities' conformance suites, each test on a schema of
// its own.

func TestPurger(t *testing.T) {
	dsn(t)
	storetest.RunPurger(t, func(t *testing.T) storetest.PurgerStore { return fresh(t) })
}

func TestEraser(t *testing.T) {
	dsn(t)
	storetest.RunEraser(t, func(t *testing.T) storetest.EraserStore { return fresh(t) })
}

func TestExporter(t *testing.T) {
	dsn(t)
	storetest.RunExporter(t, func(t *testing.T) storetest.ExporterStore { return fresh(t) })
}

func TestLeaser(t *testing.T) {
	dsn(t)
	storetest.RunLeaser(t, func(t *testing.T) storetest.LeaserStore { return fresh(t) })
}

func TestProcessingBatcher(t *testing.T) {
	dsn(t)
	storetest.RunProcessingBatcher(t, func(t *testing.T) storetest.ProcessingBatcherStore { return fresh(t) })
}
