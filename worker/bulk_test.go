package worker_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"livret/db/dbq"
	"livret/domain"
	"livret/sandbox"
	"livret/worker/workertest"
	"livret/workflows"
)

// bulk is a school with many eligible lessons over several offices: the first two offices
// share one RdvPermis account (centralised), each other office has its own.
type bulk struct {
	school  dbq.School
	offices []dbq.Office
	lessons []dbq.Lesson
}

func newBulk(t *testing.T, s *workertest.Stack, offices, studentsPerOffice, lessonsPerStudent int) *bulk {
	t.Helper()
	b := &bulk{school: s.School("Auto-école Bulk", "E0000000042")}
	jean := s.Instructor(b.school, "I-JEAN", "Jean", "Dupont", "A1234567890", false)
	shared := workertest.NewBrowser()
	for o := 0; o < offices; o++ {
		office := s.Office(b.school, fmt.Sprintf("B%d", o), fmt.Sprintf("Bureau %d", o))
		b.offices = append(b.offices, office)
		switch {
		case o == 0:
			s.Account(b.school, "central@bulk.fr", "pw")
			s.Link(shared, b.school, office, "central@bulk.fr", "pw")
		case o == 1:
			s.Link(shared, b.school, office, "", "") // same account, no password
		default:
			email := fmt.Sprintf("bureau%d@bulk.fr", o)
			s.Account(b.school, email, "pw")
			s.Link(workertest.NewBrowser(), b.school, office, email, "pw")
		}
		for st := 0; st < studentsPerOffice; st++ {
			student := s.Student(b.school, office, workertest.StudentSpec{
				Ref: fmt.Sprintf("S%d-%d", o, st), First: "Élève", Last: fmt.Sprintf("Numéro%d%d", o, st),
				NEPH: fmt.Sprintf("%06d%06d", o+1, st+1), Category: "B", EvaluationAccepted: true, KnownToANTS: true,
			})
			for l := 0; l < lessonsPerStudent; l++ {
				start := workertest.Paris(2026, 1, 5, 8, 0).AddDate(0, 0, l)
				lesson, v := s.Lesson(b.school, office, student, jean, fmt.Sprintf("L%d-%d-%d", o, st, l),
					domain.TypeConduite, start, start.Add(time.Hour))
				if !v.Pending() {
					t.Fatalf("bulk lesson not eligible: %+v", v)
				}
				b.lessons = append(b.lessons, lesson)
			}
		}
	}
	return b
}

// startRuns starts every office's run and returns a func that waits for them all.
func (b *bulk) startRuns(t *testing.T, s *workertest.Stack) func(timeout time.Duration) []workflows.OfficeRunResult {
	t.Helper()
	type started struct{ wid, rid string }
	var runs []started
	for _, o := range b.offices {
		wid, rid, err := s.Orchestrator.StartRun(context.Background(), b.school.ID, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, started{wid, rid})
	}
	return func(timeout time.Duration) []workflows.OfficeRunResult {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		var out []workflows.OfficeRunResult
		for _, r := range runs {
			var res workflows.OfficeRunResult
			if err := s.Client.GetWorkflow(ctx, r.wid, "").Get(ctx, &res); err != nil {
				t.Fatalf("run %s: %v", r.wid, err)
			}
			out = append(out, res)
		}
		return out
	}
}

// assertExactlyOnce checks the sandbox's ledger against Postgres lesson by lesson: every
// lesson transmitted, each at the DSR exactly once, under the id Postgres recorded, and each
// student's contract created once.
func (b *bulk) assertExactlyOnce(t *testing.T, s *workertest.Stack) sandbox.Ledger {
	t.Helper()
	ledger := s.Ledger()
	held := map[string]int{}
	slots := map[string]int{}
	for _, l := range ledger.Lessons {
		held[l.IDLecon]++
		slots[l.IDContrat+"@"+l.Debut.UTC().Format(time.RFC3339)]++
	}
	var lost, doubled []string
	for k, n := range slots {
		if n > 1 {
			doubled = append(doubled, k)
		}
	}
	for _, l := range b.lessons {
		tr := s.Transmission(b.school.ID, l.ID)
		if tr.Status != string(domain.StatusTransmitted) || tr.DsrLessonID == nil || held[*tr.DsrLessonID] != 1 {
			lost = append(lost, fmt.Sprintf("%s(%s %s)", l.Ref, tr.Status, tr.Code))
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 || len(doubled) > 0 || len(ledger.Lessons) != len(b.lessons) {
		t.Fatalf("expected %d lessons at the DSR once each; DSR holds %d; lost or unmatched %d %v; doubled %d %v",
			len(b.lessons), len(ledger.Lessons), len(lost), head(lost), len(doubled), head(doubled))
	}
	nephs := map[string]int{}
	for _, c := range ledger.Contracts {
		nephs[c.NEPH]++
	}
	for neph, n := range nephs {
		if n != 1 {
			t.Fatalf("student %s has %d contracts at the DSR", neph, n)
		}
	}
	return ledger
}

func head(s []string) []string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// waitLedger polls the sandbox until it holds at least n lessons.
func waitLedger(t *testing.T, s *workertest.Stack, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if len(s.Ledger().Lessons) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the DSR did not reach %d lessons in %s", n, timeout)
}

func clientTrigger() client.ScheduleTriggerOptions { return client.ScheduleTriggerOptions{} }
