package worker_test

// Each test here plays one real run of a workflow type or of one path through it (the
// in-process Temporal server, a fresh PostgreSQL database, the sandbox over HTTP), asserts
// its outcome, and, when recording, saves its history under testdata/ for
// TestReplayRecordedHistories. To record every history again after a workflow change:
//
//	LIVRET_RECORD_HISTORIES=1 go test -count=1 ./worker -run 'TestSeedScenarioEndToEnd|TestHistory|TestWebhooksEndToEnd'
//
// (WebhookDispatch's histories are recorded by TestWebhooksEndToEnd, webhooks_e2e_test.go.)
// OfficeDailyRun's histories carry the generation of its code that recorded them, and only
// the current one is recorded again; the older ones cannot be, and are kept as they are so
// that runs in flight across a deploy keep replaying (workflows/policies.go):
//
//	office_daily_run_*_v0.json  before the "batch-shape" version
//	office_daily_run_*_v1.json  "batch-shape" 1, before "record-start-and-failure"
//	office_daily_run_*_v2.json  both: today's code, what the tests record
//
// A change that adds a version renames what the tests record to the next suffix and keeps
// the files recorded before.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"

	"livret/activities"
	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
	"livret/worker/workertest"
	"livret/workflows"
)

// resultOf waits for a workflow's result, following its continue-as-new chain.
func resultOf[T any](t *testing.T, s *workertest.Stack, wid, rid string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var res T
	if err := s.Client.GetWorkflow(ctx, wid, rid).Get(ctx, &res); err != nil {
		t.Fatalf("workflow %s: %v", wid, err)
	}
	return res
}

// sandboxClock is a sandbox clock that follows the real one, shifted by what a test adds.
type sandboxClock struct {
	mu    sync.Mutex
	shift time.Duration
}

func (c *sandboxClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.shift)
}

func (c *sandboxClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shift += d
}

// smallOffice is a school with one office linked to its own account, one instructor, and
// the test's students; lessons come from the test.
type smallOffice struct {
	school  dbq.School
	office  dbq.Office
	account dbq.DsrAccount
	jean    dbq.Instructor
}

func newSmallOffice(t *testing.T, s *workertest.Stack) *smallOffice {
	t.Helper()
	o := &smallOffice{school: s.School("Auto-école des Plesses", "E0203100010")}
	o.office = s.Office(o.school, "AE-LAURIANE", "AE LAURIANE")
	s.Account(o.school, "gerant@plesses.fr", "motdepasse-1")
	o.account = s.Link(workertest.NewBrowser(), o.school, o.office, "gerant@plesses.fr", "motdepasse-1")
	o.jean = s.Instructor(o.school, "I-JEAN", "Jean", "Dupont", "A1234567890", false)
	return o
}

func (o *smallOffice) student(s *workertest.Stack, ref, last, neph string, knownToANTS bool) dbq.Student {
	return s.Student(o.school, o.office, workertest.StudentSpec{Ref: ref, First: "Élève", Last: last, NEPH: neph,
		Category: "B", EvaluationAccepted: true, KnownToANTS: knownToANTS})
}

func (o *smallOffice) lesson(s *workertest.Stack, st dbq.Student, ref string, hour int) dbq.Lesson {
	start := workertest.Paris(2026, 1, 5, hour, 0)
	l, v := s.Lesson(o.school, o.office, st, o.jean, ref, domain.TypeConduite, start, start.Add(time.Hour))
	if !v.Pending() {
		s.T.Fatalf("lesson %s not eligible: %+v", ref, v)
	}
	return l
}

func wantCode(t *testing.T, s *workertest.Stack, schoolID int64, l dbq.Lesson, status domain.Status, code domain.Code) {
	t.Helper()
	tr := s.Transmission(schoolID, l.ID)
	if domain.Status(tr.Status) != status || domain.Code(tr.Code) != code {
		t.Errorf("lesson %s: %s/%s (%s), want %s/%s", l.Ref, tr.Status, tr.Code, tr.Message, status, code)
	}
}

