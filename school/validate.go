package school

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of what the API stores. Generous for real data, small enough that nothing absurd
// reaches the database.
const (
	maxRefLen  = 100
	maxNameLen = 200
	maxCodeLen = 64 // NEPH, authorisation number as typed
)

// Lesson times outside these years are typing errors; refusing them also keeps every value
// inside what PostgreSQL and the DSR's date format represent.
const (
	minLessonYear = 2000
	maxLessonYear = 2100
)

// Limits exported for the HTTP layers' own checks (a path's ref).
const MaxRefLen = maxRefLen

// fieldErrors collects the bad fields of one request: the answer lists them all at once.
type fieldErrors []FieldError

func (e *fieldErrors) add(field, message string) {
	*e = append(*e, FieldError{Field: field, Message: message})
}

// problem is nil when every field was fine, else a 422 listing them.
func (e fieldErrors) problem() error {
	if len(e) == 0 {
		return nil
	}
	out := append([]FieldError(nil), e...)
	return Invalid(out...)
}

// SortFieldErrors orders field errors by field name, so an answer is stable.
func SortFieldErrors(fs []FieldError) {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Field < fs[j].Field })
}

// cleanText trims a text field and checks it: required or not, valid UTF-8, at most max
// characters, no control characters (PostgreSQL refuses NUL, and none belongs in a name). A refused value
// comes back empty, so nothing looks it up in the database.
func (e *fieldErrors) cleanText(field, value string, required bool, max int) string {
	v := strings.TrimSpace(value)
	switch {
	case v == "" && required:
		e.add(field, "Champ obligatoire.")
	case !utf8.ValidString(v):
		// JSON bodies arrive as UTF-8 (the decoder replaces bad bytes); a path or a query
		// string may not, and PostgreSQL refuses such text (found by FuzzIngestStudent).
		e.add(field, "Texte illisible : encodage UTF-8 attendu.")
		return ""
	case utf8.RuneCountInString(v) > max:
		e.add(field, fmt.Sprintf("%d caractères au plus.", max))
		return ""
	case strings.ContainsFunc(v, unicode.IsControl):
		e.add(field, "Caractère de contrôle non autorisé.")
		return ""
	case strings.ContainsFunc(v, isFormatChar):
		// Bidirectional overrides (U+202E) and other invisible format characters (Unicode
		// category Cf: zero-width spaces, BOM) make a name read differently from what is
		// stored and sent to the DSR (issue 18's probe).
		e.add(field, "Caractère invisible ou de mise en forme (par exemple U+202E) non autorisé.")
		return ""
	}
	return v
}

// isFormatChar is Unicode category Cf (format characters).
func isFormatChar(r rune) bool { return unicode.Is(unicode.Cf, r) }

// ValidLookupRef reports whether ref could have been stored: one that could not cannot
// exist, so a lookup (GET, POST action) answers it like any other unknown ref.
func ValidLookupRef(ref string) bool { return CheckRef("ref", ref) == nil }

// CheckRef validates an external id taken from the path.
func CheckRef(field, ref string) error {
	var errs fieldErrors
	if ref != strings.TrimSpace(ref) {
		errs.add(field, "L'identifiant ne doit pas commencer ni finir par un espace.")
	} else {
		errs.cleanText(field, ref, true, maxRefLen)
	}
	return errs.problem()
}

// parseTime reads an RFC 3339 time with its offset ("2021-12-09T15:00:00+01:00").
func (e *fieldErrors) parseTime(field, value string, required bool) (time.Time, bool) {
	if value == "" {
		if required {
			e.add(field, "Champ obligatoire : date et heure au format RFC 3339 avec décalage horaire, par exemple 2021-12-09T15:00:00+01:00.")
		}
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		e.add(field, "Date et heure invalides : format RFC 3339 avec décalage horaire attendu, par exemple 2021-12-09T15:00:00+01:00.")
		return time.Time{}, false
	}
	if !validOffset(value) {
		e.add(field, "Décalage horaire invalide : entre -12:00 et +14:00, minutes de 00 à 59 (par exemple +01:00).")
		return time.Time{}, false
	}
	if y := t.UTC().Year(); y < minLessonYear || y > maxLessonYear {
		e.add(field, fmt.Sprintf("Date hors limites : l'année doit être comprise entre %d et %d.", minLessonYear, maxLessonYear))
		return time.Time{}, false
	}
	// PostgreSQL keeps microseconds: compare and store what it will give back.
	return t.Truncate(time.Microsecond), true
}

// validOffset checks an RFC 3339 time's offset as written: time.Parse takes "+24:00" and
// "+01:60" (issue 18's probe), which no clock shows. Real offsets run from -12:00 to +14:00.
func validOffset(value string) bool {
	if strings.HasSuffix(value, "Z") || strings.HasSuffix(value, "z") {
		return true
	}
	if len(value) < 6 {
		return false
	}
	off := value[len(value)-6:]
	if (off[0] != '+' && off[0] != '-') || off[3] != ':' {
		return false
	}
	h, errH := strconv.Atoi(off[1:3])
	m, errM := strconv.Atoi(off[4:6])
	if errH != nil || errM != nil || m > 59 {
		return false
	}
	minutes := h*60 + m
	if off[0] == '-' {
		return minutes <= 12*60
	}
	return minutes <= 14*60
}
