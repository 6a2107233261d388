package webapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
)

// transmissionMore is what a lesson's transmission says of when and whether it goes.
type transmissionMore struct {
	Transmission struct {
		Status     string  `json:"status"`
		Code       *string `json:"code"`
		DueOn      *string `json:"due_on"`
		Note       *string `json:"note"`
		Resendable bool    `json:"resendable"`
	} `json:"transmission"`
}

func (e *env) lessonMore(key, ref string) transmissionMore {
	e.t.Helper()
	var l transmissionMore
	e.do("GET", "/v1/lessons/"+ref, key, nil).want(e.t, http.StatusOK).json(e.t, &l)
	return l
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestOneLessonAndOneOffice: GET /v1/lessons/{ref} says when a pending lesson goes (rule 8),
// the link date of a lesson planned before it, which errors a resend can help; GET
// /v1/offices/{ref} counts the office's lessons per status with the report's own
// definition (docs/api.md, "The report (school)").
func TestOneLessonAndOneOffice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	// The clock stands still from here (after the link, whose OAuth state lives in real
	// time), so the dates below cannot move under the test; domain's own tests check
	// NextDailyRun and DueOn on fixed dates.
	now := time.Now().Add(time.Minute)
	e.srv.School.Now = func() time.Time { return now }
	next := domain.NextDailyRun(now, 1, 30)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)

	// A lesson of today: it goes with the run of the day after, and says so.
	today := domain.StartOfDay(now)
	e.put(a.Key, "/v1/lessons/l-today", map[string]any{"office_ref": officeLauriane, "student_ref": "melanie",
		"instructor_ref": "jean", "type": "conduite", "start": today.Format(time.RFC3339), "end": today.Add(time.Hour).Format(time.RFC3339)})
	l := e.lessonMore(a.Key, "l-today")
	tomorrow := domain.BusinessDate(today.AddDate(0, 0, 1))
	tomorrowFR := today.AddDate(0, 0, 1).Format("02/01/2006")
	if l.Transmission.Status != "pending" || deref(l.Transmission.DueOn) != tomorrow ||
		!strings.Contains(deref(l.Transmission.Note), tomorrowFR) || !strings.Contains(deref(l.Transmission.Note), "01:30") || l.Transmission.Resendable {
		t.Fatalf("a lesson of today: %+v (note %q), want due on %s", l.Transmission, deref(l.Transmission.Note), tomorrow)
	}
	// A lesson of 2021 still pending (pushed late) goes with the next run.
	if l := e.lessonMore(a.Key, "l-1000"); deref(l.Transmission.DueOn) != domain.BusinessDate(next) {
		t.Fatalf("an old pending lesson: due on %q, want %s", deref(l.Transmission.DueOn), domain.BusinessDate(next))
	}

	// Planned before the office's link: not concerned, and the link's date is shown.
	e.put(a.Key, "/v1/lessons/l-before", map[string]any{"office_ref": officeLauriane, "student_ref": "melanie",
		"instructor_ref": "jean", "type": "conduite", "start": "2021-12-10T09:00:00+01:00", "end": "2021-12-10T10:00:00+01:00",
		"planned_at": "2021-11-01T09:00:00+01:00"})
	l = e.lessonMore(a.Key, "l-before")
	if l.Transmission.Status != "not_eligible" || deref(l.Transmission.Code) != "PLANIFIEE_AVANT_CONNEXION" ||
		!strings.Contains(deref(l.Transmission.Note), "Bureau connecté à RdvPermis le ") ||
		!strings.Contains(deref(l.Transmission.Note), "planifiée le 01/11/2021 à 09:00") || l.Transmission.DueOn != nil {
		t.Fatalf("a lesson planned before the link: %+v (note %q)", l.Transmission, deref(l.Transmission.Note))
	}

	// Livret's own refusal (the lesson of 13:25 is too short): not resendable, the note says
	// where to fix it. A DSR refusal: resendable.
	l = e.lessonMore(a.Key, "l-1300")
	if l.Transmission.Status != "error" || l.Transmission.Resendable || deref(l.Transmission.Note) != domain.FixInSoftware {
		t.Fatalf("Livret's own refusal: %+v", l.Transmission)
	}
	e.markDSRError(t, e.lessonID(a.ID, "l-1000"), "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())
	if l := e.lessonMore(a.Key, "l-1000"); !l.Transmission.Resendable || l.Transmission.Note != nil {
		t.Fatalf("a DSR refusal: %+v", l.Transmission)
	}
	e.markTransmitted(t, e.lessonID(a.ID, "l-1500"), "dsr-1500")
	e.put(a.Key, "/v1/lessons/l-cancel", map[string]any{"office_ref": officeLauriane, "student_ref": "melanie",
		"instructor_ref": "jean", "type": "conduite", "start": "2021-12-11T09:00:00+01:00", "end": "2021-12-11T10:00:00+01:00"})
	e.do("POST", "/v1/lessons/l-cancel/cancel", a.Key, nil).want(t, http.StatusOK)

	// The card's counts are the report's totals, status by status.
	var office struct {
		Ref        string `json:"ref"`
		ErrorCount int    `json:"error_count"`
		Lessons    map[string]int
		NextRun    *string `json:"next_run"`
	}
	e.do("GET", "/v1/offices/"+officeLauriane, a.Key, nil).want(t, http.StatusOK).json(t, &office)
	want := map[string]int{"pending": 1, "transmitted": 1, "error": 3, "not_eligible": 1, "cancelled": 1}
	wantNext := next.In(domain.Paris).Format(time.RFC3339)
	for status, n := range want {
		total := e.lessons(a.Key, "?office="+officeLauriane+"&status="+status).Total
		if office.Lessons[status] != n || total != n {
			t.Errorf("%s: card %d, report %d, want %d", status, office.Lessons[status], total, n)
		}
	}
	if office.ErrorCount != office.Lessons["error"] || deref(office.NextRun) != wantNext {
		t.Fatalf("office card: %+v", office)
	}
	// The list and the one card agree.
	var cards []struct {
		Ref     string         `json:"ref"`
		Lessons map[string]int `json:"lessons"`
	}
	e.do("GET", "/v1/offices", a.Key, nil).want(t, http.StatusOK).json(t, &cards)
	if len(cards) != 1 || cards[0].Lessons["error"] != 3 || cards[0].Lessons["pending"] != 1 {
		t.Fatalf("GET /v1/offices: %+v", cards)
	}

	// The DSR knows the school as closed: nothing goes, and nothing says when.
	must(t, dbq.New(e.pool).SchoolMarkClosed(context.Background(), a.ID))
	if l := e.lessonMore(a.Key, "l-today"); l.Transmission.DueOn != nil || !strings.Contains(deref(l.Transmission.Note), "fermée") {
		t.Fatalf("a pending lesson of a closed school: %+v (note %q)", l.Transmission, deref(l.Transmission.Note))
	}
	e.do("GET", "/v1/offices/"+officeLauriane, a.Key, nil).want(t, http.StatusOK).json(t, &office)
	if office.NextRun != nil {
		t.Fatalf("a closed school's office has a next run: %s", *office.NextRun)
	}

	// Unknown refs are 404s; another school sees nothing of these.
	e.do("GET", "/v1/lessons/inconnue", a.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("GET", "/v1/offices/inconnu", a.Key, nil).wantProblem(t, http.StatusNotFound)
	b := e.createSchool("Auto-école Roche", agrementB)
	e.do("GET", "/v1/lessons/l-today", b.Key, nil).wantProblem(t, http.StatusNotFound)
	e.do("GET", "/v1/offices/"+officeLauriane, b.Key, nil).wantProblem(t, http.StatusNotFound)
}

// TestResendMany: "Renvoyer les N leçons" puts back the DSR's refusals of a filter, leaves
// Livret's own refusals alone, and starts the office's run.
func TestResendMany(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	// Paul's number fixed: Lou's lesson goes, and is refused like Mélanie's.
	e.put(a.Key, "/v1/instructors/paul", map[string]any{"last_name": "Martin", "authorization_number": "A1111111111"})
	for _, ref := range []string{"l-lou", "l-1000"} {
		e.markDSRError(t, e.lessonID(a.ID, ref), "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())
	}
	// Mélanie's fix at the DSR: only her lessons are resent.
	var out struct {
		Resent       int  `json:"resent"`
		StillInError int  `json:"still_in_error"`
		More         bool `json:"more"`
		Runs         []struct {
			WorkflowID string `json:"workflow_id"`
			RunID      string `json:"run_id"`
		} `json:"runs"`
	}
	e.do("POST", "/v1/lessons/resend", a.Key, map[string]any{"student": "melanie"}).want(t, http.StatusOK).json(t, &out)
	if out.Resent != 1 || out.StillInError != 0 || out.More || len(out.Runs) != 1 {
		t.Fatalf("resend of Mélanie's refusals: %+v", out)
	}
	if !e.workflowExists(out.Runs[0].WorkflowID, out.Runs[0].RunID) {
		t.Fatal("no run started in Temporal")
	}
	if got := e.lessonMore(a.Key, "l-1000").Transmission.Status; got != "pending" {
		t.Fatalf("l-1000 is %s after the resend", got)
	}
	if got := e.lessonMore(a.Key, "l-1300"); got.Transmission.Status != "error" { // Livret's own refusal: untouched
		t.Fatalf("l-1300: %+v", got.Transmission)
	}
	if got := e.lessonMore(a.Key, "l-lou").Transmission.Status; got != "error" { // another student's
		t.Fatalf("l-lou is %s", got)
	}

	// Nothing left for her: nothing done, no run.
	e.do("POST", "/v1/lessons/resend", a.Key, map[string]any{"student": "melanie"}).want(t, http.StatusOK).json(t, &out)
	if out.Resent != 0 || len(out.Runs) != 0 {
		t.Fatalf("second resend: %+v", out)
	}
	// Bad filters: 4xx naming the field, nothing changed.
	p := e.do("POST", "/v1/lessons/resend", a.Key, map[string]any{"office": "inconnu", "from": "hier"}).wantProblem(t, http.StatusUnprocessableEntity)
	if f := p.fields(); len(f) != 2 || p.message("office") == "" || p.message("from") == "" {
		t.Fatalf("bad filter: %+v", p)
	}
	e.do("POST", "/v1/lessons/resend", a.Key, map[string]any{"officee": "x"}).wantProblem(t, http.StatusBadRequest)
	if got := e.lessonMore(a.Key, "l-lou").Transmission.Status; got != "error" {
		t.Fatalf("l-lou is %s after refused calls", got)
	}
}
