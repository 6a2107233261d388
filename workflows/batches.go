package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"livret/activities"
)

// declareBatches declares lessons in batches of BatchSize, at most BatchConcurrency at once.
// Each batch first ensures its students' contracts, then declares its lessons. It returns the
// counts of the lessons whose batch ran (the batches' final states, read from Postgres) and
// the first error that stopped a batch; once a batch fails no new batch starts.
func declareBatches(ctx workflow.Context, schoolID, officeID int64, before time.Time, ids []int64) (RunCounts, error) {
	var batches [][]int64
	for len(ids) > 0 {
		n := min(BatchSize, len(ids))
		batches = append(batches, ids[:n])
		ids = ids[n:]
	}
	var (
		counts   RunCounts
		firstErr error
		running  int
		next     int
	)
	selector := workflow.NewSelector(ctx)
	start := func(lessonIDs []int64) {
		running++
		f := runBatch(ctx, activities.BatchInput{SchoolID: schoolID, OfficeID: officeID, LessonIDs: lessonIDs, Before: before})
		selector.AddFuture(f, func(f workflow.Future) {
			running--
			var r activities.DeclareResult
			if err := f.Get(ctx, &r); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			counts = counts.Add(RunCounts{Transmitted: r.Transmitted, Errors: r.Errors, NotEligible: r.NotEligible, Deferred: r.Deferred})
		})
	}
	for next < len(batches) && running < BatchConcurrency {
		start(batches[next])
		next++
	}
	for running > 0 {
		selector.Select(ctx)
		if firstErr == nil && next < len(batches) {
			start(batches[next])
			next++
		}
	}
	return counts, firstErr
}

// runBatch runs one batch's two activities in order and resolves with its DeclareResult.
func runBatch(ctx workflow.Context, in activities.BatchInput) workflow.Future {
	f, settable := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		dctx := dsrOptions(ctx)
		if err := workflow.ExecuteActivity(dctx, activities.EnsureTrainingContractsName, in).Get(ctx, nil); err != nil {
			settable.Set(nil, err)
			return
		}
		var r activities.DeclareResult
		err := workflow.ExecuteActivity(dctx, activities.DeclareLessonsName, in).Get(ctx, &r)
		settable.Set(r, err)
	})
	return f
}
