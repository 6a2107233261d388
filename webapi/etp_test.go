package webapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"livret/domain"
)

// The ETP (docs/rules.md, "ETP"; docs/api.md, GET /v1/etp) on an office holding lessons of
// every kind, on 2 December 2026: the computation is on 23 December (the 25th is Christmas),
// its window from 23 September to 22 December.

// etpToday is when the figures are asked without a date.
var etpToday = time.Date(2026, 12, 2, 12, 0, 0, 0, domain.Paris)

// etpFixture is school A, scope etendu, with AE LAURIANE linked and, in the window:
//
//   - Jean Dupont (A1234567890, two records: jean and jean-bis): Mélanie's AAC lesson of 2 h
//     (2.4 counted), Lou's 1 h, a collective theory session of 2 h for 5 students of which 4
//     transmitted (8 h, counted 2) and one refused by the DSR (adds nothing), Lou's 1 h under
//     jean-bis; at risk: Nina's 1 h 30 without a NEPH, Mélanie's pending AAC hour (1.2);
//   - Marie Lefèvre (moto): Camille's plateau of 2 h, her circulation of 1 h pending;
//   - Paul Martin, whose number the DSR refuses: Lou's 1 h, in error;
//   - the simulator: Lou's 3 × 2 h unsupervised, 5 h counted;
//
// and outside it: a lesson of 22 September, one of 23 December, a cancelled one, a theory
// lesson taken alone on the simulator (not concerned).
func etpFixture(e *env) school {
	e.t.Helper()
	a := linkedSchool(e)
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": "etendu"}).want(e.t, http.StatusOK)
	student := func(ref, first, last, neph, category string) {
		e.put(a.Key, "/v1/students/"+ref, map[string]any{"office_ref": officeLauriane, "first_name": first, "last_name": last,
			"neph": neph, "category": category, "initial_evaluation_accepted": true})
	}
	student("melanie", "Mélanie", "Perrin", "123456789012", "B_AAC")
	student("lou", "Lou", "Michel", "210987654321", "B")
	student("camille", "Camille", "Roux", "310987654321", "A2")
	student("nina", "Nina", "Sans-Neph", "", "B")
	for i, ref := range []string{"s1", "s2", "s3", "s4"} {
		student(ref, "Élève", strings.ToUpper(ref), "41098765432"+string(rune('1'+i)), "B")
	}
	instructor := func(ref, first, last, number string, simulator bool) {
		e.put(a.Key, "/v1/instructors/"+ref, map[string]any{"first_name": first, "last_name": last,
			"authorization_number": number, "simulator": simulator})
	}
	instructor("jean", "Jean", "Dupont", "A 12.345.678.90", false)
	instructor("jean-bis", "Jean", "Dupont", "A1234567890", false)
	instructor("marie", "Marie", "Lefèvre", "A 22.222.222.22", false)
	instructor("paul", "Paul", "Martin", "A12345", false)
	instructor("simu", "", "Simulateur", "A0000000000", true)

	type lesson struct {
		ref, student, instructor, typ, day, start, end, session string
		outcome                                                 string // transmitted, dsr-error, as judged ("")
	}
	lessons := []lesson{
		{"aac", "melanie", "jean", "conduite", "2026-11-02", "10:00", "12:00", "", "transmitted"},
		{"lou-1", "lou", "jean", "conduite", "2026-11-03", "10:00", "11:00", "", "transmitted"},
		{"code-lou", "lou", "jean", "code", "2026-11-04", "18:00", "20:00", "code-1", "transmitted"},
		{"code-s1", "s1", "jean", "code", "2026-11-04", "18:00", "20:00", "code-1", "transmitted"},
		{"code-s2", "s2", "jean", "code", "2026-11-04", "18:00", "20:00", "code-1", "transmitted"},
		{"code-s3", "s3", "jean", "code", "2026-11-04", "18:00", "20:00", "code-1", "transmitted"},
		{"code-s4", "s4", "jean", "code", "2026-11-04", "18:00", "20:00", "code-1", "dsr-error"},
		{"lou-bis", "lou", "jean-bis", "conduite", "2026-11-05", "10:00", "11:00", "", "transmitted"},
		{"lou-paul", "lou", "paul", "conduite", "2026-11-06", "10:00", "11:00", "", ""},        // FORMAT_AUTORISATION_INVALIDE
		{"nina", "nina", "jean", "conduite", "2026-11-07", "10:00", "11:30", "", ""},           // NEPH_MANQUANT
		{"aac-pending", "melanie", "jean", "conduite", "2026-12-01", "10:00", "11:00", "", ""}, // pending
		{"plateau", "camille", "marie", "plateau", "2026-10-10", "09:00", "11:00", "", "transmitted"},
		{"circulation", "camille", "marie", "circulation", "2026-12-20", "09:00", "10:00", "", ""}, // pending
		{"simu-1", "lou", "simu", "simulateur", "2026-10-05", "08:00", "10:00", "", "transmitted"},
		{"simu-2", "lou", "simu", "simulateur", "2026-10-05", "14:00", "16:00", "", "transmitted"},
		{"simu-3", "lou", "simu", "simulateur", "2026-10-06", "08:00", "10:00", "", "transmitted"},
		{"before", "lou", "jean", "conduite", "2026-09-22", "10:00", "11:00", "", "transmitted"},
		{"after", "lou", "jean", "conduite", "2026-12-23", "09:00", "10:00", "", ""},
		{"cancelled", "lou", "jean", "conduite", "2026-11-10", "10:00", "11:00", "", ""},
		{"code-alone", "lou", "simu", "code", "2026-11-11", "10:00", "11:00", "", ""},
	}
	for _, l := range lessons {
		at := func(hm string) string {
			t, err := time.ParseInLocation("2006-01-02 15:04", l.day+" "+hm, domain.Paris)
			must(e.t, err)
			return t.Format(time.RFC3339)
		}
		e.put(a.Key, "/v1/lessons/"+l.ref, map[string]any{"office_ref": officeLauriane, "student_ref": l.student,
			"instructor_ref": l.instructor, "type": l.typ, "start": at(l.start), "end": at(l.end), "session_ref": l.session})
		t := e.t.(*testing.T)
		switch l.outcome {
		case "transmitted":
			e.markTransmitted(t, e.lessonID(a.ID, l.ref), "LEC-"+l.ref)
		case "dsr-error":
			e.markDSRError(t, e.lessonID(a.ID, l.ref), string(domain.CodeEleveIntrouvable), domain.CodeEleveIntrouvable.Message())
		}
	}
	e.do("POST", "/v1/lessons/cancelled/cancel", a.Key, nil).want(e.t, http.StatusOK)
	for ref, want := range map[string]string{"lou-paul": "FORMAT_AUTORISATION_INVALIDE", "nina": "NEPH_MANQUANT",
		"code-alone": "TYPE_NON_CONCERNE", "aac-pending": "", "circulation": ""} {
		if got := e.lesson(a.Key, ref).code(); got != want {
			e.t.Fatalf("lesson %s: code %q, want %q", ref, got, want)
		}
	}
	return a
}