// A lesson refused at the DSR, fixed by the school, resent: ResendLesson ensures the
// student's contract and declares the lesson.
func TestHistoryResendLesson(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	o := newSmallOffice(t, s)
	nina := o.student(s, "E-NINA", "Roux", "120675000003", false) // unknown at the ANTS
	l := o.lesson(s, nina, "L-NINA", 9)
	s.StartWorker()
	if res, _, _ := runOffice(t, s, o.school, o.office); res.Counts.Errors != 1 {
		t.Fatalf("run %+v, want Nina's lesson refused", res)
	}
	wantCode(t, s, o.school.ID, l, domain.StatusError, domain.CodeEleveIntrouvable)

	// The school sorts it out with the ANTS, then asks for the resend (what the API does).
	s.Must(s.Sandbox.AddStudent(ctx, sandbox.Student{Nom: "ROUX", Prenom: "Élève", NEPH: "120675000003", Categories: []string{"B"}}), "ANTS")
	_, err := s.Q.TransmissionResend(ctx, dbq.TransmissionResendParams{SchoolID: o.school.ID, LessonID: l.ID})
	s.Must(err, "resend")
	wid, rid, err := s.Orchestrator.Resend(ctx, o.school.ID, o.office.ID, l.ID)
	s.Must(err, "start resend")
	res := resultOf[workflows.ResendResult](t, s, wid, rid)
	if res.Status != string(domain.StatusTransmitted) {
		t.Fatalf("resend %+v", res)
	}
	assertLedgerMatches(t, s, o.school.ID, s.Ledger(), []dbq.Lesson{l})
	recordHistory(t, s, "resend_lesson_after_fix", wid, rid)
}

// The keeper refreshes the account before its refresh token lapses, sleeping on a timer in
// between, and ends once no office uses the account any more.
func TestHistoryAccountKeeper(t *testing.T) {
	issued := make(chan struct{}, 64)
	s := workertest.NewStack(t, workertest.Options{TokensIssued: func(string, string) {
		select {
		case issued <- struct{}{}:
		default:
		}
	}})
	ctx := context.Background()
	// Refresh tokens live 6 s: the keeper refreshes every 3 s, which leaves a loaded machine
	// 3 s to run each refresh before the token lapses.
	s.Must(s.Sandbox.SetFaults(ctx, sandbox.Faults{RefreshTTLS: 6}), "faults")
	o := newSmallOffice(t, s)
	<-issued // the pair of the link
	s.StartWorker()
	s.Must(s.Orchestrator.EnsureKeeper(ctx, o.account.ID), "keeper")
	for i := range 2 {
		select {
		case <-issued:
		case <-time.After(time.Minute):
			t.Fatalf("refresh %d did not come", i+1)
		}
	}
	_, err := s.Q.OfficeUnlink(ctx, dbq.OfficeUnlinkParams{SchoolID: o.school.ID, ID: o.office.ID})
	s.Must(err, "unlink")

	wid := workflows.KeeperID(o.account.ID)
	desc, err := s.Client.DescribeWorkflowExecution(ctx, wid, "")
	s.Must(err, "describe")
	rid := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s.Must(s.Client.GetWorkflow(wctx, wid, rid).Get(wctx, nil), "keeper")
	acct, err := s.Q.AccountGet(ctx, o.account.ID)
	s.Must(err, "account")
	if acct.NeedsReconnect {
		t.Fatal("the keeper lost the account")
	}
	if r := s.Ledger().Refreshes; r < 2 {
		t.Fatalf("%d refreshes", r)
	}
	recordHistory(t, s, "account_keeper_refreshes_then_unlinked", wid, rid)
}

// The office's Schedule starts ScheduledOfficeRun, which runs the day's OfficeDailyRun as a
// child under the day's run id.
func TestHistoryScheduledOfficeRun(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	b := newBulk(t, s, 1, 2, 2)
	s.StartWorker()
	office := b.offices[0]
	s.Must(s.Orchestrator.EnsureSchedule(ctx, b.school.ID, office.ID), "schedule")
	h := s.Client.ScheduleClient().GetHandle(ctx, workflows.ScheduleID(office.ID))
	s.Must(h.Trigger(ctx, clientTrigger()), "trigger")

	// The trigger is asynchronous and Temporal tells nobody: ask the schedule what it started.
	var started *struct{ wid, rid string }
	for deadline := time.Now().Add(time.Minute); started == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the schedule started nothing")
		}
		desc, err := h.Describe(ctx)
		s.Must(err, "describe schedule")
		for _, a := range desc.Info.RecentActions {
			if a.StartWorkflowResult != nil {
				started = &struct{ wid, rid string }{a.StartWorkflowResult.WorkflowID, a.StartWorkflowResult.FirstExecutionRunID}
			}
		}
	}
	res := resultOf[workflows.OfficeRunResult](t, s, started.wid, started.rid)
	if res.Outcome != workflows.OutcomeCompleted || res.Counts.Transmitted != len(b.lessons) {
		t.Fatalf("scheduled run %+v", res)
	}
	b.assertExactlyOnce(t, s)
	recordHistory(t, s, "scheduled_office_run", started.wid, started.rid)
}

