package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"livret/activities"
)

// declareBatches declares lessons in batches, at most shape.concurrency at once. A batch
// first ensures its students' contracts (when one of them lacks it, or always in the oldest
// shape), then declares its lessons. It returns the counts of the lessons whose batch ran
// (the batches' final states, read from Postgres) and the first error that stopped a batch;
// once a batch fails no new batch starts.
func declareBatches(ctx workflow.Context, shape runShape, schoolID, officeID int64, before time.Time, ids, noContract []int64) (RunCounts, error) {
	needs := make(map[int64]bool, len(noContract))
	for _, id := range noContract {
		needs[id] = true
	}
	type batch struct {
		ids           []int64
		needsContract bool
	}
	var batches []batch
	for len(ids) > 0 {
		n := min(shape.batchSize, len(ids))
		b := batch{ids: ids[:n], needsContract: !shape.skipKnownContracts}
		for _, id := range b.ids {
			b.needsContract = b.needsContract || needs[id]
		}
		batches = append(batches, b)
		ids = ids[n:]
	}
	var (
		counts   RunCounts
		firstErr error
		running  int
		next     int
	)
	selector := workflow.NewSelector(ctx)
	start := func(b batch) {
		running++
		f := runBatch(ctx, activities.BatchInput{SchoolID: schoolID, OfficeID: officeID, LessonIDs: b.ids, Before: before}, b.needsContract)
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
	for next < len(batches) && running < shape.concurrency {
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

// runBatch runs one batch's activities in order and resolves with its DeclareResult.
func runBatch(ctx workflow.Context, in activities.BatchInput, ensureContracts bool) workflow.Future {
	f, settable := workflow.NewFuture(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		dctx := dsrOptions(ctx)
		if ensureContracts {
			if err := workflow.ExecuteActivity(dctx, activities.EnsureTrainingContractsName, in).Get(ctx, nil); err != nil {
				settable.Set(nil, err)
				return
			}
		}
		var r activities.DeclareResult
		err := workflow.ExecuteActivity(dctx, activities.DeclareLessonsName, in).Get(ctx, &r)
		settable.Set(r, err)
	})
	return f
}
