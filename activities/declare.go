package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/school"
)

// DeclareLessons declares a batch of lessons at the DSR, each exactly once.
//
// The DSR has no idempotency key, so exactly-once is ours to keep:
//   - a lesson is marked sending, and that is committed, before its POST;
//   - a lesson found already sending (a crash, a timeout after the DSR stored it, a worker
//     killed mid-batch, a retry of this activity) is first looked up at the DSR and only
//     posted if absent;
//   - LECON_EN_DOUBLON for a lesson the DSR holds on our contract at the same start counts
//     as transmitted.
//
// No transaction spans a DSR call: each state change is its own statement. Business refusals
// are recorded on the lesson; only faults fail the activity, typed by failure().
func (a *Activities) DeclareLessons(ctx context.Context, in BatchInput) (DeclareResult, error) {
	q := dbq.New(a.Pool)
	rows, err := q.LessonSendList(ctx, dbq.LessonSendListParams{SchoolID: in.SchoolID, LessonIds: in.LessonIDs})
	if err != nil {
		return DeclareResult{}, err
	}
	// A retried attempt resumes after the last lesson the previous one finished.
	start := 0
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &start)
	}
	for i := start; i < len(rows); i++ {
		r := rows[i]
		err := retryBriefly(ctx, func() error { return a.declareOne(ctx, q, r, in) })
		if err != nil {
			return DeclareResult{}, a.fault(ctx, q, r, err)
		}
		activity.RecordHeartbeat(ctx, i+1)
	}
	return a.countBatch(ctx, q, in)
}

func (a *Activities) declareOne(ctx context.Context, q *dbq.Queries, r dbq.LessonSendListRow, in BatchInput) error {
	switch domain.Status(r.Status) {
	case domain.StatusPending:
		// The data may have changed since the load: judge the lesson again.
		if v := domain.Evaluate(school.Facts(r.LessonFact)); !v.Pending() {
			k := school.LessonKey{LessonID: r.ID, SchoolID: r.SchoolID, OfficeID: r.OfficeID, StudentID: r.StudentID}
			return school.SetVerdict(ctx, q, k, r.LessonFact, v)
		}
		if !domain.DueBy(r.LessonFact.EndsAt, in.Before) {
			return nil // not before its next day: the school may still cancel it
		}
	case domain.StatusSending:
	default:
		return nil // transmitted or judged meanwhile
	}
	if r.DsrContractID == nil || r.LessonFact.AccountID == nil {
		return nil // no contract yet (refused, or the contract step will come back to it)
	}
	acct := a.DSR.Account(*r.LessonFact.AccountID)
	contract := *r.DsrContractID

	mark, err := q.TransmissionMarkSending(ctx, r.ID)
	if db.IsNotFound(err) {
		return nil // another run finished it meanwhile
	}
	if err != nil {
		return err
	}
	if mark.PreviousSendingSince != nil {
		// An earlier attempt may have reached the DSR: look before posting again.
		id, found, err := a.lookup(ctx, acct, contract, r)
		if err != nil {
			return a.lookupFailed(ctx, q, r.ID, err)
		}
		if found {
			a.Metrics.reconciled()
			return a.transmitted(ctx, q, r.ID, id)
		}
	}
	started := a.now()
	id, err := acct.DeclareLesson(ctx, contract, lessonRequest(r))
	a.Metrics.observe("declare_lesson", a.now().Sub(started).Seconds(), err)
	if err == nil {
		return a.transmitted(ctx, q, r.ID, id)
	}
	switch HandlingOf(err) {
	case Reconcile:
		id, found, lookErr := a.lookup(ctx, acct, contract, r)
		if lookErr != nil {
			return a.lookupFailed(ctx, q, r.ID, lookErr)
		}
		if found {
			a.Metrics.reconciled()
			return a.transmitted(ctx, q, r.ID, id)
		}
		return a.markError(ctx, q, r.ID, err)
	case RecordLesson, RecordStudent, LookupContract:
		return a.markError(ctx, q, r.ID, err)
	}
	return err
}

// fault ends the activity on an error no lesson-level record can absorb: the school closed,
// the account lost its login, or a fault that outlasted the brief retries.
func (a *Activities) fault(ctx context.Context, q *dbq.Queries, r dbq.LessonSendListRow, err error) error {
	switch HandlingOf(err) {
	case StopSchool:
		return a.stopSchool(ctx, q, r.SchoolID, []dbq.LessonSendListRow{r}, err)
	case Reconnect:
		return a.needsReconnect(ctx, q, *r.LessonFact.AccountID, err)
	}
	return failure(err)
}

