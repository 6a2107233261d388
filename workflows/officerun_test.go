package workflows_test

import (
	"context"
	"errors"
	"slices"
	"sync"
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

// mu guards what the mocked activities record: the test environment runs activities on
// their own goroutines.
var mu sync.Mutex

// newEnv registers the real workflows and the real activity struct (by name); each test
// mocks the activities' answers for one error class.
func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.OfficeDailyRun, workflow.RegisterOptions{Name: workflows.OfficeDailyRunName})
	env.RegisterWorkflowWithOptions(workflows.ResendLesson, workflow.RegisterOptions{Name: workflows.ResendLessonName})
	acts := &activities.Activities{}
	for name, fn := range map[string]any{
		activities.LoadDueLessonsName:          acts.LoadDueLessons,
		activities.EnsureTrainingContractsName: acts.EnsureTrainingContracts,
		activities.DeclareLessonsName:          acts.DeclareLessons,
		activities.RecordRunName:               acts.RecordRun,
		activities.LessonStateName:             acts.LessonState,
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	env.SetStartTime(time.Date(2021, 12, 10, 0, 30, 0, 0, time.UTC))
	return env
}

var input = workflows.OfficeRunInput{SchoolID: 1, OfficeID: 2, Trigger: "manual"}

func ids(from, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(from + i)
	}
	return out
}

func TestRunPagesAndCounts(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.AfterLessonID == 0 })).
		Return(activities.LoadResult{LessonIDs: ids(1, 120), AccountID: 7, NoContract: []int64{75}}, nil).Once()
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.AfterLessonID == 120 })).
		Return(activities.LoadResult{}, nil).Once()
	var contractBatches [][]int64
	env.OnActivity(activities.EnsureTrainingContractsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchInput) (activities.ContractsResult, error) {
			mu.Lock()
			defer mu.Unlock()
			contractBatches = append(contractBatches, in.LessonIDs)
			return activities.ContractsResult{}, nil
		})
	var batchSizes []int
	env.OnActivity(activities.DeclareLessonsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchInput) (activities.DeclareResult, error) {
			mu.Lock()
			defer mu.Unlock()
			batchSizes = append(batchSizes, len(in.LessonIDs))
			// The run's day is 10 December (Paris): only lessons ended before its 00:00 go.
			if want := time.Date(2021, 12, 9, 23, 0, 0, 0, time.UTC); !in.Before.Equal(want) {
				t.Errorf("Before = %s, want %s", in.Before, want)
			}
			return activities.DeclareResult{Transmitted: len(in.LessonIDs) - 1, Errors: 1}, nil
		})
	var recorded activities.RecordInput
	env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordInput) error {
			mu.Lock()
			defer mu.Unlock()
			recorded = in
			return nil
		})

	env.ExecuteWorkflow(workflows.OfficeDailyRunName, input)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res workflows.OfficeRunResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(batchSizes) != 3 || res.Counts.Transmitted != 117 || res.Counts.Errors != 3 || res.Outcome != workflows.OutcomeCompleted {
		t.Fatalf("batches %v, result %+v", batchSizes, res)
	}
	// Only the batch holding lesson 75 (a student without a contract) runs the contract step.
	if len(contractBatches) != 1 || contractBatches[0][0] != 51 {
		t.Fatalf("contract step ran for %v", contractBatches)
	}
	if res.BusinessDate != "2021-12-10" || recorded.Transmitted != 117 || recorded.BusinessDate != "2021-12-10" {
		t.Fatalf("recorded %+v", recorded)
	}
}

func TestRunWaitsWhenTheAccountNeedsReconnect(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.Anything).
		Return(activities.LoadResult{Blocked: activities.BlockedNeedsReconnect, Waiting: 12}, nil)
	var recorded activities.RecordInput
	env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordInput) error {
			mu.Lock()
			defer mu.Unlock()
			recorded = in
			return nil
		})
	env.ExecuteWorkflow(workflows.OfficeDailyRunName, input)
	var res workflows.OfficeRunResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.OutcomeNeedsReconnect || res.Counts.Deferred != 12 || recorded.Deferred != 12 {
		t.Fatalf("result %+v recorded %+v", res, recorded)
	}
}

