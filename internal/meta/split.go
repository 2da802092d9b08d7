package meta

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// UTF16Width counts a rune as the UTF-16 code units it takes: 2 for runes
// outside the Basic Multilingual Plane (most emoji), 1 otherwise. It is the
// strictest way of counting "characters", for APIs that count them.
func UTF16Width(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// UTF8Width counts a rune as the bytes of its UTF-8 encoding, for APIs
// whose limits are in bytes (Instagram: 1000 bytes of text).
func UTF8Width(r rune) int {
	if n := utf8.RuneLen(r); n > 0 {
		return n
	}
	return utf8.RuneLen(utf8.RuneError)
}

// Width returns the width of s, the sum of width over its runes.
func Width(s string, width func(rune) int) int {
	n := 0
	for _, r := range s {
		n += width(r)
	}
	return n
}

// SplitText splits s into parts of at most limit, measured by width (such
// as [UTF16Width] or [UTF8Width]), so that a text longer than a channel
// accepts goes out as several messages. It prefers to split at the last
// paragraph break, then line break, then sentence end, then space in the
// second half of each part, and cuts at a rune boundary only when a part
// holds no space at all. Whitespace around a split is dropped; the parts
// joined with it give s back. A limit smaller than one rune still makes
// progress, one rune per part.
func SplitText(s string, limit int, width func(rune) int) []string {
	if Width(s, width) <= limit {
		return []string{s}
	}
	var parts []string
	for Width(s, width) > limit {
		window := s[:prefixWithin(s, limit, width)]
		i := breakAt(window)
		if i == 0 {
			_, i = utf8.DecodeRuneInString(s)
		}
		part := strings.TrimRightFunc(s[:i], unicode.IsSpace)
		s = strings.TrimLeftFunc(s[i:], unicode.IsSpace)
		if part != "" {
			parts = append(parts, part)
		}
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}

// breakAt returns the byte index at which to end the part taken from
// window, a prefix of the text that fits the limit.
func breakAt(window string) int {
	half := len(window) / 2
	for _, sep := range []string{"\n\n", "\n"} {
		if i := strings.LastIndex(window, sep); i >= half && i > 0 {
			return i
		}
	}
	if i := lastSentenceEnd(window); i >= half && i > 0 {
		return i
	}
	if i := strings.LastIndexFunc(window, unicode.IsSpace); i > 0 {
		return i
	}
	return len(window)
}

// lastSentenceEnd returns the index just after the last sentence-ending
// punctuation that is followed by a space, or that is a full-width
// punctuation mark (which needs no space), or -1.
func lastSentenceEnd(s string) int {
	for i := len(s); i > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
		switch r {
		case '.', '!', '?', '…':
			if j := i + size; j < len(s) {
				if next, _ := utf8.DecodeRuneInString(s[j:]); unicode.IsSpace(next) {
					return j
				}
			}
		case '。', '！', '？', '．':
			return i + size
		}
	}
	return -1
}

// prefixWithin returns the byte length of the longest prefix of s whose
// width is at most limit, ending on a rune boundary.
func prefixWithin(s string, limit int, width func(rune) int) int {
	n := 0
	for i, r := range s {
		w := width(r)
		if n+w > limit {
			return i
		}
		n += w
	}
	return len(s)
}
