// Command bench measures Livret on this machine, side by side in one run: the per-account
// DSR rate limit kept and approached (limit), Livret's orchestration against a plain loop
// doing the same calls and writes (overhead), how time and memory grow with the number of
// lessons (scale), the report endpoints on an office with 100,000 lessons (report), a bulk
// sync through POST /v1/batch against the same items as single PUTs (bulk), the CSV
// export of that office with the memory it takes (export), and the ETP's figures on offices
// of 100,000 lessons (etp).
//
//	go run ./bench                       # the default scenarios at their default size
//	go run ./bench -scenario overhead -json
//	go run ./bench -scenario bulk        # opt-in: about a minute
//
// Everything is real and in this process: PostgreSQL (DATABASE_URL's server, a fresh
// database dropped afterwards), the sandbox over loopback HTTP, an embedded Temporal server,
// a Livret worker. -worker-process runs the worker as a `livret worker` process instead
// (scale) or as well (overhead); -prod-shape adds to overhead the production shape
// (prodstack: the Temporal server on PostgreSQL, the worker and the sandbox processes).
// Figures go to stdout and, as a table, to BENCHMARKS.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"livret/db/dbq"
	"livret/domain"
	"livret/sandbox"
	"livret/workflows"
)

type config struct {
	scenarios    []string
	adminURL     string
	jsonOut      bool
	mdPath       string
	limitPerMin  int
	limitAccts   int
	limitLessons int
	ovAccounts   int
	ovLessons    int
	scaleSizes   []int
	reportSize   int
	bulkItems    int
	bulkClients  int
	etpSize      int
	dbConns      int
	workers      int
	slots        int
	workerProc   bool
	prodShape    bool
}

func main() {
	var c config
	var scenarios, sizes string
	// bulk is left out of the default: about a minute on its own (BENCHMARKS.md).
	flag.StringVar(&scenarios, "scenario", "limit,overhead,scale,report,export,etp", "scenarios to run, comma-separated: limit, overhead, scale, report, export, etp, bulk")
	flag.StringVar(&c.adminURL, "db", envOr("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server (a fresh database is created on it)")
	flag.BoolVar(&c.jsonOut, "json", false, "print the results as JSON")
	flag.StringVar(&c.mdPath, "md", "BENCHMARKS.md", "append a table to this file (empty: don't)")
	flag.IntVar(&c.limitPerMin, "limit-per-min", 60, "limit: the sandbox's and the workers' per-account limit")
	flag.IntVar(&c.limitAccts, "limit-accounts", 16, "limit: accounts (every 4th has two offices sharing it)")
	flag.IntVar(&c.limitLessons, "limit-lessons", 150, "limit: lessons per office")
	flag.IntVar(&c.ovAccounts, "overhead-accounts", 4, "overhead: accounts on each side")
	flag.IntVar(&c.ovLessons, "overhead-lessons", 2500, "overhead: lessons per office")
	flag.StringVar(&sizes, "scale", "1000,10000", "scale: total lessons per step (add 100000 for the full curve)")
	flag.IntVar(&c.reportSize, "report-lessons", 100000, "report, export: lessons in the office")
	flag.IntVar(&c.bulkItems, "bulk-items", 5000, "bulk: items sent each way (offices, instructors, students, lessons)")
	flag.IntVar(&c.bulkClients, "bulk-clients", 8, "bulk: concurrent clients of the parallel single-PUT variant")
	flag.IntVar(&c.etpSize, "etp-lessons", 100000, "etp: lessons in each of the two offices")
	flag.IntVar(&c.dbConns, "db-conns", 40, "the size of the stack's PostgreSQL pool (shared by the workers and the baseline)")
	flag.IntVar(&c.workers, "workers", 1, "limit: Livret worker instances polling the task queue (each its own slots, DSR client and limiter, one pool)")
	flag.IntVar(&c.slots, "slots", 0, "limit, overhead: each worker's activity slots (0: worker.Options' default)")
	flag.BoolVar(&c.workerProc, "worker-process", false, "scale: run the worker as its own `livret worker` process (its peak memory its own); overhead: add that variant next to the in-process one")
	flag.BoolVar(&c.prodShape, "prod-shape", false, "overhead: add the production shape (prodstack: Temporal server on PostgreSQL, the worker a `livret worker` process) next to the in-process variant")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	c.scenarios = strings.Split(scenarios, ",")
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			fatal(fmt.Errorf("-scale: %w", err))
		}
		c.scaleSizes = append(c.scaleSizes, n)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))

	ctx := context.Background()
	var results []result
	for _, sc := range c.scenarios {
		var rs []result
		var err error
		switch strings.TrimSpace(sc) {
		case "limit":
			rs, err = scenarioLimit(ctx, c)
		case "overhead":
			rs, err = scenarioOverhead(ctx, c)
		case "scale":
			rs, err = scenarioScale(ctx, c)
		case "report":
			rs, err = scenarioReport(ctx, c)
		case "bulk":
			rs, err = scenarioBulk(ctx, c)
		case "export":
			rs, err = scenarioExport(ctx, c)
		case "etp":
			rs, err = scenarioETP(ctx, c)
		default:
			err = fmt.Errorf("unknown scenario %q", sc)
		}
		if err != nil {
			pprof.StopCPUProfile()
			fatal(fmt.Errorf("%s: %w", sc, err))
		}
		for _, r := range rs {
			fmt.Fprintln(os.Stderr, r.line())
		}
		results = append(results, rs...)
	}
	if c.jsonOut {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(results)
	}
	if c.mdPath != "" {
		if err := appendMarkdown(c.mdPath, results); err != nil {
			fatal(err)
		}
	}
}

