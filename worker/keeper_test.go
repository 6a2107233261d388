package worker_test

import (
	"context"
	"testing"
	"time"

	"livret/sandbox"
	"livret/worker/workertest"
	"livret/workflows"
)

// TestKeeperKeepsTheAccountAlive: refresh tokens die after 6 s unused. With no run to use
// them, the keeper workflow must refresh the account in time: 15 s later the account still
// works, without a new login.
func TestKeeperKeepsTheAccountAlive(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	s.Must(s.Sandbox.SetFaults(ctx, sandbox.Faults{AccessTTLS: 3, RefreshTTLS: 6}), "faults")
	school := s.School("AE", "E0000000007")
	office := s.Office(school, "B1", "Bureau")
	s.Account(school, "a@ae.fr", "pw")
	acct := s.Link(workertest.NewBrowser(), school, office, "a@ae.fr", "pw")
	s.StartWorker()
	s.Must(s.Orchestrator.EnsureKeeper(ctx, acct.ID), "keeper")
	s.Must(s.Orchestrator.EnsureKeeper(ctx, acct.ID), "keeper started twice") // idempotent

	time.Sleep(15 * time.Second) // more than two refresh lifetimes
	if _, err := s.DSR.Account(acct.ID).Me(ctx); err != nil {
		t.Fatalf("the account died between runs: %v", err)
	}
	if l := s.Ledger(); l.Refreshes < 2 {
		t.Fatalf("%d refreshes in 15 s of 6 s refresh tokens", l.Refreshes)
	}
	got, err := s.Q.AccountGet(ctx, acct.ID)
	if err != nil || got.NeedsReconnect {
		t.Fatalf("account %+v %v", got, err)
	}
	// One keeper per account, however often it is ensured.
	desc, err := s.Client.DescribeWorkflowExecution(ctx, workflows.KeeperID(acct.ID), "")
	if err != nil || desc.GetWorkflowExecutionInfo().GetStatus().String() != "Running" {
		t.Fatalf("keeper: %v %v", desc.GetWorkflowExecutionInfo().GetStatus(), err)
	}
}

// TestScheduleRunsTheOffice: the office's Schedule exists once linked, runs the office's day
// through ScheduledOfficeRun under the day's run id, and is gone after DeleteSchedule.
func TestScheduleRunsTheOffice(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	b := newBulk(t, s, 1, 2, 2)
	s.StartWorker()
	office := b.offices[0]
	s.Must(s.Orchestrator.EnsureSchedule(ctx, b.school.ID, office.ID), "schedule")
	s.Must(s.Orchestrator.EnsureSchedule(ctx, b.school.ID, office.ID), "schedule again") // idempotent
	h := s.Client.ScheduleClient().GetHandle(ctx, workflows.ScheduleID(office.ID))
	desc, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tz := desc.Schedule.Spec.TimeZoneName; tz != "Europe/Paris" {
		t.Fatalf("schedule time zone %q", tz)
	}
	s.Must(h.Trigger(ctx, clientTrigger()), "trigger")
	waitLedger(t, s, len(b.lessons), time.Minute)
	b.assertExactlyOnce(t, s)
	s.Must(s.Orchestrator.DeleteSchedule(ctx, office.ID), "delete")
	s.Must(s.Orchestrator.DeleteSchedule(ctx, office.ID), "delete twice")
	if _, err := h.Describe(ctx); err == nil {
		t.Fatal("the schedule is still there after unlink")
	}
}
