package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"livret/domain"
)

// runDay is the Paris day a daily run works for: the one its input names, else the one its
// Schedule fired for (a run caught up late keeps its day), else today.
func runDay(ctx workflow.Context, day string) (string, error) {
	if day == "" {
		at := workflow.Now(ctx)
		if t, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartTime); ok && !t.IsZero() {
			at = t
		}
		day = domain.BusinessDate(at)
	}
	if _, err := domain.ParseBusinessDate(day); err != nil {
		return "", temporal.NewNonRetryableApplicationError("bad day "+day, "BadDay", err)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, BusinessDateKey.ValueSet(day)); err != nil {
		return "", err
	}
	return day, nil
}
