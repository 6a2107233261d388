// Package drills breaks Livret on purpose while it runs, with its workers as separate
// `livret worker` processes, and checks the DSR's ledger against Postgres lesson by lesson:
// nothing lost, nothing doubled.
//
//	go test ./drills -run 'TestDrill/worker-kill' -v                  # one drill, CI size
//	LIVRET_DRILL_LESSONS=3000 LIVRET_DRILLS=all go test ./drills -v -timeout 30m
//
// The drills: worker-kill, lost-answers, dsr-outage, token-churn, postgres-restart and
// temporal-restart (RELIABILITY.md says what each breaks). CI runs worker-kill and
// lost-answers at a small size; the others run with LIVRET_DRILLS=all.
package drills

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"livret/db/dbq"
	"livret/devstack"
	"livret/domain"
	"livret/sandbox"
	"livret/worker/workertest"
	"livret/workflows"
)

var livretBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "livret-drills")
	if err != nil {
		panic(err)
	}
	livretBinary = filepath.Join(dir, "livret")
	// The production binary (-tags nodev: without the embedded Temporal server), as deployed.
	build := exec.Command("go", "build", "-tags", "nodev", "-o", livretBinary, "../cmd/livret")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "drills: cannot build livret:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// report is what each drill prints (and RELIABILITY.md records).
type report struct {
	Drill      string  `json:"drill"`
	Expected   int     `json:"lessons_expected"`
	AtDSR      int     `json:"at_dsr"`
	Duplicates int     `json:"duplicates"`
	Lost       int     `json:"lost"`
	RecoverS   float64 `json:"time_to_recover_s"`
	TotalS     float64 `json:"total_s"`
	Calls      int     `json:"dsr_calls"`
	Refused    int     `json:"duplicates_refused_by_dsr"`
	Refreshes  int     `json:"token_refreshes"`
	// WorkerWarnings counts the workers' log lines at WARN or ERROR: evidence that the drill
	// broke something the workers felt.
	WorkerWarnings int `json:"worker_log_warnings"`
}

func lessonsPerDrill() int {
	if n, err := strconv.Atoi(os.Getenv("LIVRET_DRILL_LESSONS")); err == nil && n > 0 {
		return n
	}
	return 600
}

func TestDrill(t *testing.T) {
	all := os.Getenv("LIVRET_DRILLS") == "all"
	drills := []struct {
		name string
		ci   bool
		// prepare, when set, starts what the drill breaks (a PostgreSQL cluster, a Temporal
		// server of its own) and says how the stack reaches it.
		prepare func(t *testing.T, d *drill) workertest.Options
		run     func(t *testing.T, d *drill) time.Time
		// felt: the workers must have logged the breakage (else the drill broke nothing).
		felt bool
	}{
		{"worker-kill", true, nil, workerKill, false},
		{"lost-answers", true, nil, lostAnswers, false},
		{"dsr-outage", false, nil, dsrOutage, false},
		{"token-churn", false, nil, tokenChurn, false},
		{"postgres-restart", false, ownPostgres, postgresRestart, true},
		{"temporal-restart", false, ownTemporal, temporalRestart, true},
	}
	for _, dr := range drills {
		t.Run(dr.name, func(t *testing.T) {
			if !dr.ci && !all {
				t.Skip("set LIVRET_DRILLS=all to run it")
			}
			d := &drill{name: dr.name}
			var opts workertest.Options
			if dr.prepare != nil {
				opts = dr.prepare(t, d)
			}
			d.start(t, opts)
			started := time.Now()
			recovered := dr.run(t, d)
			d.wait(t, 10*time.Minute)
			r := d.check(t)
			r.TotalS = time.Since(started).Seconds()
			r.RecoverS = time.Since(recovered).Seconds()
			b, _ := json.Marshal(r)
			t.Logf("DRILL %s", b)
			if r.Lost != 0 || r.Duplicates != 0 {
				t.Fatalf("%s: %d lost, %d duplicates", dr.name, r.Lost, r.Duplicates)
			}
			if dr.felt && r.WorkerWarnings == 0 {
				t.Fatalf("%s: the workers logged no trouble: the drill broke nothing", dr.name)
			}
		})
	}
}

