package drills

import (
	"context"
	"fmt"
	"testing"
	"time"

	"livret/db/dbtest"
	"livret/livretclient"
	"livret/prodstack"
	"livret/worker/workertest"
)

// prodStack starts the production-shaped stack (prodstack): Temporal built from the server
// module on PostgreSQL with its schema and namespace from livret-temporal-setup, the sandbox,
// migrate and the web API as processes, two worker processes held until the drill starts
// them. The test's own stack (the seeding, the ledger, the Temporal client) joins it.
func prodStack(t *testing.T, d *drill) workertest.Options {
	s, err := prodstack.New(context.Background(), prodstack.Config{
		Bin:          binaries,
		AdminURL:     dbtest.AdminURL(),
		Dir:          t.TempDir(),
		Workers:      2,
		HoldWorkers:  true,
		Namespace:    "drill",
		ClientID:     workertest.ClientID,
		ClientSecret: workertest.ClientSecret,
		WorkerEnv:    []string{fmt.Sprintf("LIVRET_DSR_RATE_LIMIT=%d", d.rateLimit)},
		Logf:         t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(s.LogTails(60))
		}
		s.Close()
	})
	d.prod = s
	d.logDir = s.Dir
	return workertest.Options{DatabaseURL: s.DatabaseURL, TemporalAddr: s.TemporalAddr, Namespace: s.Namespace, SandboxURL: s.SandboxURL,
		KeySpec: s.KeySpec}
}

// prod-happy-path: nothing breaks. Two worker processes; each office's run is started
// through the web API process (POST /v1/offices/{ref}/runs with its school's key), as the
// management software does, and read back from it once over.
func prodHappyPath(t *testing.T, d *drill) time.Time {
	d.seed(t, lessonsPerDrill())
	d.startWorker(t, 0)
	d.startWorker(t, 1)
	ctx := context.Background()
	agrement := map[int64]string{}
	for _, sc := range d.schools {
		agrement[sc.ID] = sc.Agrement
	}
	api := func(schoolID int64) *livretclient.Client {
		return livretclient.New(d.prod.APIURL, workertest.SchoolAPIKey(agrement[schoolID]))
	}
	byRun := map[string]string{} // workflow id → office ref
	for _, o := range d.offices {
		started, err := api(o.SchoolID).StartRun(ctx, o.Ref)
		if err != nil {
			t.Fatalf("POST /v1/offices/%s/runs: %v", o.Ref, err)
		}
		d.runs = append(d.runs, started.WorkflowID)
		byRun[started.WorkflowID] = o.Ref
	}
	d.wait(t, 10*time.Minute)
	transmitted := 0
	for _, o := range d.offices {
		runs, err := api(o.SchoolID).Runs(ctx, o.Ref)
		if err != nil {
			t.Fatalf("GET /v1/offices/%s/runs: %v", o.Ref, err)
		}
		found := false
		for _, r := range runs {
			if byRun[r.WorkflowID] != o.Ref {
				continue
			}
			found = true
			if r.Outcome != livretclient.OutcomeCompleted {
				t.Fatalf("office %s: the API shows its run %s", o.Ref, r.Outcome)
			}
			transmitted += r.Transmitted
		}
		if !found {
			t.Fatalf("office %s: the API does not show the run it started", o.Ref)
		}
	}
	if transmitted != len(d.lessons) {
		t.Fatalf("the API's runs count %d lessons transmitted, %d were seeded", transmitted, len(d.lessons))
	}
	return time.Now()
}

// pacedProdStack is prodStack with the workers keeping each account to half as many DSR
// calls a minute as the drill has lessons: the shared account (a third of the lessons, and
// their contracts) then needs about a minute whatever the size, as an office of a few
// hundred lessons does at the DSR's 210 a minute, so that both restarts fall mid-run.
func pacedProdStack(t *testing.T, d *drill) workertest.Options {
	d.rateLimit = max(lessonsPerDrill()/2, 60)
	return prodStack(t, d)
}

// prod-rolling-restart: a deployment's rolling restart. Two worker processes, paced
// (pacedProdStack). Once a fifth of the lessons are in, worker-1 gets SIGTERM, drains — the
// activities in flight run to their end within the worker's 30 s stop timeout, or are
// cancelled then and handed back to Temporal, which retries them on the other worker — exits
// 0, and starts again; 3 s after it is ready, worker-2 does the same.
func rollingRestart(t *testing.T, d *drill) time.Time {
	d.seed(t, lessonsPerDrill())
	d.launch(t, 2)
	d.waitAtDSR(t, len(d.lessons)/5)
	d.restart(t, prodstack.Worker(1), 0)
	time.Sleep(3 * time.Second)
	d.restart(t, prodstack.Worker(2), 0)
	return time.Now()
}

// prod-temporal-restart: the Temporal server process gets SIGTERM once a quarter of the
// lessons are in, and starts again 10 s later on the same PostgreSQL databases (and ports);
// 3 s after it serves again, once more. Two worker processes, paced (pacedProdStack), which
// reconnect on their own.
func prodTemporalRestart(t *testing.T, d *drill) time.Time {
	d.seed(t, lessonsPerDrill())
	d.launch(t, 2)
	d.waitAtDSR(t, len(d.lessons)/4)
	for i := 0; i < 2; i++ {
		d.restart(t, prodstack.Temporal, 10*time.Second)
		if i == 0 {
			time.Sleep(3 * time.Second)
		}
	}
	return time.Now()
}

// restart stops process i of the production stack with SIGTERM (it must exit 0 on its
// own, in its grace period), waits down, and starts it again.
func (d *drill) restart(t *testing.T, i int, down time.Duration) {
	at := d.atDSR(t)
	if at >= len(d.lessons) {
		t.Fatalf("%s: the run was over before its SIGTERM (%d lessons at the DSR)", d.prod.Name(i), at)
	}
	took, err := d.prod.Stop(i)
	if err != nil {
		t.Fatalf("SIGTERM to %s: %v", d.prod.Name(i), err)
	}
	time.Sleep(down)
	began := time.Now()
	if err := d.prod.Start(i); err != nil {
		t.Fatal(err)
	}
	r := restartReport{Process: d.prod.Name(i), AtDSR: at, StopS: took.Seconds(), StartS: time.Since(began).Seconds()}
	t.Logf("%s stopped with %d lessons at the DSR in %.1f s, started again in %.1f s", r.Process, at, r.StopS, r.StartS)
	d.restarts = append(d.restarts, r)
}
