// Package drills breaks Livret on purpose while it runs, with its workers as separate
// `livret worker` processes, and checks the DSR's ledger against Postgres lesson by lesson:
// nothing lost, nothing doubled, each lesson of its mixed workload (two schools, scopes
// guide and etendu; B, A2 and C trainings; collective theory sessions) declared as its DSR
// type on its student's contract of its category.
//
//	go test ./drills -run 'TestDrill/worker-kill' -v                  # one drill, CI size
//	LIVRET_DRILL_LESSONS=3000 LIVRET_DRILLS=all go test ./drills -v -timeout 30m
//
// The drills: worker-kill, lost-answers, dsr-outage, token-churn, postgres-restart,
// temporal-restart and webhooks (RELIABILITY.md says what each breaks), and on the
// production shape (prodstack: the Temporal server built from the server module on
// PostgreSQL, the sandbox, migrate, the API and the workers each a process of their own)
// prod-happy-path, prod-rolling-restart and prod-temporal-restart. CI runs worker-kill,
// lost-answers, webhooks and prod-rolling-restart at a small size; the others run with
// LIVRET_DRILLS=all.
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
	"livret/prodstack"
	"livret/sandbox"
	"livret/worker/workertest"
	"livret/workflows"
)

var (
	livretBinary string
	// binaries are the production stack's programs (prodstack.Build): the -tags nodev
	// livret, livret-temporal-setup and the Temporal server.
	binaries prodstack.Binaries
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "livret-drills")
	if err != nil {
		panic(err)
	}
	// The production binary (-tags nodev: without the embedded Temporal server), as deployed,
	// and the production stack's other two programs.
	binaries, err = prodstack.Build(context.Background(), "..", dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "drills: cannot build the programs:", err)
		os.Exit(1)
	}
	livretBinary = binaries.Livret
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
	// The lessons the DSR holds once but not as they were seeded: declared with another DSR
	// type than the sending table's (WrongType), on a contract of another category, student or
	// school (WrongContract), or at another start, end or instructor (WrongDetails).
	WrongType     int `json:"wrong_type"`
	WrongContract int `json:"wrong_contract"`
	WrongDetails  int `json:"wrong_details"`
	// Mix is the workload: lessons per scope, contract category and DSR type; Sessions the
	// collective theory sessions among them.
	Mix      map[string]int `json:"mix"`
	Sessions int            `json:"theory_sessions"`
	// Webhooks is the webhooks drill's (webhooks_test.go).
	Webhooks *webhookReport `json:"webhooks,omitempty"`
	// Restarts are the processes the production-shaped drills stopped with SIGTERM.
	Restarts []restartReport `json:"restarts,omitempty"`
}

// restartReport is one graceful stop of a production stack's process and its start again.
type restartReport struct {
	Process string `json:"process"`
	// AtDSR is how many lessons the DSR held at the SIGTERM.
	AtDSR int `json:"at_dsr_at_sigterm"`
	// StopS is the time from SIGTERM to the process's exit (0 status: a clean stop).
	StopS float64 `json:"stop_s"`
	// StartS is the time from the start to the process ready again.
	StartS float64 `json:"start_s"`
}

