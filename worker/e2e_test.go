package worker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"livret/db/dbq"
	"livret/domain"
	"livret/sandbox"
	"livret/worker/workertest"
	"livret/workflows"
)

// seedScenario is the vendor guide's example school: two offices sharing one RdvPermis
// account (centralised) and one office with its own (decentralised), Mélanie Perrin's and
// Lou Michel's lessons of 9 December 2021, and one student of each kind of refusal.
type seedScenario struct {
	school                          dbq.School
	lauriane, centre, sables        dbq.Office
	accountA, accountB              dbq.DsrAccount
	melanie15, melanie13, melanie10 dbq.Lesson
	lou                             dbq.Lesson
	melanieCode, zoe1, zoe2, hugo   dbq.Lesson
	nina1, nina2, tom, today, jules dbq.Lesson
	wantTransmitted                 []dbq.Lesson
}

func newSeedScenario(t *testing.T, s *workertest.Stack) *seedScenario {
	sc := &seedScenario{}
	sc.school = s.School("Auto-école des Plesses", "E0203100010")
	sc.lauriane = s.Office(sc.school, "AE-LAURIANE", "AE LAURIANE")
	sc.centre = s.Office(sc.school, "AE-CENTRE", "Agence du centre")
	sc.sables = s.Office(sc.school, "AE-SABLES", "Agence des Sables d'Olonne")
	s.Account(sc.school, "gerant@plesses.fr", "motdepasse-1")
	s.Account(sc.school, "sables@plesses.fr", "motdepasse-2")

	// Centralised: the second office links with no password (the browser is logged in).
	admin := workertest.NewBrowser()
	sc.accountA = s.Link(admin, sc.school, sc.lauriane, "gerant@plesses.fr", "motdepasse-1")
	if again := s.Link(admin, sc.school, sc.centre, "", ""); again.ID != sc.accountA.ID {
		t.Fatalf("the second office must share the first one's account: %d vs %d", again.ID, sc.accountA.ID)
	}
	// Decentralised: another browser (or a logout) and another account.
	sc.accountB = s.Link(workertest.NewBrowser(), sc.school, sc.sables, "sables@plesses.fr", "motdepasse-2")

	jean := s.Instructor(sc.school, "I-JEAN", "Jean", "Dupont", "A 12.345.678.90", false)
	paul := s.Instructor(sc.school, "I-PAUL", "Paul", "Martin", "12345", false) // Lou Michel's instructor
	sim := s.Instructor(sc.school, "I-SIM", "Simulateur", "Simulateur", domain.GenericSimulatorAuthorization, true)

	melanie := s.Student(sc.school, sc.lauriane, workertest.StudentSpec{Ref: "E-MELANIE", First: "Mélanie", Last: "Perrin",
		NEPH: "120675000001", Category: "B_AUTO", EvaluationAccepted: true, KnownToANTS: true})
	lou := s.Student(sc.school, sc.lauriane, workertest.StudentSpec{Ref: "E-LOU", First: "Lou", Last: "Michel",
		NEPH: "120675000002", Category: "B", EvaluationAccepted: true, KnownToANTS: true})
	nina := s.Student(sc.school, sc.lauriane, workertest.StudentSpec{Ref: "E-NINA", First: "Nina", Last: "Roux",
		NEPH: "120675000003", Category: "B", EvaluationAccepted: true}) // unknown at the ANTS
	tom := s.Student(sc.school, sc.lauriane, workertest.StudentSpec{Ref: "E-TOM", First: "Tom", Last: "Blanc",
		Category: "B", EvaluationAccepted: true}) // no NEPH
	jules := s.Student(sc.school, sc.lauriane, workertest.StudentSpec{Ref: "E-JULES", First: "Jules", Last: "Petit",
		NEPH: "120675000004", Category: "A2", EvaluationAccepted: true})
	hugo := s.Student(sc.school, sc.centre, workertest.StudentSpec{Ref: "E-HUGO", First: "Hugo", Last: "Lenoir",
		NEPH: "120675000005", Category: "B_AAC", EvaluationAccepted: true, KnownToANTS: true})
	zoe := s.Student(sc.school, sc.sables, workertest.StudentSpec{Ref: "E-ZOE", First: "Zoé", Last: "Faure",
		NEPH: "120675000006", Category: "B", EvaluationAccepted: true, KnownToANTS: true})

	d := func(h, m int) time.Time { return workertest.Paris(2021, 12, 9, h, m) }
	sc.melanie15, _ = s.Lesson(sc.school, sc.lauriane, melanie, jean, "L-M15", domain.TypeConduiteBoiteAuto, d(15, 0), d(16, 0))
	sc.melanie13, _ = s.Lesson(sc.school, sc.lauriane, melanie, sim, "L-M13", domain.TypeSimulateur, d(13, 0), d(13, 25))
	sc.melanie10, _ = s.Lesson(sc.school, sc.lauriane, melanie, jean, "L-M10", domain.TypeConduite, d(10, 0), d(11, 0))
	sc.melanieCode, _ = s.Lesson(sc.school, sc.lauriane, melanie, jean, "L-MCODE", domain.TypeCode, d(17, 0), d(18, 0))
	sc.lou, _ = s.Lesson(sc.school, sc.lauriane, lou, paul, "L-LOU", domain.TypeConduite, d(13, 0), d(14, 0))
	sc.nina1, _ = s.Lesson(sc.school, sc.lauriane, nina, jean, "L-NINA1", domain.TypeConduite, d(8, 0), d(9, 0))
	sc.nina2, _ = s.Lesson(sc.school, sc.lauriane, nina, jean, "L-NINA2", domain.TypeConduite, d(9, 0), d(10, 0))
	sc.tom, _ = s.Lesson(sc.school, sc.lauriane, tom, jean, "L-TOM", domain.TypeConduite, d(16, 0), d(17, 0))
	sc.jules, _ = s.Lesson(sc.school, sc.lauriane, jules, jean, "L-JULES", domain.TypeConduite, d(11, 0), d(12, 0))
	todayStart := domain.StartOfDay(time.Now())
	sc.today, _ = s.Lesson(sc.school, sc.lauriane, melanie, jean, "L-TODAY", domain.TypeConduite, todayStart, todayStart.Add(time.Hour))
	sc.hugo, _ = s.Lesson(sc.school, sc.centre, hugo, jean, "L-HUGO", domain.TypeConduite, d(10, 0), d(11, 30))
	sc.zoe1, _ = s.Lesson(sc.school, sc.sables, zoe, jean, "L-ZOE1", domain.TypeConduite, d(10, 0), d(11, 0))
	sc.zoe2, _ = s.Lesson(sc.school, sc.sables, zoe, sim, "L-ZOE2", domain.TypeSimulateurBoiteAuto, workertest.Paris(2021, 12, 10, 10, 0), workertest.Paris(2021, 12, 10, 11, 0))
	sc.wantTransmitted = []dbq.Lesson{sc.melanie15, sc.melanie10, sc.hugo, sc.zoe1, sc.zoe2}
	return sc
}