func TestSchoolClosedStopsTheRun(t *testing.T) {
	env := newEnv(t)
	loads := 0
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LoadInput) (activities.LoadResult, error) {
			mu.Lock()
			defer mu.Unlock()
			loads++
			if loads == 1 {
				return activities.LoadResult{LessonIDs: ids(1, 200), AccountID: 7}, nil
			}
			// The activity flagged the school: the next load sees it.
			return activities.LoadResult{Blocked: activities.BlockedSchoolClosed, Waiting: 199}, nil
		})
	env.OnActivity(activities.EnsureTrainingContractsName, mock.Anything, mock.Anything).Return(activities.ContractsResult{}, nil)
	declares := 0
	env.OnActivity(activities.DeclareLessonsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchInput) (activities.DeclareResult, error) {
			mu.Lock()
			defer mu.Unlock()
			declares++
			return activities.DeclareResult{}, temporal.NewNonRetryableApplicationError("fermée", activities.ErrTypeSchoolClosed, nil)
		})
	env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).Return(nil)
	env.ExecuteWorkflow(workflows.OfficeDailyRunName, input)
	var res workflows.OfficeRunResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.OutcomeSchoolClosed || res.Counts.Deferred != 199 {
		t.Fatalf("result %+v", res)
	}
	// No retry of a non-retryable type, and no new batch after the first refusal.
	if declares > workflows.BatchConcurrency {
		t.Fatalf("%d batches ran after the school was closed", declares)
	}
}

func TestTransientFaultsAreRetried(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.AfterLessonID == 0 })).
		Return(activities.LoadResult{LessonIDs: ids(1, 3), AccountID: 7}, nil)
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.Anything).Return(activities.LoadResult{}, nil)
	env.OnActivity(activities.EnsureTrainingContractsName, mock.Anything, mock.Anything).Return(activities.ContractsResult{}, nil)
	attempts := 0
	env.OnActivity(activities.DeclareLessonsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchInput) (activities.DeclareResult, error) {
			mu.Lock()
			defer mu.Unlock()
			attempts++
			switch attempts {
			case 1:
				return activities.DeclareResult{}, temporal.NewApplicationError("503", activities.ErrTypeTransient)
			case 2:
				return activities.DeclareResult{}, temporal.NewApplicationErrorWithOptions("429", activities.ErrTypeRateLimited,
					temporal.ApplicationErrorOptions{NextRetryDelay: 30 * time.Second})
			}
			return activities.DeclareResult{Transmitted: 3}, nil
		})
	env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).Return(nil)
	env.ExecuteWorkflow(workflows.OfficeDailyRunName, input)
	var res workflows.OfficeRunResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if attempts != 3 || res.Counts.Transmitted != 3 {
		t.Fatalf("attempts %d, result %+v", attempts, res)
	}
}

func TestOurOwnBugFailsTheRunWithoutRetry(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.Anything).
		Return(activities.LoadResult{LessonIDs: ids(1, 3), AccountID: 7}, nil)
	env.OnActivity(activities.EnsureTrainingContractsName, mock.Anything, mock.Anything).Return(activities.ContractsResult{}, nil)
	attempts := 0
	env.OnActivity(activities.DeclareLessonsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BatchInput) (activities.DeclareResult, error) {
			mu.Lock()
			defer mu.Unlock()
			attempts++
			return activities.DeclareResult{}, temporal.NewNonRetryableApplicationError("400", activities.ErrTypeInvalidRequest, nil)
		})
	env.ExecuteWorkflow(workflows.OfficeDailyRunName, input)
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeInvalidRequest || attempts != 1 {
		t.Fatalf("err %v after %d attempts", err, attempts)
	}
}

func TestResendReportsTheNewState(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.EnsureTrainingContractsName, mock.Anything, mock.Anything).Return(activities.ContractsResult{}, nil)
	env.OnActivity(activities.DeclareLessonsName, mock.Anything, mock.MatchedBy(func(in activities.BatchInput) bool {
		return len(in.LessonIDs) == 1 && in.LessonIDs[0] == 99
	})).Return(activities.DeclareResult{Transmitted: 1}, nil)
	env.OnActivity(activities.LessonStateName, mock.Anything, mock.Anything).Return(activities.LessonState{Status: "transmitted"}, nil)
	env.ExecuteWorkflow(workflows.ResendLessonName, workflows.ResendInput{SchoolID: 1, OfficeID: 2, LessonID: 99})
	var res workflows.ResendResult
	if err := env.GetWorkflowResult(&res); err != nil || res.Status != "transmitted" {
		t.Fatalf("%+v %v", res, err)
	}
}

