package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"livret/activities"
	"livret/db/dbq"
	"livret/workflows"
)

// Register puts every Livret workflow and activity on a worker under its stable name.
func Register(r sdkworker.Registry, acts *activities.Activities) {
	RegisterWorkflows(r)
	RegisterActivities(r, acts)
}

// RegisterWorkflows registers the workflows (also on a replayer).
func RegisterWorkflows(r sdkworker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.OfficeDailyRun, workflow.RegisterOptions{Name: workflows.OfficeDailyRunName})
	r.RegisterWorkflowWithOptions(workflows.ScheduledOfficeRun, workflow.RegisterOptions{Name: workflows.ScheduledOfficeRunName})
	r.RegisterWorkflowWithOptions(workflows.ResendLesson, workflow.RegisterOptions{Name: workflows.ResendLessonName})
	r.RegisterWorkflowWithOptions(workflows.AccountKeeper, workflow.RegisterOptions{Name: workflows.AccountKeeperName})
	r.RegisterWorkflowWithOptions(workflows.DailyDigest, workflow.RegisterOptions{Name: workflows.DailyDigestName})
	r.RegisterWorkflowWithOptions(workflows.ETPWarnings, workflow.RegisterOptions{Name: workflows.ETPWarningsName})
	r.RegisterWorkflowWithOptions(workflows.WebhookDispatch, workflow.RegisterOptions{Name: workflows.WebhookDispatchName})
}

// RegisterActivities registers the activities of acts.
func RegisterActivities(r sdkworker.ActivityRegistry, acts *activities.Activities) {
	r.RegisterActivityWithOptions(acts.LoadDueLessons, activity.RegisterOptions{Name: activities.LoadDueLessonsName})
	r.RegisterActivityWithOptions(acts.EnsureTrainingContracts, activity.RegisterOptions{Name: activities.EnsureTrainingContractsName})
	r.RegisterActivityWithOptions(acts.DeclareLessons, activity.RegisterOptions{Name: activities.DeclareLessonsName})
	r.RegisterActivityWithOptions(acts.RecordRun, activity.RegisterOptions{Name: activities.RecordRunName})
	r.RegisterActivityWithOptions(acts.KeepAccountAlive, activity.RegisterOptions{Name: activities.KeepAccountAliveName})
	r.RegisterActivityWithOptions(acts.LessonState, activity.RegisterOptions{Name: activities.LessonStateName})
	r.RegisterActivityWithOptions(acts.ListDigestSchools, activity.RegisterOptions{Name: activities.ListDigestSchoolsName})
	r.RegisterActivityWithOptions(acts.SendDigest, activity.RegisterOptions{Name: activities.SendDigestName})
	r.RegisterActivityWithOptions(acts.WarnETPSchools, activity.RegisterOptions{Name: activities.WarnETPSchoolsName})
	r.RegisterActivityWithOptions(acts.DeliverWebhook, activity.RegisterOptions{Name: activities.DeliverWebhookName})
}

// Options are the worker's tunables.
type Options struct {
	// MaxConcurrentActivities bounds the activities one worker process runs at once
	// (default DefaultActivitySlots).
	MaxConcurrentActivities int
	// StopTimeout is how long a stopping worker lets activities finish their current call
	// and its write (default 30 s).
	StopTimeout time.Duration
	// MaxConcurrentWebhookDeliveries bounds the webhook deliveries one worker process makes
	// at once (default 50), on the webhooks' own task queue: receivers never take a slot
	// of the daily runs.
	MaxConcurrentWebhookDeliveries int
}

// DefaultActivitySlots is sized for waiting work. A paced DeclareLessons spends nearly all
// its time asleep until its account's next call slot (one call a second at 60 a minute), so
// a slot is a sleeping goroutine, not a share of the machine: what the busy part uses is
// bounded elsewhere (the PostgreSQL pool, one HTTP connection per call in flight). With too
// few slots the sleepers shut other accounts out: 625 offices on 200 slots kept the median
// account at 0.67 of its limit, on 1,000 slots at 0.98 (BENCHMARKS.md, "Many accounts").
// 2,000 leaves room for 2,000 offices with a batch each, or 250 with 8 in flight.
const DefaultActivitySlots = 2000

// New builds a Temporal worker for Livret's task queue with everything registered.
func New(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	if opts.MaxConcurrentActivities <= 0 {
		opts.MaxConcurrentActivities = DefaultActivitySlots
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 30 * time.Second
	}
	w := sdkworker.New(c, workflows.TaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: opts.MaxConcurrentActivities,
		WorkerStopTimeout:                  opts.StopTimeout,
	})
	Register(w, acts)
	return w
}

// NewWebhookWorker builds the Temporal worker of the webhooks' task queue: the dispatchers
// and their deliveries, with slots of their own.
func NewWebhookWorker(c client.Client, acts *activities.Activities, opts Options) sdkworker.Worker {
	if opts.MaxConcurrentWebhookDeliveries <= 0 {
		opts.MaxConcurrentWebhookDeliveries = 50
	}
	if opts.StopTimeout == 0 {
		opts.StopTimeout = 30 * time.Second
	}
	w := sdkworker.New(c, workflows.WebhookTaskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize: opts.MaxConcurrentWebhookDeliveries,
		WorkerStopTimeout:                  opts.StopTimeout,
	})
	Register(w, acts)
	return w
}

// Reconcile makes Temporal agree with Postgres after a start: every linked office has its
// Schedule and every linked account its keeper. Both calls are idempotent.
func Reconcile(ctx context.Context, q *dbq.Queries, o *Orchestrator, log *slog.Logger) error {
	offices, err := q.OfficeListLinked(ctx)
	if err != nil {
		return err
	}
	for _, off := range offices {
		if err := o.EnsureSchedule(ctx, off.SchoolID, off.ID); err != nil {
			return fmt.Errorf("office %d: %w", off.ID, err)
		}
	}
	accounts, err := q.AccountListLinked(ctx)
	if err != nil {
		return err
	}
	for _, a := range accounts {
		if err := o.EnsureKeeper(ctx, a.ID); err != nil {
			return fmt.Errorf("account %d: %w", a.ID, err)
		}
	}
	log.Info("schedules and keepers reconciled", "offices", len(offices), "accounts", len(accounts))
	return nil
}