func runOffice(t *testing.T, s *workertest.Stack, school dbq.School, office dbq.Office) (workflows.OfficeRunResult, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	wid, rid, err := s.Orchestrator.StartRun(ctx, school.ID, office.ID)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.OfficeRunResult
	if err := s.Client.GetWorkflow(ctx, wid, rid).Get(ctx, &res); err != nil {
		t.Fatalf("run of office %s: %v", office.Ref, err)
	}
	return res, wid, rid
}

func TestSeedScenarioEndToEnd(t *testing.T) {
	s := workertest.NewStack(t, workertest.Options{})
	sc := newSeedScenario(t, s)
	s.StartWorker()

	res, wid, rid := runOffice(t, s, sc.school, sc.lauriane)
	if res.Outcome != workflows.OutcomeCompleted || res.Counts.Transmitted != 2 {
		t.Fatalf("AE LAURIANE run: %+v", res)
	}
	recordHistory(t, s, "office_daily_run_seed_v2", wid, rid)
	assertFindableByOperator(t, s, sc.school.ID, sc.lauriane.ID, res.BusinessDate, wid)
	for _, o := range []dbq.Office{sc.centre, sc.sables} {
		if res, _, _ := runOffice(t, s, sc.school, o); res.Outcome != workflows.OutcomeCompleted {
			t.Fatalf("run of %s: %+v", o.Ref, res)
		}
	}

	want := []struct {
		name    string
		lesson  dbq.Lesson
		status  domain.Status
		code    domain.Code
		message string
	}{
		{"Mélanie 15:00 boîte auto", sc.melanie15, domain.StatusTransmitted, "", ""},
		{"Mélanie 10:00", sc.melanie10, domain.StatusTransmitted, "", ""},
		{"Mélanie 13:00–13:25 simulateur", sc.melanie13, domain.StatusError, domain.CodeDureeInvalide,
			"La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min."},
		{"Lou Michel's instructor", sc.lou, domain.StatusError, domain.CodeFormatAutorisationInvalide,
			"Le format du numéro d'autorisation du formateur n'est pas valide."},
		{"code lesson", sc.melanieCode, domain.StatusNotEligible, domain.CodeTypeNonConcerne, ""},
		{"A2 student", sc.jules, domain.StatusNotEligible, domain.CodeCategorieNonConcernee, ""},
		{"Nina unknown at the ANTS (1)", sc.nina1, domain.StatusError, domain.CodeEleveIntrouvable,
			"Le duo NOM NEPH de l'élève ne permet pas de le retrouver en base"},
		{"Nina unknown at the ANTS (2)", sc.nina2, domain.StatusError, domain.CodeEleveIntrouvable,
			"Le duo NOM NEPH de l'élève ne permet pas de le retrouver en base"},
		{"Tom without NEPH", sc.tom, domain.StatusError, domain.CodeNEPHManquant, ""},
		{"today's lesson waits for tomorrow", sc.today, domain.StatusPending, "", ""},
		{"Hugo, second office on the shared account", sc.hugo, domain.StatusTransmitted, "", ""},
		{"Zoé, own account (1)", sc.zoe1, domain.StatusTransmitted, "", ""},
		{"Zoé, own account, unsupervised simulator", sc.zoe2, domain.StatusTransmitted, "", ""},
	}
	for _, w := range want {
		tr := s.Transmission(sc.school.ID, w.lesson.ID)
		if domain.Status(tr.Status) != w.status || domain.Code(tr.Code) != w.code {
			t.Errorf("%s: %s/%s (%s), want %s/%s", w.name, tr.Status, tr.Code, tr.Message, w.status, w.code)
		}
		if w.message != "" && tr.Message != w.message {
			t.Errorf("%s: message %q, want the DSR's %q", w.name, tr.Message, w.message)
		}
		if w.status == domain.StatusTransmitted && (tr.DsrLessonID == nil || tr.TransmittedAt == nil) {
			t.Errorf("%s: transmitted without the DSR's id", w.name)
		}
	}

	ledger := s.Ledger()
	assertLedgerMatches(t, s, sc.school.ID, ledger, sc.wantTransmitted)
	if ledger.DuplicatesRefused != 0 {
		t.Errorf("no retry happened, yet %d duplicates were refused", ledger.DuplicatesRefused)
	}
	// One contract per student who had a lesson sent (Mélanie, Hugo, Zoé), each created once;
	// Nina's was refused.
	if len(ledger.Contracts) != 3 {
		t.Errorf("%d contracts at the DSR, want 3: %+v", len(ledger.Contracts), ledger.Contracts)
	}
	// Lessons went through the account their office is linked to.
	byAccount := map[string]int{}
	for _, l := range ledger.Lessons {
		byAccount[l.CompteID]++
	}
	if byAccount[sc.accountA.DsrAccountID] != 3 || byAccount[sc.accountB.DsrAccountID] != 2 {
		t.Errorf("lessons by account: %v (A=%s B=%s)", byAccount, sc.accountA.DsrAccountID, sc.accountB.DsrAccountID)
	}

	// A second run the same day sends nothing again and changes nothing.
	res, _, _ = runOffice(t, s, sc.school, sc.lauriane)
	if res.Counts.Transmitted != 0 {
		t.Fatalf("second run transmitted %d lessons again", res.Counts.Transmitted)
	}
	if again := s.Ledger(); len(again.Lessons) != len(ledger.Lessons) || again.DuplicatesRefused != 0 {
		t.Fatalf("second run changed the ledger: %d lessons, %d duplicates", len(again.Lessons), again.DuplicatesRefused)
	}
	// Both runs of the day share the workflow id (no two side by side); each is recorded.
	runs, err := s.Q.RunListByOffice(context.Background(), dbq.RunListByOfficeParams{SchoolID: sc.school.ID, OfficeID: sc.lauriane.ID, Limit: 10})
	if err != nil || len(runs) != 2 || runs[1].Transmitted != 2 || runs[1].Refused != 2 || runs[0].Transmitted != 0 {
		t.Fatalf("runs recorded: %+v %v", runs, err)
	}
}

