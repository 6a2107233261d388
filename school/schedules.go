package school

import (
	"context"
	"fmt"

	"livret/db/dbq"
)

// An office's daily run is a Temporal Schedule, and its account's token keeper a workflow:
// Temporal must agree with the link PostgreSQL holds. The link (or unlink) marks the office
// schedule_pending in its own transaction; the mark is cleared only once Temporal has done
// what the link asked. A Temporal call that fails after the commit therefore leaves the mark,
// and ReconcileSchedules, which every worker runs at start and then every minute, finishes
// the job (docs/architecture.md, "Schedules").

type pendingOffice struct {
	ID, SchoolID int64
	AccountID    *int64 // nil: unlinked, its Schedule is to be deleted
}

// syncSchedule asks Temporal for what the office's link needs and clears the mark when it
// is done. A failure is logged, not returned: the link is committed, the mark stays, and the
// reconciler retries.
func (s *Service) syncSchedule(ctx context.Context, o pendingOffice) {
	if err := syncOne(ctx, dbq.New(s.Pool), s.Orchestrator, o); err != nil {
		s.log().WarnContext(ctx, "schedule not in step with the link yet: the reconciler will retry",
			"school_id", o.SchoolID, "office_id", o.ID, "error", err.Error())
	}
}

func syncOne(ctx context.Context, q *dbq.Queries, orch Orchestrator, o pendingOffice) error {
	if o.AccountID != nil {
		if err := orch.EnsureSchedule(ctx, o.SchoolID, o.ID); err != nil {
			return fmt.Errorf("ensure schedule: %w", err)
		}
		if err := orch.EnsureKeeper(ctx, *o.AccountID); err != nil {
			return fmt.Errorf("ensure keeper: %w", err)
		}
	} else if err := orch.DeleteSchedule(ctx, o.ID); err != nil {
		return fmt.Errorf("delete schedule: %w", err)
	}
	// Cleared only if the link is still the one just acted on: a relink meanwhile keeps it.
	_, err := q.OfficeMarkScheduleSynced(ctx, dbq.OfficeMarkScheduleSyncedParams{ID: o.ID, AccountID: o.AccountID})
	return err
}

// reconcileBatch bounds one pass; a larger backlog is worked through by the next passes.
const reconcileBatch = 500

// ReconcileSchedules makes Temporal agree with every office marked schedule_pending: a
// Schedule and a keeper for a linked office, no Schedule for an unlinked one. It returns how
// many offices it brought in step, and the first error (the others are still tried).
func ReconcileSchedules(ctx context.Context, q *dbq.Queries, orch Orchestrator) (int, error) {
	rows, err := q.OfficeListSchedulePending(ctx, reconcileBatch)
	if err != nil {
		return 0, err
	}
	done := 0
	var first error
	for _, r := range rows {
		if err := syncOne(ctx, q, orch, pendingOffice{ID: r.ID, SchoolID: r.SchoolID, AccountID: r.AccountID}); err != nil {
			if first == nil {
				first = fmt.Errorf("office %d: %w", r.ID, err)
			}
			continue
		}
		done++
	}
	return done, first
}
