package webapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"livret/domain"
	"livret/workflows"
)

// workflowExists asks Temporal whether a workflow execution was started.
// Only a definite answer counts (see scheduleExists).
func (e *env) workflowExists(workflowID, runID string) bool {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := e.temporal.DescribeWorkflowExecution(context.Background(), workflowID, runID)
		var notFound *serviceerror.NotFound
		switch {
		case err == nil:
			return true
		case errors.As(err, &notFound):
			return false
		case time.Now().After(deadline):
			e.t.Fatalf("describe workflow %s: %v", workflowID, err)
		}
		time.Sleep(time.Second)
	}
}

// TestStartRun: an office's run starts now through Temporal; an unlinked office cannot run.
func TestStartRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	e.put(a.Key, "/v1/offices/seul", map[string]any{"name": "Bureau non connecté"})

	p := e.do("POST", "/v1/offices/seul/runs", a.Key, nil).wantProblem(t, http.StatusConflict)
	if p.Type != "urn:livret:problem:office-not-linked" {
		t.Fatalf("unlinked: %+v", p)
	}
	e.do("POST", "/v1/offices/inconnu/runs", a.Key, nil).wantProblem(t, http.StatusNotFound)

	office := e.office(a.ID, officeLauriane)
	var started struct {
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	e.do("POST", "/v1/offices/"+officeLauriane+"/runs", a.Key, nil).want(t, http.StatusAccepted).json(t, &started)
	if started.WorkflowID != workflows.RunID(office.ID, domain.BusinessDate(time.Now())) || started.RunID == "" {
		t.Fatalf("started %+v", started)
	}
	if !e.workflowExists(started.WorkflowID, started.RunID) {
		t.Fatal("no workflow in Temporal")
	}
	// A second click while the day's run goes: the same run, not a second one.
	var again struct {
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	e.do("POST", "/v1/offices/"+officeLauriane+"/runs", a.Key, nil).want(t, http.StatusAccepted).json(t, &again)
	if again != started {
		t.Fatalf("second start %+v, first %+v", again, started)
	}
}

// TestResend: only a lesson in error is resent; Livret's own checks come first.
func TestResend(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)

	p := e.do("POST", "/v1/lessons/l-1000/resend", a.Key, nil).wantProblem(t, http.StatusConflict)
	if p.Type != "urn:livret:problem:lesson-not-in-error" {
		t.Fatalf("pending lesson: %+v", p)
	}
	e.do("POST", "/v1/lessons/inconnue/resend", a.Key, nil).wantProblem(t, http.StatusNotFound)

	// Still too short: 200, still in error, nothing started.
	var l lesson
	e.do("POST", "/v1/lessons/l-1300/resend", a.Key, nil).want(t, http.StatusOK).json(t, &l)
	if l.Transmission.Status != "error" || l.code() != "DUREE_INVALIDE" {
		t.Fatalf("resend of a lesson still too short: %+v", l.Transmission)
	}
	if e.workflowExists(workflows.ResendID(e.lessonID(a.ID, "l-1300")), "") {
		t.Fatal("a resend started for a lesson Livret still refuses")
	}

	// A DSR refusal, data fixed since: back to pending and resent at once.
	e.put(a.Key, "/v1/instructors/paul", map[string]any{"last_name": "Martin", "authorization_number": "A1111111111"})
	id := e.lessonID(a.ID, "l-lou")
	e.markDSRError(t, id, "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())
	var started struct {
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
		Lesson     lesson `json:"lesson"`
	}
	e.do("POST", "/v1/lessons/l-lou/resend", a.Key, nil).want(t, http.StatusAccepted).json(t, &started)
	if started.WorkflowID != workflows.ResendID(id) || started.Lesson.Transmission.Status != "pending" || started.Lesson.Ref != "l-lou" {
		t.Fatalf("resend: %+v", started)
	}
	if !e.workflowExists(started.WorkflowID, started.RunID) {
		t.Fatal("no resend workflow in Temporal")
	}
	e.do("POST", "/v1/lessons/l-lou/resend", a.Key, nil).wantProblem(t, http.StatusConflict)

	// A DSR refusal whose data Livret now refuses itself: Livret's error, no DSR call.
	e.markTransmitted(t, e.lessonID(a.ID, "l-1500"), "x") // unrelated, keeps the counts honest
	id = e.lessonID(a.ID, "l-1000")
	e.markDSRError(t, id, "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())
	e.put(a.Key, "/v1/students/melanie", map[string]any{"office_ref": officeLauriane, "first_name": "Mélanie", "last_name": "Perrin",
		"category": "B_AUTO", "initial_evaluation_accepted": true}) // NEPH removed
	e.do("POST", "/v1/lessons/l-1000/resend", a.Key, nil).want(t, http.StatusOK).json(t, &l)
	if l.code() != "NEPH_MANQUANT" || e.workflowExists(workflows.ResendID(id), "") {
		t.Fatalf("resend after the NEPH was removed: %+v", l.Transmission)
	}
}