// assertLedgerMatches checks, lesson by lesson, that the DSR holds exactly the lessons
// Postgres says are transmitted, each once, with the DSR id Postgres recorded.
func assertLedgerMatches(t *testing.T, s *workertest.Stack, schoolID int64, ledger sandbox.Ledger, want []dbq.Lesson) {
	t.Helper()
	byID := map[string]int{}
	for _, l := range ledger.Lessons {
		byID[l.IDLecon]++
	}
	if len(ledger.Lessons) != len(want) {
		t.Errorf("the DSR holds %d lessons, want %d", len(ledger.Lessons), len(want))
	}
	starts := map[string]int{}
	for _, l := range ledger.Lessons {
		starts[l.IDContrat+"@"+l.Debut.UTC().Format(time.RFC3339)]++
	}
	for k, n := range starts {
		if n != 1 {
			t.Errorf("lesson %s is %d times at the DSR", k, n)
		}
	}
	for _, l := range want {
		tr := s.Transmission(schoolID, l.ID)
		if tr.DsrLessonID == nil || byID[*tr.DsrLessonID] != 1 {
			t.Errorf("lesson %s: Postgres says %v, the DSR does not hold it once", l.Ref, tr.DsrLessonID)
		}
	}
}

// recordHistory saves a run's history under testdata/ when LIVRET_RECORD_HISTORIES is set, for
// the replay test: a later change to the workflow code must still replay it.
func recordHistory(t *testing.T, s *workertest.Stack, name, wid, rid string) {
	t.Helper()
	if os.Getenv("LIVRET_RECORD_HISTORIES") == "" {
		return
	}
	ctx := context.Background()
	iter := s.Client.GetWorkflowHistory(ctx, wid, rid, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	hist := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", name+".json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("history recorded in %s", path)
}

// assertFindableByOperator checks that the run carries the search attributes the operator
// filters by in the Temporal UI.
func assertFindableByOperator(t *testing.T, s *workertest.Stack, schoolID, officeID int64, date, wid string) {
	t.Helper()
	query := fmt.Sprintf("LivretSchoolId = %d AND LivretOfficeId = %d AND LivretBusinessDate = '%s'", schoolID, officeID, date)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := s.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: s.Temporal.GetDefaultNamespace(), Query: query})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range resp.GetExecutions() {
			if e.GetExecution().GetWorkflowId() == wid {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no run found by %q", query)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
