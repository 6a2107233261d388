package webapi_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
)

// readCSV checks the export's framing (media type, BOM, ';') and returns its rows.
func readCSV(t *testing.T, ans answer) [][]string {
	t.Helper()
	ans.want(t, http.StatusOK)
	if ct := ans.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if !strings.HasPrefix(ans.header.Get("Content-Disposition"), `attachment; filename="livret-lecons-`) {
		t.Fatalf("Content-Disposition %q", ans.header.Get("Content-Disposition"))
	}
	body, ok := bytes.CutPrefix(ans.body, []byte("\ufeff"))
	if !ok {
		t.Fatal("no UTF-8 byte-order mark: Excel would misread the accents")
	}
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 || rows[0][0] != "Référence" || rows[0][2] != "Date et heure" || rows[0][11] != "Transmission" {
		t.Fatalf("header %v", rows)
	}
	return rows[1:]
}

// TestExportCSV: GET /v1/lessons?format=csv gives every lesson of the filter, not a page,
// with the report's columns in French; a bad filter is a problem, never a half file.
func TestExportCSV(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	// A name a spreadsheet would run as a formula.
	e.put(a.Key, "/v1/students/piege", map[string]any{"office_ref": officeLauriane, "first_name": "=HYPERLINK(\"x\")",
		"last_name": "Piège", "neph": "120675000099", "category": "B", "initial_evaluation_accepted": true})
	e.put(a.Key, "/v1/lessons/l-piege", map[string]any{"office_ref": officeLauriane, "student_ref": "piege", "instructor_ref": "jean",
		"type": "conduite", "start": "2021-12-08T10:00:00+01:00", "end": "2021-12-08T11:00:00+01:00"})

	// per_page does not cut the export: all five lessons, newest first, as the report lists them.
	rows := readCSV(t, e.do("GET", "/v1/lessons?format=csv&per_page=1", a.Key, nil))
	page := e.lessons(a.Key, "?per_page=100")
	if len(rows) != 5 || page.Total != 5 {
		t.Fatalf("%d rows, the report has %d", len(rows), page.Total)
	}
	for i, l := range page.Items {
		if rows[i][0] != l.Ref || rows[i][2] != l.Slot || rows[i][5] != l.TypeLabel {
			t.Fatalf("row %d %v, the report's line %+v", i, rows[i], l)
		}
	}
	var piege []string
	for _, r := range rows {
		if r[0] == "l-piege" {
			piege = r
		}
	}
	if piege == nil || !strings.HasPrefix(piege[7], "'=") || piege[6] != "Permis B" {
		t.Fatalf("the trap's row: %v", piege)
	}

	// The report's filters apply: Mélanie's simulator lesson is the one in error (25 min).
	rows = readCSV(t, e.do("GET", "/v1/lessons?format=csv&status=error&office="+officeLauriane, a.Key, nil))
	for _, r := range rows {
		if r[11] != "Erreur" || r[13] == "" || r[14] == "" {
			t.Fatalf("an error row without its status, message or hint: %v", r)
		}
	}
	if len(rows) != e.lessons(a.Key, "?status=error").Total {
		t.Fatalf("%d error rows", len(rows))
	}

	// Bad input: a problem document, no CSV at all.
	p := e.do("GET", "/v1/lessons?format=xls", a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity)
	if p.fields()[0] != "format" {
		t.Fatalf("unknown format: %+v", p)
	}
	e.do("GET", "/v1/lessons?format=csv&status=perdue", a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity)
	// Another school's office is unknown to this key, in the export as in the report.
	b := e.createSchool("Auto-école B", agrementB)
	e.do("GET", "/v1/lessons?format=csv&office="+officeLauriane, b.Key, nil).wantProblem(t, http.StatusUnprocessableEntity)
	if rows := readCSV(t, e.do("GET", "/v1/lessons?format=csv", b.Key, nil)); len(rows) != 0 {
		t.Fatalf("B exports A's lessons: %v", rows)
	}
}

// TestExportCSVPages: an export longer than one page of the cursor lists every lesson once.
func TestExportCSVPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Volume", agrementA)
	e.put(a.Key, "/v1/offices/big", map[string]any{"name": "Grand bureau"})
	fillLessons(t, e, a.ID, e.office(a.ID, "big").ID, "big", 1234, 30)
	rows := readCSV(t, e.do("GET", "/v1/lessons?format=csv", a.Key, nil))
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r[0]] {
			t.Fatalf("lesson %s exported twice", r[0])
		}
		seen[r[0]] = true
	}
	if len(rows) != 1234 || rows[0][0] != "big-l1234" || rows[len(rows)-1][0] != "big-l1" {
		t.Fatalf("%d rows from %s to %s, want 1234 from big-l1234 to big-l1", len(rows), rows[0][0], rows[len(rows)-1][0])
	}
}
