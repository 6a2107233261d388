package webapi

import (
	"context"
	"time"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// Livret checks what it can itself when data comes in, so the school learns the same day
// that a lesson will not be sent, and why (product.md). After any write, the verdicts of the
// lessons it affects are recomputed in the same transaction.

// reevaluate recomputes the verdict of every lesson matched by scope (one lesson, or all of a
// student, an instructor or an office) that is not yet at the DSR. TransmissionSetVerdict
// keeps its own rules: it never touches a lesson being sent or sent, and a DSR refusal stays
// until the admin resends.
func reevaluate(ctx context.Context, q *dbq.Queries, schoolID int64, scope dbq.LessonFactsListParams) error {
	scope.SchoolID = schoolID
	rows, err := q.LessonFactsList(ctx, scope)
	if err != nil {
		return err
	}
	for _, r := range rows {
		f := domain.LessonFacts{
			Category:                  domain.Category(r.Category),
			NEPH:                      r.Neph,
			InitialEvaluationAccepted: r.InitialEvaluationAccepted,
			AuthorizationNumber:       r.AuthorizationNumber,
			InstructorSimulator:       r.Simulator,
			Type:                      domain.LessonType(r.Type),
			Start:                     r.StartsAt,
			End:                       r.EndsAt,
			PlannedAt:                 r.PlannedAt,
			Cancelled:                 r.CancelledAt != nil,
			OfficeLinked:              r.AccountID != nil,
			OfficeLinkedAt:            deref(r.LinkedAt),
		}
		if err := setVerdict(ctx, q, r.ID, schoolID, r.OfficeID, r.StudentID, r.StartsAt, r.EndsAt, domain.Evaluate(f)); err != nil {
			return err
		}
	}
	return nil
}

// lessonFacts builds the facts of a lesson from the rows just written (a new lesson has no
// transmission yet, so LessonFactsList cannot see it).
func lessonFacts(l dbq.Lesson, st dbq.Student, in dbq.Instructor, o dbq.Office) domain.LessonFacts {
	return domain.LessonFacts{
		Category:                  domain.Category(st.Category),
		NEPH:                      st.Neph,
		InitialEvaluationAccepted: st.InitialEvaluationAccepted,
		AuthorizationNumber:       in.AuthorizationNumber,
		InstructorSimulator:       in.Simulator,
		Type:                      domain.LessonType(l.Type),
		Start:                     l.StartsAt,
		End:                       l.EndsAt,
		PlannedAt:                 l.PlannedAt,
		Cancelled:                 l.CancelledAt != nil,
		OfficeLinked:              o.AccountID != nil,
		OfficeLinkedAt:            deref(o.LinkedAt),
	}
}

// setVerdict stores a verdict; the query declining to change a protected transmission is not
// an error.
func setVerdict(ctx context.Context, q *dbq.Queries, lessonID, schoolID, officeID, studentID int64, start, end time.Time, v domain.Verdict) error {
	_, err := q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{
		LessonID: lessonID, SchoolID: schoolID, OfficeID: officeID, StudentID: studentID,
		StartsAt: start, EndsAt: end, Status: string(v.Status), Code: string(v.Code), Message: v.Message,
	})
	if err != nil && !db.IsNotFound(err) {
		return err
	}
	return nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
