package webapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"livret/db/dbq"
	livschool "livret/school"
	"livret/workflows"
)

// temporalDown is the real orchestrator with Temporal's Schedule calls failing, as when the
// Temporal frontend does not answer right after a link's commit.
type temporalDown struct {
	livschool.Orchestrator
}

var errTemporalDown = errors.New("temporal frontend unavailable")

func (temporalDown) EnsureSchedule(context.Context, int64, int64) error { return errTemporalDown }
func (temporalDown) DeleteSchedule(context.Context, int64) error        { return errTemporalDown }

// TestLinkScheduleIsDurable: a link committed while Temporal fails still ends with the
// office's Schedule, made by the reconciler once Temporal answers; an unlink likewise ends
// with none. The office never stays linked without its daily run.
func TestLinkScheduleIsDurable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	a := e.createSchool("Auto-école Lauriane", agrementA)
	e.addAccount(emailA1, passwordA1, agrementA)
	e.put(a.Key, "/v1/offices/"+officeLauriane, map[string]any{"name": "AE LAURIANE"})
	office := e.office(a.ID, officeLauriane)
	real := e.srv.School.Orchestrator
	schedule := e.temporal.ScheduleClient().GetHandle(ctx, workflows.ScheduleID(office.ID))
	q := dbq.New(e.pool)
	pending := func() bool {
		t.Helper()
		o, err := q.OfficeGet(ctx, dbq.OfficeGetParams{SchoolID: a.ID, ID: office.ID})
		must(t, err)
		return o.SchedulePending
	}

	// Linked while Temporal fails: the admin is linked all the same, the office is marked.
	e.srv.School.Orchestrator = temporalDown{real}
	e.linked(a.Key, officeLauriane, false, e.browser(), &login{emailA1, passwordA1})
	if !pending() {
		t.Fatal("a link Temporal did not hear of is not marked")
	}
	if _, err := schedule.Describe(ctx); err == nil {
		t.Fatal("a Schedule exists although Temporal failed")
	}
	// Still failing: the reconciler leaves the mark.
	if n, err := livschool.ReconcileSchedules(ctx, q, temporalDown{real}); n != 0 || !errors.Is(err, errTemporalDown) || !pending() {
		t.Fatalf("reconcile while down: %d %v", n, err)
	}
	// Temporal is back: the reconciler makes the Schedule and clears the mark, once.
	if n, err := livschool.ReconcileSchedules(ctx, q, real); n != 1 || err != nil {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	if pending() {
		t.Fatal("still marked after the reconcile")
	}
	if _, err := schedule.Describe(ctx); err != nil {
		t.Fatalf("no Schedule after the reconcile: %v", err)
	}
	if n, err := livschool.ReconcileSchedules(ctx, q, real); n != 0 || err != nil {
		t.Fatalf("a second reconcile did work: %d %v", n, err)
	}

	// Unlinked while Temporal fails: the Schedule outlives the answer, not the reconciler.
	e.do("POST", "/v1/offices/"+officeLauriane+"/dsr/disconnect", a.Key, nil).want(t, http.StatusOK)
	if !pending() {
		t.Fatal("an unlink Temporal did not hear of is not marked")
	}
	e.srv.School.Orchestrator = real
	if n, err := livschool.ReconcileSchedules(ctx, q, real); n != 1 || err != nil {
		t.Fatalf("reconcile the unlink: %d %v", n, err)
	}
	if _, err := schedule.Describe(ctx); err == nil {
		t.Fatal("the unlinked office's Schedule is still there")
	}
	if pending() {
		t.Fatal("still marked after the unlink's reconcile")
	}
}