// failed says what is wrong with the run, "" when nothing is.
func (r report) failed() string {
	if r.Webhooks != nil {
		if msg := r.Webhooks.failed(); msg != "" {
			return msg
		}
	}
	if r.Lost == 0 && r.Duplicates == 0 && r.WrongType == 0 && r.WrongContract == 0 && r.WrongDetails == 0 {
		return ""
	}
	return fmt.Sprintf("%d lost, %d duplicates, %d of another DSR type, %d on a wrong contract, %d with other details",
		r.Lost, r.Duplicates, r.WrongType, r.WrongContract, r.WrongDetails)
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
		{"webhooks", true, webhookOptions, webhookDrill, false},
		// The production shape (prodstack): every part its own process, Temporal on PostgreSQL.
		{"prod-happy-path", false, prodStack, prodHappyPath, false},
		{"prod-rolling-restart", true, pacedProdStack, rollingRestart, false},
		{"prod-temporal-restart", false, pacedProdStack, prodTemporalRestart, true},
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
			r.Webhooks = d.hooks
			r.Restarts = d.restarts
			r.TotalS = time.Since(started).Seconds()
			r.RecoverS = time.Since(recovered).Seconds()
			b, _ := json.Marshal(r)
			t.Logf("DRILL %s", b)
			if msg := r.failed(); msg != "" {
				t.Fatalf("%s: %s", dr.name, msg)
			}
			if dr.felt && r.WorkerWarnings == 0 {
				t.Fatalf("%s: the workers logged no trouble: the drill broke nothing", dr.name)
			}
			if d.prod != nil {
				if err := d.prod.Check(); err != nil {
					t.Fatalf("%s: %v", dr.name, err)
				}
			}
		})
	}
}

// drill is one stack with many lessons over several schools and offices, and its worker
// processes.
type drill struct {
	name string
	s    *workertest.Stack
	// schools: the guide school first (the one TestSecretsAfterARun reads through the API),
	// then the etendu one.
	schools  []dbq.School
	offices  []dbq.Office // each knows its school (SchoolID)
	accounts int          // RdvPermis accounts linked
	lessons  []seeded
	sessions int // collective theory sessions among the lessons
	workers  []*exec.Cmd
	runs     []string
	logDir   string // the workers' logs
	// rateLimit is the workers' per-account limit, calls per minute (0: none).
	rateLimit int

	hooks    *webhookReport          // the webhooks drill's findings
	pg       *devstack.Postgres      // postgres-restart's own cluster
	temporal *devstack.Temporal      // temporal-restart's own server
	tcfg     devstack.TemporalConfig // how to start it again
	// prod is the production-shaped stack of the prod-* drills: its workers are its processes.
	prod     *prodstack.Stack
	restarts []restartReport
}

// seeded is one lesson of the workload and what the DSR must hold for it: every seeded
// lesson is one the sending table sends in its school's scope.
type seeded struct {
	dbq.Lesson
	school   dbq.School
	neph     string
	category string // the category of its contract at the DSR (B, A2, C)
	dsrType  string // the type it must be declared as (CONDUITE, PLATEAU, THEORIE…)
	auth     string // its instructor's authorisation number
}

// The drill's two schools: one sends the vendor guide's lessons only, the other the whole
// sending table (docs/rules.md, "Scope").
const (
	guideAgrement  = "E0000000077"
	etenduAgrement = "E0000000412"
)

// start starts the stack and creates the schools.
func (d *drill) start(t *testing.T, opts workertest.Options) {
	s := workertest.NewStack(t, opts)
	d.s = s
	d.schools = []dbq.School{s.SchoolInScope("Auto-école Exercice", guideAgrement, domain.ScopeGuide),
		s.SchoolInScope("Moto-école Étendue", etenduAgrement, domain.ScopeEtendu)}
	if d.logDir == "" {
		d.logDir = t.TempDir()
	}
	s.Must(s.Sandbox.SetFaults(context.Background(), sandbox.Faults{RateLimitPerMin: sandbox.Int(0), LatencyMS: 10}), "faults")
}

// calendar books one-hour slots, 08:00 to 18:00 Monday to Saturday from 1 September 2025,
// so that no instructor gives two lessons at once and no student has two lessons a day (so
// never two at one start, on any of their contracts).
type calendar struct {
	instructor map[int64]map[int]bool // instructor → slots taken
	student    map[int64]map[int]bool // student → days taken
}

const slotsPerDay = 10

func newCalendar() *calendar {
	return &calendar{instructor: map[int64]map[int]bool{}, student: map[int64]map[int]bool{}}
}

