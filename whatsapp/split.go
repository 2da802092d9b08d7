package whatsapp

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// splitText splits s into parts of at most limit UTF-16 code units, the
// strictest way of counting "characters" (an emoji counts two), so that
// every part fits whatever WhatsApp counts. It prefers to split at the
// last paragraph break, then line break, then sentence end, then space in
// the second half of each part, and cuts at a character boundary only
// when a part holds no space at all. Whitespace around a split is dropped;
// the parts joined with it give s back.
func splitText(s string, limit int) []string {
	if utf16Len(s) <= limit {
		return []string{s}
	}
	var parts []string
	for utf16Len(s) > limit {
		window := s[:prefix(s, limit)]
		i := breakAt(window)
		if i == 0 { // a limit smaller than one character
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

// prefix returns the byte length of the longest prefix of s that is at
// most limit UTF-16 code units, ending on a rune boundary.
func prefix(s string, limit int) int {
	n := 0
	for i, r := range s {
		w := 1
		if r >= 0x10000 {
			w = 2
		}
		if n+w > limit {
			return i
		}
		n += w
	}
	return len(s)
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}
