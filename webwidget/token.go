package webwidget

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/wagent/wagent/channel"
)

// A visitor token is "v1.<payload>.<signature>": the payload is the
// base64url (unpadded) JSON of a claims value, the signature the base64url
// HMAC-SHA256, keyed with Options.Secret, of tokenContext followed by
// "v1.<payload>". It holds the site key, a random visitor id and the issue
// time: nothing about the person.

const (
	tokenVersion = "v1"
	// tokenContext separates these signatures from any other use of the
	// secret.
	tokenContext = "wagent/webwidget visitor token\x00"
	// maxTokenLen bounds the work spent on a presented token.
	maxTokenLen = 512
	// clockSkew is how far in the future an issue time may be, for
	// instances whose clocks differ a little.
	clockSkew = time.Minute
)

// errBadToken: the token is missing, malformed, forged, expired or for
// another site. The handler answers 401.
var errBadToken = errors.New("webwidget: invalid visitor token")

// visitorIDRE matches the visitor ids newVisitorID makes: "v" and 22
// base64url characters (128 random bits).
var visitorIDRE = regexp.MustCompile(`^v[A-Za-z0-9_-]{22}$`)

type claims struct {
	Site    channel.TenantID `json:"s"`
	Visitor channel.UserID   `json:"v"`
	Issued  int64            `json:"t"` // Unix seconds
}

func newVisitorID() channel.UserID {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return channel.UserID("v" + base64.RawURLEncoding.EncodeToString(b[:]))
}

func sign(secret []byte, signed string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(tokenContext))
	mac.Write([]byte(signed))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// issueToken returns a token for c signed with secret.
func issueToken(secret []byte, c claims) string {
	payload, _ := json.Marshal(c) // cannot fail: strings and an int
	signed := tokenVersion + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signed + "." + sign(secret, signed)
}

// verifyToken checks tok's signature against each secret, then its claims:
// a well-formed visitor id, the site key wanted, an issue time not in the
// future and not older than ttl at now. It returns errBadToken for any
// failure, without saying which, and the index of the secret that signed it.
func verifyToken(secrets [][]byte, tok string, site channel.TenantID, ttl time.Duration, now time.Time) (claims, int, error) {
	if len(tok) > maxTokenLen {
		return claims{}, 0, errBadToken
	}
	signed, sig, ok := cutLast(tok, '.')
	if !ok {
		return claims{}, 0, errBadToken
	}
	version, payload, ok := strings.Cut(signed, ".")
	if !ok || version != tokenVersion {
		return claims{}, 0, errBadToken
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return claims{}, 0, errBadToken
	}
	which := -1
	for i, secret := range secrets {
		want, _ := base64.RawURLEncoding.DecodeString(sign(secret, signed))
		if hmac.Equal(got, want) {
			which = i
			break
		}
	}
	if which < 0 {
		return claims{}, 0, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return claims{}, 0, errBadToken
	}
	var c claims
	if err := json.Unmarshal(raw, &c); err != nil {
		return claims{}, 0, errBadToken
	}
	issued := time.Unix(c.Issued, 0)
	switch {
	case c.Site != site,
		!visitorIDRE.MatchString(string(c.Visitor)),
		issued.After(now.Add(clockSkew)),
		!now.Before(issued.Add(ttl)):
		return claims{}, 0, errBadToken
	}
	return c, which, nil
}

func cutLast(s string, sep byte) (before, after string, ok bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