// book takes the first slot the instructor and every student are free at, and returns its start.
func (c *calendar) book(in int64, students ...int64) time.Time {
	if c.instructor[in] == nil {
		c.instructor[in] = map[int]bool{}
	}
	for _, st := range students {
		if c.student[st] == nil {
			c.student[st] = map[int]bool{}
		}
	}
next:
	for slot := 0; ; slot++ {
		day := slot / slotsPerDay
		if c.instructor[in][slot] {
			continue
		}
		for _, st := range students {
			if c.student[st][day] {
				continue next
			}
		}
		c.instructor[in][slot] = true
		for _, st := range students {
			c.student[st][day] = true
		}
		week, wd := day/6, day%6 // 2025-09-01 is a Monday
		return workertest.Paris(2025, 9, 1+7*week+wd, 8+slot%slotsPerDay, 0)
	}
}

// seed creates, in n lessons in all, a mixed workload over six offices (two of them
// centralised on one account), all of whose lessons must reach the DSR:
//
//   - the guide school (offices B0–B3): B students, ten conduite lessons each;
//   - the etendu school (offices M0, M1), its students in turn: a B and an A2 training
//     (three conduite on B, three plateau and two circulation on A2, and a collective code
//     session on each training), a C training (five conduite, five plateau), a B and an A2
//     training again, a B training (nine conduite and a code session). The code sessions are
//     given by a real instructor to four students of the office at one start, one lesson
//     each on their own contract, under one session_ref.
//
// Instructors never give two lessons at once; students have one lesson a day at most.
func (d *drill) seed(t *testing.T, n int) {
	s := d.s
	guide, etendu := d.schools[0], d.schools[1]
	number := 0
	instructor := func(school dbq.School, first string) dbq.Instructor {
		number++
		return s.Instructor(school, fmt.Sprintf("I%d", number), first, fmt.Sprintf("Moniteur%d", number), fmt.Sprintf("A%010d", 1234500000+number), false)
	}
	guideB := []dbq.Instructor{instructor(guide, "Jean"), instructor(guide, "Luc"), instructor(guide, "Anne"), instructor(guide, "Paul")}
	etenduB := []dbq.Instructor{instructor(etendu, "Marc"), instructor(etendu, "Sophie")}
	moto := []dbq.Instructor{instructor(etendu, "Karim"), instructor(etendu, "Léa")}
	heavy := []dbq.Instructor{instructor(etendu, "Bruno"), instructor(etendu, "Nadia")}
	theory := instructor(etendu, "Claire")
	auth := map[int64]string{}
	for _, in := range append(append(append(append(guideB, etenduB...), moto...), heavy...), theory) {
		auth[in.ID] = in.AuthorizationNumber
	}

	// Offices: B0 and B1 share one account, B2, B3, M0 and M1 have their own.
	shared := workertest.NewBrowser()
	s.Account(guide, "central@exercice.fr", "pw")
	d.accounts = 1
	for o, spec := range []struct {
		school   dbq.School
		ref      string
		email    string
		centrale bool
	}{{guide, "B0", "central@exercice.fr", true}, {guide, "B1", "central@exercice.fr", true},
		{guide, "B2", "b2@exercice.fr", false}, {guide, "B3", "b3@exercice.fr", false},
		{etendu, "M0", "m0@etendue.fr", false}, {etendu, "M1", "m1@etendue.fr", false}} {
		office := s.Office(spec.school, spec.ref, fmt.Sprintf("Bureau %d", o))
		d.offices = append(d.offices, office)
		if spec.centrale {
			s.Link(shared, spec.school, office, spec.email, "pw")
		} else {
			s.Account(spec.school, spec.email, "pw")
			d.accounts++
			s.Link(workertest.NewBrowser(), spec.school, office, spec.email, "pw")
		}
	}
	schoolOf := map[int64]dbq.School{guide.ID: guide, etendu.ID: etendu}

	cal := newCalendar()
	neph := map[int64]string{}
	// lesson seeds one lesson, unless n are seeded already; it must be sent as dsrType on a
	// contract of category dsrCat.
	lesson := func(office dbq.Office, st dbq.Student, category, session string, in dbq.Instructor, ref string, typ domain.LessonType,
		start time.Time, dsrCat, dsrType string) {
		if len(d.lessons) >= n {
			return
		}
		school := schoolOf[office.SchoolID]
		l, v := s.LessonOn(school, office, st, category, session, in, ref, typ, start, start.Add(time.Hour))
		if !v.Pending() {
			t.Fatalf("seed: lesson %s (%s, %s on %s) would not be sent: %+v", ref, school.Scope, typ, category, v)
		}
		d.lessons = append(d.lessons, seeded{Lesson: l, school: school, neph: neph[st.ID], category: dsrCat, dsrType: dsrType, auth: auth[in.ID]})
	}
	individual := func(office dbq.Office, st dbq.Student, category string, in dbq.Instructor, typ domain.LessonType, count int, dsrCat, dsrType string) {
		for k := 0; k < count; k++ {
			lesson(office, st, category, "", in, fmt.Sprintf("%s-%s-%s-%d", st.Ref, category, typ, k), typ, cal.book(in.ID, st.ID), dsrCat, dsrType)
		}
	}
	// Code sessions fill per office and training category, four students each.
	type attendee struct {
		st       dbq.Student
		category string
	}
	const perSession = 4
	waiting := map[string][]attendee{}
	attend := func(office dbq.Office, st dbq.Student, category string) {
		key := office.Ref + "/" + category
		waiting[key] = append(waiting[key], attendee{st, category})
		if len(waiting[key]) < perSession || len(d.lessons) >= n {
			return
		}
		group := waiting[key]
		waiting[key] = nil
		ids := make([]int64, len(group))
		for i, a := range group {
			ids[i] = a.st.ID
		}
		d.sessions++
		ref := fmt.Sprintf("CODE-%s-%d", office.Ref, d.sessions)
		start := cal.book(theory.ID, ids...)
		for _, a := range group {
			lesson(office, a.st, a.category, ref, theory, ref+"-"+a.st.Ref, domain.TypeCode, start, domain.Category(a.category).DSRCode(), "THEORIE")
		}
	}

	perOffice := map[int64]int{}
	for i := 0; len(d.lessons) < n; i++ {
		office := d.offices[i%len(d.offices)]
		k := perOffice[office.ID]
		perOffice[office.ID]++
		spec := workertest.StudentSpec{Ref: fmt.Sprintf("S%d", i), First: "Élève", Last: fmt.Sprintf("N%d", i),
			NEPH: fmt.Sprintf("%012d", 7000+i), Category: "B", EvaluationAccepted: true, KnownToANTS: true}
		school := schoolOf[office.SchoolID]
		profile := "B"
		if school.ID == etendu.ID {
			profile = []string{"B+A2", "C", "B+A2", "B"}[k%4]
		}
		switch profile {
		case "B+A2":
			spec.More = []workertest.TrainingSpec{{Category: "A2", EvaluationAccepted: true}}
		case "C":
			spec.Category = "C"
		}
		st := s.Student(school, office, spec)
		neph[st.ID] = spec.NEPH
		switch {
		case school.ID == guide.ID:
			individual(office, st, "B", guideB[k%len(guideB)], domain.TypeConduite, 10, "B", "CONDUITE")
		case profile == "B+A2":
			individual(office, st, "B", etenduB[k%len(etenduB)], domain.TypeConduite, 3, "B", "CONDUITE")
			individual(office, st, "A2", moto[k%len(moto)], domain.TypePlateau, 3, "A2", "PLATEAU")
			individual(office, st, "A2", moto[k%len(moto)], domain.TypeCirculation, 2, "A2", "CIRCULATION")
			attend(office, st, "A2")
			attend(office, st, "B")
		case profile == "C":
			individual(office, st, "C", heavy[k%len(heavy)], domain.TypeConduite, 5, "C", "CONDUITE")
			individual(office, st, "C", heavy[k%len(heavy)], domain.TypePlateau, 5, "C", "PLATEAU")
		default:
			individual(office, st, "B", etenduB[k%len(etenduB)], domain.TypeConduite, 9, "B", "CONDUITE")
			attend(office, st, "B")
		}
	}
}