// lookup finds the lesson at the DSR: on our contract, the same start (the DSR's own
// duplicate key is the student and the start).
func (a *Activities) lookup(ctx context.Context, acct *dsr.Account, contract string, r dbq.LessonSendListRow) (string, bool, error) {
	day := domain.StartOfDay(r.LessonFact.StartsAt)
	started := a.now()
	lessons, err := acct.ListLessons(ctx, contract, day, day)
	a.Metrics.observe("list_lessons", a.now().Sub(started).Seconds(), err)
	if err != nil {
		return "", false, err
	}
	// The DSR got the start to the second (dsr.LessonRequest), and holds it so: a start
	// Livret keeps with a fraction of a second would never match at full precision.
	start := r.LessonFact.StartsAt.Truncate(time.Second)
	for _, l := range lessons {
		if l.Start.Equal(start) {
			return l.ID, true, nil
		}
	}
	return "", false, nil
}

// lookupFailed handles a failed look-up. The DSR refusing to list the contract's lessons
// (CONTRAT_NON_AUTORISE, CONTRAT_INTROUVABLE) refuses the lesson as its POST would: that is
// recorded on the lesson, not retried as a fault for a day. Anything else is the caller's.
func (a *Activities) lookupFailed(ctx context.Context, q *dbq.Queries, lessonID int64, err error) error {
	if HandlingOf(err) == RecordLesson {
		return a.markError(ctx, q, lessonID, err)
	}
	return err
}

func lessonRequest(r dbq.LessonSendListRow) dsr.LessonRequest {
	number, _ := domain.NormalizeAuthorization(r.LessonFact.AuthorizationNumber)
	return dsr.LessonRequest{
		Start: r.LessonFact.StartsAt, End: r.LessonFact.EndsAt,
		Type:                school.Facts(r.LessonFact).DSRType(),
		AuthorizationNumber: number,
		InstructorLastName:  r.InstructorLastName, InstructorFirstName: r.InstructorFirstName,
	}
}

func (a *Activities) transmitted(ctx context.Context, q *dbq.Queries, lessonID int64, dsrID string) error {
	if _, err := q.TransmissionMarkTransmitted(ctx, dbq.TransmissionMarkTransmittedParams{LessonID: lessonID, DsrLessonID: &dsrID}); err != nil {
		return err
	}
	a.Metrics.transmitted()
	return nil
}

// markError records a refusal on the lesson in the DSR's words.
func (a *Activities) markError(ctx context.Context, q *dbq.Queries, lessonID int64, err error) error {
	code, message := domain.Code("DSR"), err.Error()
	if e, ok := dsr.AsError(err); ok {
		code, message = e.Code, e.Message
		if message == "" {
			message = code.Message()
		}
	}
	if _, err := q.TransmissionMarkError(ctx, dbq.TransmissionMarkErrorParams{
		LessonID: lessonID, Code: string(code), Message: message, Origin: "dsr",
	}); err != nil {
		return err
	}
	a.Metrics.refused(string(code))
	return nil
}

// stopSchool flags the school closed (its runs stop until an operator reopens it), shows the
// refusal on the lessons at hand, and ends the activity without retry.
func (a *Activities) stopSchool(ctx context.Context, q *dbq.Queries, schoolID int64, rows []dbq.LessonSendListRow, err error) error {
	if dbErr := q.SchoolMarkClosed(ctx, schoolID); dbErr != nil {
		return dbErr
	}
	for _, r := range rows {
		if dbErr := a.markError(ctx, q, r.ID, err); dbErr != nil {
			return dbErr
		}
	}
	return failure(err)
}

// needsReconnect marks the account "reconnexion nécessaire": its lessons stay pending until
// an admin logs in again, and nothing retries meanwhile.
func (a *Activities) needsReconnect(ctx context.Context, q *dbq.Queries, accountID int64, err error) error {
	if dbErr := q.AccountMarkNeedsReconnect(ctx, accountID); dbErr != nil {
		return dbErr
	}
	return failure(err)
}

// countBatch reads the batch's final states: counts stay right when an earlier attempt of
// the activity did part of the work.
func (a *Activities) countBatch(ctx context.Context, q *dbq.Queries, in BatchInput) (DeclareResult, error) {
	rows, err := q.LessonSendList(ctx, dbq.LessonSendListParams{SchoolID: in.SchoolID, LessonIds: in.LessonIDs})
	if err != nil {
		return DeclareResult{}, err
	}
	var res DeclareResult
	for _, r := range rows {
		switch domain.Status(r.Status) {
		case domain.StatusTransmitted:
			res.Transmitted++
		case domain.StatusError:
			res.Errors++
		case domain.StatusNotEligible, domain.StatusCancelled:
			res.NotEligible++
		default:
			res.Deferred++
		}
	}
	return res, nil
}
