package whatsapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wagent/wagent/channel"
)

func TestSplitText(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"fits", "Hello there.", 20, []string{"Hello there."}},
		{"paragraphs", "First paragraph here.\n\nSecond one.", 25, []string{"First paragraph here.", "Second one."}},
		{"lines", "line one is here\nline two", 20, []string{"line one is here", "line two"}},
		{"sentences", "One sentence. Two sentence. Three.", 30, []string{"One sentence. Two sentence.", "Three."}},
		{"words", "alpha beta gamma delta", 12, []string{"alpha beta", "gamma delta"}},
		{"no space", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"early paragraph break is not preferred", "a\n\nbbbbbbbbbbbbbbbbbbbb cccc", 24, []string{"a\n\nbbbbbbbbbbbbbbbbbbbb", "cccc"}},
		{"emoji count two", "😀😀😀", 4, []string{"😀😀", "😀"}},
		{"never splits a rune", "ééééé", 2, []string{"éé", "éé", "é"}},
		{"full-width stop", "日本語の文。次の文です", 6, []string{"日本語の文。", "次の文です"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := splitText(tt.text, tt.limit)
			assert.Equal(t, tt.want, got)
			for _, p := range got {
				assert.LessOrEqual(t, utf16Len(p), tt.limit)
				assert.True(t, utf8.ValidString(p))
			}
		})
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("Hello there. How are you?\n\nFine.", 10)
	f.Add(strings.Repeat("😀 a", 50), 7)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 2 || limit > 5000 || !utf8.ValidString(s) {
			return
		}
		parts := splitText(s, limit)
		var b strings.Builder
		for _, p := range parts {
			if utf16Len(p) > limit {
				t.Fatalf("part of %d units over %d", utf16Len(p), limit)
			}
			b.WriteString(p)
		}
		// Only whitespace is dropped.
		strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
		if strip(b.String()) != strip(s) {
			t.Fatalf("content lost")
		}
	})
}

func TestMediaReader(t *testing.T) {
	content := []byte("0123456789")
	sum := sha256.Sum256(content)
	t.Run("ok", func(t *testing.T) {
		r := &mediaReader{rc: io.NopCloser(bytes.NewReader(content)), left: 10, max: 10, want: sum[:], h: sha256.New()}
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		assert.Equal(t, content, got)
	})
	t.Run("over the cap while streaming", func(t *testing.T) {
		r := &mediaReader{rc: io.NopCloser(bytes.NewReader(content)), left: 9, max: 9, h: sha256.New()}
		_, err := io.ReadAll(r)
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
	})
	t.Run("hash mismatch", func(t *testing.T) {
		bad := sha256.Sum256([]byte("x"))
		r := &mediaReader{rc: io.NopCloser(bytes.NewReader(content)), left: 10, max: 10, want: bad[:], h: sha256.New()}
		_, err := io.ReadAll(r)
		require.ErrorIs(t, err, channel.ErrInvalidMessage)
	})
	t.Run("sha256 encodings", func(t *testing.T) {
		assert.Equal(t, sum[:], decodeSHA256(hex.EncodeToString(sum[:])))
		assert.Nil(t, decodeSHA256("not a hash"))
	})
}

func TestRecipientKinds(t *testing.T) {
	for _, s := range []string{"16505551234", "+16505551234"} {
		assert.True(t, isPhone(s), s)
	}
	for _, s := range []string{"US.13491208655302741918", "US.ENT.11815799212886844830", "BR.abcXYZ123"} {
		assert.True(t, isBSUID(s), s)
	}
	for _, s := range []string{"", "1234", "us.123", "US.", "US.12 34", "hello", "US.123."} {
		assert.False(t, isPhone(s) || isBSUID(s), s)
	}
}
