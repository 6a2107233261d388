package webapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
	"livret/webapi"
	"livret/worker"
)

// startWorker runs a worker on the env's Temporal, database and sandbox, built as
// `livret worker` builds one: office runs started through the API then really run.
func (e *env) startWorker() {
	e.t.Helper()
	w, err := worker.Start(context.Background(), e.temporal, worker.Config{
		Pool: e.pool, Sealer: e.srv.Sealer,
		DSR:    dsr.Config{BaseURL: e.sandbox.URL, ClientID: clientID, ClientSecret: clientSecret, Timeout: 10 * time.Second},
		Logger: slog.New(slog.DiscardHandler),
	})
	must(e.t, err)
	e.t.Cleanup(w.Stop)
}

// apiRun is a run as GET /v1/offices/{ref}/runs answers it.
type apiRun struct {
	WorkflowID   string  `json:"workflow_id"`
	RunID        string  `json:"run_id"`
	BusinessDate string  `json:"business_date"`
	StartedAt    string  `json:"started_at"`
	FinishedAt   *string `json:"finished_at"`
	Transmitted  int     `json:"transmitted"`
	Errors       int     `json:"errors"`
	Refused      int     `json:"refused"`
	NotEligible  int     `json:"not_eligible"`
	Deferred     int     `json:"deferred"`
	Outcome      string  `json:"outcome"`
	Failure      *string `json:"failure"`
}

// startRun is "Lancer l'envoi": POST /v1/offices/{ref}/runs.
func (e *env) startRun(key, office string) (wid, rid string) {
	e.t.Helper()
	var started struct {
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	e.do("POST", "/v1/offices/"+office+"/runs", key, nil).want(e.t, http.StatusAccepted).json(e.t, &started)
	return started.WorkflowID, started.RunID
}

// waitWorkflow waits for a run's workflow to close and returns its error.
func (e *env) waitWorkflow(wid, rid string) error {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return e.temporal.GetWorkflow(ctx, wid, rid).Get(ctx, nil)
}

func (e *env) runs(key, office string) []apiRun {
	e.t.Helper()
	var runs []apiRun
	e.do("GET", "/v1/offices/"+office+"/runs", key, nil).want(e.t, http.StatusOK).json(e.t, &runs)
	return runs
}

// card is an office's card as GET /v1/offices answers it.
type card struct {
	Ref        string  `json:"ref"`
	ErrorCount int     `json:"error_count"`
	LastRun    *apiRun `json:"last_run"`
}

func (e *env) card(key, office string) card {
	e.t.Helper()
	var cards []card
	e.do("GET", "/v1/offices", key, nil).want(e.t, http.StatusOK).json(e.t, &cards)
	for _, c := range cards {
		if c.Ref == office {
			return c
		}
	}
	e.t.Fatalf("no card for office %s: %+v", office, cards)
	return card{}
}

// A run that fails (the DSR refuses Livret's OAuth client when the run refreshes the office's
// token, as the demo's run of "sud" does) is listed by the office's runs as failed, with a
// French sentence for the school and no technical detail, and is the card's last run; its
// lessons stay pending.
func TestAFailedRunIsShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.createSchool("Auto-école Lauriane", agrementA)
	e.addAccount(emailA1, passwordA1, agrementA)
	e.put(a.Key, "/v1/offices/"+officeLauriane, map[string]any{"name": "AE LAURIANE"})
	// The office's access token lives 1 s, so that its run has to refresh it.
	must(t, e.ctl.SetFaults(ctx, sandbox.Faults{AccessTTLS: 1}))
	e.linked(a.Key, officeLauriane, false, e.browser(), &login{emailA1, passwordA1})
	must(t, e.ctl.SetFaults(ctx, sandbox.Faults{}))
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	// Livret's client secret rotated at the DSR, not yet in Livret's configuration.
	must(t, e.ctl.AddClient(ctx, sandbox.Client{ClientID: clientID, ClientSecret: "rotated-at-the-dsr",
		RedirectURIs: []string{e.api.URL + webapi.CallbackPath}}))
	time.Sleep(1500 * time.Millisecond) // the access token is dead
	e.startWorker()

	wid, rid := e.startRun(a.Key, officeLauriane)
	if err := e.waitWorkflow(wid, rid); err == nil {
		t.Fatal("the run was meant to fail, and completed")
	}
	runs := e.runs(a.Key, officeLauriane)
	if len(runs) != 1 {
		t.Fatalf("runs %+v, want the failed one", runs)
	}
	r := runs[0]
	want := domain.RunFailureAccessRefused.Sentence()
	if r.Outcome != "failed" || r.Failure == nil || *r.Failure != want || r.FinishedAt == nil ||
		r.WorkflowID != wid || r.RunID != rid || r.BusinessDate != domain.BusinessDate(time.Now()) || r.Transmitted != 0 {
		t.Fatalf("failed run %+v", r)
	}
	for _, technical := range []string{"invalid_client", "HTTP", "DSRAccessRefused", "dsr "} {
		if strings.Contains(*r.Failure, technical) {
			t.Errorf("the school reads %q in %q", technical, *r.Failure)
		}
	}
	c := e.card(a.Key, officeLauriane)
	if c.LastRun == nil || !reflect.DeepEqual(*c.LastRun, r) {
		t.Fatalf("card's last run %+v, want %+v", c.LastRun, r)
	}
	// Nothing was sent: Mélanie's two lessons wait for the next run.
	if p := e.lessons(a.Key, "?office="+officeLauriane+"&status=pending"); p.Total != 2 {
		t.Fatalf("%d lessons pending after the failed run, want 2", p.Total)
	}
}

