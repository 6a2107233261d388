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

// mailOptions: one e-mail handed to the SMTP server. A server that refuses or does not
// answer is retried from 10 s to 10 min for up to 12 h: the digest is stored, a retry sends
// the same message, and the day's digest run ends well before the next day's (the Schedule
// skips a run that would overlap).
func mailOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: 12 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        10 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        10 * time.Minute,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
	})
}

// Sizes of a run. A page is what one load returns; a batch is one activity's lessons.
// BatchConcurrency bounds the batches in flight for one office (far below Temporal's limit of
// ~2,000 pending activities); the account's rate limit paces the calls inside them.
// The values are the current version's (see runVersion); histories recorded before it keep
// the sizes they were recorded with.
const (
	PageSize         = 500
	BatchSize        = 50
	BatchConcurrency = 8
	// historyEventsBeforeContinue keeps a long run's history far from the ~51k event limit.
	historyEventsBeforeContinue = 10000
)

// runVersion gates changes to the shape of a run, so that histories recorded before a change
// replay with the code path they were recorded with.
//
//	DefaultVersion: batches of 25, 4 at once, the contract step in every batch.
//	1: batches of 50, 8 at once, the contract step only for batches with a student lacking one.
const (
	runVersionChange = "batch-shape"
	runVersionLatest = workflow.Version(1)
)

// runShape is a run's batch sizes and whether it skips the contract step when it can.
type runShape struct {
	batchSize, concurrency int
	skipKnownContracts     bool
}

func shapeOf(ctx workflow.Context) runShape {
	if workflow.GetVersion(ctx, runVersionChange, workflow.DefaultVersion, runVersionLatest) == workflow.DefaultVersion {
		return runShape{batchSize: 25, concurrency: 4}
	}
	return runShape{batchSize: BatchSize, concurrency: BatchConcurrency, skipKnownContracts: true}
}

// runRecordChange gates when a run writes its row, so that histories recorded before replay
// with the path they were recorded with.
//
//	DefaultVersion: one RecordRun, when the run ends well, keyed by its last run id.
//	1: a RecordRun when the run starts (outcome running; not again in a run continued as
//	   new), one when it ends, and one when it fails or is cancelled (outcome failed, the
//	   French failure), all keyed by the first run id of its chain.
const (
	runRecordChange = "record-start-and-failure"
	runRecordLatest = workflow.Version(1)
)

// webhookOptions: one call of DeliverWebhook, at most a minute of POSTs of 10 s each. Its
// heartbeats (after each delivery) tell a dead worker within 30 s; the retry after a worker's
// death POSTs the same delivery again. A database outage is retried until it is over:
// nothing a receiver does fails the activity.
func webhookOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 3 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// etpOptions: a page of schools whose ETP figures are read (each an indexed read of its
// window, tens of milliseconds at 100,000 lessons) and whose warnings are written, one
// transaction each: heartbeats per school, retried like a database write.
func etpOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    5 * time.Minute,
		HeartbeatTimeout:       time.Minute,
		ScheduleToCloseTimeout: 12 * time.Hour,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
	})
}
