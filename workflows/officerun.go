package workflows

import (
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"livret/activities"
	"livret/domain"
)

// Run outcomes.
const (
	OutcomeCompleted      = "completed"
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
	logger := workflow.GetLogger(ctx)
	counts, outcome := in.Counts, OutcomeCompleted
	shape := shapeOf(ctx)

	for {
		var page activities.LoadResult
		err := workflow.ExecuteActivity(dbOptions(ctx), activities.LoadDueLessonsName, activities.LoadInput{
			SchoolID: in.SchoolID, OfficeID: in.OfficeID, Before: before, AfterLessonID: in.AfterLessonID, Limit: PageSize,
		}).Get(ctx, &page)
		if err != nil {
			return OfficeRunResult{}, err
		}
		if page.Blocked != "" {
			outcome = page.Blocked
			counts.Deferred += page.Waiting
			break
		}
		if len(page.LessonIDs) == 0 {
			break
		}
		pageCounts, stop := declareBatches(ctx, shape, in.SchoolID, in.OfficeID, before, page.LessonIDs, page.NoContract)
		counts = counts.Add(pageCounts)
		if stop != nil {
			if _, ok := blockedOutcome(stop); ok {
				// The school closed or the account lost its login: the next load says so
				// and counts the lessons left waiting.
				continue
			}
			return OfficeRunResult{}, stop
		}
		in.AfterLessonID = page.LessonIDs[len(page.LessonIDs)-1]
		if info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > historyEventsBeforeContinue {
			logger.Info("continuing as new", "after_lesson_id", in.AfterLessonID)
			in.Counts = counts
			return OfficeRunResult{}, workflow.NewContinueAsNewError(ctx, OfficeDailyRunName, in)
		}
	}

	result := OfficeRunResult{BusinessDate: in.BusinessDate, Counts: counts, Outcome: outcome}
	err = workflow.ExecuteActivity(dbOptions(ctx), activities.RecordRunName, activities.RecordInput{
		SchoolID: in.SchoolID, OfficeID: in.OfficeID, WorkflowID: info.WorkflowExecution.ID,
		RunID: info.WorkflowExecution.RunID, BusinessDate: in.BusinessDate, StartedAt: in.StartedAt,
		Transmitted: counts.Transmitted, Errors: counts.Errors, NotEligible: counts.NotEligible,
		Deferred: counts.Deferred, Outcome: outcome,
	}).Get(ctx, nil)
	if err != nil {
		return OfficeRunResult{}, err
	}
	return result, nil
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
