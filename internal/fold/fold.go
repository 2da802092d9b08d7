package fold

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// table maps accented Latin letters, already lower-cased, to their base.
var table = map[rune]string{
	'á': "a", 'à': "a", 'â': "a", 'ä': "a", 'ã': "a", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a",
	'é': "e", 'è': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'í': "i", 'ì': "i", 'î': "i", 'ï': "i", 'ī': "i", 'į': "i", 'ı': "i",
	'ó': "o", 'ò': "o", 'ô': "o", 'ö': "o", 'õ': "o", 'ø': "o", 'ō': "o", 'ő': "o",
	'ú': "u", 'ù': "u", 'û': "u", 'ü': "u", 'ū': "u", 'ů': "u", 'ű': "u", 'ų': "u",
	'ý': "y", 'ÿ': "y",
	'ñ': "n", 'ń': "n", 'ň': "n",
	'ç': "c", 'ć': "c", 'č': "c",
	'ś': "s", 'š': "s", 'ș': "s", 'ş': "s",
	'ź': "z", 'ż': "z", 'ž': "z",
	'ł': "l", 'ď': "d", 'ř': "r", 'ť': "t", 'ț': "t", 'ğ': "g",
	'ß': "ss", 'æ': "ae", 'œ': "oe",
	'º': "o", 'ª': "a",
	'’': "'", '‘': "'", '´': "'", '`': "'",
}

// String returns s lower-cased with diacritics removed. Invalid UTF-8 bytes
// become U+FFFD.
func String(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		if t, ok := table[r]; ok {
			b.WriteString(t)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Words returns the folded words of s: runs of letters and digits, every
// other character a separator. "¡STOP!" and "stop" both give ["stop"];
// "don't stop" gives ["don", "t", "stop"].
func Words(s string) []string {
	return strings.FieldsFunc(String(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Phrase returns the words of s joined by single spaces, the form phrases
// are compared in.
func Phrase(s string) string { return strings.Join(Words(s), " ") }

// Contains reports whether the words of phrase appear in text one after
// the other as whole words, comparing folded forms: "hablar con una
// persona" is in "¿Puedo HABLAR con una persona?" but "stop" is not in
// "stopwatch".
func Contains(text, phrase string) bool {
	p := Phrase(phrase)
	if p == "" {
		return false
	}
	return strings.Contains(" "+Phrase(text)+" ", " "+p+" ")
}
