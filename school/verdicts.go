package school

import (
	"context"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// Livret checks what it can itself when data comes in, so the school learns the same day
// that a lesson will not be sent, and why (docs/rules.md, "When the rules run"). After any
// write, the verdicts of the lessons it affects are recomputed in the same transaction.

// Facts is the one place a lesson's facts are built, from the lesson_facts row that every
// query judging lessons embeds (the daily run's included: activities.DeclareLessons).
func Facts(f dbq.LessonFact) domain.LessonFacts {
	return domain.LessonFacts{
		Scope:                     domain.Scope(f.Scope),
		Category:                  domain.Category(f.Category),
		NEPH:                      f.Neph,
		InitialEvaluationAccepted: f.InitialEvaluationAccepted,
		AuthorizationNumber:       f.AuthorizationNumber,
		InstructorSimulator:       f.Simulator,
		Type:                      domain.LessonType(f.Type),
		Start:                     f.StartsAt,
		End:                       f.EndsAt,
		PlannedAt:                 f.PlannedAt,
		Cancelled:                 f.CancelledAt != nil,
		OfficeLinked:              f.AccountID != nil,
		OfficeLinkedAt:            deref(f.LinkedAt),
	}
}

// LessonKey names a lesson and where its transmission belongs.
type LessonKey struct {
	LessonID, SchoolID, OfficeID, StudentID int64
}

// SetVerdict is the one write of Livret's verdict on a lesson. The query keeps the status
// machine's rules (domain.Transitions): it never touches a lesson being sent or sent, and a
// DSR refusal stays until the admin resends; declining is not an error.
func SetVerdict(ctx context.Context, q *dbq.Queries, k LessonKey, f dbq.LessonFact, v domain.Verdict) error {
	_, err := q.TransmissionSetVerdict(ctx, dbq.TransmissionSetVerdictParams{
		LessonID: k.LessonID, SchoolID: k.SchoolID, OfficeID: k.OfficeID, StudentID: k.StudentID,
		Category: f.Category, StartsAt: f.StartsAt, EndsAt: f.EndsAt, Status: string(v.Status), Code: string(v.Code), Message: v.Message,
	})
	if err != nil && !db.IsNotFound(err) {
		return err
	}
	return nil
}

// Scope is which lessons a re-evaluation judges: one lesson, or all of a student, an
// instructor or an office (whichever is set).
type Scope struct {
	LessonID, StudentID, InstructorID, OfficeID *int64
}

// Reevaluate judges again every lesson of the scope that is not yet at the DSR (a lesson
// just written, with no transmission yet, included), inside the caller's transaction.
func Reevaluate(ctx context.Context, q *dbq.Queries, schoolID int64, scope Scope) error {
	rows, err := q.LessonFactsList(ctx, dbq.LessonFactsListParams{SchoolID: schoolID, LessonID: scope.LessonID,
		StudentID: scope.StudentID, InstructorID: scope.InstructorID, OfficeID: scope.OfficeID})
	if err != nil {
		return err
	}
	for _, r := range rows {
		k := LessonKey{LessonID: r.ID, SchoolID: r.SchoolID, OfficeID: r.OfficeID, StudentID: r.StudentID}
		if err := SetVerdict(ctx, q, k, r.LessonFact, domain.Evaluate(Facts(r.LessonFact))); err != nil {
			return err
		}
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
