//go:build !nodev

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"livret/db/dbtest"
	"livret/devstack"
	"livret/livretclient"
	"livret/mailer/mailpit"
	"livret/sandbox"
)

// TestDevStack drives `livret dev --demo` as a newcomer and an operator would, as a
// subprocess of a freshly built binary: ready, the Temporal UI listing the runs, the demo's
// report and failed run, the vendor guide's scenario through the API (link at the sandbox's
// login page, ingest, run, report); then Ctrl-C, a second start on the same data folder, and
// the Temporal history and the data still there.
func TestDevStack(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the whole stack")
	}
	bin := buildLivret(t)
	addrs := freeAddrs(t, 7)
	d := &devProcess{
		t:    t,
		bin:  bin,
		data: filepath.Join(t.TempDir(), "data"),
		env: []string{
			"DATABASE_URL=" + dbtest.NewURL(t),
			"LIVRET_HTTP_ADDR=" + addrs[0],
			"LIVRET_SANDBOX_ADDR=" + addrs[1],
			"TEMPORAL_ADDRESS=" + addrs[2],
			"LIVRET_TEMPORAL_HTTP_ADDR=" + addrs[3],
			"LIVRET_TEMPORAL_UI_ADDR=" + addrs[4],
			"LIVRET_MAILPIT_ADDR=" + addrs[5],
			"LIVRET_MAILPIT_SMTP_ADDR=" + addrs[6],
		},
	}
	api := "http://" + addrs[0]
	uiURL := "http://" + addrs[4]

	// First start, with the demo.
	d.start("--demo")
	d.waitReady(api)
	if resp, err := http.Get(uiURL + "/"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("Temporal UI on %s: %v %v", uiURL, resp, err)
	}
	demo := d.waitDemo()
	adminToken := d.readSecret("admin-token")
	tokenKey := d.readSecret("token-key")
	if !strings.Contains(d.stdout(), adminToken) || !strings.Contains(d.stdout(), devstack.Accounts[0].Password) {
		t.Errorf("the banner does not print the operator token and the RdvPermis logins:\n%s", d.stdout())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	checkDemo(ctx, t, livretclient.New(api, demo.APIKey))

	tc, err := client.Dial(client.Options{HostPort: addrs[2], Namespace: "default", Logger: quietSDKLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(ctx, t, tc, demo.FailedWorkflow, demo.FailedRunID, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)
	// The UI lists the runs (its own HTTP API, which its pages call).
	listed := getJSON[struct {
		Executions []struct {
			Execution struct {
				WorkflowID string `json:"workflowId"`
			} `json:"execution"`
			Status string `json:"status"`
		} `json:"executions"`
	}](t, uiURL+"/api/v1/namespaces/default/workflows")
	var failedListed bool
	for _, e := range listed.Executions {
		failedListed = failedListed || (e.Execution.WorkflowID == demo.FailedWorkflow && e.Status == "WORKFLOW_EXECUTION_STATUS_FAILED")
	}
	if !failedListed {
		t.Errorf("the Temporal UI does not list the demo's failed run: %+v", listed)
	}
	// The school sees the failed run too, and the summary says so.
	failed := waitRun(ctx, t, livretclient.New(api, demo.APIKey), "sud", demo.FailedRunID)
	if failed.Outcome != livretclient.OutcomeFailed || failed.Failure == nil || !strings.Contains(d.stdout(), *failed.Failure) {
		t.Errorf("the demo's failed run shows as %+v in Livret; the summary:\n%s", failed, d.stdout())
	}

	// The vendor guide's scenario, through the API, on a school of its own.
	const agrement = "E0203100010"
	ctl := sandbox.NewControl("http://"+addrs[1], "")
	if _, err := ctl.AddAccount(ctx, sandbox.Account{Email: "gerant@lauriane.fr", Password: "mot-de-passe", Agrement: agrement, SchoolName: "Auto-école Lauriane"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []sandbox.Student{
		{Nom: "PERRIN", Prenom: "Mélanie", NEPH: "123456789012", Categories: []string{"B"}},
		{Nom: "MICHEL", Prenom: "Lou", NEPH: "210987654321", Categories: []string{"B"}},
	} {
		if err := ctl.AddStudent(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	school, err := livretclient.New(api, adminToken).CreateSchool(ctx, livretclient.SchoolInput{Name: "Auto-école Lauriane", Agrement: agrement})
	must(t, err)
	sc := livretclient.New(api, school.APIKey)
	_, err = sc.PutOffice(ctx, "lauriane", livretclient.OfficeInput{Name: "AE LAURIANE"})
	must(t, err)
	must(t, devstack.LinkOffice(ctx, sc, sandbox.NewBrowser(), "lauriane", false, "gerant@lauriane.fr", "mot-de-passe"))
	for ref, in := range map[string]livretclient.InstructorInput{
		"jean": {FirstName: "Jean", LastName: "Dupont", AuthorizationNumber: "A 12.345.678.90"},
		"paul": {FirstName: "Paul", LastName: "Martin", AuthorizationNumber: "A12345"},
		"simu": {FirstName: "", LastName: "Simulateur", AuthorizationNumber: "A0000000000", Simulator: true},
	} {
		_, err := sc.PutInstructor(ctx, ref, in)
		must(t, err)
	}
	for ref, in := range map[string]livretclient.StudentInput{
		"melanie": {OfficeRef: "lauriane", FirstName: "Mélanie", LastName: "Perrin", NEPH: "1234 5678 9012", Category: "B_AUTO", InitialEvaluationAccepted: true},
		"lou":     {OfficeRef: "lauriane", FirstName: "Lou", LastName: "Michel", NEPH: "210987654321", Category: "B", InitialEvaluationAccepted: true},
	} {
		_, err := sc.PutStudent(ctx, ref, in)
		must(t, err)
	}
	paris := time.FixedZone("CET", 3600) // 9 December 2021, winter time in Paris
	at := func(hm string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", "2021-12-09 "+hm, paris)
		must(t, err)
		return tm
	}
	for ref, l := range map[string][4]string{
		"l-1000": {"melanie", "jean", "conduite", "10:00/11:00"},
		"l-1300": {"melanie", "simu", "simulateur", "13:00/13:25"},
		"l-1500": {"melanie", "jean", "conduite_boite_auto", "15:00/16:00"},
		"l-lou":  {"lou", "paul", "conduite", "13:00/14:00"},
	} {
		start, end, _ := strings.Cut(l[3], "/")
		_, err := sc.PutLesson(ctx, ref, livretclient.LessonInput{OfficeRef: "lauriane", StudentRef: l[0], InstructorRef: l[1],
			Type: l[2], Start: at(start), End: at(end)})
		must(t, err)
	}
	started, err := sc.StartRun(ctx, "lauriane")
	must(t, err)
	wid, rid := started.WorkflowID, started.RunID
	run := waitRun(ctx, t, sc, "lauriane", rid)
	if run.Transmitted != 2 || run.Outcome != "completed" {
		t.Errorf("run: %+v, want 2 transmitted, completed", run)
	}
	checkSeedReport(ctx, t, sc)

	// The daily digest of the school's refusals reaches the stack's mail catcher, whose web
	// UI the banner prints.
	if !strings.Contains(d.stdout(), "Mails           http://"+addrs[5]) {
		t.Errorf("the banner does not print the mail catcher's address:\n%s", d.stdout())
	}
	alerts := []string{"gerant@lauriane.fr"}
	_, err = sc.ChangeSettings(ctx, livretclient.SettingsInput{AlertEmails: &alerts})
	must(t, err)
	digest, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "dev-test-digest", TaskQueue: "livret"}, "DailyDigest",
		map[string]string{"Day": "2021-12-10"})
	must(t, err)
	must(t, digest.Get(ctx, nil))
	mails, err := (&mailpit.Client{BaseURL: "http://" + addrs[5]}).Messages(ctx)
	must(t, err)
	if len(mails) != 1 || len(mails[0].To) != 1 || mails[0].To[0].Address != "gerant@lauriane.fr" ||
		!strings.Contains(mails[0].Subject, "2 leçons en erreur à corriger") {
		t.Errorf("mails at the stack's mailpit: %+v", mails)
	}

	ledger, err := ctl.Ledger(ctx)
	must(t, err)
	if n := lessonsOf(ledger, agrement); n != 2 {
		t.Errorf("the sandbox holds %d lessons of the school, want 2", n)
	}

	// Ctrl-C, then a second start on the same data folder.
	tc.Close()
	d.interrupt()
	d.start("--demo") // the demo is there already: it is only printed again
	d.waitReady(api)
	tc, err = client.Dial(client.Options{HostPort: addrs[2], Namespace: "default", Logger: quietSDKLogger{}})
	must(t, err)
	defer tc.Close()
	wantStatus(ctx, t, tc, wid, rid, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED)
	wantStatus(ctx, t, tc, demo.FailedWorkflow, demo.FailedRunID, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED)
	if again := waitRun(ctx, t, sc, "lauriane", rid); !sameRun(again, run) {
		t.Errorf("the run's record changed across the restart: %+v, then %+v", run, again)
	}
	checkSeedReport(ctx, t, sc)
	d.waitOutput("Demo school already seeded")
	if again := d.readSecret("token-key"); again != tokenKey {
		t.Error("the second start generated another token key")
	}
	d.interrupt()
}

// checkSeedReport: the vendor guide's report of 9 December 2021 (docs/rules.md, "The report").
func checkSeedReport(ctx context.Context, t *testing.T, api *livretclient.Client) {
	t.Helper()
	page, err := api.Lessons(ctx, livretclient.LessonQuery{Office: "lauriane", PerPage: 100})
	must(t, err)
	want := map[string]struct{ status, code, message string }{
		"l-1000": {"transmitted", "", ""},
		"l-1500": {"transmitted", "", ""},
		"l-1300": {"error", "DUREE_INVALIDE", "La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min."},
		"l-lou":  {"error", "FORMAT_AUTORISATION_INVALIDE", "Le format du numéro d'autorisation du formateur n'est pas valide."},
	}
	if len(page.Items) != len(want) {
		t.Errorf("%d lessons in the report, want %d", len(page.Items), len(want))
	}
	for _, l := range page.Items {
		w, tr := want[l.Ref], l.Transmission
		if tr.Status != w.status || tr.CodeOr() != w.code || (w.message != "" && tr.MessageOr() != w.message) {
			t.Errorf("lesson %s: %s %s %q, want %s %s %q", l.Ref, tr.Status, tr.CodeOr(), tr.MessageOr(), w.status, w.code, w.message)
		}
		if w.status == "transmitted" && tr.DSRLessonID == nil {
			t.Errorf("lesson %s transmitted without the DSR's id", l.Ref)
		}
	}
}

// checkDemo: the demo's first screen is a populated report with every refusal.
func checkDemo(ctx context.Context, t *testing.T, api *livretclient.Client) {
	t.Helper()
	total := func(status string) int {
		page, err := api.Lessons(ctx, livretclient.LessonQuery{Status: status, PerPage: 1})
		must(t, err)
		return page.Total
	}
	page, err := api.Lessons(ctx, livretclient.LessonQuery{Status: livretclient.StatusError, PerPage: 100})
	must(t, err)
	codes := map[string]int{}
	for _, l := range page.Items {
		codes[l.Transmission.CodeOr()]++
	}
	for _, c := range []string{"DUREE_INVALIDE", "FORMAT_AUTORISATION_INVALIDE", "ELEVE_INTROUVABLE", "CATEGORIE_SANS_DEMANDE", "NEPH_MANQUANT"} {
		if codes[c] == 0 {
			t.Errorf("the demo has no lesson in error %s: %v", c, codes)
		}
	}
	if total(livretclient.StatusTransmitted) == 0 {
		t.Error("the demo transmitted nothing")
	}
	if total(livretclient.StatusNotEligible) == 0 {
		t.Error("the demo has no lesson not concerned")
	}
	// Scope étendu: the moto student's A2 lessons and the collective theory session went.
	settings, err := api.Settings(ctx)
	must(t, err)
	if settings.Scope != "etendu" {
		t.Errorf("the demo school's scope is %q", settings.Scope)
	}
	a2, err := api.Lessons(ctx, livretclient.LessonQuery{Category: "A2", Status: livretclient.StatusTransmitted, PerPage: 100})
	must(t, err)
	types := map[string]bool{}
	for _, l := range a2.Items {
		types[l.Type] = true
		types["session"] = types["session"] || l.SessionRef != nil
	}
	if !types["plateau"] || !types["circulation"] || !types["session"] {
		t.Errorf("the demo's A2 lessons transmitted: %v", types)
	}
}

// waitRun waits for the run to be recorded as finished in GET /v1/offices/{ref}/runs (it is
// listed as running from its start).
func waitRun(ctx context.Context, t *testing.T, api *livretclient.Client, office, runID string) livretclient.Run {
	t.Helper()
	for {
		runs, err := api.Runs(ctx, office)
		must(t, err)
		for _, r := range runs {
			if r.RunID == runID && r.FinishedAt != nil {
				return r
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("run %s of %s not recorded: %v", runID, office, runs)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// sameRun compares two records of a run (times as instants: each decoding has its own zone).
func sameRun(a, b livretclient.Run) bool {
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.StartedAt.Equal(b.StartedAt) && sameTime(a.FinishedAt, b.FinishedAt) &&
		a.WorkflowID == b.WorkflowID && a.RunID == b.RunID && a.BusinessDate == b.BusinessDate &&
		a.Transmitted == b.Transmitted && a.Errors == b.Errors && a.Refused == b.Refused &&
		a.NotEligible == b.NotEligible && a.Deferred == b.Deferred && a.Outcome == b.Outcome &&
		(a.Failure == nil) == (b.Failure == nil) && (a.Failure == nil || *a.Failure == *b.Failure)
}

func wantStatus(ctx context.Context, t *testing.T, tc client.Client, wid, rid string, want enumspb.WorkflowExecutionStatus) {
	t.Helper()
	desc, err := tc.DescribeWorkflowExecution(ctx, wid, rid)
	if err != nil {
		t.Fatalf("describe %s/%s: %v", wid, rid, err)
	}
	if got := desc.GetWorkflowExecutionInfo().GetStatus(); got != want {
		t.Errorf("workflow %s/%s is %s, want %s", wid, rid, got, want)
	}
}

func lessonsOf(l sandbox.Ledger, agrement string) int {
	contracts := map[string]bool{}
	for _, c := range l.Contracts {
		contracts[c.IDContrat] = c.Agrement == agrement
	}
	n := 0
	for _, les := range l.Lessons {
		if contracts[les.IDContrat] {
			n++
		}
	}
	return n
}

// getJSON reads one of the Temporal UI's own JSON answers.
func getJSON[T any](t *testing.T, url string) T {
	t.Helper()
	resp, err := http.Get(url)
	must(t, err)
	defer resp.Body.Close()
	var v T
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	must(t, json.NewDecoder(resp.Body).Decode(&v))
	return v
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// buildLivret builds this command into a temporary folder (stripped: linking is most of the
// build, and the symbols are of no use here).
func buildLivret(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "livret")
	started := time.Now()
	out, err := exec.Command("go", "build", "-ldflags=-s -w", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built in %s", time.Since(started).Round(100*time.Millisecond))
	return bin
}

// freeAddrs returns n loopback addresses free right now.
func freeAddrs(t *testing.T, n int) []string {
	t.Helper()
	var out []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		must(t, err)
		lns = append(lns, ln)
		out = append(out, ln.Addr().String())
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return out
}

// devProcess is one `livret dev` subprocess at a time on one data folder.
type devProcess struct {
	t    *testing.T
	bin  string
	data string
	env  []string

	cmd     *exec.Cmd
	started time.Time
	done    chan error
	out     syncBuf
	errLog  syncBuf
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (d *devProcess) stdout() string { return d.out.String() }

func (d *devProcess) start(args ...string) {
	d.t.Helper()
	d.out, d.errLog = syncBuf{}, syncBuf{}
	d.cmd = exec.Command(d.bin, append([]string{"dev"}, args...)...)
	d.cmd.Env = append(os.Environ(), append([]string{"LIVRET_DATA_DIR=" + d.data, "LIVRET_ADMIN_TOKEN=", "LIVRET_TOKEN_KEY="}, d.env...)...)
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.errLog
	d.started = time.Now()
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.done = make(chan error, 1)
	cmd, done, exited := d.cmd, d.done, make(chan struct{})
	go func() {
		done <- cmd.Wait()
		close(exited)
	}()
	d.t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
		if d.t.Failed() {
			d.t.Logf("livret dev output:\n%s\nlogs (last 8 kB):\n%s", d.out.String(), tail(d.errLog.String(), 8<<10))
		}
	})
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitReady waits for /readyz to answer 200 and logs how long it took.
func (d *devProcess) waitReady(api string) {
	d.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	client := livretclient.New(api, "")
	for {
		if client.Ready(context.Background()) == nil {
			d.t.Logf("ready (/readyz 200) %s after the start", time.Since(d.started).Round(10*time.Millisecond))
			return
		}
		select {
		case err := <-d.done:
			d.t.Fatalf("livret dev exited before it was ready: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatal("livret dev not ready after 2 minutes")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitDemo waits for the demo to be seeded (it writes demo.json last).
func (d *devProcess) waitDemo() devstack.DemoState {
	d.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		b, err := os.ReadFile(filepath.Join(d.data, devstack.DemoStateFile))
		if err == nil {
			var s devstack.DemoState
			must(d.t, json.Unmarshal(b, &s))
			d.t.Logf("demo seeded %s after the start", time.Since(d.started).Round(10*time.Millisecond))
			return s
		}
		if strings.Contains(d.stdout(), "The demo could not be seeded") {
			d.t.Fatalf("demo: %s", d.stdout())
		}
		if time.Now().After(deadline) {
			d.t.Fatal("demo not seeded after 3 minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitOutput waits for the banner (stdout) to say something.
func (d *devProcess) waitOutput(what string) {
	d.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.stdout(), what) {
		if time.Now().After(deadline) {
			d.t.Fatalf("livret dev never printed %q", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (d *devProcess) readSecret(name string) string {
	d.t.Helper()
	b, err := os.ReadFile(filepath.Join(d.data, name))
	must(d.t, err)
	st, err := os.Stat(filepath.Join(d.data, name))
	must(d.t, err)
	if st.Mode().Perm() != 0o600 {
		d.t.Errorf("%s is %v, want 0600", name, st.Mode().Perm())
	}
	return strings.TrimSpace(string(b))
}

// interrupt is Ctrl-C: the process must stop everything and exit 0.
func (d *devProcess) interrupt() {
	d.t.Helper()
	started := time.Now()
	must(d.t, d.cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Fatalf("livret dev exited with %v after Ctrl-C", err)
		}
		d.t.Logf("stopped %s after Ctrl-C", time.Since(started).Round(10*time.Millisecond))
	case <-time.After(time.Minute):
		d.t.Fatal("livret dev still running a minute after Ctrl-C")
	}
}

// quietSDKLogger keeps the SDK client's info lines out of the test's output.
type quietSDKLogger struct{}

func (quietSDKLogger) Debug(string, ...any) {}
func (quietSDKLogger) Info(string, ...any)  {}
func (quietSDKLogger) Warn(string, ...any)  {}
func (quietSDKLogger) Error(string, ...any) {}