// result is one measured line.
type result struct {
	Scenario    string  `json:"scenario"`
	Variant     string  `json:"variant"`
	Lessons     int     `json:"lessons"`
	Transmitted int     `json:"transmitted"`
	Lost        int     `json:"lost"`
	Duplicates  int     `json:"duplicates_at_dsr"`
	WallS       float64 `json:"wall_s"`
	LessonsPerS float64 `json:"lessons_per_s"`
	PeakRSSMB   float64 `json:"peak_rss_mb"`
	// WorkerRSSMB is the peak resident memory of the worker process alone (-worker-process).
	WorkerRSSMB float64 `json:"worker_peak_rss_mb,omitempty"`
	// limit
	AchievedMin    float64 `json:"achieved_over_limit_min,omitempty"`
	AchievedMedian float64 `json:"achieved_over_limit_median,omitempty"`
	AchievedP10    float64 `json:"achieved_over_limit_p10,omitempty"`
	Below90        int     `json:"accounts_below_0_90,omitempty"`
	SlowestGapS    float64 `json:"slowest_account_longest_gap_s,omitempty"`
	SlowestCalls   int     `json:"slowest_account_calls,omitempty"`
	MaxWindow      float64 `json:"max_60s_window_over_limit,omitempty"`
	GapMedianS     float64 `json:"longest_gap_s_median,omitempty"`
	RateLimited    int     `json:"http_429,omitempty"`
	// orchestration cost
	HistoryPerLesson float64 `json:"history_events_per_lesson,omitempty"`
	TxPerLesson      float64 `json:"pg_transactions_per_lesson,omitempty"`
	Ratio            float64 `json:"ratio_livret_over_baseline,omitempty"`
	// report
	P50ms float64 `json:"p50_ms,omitempty"`
	P95ms float64 `json:"p95_ms,omitempty"`
	// bulk
	Items     int     `json:"items,omitempty"`
	Requests  int     `json:"requests,omitempty"`
	ItemsPerS float64 `json:"items_per_s,omitempty"`
	// export (the process's memory: the webapi serving it, the client reading it, the idle
	// Temporal server and sandbox)
	Rows         int     `json:"rows,omitempty"`
	MB           float64 `json:"mb,omitempty"`
	FirstByteMs  float64 `json:"first_byte_ms,omitempty"`
	HeapBeforeMB float64 `json:"heap_inuse_before_mb,omitempty"`
	HeapPeakMB   float64 `json:"heap_inuse_peak_mb,omitempty"`
	LiveBeforeMB float64 `json:"heap_live_before_mb,omitempty"`
	LivePeakMB   float64 `json:"heap_live_peak_mb,omitempty"`
	SysGrowthMB  float64 `json:"sys_growth_mb,omitempty"`
	AllocMB      float64 `json:"allocated_mb,omitempty"`
	RSSBeforeMB  float64 `json:"rss_before_mb,omitempty"`
}

