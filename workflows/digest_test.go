package workflows_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"livret/activities"
	"livret/domain"
	"livret/workflows"
)

func newDigestEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.DailyDigest, workflow.RegisterOptions{Name: workflows.DailyDigestName})
	acts := &activities.Activities{}
	env.RegisterActivityWithOptions(acts.ListDigestSchools, activity.RegisterOptions{Name: activities.ListDigestSchoolsName})
	env.RegisterActivityWithOptions(acts.SendDigest, activity.RegisterOptions{Name: activities.SendDigestName})
	// 06:00 UTC on 7 January: 07:00 in Paris.
	env.SetStartTime(time.Date(2026, 1, 7, 6, 0, 0, 0, time.UTC))
	return env
}

// The day's digests: every listed school, page after page, at most DigestConcurrency at
// once, each outcome counted; the day is the Paris day the run starts on.
func TestDailyDigestPagesAndCounts(t *testing.T) {
	env := newDigestEnv(t)
	first := ids(1, workflows.DigestPageSize)
	env.OnActivity(activities.ListDigestSchoolsName, mock.Anything, activities.ListDigestSchoolsInput{Day: "2026-01-07", Limit: workflows.DigestPageSize}).
		Return(activities.ListDigestSchoolsResult{SchoolIDs: first}, nil).Once()
	env.OnActivity(activities.ListDigestSchoolsName, mock.Anything,
		activities.ListDigestSchoolsInput{Day: "2026-01-07", AfterSchoolID: int64(workflows.DigestPageSize), Limit: workflows.DigestPageSize}).
		Return(activities.ListDigestSchoolsResult{SchoolIDs: []int64{500, 501}}, nil).Once()
	var sent []int64
	inFlight, maxInFlight := 0, 0
	env.OnActivity(activities.SendDigestName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendDigestInput) (activities.SendDigestResult, error) {
			mu.Lock()
			inFlight++
			maxInFlight = max(maxInFlight, inFlight)
			sent = append(sent, in.SchoolID)
			mu.Unlock()
			defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
			if in.Day != "2026-01-07" {
				t.Errorf("SendDigest of day %q", in.Day)
			}
			switch {
			case in.SchoolID == 500:
				return activities.SendDigestResult{Outcome: activities.DigestAlreadySent}, nil
			case in.SchoolID%2 == 0:
				return activities.SendDigestResult{Outcome: activities.DigestNothingNew}, nil
			}
			return activities.SendDigestResult{Outcome: activities.DigestSent}, nil
		})
	env.ExecuteWorkflow(workflows.DailyDigestName, workflows.DailyDigestInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.DailyDigestResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	want := workflows.DailyDigestResult{Day: "2026-01-07", Counts: workflows.DigestCounts{Sent: 51, NothingNew: 50, AlreadySent: 1}}
	if res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	slices.Sort(sent)
	if len(sent) != 102 || sent[0] != 1 || sent[101] != 501 {
		t.Fatalf("sent to %d schools: %v", len(sent), sent)
	}
	if maxInFlight > workflows.DigestConcurrency {
		t.Fatalf("%d digests in flight at once, want at most %d", maxInFlight, workflows.DigestConcurrency)
	}
	env.AssertExpectations(t)
}

// Started by the Schedule, the run's day is the one the Schedule fired for, even when it
// starts later (caught up after an outage, past midnight).
func TestDailyDigestDayOfTheSchedule(t *testing.T) {
	env := newDigestEnv(t)
	env.SetStartTime(time.Date(2026, 1, 8, 0, 30, 0, 0, domain.Paris))
	fired := time.Date(2026, 1, 7, 7, 0, 0, 0, domain.Paris)
	if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(
		temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime").ValueSet(fired))); err != nil {
		t.Fatal(err)
	}
	env.OnActivity(activities.ListDigestSchoolsName, mock.Anything, activities.ListDigestSchoolsInput{Day: "2026-01-07", Limit: workflows.DigestPageSize}).
		Return(activities.ListDigestSchoolsResult{}, nil).Once()
	env.ExecuteWorkflow(workflows.DailyDigestName, workflows.DailyDigestInput{})
	var res workflows.DailyDigestResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Day != "2026-01-07" {
		t.Fatalf("result %+v, %v", res, err)
	}
	env.AssertExpectations(t)
}

// A worker without an SMTP server skips the day, sending nothing.
func TestDailyDigestWithoutSMTP(t *testing.T) {
	env := newDigestEnv(t)
	env.OnActivity(activities.ListDigestSchoolsName, mock.Anything, mock.Anything).
		Return(activities.ListDigestSchoolsResult{Unconfigured: true}, nil).Once()
	env.ExecuteWorkflow(workflows.DailyDigestName, workflows.DailyDigestInput{Day: "2026-01-05"})
	var res workflows.DailyDigestResult
	if err := env.GetWorkflowResult(&res); err != nil || !res.Skipped || res.Day != "2026-01-05" {
		t.Fatalf("result %+v, %v", res, err)
	}
	env.AssertNotCalled(t, "SendDigest", mock.Anything, mock.Anything)
}

// An SMTP server that keeps refusing: SendDigest is retried (SMTPFailed is retryable), the
// other schools' digests go on, and the run fails at the end, naming the day, for the
// operator to see.
func TestDailyDigestSMTPRefuses(t *testing.T) {
	env := newDigestEnv(t)
	env.OnActivity(activities.ListDigestSchoolsName, mock.Anything, mock.Anything).
		Return(activities.ListDigestSchoolsResult{SchoolIDs: []int64{1, 2, 3}}, nil).Once()
	tries := 0
	env.OnActivity(activities.SendDigestName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendDigestInput) (activities.SendDigestResult, error) {
			if in.SchoolID == 2 {
				mu.Lock()
				tries++
				mu.Unlock()
				return activities.SendDigestResult{}, temporal.NewApplicationError("mailer: 451 try later", activities.ErrTypeSMTP)
			}
			return activities.SendDigestResult{Outcome: activities.DigestSent}, nil
		})
	env.ExecuteWorkflow(workflows.DailyDigestName, workflows.DailyDigestInput{Day: "2026-01-07"})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != workflows.ErrTypeDigestsFailed {
		t.Fatalf("run ended with %v", err)
	}
	var counts workflows.DigestCounts
	if err := appErr.Details(&counts); err != nil || counts != (workflows.DigestCounts{Sent: 2, Failed: 1}) {
		t.Fatalf("counts %+v, %v", counts, err)
	}
	if tries < 2 {
		t.Fatalf("the refused digest was tried %d times: SMTPFailed must be retried", tries)
	}
}

// A bad day given by hand fails at once, without touching anything.
func TestDailyDigestBadDay(t *testing.T) {
	env := newDigestEnv(t)
	env.ExecuteWorkflow(workflows.DailyDigestName, workflows.DailyDigestInput{Day: "07/01/2026"})
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("a bad day was accepted")
	}
	env.AssertNotCalled(t, "ListDigestSchools", mock.Anything, mock.Anything)
}
