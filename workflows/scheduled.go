package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"livret/domain"
)

// OutcomeAlreadyRunning: the day's run of the office was already going (a manual start).
const OutcomeAlreadyRunning = "already_running"

// ScheduledOfficeRun is what an office's Schedule starts each day. It runs the office's run
// as a child under the day's run id, the id a manual start uses too, so the scheduled and a
// manual run of one office never run side by side.
func ScheduledOfficeRun(ctx workflow.Context, in ScheduledRunInput) (OfficeRunResult, error) {
	date := domain.BusinessDate(workflow.Now(ctx))
	if err := workflow.UpsertTypedSearchAttributes(ctx, BusinessDateKey.ValueSet(date)); err != nil {
		return OfficeRunResult{}, err
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            RunID(in.OfficeID, date),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		// The run goes on if an operator terminates the schedule's workflow.
		ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			SchoolIDKey.ValueSet(in.SchoolID), OfficeIDKey.ValueSet(in.OfficeID), BusinessDateKey.ValueSet(date)),
	})
	var res OfficeRunResult
	err := workflow.ExecuteChildWorkflow(cctx, OfficeDailyRunName, OfficeRunInput{
		SchoolID: in.SchoolID, OfficeID: in.OfficeID, BusinessDate: date, Trigger: "schedule",
	}).Get(ctx, &res)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return OfficeRunResult{BusinessDate: date, Outcome: OutcomeAlreadyRunning}, nil
	}
	return res, err
}