// etpAnswer is GET /v1/etp's JSON as a client reads it.
type etpAnswer struct {
	ComputationDate string `json:"computation_date"`
	Window          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"window"`
	Rules       string  `json:"rules"`
	Note        string  `json:"note"`
	Office      *string `json:"office"`
	Instructors []struct {
		Ref                 string       `json:"ref"`
		Name                string       `json:"name"`
		AuthorizationNumber string       `json:"authorization_number"`
		Simulator           bool         `json:"simulator"`
		Estimate            *etpEstimate `json:"estimate"`
		Groups              []struct {
			Group string `json:"group"`
			Label string `json:"label"`
			etpFigures
		} `json:"groups"`
	} `json:"instructors"`
	AtRisk struct {
		Lessons int     `json:"lessons"`
		Hours   float64 `json:"hours"`
		Pending int     `json:"pending"`
		Errors  []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Hint    string `json:"hint"`
			Lessons int    `json:"lessons"`
		} `json:"errors"`
	} `json:"at_risk"`
	Totals   etpFigures   `json:"totals"`
	Estimate *etpEstimate `json:"estimate"`
	Weeks    []struct {
		From         string  `json:"from"`
		CountedHours float64 `json:"counted_hours"`
		AtRiskHours  float64 `json:"at_risk_hours"`
	} `json:"weeks"`
}

type etpFigures struct {
	Hours         float64 `json:"hours"`
	CountedHours  float64 `json:"counted_hours"`
	AtRiskHours   float64 `json:"at_risk_hours"`
	Lessons       int     `json:"lessons"`
	AtRiskLessons int     `json:"at_risk_lessons"`
}

type etpEstimate struct {
	ETP   float64 `json:"etp"`
	Label string  `json:"label"`
}

func (e *env) etp(key, query string) etpAnswer {
	e.t.Helper()
	var r etpAnswer
	e.do("GET", "/v1/etp"+query, key, nil).want(e.t, http.StatusOK).json(e.t, &r)
	return r
}

// etpLine is one instructor × group, as every door shows it.
type etpLine struct {
	ref, number, group     string
	hours, counted, atRisk float64
	lessons, atRiskLessons int
}

func (r etpAnswer) lines() []etpLine {
	var out []etpLine
	for _, in := range r.Instructors {
		for _, g := range in.Groups {
			out = append(out, etpLine{in.Ref, in.AuthorizationNumber, g.Group, g.Hours, g.CountedHours, g.AtRiskHours, g.Lessons, g.AtRiskLessons})
		}
	}
	return out
}

func TestETPFigures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := etpFixture(e)
	e.srv.School.Now = func() time.Time { return etpToday }

	r := e.etp(a.Key, "?office="+officeLauriane)
	if r.ComputationDate != "2026-12-23" || r.Window.From != "2026-09-23" || r.Window.To != "2026-12-22" || r.Rules != "etp-2026-12" ||
		r.Office == nil || *r.Office != officeLauriane {
		t.Fatalf("computation, window, rules, office: %+v", r)
	}
	if !strings.Contains(r.Note, "nuit du 23 au 24 décembre 2026") || !strings.Contains(r.Note, "25 décembre est férié : Noël") {
		t.Fatalf("note %q", r.Note)
	}
	want := []etpLine{
		{"jean", "A1234567890", "B", 12, 6.4, 2.7, 7, 3},
		{"marie", "A2222222222", "moto", 2, 2, 1, 1, 1},
		{"paul", "A12345", "B", 0, 0, 1, 0, 1},
		{"simu", "A0000000000", "B", 6, 5, 0, 3, 0},
	}
	if got := r.lines(); !equalLines(got, want) {
		t.Fatalf("lines\n%+v\nwant\n%+v", got, want)
	}
	if !r.Instructors[3].Simulator || r.Instructors[0].Name != "Jean Dupont" || r.Instructors[0].Groups[0].Label != domain.GroupB.Label() {
		t.Fatalf("rows: %+v", r.Instructors)
	}
	if r.Totals != (etpFigures{20, 13.4, 4.7, 11, 5}) {
		t.Fatalf("totals %+v", r.Totals)
	}
	if r.AtRisk.Lessons != 5 || r.AtRisk.Hours != 4.7 || r.AtRisk.Pending != 2 || len(r.AtRisk.Errors) != 3 {
		t.Fatalf("at risk %+v", r.AtRisk)
	}
	for i, code := range []domain.Code{domain.CodeEleveIntrouvable, domain.CodeFormatAutorisationInvalide, domain.CodeNEPHManquant} {
		if f := r.AtRisk.Errors[i]; f.Code != string(code) || f.Lessons != 1 || f.Message != code.Message() || f.Hint != code.Hint() {
			t.Fatalf("fix %d: %+v, want %s", i, f, code)
		}
	}
	// The chart's weeks: 14, from the window's first day, adding up to the totals.
	var counted, atRisk float64
	for _, w := range r.Weeks {
		counted += w.CountedHours
		atRisk += w.AtRiskHours
	}
	if len(r.Weeks) != 14 || r.Weeks[0].From != "2026-09-23" || math.Abs(counted-13.4) > 0.011 || math.Abs(atRisk-4.7) > 0.011 {
		t.Fatalf("weeks %+v (counted %v, at risk %v)", r.Weeks, counted, atRisk)
	}
	// What the warning before the computation will read: the school's hours at risk.
	sc, err := e.srv.School.SchoolByID(context.Background(), a.ID)
	must(t, err)
	risk, err := e.srv.School.ETPAtRisk(context.Background(), sc, etpToday)
	must(t, err)
	if domain.BusinessDate(risk.Computation) != "2026-12-23" || risk.Lessons != 5 || risk.Hours != 4.7 ||
		!e.srv.School.ETPNextComputation(etpToday).Equal(risk.Computation) {
		t.Fatalf("at risk for the warning: %+v", risk)
	}

	// No hours per ETP in this deployment: no estimate anywhere.
	raw := e.do("GET", "/v1/etp", a.Key, nil).want(t, http.StatusOK)
	if strings.Contains(string(raw.body), "estimat") {
		t.Fatalf("an estimate without hours per ETP: %s", raw.body)
	}

	// A lesson moved is read where it now is: the transmission's copy of its start follows
	// it (the ETP's read joins on it). Camille's pending circulation goes from the week of 14
	// December to the last one.
	e.put(a.Key, "/v1/lessons/circulation", map[string]any{"office_ref": officeLauriane, "student_ref": "camille",
		"instructor_ref": "marie", "type": "circulation", "start": "2026-12-22T14:00:00+01:00", "end": "2026-12-22T15:00:00+01:00"})
	moved := e.etp(a.Key, "?office="+officeLauriane)
	if !equalLines(moved.lines(), want) || moved.Weeks[12].AtRiskHours != 0 || moved.Weeks[13].AtRiskHours != 1 {
		t.Fatalf("after moving a lesson: %+v, weeks %+v", moved.lines(), moved.Weeks)
	}

	// The whole school is this office; the day after the computation, next month's window.
	if s := e.etp(a.Key, ""); s.Office != nil || !equalLines(s.lines(), want) {
		t.Fatalf("the school's figures: %+v", s)
	}
	next := e.etp(a.Key, "?office="+officeLauriane+"&at=2026-12-24")
	if next.ComputationDate != "2027-01-24" || next.Window.From != "2026-10-24" || next.Window.To != "2027-01-23" {
		t.Fatalf("next month: %+v", next)
	}
	if got, want := next.lines(), []etpLine{
		{"jean", "A1234567890", "B", 12, 6.4, 3.7, 7, 4},
		{"marie", "A2222222222", "moto", 0, 0, 1, 0, 1},
		{"paul", "A12345", "B", 0, 0, 1, 0, 1},
	}; !equalLines(got, want) {
		t.Fatalf("next month's lines\n%+v\nwant\n%+v", got, want)
	}

	// The CSV: the same rows.
	ans := e.do("GET", "/v1/etp?office="+officeLauriane+"&format=csv", a.Key, nil).want(t, http.StatusOK)
	if ct := ans.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" ||
		!strings.Contains(ans.header.Get("Content-Disposition"), `filename="livret-etp-2026-12-23.csv"`) {
		t.Fatalf("CSV headers %v", ans.header)
	}
	if got := csvLines(t, ans.body, false); !equalLines(got, want) {
		t.Fatalf("CSV lines\n%+v\nwant\n%+v", got, want)
	}

	// Refusals, in French, naming the field.
	for _, bad := range []string{"?at=2026-13-01", "?at=demain", "?at=", "?at=1999-12-31"} {
		if p := e.do("GET", "/v1/etp"+bad, a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity); p.message("at") == "" {
			t.Fatalf("%s: %+v", bad, p)
		}
	}
	if p := e.do("GET", "/v1/etp?office=inconnu", a.Key, nil).wantProblem(t, http.StatusNotFound); p.message("office") != "Bureau inconnu." {
		t.Fatalf("unknown office: %+v", p)
	}
	if p := e.do("GET", "/v1/etp?format=xlsx", a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity); p.message("format") == "" {
		t.Fatalf("unknown format: %+v", p)
	}
	e.do("GET", "/v1/etp", "", nil).wantProblem(t, http.StatusUnauthorized)
}

func equalLines(a, b []etpLine) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// csvLines reads GET /v1/etp?format=csv's rows back (French decimals), checking the file is
// what Excel opens in France: a BOM, ';', the French header.
func csvLines(t *testing.T, body []byte, withEstimate bool) []etpLine {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\ufeff")) {
		t.Fatalf("no BOM: %q", body[:min(len(body), 20)])
	}
	cr := csv.NewReader(bytes.NewReader(body[3:]))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	must(t, err)
	header := strings.Join(recs[0], ";")
	if !strings.HasPrefix(header, "Date de calcul;Fenêtre du;Fenêtre au;Bureau;Formateur;Réf. formateur;N° d'autorisation d'enseigner;Catégories;Heures transmises;Heures comptées;Heures à risque;Leçons transmises;Leçons à risque;Règles") ||
		strings.Contains(header, "estimation") != withEstimate {
		t.Fatalf("header %q", header)
	}
	groups := map[string]string{domain.GroupB.Label(): "B", domain.GroupMoto.Label(): "moto", domain.GroupLourd.Label(): "lourd"}
	var out []etpLine
	for _, r := range recs[1:] {
		if r[0] != "23/12/2026" || r[1] != "23/09/2026" || r[2] != "22/12/2026" || r[13] != "etp-2026-12" {
			t.Fatalf("row %q", r)
		}
		out = append(out, etpLine{r[5], r[6], groups[r[7]], frenchNumber(t, r[8]), frenchNumber(t, r[9]), frenchNumber(t, r[10]),
			int(frenchNumber(t, r[11])), int(frenchNumber(t, r[12]))})
	}
	return out
}

func frenchNumber(t *testing.T, s string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(strings.Replace(strings.TrimSuffix(strings.TrimSpace(s), " h"), ",", ".", 1), 64)
	if err != nil {
		t.Fatalf("not a French number: %q", s)
	}
	return f
}
