package sqlite_test

import (
	"testing"

	"github.com/wagent/wagent/store/storetest"
)

func TestLister(t *testing.T) {
	storetest.RunLister(t, func(t *testing.T) storetest.ListerStore { return newStore(t) })
}
