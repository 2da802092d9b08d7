package meta

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignature(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account","entry":[{"text":"caf\u00e9"}]}`)
	sig := Sign(body, "s3cret")
	require.True(t, strings.HasPrefix(sig, "sha256="))
	require.Len(t, sig, len("sha256=")+64)
	tests := []struct {
		name    string
		body    []byte
		header  string
		secrets []string
		want    bool
	}{
		{"valid", body, sig, []string{"s3cret"}, true},
		{"upper-case hex", body, "sha256=" + strings.ToUpper(sig[7:]), []string{"s3cret"}, true},
		{"upper-case prefix", body, "SHA256=" + sig[7:], []string{"s3cret"}, true},
		{"rotation: second secret", body, sig, []string{"new", "s3cret"}, true},
		{"empty secret never matches", body, Sign(body, ""), []string{""}, false},
		{"wrong secret", body, sig, []string{"other"}, false},
		{"no secrets", body, sig, nil, false},
		{"missing", body, "", []string{"s3cret"}, false},
		{"no prefix", body, sig[7:], []string{"s3cret"}, false},
		{"sha1", body, "sha1=" + sig[7:47], []string{"s3cret"}, false},
		{"truncated", body, sig[:len(sig)-2], []string{"s3cret"}, false},
		{"not hex", body, "sha256=" + strings.Repeat("z", 64), []string{"s3cret"}, false},
		{"unicode unescaped", []byte(`{"object":"whatsapp_business_account","entry":[{"text":"café"}]}`), sig, []string{"s3cret"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, VerifySignature(tt.body, tt.header, tt.secrets))
		})
	}
}

func FuzzSignature(f *testing.F) {
	f.Add([]byte(`{"object":"whatsapp_business_account"}`), "secret", "sha256=00")
	f.Add([]byte{}, "", "")
	f.Add([]byte("x"), "k", Sign([]byte("x"), "k"))
	f.Fuzz(func(t *testing.T, body []byte, secret, header string) {
		valid := Sign(body, secret)
		if secret != "" && !VerifySignature(body, valid, []string{secret}) {
			t.Fatal("a signature made with the secret must verify")
		}
		if VerifySignature(body, header, []string{secret}) && secret != "" && !strings.EqualFold(header, valid) {
			t.Fatalf("accepted %q, which is not the signature", header)
		}
		if VerifySignature(body, header, []string{""}) {
			t.Fatal("an empty secret must never verify")
		}
		if len(body) > 0 {
			flipped := append([]byte(nil), body...)
			flipped[0] ^= 1
			if VerifySignature(flipped, valid, []string{secret}) {
				t.Fatal("a changed body must not verify")
			}
		}
	})
}

func TestHandshake(t *testing.T) {
	q := func(s string) url.Values { v, _ := url.ParseQuery(s); return v }
	c, ok := Handshake(q("hub.mode=subscribe&hub.verify_token=tok&hub.challenge=123"), "tok")
	assert.True(t, ok)
	assert.Equal(t, "123", c)
	for _, s := range []string{"hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1", "hub.mode=x&hub.verify_token=tok&hub.challenge=1", "hub.mode=subscribe&hub.verify_token=tok", ""} {
		_, ok := Handshake(q(s), "tok")
		assert.False(t, ok, s)
	}
	_, ok = Handshake(q("hub.mode=subscribe&hub.verify_token=&hub.challenge=1"), "")
	assert.False(t, ok, "an empty token never verifies")
}

