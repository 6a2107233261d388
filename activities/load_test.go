package activities_test

import (
	"slices"
	"testing"
	"time"

	"livret/activities"
	"livret/db/dbq"
	"livret/domain"
)

// load runs LoadDueLessons for the env's office and run day; in's zero fields take them.
func (e *env) load(in activities.LoadInput) activities.LoadResult {
	e.t.Helper()
	if in.SchoolID == 0 {
		in.SchoolID, in.OfficeID = e.school.ID, e.office.ID
	}
	if in.Before.IsZero() {
		in.Before = runDay
	}
	var res activities.LoadResult
	e.must(e.run(activities.LoadDueLessonsName, in, &res), "load")
	return res
}

func ids(ls ...dbq.Lesson) []int64 {
	out := []int64{}
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func TestLoadPagesThroughDueLessons(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	tom := e.student("E-TOM", "Blanc", nephTom, "B")
	l1 := e.lesson(lea, "L1", june10(8), time.Hour)
	t1 := e.lesson(tom, "T1", june10(8), time.Hour)
	l2 := e.lesson(lea, "L2", june10(10), time.Hour)
	leftSending := e.lesson(tom, "T2", june10(10), time.Hour)
	// Any earlier day is caught up; the run's own day is not due yet.
	earlier := e.lesson(lea, "L-MAY", time.Date(2024, 5, 2, 9, 0, 0, 0, domain.Paris), time.Hour)
	e.lesson(lea, "L-TODAY", runDay.Add(9*time.Hour), time.Hour)
	done := e.lesson(tom, "T3", june10(14), time.Hour)
	e.mustContracts(e.batch(l1, done))
	e.markSending(leftSending)
	if _, err := e.declare(e.batch(done)); err != nil {
		t.Fatal(err)
	}

	first := e.load(activities.LoadInput{Limit: 3})
	if !slices.Equal(first.LessonIDs, ids(l1, t1, l2)) || first.AccountID != e.account.ID || first.Blocked != "" {
		t.Fatalf("first page %+v, want %v", first, ids(l1, t1, l2))
	}
	// Tom got his contract with T3; Léa has hers: none of these needs the contract step.
	if len(first.NoContract) != 0 {
		t.Fatalf("without contract: %v", first.NoContract)
	}
	second := e.load(activities.LoadInput{Limit: 3, AfterLessonID: l2.ID})
	if !slices.Equal(second.LessonIDs, ids(leftSending, earlier)) {
		t.Fatalf("second page %v, want %v (the sending one included)", second.LessonIDs, ids(leftSending, earlier))
	}
	if last := e.load(activities.LoadInput{Limit: 3, AfterLessonID: earlier.ID}); len(last.LessonIDs) != 0 {
		t.Fatalf("a third page %v", last.LessonIDs)
	}
}

func TestLoadListsLessonsWithoutContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	lea := e.student("E-LEA", "Perrin", nephLea, "B")
	tom := e.student("E-TOM", "Blanc", nephTom, "B")
	l1 := e.lesson(lea, "L1", june10(8), time.Hour)
	t1 := e.lesson(tom, "T1", june10(8), time.Hour)
	t2 := e.lesson(tom, "T2", june10(10), time.Hour)
	e.mustContracts(e.batch(l1))

	res := e.load(activities.LoadInput{})
	if !slices.Equal(res.NoContract, ids(t1, t2)) {
		t.Fatalf("without contract %v, want Tom's %v", res.NoContract, ids(t1, t2))
	}
}

