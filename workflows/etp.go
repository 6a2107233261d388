package workflows

import (
	"go.temporal.io/sdk/workflow"

	"livret/activities"
)

// ETPWarningPageSize is how many schools one WarnETPSchools call looks at.
const ETPWarningPageSize = 50

// ETPWarnings warns, once per school and computation, the schools whose hours are at risk
// in the days before the DSR's ETP computation (docs/rules.md, "ETP"): for the day it runs for,
// page by page, WarnETPSchools takes the schools whose etp_warning_days reach the next
// computation and not yet warned for it, and writes an etp.at_risk event (webhooks, and the
// next digest) for each that has hours at risk. Running it again for a day warns nobody twice.
func ETPWarnings(ctx workflow.Context, in ETPWarningsInput) (ETPWarningsResult, error) {
	day, err := runDay(ctx, in.Day)
	if err != nil {
		return ETPWarningsResult{}, err
	}
	res := ETPWarningsResult{Day: day, Counts: in.Counts}
	after := in.AfterSchoolID
	for {
		var page activities.WarnETPSchoolsResult
		err := workflow.ExecuteActivity(etpOptions(ctx), activities.WarnETPSchoolsName,
			activities.WarnETPSchoolsInput{Day: day, AfterSchoolID: after, Limit: ETPWarningPageSize}).Get(ctx, &page)
		if err != nil {
			return res, err
		}
		res.ComputationDate = page.ComputationDate
		res.Counts.Warned += page.Warned
		res.Counts.NothingAtRisk += page.NothingAtRisk
		if page.Looked < ETPWarningPageSize {
			return res, nil
		}
		after = page.LastSchoolID
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return res, workflow.NewContinueAsNewError(ctx, ETPWarningsName,
				ETPWarningsInput{Day: day, AfterSchoolID: after, Counts: res.Counts})
		}
	}
}