// newTemporalSuggestingContinueAsNew starts a Temporal server that suggests continue-as-new
// once a history holds more than events events (the server's default is 4,096): a run of a
// few hundred lessons then takes the path a 10,000-lesson run takes.
func newTemporalSuggestingContinueAsNew(t *testing.T, events int) *temporaltest.TestServer {
	t.Helper()
	return temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseServerOptions(
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Kept from temporaltest's own settings, which this client replaces: search
			// attributes are usable as soon as they are added.
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: true}},
			dynamicconfig.HistoryCountSuggestContinueAsNew.Key():        []dynamicconfig.ConstrainedValue{{Value: events}},
		})))
}

// A large office's run continues as new past its history threshold, carrying where its
// load stopped and its counts; the lessons reach the DSR once each.
func TestHistoryOfficeRunContinuesAsNew(t *testing.T) {
	ts := newTemporalSuggestingContinueAsNew(t, 60)
	s := workertest.NewStack(t, workertest.Options{TemporalAddr: ts.GetFrontendHostPort(), Namespace: ts.GetDefaultNamespace()})
	ctx := context.Background()
	s.Must(s.Sandbox.SetFaults(ctx, sandbox.Faults{RateLimitPerMin: sandbox.Int(0)}), "faults")
	b := newBulk(t, s, 1, 51, 10) // 510 lessons: two pages of the load
	s.StartWorker()
	wid, firstRun, err := s.Orchestrator.StartRun(ctx, b.school.ID, b.offices[0].ID)
	s.Must(err, "start")
	res := resultOf[workflows.OfficeRunResult](t, s, wid, firstRun)
	if res.Outcome != workflows.OutcomeCompleted || res.Counts.Transmitted != len(b.lessons) {
		t.Fatalf("run %+v, want all %d lessons counted across the continue-as-new", res, len(b.lessons))
	}
	b.assertExactlyOnce(t, s)

	first, err := s.Client.DescribeWorkflowExecution(ctx, wid, firstRun)
	s.Must(err, "describe the first run")
	if st := first.GetWorkflowExecutionInfo().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
		t.Fatalf("the first run ended %s, want continued-as-new", st)
	}
	last, err := s.Client.DescribeWorkflowExecution(ctx, wid, "")
	s.Must(err, "describe the last run")
	lastRun := last.GetWorkflowExecutionInfo().GetExecution().GetRunId()
	if lastRun == firstRun {
		t.Fatal("no second run")
	}
	// One row for the run across its continue-as-new, under its first run id, finished.
	runs, err := s.Q.RunListByOffice(ctx, dbq.RunListByOfficeParams{SchoolID: b.school.ID, OfficeID: b.offices[0].ID, Limit: 10})
	s.Must(err, "runs")
	if len(runs) != 1 || runs[0].RunID != firstRun || runs[0].WorkflowID != wid || runs[0].Outcome != workflows.OutcomeCompleted ||
		runs[0].FinishedAt == nil || int(runs[0].Transmitted) != len(b.lessons) {
		t.Fatalf("runs recorded %+v, want one completed under the first run id %s", runs, firstRun)
	}
	recordHistory(t, s, "office_daily_run_continued_as_new_v2", wid, firstRun)
	recordHistory(t, s, "office_daily_run_after_continue_as_new_v2", wid, lastRun)
}

