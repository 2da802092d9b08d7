package postgres_test

import (
	"testing"

	"github.com/wagent/wagent/store/storetest"
)

func TestLister(t *testing.T) {
	dsn(t)
	storetest.RunLister(t, func(t *testing.T) storetest.ListerStore { return fresh(t) })
}
