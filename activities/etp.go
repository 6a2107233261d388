package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
	"livret/school"
)

// WarnETPSchoolsInput is a page of the day's ETP warning check.
type WarnETPSchoolsInput struct {
	Day           string // YYYY-MM-DD, Paris
	AfterSchoolID int64
	Limit         int
}

// WarnETPSchoolsResult is what the page did.
type WarnETPSchoolsResult struct {
	// ComputationDate is the computation on or after Day (YYYY-MM-DD).
	ComputationDate string
	// Looked is how many schools the page took (fewer than Limit: the last page), LastSchoolID
	// the last of them.
	Looked       int
	LastSchoolID int64
	// Warned: schools warned now (an etp.at_risk event each); NothingAtRisk: schools looked
	// at with no hours at risk, left to look at again on the following days.
	Warned, NothingAtRisk int
}

// WarnETPSchools takes the schools due a warning on Day for the next ETP computation (those
// whose etp_warning_days reach it, not yet warned for it: ETPWarningListDue) and, for each
// whose hours are at risk (school.Service.ETPAtRisk: lessons of the window in error or not
// yet sent), records the warning and its etp.at_risk event in one transaction, under the
// school's row lock, so a retry or a second worker never warns twice.
func (a *Activities) WarnETPSchools(ctx context.Context, in WarnETPSchoolsInput) (WarnETPSchoolsResult, error) {
	day, err := domain.ParseBusinessDate(in.Day)
	if err != nil {
		return WarnETPSchoolsResult{}, fmt.Errorf("etp warning day %q: %w", in.Day, err)
	}
	period := domain.ETPPeriodAt(day, a.ETPWindowMonths)
	computation := dateOnly(period.Computation)
	daysLeft := int(computation.Sub(dateOnly(day)).Hours() / 24)
	res := WarnETPSchoolsResult{ComputationDate: domain.BusinessDate(period.Computation)}
	q := dbq.New(a.Pool)
	ids, err := q.ETPWarningListDue(ctx, dbq.ETPWarningListDueParams{AfterSchoolID: in.AfterSchoolID,
		DaysLeft: int32(daysLeft), ComputationDate: computation, Lim: int32(in.Limit)})
	if err != nil {
		return res, err
	}
	svc := &school.Service{Pool: a.Pool, ETPWindowMonths: a.ETPWindowMonths}
	for _, id := range ids {
		activity.RecordHeartbeat(ctx, id)
		res.Looked++
		res.LastSchoolID = id
		sch, err := q.SchoolGet(ctx, id)
		if err != nil {
			return res, err
		}
		risk, err := svc.ETPAtRisk(ctx, sch, day)
		if err != nil {
			return res, err
		}
		if risk.Lessons == 0 {
			res.NothingAtRisk++
			continue
		}
		data, _ := json.Marshal(map[string]any{
			"computation_date": res.ComputationDate,
			"from":             domain.BusinessDate(period.From),
			"to":               domain.BusinessDate(period.To),
			"lessons":          risk.Lessons,
			"at_risk_hours":    risk.Hours,
			"warning_days":     sch.EtpWarningDays,
			"message": fmt.Sprintf("Des heures sont à risque avant le calcul de l'ETP du %s : corrigez les leçons en erreur avant cette date.",
				domain.FrenchDate(period.Computation)),
		})
		warned := false
		err = db.WithTx(ctx, a.Pool, func(q *dbq.Queries) error {
			if _, err := q.SchoolLockForDigest(ctx, id); err != nil {
				return err
			}
			_, err := q.ETPWarningRecord(ctx, dbq.ETPWarningRecordParams{SchoolID: id, ComputationDate: computation,
				Data: data, Lessons: int32(risk.Lessons), AtRiskHours: risk.Hours})
			if db.IsNotFound(err) {
				return nil // warned already, by an earlier try
			}
			warned = err == nil
			return err
		})
		if err != nil {
			return res, err
		}
		if warned {
			res.Warned++
			activity.GetLogger(ctx).Info("etp warning", "school_id", id, "computation", res.ComputationDate,
				"lessons", risk.Lessons, "hours", risk.Hours)
		}
	}
	return res, nil
}

// dateOnly is the calendar date of t (in t's zone) as the date columns take it.
func dateOnly(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
