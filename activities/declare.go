package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"

	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/school"
)

// GroupSize is how many lessons DeclareLessons marks sending in one statement, posts, and
// records in one statement. Small, because a group's lessons are sending from its mark to its
// record: a crash in between costs one look-up at the DSR per lesson of the group.
const GroupSize = 10

// DeclareLessons declares a batch of lessons at the DSR, each exactly once, a group of
// GroupSize lessons at a time.
//
// The DSR has no idempotency key, so exactly-once is ours to keep:
//   - a group's lessons are marked sending in one statement, committed before their POSTs;
//   - a lesson found already sending (a crash, a timeout after the DSR stored it, a worker
//     killed mid-group, a retry of this activity) is first looked up at the DSR and only
//     posted if absent; so is a lesson whose POST is retried after a transient fault;
//   - LECON_EN_DOUBLON for a lesson the DSR holds on our contract at the same start counts
//     as transmitted;
//   - the group's outcomes are written in one statement after its POSTs; lessons marked by
//     the group from pending and not yet posted when a fault stops it go back to pending
//     (TransmissionUnmarkSending), the others stay sending until a look-up settles them.
//
// No transaction spans a DSR call: the mark, the record and the unmark are each one
// statement of their own. Business refusals are recorded on the lesson; only faults fail
// the activity, typed by failure().
func (a *Activities) DeclareLessons(ctx context.Context, in BatchInput) (DeclareResult, error) {
	q := dbq.New(a.Pool)
	rows, err := q.LessonSendList(ctx, dbq.LessonSendListParams{SchoolID: in.SchoolID, LessonIds: in.LessonIDs})
	if err != nil {
		return DeclareResult{}, err
	}
	// A retried attempt resumes after the last group the previous one recorded (the details
	// are the index of the next lesson, as they were when lessons went one by one).
	start := 0
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &start)
	}
	start = min(max(start, 0), len(rows))
	for i := start; i < len(rows); i += GroupSize {
		end := min(i+GroupSize, len(rows))
		todo, err := a.plan(ctx, q, rows[i:end], in)
		if err != nil {
			return DeclareResult{}, err
		}
		if err := a.declareGroup(ctx, q, todo); err != nil {
			return DeclareResult{}, err
		}
		activity.RecordHeartbeat(ctx, end)
	}
	return a.countBatch(ctx, q, in)
}

// outcome is what became of one posted (or looked up) lesson, written with its group's.
type outcome struct {
	lessonID int64
	status   domain.Status // transmitted or error
	dsrID    string
	code     domain.Code
	message  string
	// reconciled: found at the DSR by a look-up rather than created by this POST.
	reconciled bool
}

// declareGroup declares one group: the lessons still to send are marked sending in one
// statement, posted one after the other (each paced by the account's limiter), and their
// outcomes recorded in one statement. A fault stops the group: what was settled is recorded,
// the lessons not reached are unmarked, and the fault ends the activity (fault()). So does
// the worker stopping, before the next POST: the activity is handed back (handBack()).
func (a *Activities) declareGroup(ctx context.Context, q *dbq.Queries, todo []dbq.LessonSendListRow) error {
	if len(todo) == 0 {
		return nil
	}
	ids := make([]int64, len(todo))
	for i, r := range todo {
		ids[i] = r.ID
	}
	marks, err := q.TransmissionMarkSendingMany(ctx, ids)
	if err != nil {
		return err
	}
	marked := make(map[int64]dbq.TransmissionMarkSendingManyRow, len(marks))
	for _, m := range marks {
		marked[m.LessonID] = m
	}
	var (
		done  []outcome
		fault error
		// unposted is where the lessons never posted begin, when the group stops early.
		unposted = len(todo)
	)
	for i, r := range todo {
		m, ok := marked[r.ID]
		if !ok {
			continue // another run finished it meanwhile
		}
		if workerStopping(ctx) {
			// A rolling restart: this lesson and the rest go back, the others are recorded.
			fault, unposted = handBack(), i
			break
		}
		o, err := a.sendOne(ctx, r, m.PreviousSendingSince != nil)
		if err != nil {
			fault, unposted = a.fault(ctx, q, r, err), i+1
			break
		}
		done = append(done, o)
	}
	if err := a.record(ctx, q, done); err != nil {
		return err
	}
	if fault == nil {
		return nil
	}
	// The lessons after the one that stopped the group (or from it, when the worker stops)
	// were never posted: those this group took from pending wait again; those already
	// sending before stay so, for their look-up.
	var back []int64
	var attempts []int32
	for _, r := range todo[unposted:] {
		if m, ok := marked[r.ID]; ok && m.PreviousSendingSince == nil {
			back = append(back, r.ID)
			attempts = append(attempts, m.Attempts)
		}
	}
	if len(back) > 0 {
		if _, err := q.TransmissionUnmarkSending(ctx, dbq.TransmissionUnmarkSendingParams{LessonIds: back, Attempts: attempts}); err != nil {
			return err
		}
	}
	return fault
}

