package worker

import (
	"context"
	"log/slog"
	"time"

	"livret/db/dbq"
	"livret/school"
)

// ReconcileInterval is how often a worker brings Temporal in step with the offices linked or
// unlinked since it last could (school.ReconcileSchedules).
const ReconcileInterval = time.Minute

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
