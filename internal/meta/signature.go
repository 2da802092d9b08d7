package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/url"
	"strings"
)

// SignatureHeader is the header in which Meta signs every webhook delivery.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Sign returns the X-Hub-Signature-256 value of body under secret:
// "sha256=" followed by the hex HMAC-SHA256. Tests and fakes use it to sign
// fixtures as Meta does.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return signaturePrefix + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature reports whether header, the value of the
// X-Hub-Signature-256 header, is a valid signature of body under any of
// secrets (several during a rotation). It works on the raw bytes as they
// arrived: any re-serialisation of the body breaks the signature, as it
// should. The comparison takes the same time whatever the signature holds,
// and every secret is tried, so timing reveals neither the expected value
// nor which secret matched. Empty secrets never match.
func VerifySignature(body []byte, header string, secrets []string) bool {
	hexSig, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok {
		// Meta writes the prefix in lower case; tolerate any case.
		if len(header) < len(signaturePrefix) || !strings.EqualFold(header[:len(signaturePrefix)], signaturePrefix) {
			return false
		}
		hexSig = header[len(signaturePrefix):]
	}
	if len(hexSig) != hex.EncodedLen(sha256.Size) {
		return false
	}
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(hexSig)); err != nil {
		return false
	}
	match := 0
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		match |= subtle.ConstantTimeCompare(m.Sum(nil), got[:])
	}
	return match == 1
}

// Handshake answers the GET verification request Meta sends when a webhook
// is subscribed: when q has hub.mode "subscribe" and hub.verify_token
// equal to token (compared in constant time), it returns hub.challenge and
// true; the caller answers it as text/plain with status 200. Otherwise it
// returns false and the caller answers 403. An empty token never verifies.
func Handshake(q url.Values, token string) (challenge string, ok bool) {
	if token == "" || q.Get("hub.mode") != "subscribe" {
		return "", false
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(token)) != 1 {
		return "", false
	}
	challenge = q.Get("hub.challenge")
	if challenge == "" {
		return "", false
	}
	return challenge, true
}

// AppSecretProof returns the appsecret_proof of a Graph API call: the hex
// HMAC-SHA256 of the access token keyed with the app secret. Apps that
// require it reject calls without it, so a stolen token alone is useless.
func AppSecretProof(token, appSecret string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write([]byte(token))
	return hex.EncodeToString(m.Sum(nil))
}

// WithProof returns the URL u of a Graph API call made with token, with
// its appsecret_proof added to the query when appSecret is set, and u
// unchanged otherwise.
func WithProof(u, token, appSecret string) string {
	if appSecret == "" {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "appsecret_proof=" + AppSecretProof(token, appSecret)
}
