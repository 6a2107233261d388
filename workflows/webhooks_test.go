package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"livret/activities"
	"livret/workflows"
)

var dispatchStart = time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)

func newDispatchEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.WebhookDispatch, workflow.RegisterOptions{Name: workflows.WebhookDispatchName})
	acts := &activities.Activities{}
	env.RegisterActivityWithOptions(acts.DeliverWebhook, activity.RegisterOptions{Name: activities.DeliverWebhookName})
	env.SetStartTime(dispatchStart)
	return env
}

// deliveries answers DeliverWebhook with results in turn, noting the workflow clock of each
// call; past the last result it answers "nothing pending".
func deliveries(env *testsuite.TestWorkflowEnvironment, results ...activities.DeliverWebhookResult) *[]time.Time {
	var calls []time.Time
	env.OnActivity(activities.DeliverWebhookName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeliverWebhookInput) (activities.DeliverWebhookResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if in.WebhookID != 42 {
				return activities.DeliverWebhookResult{}, errors.New("wrong subscription")
			}
			calls = append(calls, env.Now())
			if len(calls) > len(results) {
				return activities.DeliverWebhookResult{}, nil
			}
			return results[len(calls)-1], nil
		})
	return &calls
}

func dispatchResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.WebhookDispatchResult {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("the dispatcher did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("dispatcher: %v", err)
	}
	var res workflows.WebhookDispatchResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// A failed head waits on a durable timer until its retry is due, then the deliveries go on;
// with nothing left pending the dispatcher completes.
func TestDispatchWaitsForTheRetryThenCompletesWhenIdle(t *testing.T) {
	env := newDispatchEnv(t)
	calls := deliveries(env,
		activities.DeliverWebhookResult{Delivered: 2, Retried: 1, NextAttemptAt: dispatchStart.Add(5 * time.Minute)},
		activities.DeliverWebhookResult{Delivered: 3})
	env.ExecuteWorkflow(workflows.WebhookDispatchName, workflows.WebhookDispatchInput{WebhookID: 42})
	res := dispatchResult(t, env)
	if res != (workflows.WebhookDispatchResult{Delivered: 5, Retried: 1}) {
		t.Fatalf("result %+v", res)
	}
	if len(*calls) != 2 || (*calls)[1].Before(dispatchStart.Add(5*time.Minute)) {
		t.Fatalf("calls at %v: want the second once the retry is due", *calls)
	}
}

// A wake signal cuts the wait short: the dispatcher looks at once.
func TestDispatchWakesOnSignal(t *testing.T) {
	env := newDispatchEnv(t)
	calls := deliveries(env, activities.DeliverWebhookResult{Retried: 1, NextAttemptAt: dispatchStart.Add(10 * time.Hour)},
		activities.DeliverWebhookResult{Delivered: 4})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WakeSignal, nil) }, time.Minute)
	env.ExecuteWorkflow(workflows.WebhookDispatchName, workflows.WebhookDispatchInput{WebhookID: 42})
	res := dispatchResult(t, env)
	if res.Delivered != 4 || len(*calls) != 2 || !(*calls)[1].Before(dispatchStart.Add(time.Hour)) {
		t.Fatalf("result %+v, calls at %v: want the second call at the signal, long before the retry", res, *calls)
	}
}

// A wake-up received while a call ran may be for what the call could not see: the
// dispatcher looks again before it ends.
func TestDispatchLooksAgainWhenWokenDuringACall(t *testing.T) {
	env := newDispatchEnv(t)
	calls := deliveries(env, activities.DeliverWebhookResult{}, activities.DeliverWebhookResult{Delivered: 1})
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.WakeSignal, nil) }, 0)
	env.ExecuteWorkflow(workflows.WebhookDispatchName, workflows.WebhookDispatchInput{WebhookID: 42})
	res := dispatchResult(t, env)
	if res.Delivered != 1 || len(*calls) != 2 {
		t.Fatalf("result %+v after %d calls: want a second look after the wake-up, and no third", res, len(*calls))
	}
}

// More: the budget ran out, call again at once; Gone: the subscription is deleted, end.
func TestDispatchCallsAgainForMoreAndEndsWhenGone(t *testing.T) {
	env := newDispatchEnv(t)
	calls := deliveries(env, activities.DeliverWebhookResult{Delivered: 100, More: true},
		activities.DeliverWebhookResult{Delivered: 7, More: true}, activities.DeliverWebhookResult{Gone: true})
	env.ExecuteWorkflow(workflows.WebhookDispatchName, workflows.WebhookDispatchInput{WebhookID: 42})
	res := dispatchResult(t, env)
	if res != (workflows.WebhookDispatchResult{Delivered: 107, Gone: true}) || len(*calls) != 3 || !(*calls)[2].Equal(dispatchStart) {
		t.Fatalf("result %+v, calls at %v", res, *calls)
	}
}

// A dispatcher that never runs out of work continues as new, its history bounded.
func TestDispatchContinuesAsNew(t *testing.T) {
	env := newDispatchEnv(t)
	env.OnActivity(activities.DeliverWebhookName, mock.Anything, mock.Anything).Return(activities.DeliverWebhookResult{Delivered: 1, More: true}, nil)
	env.ExecuteWorkflow(workflows.WebhookDispatchName, workflows.WebhookDispatchInput{WebhookID: 42})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) || can.WorkflowType.Name != workflows.WebhookDispatchName {
		t.Fatalf("ended with %v, want a continue-as-new", err)
	}
}
