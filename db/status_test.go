package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/domain"
)

// lessonState is a transmission's state as the guards read it.
type lessonState struct {
	status domain.Status
	origin domain.Origin
	code   domain.Code
}

// TestTransmissionGuardsFollowTheStatusTable puts a lesson in every state, applies every
// statement that changes a transmission, and checks that the statement's SQL guard lets it
// through exactly when domain.Transitions allows the move: the status machine is one table,
// and the SQL cannot drift from it.
func TestTransmissionGuardsFollowTheStatusTable(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	f := newFixture(t, pool, "E0000000001")

	states := []lessonState{
		{domain.StatusPending, domain.OriginLivret, ""},
		{domain.StatusSending, domain.OriginLivret, ""},
		{domain.StatusTransmitted, domain.OriginDSR, ""},
		{domain.StatusError, domain.OriginLivret, domain.CodeDureeInvalide},
		{domain.StatusError, domain.OriginDSR, domain.CodeLeconFuture},
		{domain.StatusError, domain.OriginDSR, domain.CodeAutoEcoleFermee},
		{domain.StatusNotEligible, domain.OriginLivret, domain.CodeTypeNonConcerne},
		{domain.StatusCancelled, domain.OriginLivret, ""},
	}
	type move struct {
		event domain.Event
		to    domain.Status
		apply func(q *dbq.Queries, l dbq.Lesson) (bool, error)
	}
	verdict := func(to domain.Status) move {
		return move{domain.EventVerdict, to, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			tr, err := q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: f.school.ID,
				OfficeID: f.office.ID, StudentID: f.student.ID, StartsAt: l.StartsAt, EndsAt: l.EndsAt, Status: string(to)})
			if ok, err := applied(err); !ok || err != nil {
				return ok, err
			}
			// A DSR refusal that stays keeps its status and its origin (only the lesson's copies
			// follow); a verdict that applies is Livret's.
			return domain.Status(tr.Status) == to && domain.Origin(tr.Origin) == domain.OriginLivret, nil
		}}
	}
	moves := []move{
		verdict(domain.StatusPending), verdict(domain.StatusError), verdict(domain.StatusNotEligible), verdict(domain.StatusCancelled),
		{domain.EventMarkSending, domain.StatusSending, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			_, err := q.TransmissionMarkSending(ctx, l.ID)
			return applied(err)
		}},
		{domain.EventTransmitted, domain.StatusTransmitted, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			id := "dsr-1"
			n, err := q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: l.ID, DsrLessonID: &id})
			return n == 1, err
		}},
		{domain.EventRefused, domain.StatusError, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			n, err := q.TransmissionMarkError(ctx, dbq.TransmissionMarkErrorParams{LessonID: l.ID, Code: "LECON_FUTURE", Message: "m", Origin: "dsr"})
			return n == 1, err
		}},
		{domain.EventMarkSending, domain.StatusSending, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			rows, err := q.TransmissionMarkSendingMany(ctx, []int64{l.ID})
			return len(rows) == 1 && rows[0].LessonID == l.ID, err
		}},
		{domain.EventTransmitted, domain.StatusTransmitted, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			n, err := q.TransmissionRecordOutcomes(ctx, dbq.TransmissionRecordOutcomesParams{LessonIds: []int64{l.ID},
				Statuses: []string{"transmitted"}, DsrLessonIds: []string{"dsr-1"}, Codes: []string{""}, Messages: []string{""}})
			return n == 1, err
		}},
		{domain.EventRefused, domain.StatusError, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			n, err := q.TransmissionRecordOutcomes(ctx, dbq.TransmissionRecordOutcomesParams{LessonIds: []int64{l.ID},
				Statuses: []string{"error"}, DsrLessonIds: []string{""}, Codes: []string{"LECON_FUTURE"}, Messages: []string{"m"}})
			return n == 1, err
		}},
		{domain.EventUnmarkSending, domain.StatusPending, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			tr, err := q.TransmissionGet(ctx, dbq.TransmissionGetParams{SchoolID: f.school.ID, LessonID: l.ID})
			if err != nil {
				return false, err
			}
			// A stale attempts (another attempt marked it since) leaves it alone whatever its state.
			if n, err := q.TransmissionUnmarkSending(ctx, dbq.TransmissionUnmarkSendingParams{LessonIds: []int64{l.ID},
				Attempts: []int32{tr.Attempts - 1}}); n != 0 || err != nil {
				return n != 0, err
			}
			n, err := q.TransmissionUnmarkSending(ctx, dbq.TransmissionUnmarkSendingParams{LessonIds: []int64{l.ID},
				Attempts: []int32{tr.Attempts}})
			return n == 1, err
		}},
		{domain.EventResend, domain.StatusPending, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			_, err := q.TransmissionResend(ctx, dbq.TransmissionResendParams{SchoolID: f.school.ID, LessonID: l.ID})
			return applied(err)
		}},
		{domain.EventReopen, domain.StatusPending, func(q *dbq.Queries, l dbq.Lesson) (bool, error) {
			ids, err := q.TransmissionReopen(ctx, f.school.ID)
			return len(ids) == 1 && ids[0] == l.ID, err
		}},
	}
	covered := map[domain.Event]bool{}
	for _, st := range states {
		for _, m := range moves {
			covered[m.event] = true
			name := fmt.Sprintf("%s/%s/%s--%s-->%s", st.status, st.origin, st.code, m.event, m.to)
			// Each case in a transaction rolled back: the lessons never meet.
			err := db.WithTx(ctx, pool, func(q *dbq.Queries) error {
				l := putInState(t, q, f, st)
				got, err := m.apply(q, l)
				if err != nil {
					return err
				}
				want := domain.CanMove(st.status, st.origin, st.code, m.event, m.to)
				if got != want {
					t.Errorf("%s: the SQL guard lets it through: %v; domain.Transitions: %v", name, got, want)
				}
				if got {
					tr, err := q.TransmissionGet(ctx, dbq.TransmissionGetParams{SchoolID: f.school.ID, LessonID: l.ID})
					if err != nil {
						return err
					}
					if domain.Status(tr.Status) != m.to {
						t.Errorf("%s: now %s", name, tr.Status)
					}
				}
				return errRollback
			})
			if err != errRollback {
				t.Fatalf("%s: %v", name, err)
			}
		}
	}
	for _, tr := range domain.Transitions {
		if !covered[tr.Event] {
			t.Errorf("no statement checked for event %s", tr.Event)
		}
	}
}