// A run in progress is listed as running, with no end and no failure, and is the card's
// last run; the same row then shows its end.
func TestARunInProgressIsShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	must(t, e.ctl.AddStudent(ctx, sandbox.Student{Nom: "PERRIN", Prenom: "Mélanie", NEPH: "123456789012",
		Categories: []string{domain.CategoryBAuto.DSRCode()}}))
	// The DSR answers 503 to everything: the run retries, and goes on.
	must(t, e.ctl.SetFaults(ctx, sandbox.Faults{Error5xxRate: 1}))
	e.startWorker()
	wid, rid := e.startRun(a.Key, officeLauriane)

	var r apiRun
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if runs := e.runs(a.Key, officeLauriane); len(runs) == 1 {
			r = runs[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run in progress is not listed")
		}
	}
	if r.Outcome != "running" || r.FinishedAt != nil || r.Failure != nil || r.RunID != rid || r.WorkflowID != wid ||
		r.StartedAt == "" || r.Errors != 2 {
		t.Fatalf("run in progress %+v", r)
	}
	if c := e.card(a.Key, officeLauriane); c.LastRun == nil || c.LastRun.Outcome != "running" || c.LastRun.RunID != rid {
		t.Fatalf("card's last run %+v", c.LastRun)
	}

	// The DSR is back: the run ends, on the same row.
	must(t, e.ctl.SetFaults(ctx, sandbox.Faults{}))
	must(t, e.waitWorkflow(wid, rid))
	runs := e.runs(a.Key, officeLauriane)
	if len(runs) != 1 || runs[0].Outcome != "completed" || runs[0].FinishedAt == nil || runs[0].Transmitted != 2 ||
		runs[0].StartedAt != r.StartedAt || runs[0].Failure != nil {
		t.Fatalf("runs after the end %+v", runs)
	}
}

// A run's errors is the office card's error_count and the report's count of the office's
// lessons in error, including the lessons Livret's own checks put in error at entry; refused
// counts only the DSR's refusals during the run.
func TestRunErrorsAgreeWithTheCardAndTheReport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := linkedSchool(e)
	// Two lessons in error at entry (DUREE_INVALIDE, FORMAT_AUTORISATION_INVALIDE), two to send.
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	must(t, e.ctl.AddStudent(ctx, sandbox.Student{Nom: "PERRIN", Prenom: "Mélanie", NEPH: "123456789012",
		Categories: []string{domain.CategoryBAuto.DSRCode()}}))
	// Nina is unknown to the ANTS: the DSR refuses her lesson at the run (ELEVE_INTROUVABLE).
	e.put(a.Key, "/v1/students/nina", map[string]any{"office_ref": officeLauriane, "first_name": "Nina", "last_name": "Roux",
		"neph": "120675000003", "category": "B", "initial_evaluation_accepted": true})
	e.put(a.Key, "/v1/lessons/l-nina", map[string]any{"office_ref": officeLauriane, "student_ref": "nina", "instructor_ref": "jean",
		"type": "conduite", "start": "2021-12-09T08:00:00+01:00", "end": "2021-12-09T09:00:00+01:00"})
	if c := e.card(a.Key, officeLauriane); c.ErrorCount != 2 {
		t.Fatalf("card before the run: %d errors, want Livret's 2", c.ErrorCount)
	}
	e.startWorker()
	wid, rid := e.startRun(a.Key, officeLauriane)
	must(t, e.waitWorkflow(wid, rid))

	runs := e.runs(a.Key, officeLauriane)
	if len(runs) != 1 || runs[0].Outcome != "completed" {
		t.Fatalf("runs %+v", runs)
	}
	r := runs[0]
	c := e.card(a.Key, officeLauriane)
	report := e.lessons(a.Key, "?office="+officeLauriane+"&status=error")
	if r.Errors != 3 || c.ErrorCount != r.Errors || report.Total != r.Errors {
		t.Fatalf("run errors %d, card error_count %d, report total %d: want 3 everywhere", r.Errors, c.ErrorCount, report.Total)
	}
	if r.Refused != 1 || r.Transmitted != 2 {
		t.Fatalf("run %+v, want Nina's refusal only and Mélanie's two lessons sent", r)
	}
	if c.LastRun == nil || !reflect.DeepEqual(*c.LastRun, r) {
		t.Fatalf("card's last run %+v, want %+v", c.LastRun, r)
	}
}
