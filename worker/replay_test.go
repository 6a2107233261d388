package worker_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"livret/worker"
	"livret/workflows"
)

// TestReplayRecordedHistories replays every history recorded from real runs (testdata/*.json)
// on today's workflow code: a change that would break a run in flight fails here. Every
// workflow type worker.RegisterWorkflows registers must have at least one history, and the
// daily run's continue-as-new must be among them, so a new workflow or a new path brings its
// recording. The histories are written by the end-to-end tests when recording:
//
//	LIVRET_RECORD_HISTORIES=1 go test -count=1 ./worker -run 'TestSeedScenarioEndToEnd|TestHistory|TestWebhooksEndToEnd'
//
// (see histories_test.go; WebhookDispatch's are TestWebhooksEndToEnd's; OfficeDailyRun's histories of older code, *_v0.json and *_v1.json, are kept).
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded history under testdata/")
	}
	replayer := sdkworker.NewWorkflowReplayer()
	worker.RegisterWorkflows(replayer)
	logger := log.NewStructuredLogger(slog.New(slog.DiscardHandler))

	covered := map[string][]string{} // workflow type → its histories
	continuedAsNew := map[string]bool{}
	for _, f := range files {
		hist := readHistory(t, f)
		typ := hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
		covered[typ] = append(covered[typ], filepath.Base(f))
		events := hist.GetEvents()
		if events[len(events)-1].GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
			continuedAsNew[typ] = true
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			if err := replayer.ReplayWorkflowHistory(logger, hist); err != nil {
				t.Fatalf("replay %s (%s): %v", f, typ, err)
			}
		})
	}

	var registered typeNames
	worker.RegisterWorkflows(&registered)
	if len(registered.names) == 0 {
		t.Fatal("worker.RegisterWorkflows registered no workflow")
	}
	for _, name := range registered.names {
		if len(covered[name]) == 0 {
			t.Errorf("workflow type %s is registered but has no recorded history under testdata/: "+
				"add an end-to-end test that runs it and calls recordHistory (see histories_test.go)", name)
		}
	}
	for typ, fs := range covered {
		if !slices.Contains(registered.names, typ) {
			t.Errorf("histories %v are of workflow type %s, which worker.RegisterWorkflows does not register", fs, typ)
		}
	}
	if !continuedAsNew[workflows.OfficeDailyRunName] {
		t.Errorf("no %s history ends in continue-as-new: record TestHistoryOfficeRunContinuesAsNew", workflows.OfficeDailyRunName)
	}
}

func readHistory(t *testing.T, path string) *historypb.History {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(hist.GetEvents()) == 0 || hist.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes() == nil {
		t.Fatalf("%s does not start with WorkflowExecutionStarted", path)
	}
	return hist
}

// typeNames is a workflow registry that only notes the type names registered on it, under
// the same rule as the SDK's: the option's name, else the function's own name.
type typeNames struct{ names []string }

func (r *typeNames) RegisterWorkflow(w any) {
	r.RegisterWorkflowWithOptions(w, workflow.RegisterOptions{})
}

func (r *typeNames) RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions) {
	name := options.Name
	if name == "" {
		full := runtime.FuncForPC(reflect.ValueOf(w).Pointer()).Name()
		name = strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm")
	}
	r.names = append(r.names, name)
}

// RegisterDynamicWorkflow: a dynamic workflow has no type name to look a history up by.
func (r *typeNames) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) {
	r.names = append(r.names, "(dynamic workflow)")
}