// A run full of the DSR's refusals completes with counts: every refusal is recorded on its
// lessons in the DSR's words, the others are sent.
func TestHistoryOfficeRunWithRefusals(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	o := newSmallOffice(t, s)
	// Another school, whose contracts this one cannot use.
	other := s.School("Auto-école d'à côté", "E0203100020")
	s.Account(other, "contact@acote.fr", "pw")
	otherOffice := s.Office(other, "AC", "À côté")
	otherAcct := s.Link(workertest.NewBrowser(), other, otherOffice, "contact@acote.fr", "pw")

	lea := o.student(s, "E-LEA", "Perrin", "120675000001", true)
	nina := o.student(s, "E-NINA", "Roux", "120675000002", false) // unknown at the ANTS
	tom := o.student(s, "E-TOM", "Blanc", "120675000003", false)
	s.Must(s.Sandbox.AddStudent(ctx, sandbox.Student{Nom: "BLANC", NEPH: "120675000003", Categories: []string{"A"}}), "Tom at the ANTS, for A only")
	zoe := o.student(s, "E-ZOE", "Faure", "120675000004", true)
	paul := o.student(s, "E-PAUL", "Lenoir", "120675000005", true)
	hugo := o.student(s, "E-HUGO", "Morel", "120675000006", true)

	// Zoé's contract is the other school's, and Livret does not know it: CONTRAT_DEJA_CONNU.
	_, err := s.DSR.Account(otherAcct.ID).CreateContract(ctx, dsr.ContractRequest{NEPH: "120675000004", LastName: "FAURE", FirstName: "Élève", Category: "B"})
	s.Must(err, "Zoé's contract elsewhere")
	// Paul's contract is the other school's, and Livret holds it (a transfer): CONTRAT_NON_AUTORISE.
	paulsElsewhere, err := s.DSR.Account(otherAcct.ID).CreateContract(ctx, dsr.ContractRequest{NEPH: "120675000005", LastName: "LENOIR", FirstName: "Élève", Category: "B"})
	s.Must(err, "Paul's contract elsewhere")
	_, err = s.Q.ContractSave(ctx, dbq.ContractSaveParams{SchoolID: o.school.ID, StudentID: paul.ID,
		TrainingID: s.TrainingOf(paul, "").ID, DsrContractID: paulsElsewhere.ID})
	s.Must(err, "Paul's contract in Livret")

	ls := map[string]dbq.Lesson{
		"lea": o.lesson(s, lea, "L-LEA", 9), "nina1": o.lesson(s, nina, "L-NINA1", 9), "nina2": o.lesson(s, nina, "L-NINA2", 11),
		"tom": o.lesson(s, tom, "L-TOM", 9), "zoe": o.lesson(s, zoe, "L-ZOE", 9), "paul": o.lesson(s, paul, "L-PAUL", 9),
		"hugo": o.lesson(s, hugo, "L-HUGO", 9),
	}
	// Hugo's lesson was declared by hand on the DSR's site, on the school's own contract:
	// LECON_EN_DOUBLON, reconciled as transmitted.
	mine, err := s.DSR.Account(o.account.ID).CreateContract(ctx, dsr.ContractRequest{NEPH: "120675000006", LastName: "MOREL", FirstName: "Élève", Category: "B"})
	s.Must(err, "Hugo's contract")
	h := ls["hugo"]
	_, err = s.DSR.Account(o.account.ID).DeclareLesson(ctx, mine.ID, dsr.LessonRequest{Start: h.StartsAt, End: h.EndsAt, Type: "CONDUITE",
		AuthorizationNumber: "A1234567890", InstructorLastName: "Dupont", InstructorFirstName: "Jean"})
	s.Must(err, "Hugo's lesson by hand")

	s.StartWorker()
	res, wid, rid := runOffice(t, s, o.school, o.office)
	if res.Outcome != workflows.OutcomeCompleted || res.Counts != (workflows.RunCounts{Transmitted: 2, Errors: 5}) {
		t.Fatalf("run %+v", res)
	}
	wantCode(t, s, o.school.ID, ls["lea"], domain.StatusTransmitted, "")
	wantCode(t, s, o.school.ID, ls["hugo"], domain.StatusTransmitted, "")
	wantCode(t, s, o.school.ID, ls["nina1"], domain.StatusError, domain.CodeEleveIntrouvable)
	wantCode(t, s, o.school.ID, ls["nina2"], domain.StatusError, domain.CodeEleveIntrouvable)
	wantCode(t, s, o.school.ID, ls["tom"], domain.StatusError, domain.CodeCategorieSansDemande)
	wantCode(t, s, o.school.ID, ls["zoe"], domain.StatusError, domain.CodeContratDejaConnu)
	wantCode(t, s, o.school.ID, ls["paul"], domain.StatusError, domain.CodeContratNonAutorise)
	ledger := s.Ledger()
	assertLedgerMatches(t, s, o.school.ID, ledger, []dbq.Lesson{ls["lea"], ls["hugo"]})
	if ledger.DuplicatesRefused != 1 {
		t.Errorf("%d duplicates refused, want Hugo's one", ledger.DuplicatesRefused)
	}
	recordHistory(t, s, "office_daily_run_with_refusals_v2", wid, rid)
}

