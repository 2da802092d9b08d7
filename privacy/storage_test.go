package privacy_test

import (
	"testing"

	"github.com/wagent/wagent/privacy"
	"github.com/wagent/wagent/privacy/privacytest"
)

func TestMemoryStorage(t *testing.T) {
	privacytest.Run(t, func(t *testing.T) privacytest.Storage { return privacy.NewMemoryStorage() })
}