// plan is the group's lessons to post now (toSend).
func (a *Activities) plan(ctx context.Context, q *dbq.Queries, rows []dbq.LessonSendListRow, in BatchInput) ([]dbq.LessonSendListRow, error) {
	var todo []dbq.LessonSendListRow
	for _, r := range rows {
		send, err := a.toSend(ctx, q, r, in)
		if err != nil {
			return nil, err
		}
		if send {
			todo = append(todo, r)
		}
	}
	return todo, nil
}

// toSend judges a lesson of the batch again: whether it is to be posted now.
func (a *Activities) toSend(ctx context.Context, q *dbq.Queries, r dbq.LessonSendListRow, in BatchInput) (bool, error) {
	switch domain.Status(r.Status) {
	case domain.StatusPending:
		// The data may have changed since the load: judge the lesson again.
		if v := domain.Evaluate(school.Facts(r.LessonFact)); !v.Pending() {
			k := school.LessonKey{LessonID: r.ID, SchoolID: r.SchoolID, OfficeID: r.OfficeID, StudentID: r.StudentID}
			return false, school.SetVerdict(ctx, q, k, r.LessonFact, v)
		}
		if !domain.DueBy(r.LessonFact.EndsAt, in.Before) {
			return false, nil // not before its next day: the school may still cancel it
		}
	case domain.StatusSending:
	default:
		return false, nil // transmitted or judged meanwhile
	}
	// No contract yet (refused, or the contract step will come back to it).
	return r.DsrContractID != nil && r.LessonFact.AccountID != nil, nil
}

// sendOne posts one marked lesson, after looking it up when it may be at the DSR already
// (mayBeThere: it was sending before this group's mark). A transient fault is retried
// briefly, and the retry looks first, since the lost answer may have been a 201. It returns
// the lesson's outcome, or the fault that outlasted the brief retries.
func (a *Activities) sendOne(ctx context.Context, r dbq.LessonSendListRow, mayBeThere bool) (outcome, error) {
	acct := a.DSR.Account(*r.LessonFact.AccountID)
	contract := *r.DsrContractID
	var o outcome
	err := retryBriefly(ctx, func() error {
		if mayBeThere {
			// An earlier attempt may have reached the DSR: look before posting again.
			id, found, err := a.lookup(ctx, acct, contract, r)
			if err != nil {
				return a.lookupFailed(r.ID, err, &o)
			}
			if found {
				o = outcome{lessonID: r.ID, status: domain.StatusTransmitted, dsrID: id, reconciled: true}
				return nil
			}
		}
		started := a.now()
		id, err := acct.DeclareLesson(ctx, contract, lessonRequest(r))
		a.Metrics.observe("declare_lesson", a.now().Sub(started).Seconds(), err)
		if err == nil {
			o = outcome{lessonID: r.ID, status: domain.StatusTransmitted, dsrID: id}
			return nil
		}
		switch HandlingOf(err) {
		case Reconcile:
			id, found, lookErr := a.lookup(ctx, acct, contract, r)
			if lookErr != nil {
				mayBeThere = true
				return a.lookupFailed(r.ID, lookErr, &o)
			}
			if found {
				o = outcome{lessonID: r.ID, status: domain.StatusTransmitted, dsrID: id, reconciled: true}
				return nil
			}
			o = refusal(r.ID, err)
			return nil
		case RecordLesson, RecordStudent, LookupContract:
			o = refusal(r.ID, err)
			return nil
		}
		// A fault: the request may have reached the DSR, so a retry looks first.
		mayBeThere = true
		return err
	})
	return o, err
}

// record writes a group's outcomes in one statement, then counts them.
func (a *Activities) record(ctx context.Context, q *dbq.Queries, done []outcome) error {
	if len(done) == 0 {
		return nil
	}
	p := dbq.TransmissionRecordOutcomesParams{}
	for _, o := range done {
		p.LessonIds = append(p.LessonIds, o.lessonID)
		p.Statuses = append(p.Statuses, string(o.status))
		p.DsrLessonIds = append(p.DsrLessonIds, o.dsrID)
		p.Codes = append(p.Codes, string(o.code))
		p.Messages = append(p.Messages, o.message)
	}
	if _, err := q.TransmissionRecordOutcomes(ctx, p); err != nil {
		return err
	}
	for _, o := range done {
		switch {
		case o.status == domain.StatusTransmitted && o.reconciled:
			a.Metrics.reconciled()
			a.Metrics.transmitted()
		case o.status == domain.StatusTransmitted:
			a.Metrics.transmitted()
		default:
			a.Metrics.refused(string(o.code))
		}
	}
	return nil
}

// refusal is a lesson's refusal in the DSR's words.
func refusal(lessonID int64, err error) outcome {
	code, message := domain.Code("DSR"), err.Error()
	if e, ok := dsr.AsError(err); ok {
		code, message = e.Code, e.Message
		if message == "" {
			message = code.Message()
		}
	}
	return outcome{lessonID: lessonID, status: domain.StatusError, code: code, message: message}
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
// its outcome, not a fault retried for a day. Anything else is the caller's.
func (a *Activities) lookupFailed(lessonID int64, err error, o *outcome) error {
	if HandlingOf(err) == RecordLesson {
		*o = refusal(lessonID, err)
		return nil
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
