package db_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
)

// fixture is one school with an office, a student and an instructor.
type fixture struct {
	q          *dbq.Queries
	school     dbq.School
	office     dbq.Office
	student    dbq.Student
	training   dbq.Training
	instructor dbq.Instructor
}

func newFixture(t testing.TB, pool *pgxpool.Pool, agrement string) fixture {
	t.Helper()
	ctx := context.Background()
	q := dbq.New(pool)
	key := sha256.Sum256([]byte("key-" + agrement))
	school, err := q.SchoolCreate(ctx, dbq.SchoolCreateParams{Name: "AE " + agrement, Agrement: agrement, ApiKeyHash: key[:]})
	if err != nil {
		t.Fatal(err)
	}
	office, err := q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: school.ID, Ref: "B1", Name: "Bureau 1"})
	if err != nil {
		t.Fatal(err)
	}
	student, err := q.StudentUpsert(ctx, dbq.StudentUpsertParams{SchoolID: school.ID, Ref: "S1", OfficeID: office.ID,
		FirstName: "Mélanie", LastName: "Perrin", SearchName: "melanie perrin", Neph: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	training, err := q.TrainingUpsert(ctx, dbq.TrainingUpsertParams{SchoolID: school.ID, StudentID: student.ID,
		Category: "B", InitialEvaluationAccepted: true})
	if err != nil {
		t.Fatal(err)
	}
	instructor, err := q.InstructorUpsert(ctx, dbq.InstructorUpsertParams{SchoolID: school.ID, Ref: "I1",
		FirstName: "Jean", LastName: "Dupont", AuthorizationNumber: "A1234567890"})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{q: q, school: school, office: office, student: student, training: training, instructor: instructor}
}

// addLesson inserts a lesson and its transmission with the given status.
func (f fixture) addLesson(t testing.TB, ref string, start time.Time, minutes int, status string) dbq.Lesson {
	t.Helper()
	ctx := context.Background()
	l, err := f.q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: f.school.ID, Ref: ref, OfficeID: f.office.ID,
		StudentID: f.student.ID, TrainingID: f.training.ID, InstructorID: f.instructor.ID, Type: "conduite",
		StartsAt: start, EndsAt: start.Add(time.Duration(minutes) * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: f.school.ID,
		OfficeID: f.office.ID, StudentID: f.student.ID, StartsAt: l.StartsAt, EndsAt: l.EndsAt, Status: status}); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestUpsertsByRef(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000001")

	again, err := f.q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: f.school.ID, Ref: "B1", Name: "Agence centre"})
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != f.office.ID || again.Name != "Agence centre" {
		t.Fatalf("upsert by ref must update the same office: %+v", again)
	}
	planned := time.Date(2021, 12, 1, 9, 0, 0, 0, time.UTC)
	start := time.Date(2021, 12, 9, 14, 0, 0, 0, time.UTC)
	l1, err := f.q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: f.school.ID, Ref: "L1", OfficeID: f.office.ID,
		StudentID: f.student.ID, TrainingID: f.training.ID, InstructorID: f.instructor.ID, Type: "conduite", StartsAt: start,
		EndsAt: start.Add(time.Hour), PlannedAt: &planned})
	if err != nil {
		t.Fatal(err)
	}
	// An update without planned_at keeps the first one.
	l2, err := f.q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: f.school.ID, Ref: "L1", OfficeID: f.office.ID,
		StudentID: f.student.ID, TrainingID: f.training.ID, InstructorID: f.instructor.ID, Type: "simulateur", StartsAt: start,
		EndsAt: start.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if l2.ID != l1.ID || l2.Type != "simulateur" || !l2.PlannedAt.Equal(planned) {
		t.Fatalf("lesson upsert: %+v", l2)
	}
	// A lesson without planned_at gets the time Livret first saw it.
	l3, err := f.q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: f.school.ID, Ref: "L3", OfficeID: f.office.ID,
		StudentID: f.student.ID, TrainingID: f.training.ID, InstructorID: f.instructor.ID, Type: "conduite", StartsAt: start, EndsAt: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(l3.PlannedAt) > time.Minute {
		t.Fatalf("planned_at defaults to now, got %s", l3.PlannedAt)
	}
	// end before start is refused by the database itself.
	if _, err := f.q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: f.school.ID, Ref: "L4", OfficeID: f.office.ID,
		StudentID: f.student.ID, TrainingID: f.training.ID, InstructorID: f.instructor.ID, Type: "conduite", StartsAt: start, EndsAt: start}); err == nil {
		t.Fatal("a lesson that ends when it starts must be refused")
	}
}

