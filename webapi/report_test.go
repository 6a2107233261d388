package webapi_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// TestSeedExample ingests the vendor guide's example (docs/rules.md, "The report") and reads it back through every filter of
// the report, with the DSR's exact wording on the two lessons in error.
func TestSeedExample(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)

	const (
		durationMsg = "La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min."
		formatMsg   = "Le format du numéro d'autorisation du formateur n'est pas valide."
	)

	// "Leçons en erreur", Bureau AE LAURIANE, Période du 30/11/2021 au 15/12/2021.
	errs := e.lessons(a.Key, "?office="+officeLauriane+"&status=error&from=2021-11-30&to=2021-12-15")
	if got := refs(errs.Items); !slices.Equal(got, []string{"l-1300", "l-lou"}) || errs.Total != 2 {
		t.Fatalf("lessons in error: %v (total %d)", got, errs.Total)
	}
	simu, lou := errs.Items[0], errs.Items[1]
	if simu.Slot != "09/12/2021 13:00 - 13:25" || simu.TypeLabel != "Simulateur" ||
		simu.Student.FirstName != "Mélanie" || simu.Student.LastName != "Perrin" ||
		simu.Transmission.Status != "error" || simu.code() != "DUREE_INVALIDE" || simu.message() != durationMsg ||
		simu.Transmission.Hint == nil || *simu.Transmission.Hint != domain.CodeDureeInvalide.Hint() {
		t.Fatalf("the simulator lesson: %+v", simu)
	}
	if simu.Start != "2021-12-09T13:00:00+01:00" || simu.End != "2021-12-09T13:25:00+01:00" || simu.OfficeRef != officeLauriane {
		t.Fatalf("times or office: %+v", simu)
	}
	if lou.Slot != "09/12/2021 13:00 - 14:00" || lou.TypeLabel != "Leçon de conduite" || lou.Student.LastName != "Michel" ||
		lou.code() != "FORMAT_AUTORISATION_INVALIDE" || lou.message() != formatMsg || lou.InstructorRef != "paul" {
		t.Fatalf("Lou Michel's lesson: %+v", lou)
	}

	// Status filters; pending is the two valid lessons of Mélanie, newest first.
	if got := refs(e.lessons(a.Key, "?status=pending").Items); !slices.Equal(got, []string{"l-1500", "l-1000"}) {
		t.Fatalf("pending: %v", got)
	}
	if got := refs(e.lessons(a.Key, "?status=pending,error").Items); !slices.Equal(got, []string{"l-1500", "l-1300", "l-lou", "l-1000"}) {
		t.Fatalf("pending and error: %v", got)
	}
	if got := e.lessons(a.Key, "?status=transmitted"); got.Total != 0 || len(got.Items) != 0 {
		t.Fatalf("transmitted: %+v", got)
	}

	// Periods: inclusive Paris days.
	for _, c := range []struct {
		query string
		want  int
	}{
		{"?from=2021-12-09&to=2021-12-09", 4},
		{"?from=2021-12-10", 0},
		{"?to=2021-12-08", 0},
		{"?to=2021-12-09", 4},
		{"?from=2021-11-30&to=2021-12-15&office=" + officeLauriane, 4},
	} {
		if got := e.lessons(a.Key, c.query); got.Total != c.want || len(got.Items) != c.want {
			t.Errorf("%s: %d lessons (total %d), want %d", c.query, len(got.Items), got.Total, c.want)
		}
	}

	// "Recherche par élève": search, then the student's lessons.
	for _, q := range []string{"melanie", "PERRIN", "Perrin Mélanie", "mél"} {
		var found []struct {
			Ref       string `json:"ref"`
			OfficeRef string `json:"office_ref"`
			FirstName string `json:"first_name"`
			LastName  string `json:"last_name"`
		}
		e.do("GET", "/v1/students?q="+url.QueryEscape(q), a.Key, nil).want(t, http.StatusOK).json(t, &found)
		if len(found) != 1 || found[0].Ref != "melanie" || found[0].FirstName != "Mélanie" || found[0].OfficeRef != officeLauriane {
			t.Fatalf("search %q: %+v", q, found)
		}
	}
	var none []any
	e.do("GET", "/v1/students?q="+url.QueryEscape("Dupond"), a.Key, nil).want(t, http.StatusOK).json(t, &none)
	if len(none) != 0 {
		t.Fatalf("search Dupond: %v", none)
	}
	if got := refs(e.lessons(a.Key, "?student=melanie").Items); !slices.Equal(got, []string{"l-1500", "l-1300", "l-1000"}) {
		t.Fatalf("Mélanie's lessons: %v", got)
	}
	var mine lessonPage
	e.do("GET", "/v1/students/melanie/lessons?status=error", a.Key, nil).want(t, http.StatusOK).json(t, &mine)
	if got := refs(mine.Items); !slices.Equal(got, []string{"l-1300"}) || mine.Total != 1 || mine.PerPage != 10 || mine.Page != 1 {
		t.Fatalf("Mélanie's lessons in error: %+v", mine)
	}

	// The office card: "✖ 2 erreurs recensées".
	var offices []struct {
		Ref string `json:"ref"`
		DSR struct {
			Linked       bool    `json:"linked"`
			AccountEmail *string `json:"account_email"`
			LinkedAt     *string `json:"linked_at"`
		} `json:"dsr"`
		ErrorCount int             `json:"error_count"`
		LastRun    *map[string]any `json:"last_run"`
	}
	e.do("GET", "/v1/offices", a.Key, nil).want(t, http.StatusOK).json(t, &offices)
	if len(offices) != 1 || !offices[0].DSR.Linked || offices[0].ErrorCount != 2 || offices[0].LastRun != nil ||
		offices[0].DSR.AccountEmail == nil || *offices[0].DSR.AccountEmail != emailA1 || offices[0].DSR.LinkedAt == nil {
		t.Fatalf("offices: %+v", offices)
	}
}

