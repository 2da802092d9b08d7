package privacy_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy"
)

func TestConsentStatusText(t *testing.T) {
	for _, s := range []privacy.ConsentStatus{privacy.ConsentUnknown, privacy.ConsentGranted, privacy.ConsentWithdrawn} {
		b, err := json.Marshal(privacy.ConsentState{Status: s})
		require.NoError(t, err)
		var back privacy.ConsentState
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, s, back.Status)
	}
	b, _ := json.Marshal(privacy.ConsentState{Purpose: privacy.PurposeMarketing, Status: privacy.ConsentWithdrawn})
	assert.JSONEq(t, `{"purpose":"marketing","status":"withdrawn"}`, string(b))
	var s privacy.ConsentStatus
	assert.ErrorContains(t, s.UnmarshalText([]byte("maybe")), `unknown consent status "maybe"`)
}
