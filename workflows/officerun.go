package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"livret/activities"
	"livret/domain"
)

// Run outcomes, as the runs table and GET /v1/offices/{ref}/runs show them.
const (
	OutcomeRunning        = "running"
	OutcomeCompleted      = "completed"
	OutcomeFailed         = "failed"
	OutcomeSchoolClosed   = "school_closed"
	OutcomeNeedsReconnect = "needs_reconnect"
	OutcomeNotLinked      = "not_linked"
)

// OfficeDailyRun declares an office's due lessons at the DSR: every lesson that ended before
// the run's day and is not yet transmitted, from any earlier day. It pages through them,
// ensures each student's contract, declares each lesson exactly once (DeclareLessons), and
// records the counts. Business refusals are recorded, not failed: the run completes with
// counts. Only faults that outlast their retries fail it, and the operator replays those
// from the Temporal UI.
//
// The run is recorded when it starts (outcome running) and, if it fails or is cancelled,
// as failed with a French sentence for the school (see recordsStartAndFailure).
func OfficeDailyRun(ctx workflow.Context, in OfficeRunInput) (OfficeRunResult, error) {
	info := workflow.GetInfo(ctx)
	if in.BusinessDate == "" {
		in.BusinessDate = domain.BusinessDate(workflow.Now(ctx))
	}
	if in.StartedAt.IsZero() {
		in.StartedAt = workflow.Now(ctx)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx,
		SchoolIDKey.ValueSet(in.SchoolID), OfficeIDKey.ValueSet(in.OfficeID), BusinessDateKey.ValueSet(in.BusinessDate)); err != nil {
		return OfficeRunResult{}, err
	}
	before, err := domain.ParseBusinessDate(in.BusinessDate)
	if err != nil {
		return OfficeRunResult{}, temporal.NewNonRetryableApplicationError("bad business date", "BadInput", err)
	}
	rec := runRecord{in: &in, workflowID: info.WorkflowExecution.ID, key: info.WorkflowExecution.RunID}
	recordsStartAndFailure := workflow.GetVersion(ctx, runRecordChange, workflow.DefaultVersion, runRecordLatest) >= 1
	if recordsStartAndFailure {
		rec.key = firstRunID(info)
	}

	result, err := func() (OfficeRunResult, error) {
		// A run continued as new was recorded by the first of its chain.
		if recordsStartAndFailure && info.ContinuedExecutionRunID == "" {
			if err := rec.write(ctx, in.Counts, OutcomeRunning, ""); err != nil {
				return OfficeRunResult{}, err
			}
		}
		counts, outcome, err := declareDue(ctx, &in, before)
		if err != nil {
			return OfficeRunResult{}, err
		}
		if err := rec.write(ctx, counts, outcome, ""); err != nil {
			return OfficeRunResult{}, err
		}
		return OfficeRunResult{BusinessDate: in.BusinessDate, Counts: counts, Outcome: outcome}, nil
	}()
	if err != nil && recordsStartAndFailure && !workflow.IsContinueAsNewError(err) {
		// Disconnected: a cancelled run still says so. in.Counts holds what the finished
		// batches counted (declareDue keeps it).
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		failure := failureOf(err)
		if ctx.Err() != nil {
			// Cancelled: whatever the activity in flight last said.
			failure = domain.RunFailureInterrupted
		}
		if recErr := rec.write(dctx, in.Counts, OutcomeFailed, failure.Sentence()); recErr != nil {
			workflow.GetLogger(ctx).Error("the failed run could not be recorded", "error", recErr.Error())
		}
	}
	return result, err
}

// declareDue loads and declares the office's due lessons page by page, from where in says
// the run stopped, and returns the counts and the outcome. in.Counts and in.AfterLessonID
// follow the work done, for continue-as-new and for the record of a failed run.
func declareDue(ctx workflow.Context, in *OfficeRunInput, before time.Time) (RunCounts, string, error) {
	info := workflow.GetInfo(ctx)
	logger := workflow.GetLogger(ctx)
	shape := shapeOf(ctx)
	for {
		var page activities.LoadResult
		err := workflow.ExecuteActivity(dbOptions(ctx), activities.LoadDueLessonsName, activities.LoadInput{
			SchoolID: in.SchoolID, OfficeID: in.OfficeID, Before: before, AfterLessonID: in.AfterLessonID, Limit: PageSize,
		}).Get(ctx, &page)
		if err != nil {
			return in.Counts, "", err
		}
		if page.Blocked != "" {
			in.Counts.Deferred += page.Waiting
			return in.Counts, page.Blocked, nil
		}
		if len(page.LessonIDs) == 0 {
			return in.Counts, OutcomeCompleted, nil
		}
		pageCounts, stop := declareBatches(ctx, shape, in.SchoolID, in.OfficeID, before, page.LessonIDs, page.NoContract)
		in.Counts = in.Counts.Add(pageCounts)
		if stop != nil {
			if _, ok := blockedOutcome(stop); ok {
				// The school closed or the account lost its login: the next load says so
				// and counts the lessons left waiting.
				continue
			}
			return in.Counts, "", stop
		}
		in.AfterLessonID = page.LessonIDs[len(page.LessonIDs)-1]
		if info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > historyEventsBeforeContinue {
			logger.Info("continuing as new", "after_lesson_id", in.AfterLessonID)
			return in.Counts, "", workflow.NewContinueAsNewError(ctx, OfficeDailyRunName, *in)
		}
	}
}

// runRecord writes the run's row (RecordRun): WorkflowID and key name it.
type runRecord struct {
	in         *OfficeRunInput
	workflowID string
	key        string
}

func (r runRecord) write(ctx workflow.Context, counts RunCounts, outcome, failure string) error {
	return workflow.ExecuteActivity(dbOptions(ctx), activities.RecordRunName, activities.RecordInput{
		SchoolID: r.in.SchoolID, OfficeID: r.in.OfficeID, WorkflowID: r.workflowID,
		RunID: r.key, BusinessDate: r.in.BusinessDate, StartedAt: r.in.StartedAt,
		Transmitted: counts.Transmitted, Errors: counts.Errors, NotEligible: counts.NotEligible,
		Deferred: counts.Deferred, Outcome: outcome, Failure: failure,
	}).Get(ctx, nil)
}

// firstRunID is the run id of the first execution of the run's chain: continue-as-new and an
// operator's reset keep it, a new run of the same workflow id (the day's second) has its own.
func firstRunID(info *workflow.Info) string {
	if info.FirstRunID != "" {
		return info.FirstRunID
	}
	return info.WorkflowExecution.RunID
}

// blockedOutcome maps a run-stopping activity error to the run's outcome.
func blockedOutcome(err error) (string, bool) {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return "", false
	}
	switch appErr.Type() {
	case activities.ErrTypeSchoolClosed:
		return OutcomeSchoolClosed, true
	case activities.ErrTypeNeedsReconnect:
		return OutcomeNeedsReconnect, true
	}
	return "", false
}