func TestTenantScoping(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	a := newFixture(t, pool, "E0000000001")
	b := newFixture(t, pool, "E0000000002")
	a.addLesson(t, "L1", time.Date(2021, 12, 9, 9, 0, 0, 0, time.UTC), 60, "error")

	// The same refs exist in both schools, each school sees only its own.
	if got, err := b.q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: b.school.ID, Ref: "B1"}); err != nil || got.ID != b.office.ID {
		t.Fatalf("school B's office: %+v %v", got, err)
	}
	if _, err := b.q.OfficeGet(ctx, dbq.OfficeGetParams{SchoolID: b.school.ID, ID: a.office.ID}); !db.IsNotFound(err) {
		t.Fatalf("school B must not read school A's office by id: %v", err)
	}
	rows, err := b.q.LessonReportPage(ctx, dbq.LessonReportPageParams{SchoolID: b.school.ID, Lim: 10})
	if err != nil || len(rows) != 0 {
		t.Fatalf("school B sees %d lessons of school A (%v)", len(rows), err)
	}
	if _, err := b.q.TransmissionResend(ctx, dbq.TransmissionResendParams{SchoolID: b.school.ID, LessonID: 1}); !db.IsNotFound(err) {
		t.Fatalf("school B must not resend school A's lesson: %v", err)
	}
	offices, err := b.q.OfficeList(ctx, dbq.OfficeListParams{SchoolID: b.school.ID})
	if err != nil || len(offices) != 1 || offices[0].ErrorCount != 0 {
		t.Fatalf("school B's office list: %+v %v", offices, err)
	}
	// B naming A's office (one card) reads nothing.
	if cards, err := b.q.OfficeList(ctx, dbq.OfficeListParams{SchoolID: b.school.ID, OfficeID: &a.office.ID}); err != nil || len(cards) != 0 {
		t.Fatalf("school B reads school A's card: %+v %v", cards, err)
	}
	offices, err = a.q.OfficeList(ctx, dbq.OfficeListParams{SchoolID: a.school.ID})
	if err != nil || len(offices) != 1 || offices[0].ErrorCount != 1 {
		t.Fatalf("school A's office list must count its error: %+v %v", offices, err)
	}
	found, err := b.q.StudentSearchWords(ctx, dbq.StudentSearchWordsParams{SchoolID: b.school.ID,
		LongestPattern: "%perrin%", Patterns: []string{"%perrin%"}, Lim: 10})
	if err != nil || len(found) != 1 || found[0].Ref != b.student.Ref {
		t.Fatalf("search must stay within the school: %+v %v", found, err)
	}
}

