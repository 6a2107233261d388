package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"livret/activities"
)

// Sizes of a day's digest run: a page of schools per listing, and the digests in flight at
// once (each one SMTP conversation, far below Temporal's pending-activity limit).
const (
	DigestPageSize    = 100
	DigestConcurrency = 4
)

// ErrTypeDigestsFailed: some digests of the day were still refused by the SMTP server when
// their retries ran out; the run fails so that an operator sees it.
const ErrTypeDigestsFailed = "DigestsNotSent"

// scheduledStartTime is the time the Schedule fired for, which Temporal sets on the runs it
// starts: a run that starts late (caught up after an outage) still sends that day's digests.
var scheduledStartTime = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// DailyDigest sends each school with alert addresses its digest of the day (school.ClaimDigest):
// it lists the schools page by page and runs SendDigest for each, DigestConcurrency at once.
// Running it again for a day sends nothing twice: each school's digest of the day is stored
// once and marked sent.
func DailyDigest(ctx workflow.Context, in DailyDigestInput) (DailyDigestResult, error) {
	day, err := runDay(ctx, in.Day)
	if err != nil {
		return DailyDigestResult{}, err
	}
	res := DailyDigestResult{Day: day, Counts: in.Counts}
	after := in.AfterSchoolID
	for {
		var page activities.ListDigestSchoolsResult
		err := workflow.ExecuteActivity(dbOptions(ctx), activities.ListDigestSchoolsName,
			activities.ListDigestSchoolsInput{Day: day, AfterSchoolID: after, Limit: DigestPageSize}).Get(ctx, &page)
		if err != nil {
			return res, err
		}
		if page.Unconfigured {
			workflow.GetLogger(ctx).Info("no SMTP server configured (LIVRET_SMTP_URL): no digest sent", "day", day)
			res.Skipped = true
			return res, nil
		}
		res.Counts = sendDigests(ctx, day, page.SchoolIDs, res.Counts)
		if len(page.SchoolIDs) < DigestPageSize {
			break
		}
		after = page.SchoolIDs[len(page.SchoolIDs)-1]
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return res, workflow.NewContinueAsNewError(ctx, DailyDigestName, DailyDigestInput{Day: day, AfterSchoolID: after, Counts: res.Counts})
		}
	}
	if res.Counts.Failed > 0 {
		return res, temporal.NewNonRetryableApplicationError("digests of "+day+" not sent: the SMTP server refused them",
			ErrTypeDigestsFailed, nil, res.Counts)
	}
	return res, nil
}

// sendDigests runs SendDigest for each school, at most DigestConcurrency at once, and adds
// their outcomes to counts. A digest that fails is counted and the others go on.
func sendDigests(ctx workflow.Context, day string, schoolIDs []int64, counts DigestCounts) DigestCounts {
	mctx := mailOptions(ctx)
	selector := workflow.NewSelector(ctx)
	running, next := 0, 0
	start := func(schoolID int64) {
		running++
		f := workflow.ExecuteActivity(mctx, activities.SendDigestName, activities.SendDigestInput{SchoolID: schoolID, Day: day})
		selector.AddFuture(f, func(f workflow.Future) {
			running--
			var r activities.SendDigestResult
			if err := f.Get(ctx, &r); err != nil {
				workflow.GetLogger(ctx).Warn("digest not sent", "school_id", schoolID, "day", day, "error", err)
				counts.Failed++
				return
			}
			switch r.Outcome {
			case activities.DigestSent:
				counts.Sent++
			case activities.DigestAlreadySent:
				counts.AlreadySent++
			default:
				counts.NothingNew++
			}
		})
	}
	for next < len(schoolIDs) && running < DigestConcurrency {
		start(schoolIDs[next])
		next++
	}
	for running > 0 {
		selector.Select(ctx)
		if next < len(schoolIDs) {
			start(schoolIDs[next])
			next++
		}
	}
	return counts
}