// AUTO_ECOLE_FERMEE stops the run: its batch fails non-retryable, the next load finds the
// school flagged closed, and the run completes with the lessons left waiting.
func TestHistoryOfficeRunSchoolClosed(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	ctx := context.Background()
	o := newSmallOffice(t, s)
	lea := o.student(s, "E-LEA", "Perrin", "120675000001", true)
	l1 := o.lesson(s, lea, "L1", 9)
	l2 := o.lesson(s, lea, "L2", 11)
	s.Must(s.Sandbox.SetSchoolStatus(ctx, o.school.Agrement, sandbox.StatutFermee), "close the school")
	s.StartWorker()

	res, wid, rid := runOffice(t, s, o.school, o.office)
	// The lessons the refusal was about are in error, none is left waiting.
	if res.Outcome != workflows.OutcomeSchoolClosed || res.Counts.Deferred != 0 || res.Counts.Transmitted != 0 {
		t.Fatalf("run %+v", res)
	}
	wantCode(t, s, o.school.ID, l1, domain.StatusError, domain.CodeAutoEcoleFermee)
	wantCode(t, s, o.school.ID, l2, domain.StatusError, domain.CodeAutoEcoleFermee)
	school, err := s.Q.SchoolGet(ctx, o.school.ID)
	s.Must(err, "school")
	if school.ClosedAt == nil {
		t.Fatal("the school is not flagged closed")
	}
	recordHistory(t, s, "office_daily_run_school_closed_v2", wid, rid)
}

// The DSR refuses the access token and then the refresh token (both lapsed by its clock):
// the account needs a new login, the run completes with the office's lessons waiting.
func TestHistoryOfficeRunNeedsReconnect(t *testing.T) {
	clock := &sandboxClock{}
	s := workertest.NewStack(t, workertest.Options{SandboxNow: clock.Now})
	ctx := context.Background()
	o := newSmallOffice(t, s)
	lea := o.student(s, "E-LEA", "Perrin", "120675000001", true)
	o.lesson(s, lea, "L1", 9)
	o.lesson(s, lea, "L2", 11)
	clock.Advance(sandbox.DefaultRefreshTTL + time.Minute)
	s.StartWorker()

	res, wid, rid := runOffice(t, s, o.school, o.office)
	if res.Outcome != workflows.OutcomeNeedsReconnect || res.Counts.Deferred != 2 {
		t.Fatalf("run %+v, want both lessons waiting for the new login", res)
	}
	acct, err := s.Q.AccountGet(ctx, o.account.ID)
	s.Must(err, "account")
	if !acct.NeedsReconnect {
		t.Fatal("the account is not marked needs_reconnect")
	}
	if l := s.Ledger(); len(l.Lessons) != 0 || len(l.Contracts) != 0 {
		t.Fatalf("the DSR got %d lessons, %d contracts", len(l.Lessons), len(l.Contracts))
	}
	recordHistory(t, s, "office_daily_run_needs_reconnect_v2", wid, rid)
}

// The DSR refuses Livret's own OAuth client when the run refreshes the office's token (its
// secret rotated at the DSR, as devstack's demo does): the run fails without retry and is
// recorded as failed, in French, the lessons left pending.
func TestHistoryOfficeRunFails(t *testing.T) {
	clock := &sandboxClock{}
	s := workertest.NewStack(t, workertest.Options{SandboxNow: clock.Now})
	ctx := context.Background()
	o := newSmallOffice(t, s)
	lea := o.student(s, "E-LEA", "Perrin", "120675000001", true)
	l1 := o.lesson(s, lea, "L1", 9)
	// The access token is dead by the sandbox's clock, the refresh token alive: the run
	// refreshes, and the DSR no longer knows Livret's secret.
	clock.Advance(sandbox.DefaultAccessTTL + time.Minute)
	s.Must(s.Sandbox.AddClient(ctx, sandbox.Client{ClientID: workertest.ClientID, ClientSecret: "rotated-at-the-dsr",
		RedirectURIs: []string{"http://127.0.0.1:1/v1/oauth/callback"}}), "rotate the client's secret")
	s.StartWorker()

	wid, rid, err := s.Orchestrator.StartRun(ctx, o.school.ID, o.office.ID)
	s.Must(err, "start")
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	runErr := s.Client.GetWorkflow(wctx, wid, rid).Get(wctx, nil)
	var appErr *sdktemporal.ApplicationError
	if !errors.As(runErr, &appErr) || appErr.Type() != activities.ErrTypeAccessRefused {
		t.Fatalf("run ended with %v, want a DSRAccessRefused failure", runErr)
	}
	runs, err := s.Q.RunListByOffice(ctx, dbq.RunListByOfficeParams{SchoolID: o.school.ID, OfficeID: o.office.ID, Limit: 10})
	s.Must(err, "runs")
	if len(runs) != 1 || runs[0].RunID != rid || runs[0].Outcome != workflows.OutcomeFailed ||
		runs[0].Failure != domain.RunFailureAccessRefused.Sentence() || runs[0].FinishedAt == nil {
		t.Fatalf("runs recorded %+v", runs)
	}
	wantCode(t, s, o.school.ID, l1, domain.StatusPending, "")
	recordHistory(t, s, "office_daily_run_failed_v2", wid, rid)
}