func TestDueLessonsCatchUp(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000001")
	paris, _ := time.LoadLocation("Europe/Paris")
	day := func(d, h int) time.Time { return time.Date(2021, 12, d, h, 0, 0, 0, paris) }

	old := f.addLesson(t, "old", day(1, 10), 60, "pending")     // a day missed by an outage
	yesterday := f.addLesson(t, "y", day(8, 10), 60, "pending") // yesterday
	f.addLesson(t, "today", day(9, 8), 60, "pending")           // today: not yet
	f.addLesson(t, "err", day(8, 12), 60, "error")              // refused: not reloaded
	f.addLesson(t, "ne", day(8, 14), 60, "not_eligible")        // not concerned
	stuck := f.addLesson(t, "stuck", day(7, 10), 60, "pending") // a crash left it sending
	if _, err := f.q.TransmissionMarkSending(ctx, stuck.ID); err != nil {
		t.Fatal(err)
	}
	before := day(9, 0) // the run of 9 December
	ids, err := f.q.TransmissionListDue(ctx, dbq.TransmissionListDueParams{OfficeID: f.office.ID, Before: before, AfterLessonID: 0, Lim: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{old.ID, yesterday.ID, stuck.ID}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("due = %v, want %v", ids, want)
	}
	// Paging resumes after the last id seen.
	page, err := f.q.TransmissionListDue(ctx, dbq.TransmissionListDueParams{OfficeID: f.office.ID, Before: before, AfterLessonID: yesterday.ID, Lim: 100})
	if err != nil || fmt.Sprint(page) != fmt.Sprint([]int64{stuck.ID}) {
		t.Fatalf("second page = %v %v", page, err)
	}
}

func TestSendingStateMachine(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000001")
	l := f.addLesson(t, "L1", time.Date(2021, 12, 9, 9, 0, 0, 0, time.UTC), 60, "pending")

	first, err := f.q.TransmissionMarkSending(ctx, l.ID)
	if err != nil || first.PreviousSendingSince != nil || first.Attempts != 1 {
		t.Fatalf("first mark: %+v %v", first, err)
	}
	second, err := f.q.TransmissionMarkSending(ctx, l.ID)
	if err != nil || second.PreviousSendingSince == nil || second.Attempts != 2 {
		t.Fatalf("a retry must learn the lesson was already sending: %+v %v", second, err)
	}
	// Livret's own verdict never overwrites a lesson being sent.
	if _, err := f.q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: f.school.ID,
		OfficeID: f.office.ID, StudentID: f.student.ID, StartsAt: l.StartsAt, EndsAt: l.EndsAt, Status: "not_eligible"}); !db.IsNotFound(err) {
		t.Fatalf("verdict over a sending lesson: %v", err)
	}
	n, err := f.q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: l.ID, DsrLessonID: ptr("LEC-1")})
	if err != nil || n != 1 {
		t.Fatalf("mark transmitted: %d %v", n, err)
	}
	// Once transmitted, nothing moves it: not a retry, not an error, not a resend.
	if _, err := f.q.TransmissionMarkSending(ctx, l.ID); !db.IsNotFound(err) {
		t.Fatalf("a transmitted lesson must not be sent again: %v", err)
	}
	if n, _ := f.q.TransmissionMarkError(ctx, dbq.TransmissionMarkErrorParams{LessonID: l.ID, Code: "X", Origin: "dsr"}); n != 0 {
		t.Fatal("a transmitted lesson must not turn into an error")
	}
	if _, err := f.q.TransmissionResend(ctx, dbq.TransmissionResendParams{SchoolID: f.school.ID, LessonID: l.ID}); !db.IsNotFound(err) {
		t.Fatalf("resend applies to lessons in error only: %v", err)
	}
	got, err := f.q.TransmissionGet(ctx, dbq.TransmissionGetParams{SchoolID: f.school.ID, LessonID: l.ID})
	if err != nil || got.Status != "transmitted" || *got.DsrLessonID != "LEC-1" || got.SendingSince != nil {
		t.Fatalf("final state: %+v %v", got, err)
	}
}

func TestDSRRefusalStaysUntilResend(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000001")
	l := f.addLesson(t, "L1", time.Date(2021, 12, 9, 9, 0, 0, 0, time.UTC), 60, "pending")
	if _, err := f.q.TransmissionMarkSending(ctx, l.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := f.q.TransmissionMarkError(ctx, dbq.TransmissionMarkErrorParams{LessonID: l.ID, Code: "ELEVE_INTROUVABLE", Message: "m", Origin: "dsr"}); err != nil || n != 1 {
		t.Fatalf("mark error: %d %v", n, err)
	}
	// The admin fixes the student, and moves the lesson to another office: our verdict says
	// pending, but the DSR's refusal stays; the copies follow the lesson.
	other, err := f.q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: f.school.ID, Ref: "B2", Name: "Bureau 2"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := f.q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: f.school.ID,
		OfficeID: other.ID, StudentID: f.student.ID, Category: "B_AUTO", StartsAt: l.StartsAt, EndsAt: l.EndsAt, Status: "pending"})
	if err != nil || tr.Status != "error" || tr.Code != "ELEVE_INTROUVABLE" || tr.Origin != "dsr" {
		t.Fatalf("a DSR refusal must wait for a resend: %+v %v", tr, err)
	}
	if tr.OfficeID != other.ID || tr.Category != "B_AUTO" {
		t.Fatalf("the copies did not follow the lesson: office %d (want %d), category %q", tr.OfficeID, other.ID, tr.Category)
	}
	// A lesson cancelled meanwhile is no longer an error to fix.
	if _, err := f.q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: f.school.ID,
		OfficeID: f.office.ID, StudentID: f.student.ID, StartsAt: l.StartsAt, EndsAt: l.EndsAt, Status: "cancelled"}); err != nil {
		t.Fatalf("cancel over a DSR refusal: %v", err)
	}
}

