package domain

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The parsers take whatever the management software sends: they must never panic, and what
// they accept must be in the DSR's format.
func FuzzNormalizeNEPH(f *testing.F) {
	for _, s := range []string{"123456789012", "0123 4567 8901", "", "abc", "١٢٣", strings.Repeat("9", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := NormalizeNEPH(raw)
		if ok && (len(got) != 12 || !allDigits(got)) {
			t.Fatalf("NormalizeNEPH(%q) accepted %q", raw, got)
		}
	})
}

func FuzzNormalizeAuthorization(f *testing.F) {
	for _, s := range []string{"A1234567890", "a 12.345.678.90", "A0000000000", "", "B12", "A\u00a01234567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := NormalizeAuthorization(raw)
		if ok && (len(got) != 11 || got[0] != 'A' || !allDigits(got[1:])) {
			t.Fatalf("NormalizeAuthorization(%q) accepted %q", raw, got)
		}
		if ok {
			if again, ok2 := NormalizeAuthorization(got); !ok2 || again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		}
	})
}

func FuzzSearchKey(f *testing.F) {
	for _, s := range []string{"Mélanie Perrin", "ÉLÈVE", "", "\xff\xfe", "Œ œ ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		k := SearchKey(raw)
		if utf8.ValidString(raw) && !utf8.ValidString(k) {
			t.Fatalf("SearchKey(%q) = %q is not UTF-8", raw, k)
		}
		if SearchKey(k) != k {
			t.Fatalf("SearchKey is not idempotent on %q", raw)
		}
	})
}

// Evaluate never panics, whatever the facts, and always says why a lesson is not sent.
func FuzzEvaluate(f *testing.F) {
	f.Add("B", "123456789012", true, "A1234567890", false, "conduite", int64(0), int64(3600), int64(-60), true, false)
	f.Add("", "", false, "", true, "", int64(10), int64(0), int64(0), false, true)
	f.Fuzz(func(t *testing.T, cat, neph string, eval bool, auth string, sim bool, typ string, start, end, planned int64, linked, cancelled bool) {
		base := time.Date(2021, 12, 9, 10, 0, 0, 0, Paris)
		v := Evaluate(LessonFacts{Category: Category(cat), NEPH: neph, InitialEvaluationAccepted: eval, AuthorizationNumber: auth,
			InstructorSimulator: sim, Type: LessonType(typ), Start: base.Add(time.Duration(start) * time.Second),
			End: base.Add(time.Duration(end) * time.Second), PlannedAt: base.Add(time.Duration(planned) * time.Second),
			OfficeLinked: linked, OfficeLinkedAt: base.Add(-time.Hour), Cancelled: cancelled})
		if v.Status != StatusPending && v.Message == "" {
			t.Fatalf("verdict %s without a French reason", v.Status)
		}
	})
}

func FuzzNormalizeAgrement(f *testing.F) {
	for _, s := range []string{"E0203100010", "e 02.031.000.10", "E020310001", "", "É0203100010", "E\u00a00203100010"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := NormalizeAgrement(raw)
		if !ok {
			return
		}
		if len(got) != 11 || got[0] != 'E' || !allDigits(got[1:]) {
			t.Fatalf("NormalizeAgrement(%q) accepted %q", raw, got)
		}
		if again, ok2 := NormalizeAgrement(got); !ok2 || again != got {
			t.Fatalf("not idempotent: %q -> %q", got, again)
		}
	})
}

// A business date (the ?date= of the report) is a Paris midnight that prints back as itself.
func FuzzParseBusinessDate(f *testing.F) {
	for _, s := range []string{"2021-12-09", "2026-03-29", "2026-10-25", "2021-02-30", "", "0000-01-01", "9999-12-31", "2021-1-9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		d, err := ParseBusinessDate(raw)
		if err != nil {
			return
		}
		if BusinessDate(d) != raw {
			t.Fatalf("ParseBusinessDate(%q) prints back as %q", raw, BusinessDate(d))
		}
		if !StartOfDay(d).Equal(d) {
			t.Fatalf("ParseBusinessDate(%q) = %v is not the day's start", raw, d)
		}
	})
}