// startWorker starts one `livret worker` process (number i+1 of a production stack).
func (d *drill) startWorker(t *testing.T, i int) {
	if d.prod != nil {
		if err := d.prod.Start(prodstack.Worker(i + 1)); err != nil {
			t.Fatal(err)
		}
		return
	}
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
	if d.prod != nil {
		_ = d.prod.Signal(prodstack.Worker(i+1), syscall.SIGKILL)
		_ = d.prod.Wait(prodstack.Worker(i+1), time.Minute)
		return
	}
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
		wid, _, err := d.s.Orchestrator.StartRun(context.Background(), o.SchoolID, o.ID)
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

// check compares the ledger with Postgres lesson by lesson: each lesson held once, by its DSR
// id, as the type the sending table gives it, on its student's contract of its category at
// its school, at its start and end and under its instructor's number.
func (d *drill) check(t *testing.T) report {
	ledger := d.s.Ledger()
	held := map[string]int{}
	byID := map[string]sandbox.LedgerLesson{}
	slots := map[string]int{}
	for _, l := range ledger.Lessons {
		held[l.IDLecon]++
		byID[l.IDLecon] = l
		slots[l.IDContrat+"@"+l.Debut.UTC().Format(time.RFC3339)]++
	}
	contracts := map[string]sandbox.LedgerContract{}
	for _, c := range ledger.Contracts {
		contracts[c.IDContrat] = c
	}
	r := report{Drill: d.name, Expected: len(d.lessons), AtDSR: len(ledger.Lessons), Calls: ledger.Calls, Refused: ledger.DuplicatesRefused,
		Refreshes: ledger.Refreshes, Mix: map[string]int{}, Sessions: d.sessions}
	for _, n := range slots {
		r.Duplicates += n - 1
	}
	logs, _ := filepath.Glob(filepath.Join(d.logDir, "worker-*.log"))
	for _, name := range logs {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if !bytes.Contains(line, []byte(`"level":"WARN"`)) && !bytes.Contains(line, []byte(`"level":"ERROR"`)) {
				continue
			}
			// The first few, so that a report's count can be read (the logs carry no secret).
			if r.WorkerWarnings++; r.WorkerWarnings <= 3 {
				t.Logf("%s: %.400s", filepath.Base(name), line)
			}
		}
	}
	shown := 0
	wrong := func(counter *int, format string, args ...any) {
		*counter++
		if shown++; shown <= 10 {
			t.Logf("wrong at the DSR: "+format, args...)
		}
	}
	for _, l := range d.lessons {
		r.Mix[fmt.Sprintf("%s %s %s", l.school.Scope, l.category, l.dsrType)]++
		tr := d.s.Transmission(l.SchoolID, l.ID)
		if tr.Status != string(domain.StatusTransmitted) || tr.DsrLessonID == nil || held[*tr.DsrLessonID] != 1 {
			r.Lost++
			continue
		}
		at := byID[*tr.DsrLessonID]
		if at.Type != l.dsrType {
			wrong(&r.WrongType, "lesson %s (%s) declared %s, not %s", l.Ref, l.Type, at.Type, l.dsrType)
		}
		if c, ok := contracts[at.IDContrat]; !ok || c.Categorie != l.category || c.NEPH != l.neph || c.Agrement != l.school.Agrement {
			wrong(&r.WrongContract, "lesson %s (%s %s of %s) is on contract %+v", l.Ref, l.category, l.Type, l.neph, c)
		}
		if !at.Debut.Equal(l.StartsAt) || !at.Fin.Equal(l.EndsAt) || at.NumeroAutorisationFormateur != l.auth {
			wrong(&r.WrongDetails, "lesson %s (%s–%s by %s) held as %s–%s by %s", l.Ref, l.StartsAt, l.EndsAt, l.auth,
				at.Debut, at.Fin, at.NumeroAutorisationFormateur)
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
	if err != nil || len(accounts) != d.accounts {
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