var errRollback = fmt.Errorf("rolled back on purpose")

// applied reads a guarded :one statement's answer: no row means the guard declined.
func applied(err error) (bool, error) {
	if db.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// putInState writes a lesson whose transmission is in st, through the statements a real
// lesson's life goes through.
func putInState(t *testing.T, q *dbq.Queries, f fixture, st lessonState) dbq.Lesson {
	t.Helper()
	ctx := context.Background()
	start := time.Date(2021, 12, 9, 9, 0, 0, 0, time.UTC)
	l, err := q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: f.school.ID, Ref: "L-" + string(st.status) + string(st.code),
		OfficeID: f.office.ID, StudentID: f.student.ID, TrainingID: f.training.ID, InstructorID: f.instructor.ID, Type: "conduite",
		StartsAt: start, EndsAt: start.Add(time.Hour)})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(err)
	verdict := func(s domain.Status, code domain.Code) {
		_, err := q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: f.school.ID,
			OfficeID: f.office.ID, StudentID: f.student.ID, StartsAt: l.StartsAt, EndsAt: l.EndsAt, Status: string(s), Code: string(code)})
		must(err)
	}
	sending := func() {
		verdict(domain.StatusPending, "")
		_, err := q.TransmissionMarkSending(ctx, l.ID)
		must(err)
	}
	switch {
	case st.status == domain.StatusSending:
		sending()
	case st.status == domain.StatusTransmitted:
		sending()
		id := "dsr-0"
		_, err := q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: l.ID, DsrLessonID: &id})
		must(err)
	case st.status == domain.StatusError && st.origin == domain.OriginDSR:
		sending()
		_, err := q.TransmissionMarkError(ctx, dbq.TransmissionMarkErrorParams{LessonID: l.ID, Code: string(st.code), Message: "m", Origin: "dsr"})
		must(err)
	default:
		verdict(st.status, st.code)
	}
	tr, err := q.TransmissionGet(ctx, dbq.TransmissionGetParams{SchoolID: f.school.ID, LessonID: l.ID})
	must(err)
	if domain.Status(tr.Status) != st.status || domain.Origin(tr.Origin) != st.origin || domain.Code(tr.Code) != st.code {
		t.Fatalf("set up %+v, got %s/%s/%s", st, tr.Status, tr.Origin, tr.Code)
	}
	return l
}