func TestParseGraphError(t *testing.T) {
	body := `{"error":{"message":"(#131030) Recipient phone number +16505551234 not in allowed list","type":"OAuthException","code":131030,
		"error_data":{"messaging_product":"whatsapp","details":"Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again."},
		"error_subcode":2655007,"fbtrace_id":"Az8or2yhqkZfEZ-_4Qn_Bam"}}`
	e := ParseGraphError(400, []byte(body))
	require.NotNil(t, e)
	assert.Equal(t, GraphError{HTTPStatus: 400, Code: 131030, Subcode: 2655007, Type: "OAuthException",
		Message: "(#131030) Recipient phone number +16505551234 not in allowed list",
		Details: "Recipient phone number not in allowed list: Add recipient phone number to recipient list and try again.",
		TraceID: "Az8or2yhqkZfEZ-_4Qn_Bam"}, *e)
	assert.Equal(t, "meta: graph api error code 131030 subcode 2655007 (OAuthException) http 400: (#131030) Recipient phone number [redacted] not in allowed list [fbtrace_id Az8or2yhqkZfEZ-_4Qn_Bam]", e.Error())

	legacy := ParseGraphError(500, []byte(`{"error":{"message":"An unknown error occurred","code":"1","error_data":"some text"}}`))
	require.NotNil(t, legacy)
	assert.Equal(t, 1, legacy.Code)
	assert.Equal(t, "some text", legacy.Details)

	for _, b := range []string{"", "<html>", `{"data":[]}`, `{"error":"x"}`} {
		assert.Nil(t, ParseGraphError(502, []byte(b)), b)
	}
}

func TestMask(t *testing.T) {
	assert.Equal(t, "(#131047) user [redacted] and [redacted], US.[redacted]", Mask("(#131047) user +16505551234 and 5215512345678, US.13491208655302741918", 200))
	assert.Equal(t, "abc…", Mask("abcdef", 3))
	assert.Equal(t, "é…", Mask("éé", 3), "cut on a rune boundary")
}

func TestBackoff(t *testing.T) {
	b := Backoff{Base: 100 * time.Millisecond, Max: time.Second}
	for retry, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second, 50: time.Second} {
		for range 50 {
			d := b.Delay(retry)
			assert.GreaterOrEqual(t, d, want/2, "retry %d", retry)
			assert.LessOrEqual(t, d, want, "retry %d", retry)
		}
	}
	assert.Zero(t, Backoff{}.Delay(3))
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want time.Duration
	}{
		{"none", http.Header{}, 0},
		{"seconds", http.Header{"Retry-After": {"30"}}, 30 * time.Second},
		{"date", http.Header{"Retry-After": {now.Add(time.Minute).Format(http.TimeFormat)}}, time.Minute},
		{"past date", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"garbage", http.Header{"Retry-After": {"soon"}}, 0},
		{"business use case", http.Header{"X-Business-Use-Case-Usage": {`{"102290129340398":[{"type":"whatsapp","call_count":100,"estimated_time_to_regain_access":5}]}`}}, 5 * time.Minute},
		{"the longer wins", http.Header{"Retry-After": {"30"}, "X-Business-Use-Case-Usage": {`{"1":[{"estimated_time_to_regain_access":2}]}`}}, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, RetryAfter(tt.h, now))
		})
	}
}

func TestSleepAndFits(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	assert.NoError(t, Sleep(t.Context(), 0))
	assert.True(t, Fits(t.Context(), time.Hour))
	dctx, dcancel := context.WithTimeout(t.Context(), time.Minute)
	defer dcancel()
	assert.False(t, Fits(dctx, time.Hour))
	assert.True(t, Fits(dctx, time.Second))
}

func TestAppSecretProof(t *testing.T) {
	p := AppSecretProof("token", "secret")
	assert.Len(t, p, 64)
	assert.Equal(t, p, AppSecretProof("token", "secret"))
	assert.NotEqual(t, p, AppSecretProof("token2", "secret"))
}

func TestWithProof(t *testing.T) {
	p := AppSecretProof("token", "secret")
	assert.Equal(t, "https://g/v1/me", WithProof("https://g/v1/me", "token", ""), "no secret, no proof")
	assert.Equal(t, "https://g/v1/me?appsecret_proof="+p, WithProof("https://g/v1/me", "token", "secret"))
	assert.Equal(t, "https://g/v1/me?fields=name&appsecret_proof="+p, WithProof("https://g/v1/me?fields=name", "token", "secret"))
}
