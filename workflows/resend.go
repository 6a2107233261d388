package workflows

import (
	"go.temporal.io/sdk/workflow"

	"livret/activities"
	"livret/domain"
)

// ResendLesson declares one lesson again after an admin fixed its data (the API put it back to
// pending). Same activities, same exactly-once guarantees as the daily run; a lesson of today
// stays pending for tomorrow's run (it may still be cancelled until midnight).
func ResendLesson(ctx workflow.Context, in ResendInput) (ResendResult, error) {
	before, err := domain.ParseBusinessDate(domain.BusinessDate(workflow.Now(ctx)))
	if err != nil {
		return ResendResult{}, err
	}
	// The contract step runs: the lesson's student may have none yet, and one lesson does
	// not justify a load to find out.
	_, err = declareBatches(ctx, runShape{batchSize: 1, concurrency: 1}, in.SchoolID, in.OfficeID, before, []int64{in.LessonID}, nil)
	if err != nil {
		if outcome, ok := blockedOutcome(err); ok {
			return ResendResult{Status: string(domain.StatusPending), Code: outcome}, nil
		}
		return ResendResult{}, err
	}
	var state activities.LessonState
	if err := workflow.ExecuteActivity(dbOptions(ctx), activities.LessonStateName, activities.LessonRef{
		SchoolID: in.SchoolID, LessonID: in.LessonID,
	}).Get(ctx, &state); err != nil {
		return ResendResult{}, err
	}
	return ResendResult{Status: state.Status, Code: state.Code, Message: state.Message}, nil
}