// drill is one stack with many lessons over several offices, and its worker processes.
type drill struct {
	name    string
	s       *workertest.Stack
	school  dbq.School
	offices []dbq.Office
	lessons []dbq.Lesson
	workers []*exec.Cmd
	runs    []string
	logDir  string // the workers' logs
	// rateLimit is the workers' per-account limit, calls per minute (0: none).
	rateLimit int

	pg       *devstack.Postgres      // postgres-restart's own cluster
	temporal *devstack.Temporal      // temporal-restart's own server
	tcfg     devstack.TemporalConfig // how to start it again
}

// start starts the stack and creates the school.
func (d *drill) start(t *testing.T, opts workertest.Options) {
	s := workertest.NewStack(t, opts)
	d.s, d.school = s, s.School("Auto-école Exercice", "E0000000077")
	d.logDir = t.TempDir()
	s.Must(s.Sandbox.SetFaults(context.Background(), sandbox.Faults{RateLimitPerMin: sandbox.Int(0), LatencyMS: 10}), "faults")
}

// seed creates offices (two of them centralised on one account) with n lessons in all.
func (d *drill) seed(t *testing.T, n int) {
	s := d.s
	jean := s.Instructor(d.school, "I1", "Jean", "Dupont", "A1234567890", false)
	const offices, perStudent = 6, 10
	shared := workertest.NewBrowser()
	s.Account(d.school, "central@exercice.fr", "pw")
	for o := 0; o < offices; o++ {
		office := s.Office(d.school, fmt.Sprintf("B%d", o), fmt.Sprintf("Bureau %d", o))
		d.offices = append(d.offices, office)
		if o < 2 {
			s.Link(shared, d.school, office, "central@exercice.fr", "pw")
		} else {
			email := fmt.Sprintf("b%d@exercice.fr", o)
			s.Account(d.school, email, "pw")
			s.Link(workertest.NewBrowser(), d.school, office, email, "pw")
		}
	}
	for i := 0; len(d.lessons) < n; i++ {
		office := d.offices[i%offices]
		st := s.Student(d.school, office, workertest.StudentSpec{Ref: fmt.Sprintf("S%d", i), First: "Élève", Last: fmt.Sprintf("N%d", i),
			NEPH: fmt.Sprintf("%012d", 7000+i), Category: "B", EvaluationAccepted: true, KnownToANTS: true})
		for l := 0; l < perStudent && len(d.lessons) < n; l++ {
			start := workertest.Paris(2026, 2, 2, 9, 0).AddDate(0, 0, l)
			lesson, _ := s.Lesson(d.school, office, st, jean, fmt.Sprintf("L%d-%d", i, l), domain.TypeConduite, start, start.Add(time.Hour))
			d.lessons = append(d.lessons, lesson)
		}
	}
}

// startWorker starts one `livret worker` process.
func (d *drill) startWorker(t *testing.T, i int) {
	cmd := exec.Command(livretBinary, "worker")
	cmd.Env = append(os.Environ(), d.s.Environment()...)
	cmd.Env = append(cmd.Env, fmt.Sprintf("LIVRET_DSR_RATE_LIMIT=%d", d.rateLimit))
	// Appended: a restarted worker adds to the log of the one it replaces.
	logf, err := os.OpenFile(filepath.Join(d.logDir, fmt.Sprintf("worker-%d.log", i)), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for len(d.workers) <= i {
		d.workers = append(d.workers, nil)
	}
	d.workers[i] = cmd
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		logf.Close()
	})
}

// kill sends SIGKILL to worker i: no graceful anything.
func (d *drill) kill(i int) {
	_ = d.workers[i].Process.Kill()
	_, _ = d.workers[i].Process.Wait()
}

// launch starts n worker processes, then every office's run.
func (d *drill) launch(t *testing.T, n int) {
	for i := 0; i < n; i++ {
		d.startWorker(t, i)
	}
	d.startRuns(t)
}