func TestLoadSaysWhyAnOfficeIsBlocked(t *testing.T) {
	t.Parallel()
	t.Run("not linked", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		lea := e.student("E-LEA", "Perrin", nephLea, "B")
		e.lesson(lea, "L1", june10(8), time.Hour)
		_, err := e.q.OfficeUnlink(e.ctx, dbq.OfficeUnlinkParams{SchoolID: e.school.ID, ID: e.office.ID})
		e.must(err, "unlink")
		if res := e.load(activities.LoadInput{}); res.Blocked != activities.BlockedNotLinked || res.Waiting != 1 || len(res.LessonIDs) != 0 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("school closed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		lea := e.student("E-LEA", "Perrin", nephLea, "B")
		e.lesson(lea, "L1", june10(8), time.Hour)
		e.lesson(lea, "L2", june10(10), time.Hour)
		e.must(e.q.SchoolMarkClosed(e.ctx, e.school.ID), "close")
		if res := e.load(activities.LoadInput{}); res.Blocked != activities.BlockedSchoolClosed || res.Waiting != 2 || len(res.LessonIDs) != 0 {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("needs reconnect", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		lea := e.student("E-LEA", "Perrin", nephLea, "B")
		e.lesson(lea, "L1", june10(8), time.Hour)
		e.must(e.q.AccountMarkNeedsReconnect(e.ctx, e.account.ID), "mark")
		if res := e.load(activities.LoadInput{}); res.Blocked != activities.BlockedNeedsReconnect || res.Waiting != 1 || len(res.LessonIDs) != 0 {
			t.Fatalf("%+v", res)
		}
	})
}

func TestRecordRunWritesTheCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Two lessons of the office in error, set by Livret's checks at entry, not by a run.
	lea := e.student("E-LEA", "Perrin", "")
	for _, ref := range []string{"L1", "L2"} {
		l := e.lesson(lea, ref, june10(8), time.Hour)
		_, err := e.q.TransmissionSetVerdict(e.ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: e.school.ID,
			OfficeID: l.OfficeID, StudentID: l.StudentID, StartsAt: l.StartsAt, EndsAt: l.EndsAt,
			Status: string(domain.StatusError), Code: string(domain.CodeNEPHManquant)})
		e.must(err, "verdict")
	}
	started := time.Date(2024, 6, 15, 1, 30, 0, 0, domain.Paris)
	in := activities.RecordInput{SchoolID: e.school.ID, OfficeID: e.office.ID, WorkflowID: "livret-run-1-2024-06-15", RunID: "r1",
		BusinessDate: "2024-06-15", StartedAt: started, Outcome: "running"}
	e.must(e.run(activities.RecordRunName, in, nil), "record the start")
	runs, err := e.q.RunListByOffice(e.ctx, dbq.RunListByOfficeParams{SchoolID: e.school.ID, OfficeID: e.office.ID, Limit: 10})
	e.must(err, "runs")
	if len(runs) != 1 || runs[0].Outcome != "running" || runs[0].FinishedAt != nil || runs[0].Errors != 2 {
		t.Fatalf("recorded at the start %+v", runs)
	}

	in.Transmitted, in.Errors, in.NotEligible, in.Deferred, in.Outcome = 5, 1, 1, 3, "completed"
	in.StartedAt = started.Add(time.Hour) // a later record never moves the start
	e.must(e.run(activities.RecordRunName, in, nil), "record the end")
	// A retry of the activity after a lost answer must not count the run twice.
	e.must(e.run(activities.RecordRunName, in, nil), "record again")

	runs, err = e.q.RunListByOffice(e.ctx, dbq.RunListByOfficeParams{SchoolID: e.school.ID, OfficeID: e.office.ID, Limit: 10})
	e.must(err, "runs")
	if len(runs) != 1 {
		t.Fatalf("%d runs recorded, want 1", len(runs))
	}
	r := runs[0]
	// errors is the office's lessons in error, as the office card counts them; refused, the
	// lessons the run's batches left in error.
	if r.Transmitted != 5 || r.Refused != 1 || r.Errors != 2 || r.NotEligible != 1 || r.Deferred != 3 || r.Outcome != "completed" ||
		r.FinishedAt == nil || r.Failure != "" ||
		!r.StartedAt.Equal(started) || r.BusinessDate.Format(time.DateOnly) != "2024-06-15" || r.WorkflowID != in.WorkflowID {
		t.Fatalf("recorded %+v", r)
	}
	cards, err := e.q.OfficeList(e.ctx, dbq.OfficeListParams{SchoolID: e.school.ID})
	e.must(err, "cards")
	if len(cards) != 1 || cards[0].ErrorCount != int64(r.Errors) {
		t.Fatalf("card %+v, run errors %d", cards, r.Errors)
	}

	// The same workflow id with another first run id: the day's second run, a second row.
	in.RunID, in.Outcome, in.Failure = "r2", "failed", "L'envoi a échoué."
	e.must(e.run(activities.RecordRunName, in, nil), "record a failure")
	runs, err = e.q.RunListByOffice(e.ctx, dbq.RunListByOfficeParams{SchoolID: e.school.ID, OfficeID: e.office.ID, Limit: 10})
	e.must(err, "runs")
	if len(runs) != 2 || runs[0].RunID != "r2" || runs[0].Outcome != "failed" || runs[0].Failure != in.Failure || runs[0].FinishedAt == nil {
		t.Fatalf("runs %+v", runs)
	}

	in.BusinessDate = "15/06/2024"
	if err := e.run(activities.RecordRunName, in, nil); err == nil {
		t.Fatal("a malformed business date was recorded")
	}
}
