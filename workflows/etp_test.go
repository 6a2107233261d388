package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"livret/activities"
	"livret/workflows"
)

func newETPEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.ETPWarnings, workflow.RegisterOptions{Name: workflows.ETPWarningsName})
	acts := &activities.Activities{}
	env.RegisterActivityWithOptions(acts.WarnETPSchools, activity.RegisterOptions{Name: activities.WarnETPSchoolsName})
	// 05:30 UTC on 21 January: 06:30 in Paris.
	env.SetStartTime(time.Date(2027, 1, 21, 5, 30, 0, 0, time.UTC))
	return env
}

// The day's check goes page after page until a short one, summing what each did; the day is
// the Paris day it starts on.
func TestETPWarningsPages(t *testing.T) {
	env := newETPEnv(t)
	full := workflows.ETPWarningPageSize
	env.OnActivity(activities.WarnETPSchoolsName, mock.Anything, activities.WarnETPSchoolsInput{Day: "2027-01-21", Limit: full}).
		Return(activities.WarnETPSchoolsResult{ComputationDate: "2027-01-24", Looked: full, LastSchoolID: 77, Warned: 3, NothingAtRisk: full - 3}, nil).Once()
	env.OnActivity(activities.WarnETPSchoolsName, mock.Anything, activities.WarnETPSchoolsInput{Day: "2027-01-21", AfterSchoolID: 77, Limit: full}).
		Return(activities.WarnETPSchoolsResult{ComputationDate: "2027-01-24", Looked: 2, LastSchoolID: 80, Warned: 1, NothingAtRisk: 1}, nil).Once()
	env.ExecuteWorkflow(workflows.ETPWarningsName, workflows.ETPWarningsInput{})
	var res workflows.ETPWarningsResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	want := workflows.ETPWarningsResult{Day: "2027-01-21", ComputationDate: "2027-01-24",
		Counts: workflows.ETPWarningCounts{Warned: 4, NothingAtRisk: full - 2}}
	if res != want {
		t.Fatalf("result %+v, want %+v", res, want)
	}
	env.AssertExpectations(t)
}

// A database fault is retried by the activity's policy; a bad day is refused at once.
func TestETPWarningsRetriesAndBadDay(t *testing.T) {
	env := newETPEnv(t)
	env.OnActivity(activities.WarnETPSchoolsName, mock.Anything, mock.Anything).
		Return(activities.WarnETPSchoolsResult{}, errors.New("connection reset")).Once()
	env.OnActivity(activities.WarnETPSchoolsName, mock.Anything, mock.Anything).
		Return(activities.WarnETPSchoolsResult{ComputationDate: "2027-01-24"}, nil).Once()
	env.ExecuteWorkflow(workflows.ETPWarningsName, workflows.ETPWarningsInput{Day: "2027-01-20"})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("a retried fault failed the check: %v", err)
	}

	env = newETPEnv(t)
	env.ExecuteWorkflow(workflows.ETPWarningsName, workflows.ETPWarningsInput{Day: "21/01/2027"})
	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != "BadDay" {
		t.Fatalf("bad day: %v", err)
	}
}
