package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"livret/db/dbq"
	"livret/domain"
	"livret/school"
)

// ReconcileInterval is how often a worker brings Temporal in step with the offices linked or
// unlinked since it last could (school.ReconcileSchedules), and sweeps the runs left running
// (SweepAbandonedRuns).
const ReconcileInterval = time.Minute

// SweepAfter is how long a run must have been running before the sweep asks Temporal about
// it: a run records its own end and its own failure; only a run that could not (terminated,
// timed out, lost) is left for the sweep.
const SweepAfter = 5 * time.Minute

// sweepBatch bounds the runs one sweep asks Temporal about.
const sweepBatch = 100

// KeepSchedulesInStep runs school.ReconcileSchedules now and then every interval until ctx
// ends: an office linked while Temporal did not answer gets its Schedule and keeper as soon
// as Temporal is back, an unlinked one loses its Schedule. Every worker runs it; the calls
// are idempotent, so two workers at once do no harm.
func KeepSchedulesInStep(ctx context.Context, q *dbq.Queries, o *Orchestrator, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := school.ReconcileSchedules(ctx, q, o)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("schedules not yet in step with the offices' links", "reconciled", n, "error", err.Error())
		case n > 0:
			log.Info("schedules brought in step with the offices' links", "offices", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// KeepRunsInStep runs SweepAbandonedRuns now and then every interval until ctx ends, for the
// runs started more than SweepAfter ago. Every worker runs it; a run is marked once (the
// update only touches a row still running), so two workers at once do no harm.
func KeepRunsInStep(ctx context.Context, q *dbq.Queries, c client.Client, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := SweepAbandonedRuns(ctx, q, c, time.Now().Add(-SweepAfter))
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("runs left running not yet swept", "swept", n, "error", err.Error())
		case n > 0:
			log.Info("runs whose workflow closed without recording their end marked failed", "runs", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SweepAbandonedRuns marks failed, with a French sentence for the school, the runs still
// 'running' in Postgres that started before startedBefore and whose workflow Temporal has
// closed: terminated by an operator, timed out, or lost (a worker killed, then the workflow
// terminated; or gone from Temporal). A run that fails or is cancelled records that itself
// before its workflow closes, so what is left here could not. It returns how many runs it
// marked; the first error of Temporal's stops the pass (the next one tries again).
func SweepAbandonedRuns(ctx context.Context, q *dbq.Queries, c client.Client, startedBefore time.Time) (int, error) {
	runs, err := q.RunListRunning(ctx, dbq.RunListRunningParams{StartedBefore: startedBefore, Lim: sweepBatch})
	if err != nil {
		return 0, err
	}
	marked := 0
	for _, r := range runs {
		failure, closedAt, closed, err := closedRun(ctx, c, r)
		if err != nil {
			return marked, fmt.Errorf("run %s of workflow %s: %w", r.RunID, r.WorkflowID, err)
		}
		if !closed {
			continue
		}
		n, err := q.RunMarkAbandoned(ctx, dbq.RunMarkAbandonedParams{ID: r.ID, Failure: failure.Sentence(), FinishedAt: closedAt})
		if err != nil {
			return marked, err
		}
		marked += int(n)
	}
	return marked, nil
}

// closedRun asks Temporal whether the run's chain (its workflow id, its first run id: the
// runs table's key, kept across continue-as-new and resets) has closed, when, and why in the
// school's words. The newest execution of the workflow id is the one to look at: a run
// continued as new or reset goes on there; another run of the same id (the day's next) means
// this one is over.
func closedRun(ctx context.Context, c client.Client, r dbq.Run) (failure domain.RunFailure, closedAt time.Time, closed bool, err error) {
	desc, err := c.DescribeWorkflowExecution(ctx, r.WorkflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return domain.RunFailureInterrupted, time.Now(), true, nil
	}
	if err != nil {
		return "", time.Time{}, false, err
	}
	info := desc.GetWorkflowExecutionInfo()
	first := info.GetFirstRunId()
	if first == "" {
		first = info.GetExecution().GetRunId()
	}
	if first != r.RunID {
		return domain.RunFailureInterrupted, time.Now(), true, nil
	}
	closedAt = time.Now()
	if t := info.GetCloseTime(); t != nil {
		closedAt = t.AsTime()
	}
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return domain.RunFailureInternal, closedAt, true, nil
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED,
		enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return domain.RunFailureInterrupted, closedAt, true, nil
	}
	// Running, or between two runs of a continue-as-new; a completed run recorded its end.
	return "", time.Time{}, false, nil
}