func TestReportFilters(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000001")
	other, err := f.q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: f.school.ID, Ref: "B2", Name: "Bureau 2"})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := f.q.StudentUpsert(ctx, dbq.StudentUpsertParams{SchoolID: f.school.ID, Ref: "S2", OfficeID: other.ID,
		FirstName: "Lou", LastName: "Michel", SearchName: "lou michel", Neph: "210987654321"})
	if err != nil {
		t.Fatal(err)
	}
	t2, err := f.q.TrainingUpsert(ctx, dbq.TrainingUpsertParams{SchoolID: f.school.ID, StudentID: s2.ID, Category: "B"})
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2021, 12, 1, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 25; i++ {
		status := []string{"transmitted", "error", "pending"}[i%3]
		f.addLesson(t, fmt.Sprintf("L%02d", i), base.Add(time.Duration(i)*24*time.Hour), 60, status)
	}
	f2 := f
	f2.office, f2.student, f2.training = other, s2, t2
	f2.addLesson(t, "M1", base.Add(5*time.Hour), 60, "error")

	cases := []struct {
		name string
		p    dbq.LessonReportPageParams
		want int64
	}{
		{"all", dbq.LessonReportPageParams{}, 26},
		{"office", dbq.LessonReportPageParams{OfficeID: &f.office.ID}, 25},
		{"other office", dbq.LessonReportPageParams{OfficeID: &other.ID}, 1},
		{"errors", dbq.LessonReportPageParams{Statuses: []string{"error"}}, 9},
		{"errors of office 2", dbq.LessonReportPageParams{Statuses: []string{"error"}, OfficeID: &other.ID}, 1},
		{"student", dbq.LessonReportPageParams{StudentID: &s2.ID}, 1},
		{"period", dbq.LessonReportPageParams{FromAt: ptr(base.Add(24 * time.Hour)), ToAt: ptr(base.Add(3 * 24 * time.Hour))}, 2},
	}
	for _, tc := range cases {
		p := tc.p
		p.SchoolID, p.Lim = f.school.ID, 10
		rows, err := f.q.LessonReportPage(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		total, err := f.q.LessonReportCount(ctx, dbq.LessonReportCountParams{SchoolID: p.SchoolID, OfficeID: p.OfficeID,
			StudentID: p.StudentID, Statuses: p.Statuses, FromAt: p.FromAt, ToAt: p.ToAt})
		if err != nil {
			t.Fatal(err)
		}
		if total != tc.want || int64(len(rows)) != min(tc.want, 10) {
			t.Errorf("%s: total %d rows %d, want %d", tc.name, total, len(rows), tc.want)
		}
		for i := 1; i < len(rows); i++ {
			if rows[i].ReportLine.StartsAt.After(rows[i-1].ReportLine.StartsAt) {
				t.Errorf("%s: not newest first", tc.name)
			}
		}
	}
	// Paging: the third page of 10 holds the last 6.
	rows, err := f.q.LessonReportPage(ctx, dbq.LessonReportPageParams{SchoolID: f.school.ID, Lim: 10, Off: 20})
	if err != nil || len(rows) != 6 {
		t.Fatalf("page 3: %d rows %v", len(rows), err)
	}
}

func TestWithTxRollsBack(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000001")
	boom := fmt.Errorf("boom")
	err := db.WithTx(ctx, pool, func(q *dbq.Queries) error {
		if _, err := q.OfficeUpsert(ctx, dbq.OfficeUpsertParams{SchoolID: f.school.ID, Ref: "B9", Name: "x"}); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("WithTx returned %v", err)
	}
	if _, err := f.q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: f.school.ID, Ref: "B9"}); !db.IsNotFound(err) {
		t.Fatalf("nothing half-written: %v", err)
	}
	// A cancelled context still rolls back cleanly and frees the connection.
	cctx, cancel := context.WithCancel(ctx)
	err = db.WithTx(cctx, pool, func(q *dbq.Queries) error {
		cancel()
		return boom
	})
	if err == nil {
		t.Fatal("expected an error")
	}
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("pool unusable after a cancelled transaction: %v", err)
	}
}

func TestOAuthStateSingleUse(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000001")
	hash := sha256.Sum256([]byte("state"))
	if err := f.q.OAuthStateCreate(ctx, dbq.OAuthStateCreateParams{StateHash: hash[:], SchoolID: f.school.ID, OfficeID: f.office.ID,
		VerifierEnc: []byte("x"), KeyID: "k1", ExpiresAt: time.Now().Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.OAuthStateConsume(ctx, hash[:]); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := f.q.OAuthStateConsume(ctx, hash[:]); !db.IsNotFound(err) {
		t.Fatalf("a replayed state must be refused: %v", err)
	}
	expired := sha256.Sum256([]byte("old"))
	if err := f.q.OAuthStateCreate(ctx, dbq.OAuthStateCreateParams{StateHash: expired[:], SchoolID: f.school.ID, OfficeID: f.office.ID,
		VerifierEnc: []byte("x"), KeyID: "k1", ExpiresAt: time.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.q.OAuthStateConsume(ctx, expired[:]); !db.IsNotFound(err) {
		t.Fatalf("an expired state must be refused: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
