package webapi_test

import (
	"context"
	"net/http"
	"testing"

	"livret/db/dbq"
)

// The vendor guide's example (docs/rules.md, "The report"): the office AE LAURIANE, Mélanie Perrin and Lou Michel.
const (
	officeLauriane = "lauriane"
	emailA1        = "gerant@lauriane.fr"
	passwordA1     = "mot-de-passe-a1"
)

// linkedSchool is school A with the office AE LAURIANE linked to a RdvPermis account
// through the real login page.
func linkedSchool(e *env) school {
	e.t.Helper()
	a := e.createSchool("Auto-école Lauriane", agrementA)
	e.addAccount(emailA1, passwordA1, agrementA)
	e.put(a.Key, "/v1/offices/"+officeLauriane, map[string]any{"name": "AE LAURIANE"})
	e.linked(a.Key, officeLauriane, false, e.browser(), &login{emailA1, passwordA1})
	return a
}

// seedPeople pushes the seed's students and instructors into an office.
func seedPeople(e *env, key, office string) {
	e.t.Helper()
	e.put(key, "/v1/students/melanie", map[string]any{"office_ref": office, "first_name": "Mélanie", "last_name": "Perrin",
		"neph": "1234 5678 9012", "category": "B_AUTO", "initial_evaluation_accepted": true})
	e.put(key, "/v1/students/lou", map[string]any{"office_ref": office, "first_name": "Lou", "last_name": "Michel",
		"neph": "210987654321", "category": "B", "initial_evaluation_accepted": true})
	e.put(key, "/v1/instructors/jean", map[string]any{"first_name": "Jean", "last_name": "Dupont",
		"authorization_number": "A 12.345.678.90"})
	// The seed's instructor whose number the DSR refuses.
	e.put(key, "/v1/instructors/paul", map[string]any{"first_name": "Paul", "last_name": "Martin",
		"authorization_number": "A12345"})
	// An unsupervised simulator (docs/rules.md, "What is sent", rule 4).
	e.put(key, "/v1/instructors/simu", map[string]any{"first_name": "", "last_name": "Simulateur",
		"authorization_number": "A0000000000", "simulator": true})
}

// seedLessons pushes the seed's lessons of 09/12/2021 (docs/rules.md, "The report").
func seedLessons(e *env, key, office string) {
	e.t.Helper()
	// In this order, so that the two 13:00 lessons list as the seed shows them (newest id first).
	for _, l := range []map[string]any{
		{"ref": "l-lou", "student_ref": "lou", "instructor_ref": "paul", "type": "conduite",
			"start": "2021-12-09T13:00:00+01:00", "end": "2021-12-09T14:00:00+01:00"},
		{"ref": "l-1000", "student_ref": "melanie", "instructor_ref": "jean", "type": "conduite",
			"start": "2021-12-09T10:00:00+01:00", "end": "2021-12-09T11:00:00+01:00"},
		{"ref": "l-1300", "student_ref": "melanie", "instructor_ref": "simu", "type": "simulateur",
			"start": "2021-12-09T13:00:00+01:00", "end": "2021-12-09T13:25:00+01:00"},
		{"ref": "l-1500", "student_ref": "melanie", "instructor_ref": "jean", "type": "conduite_boite_auto",
			"start": "2021-12-09T15:00:00+01:00", "end": "2021-12-09T16:00:00+01:00"},
	} {
		ref := l["ref"].(string)
		delete(l, "ref")
		l["office_ref"] = office
		e.put(key, "/v1/lessons/"+ref, l)
	}
}

// lesson is a lesson as the API answers it.
type lesson struct {
	Ref       string `json:"ref"`
	OfficeRef string `json:"office_ref"`
	Student   struct {
		Ref       string `json:"ref"`
		FirstName string `json:"first_name"`
		LastName  string `json:"last_name"`
	} `json:"student"`
	InstructorRef string `json:"instructor_ref"`
	Type          string `json:"type"`
	TypeLabel     string `json:"type_label"`
	Start         string `json:"start"`
	End           string `json:"end"`
	PlannedAt     string `json:"planned_at"`
	Slot          string `json:"slot"`
	Cancelled     bool   `json:"cancelled"`
	Transmission  struct {
		Status        string  `json:"status"`
		Code          *string `json:"code"`
		Message       *string `json:"message"`
		Hint          *string `json:"hint"`
		DSRLessonID   *string `json:"dsr_lesson_id"`
		TransmittedAt *string `json:"transmitted_at"`
		Attempts      int     `json:"attempts"`
	} `json:"transmission"`
}

func (l lesson) code() string {
	if l.Transmission.Code == nil {
		return ""
	}
	return *l.Transmission.Code
}

func (l lesson) message() string {
	if l.Transmission.Message == nil {
		return ""
	}
	return *l.Transmission.Message
}

type lessonPage struct {
	Items   []lesson `json:"items"`
	Page    int      `json:"page"`
	PerPage int      `json:"per_page"`
	Total   int      `json:"total"`
}

func (e *env) lessons(key, query string) lessonPage {
	e.t.Helper()
	var p lessonPage
	e.do("GET", "/v1/lessons"+query, key, nil).want(e.t, http.StatusOK).json(e.t, &p)
	return p
}

func (e *env) lesson(key, ref string) lesson {
	e.t.Helper()
	for _, l := range e.lessons(key, "?per_page=100").Items {
		if l.Ref == ref {
			return l
		}
	}
	e.t.Fatalf("lesson %s not in the report", ref)
	return lesson{}
}

func refs(items []lesson) []string {
	out := make([]string, 0, len(items))
	for _, l := range items {
		out = append(out, l.Ref)
	}
	return out
}

// lessonID is a lesson's row id, for steering its transmission as a run would.
func (e *env) lessonID(schoolID int64, ref string) int64 {
	e.t.Helper()
	var id int64
	must(e.t, e.pool.QueryRow(context.Background(), "SELECT id FROM lessons WHERE school_id = $1 AND ref = $2", schoolID, ref).Scan(&id))
	return id
}

// markTransmitted does what a run does when the DSR accepts a lesson, with the run's queries.
func (e *env) markTransmitted(t *testing.T, lessonID int64, dsrID string) {
	t.Helper()
	q := dbq.New(e.pool)
	_, err := q.TransmissionMarkSending(context.Background(), lessonID)
	must(t, err)
	n, err := q.TransmissionMarkTransmitted(context.Background(), dbq.TransmissionMarkTransmittedParams{LessonID: lessonID, DsrLessonID: &dsrID})
	must(t, err)
	if n != 1 {
		t.Fatalf("lesson %d not marked transmitted", lessonID)
	}
}

// markDSRError does what a run does when the DSR refuses a lesson.
func (e *env) markDSRError(t *testing.T, lessonID int64, code, message string) {
	t.Helper()
	q := dbq.New(e.pool)
	_, err := q.TransmissionMarkSending(context.Background(), lessonID)
	must(t, err)
	n, err := q.TransmissionMarkError(context.Background(), dbq.TransmissionMarkErrorParams{LessonID: lessonID, Code: code, Message: message, Origin: "dsr"})
	must(t, err)
	if n != 1 {
		t.Fatalf("lesson %d not marked in error", lessonID)
	}
}
