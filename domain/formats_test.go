package domain

import (
	"slices"
	"testing"
)

func TestNormalizeNEPH(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"123456789012", "123456789012", true},
		{"0123 4567 8901", "012345678901", true},
		{" 012345678901 ", "012345678901", true},
		{"", "", false},
		{"12345678901", "12345678901", false},
		{"1234567890123", "1234567890123", false},
		{"12345678901A", "12345678901A", false},
		{"١٢٣٤٥٦٧٨٩٠١٢", "١٢٣٤٥٦٧٨٩٠١٢", false}, // non-ASCII digits are not digits for the DSR
	}
	for _, tc := range cases {
		got, ok := NormalizeNEPH(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeNEPH(%q) = %q,%v want %q,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNormalizeAuthorization(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"A1234567890", "A1234567890", true},
		{"a1234567890", "A1234567890", true},
		{"A 12.345.678.90", "A1234567890", true},
		{"A0000000000", "A0000000000", true},
		{"", "", false},
		{"1234567890", "1234567890", false},
		{"B1234567890", "B1234567890", false},
		{"A123456789", "A123456789", false},
		{"A12345678901", "A12345678901", false},
		{"A12345678X0", "A12345678X0", false},
	}
	for _, tc := range cases {
		got, ok := NormalizeAuthorization(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeAuthorization(%q) = %q,%v want %q,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNormalizeAgrement(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"E0203100010", "E0203100010", true},
		{"e 02 031 000 10", "E0203100010", true},
		{"E020310001", "E020310001", false},
		{"F0203100010", "F0203100010", false},
		{"", "", false},
	}
	for _, tc := range cases {
		got, ok := NormalizeAgrement(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeAgrement(%q) = %q,%v want %q,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCategories(t *testing.T) {
	for _, c := range Categories() {
		if _, ok := ParseCategory(string(c)); !ok {
			t.Errorf("listed category %s does not parse", c)
		}
		if c.Label() == "" || c.DSRCode() == "" {
			t.Errorf("category %s lacks a label or DSR code", c)
		}
		want := c == CategoryB || c == CategoryBAuto || c == CategoryBAAC || c == CategoryBCS
		if (c.Group() == GroupB) != want {
			t.Errorf("%s.Group() = %q, want B: %v", c, c.Group(), want)
		}
	}
	if _, ok := ParseCategory("b"); ok {
		t.Error("category codes are exact")
	}
}

func TestLessonTypes(t *testing.T) {
	sent := map[LessonType]string{
		TypeConduite: "Leçon de conduite", TypeConduiteBoiteAuto: "Leçon de conduite Boîte Auto",
		TypeSimulateur: "Simulateur", TypeSimulateurBoiteAuto: "Simulateur Boîte Auto",
	}
	if got := len(LessonTypes()); got != 19 {
		t.Fatalf("%d lesson types, want the 16 of api.md and plateau, circulation, simulateur_moto", got)
	}
	guide := TypesSent(ScopeGuide, GroupB)
	for _, lt := range LessonTypes() {
		if _, ok := ParseLessonType(string(lt)); !ok {
			t.Errorf("listed type %s does not parse", lt)
		}
		label, isSent := sent[lt]
		if slices.Contains(guide, lt) != isSent {
			t.Errorf("%s sent in scope guide = %v, want %v", lt, !isSent, isSent)
		}
		if isSent && lt.Label() != label {
			t.Errorf("%s.Label() = %q, want the seed's %q", lt, lt.Label(), label)
		}
		if lt.Label() == "" {
			t.Errorf("%s has no French label", lt)
		}
	}
	if len(guide) != 4 {
		t.Error("the vendor guide sends four lesson types")
	}
}

func TestNormalizeEmail(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"gerant@ecole-demo.fr", "gerant@ecole-demo.fr", true},
		{"  Gerant@Ecole-Demo.FR ", "gerant@ecole-demo.fr", true},
		{"Jean Dupont <jean.dupont@ecole.fr>", "jean.dupont@ecole.fr", true},
		{`"Bureau, Sud" <sud+alertes@ecole.fr>`, "sud+alertes@ecole.fr", true},
		{"élève@école.fr", "élève@école.fr", true},
		{"", "", false},
		{"gerant", "gerant", false},
		{"gerant@", "gerant@", false},
		{"@ecole.fr", "@ecole.fr", false},
		{"gerant@localhost", "gerant@localhost", false},
		{"gerant@ecole.", "gerant@ecole.", false},
		{"gerant@.ecole.fr", "gerant@.ecole.fr", false},
		{"gerant@ecole..fr", "gerant@ecole..fr", false},
		{"gerant@[127.0.0.1]", "gerant@[127.0.0.1]", false},
		{"a@ecole.fr, b@ecole.fr", "a@ecole.fr, b@ecole.fr", false},
		{"gerant ecole.fr", "gerant ecole.fr", false},
	}
	for _, tc := range cases {
		got, ok := NormalizeEmail(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("NormalizeEmail(%q) = %q,%v want %q,%v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