func (r result) line() string {
	b, _ := json.Marshal(r)
	return string(b)
}

// runLivret runs every seeded office's daily run through Temporal and waits for them.
func runLivret(ctx context.Context, s *stack, sd *seeded) (time.Duration, error) {
	start := time.Now()
	orch := newOrchestrator(s)
	var ids [][2]string
	for _, o := range sd.offices {
		wid, rid, err := orch.StartRun(ctx, o.schoolID, o.office.ID)
		if err != nil {
			return 0, err
		}
		ids = append(ids, [2]string{wid, rid})
	}
	for _, id := range ids {
		var res workflows.OfficeRunResult
		if err := s.client.GetWorkflow(ctx, id[0], "").Get(ctx, &res); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// check compares the sandbox's ledger with the seed: lessons lost and lessons doubled.
func check(ctx context.Context, s *stack, sd *seeded) (transmitted, lost, doubled int, l sandbox.Ledger, err error) {
	l, err = s.control.Ledger(ctx)
	if err != nil {
		return
	}
	slots := map[string]int{}
	for _, ls := range l.Lessons {
		slots[ls.IDContrat+"@"+ls.Debut.UTC().String()]++
	}
	for _, n := range slots {
		if n > 1 {
			doubled += n - 1
		}
	}
	transmitted = len(l.Lessons)
	lost = max(0, sd.eligible-len(slots))
	return
}

// pgTx is the count of transactions committed in the stack's database so far. A session
// sends its counts to the server's statistics now and then, and surely when it ends: the
// pool's sessions are closed first (Reset: the next use opens new ones), and worker
// processes are stopped before this is called, else the last of a run's transactions are
// counted in the next measurement (they were, before 2026-12-03: BENCHMARKS.md).
func pgTx(ctx context.Context, s *stack) int64 {
	s.pool.Reset()
	time.Sleep(1500 * time.Millisecond) // the server publishes its counters with a delay
	n, _ := dbq.New(s.pool).StatTransactions(ctx)
	return n
}

func scenarioLimit(ctx context.Context, c config) ([]result, error) {
	s, err := newStack(ctx, c.adminURL, c.dbConns)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.control.SetFaults(ctx, sandbox.Faults{RateLimitPerMin: sandbox.Int(c.limitPerMin)}); err != nil {
		return nil, err
	}
	sd, err := seed(ctx, s, shape{Accounts: c.limitAccts, CentralisedEvery: 4, StudentsPerOffice: 15, LessonsPerOffice: c.limitLessons, ErrorShare: 0.1}, "1")
	if err != nil {
		return nil, err
	}
	for range max(1, c.workers) {
		if err := s.startWorker(ctx, c.limitPerMin, c.slots); err != nil {
			return nil, err
		}
	}
	resetPeakRSS()
	runStart := time.Now()
	wall, err := runLivret(ctx, s, sd)
	if err != nil {
		return nil, err
	}
	tr, lost, dup, _, err := check(ctx, s, sd)
	if err != nil {
		return nil, err
	}
	// The rates count the run's calls only: linking made one call per account (its profile)
	// while the seed went on, which would stretch each account's span by the rest of the seed.
	l, err := s.control.LedgerSince(ctx, runStart)
	if err != nil {
		return nil, err
	}
	r := rates(l, c.limitPerMin)
	return []result{{Scenario: "limit", Variant: fmt.Sprintf("%d accounts, %d/min, %d worker(s)", c.limitAccts, c.limitPerMin, max(1, c.workers)), Lessons: sd.lessons,
		Transmitted: tr, Lost: lost, Duplicates: dup, WallS: wall.Seconds(), LessonsPerS: float64(tr) / wall.Seconds(),
		PeakRSSMB: peakRSSMB(), AchievedMin: r.AchievedMin, AchievedMedian: r.AchievedMedian, MaxWindow: r.MaxWindowOverLimit, GapMedianS: r.GapMedian.Seconds(),
		AchievedP10: r.AchievedP10, Below90: r.Below90, SlowestGapS: r.SlowestGap.Seconds(), SlowestCalls: r.SlowestCalls,
		RateLimited: l.RateLimited}}, nil
}

func scenarioOverhead(ctx context.Context, c config) ([]result, error) {
	s, err := newStack(ctx, c.adminURL, c.dbConns)
	if err != nil {
		return nil, err
	}
	defer s.close()
	if err := s.control.SetFaults(ctx, sandbox.Faults{RateLimitPerMin: sandbox.Int(0)}); err != nil {
		return nil, err
	}
	sh := shape{Accounts: c.ovAccounts, StudentsPerOffice: 100, LessonsPerOffice: c.ovLessons}
	livret, err := seed(ctx, s, sh, "2")
	if err != nil {
		return nil, err
	}
	base, err := seed(ctx, s, sh, "3")
	if err != nil {
		return nil, err
	}
	var proc *seeded
	if c.workerProc {
		if proc, err = seed(ctx, s, sh, "5"); err != nil {
			return nil, err
		}
	}
	if err := s.startWorker(ctx, 0, c.slots); err != nil {
		return nil, err
	}
	// Livret first, then the baseline, on identical data in the same process.
	resetPeakRSS()
	tx0 := pgTx(ctx, s)
	wall, err := runLivret(ctx, s, livret)
	if err != nil {
		return nil, err
	}
	tx1 := pgTx(ctx, s)
	events, _, err := historyEvents(ctx, s)
	if err != nil {
		return nil, err
	}
	lr := result{Scenario: "overhead", Variant: "livret", Lessons: livret.lessons, WallS: wall.Seconds(),
		LessonsPerS: float64(livret.lessons) / wall.Seconds(), PeakRSSMB: peakRSSMB(),
		HistoryPerLesson: float64(events) / float64(livret.lessons), TxPerLesson: float64(tx1-tx0) / float64(livret.lessons)}
	l, _ := s.control.Ledger(ctx)
	lr.Transmitted = len(l.Lessons)
	out := []result{lr}

	if proc != nil {
		// The same work by a `livret worker` process: the in-process worker stops first, so
		// the process alone polls the task queue.
		s.stopWorkers()
		if err := s.startWorkerProcess(0); err != nil {
			return nil, err
		}
		pwall, err := runLivret(ctx, s, proc)
		if err != nil {
			return nil, err
		}
		rss, err := s.stopWorkerProcesses() // before counting: see overheadProdShape
		if err != nil {
			return nil, err
		}
		tx := pgTx(ctx, s)
		lp, _ := s.control.Ledger(ctx)
		out = append(out, result{Scenario: "overhead", Variant: "livret, worker process", Lessons: proc.lessons,
			Transmitted: len(lp.Lessons) - len(l.Lessons), WallS: pwall.Seconds(), LessonsPerS: float64(proc.lessons) / pwall.Seconds(),
			WorkerRSSMB: rss, TxPerLesson: float64(tx-tx1) / float64(proc.lessons)})
		l = lp
		tx1 = tx
	}

	before, _ := domain.ParseBusinessDate(domain.BusinessDate(time.Now()))
	startBase := time.Now()
	if err := baseline(ctx, s, base, 0, workflows.BatchConcurrency, before); err != nil {
		return nil, err
	}
	bwall := time.Since(startBase)
	tx2 := pgTx(ctx, s)
	l2, _ := s.control.Ledger(ctx)
	br := result{Scenario: "overhead", Variant: "baseline (no Temporal)", Lessons: base.lessons, Transmitted: len(l2.Lessons) - len(l.Lessons),
		WallS: bwall.Seconds(), LessonsPerS: float64(base.lessons) / bwall.Seconds(), TxPerLesson: float64(tx2-tx1) / float64(base.lessons)}
	if c.prodShape {
		pr, err := overheadProdShape(ctx, c, sh)
		if err != nil {
			return nil, fmt.Errorf("production shape: %w", err)
		}
		out = append(out, pr)
	}
	for i := range out {
		out[i].Ratio = out[i].LessonsPerS / br.LessonsPerS
	}
	return append(out, br), nil
}

// overheadProdShape is the overhead scenario's Livret side on the production shape: the
// same seed on a prodstack (Temporal on PostgreSQL, four history shards, the worker a
// process), after the baseline has run, so that nothing else competes for the machine.
func overheadProdShape(ctx context.Context, c config, sh shape) (result, error) {
	s, err := newProdStack(ctx, c.adminURL, c.dbConns)
	if err != nil {
		return result{}, err
	}
	defer s.close()
	if err := s.control.SetFaults(ctx, sandbox.Faults{RateLimitPerMin: sandbox.Int(0)}); err != nil {
		return result{}, err
	}
	sd, err := seed(ctx, s, sh, "6")
	if err != nil {
		return result{}, err
	}
	if err := s.startProdWorker(); err != nil {
		return result{}, err
	}
	tx0 := pgTx(ctx, s)
	wall, err := runLivret(ctx, s, sd)
	if err != nil {
		return result{}, err
	}
	// The worker's sessions end with it, and a session's last counts reach the server's
	// statistics when it ends: stop it before counting transactions.
	if err := s.stopProdWorker(); err != nil {
		return result{}, err
	}
	tx1 := pgTx(ctx, s)
	events, _, err := historyEvents(ctx, s)
	if err != nil {
		return result{}, err
	}
	transmitted, lost, doubled, _, err := check(ctx, s, sd)
	if err != nil {
		return result{}, err
	}
	if lost > 0 || doubled > 0 {
		return result{}, fmt.Errorf("%d lessons lost, %d doubled", lost, doubled)
	}
	return result{Scenario: "overhead", Variant: "livret, production shape (Temporal on PostgreSQL, worker process)", Lessons: sd.lessons,
		Transmitted: transmitted, WallS: wall.Seconds(), LessonsPerS: float64(sd.lessons) / wall.Seconds(),
		HistoryPerLesson: float64(events) / float64(sd.lessons), TxPerLesson: float64(tx1-tx0) / float64(sd.lessons)}, nil
}

func scenarioScale(ctx context.Context, c config) ([]result, error) {
	var out []result
	for _, n := range c.scaleSizes {
		s, err := newStack(ctx, c.adminURL, c.dbConns)
		if err != nil {
			return nil, err
		}
		if err := s.control.SetFaults(ctx, sandbox.Faults{RateLimitPerMin: sandbox.Int(0)}); err != nil {
			s.close()
			return nil, err
		}
		accounts := 10
		sd, err := seed(ctx, s, shape{Accounts: accounts, StudentsPerOffice: max(1, n/accounts/10), LessonsPerOffice: n / accounts}, "4")
		if err != nil {
			s.close()
			return nil, err
		}
		variant := fmt.Sprintf("%d lessons", sd.lessons)
		if c.workerProc {
			err = s.startWorkerProcess(0)
			variant += ", worker process"
		} else {
			err = s.startWorker(ctx, 0, c.slots)
		}
		if err != nil {
			s.close()
			return nil, err
		}
		runtime.GC()
		resetPeakRSS()
		wall, err := runLivret(ctx, s, sd)
		if err != nil {
			s.close()
			return nil, err
		}
		var workerRSS float64
		if c.workerProc {
			if workerRSS, err = s.stopWorkerProcesses(); err != nil {
				s.close()
				return nil, err
			}
		}
		tr, lost, dup, _, err := check(ctx, s, sd)
		events, _, _ := historyEvents(ctx, s)
		out = append(out, result{Scenario: "scale", Variant: variant, Lessons: sd.lessons, Transmitted: tr,
			Lost: lost, Duplicates: dup, WallS: wall.Seconds(), LessonsPerS: float64(tr) / wall.Seconds(), PeakRSSMB: peakRSSMB(),
			WorkerRSSMB: workerRSS, HistoryPerLesson: float64(events) / float64(sd.lessons)})
		s.close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func appendMarkdown(path string, rs []result) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	mem := "?"
	if out, err := exec.Command("free", "-g").Output(); err == nil {
		if fields := strings.Fields(strings.Split(string(out), "\n")[1]); len(fields) > 1 {
			mem = fields[1] + " GiB"
		}
	}
	fmt.Fprintf(f, "\n## %s — %d cores (nproc), %s memory\n\n", time.Now().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), mem)
	fmt.Fprintf(f, "Command: `go run ./bench %s`\n\n", strings.Join(os.Args[1:], " "))
	var runs, bulk, export []result
	for _, r := range rs {
		switch r.Scenario {
		case "bulk":
			bulk = append(bulk, r)
		case "export":
			export = append(export, r)
		default:
			runs = append(runs, r)
		}
	}
	// A blank line between two tables; none after the last (the file's sections end there).
	tables := 0
	table := func() {
		if tables++; tables > 1 {
			fmt.Fprintln(f)
		}
	}
	if len(runs) > 0 {
		table()
		fmt.Fprintln(f, "| scenario | variant | lessons | at DSR | lost | doubled | wall s | lessons/s | peak RSS MB | worker RSS MB | achieved/limit min | median | max 60 s window/limit | 429s | history events/lesson | PG tx/lesson | Livret/baseline | p50 ms | p95 ms |")
		fmt.Fprintln(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, r := range runs {
			fmt.Fprintf(f, "| %s | %s | %d | %d | %d | %d | %.1f | %.0f | %.0f | %s | %s | %s | %s | %d | %s | %s | %s | %s | %s |\n",
				r.Scenario, r.Variant, r.Lessons, r.Transmitted, r.Lost, r.Duplicates, r.WallS, r.LessonsPerS, r.PeakRSSMB, opt(r.WorkerRSSMB, "%.0f"),
				opt(r.AchievedMin, "%.2f"), opt(r.AchievedMedian, "%.2f"), opt(r.MaxWindow, "%.2f"), r.RateLimited,
				opt(r.HistoryPerLesson, "%.2f"), opt(r.TxPerLesson, "%.1f"), opt(r.Ratio, "%.2f"), opt(r.P50ms, "%.1f"), opt(r.P95ms, "%.1f"))
		}
	}
	if len(bulk) > 0 {
		table()
		fmt.Fprintln(f, "| bulk sync | items | requests | wall s | items/s | items/s over single PUTs (1 client) |")
		fmt.Fprintln(f, "|---|---|---|---|---|---|")
		for _, r := range bulk {
			fmt.Fprintf(f, "| %s | %d | %d | %.1f | %.0f | %.2f |\n", r.Variant, r.Items, r.Requests, r.WallS, r.ItemsPerS, r.Ratio)
		}
	}
	if len(export) > 0 {
		table()
		fmt.Fprintln(f, "| CSV export | rows | MB | first byte ms | wall s | rows/s | live heap before MB | live heap peak MB | heap in use before MB | heap in use peak MB | Sys growth MB | allocated MB | RSS before MB | peak RSS MB | BOM and French headers |")
		fmt.Fprintln(f, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, r := range export {
			fmt.Fprintf(f, "| %s | %d | %.1f | %.1f | %.2f | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f | %.0f | intact |\n", r.Variant, r.Rows, r.MB, r.FirstByteMs,
				r.WallS, r.LessonsPerS, r.LiveBeforeMB, r.LivePeakMB, r.HeapBeforeMB, r.HeapPeakMB, r.SysGrowthMB, r.AllocMB, r.RSSBeforeMB, r.PeakRSSMB)
		}
	}
	return nil
}

func opt(v float64, format string) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
