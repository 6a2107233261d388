package domain

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// SearchKey folds a name for the report's student search: lower case, accents removed,
// white space collapsed, so "Mélanie  PERRIN" and "melanie perrin" match.
func SearchKey(s string) string {
	// Invalid bytes first become U+FFFD: the transformers pass them through in ways that
	// a second pass changes again (found by FuzzSearchKey), and a key must be stable.
	s = strings.ToValidUTF8(s, "\uFFFD")
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	return strings.Join(strings.Fields(strings.ToLower(folded)), " ")
}