// records collects what the run writes to the runs table, in order.
type records struct {
	mu  sync.Mutex
	all []activities.RecordInput
}

func (r *records) mock(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(activities.RecordRunName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RecordInput) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.all = append(r.all, in)
			return nil
		})
}

func (r *records) outcomes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, in := range r.all {
		out = append(out, in.Outcome)
	}
	return out
}

func (r *records) last() activities.RecordInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.all[len(r.all)-1]
}

// A run is in the runs table from its start: running, then its outcome, under one key.
func TestRunIsRecordedWhenItStartsAndWhenItEnds(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.MatchedBy(func(in activities.LoadInput) bool { return in.AfterLessonID == 0 })).
		Return(activities.LoadResult{LessonIDs: ids(1, 3), AccountID: 7}, nil)
	env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.Anything).Return(activities.LoadResult{}, nil)
	env.OnActivity(activities.DeclareLessonsName, mock.Anything, mock.Anything).Return(activities.DeclareResult{Transmitted: 2, Errors: 1}, nil)
	var recs records
	recs.mock(env)
	env.ExecuteWorkflow(workflows.OfficeDailyRunName, input)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	if got := recs.outcomes(); !slices.Equal(got, []string{workflows.OutcomeRunning, workflows.OutcomeCompleted}) {
		t.Fatalf("recorded %v", got)
	}
	start, end := recs.all[0], recs.all[1]
	if start.RunID == "" || start.RunID != end.RunID || start.WorkflowID != end.WorkflowID || !start.StartedAt.Equal(end.StartedAt) ||
		start.Transmitted != 0 || end.Transmitted != 2 || end.Errors != 1 || end.Failure != "" || start.BusinessDate != "2021-12-10" {
		t.Fatalf("start %+v, end %+v", start, end)
	}
}

// A run that fails is recorded as failed, with the French sentence of its error class and
// the counts of the batches that finished, then returns its error. One case per class.
func TestAFailedRunIsRecordedAsFailed(t *testing.T) {
	cases := []struct {
		name    string
		declare func(attempt int) error
		cancel  bool
		want    domain.RunFailure
	}{
		{"the DSR refuses Livret's OAuth client", func(int) error {
			return temporal.NewNonRetryableApplicationError("invalid_client", activities.ErrTypeAccessRefused, nil)
		}, false, domain.RunFailureAccessRefused},
		{"a request the DSR calls malformed", func(int) error {
			return temporal.NewNonRetryableApplicationError("400", activities.ErrTypeInvalidRequest, nil)
		}, false, domain.RunFailureInternal},
		{"the DSR down until the retries run out", func(int) error {
			return temporal.NewApplicationError("503", activities.ErrTypeTransient)
		}, false, domain.RunFailureDSRUnavailable},
		{"cancelled while retrying", func(int) error {
			return temporal.NewApplicationError("503", activities.ErrTypeTransient)
		}, true, domain.RunFailureInterrupted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t)
			// Two batches of 50: the first declares, the second fails.
			env.OnActivity(activities.LoadDueLessonsName, mock.Anything, mock.Anything).
				Return(activities.LoadResult{LessonIDs: ids(1, 100), AccountID: 7}, nil)
			attempts := 0
			env.OnActivity(activities.DeclareLessonsName, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.BatchInput) (activities.DeclareResult, error) {
					mu.Lock()
					defer mu.Unlock()
					if in.LessonIDs[0] == 1 {
						return activities.DeclareResult{Transmitted: 49, Errors: 1}, nil
					}
					attempts++
					return activities.DeclareResult{}, tc.declare(attempts)
				})
			var recs records
			recs.mock(env)
			if tc.cancel {
				env.RegisterDelayedCallback(env.CancelWorkflow, 2*time.Minute)
			}
			env.ExecuteWorkflow(workflows.OfficeDailyRunName, input)
			err := env.GetWorkflowError()
			if err == nil {
				t.Fatal("the run did not fail")
			}
			if got := recs.outcomes(); !slices.Equal(got, []string{workflows.OutcomeRunning, workflows.OutcomeFailed}) {
				t.Fatalf("recorded %v", got)
			}
			r := recs.last()
			if r.Failure != tc.want.Sentence() || r.Transmitted != 49 || r.Errors != 1 || r.RunID != recs.all[0].RunID {
				t.Fatalf("recorded %+v, want the failure %q and the first batch's counts", r, tc.want.Sentence())
			}
		})
	}
}
