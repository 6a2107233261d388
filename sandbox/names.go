package sandbox

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// sameName compares two family names the way the DSR's NOM+NEPH lookup is modelled: trimmed,
// case-insensitive and accent-insensitive ("Lefèvre" matches "LEFEVRE"). Inner spaces and
// hyphens are kept: "JEAN PIERRE" and "JEAN-PIERRE" are different spellings to fix.
func sameName(a, b string) bool {
	return foldName(a) == foldName(b)
}

func foldName(s string) string {
	// NFD splits "è" into "e" + a combining grave accent, which the filter then drops.
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, strings.TrimSpace(s))
	if err != nil {
		folded = strings.TrimSpace(s)
	}
	return strings.ToUpper(folded)
}

// normalizeEmail is the key an account is found by at login.
func normalizeEmail(s string) string {
	return strings.ToLower(strings.TrimSpace(s))
}
