package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"livret/activities"
)

// Activity option profiles, one per kind of work.

// dbOptions: a short Postgres statement or two. Retried until the database is back.
func dbOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// dsrOptions: a batch of DSR calls, paced by the account's rate limit. Heartbeats resume a
// retried batch where it stopped; transient faults are retried with back-off from 1 s to
// 5 min for up to 24 h; 429s come back after the DSR's Retry-After (NextRetryDelay);
// refusals no retry can cure fail at once.
func dsrOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Minute,
		HeartbeatTimeout:       30 * time.Second,
		ScheduleToCloseTimeout: 24 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
	})
}

// Sizes of a run. A page is what one load returns; a batch is one activity's lessons.
// BatchConcurrency bounds the batches in flight for one office (far below Temporal's limit of
// ~2,000 pending activities); the account's rate limit paces the calls inside them.
const (
	PageSize         = 500
	BatchSize        = 25
	BatchConcurrency = 4
	// historyEventsBeforeContinue keeps a long run's history far from the ~51k event limit.
	historyEventsBeforeContinue = 10000
)
