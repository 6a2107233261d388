package worker_test

import (
	"context"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
	"livret/sandbox"
	"livret/worker"
	"livret/worker/workertest"
	"livret/workflows"
)

// waitRunning waits for the run's row to say running, as its start records it.
func waitRunning(t *testing.T, s *workertest.Stack, schoolID, officeID int64, rid string) dbq.Run {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		runs, err := s.Q.RunListByOffice(context.Background(), dbq.RunListByOfficeParams{SchoolID: schoolID, OfficeID: officeID, Limit: 10})
		s.Must(err, "runs")
		if len(runs) == 1 && runs[0].RunID == rid && runs[0].Outcome == workflows.OutcomeRunning {
			return runs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run is not recorded as running: %+v", runs)
		}
	}
}

// A run terminated by an operator never reaches its own failure record: the sweep finds its
// row still running, sees the workflow closed in Temporal, and marks it failed in French. A
// run going on, and one started too recently, are left alone.
func TestSweepMarksTerminatedRunsFailed(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	o := newSmallOffice(t, s)
	lea := o.student(s, "E-LEA", "Perrin", "120675000001", true)
	l := o.lesson(s, lea, "L1", 9)
	// Every DSR call answers 503: the run retries, and stays running.
	s.Must(s.Sandbox.SetFaults(ctx, sandbox.Faults{Error5xxRate: 1}), "faults")
	s.StartWorker()
	wid, rid, err := s.Orchestrator.StartRun(ctx, o.school.ID, o.office.ID)
	s.Must(err, "start")
	waitRunning(t, s, o.school.ID, o.office.ID, rid)

	// A row whose workflow Temporal does not know (gone after its retention).
	lost, err := s.Q.RunRecord(ctx, dbq.RunRecordParams{SchoolID: o.school.ID, OfficeID: o.office.ID, WorkflowID: "livret-run-lost",
		RunID: "lost", BusinessDate: time.Now(), StartedAt: time.Now().Add(-time.Hour), Outcome: workflows.OutcomeRunning})
	s.Must(err, "a lost run")

	later := time.Now().Add(time.Minute) // every row is old enough
	if n, err := worker.SweepAbandonedRuns(ctx, s.Q, s.Client, time.Now().Add(-10*time.Minute)); err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want the lost run only", n, err)
	}
	if n, err := worker.SweepAbandonedRuns(ctx, s.Q, s.Client, later); err != nil || n != 0 {
		t.Fatalf("swept %d (%v) while the run goes on", n, err)
	}

	s.Must(s.Client.TerminateWorkflow(ctx, wid, rid, "operator: stopped by hand"), "terminate")
	if n, err := worker.SweepAbandonedRuns(ctx, s.Q, s.Client, later); err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want the terminated run", n, err)
	}
	runs, err := s.Q.RunListByOffice(ctx, dbq.RunListByOfficeParams{SchoolID: o.school.ID, OfficeID: o.office.ID, Limit: 10})
	s.Must(err, "runs")
	byRun := map[string]dbq.Run{}
	for _, r := range runs {
		byRun[r.RunID] = r
	}
	desc, err := s.Client.DescribeWorkflowExecution(ctx, wid, rid)
	s.Must(err, "describe")
	r := byRun[rid]
	if r.Outcome != workflows.OutcomeFailed || r.Failure != domain.RunFailureInterrupted.Sentence() || r.FinishedAt == nil ||
		!r.FinishedAt.Equal(desc.GetWorkflowExecutionInfo().GetCloseTime().AsTime().Truncate(time.Microsecond)) {
		t.Fatalf("terminated run %+v, closed at %s", r, desc.GetWorkflowExecutionInfo().GetCloseTime().AsTime())
	}
	if g := byRun[lost.RunID]; g.Outcome != workflows.OutcomeFailed || g.Failure != domain.RunFailureInterrupted.Sentence() {
		t.Fatalf("lost run %+v", g)
	}
	// The lesson waits for the next run.
	wantCode(t, s, o.school.ID, l, domain.StatusPending, "")
	if n, err := worker.SweepAbandonedRuns(ctx, s.Q, s.Client, later); err != nil || n != 0 {
		t.Fatalf("a second sweep marked %d (%v)", n, err)
	}
}
