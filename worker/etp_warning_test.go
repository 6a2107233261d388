package worker_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"livret/db/dbq"
	"livret/domain"
	"livret/school"
	"livret/worker/workertest"
	"livret/workflows"
)

// TestHistoryETPWarnings (its warning run's history is testdata/etp_warnings.json): on the real stack (Temporal, PostgreSQL), with the day of each
// check chosen by the test (the clock it controls), a school whose hours are at risk is
// warned once for the computation, on the first day its etp_warning_days reach it: an
// etp.at_risk event in its outbox, and a line in its next digest. Not before, not again the
// next day nor on a second run of the same day, not at all when nothing is at risk or the
// school asked for no warning; and again for the next month's computation while the hours
// are still at risk.
func TestHistoryETPWarnings(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	s.StartWorker()
	ctx := context.Background()

	atRisk := s.School("Auto-école Lauriane", "E0203100031")
	calm := s.School("Auto-école Tranquille", "E0203100032")
	silent := s.School("Auto-école Silence", "E0203100033")
	for i, sch := range []dbq.School{atRisk, silent} {
		office := s.Office(sch, "CENTRE", "Centre")
		email := []string{"lauriane@rdv.fr", "silence@rdv.fr"}[i]
		s.Account(sch, email, "motdepasse-1")
		s.Link(workertest.NewBrowser(), sch, office, email, "motdepasse-1")
		jean := s.Instructor(sch, "I-JEAN", "Jean", "Dupont", "A1234567890", false)
		lea := s.Student(sch, office, workertest.StudentSpec{Ref: "E-LEA", First: "Léa", Last: "Perrin", NEPH: "120675000012",
			Category: "B", EvaluationAccepted: true})
		tom := s.Student(sch, office, workertest.StudentSpec{Ref: "E-TOM", First: "Tom", Last: "Blanc", Category: "B", EvaluationAccepted: true})
		// Two lessons of the window not at the DSR: one waiting to be sent, one in error (no
		// NEPH): both at risk.
		if _, v := s.Lesson(sch, office, lea, jean, "L-1", domain.TypeConduite, workertest.Paris(2026, 12, 10, 9, 0), workertest.Paris(2026, 12, 10, 10, 0)); !v.Pending() {
			t.Fatalf("L-1: %+v", v)
		}
		if _, v := s.Lesson(sch, office, tom, jean, "L-2", domain.TypeConduite, workertest.Paris(2026, 12, 11, 9, 0), workertest.Paris(2026, 12, 11, 10, 30)); v.Code != domain.CodeNEPHManquant {
			t.Fatalf("L-2: %+v", v)
		}
	}
	s.Office(calm, "CENTRE", "Centre")
	_, err := s.Q.SchoolSetETPWarningDays(ctx, dbq.SchoolSetETPWarningDaysParams{ID: silent.ID, EtpWarningDays: 0})
	s.Must(err, "no warning for the silent school")
	_, err = s.Q.SchoolSetAlertEmails(ctx, dbq.SchoolSetAlertEmailsParams{ID: atRisk.ID, AlertEmails: []string{"gerant@lauriane.fr"}})
	s.Must(err, "alert addresses")

	// The computation the lessons count for, and the days around it, as domain computes them.
	period := domain.ETPPeriodAt(workertest.Paris(2027, 1, 2, 12, 0), 0)
	comp := period.Computation
	day := func(offset int) string { return domain.BusinessDate(comp.AddDate(0, 0, offset)) }

	recorded := false
	check := func(d string) workflows.ETPWarningsResult {
		t.Helper()
		run, err := s.Orchestrator.StartETPWarnings(ctx, d)
		s.Must(err, "start the check of %s", d)
		var res workflows.ETPWarningsResult
		s.Must(run.Get(ctx, &res), "the check of %s", d)
		if res.Counts.Warned > 0 && !recorded {
			recordHistory(t, s, "etp_warnings", run.GetID(), run.GetRunID())
			recorded = true
		}
		if res.ComputationDate != domain.BusinessDate(comp) {
			t.Fatalf("check of %s warned for %s, want %s", d, res.ComputationDate, domain.BusinessDate(comp))
		}
		return res
	}
	warnings := func(sch dbq.School) []dbq.OutboxEvent {
		t.Helper()
		evs, err := s.Q.OutboxListSince(ctx, dbq.OutboxListSinceParams{SchoolID: sch.ID, AfterSeq: 0, Lim: 1000})
		s.Must(err, "events")
		var out []dbq.OutboxEvent
		for _, e := range evs {
			if e.Type == "etp.at_risk" {
				out = append(out, e)
			}
		}
		return out
	}

	// Five days before: the default three days do not reach the computation yet.
	if res := check(day(-5)); res.Counts.Warned != 0 || len(warnings(atRisk)) != 0 {
		t.Fatalf("five days before: %+v", res)
	}
	// Three days before: warned, once; the calm school has nothing at risk.
	res := check(day(-3))
	if res.Counts.Warned != 1 || res.Counts.NothingAtRisk != 1 {
		t.Fatalf("three days before: %+v, want 1 warned and 1 with nothing at risk", res)
	}
	evs := warnings(atRisk)
	if len(evs) != 1 {
		t.Fatalf("%d etp.at_risk events, want 1", len(evs))
	}
	var data map[string]any
	s.Must(json.Unmarshal(evs[0].Data, &data), "event data")
	if data["computation_date"] != domain.BusinessDate(comp) || data["lessons"] != float64(2) || data["at_risk_hours"] != 2.5 ||
		data["from"] != domain.BusinessDate(period.From) || data["to"] != domain.BusinessDate(period.To) {
		t.Errorf("etp.at_risk data: %v", data)
	}
	// The same day again, and the next day: nothing more. The silent and calm schools: never.
	for _, d := range []string{day(-3), day(-2), day(0)} {
		if res := check(d); res.Counts.Warned != 0 {
			t.Fatalf("check of %s warned again: %+v", d, res)
		}
	}
	if n := len(warnings(atRisk)); n != 1 {
		t.Fatalf("%d warnings after the later checks, want 1", n)
	}
	if len(warnings(silent)) != 0 || len(warnings(calm)) != 0 {
		t.Fatal("a school with no warning asked, or nothing at risk, was warned")
	}

	// The morning's digest carries it.
	d, ok, err := school.ClaimDigest(ctx, s.Pool, school.DigestRequest{SchoolID: atRisk.ID, Day: day(-3)})
	s.Must(err, "digest")
	if !ok || !strings.Contains(d.TextBody, "Heures à risque") || !strings.Contains(d.TextBody, "2,5") {
		t.Fatalf("digest (%v):\n%s", ok, d.TextBody)
	}

	// The next computation: warned again while the hours are still at risk.
	next := domain.ETPPeriodAt(comp.AddDate(0, 0, 1), 0).Computation
	run, err := s.Orchestrator.StartETPWarnings(ctx, domain.BusinessDate(next.AddDate(0, 0, -1)))
	s.Must(err, "next month")
	var again workflows.ETPWarningsResult
	s.Must(run.Get(ctx, &again), "next month's check")
	if again.Counts.Warned != 1 || again.ComputationDate != domain.BusinessDate(next) || len(warnings(atRisk)) != 2 {
		t.Fatalf("next month: %+v, %d warnings", again, len(warnings(atRisk)))
	}
	rows, err := s.Q.ETPWarningList(ctx, atRisk.ID)
	s.Must(err, "warnings")
	if len(rows) != 2 || !rows[0].ComputationDate.Equal(time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("etp_warnings rows: %+v", rows)
	}
}
