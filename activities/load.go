package activities

import (
	"context"

	"livret/db/dbq"
	"livret/domain"
)

// LoadDueLessons returns the next page of the office's lessons to declare: pending or left
// sending by an interrupted attempt, ended before the run's day (any earlier day: a day
// missed by an outage is caught up). An office that cannot send now says why.
func (a *Activities) LoadDueLessons(ctx context.Context, in LoadInput) (LoadResult, error) {
	q := dbq.New(a.Pool)
	school, err := q.SchoolGet(ctx, in.SchoolID)
	if err != nil {
		return LoadResult{}, err
	}
	office, err := q.OfficeGet(ctx, dbq.OfficeGetParams{SchoolID: in.SchoolID, ID: in.OfficeID})
	if err != nil {
		return LoadResult{}, err
	}
	blocked := ""
	var accountID int64
	switch {
	case school.ClosedAt != nil:
		blocked = BlockedSchoolClosed
	case office.AccountID == nil:
		blocked = BlockedNotLinked
	default:
		accountID = *office.AccountID
		acct, err := q.AccountGet(ctx, accountID)
		if err != nil {
			return LoadResult{}, err
		}
		if acct.NeedsReconnect {
			blocked = BlockedNeedsReconnect
		}
	}
	if blocked != "" {
		n, err := q.TransmissionCountDue(ctx, dbq.TransmissionCountDueParams{OfficeID: in.OfficeID, Before: in.Before})
		if err != nil {
			return LoadResult{}, err
		}
		return LoadResult{Blocked: blocked, Waiting: int(n)}, nil
	}
	limit := in.Limit
	if limit <= 0 {
		limit = 500
	}
	ids, err := q.TransmissionListDue(ctx, dbq.TransmissionListDueParams{
		OfficeID: in.OfficeID, Before: in.Before, AfterLessonID: in.AfterLessonID, Lim: int32(limit),
	})
	if err != nil {
		return LoadResult{}, err
	}
	noContract, err := q.TransmissionListWithoutContract(ctx, ids)
	if err != nil {
		return LoadResult{}, err
	}
	return LoadResult{LessonIDs: ids, AccountID: accountID, NoContract: noContract}, nil
}

// RecordRun writes a run's row for GET /v1/offices/{ref}/runs: when it starts, when it ends
// and when it fails, one row per run (db/queries/runs.sql, RunRecord). The row's errors is
// the office's lessons in error at this moment, counted as the office card counts them.
func (a *Activities) RecordRun(ctx context.Context, in RecordInput) error {
	date, err := domain.ParseBusinessDate(in.BusinessDate)
	if err != nil {
		return err
	}
	_, err = dbq.New(a.Pool).RunRecord(ctx, dbq.RunRecordParams{
		SchoolID: in.SchoolID, OfficeID: in.OfficeID, WorkflowID: in.WorkflowID, RunID: in.RunID,
		BusinessDate: date, StartedAt: in.StartedAt,
		Transmitted: int32(in.Transmitted), Refused: int32(in.Errors), NotEligible: int32(in.NotEligible),
		Deferred: int32(in.Deferred), Outcome: in.Outcome, Failure: in.Failure,
	})
	return err
}

// LessonRef names one lesson of a school.
type LessonRef struct {
	SchoolID int64
	LessonID int64
}

// LessonState is a lesson's transmission as the admin sees it.
type LessonState struct {
	Status  string
	Code    string
	Message string
}

// LessonState reads one lesson's transmission (the resend's answer).
func (a *Activities) LessonState(ctx context.Context, in LessonRef) (LessonState, error) {
	t, err := dbq.New(a.Pool).TransmissionGet(ctx, dbq.TransmissionGetParams{SchoolID: in.SchoolID, LessonID: in.LessonID})
	if err != nil {
		return LessonState{}, err
	}
	return LessonState{Status: string(domain.Status(t.Status).Shown()), Code: t.Code, Message: t.Message}, nil
}
