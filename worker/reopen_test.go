package worker_test

import (
	"context"
	"testing"
	"time"

	"livret/domain"
	"livret/sandbox"
	"livret/school"
	"livret/worker/workertest"
	"livret/workflows"
)

// TestReopenedSchoolSendsItsLessonsOnce: the DSR reports the school closed, its lessons are
// refused with AUTO_ECOLE_FERMEE and its runs stop; once the operator reopens it, the next
// run sends each of those lessons exactly once.
func TestReopenedSchoolSendsItsLessonsOnce(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	sc := s.School("Auto-école des Plesses", "E0203100010")
	office := s.Office(sc, "AE-LAURIANE", "AE LAURIANE")
	s.Account(sc, "gerant@plesses.fr", "motdepasse-1")
	s.Link(workertest.NewBrowser(), sc, office, "gerant@plesses.fr", "motdepasse-1")
	jean := s.Instructor(sc, "I-JEAN", "Jean", "Dupont", "A1234567890", false)
	melanie := s.Student(sc, office, workertest.StudentSpec{Ref: "E-MELANIE", First: "Mélanie", Last: "Perrin",
		NEPH: "120675000001", Category: "B", EvaluationAccepted: true, KnownToANTS: true})
	l1, _ := s.Lesson(sc, office, melanie, jean, "L1", domain.TypeConduite, workertest.Paris(2021, 12, 9, 10, 0), workertest.Paris(2021, 12, 9, 11, 0))
	l2, _ := s.Lesson(sc, office, melanie, jean, "L2", domain.TypeConduite, workertest.Paris(2021, 12, 10, 10, 0), workertest.Paris(2021, 12, 10, 11, 0))
	s.StartWorker()

	s.Must(s.Sandbox.SetSchoolStatus(ctx, sc.Agrement, sandbox.StatutFermee), "close the school at the DSR")
	runUntilDone(t, s, sc.ID, office.ID)
	for _, l := range []int64{l1.ID, l2.ID} {
		if tr := s.Transmission(sc.ID, l); tr.Status != string(domain.StatusError) || tr.Code != string(domain.CodeAutoEcoleFermee) {
			t.Fatalf("lesson %d while closed: %s %s", l, tr.Status, tr.Code)
		}
	}
	closed, err := s.Q.SchoolGet(ctx, sc.ID)
	s.Must(err, "school")
	if closed.ClosedAt == nil {
		t.Fatal("the school is not flagged closed")
	}

	s.Must(s.Sandbox.SetSchoolStatus(ctx, sc.Agrement, sandbox.StatutOuverte), "reopen the school at the DSR")
	svc := &school.Service{Pool: s.Pool}
	r, err := svc.ReopenSchool(ctx, sc.ID)
	s.Must(err, "reopen")
	if r.Requeued != 2 {
		t.Fatalf("requeued %d lessons, want 2", r.Requeued)
	}
	res := runUntilDone(t, s, sc.ID, office.ID)
	if res.Outcome != workflows.OutcomeCompleted || res.Counts.Transmitted != 2 {
		t.Fatalf("run after the reopen: %+v", res)
	}
	ledger := s.Ledger()
	if len(ledger.Lessons) != 2 {
		t.Fatalf("the DSR holds %d lessons, want 2 (each once)", len(ledger.Lessons))
	}
	for _, l := range []int64{l1.ID, l2.ID} {
		if tr := s.Transmission(sc.ID, l); tr.Status != string(domain.StatusTransmitted) {
			t.Fatalf("lesson %d after the reopen: %s %s", l, tr.Status, tr.Code)
		}
	}
}

// runUntilDone starts the office's run and waits for it to end, completed or failed: a run
// the DSR stops (a closed school) fails by design.
func runUntilDone(t *testing.T, s *workertest.Stack, schoolID, officeID int64) workflows.OfficeRunResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wid, rid, err := s.Orchestrator.StartRun(ctx, schoolID, officeID)
	s.Must(err, "start run")
	var res workflows.OfficeRunResult
	if err := s.Client.GetWorkflow(ctx, wid, rid).Get(ctx, &res); err != nil {
		t.Logf("run %s ended with %v", wid, err)
	}
	return res
}
