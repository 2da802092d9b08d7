package redact_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/privacy/redact"
)

var placeholderShape = regexp.MustCompile(`<[A-Z]+_[0-9]+>`)

// withoutPlaceholders cuts text at every placeholder, so that a value
// cannot be read across one: a placeholder's own letters may spell a
// short password ("D_1").
func withoutPlaceholders(text string) string {
	return placeholderShape.ReplaceAllString(text, "\x00")
}

func FuzzRedact(f *testing.F) {
	for _, tt := range redactTests {
		f.Add(tt.in)
	}
	for _, s := range []string{
		"<EMAIL_1> a@b.co", "clave: abcd abcd@x.com", "4242424242424242 4242424242424242",
		"password: <CARD_1>x", "clave: D_1>", "+51 987654321987654321", "DNI 45678912-3 45678912",
		"\xff\xfe 987654321", "sk-" + strings.Repeat("a1", 20), "-----BEGIN PRIVATE KEY-----\nabc",
	} {
		f.Add(s)
	}
	full, err := redact.New(redact.Config{})
	require.NoError(f, err)
	restorable, err := redact.New(redact.Config{Modes: map[redact.Kind]redact.Mode{
		redact.Card: redact.Off, redact.Password: redact.Off, redact.Secret: redact.Off,
	}})
	require.NoError(f, err)
	masking, err := redact.New(redact.Config{Modes: map[redact.Kind]redact.Mode{
		redact.Email: redact.Mask, redact.Phone: redact.Mask, redact.IBAN: redact.Mask,
		redact.DNI: redact.Mask, redact.RUC: redact.Mask,
	}})
	require.NoError(f, err)

	f.Fuzz(func(t *testing.T, text string) {
		for name, r := range map[string]*redact.Redactor{"default": full, "restorable": restorable, "masking": masking} {
			found := r.Find("t", text)
			var values, hidden []string
			for _, m := range found {
				require.True(t, 0 <= m.Start && m.Start < m.End && m.End <= len(text), "%s: match in bounds", name)
				v := text[m.Start:m.End]
				values = append(values, v)
				if r.Mode("t", m.Kind) == redact.Mask {
					hidden = append(hidden, v)
				}
			}
			s := r.Session("t")
			red := s.Redact(text)
			cut := withoutPlaceholders(red)
			for _, v := range values {
				require.NotContains(t, cut, v, "%s: the model's text holds a detected value", name)
			}
			restored := s.Restore(red)
			stored := r.Mask("t", text)
			for _, v := range hidden {
				if !utf8.ValidString(v) {
					continue
				}
				require.NotContains(t, stored, v, "%s: the stored text holds a masked value", name)
				require.NotContains(t, restored, v, "%s: the restored reply holds a masked value", name)
			}
			if len(hidden) == 0 {
				require.Equal(t, text, restored, "%s: Restore(Redact(x)) == x without masked kinds", name)
				require.Equal(t, text, stored, "%s: Mask changes nothing without masked kinds", name)
			}
		}
	})
}
