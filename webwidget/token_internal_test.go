package webwidget

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fuzzSecret = []byte("fuzz-secret-fuzz-secret-fuzz-secret!")

func TestTokenRoundTrip(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	c := claims{Site: "shop", Visitor: newVisitorID(), Issued: now.Unix()}
	tok := issueToken(fuzzSecret, c)
	got, which, err := verifyToken([][]byte{[]byte("another-secret-another-secret-1234"), fuzzSecret}, tok, "shop", time.Hour, now)
	require.NoError(t, err)
	assert.Equal(t, c, got)
	assert.Equal(t, 1, which, "the secret that signed it")
	assert.True(t, visitorIDRE.MatchString(string(c.Visitor)))
	assert.NotEqual(t, c.Visitor, newVisitorID())
}

// FuzzVerifyToken checks that no token verifies unless it is exactly one
// the secret signed, and that verifying never panics.
func FuzzVerifyToken(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	valid := issueToken(fuzzSecret, claims{Site: "shop", Visitor: "vAAAAAAAAAAAAAAAAAAAAAA", Issued: now.Unix()})
	f.Add(valid)
	f.Add("v1..")
	f.Add("v1.e30.")
	f.Add(strings.Replace(valid, "v1.", "v2.", 1))
	f.Add(valid + "=")
	f.Fuzz(func(t *testing.T, tok string) {
		c, _, err := verifyToken([][]byte{fuzzSecret}, tok, "shop", time.Hour, now)
		if err != nil {
			return
		}
		if tok != valid && issueToken(fuzzSecret, c) != tok {
			// Another encoding of the same claims signed by us would be
			// fine; a token we never issued is not.
			t.Fatalf("verified a token that was not issued: %q", tok)
		}
	})
}