// TestReportPagingAndFilters checks paging, the bad filters and the runs of an office.
func TestReportPagingAndFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)

	all := refs(e.lessons(a.Key, "").Items)
	if !slices.Equal(all, []string{"l-1500", "l-1300", "l-lou", "l-1000"}) {
		t.Fatalf("newest first: %v", all)
	}
	p1, p2, p3 := e.lessons(a.Key, "?per_page=3"), e.lessons(a.Key, "?per_page=3&page=2"), e.lessons(a.Key, "?per_page=3&page=3")
	if !slices.Equal(refs(p1.Items), all[:3]) || !slices.Equal(refs(p2.Items), all[3:]) || len(p3.Items) != 0 ||
		p1.Total != 4 || p3.Total != 4 || p2.Page != 2 || p2.PerPage != 3 {
		t.Fatalf("pages: %+v / %+v / %+v", p1, p2, p3)
	}

	for _, c := range []struct {
		query  string
		fields []string
	}{
		{"?status=envoyee", []string{"status"}},
		{"?from=09/12/2021", []string{"from"}},
		{"?to=2021-13-01", []string{"to"}},
		{"?from=2021-12-10&to=2021-12-09", []string{"to"}},
		{"?page=0", []string{"page"}},
		{"?page=abc", []string{"page"}},
		{"?per_page=101", []string{"per_page"}},
		{"?office=inconnu", []string{"office"}},
		{"?student=inconnu", []string{"student"}},
		{"?office=&status=x&page=-1", []string{"office", "status", "page"}},
	} {
		p := e.do("GET", "/v1/lessons"+c.query, a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity)
		if got := p.fields(); !slices.Equal(got, c.fields) {
			t.Errorf("%s: fields %v, want %v", c.query, got, c.fields)
		}
	}
	e.do("GET", "/v1/students/inconnu/lessons", a.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("GET", "/v1/students/melanie/lessons?per_page=0", a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity)
	for _, q := range []string{"", "?q=", "?q=a", "?q=%20%20e%20"} {
		p := e.do("GET", "/v1/students"+q, a.Key, nil).wantProblem(t, http.StatusUnprocessableEntity)
		if !slices.Equal(p.fields(), []string{"q"}) {
			t.Errorf("search %q: %v", q, p.fields())
		}
	}
	// LIKE's wildcards are plain characters in a search.
	var found []any
	e.do("GET", "/v1/students?q=%25%25", a.Key, nil).want(t, http.StatusOK).json(t, &found)
	if len(found) != 0 {
		t.Fatalf("%%%% matched %v", found)
	}

	// Runs, as the worker records them.
	var runs []map[string]any
	e.do("GET", "/v1/offices/"+officeLauriane+"/runs", a.Key, nil).want(t, http.StatusOK).json(t, &runs)
	if len(runs) != 0 {
		t.Fatalf("runs before any: %v", runs)
	}
	office := e.office(a.ID, officeLauriane)
	started := time.Date(2021, 12, 10, 1, 30, 0, 0, domain.Paris)
	for i, date := range []time.Time{started.Add(-24 * time.Hour), started} {
		_, err := dbq.New(e.pool).RunRecord(context.Background(), dbq.RunRecordParams{SchoolID: a.ID, OfficeID: office.ID,
			WorkflowID: "livret-run-x-" + date.Format(time.DateOnly), RunID: "r", BusinessDate: date, StartedAt: date,
			Transmitted: int32(2 + i), Refused: 2, NotEligible: 1, Outcome: "completed"})
		must(t, err)
	}
	e.do("GET", "/v1/offices/"+officeLauriane+"/runs", a.Key, nil).want(t, http.StatusOK).json(t, &runs)
	if len(runs) != 2 || runs[0]["business_date"] != "2021-12-10" || runs[0]["transmitted"] != float64(3) ||
		runs[0]["errors"] != float64(2) || runs[0]["not_eligible"] != float64(1) || runs[0]["started_at"] != "2021-12-10T01:30:00+01:00" {
		t.Fatalf("runs: %v", runs)
	}
	var offices []struct {
		LastRun *struct {
			WorkflowID   string `json:"workflow_id"`
			BusinessDate string `json:"business_date"`
			Transmitted  int    `json:"transmitted"`
			Outcome      string `json:"outcome"`
		} `json:"last_run"`
	}
	e.do("GET", "/v1/offices", a.Key, nil).want(t, http.StatusOK).json(t, &offices)
	if len(offices) != 1 || offices[0].LastRun == nil || offices[0].LastRun.BusinessDate != "2021-12-10" ||
		offices[0].LastRun.Transmitted != 3 || offices[0].LastRun.Outcome != "completed" {
		t.Fatalf("last run: %+v", offices)
	}
	e.do("GET", "/v1/offices/inconnu/runs", a.Key, nil).wantProblem(t, http.StatusNotFound)
}