func (d *drill) startRuns(t *testing.T) {
	for _, o := range d.offices {
		wid, _, err := d.s.Orchestrator.StartRun(context.Background(), d.school.ID, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		d.runs = append(d.runs, wid)
	}
}

func (d *drill) wait(t *testing.T, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for _, wid := range d.runs {
		var res workflows.OfficeRunResult
		if err := d.s.Client.GetWorkflow(ctx, wid, "").Get(ctx, &res); err != nil {
			t.Fatalf("run %s: %v", wid, err)
		}
		if res.Outcome != workflows.OutcomeCompleted {
			t.Fatalf("run %s ended %s", wid, res.Outcome)
		}
	}
}

// atDSR is how many of our lessons the DSR holds now.
func (d *drill) atDSR(t *testing.T) int { return len(d.s.Ledger().Lessons) }

// waitAtDSR waits until the DSR holds at least n lessons.
func (d *drill) waitAtDSR(t *testing.T, n int) {
	deadline := time.Now().Add(5 * time.Minute)
	for d.atDSR(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the DSR did not reach %d lessons", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// check compares the ledger with Postgres lesson by lesson.
func (d *drill) check(t *testing.T) report {
	ledger := d.s.Ledger()
	held := map[string]int{}
	slots := map[string]int{}
	for _, l := range ledger.Lessons {
		held[l.IDLecon]++
		slots[l.IDContrat+"@"+l.Debut.UTC().Format(time.RFC3339)]++
	}
	r := report{Drill: d.name, Expected: len(d.lessons), AtDSR: len(ledger.Lessons), Calls: ledger.Calls, Refused: ledger.DuplicatesRefused,
		Refreshes: ledger.Refreshes}
	for _, n := range slots {
		r.Duplicates += n - 1
	}
	logs, _ := filepath.Glob(filepath.Join(d.logDir, "*.log"))
	for _, name := range logs {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		r.WorkerWarnings += bytes.Count(data, []byte(`"level":"WARN"`)) + bytes.Count(data, []byte(`"level":"ERROR"`))
	}
	for _, l := range d.lessons {
		tr := d.s.Transmission(d.school.ID, l.ID)
		if tr.Status != string(domain.StatusTransmitted) || tr.DsrLessonID == nil || held[*tr.DsrLessonID] != 1 {
			r.Lost++
		}
	}
	return r
}

// worker-kill: three workers; one of them is killed with SIGKILL ten times at random
// moments and restarted; the others go on.
func workerKill(t *testing.T, d *drill) time.Time {
	d.seed(t, lessonsPerDrill())
	d.launch(t, 3)
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < 10; k++ {
		time.Sleep(time.Duration(200+rng.IntN(800)) * time.Millisecond)
		victim := rng.IntN(3)
		d.kill(victim)
		d.startWorker(t, victim)
	}
	return time.Now()
}

// lost-answers: 20 % of POSTs stored then their answer dropped, 10 % 5xx, 10 % 429.
func lostAnswers(t *testing.T, d *drill) time.Time {
	d.seed(t, lessonsPerDrill())
	d.s.Must(d.s.Sandbox.SetFaults(context.Background(), sandbox.Faults{DropAfterCommitRate: 0.2, Error5xxRate: 0.1, Rate429: 0.1,
		LatencyMS: 10, RateLimitPerMin: sandbox.Int(0)}), "faults")
	d.launch(t, 2)
	return time.Now()
}

// dsr-outage: the DSR answers 503 for a while mid-run (compressed: 45 s), then recovers.
func dsrOutage(t *testing.T, d *drill) time.Time {
	d.seed(t, lessonsPerDrill())
	d.launch(t, 2)
	d.waitAtDSR(t, len(d.lessons)/5)
	until := time.Now().Add(45 * time.Second)
	d.s.Must(d.s.Sandbox.SetFaults(context.Background(), sandbox.Faults{OutageUntil: &until, LatencyMS: 10, RateLimitPerMin: sandbox.Int(0)}), "outage")
	time.Sleep(time.Until(until))
	return until
}

// token-churn: access tokens live 5 s and refresh tokens 60 s, three workers: refreshes are
// serialised, no invalid_grant, no lesson lost. The workers keep to 900 calls a minute per
// account, so the run lasts long enough (about 90 s at 3,000 lessons: the shared account has
// 1,200) for every account to refresh many times and for refresh tokens to be replaced
// before their 60 s are up.
func tokenChurn(t *testing.T, d *drill) time.Time {
	d.s.Must(d.s.Sandbox.SetFaults(context.Background(), sandbox.Faults{AccessTTLS: 5, RefreshTTLS: 60, LatencyMS: 30, RateLimitPerMin: sandbox.Int(0)}), "faults")
	d.rateLimit = 900
	d.seed(t, lessonsPerDrill())
	d.launch(t, 3)
	d.wait(t, 10*time.Minute)
	accounts, err := d.s.Q.AccountListLinked(context.Background())
	if err != nil || len(accounts) != 5 {
		t.Fatalf("every account must still be usable (no invalid_grant): %d %v", len(accounts), err)
	}
	// Each account's access token is renewed every ~2 s (5 s, less the client's 3 s margin).
	if n := d.s.Ledger().Refreshes; n < 2*len(accounts) {
		t.Fatalf("%d refreshes for %d accounts: the drill churned nothing", n, len(accounts))
	} else {
		t.Logf("%d refreshes for %d accounts", n, len(accounts))
	}
	return time.Now()
}

// ownPostgres starts a PostgreSQL cluster of the drill's own (the shared server cannot be
// restarted under other tests), in a folder the "postgres" user can reach when this runs as root.
func ownPostgres(t *testing.T, d *drill) workertest.Options {
	bin := devstack.PostgresBinDir()
	if bin == "" {
		t.Fatal("postgres-restart needs PostgreSQL's server programs (initdb, pg_ctl): install postgresql")
	}
	dir, err := os.MkdirTemp("", "livret-drill-pg")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pg, err := devstack.StartPostgres(ctx, bin, filepath.Join(dir, "data"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pg.Stop(); err != nil {
			t.Log(err)
		}
		os.RemoveAll(dir)
	})
	d.pg = pg
	// The production settings: synchronous commits, so a crash loses no committed "sending" mark.
	return workertest.Options{DatabaseURL: pg.URL("postgres")}
}

// postgres-restart: PostgreSQL goes away twice mid-run, 5 s each time: once with a fast
// shutdown (pg_ctl -m fast: sessions cut, checkpoint), once as a crash (pg_ctl -m
// immediate: the next start replays the WAL). Workers lose every connection both times.
func postgresRestart(t *testing.T, d *drill) time.Time {
	d.seed(t, lessonsPerDrill())
	d.launch(t, 2)
	ctx := context.Background()
	for i, mode := range []string{"fast", "immediate"} {
		d.waitAtDSR(t, len(d.lessons)*(i+1)/4)
		t.Logf("PostgreSQL stops (%s) with %d lessons at the DSR", mode, d.atDSR(t))
		if err := d.pg.Restart(ctx, mode, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	return time.Now()
}

// ownTemporal starts a Temporal server of the drill's own, as `livret dev` runs it: on a
// SQLite file, with the internal ports kept from one start to the next.
func ownTemporal(t *testing.T, d *drill) workertest.Options {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(filepath.Join(dir, "temporal.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	d.tcfg = devstack.TemporalConfig{DBFile: filepath.Join(dir, "temporal.db"), FrontendAddr: addr, Namespaces: []string{"drill"},
		PortsFile: filepath.Join(dir, "ports.json"), Logger: slog.New(slog.NewTextHandler(logf, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	d.startTemporal(t, nil)
	t.Cleanup(func() {
		if d.temporal != nil {
			_ = d.temporal.Stop()
		}
	})
	return workertest.Options{TemporalAddr: addr, Namespace: "drill"}
}

// startTemporal starts the drill's server on its SQLite file; with a client, it waits until
// the server serves calls that reach every service.
func (d *drill) startTemporal(t *testing.T, c client.Client) {
	srv, err := devstack.StartTemporal(d.tcfg)
	if err != nil {
		t.Fatal(err)
	}
	d.temporal = srv
	if c == nil {
		probe, err := client.Dial(client.Options{HostPort: d.tcfg.FrontendAddr, Namespace: "drill",
			Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		if err != nil {
			srv.StartFailed()
			t.Fatal(err)
		}
		defer probe.Close()
		c = probe
	}
	if err := devstack.WaitServing(context.Background(), c, workflows.TaskQueue, 2*time.Minute); err != nil {
		srv.StartFailed()
		t.Fatal(err)
	}
	srv.Serving()
}

// temporal-restart: the Temporal server stops twice mid-run, once a quarter of the lessons
// are in and 3 s after it is back, and comes back 10 s later on its SQLite file each time;
// workers and the test's client reconnect by themselves. Activities already running go on
// talking to the DSR meanwhile; their results cannot be reported, so they run again.
func temporalRestart(t *testing.T, d *drill) time.Time {
	d.seed(t, lessonsPerDrill())
	d.launch(t, 2)
	d.waitAtDSR(t, len(d.lessons)/4)
	for i := 0; i < 2; i++ {
		t.Logf("Temporal stops with %d lessons at the DSR", d.atDSR(t))
		if err := d.temporal.Stop(); err != nil {
			t.Fatal(err)
		}
		d.temporal = nil
		time.Sleep(10 * time.Second)
		d.startTemporal(t, d.s.Client)
		if i == 0 {
			// The second stop comes soon after the first recovery: activities that started
			// again and workflows that have not recorded their end are cut once more.
			time.Sleep(3 * time.Second)
		}
	}
	return time.Now()
}
