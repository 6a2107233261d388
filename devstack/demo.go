package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"livret/domain"
	"livret/livretclient"
	"livret/sandbox"
	"livret/school"
	"livret/workflows"
)

// demoSeeder fills a running dev stack with a demo school, through the HTTP API as a
// management software and a school admin would: a school in scope étendu, two offices linked
// at the sandbox, people (a motorcycle student with a B and an A2 training among them), two
// weeks of lessons with every refusal of the vendor guide and a collective theory session, a
// completed run, and a run that failed for the operator to inspect and reset in the Temporal
// UI, and that the school sees as failed in Livret.
type demoSeeder struct {
	API        string
	AdminToken string
	Sandbox    *sandbox.Control
	Temporal   client.Client
	Namespace  string
	TemporalUI string
	DataDir    string
	// Client is the stack's OAuth client at the sandbox (to break and restore, see failRun).
	Client sandbox.Client
	// School is the web API's use-case layer: the demo's people are created through it, with
	// their passwords (dev only), as no route sets a password without an e-mailed link.
	School *school.Service
	Out    io.Writer
	// Now is the demo's clock (default time.Now): the lessons are the two weeks before it.
	Now func() time.Time
}

// DemoState is what the demo leaves in the data folder (DemoStateFile, 0600): a second start
// finds it and seeds nothing again.
type DemoState struct {
	SchoolID       int64  `json:"school_id"`
	APIKey         string `json:"api_key"`
	Agrement       string `json:"agrement"`
	RunWorkflowID  string `json:"run_workflow_id"`
	RunID          string `json:"run_id"`
	FailedWorkflow string `json:"failed_workflow_id"`
	FailedRunID    string `json:"failed_run_id"`
}

const (
	demoOfficeCentre = "centre"
	demoOfficeSud    = "sud"
	demoScope        = "etendu"
)

// DemoStateFile is the demo's state in the data folder, written last.
const DemoStateFile = "demo.json"

func (d *demoSeeder) statePath() string { return filepath.Join(d.DataDir, DemoStateFile) }

// Seed seeds the demo once; a data folder that has it already only gets it printed again.
func (d *demoSeeder) Seed(ctx context.Context) error {
	if b, err := os.ReadFile(d.statePath()); err == nil {
		var s DemoState
		if err := json.Unmarshal(b, &s); err == nil && s.APIKey != "" {
			fmt.Fprintf(d.Out, "\nDemo school already seeded (%s).\n", d.statePath())
			d.printSummary(ctx, s)
			return nil
		}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	fmt.Fprintf(d.Out, "\nSeeding the demo school…\n")
	admin := livretclient.New(d.API, d.AdminToken)
	// Scope étendu: the moto student's A2 lessons and the theory session go to the DSR too
	// (docs/rules.md, "Scope").
	school, err := admin.CreateSchool(ctx, livretclient.SchoolInput{Name: devSchoolName, Agrement: devAgrement, Scope: demoScope})
	if livretclient.IsStatus(err, http.StatusConflict) {
		return fmt.Errorf("a school with the agrément %s exists already (created by hand?): start from an empty data folder (LIVRET_DATA_DIR) to seed the demo", devAgrement)
	}
	if err != nil {
		return fmt.Errorf("creating the demo school: %w", err)
	}
	s := DemoState{SchoolID: school.ID, APIKey: school.APIKey, Agrement: devAgrement}
	api := admin.WithToken(school.APIKey)

	for _, o := range []struct{ ref, name string }{{demoOfficeCentre, "Agence du Centre"}, {demoOfficeSud, "Agence Sud"}} {
		if _, err := api.PutOffice(ctx, o.ref, livretclient.OfficeInput{Name: o.name}); err != nil {
			return err
		}
	}
	if err := d.seedPeople(ctx, school.ID); err != nil {
		return fmt.Errorf("the demo's people: %w", err)
	}
	// The ANTS records of the students the DSR knows (Nina is unknown; Inès has no request
	// for a B licence; Théo has one for B and one for A2).
	for _, st := range demoStudents {
		if st.ants == nil {
			continue
		}
		if err := d.Sandbox.AddStudent(ctx, sandbox.Student{Nom: strings.ToUpper(st.last), Prenom: st.first, NEPH: st.neph, Categories: st.ants}); err != nil {
			return err
		}
	}

	// The admin links both offices (decentralised: one RdvPermis account each). Lessons are
	// pushed afterwards: only lessons planned after the link are sent.
	if err := LinkOffice(ctx, api, sandbox.NewBrowser(), demoOfficeCentre, false, Accounts[0].Email, Accounts[0].Password); err != nil {
		return fmt.Errorf("linking %s: %w", demoOfficeCentre, err)
	}
	// The second office's access token is issued to live one second, so that its run has to
	// refresh it — which is where failRun makes the DSR refuse Livret's client.
	if err := d.Sandbox.SetFaults(ctx, sandbox.Faults{AccessTTLS: 1}); err != nil {
		return err
	}
	err = LinkOffice(ctx, api, sandbox.NewBrowser(), demoOfficeSud, true, Accounts[1].Email, Accounts[1].Password)
	if clearErr := d.Sandbox.SetFaults(ctx, sandbox.Faults{}); err == nil {
		err = clearErr
	}
	if err != nil {
		return fmt.Errorf("linking %s: %w", demoOfficeSud, err)
	}

	for _, in := range demoInstructors {
		if _, err := api.PutInstructor(ctx, in.ref, in.input()); err != nil {
			return err
		}
	}
	for _, st := range demoStudents {
		if _, err := api.PutStudent(ctx, st.ref, st.input()); err != nil {
			return err
		}
	}
	lessons := demoLessons(d.Now())
	for _, l := range lessons {
		if _, err := api.PutLesson(ctx, l.ref, l.input()); err != nil {
			return fmt.Errorf("lesson %s: %w", l.ref, err)
		}
	}
	if _, err := api.CancelLesson(ctx, demoCancelledRef(d.Now())); err != nil {
		return err
	}
	fmt.Fprintf(d.Out, "  %d lessons pushed over two weeks.\n", len(lessons))

	// The run of the first office, as "Lancer l'envoi" does; wait for its counts.
	wid, rid, err := startRun(ctx, api, demoOfficeCentre)
	if err != nil {
		return err
	}
	s.RunWorkflowID, s.RunID = wid, rid
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var res workflows.OfficeRunResult
	if err := d.Temporal.GetWorkflow(wctx, wid, rid).Get(wctx, &res); err != nil {
		return fmt.Errorf("run of %s: %w", demoOfficeCentre, err)
	}

	s.FailedWorkflow, s.FailedRunID, err = d.failRun(ctx, api)
	if err != nil {
		return err
	}
	// The school sees it: the run recorded itself as failed before its workflow closed.
	shown, err := failedRunShown(ctx, api, s.FailedRunID)
	if err != nil {
		return err
	}
	if shown.Outcome != livretclient.OutcomeFailed || shown.Failure == nil {
		return fmt.Errorf("the failed run of %s shows in Livret as %q, want failed with its reason", demoOfficeSud, shown.Outcome)
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(d.statePath(), b, 0o600); err != nil {
		return err
	}
	d.printSummary(ctx, s)
	return nil
}

// failRun produces a run that fails, as one does when the DSR refuses Livret's OAuth client
// (its secret revoked or rotated at the DSR and not yet in Livret's configuration): the
// refresh answers invalid_client, a configuration error no retry can cure (DSRAccessRefused),
// so the activity fails at once and the workflow fails. The client is put back right after: an operator who
// resets the run in the Temporal UI sees it complete.
func (d *demoSeeder) failRun(ctx context.Context, api *livretclient.Client) (wid, rid string, err error) {
	revoked := d.Client
	revoked.ClientSecret = randomToken()
	if err := d.Sandbox.AddClient(ctx, revoked); err != nil {
		return "", "", err
	}
	defer func() {
		if restoreErr := d.Sandbox.AddClient(context.WithoutCancel(ctx), d.Client); restoreErr != nil && err == nil {
			err = fmt.Errorf("restoring the OAuth client at the sandbox: %w", restoreErr)
		}
	}()
	// The office's access token (1 s) must be dead, so that the run refreshes it.
	time.Sleep(1500 * time.Millisecond)
	wid, rid, err = startRun(ctx, api, demoOfficeSud)
	if err != nil {
		return "", "", err
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	runErr := d.Temporal.GetWorkflow(wctx, wid, rid).Get(wctx, nil)
	if runErr == nil {
		return "", "", fmt.Errorf("the run of %s was meant to fail, and completed", demoOfficeSud)
	}
	desc, err := d.Temporal.DescribeWorkflowExecution(wctx, wid, rid)
	if err != nil {
		return "", "", err
	}
	if got := desc.GetWorkflowExecutionInfo().GetStatus(); got != enumspb.WORKFLOW_EXECUTION_STATUS_FAILED {
		return "", "", fmt.Errorf("the run of %s ended %s, want failed: %v", demoOfficeSud, got, runErr)
	}
	return wid, rid, nil
}

// failedRunShown is the demo's failed run as GET /v1/offices/sud/runs lists it.
func failedRunShown(ctx context.Context, api *livretclient.Client, runID string) (livretclient.Run, error) {
	runs, err := api.Runs(ctx, demoOfficeSud)
	if err != nil {
		return livretclient.Run{}, fmt.Errorf("the runs of %s: %w", demoOfficeSud, err)
	}
	for _, r := range runs {
		if r.RunID == runID {
			return r, nil
		}
	}
	return livretclient.Run{}, fmt.Errorf("the failed run %s of %s is not listed by Livret (GET /v1/offices/%s/runs)", runID, demoOfficeSud, demoOfficeSud)
}

func (d *demoSeeder) printSummary(ctx context.Context, s DemoState) {
	api := livretclient.New(d.API, s.APIKey)
	// What the school sees of the failed run (after a reset in the Temporal UI, its new outcome).
	var shown string
	if r, err := failedRunShown(ctx, api, s.FailedRunID); err != nil {
		shown = err.Error()
	} else if r.Failure != nil {
		shown = fmt.Sprintf("%s: « %s »", r.Outcome, *r.Failure)
	} else {
		shown = r.Outcome
	}
	count := func(status string) string {
		page, err := api.Lessons(ctx, livretclient.LessonQuery{Status: status, PerPage: 1})
		if err != nil {
			return "?"
		}
		return fmt.Sprint(page.Total)
	}
	scope := "?"
	if st, err := api.Settings(ctx); err == nil {
		scope = st.Scope
	}
	countA2 := func() string {
		page, err := api.Lessons(ctx, livretclient.LessonQuery{Category: "A2", PerPage: 1})
		if err != nil {
			return "?"
		}
		return fmt.Sprint(page.Total)
	}
	fmt.Fprintf(d.Out, "\nDemo logins of the pages (%s/ui/login; dev passwords, printed on purpose):\n", d.API)
	for _, p := range demoPeople {
		fmt.Fprintf(d.Out, "  %-8s %-28s %s\n", p.Role, p.Email, demoPassword)
	}
	fmt.Fprintf(d.Out, `
Demo school %q (agrément %s), API key (for the management software):
  %s
  Report:      %s/ui   ·   curl -H 'Authorization: Bearer %s' '%s/v1/lessons?office=%s&status=error'
  Lessons:     %s transmitted, %s in error, %s not concerned, %s pending
  Scope:       %s (the pages' "Paramètres"): Théo Lambert's %s lessons of his A2 training
               (motorcycle) and a collective theory session go to the DSR too
  Runs:        %s (completed) and a FAILED run of office %q:
               %s/namespaces/%s/workflows/%s/%s/history
               The DSR refused Livret's OAuth client when the run refreshed the office's token
               (invalid_client); the client is fixed now: "Reset" the run in the UI to finish it.
               The school sees it in GET /v1/offices/%s/runs and as the card's last_run:
               %s
`, devSchoolName, s.Agrement, s.APIKey, d.API, s.APIKey, d.API, demoOfficeCentre,
		count(livretclient.StatusTransmitted), count(livretclient.StatusError), count(livretclient.StatusNotEligible), count(livretclient.StatusPending),
		scope, countA2(),
		s.RunWorkflowID, demoOfficeSud, d.TemporalUI, url.PathEscape(d.Namespace), url.PathEscape(s.FailedWorkflow), url.PathEscape(s.FailedRunID),
		demoOfficeSud, shown)
}

// demoPeople sign in on the pages, all with demoPassword: a gerant, a bureau person of the
// centre office, a read-only person.
var demoPeople = []school.PersonInput{
	{Email: "gerant@demo.livret.localhost", Role: "gerant"},
	{Email: "bureau@demo.livret.localhost", Role: "bureau", OfficeRefs: []string{demoOfficeCentre}},
	{Email: "lecture@demo.livret.localhost", Role: "lecture"},
}

// demoPassword is the demo people's password: a dev stack's, never a deployment's.
const demoPassword = "livret-demo-2021"

func (d *demoSeeder) seedPeople(ctx context.Context, schoolID int64) error {
	if d.School == nil {
		return nil
	}
	sc, err := d.School.SchoolByID(ctx, schoolID)
	if err != nil {
		return err
	}
	for _, p := range demoPeople {
		if _, err := d.School.AddPerson(ctx, sc, p, demoPassword); err != nil {
			return err
		}
	}
	return nil
}

// The demo's people. Refs are the management software's ids.

type demoInstructor struct {
	ref, first, last, number string
	simulator                bool
}

func (i demoInstructor) input() livretclient.InstructorInput {
	return livretclient.InstructorInput{FirstName: i.first, LastName: i.last, AuthorizationNumber: i.number, Simulator: i.simulator}
}

var demoInstructors = []demoInstructor{
	{ref: "jean", first: "Jean", last: "Dupont", number: "A 12.345.678.90"},
	{ref: "claire", first: "Claire", last: "Moreau", number: "A9876543210"},
	// The vendor guide's instructor whose number the DSR refuses (too short).
	{ref: "paul", first: "Paul", last: "Martin", number: "A12345"},
	// An unsupervised simulator: the generic number (docs/rules.md, "What is sent", rule 4).
	{ref: "simu", first: "", last: "Simulateur", number: domain.GenericSimulatorAuthorization, simulator: true},
	// The motorcycle instructor.
	{ref: "karim", first: "Karim", last: "Benali", number: "A 11.223.344.55"},
}

type demoStudent struct {
	ref, office, first, last, neph, category string
	evaluation                               bool
	// trainings, when set, are all of the student's trainings (category and evaluation unused).
	trainings []livretclient.TrainingInput
	ants      []string // the ANTS's licence requests; nil: unknown to the ANTS
}

func (s demoStudent) input() livretclient.StudentInput {
	in := livretclient.StudentInput{OfficeRef: s.office, FirstName: s.first, LastName: s.last, NEPH: s.neph}
	if s.trainings != nil {
		in.Trainings = s.trainings
	} else {
		in.Category, in.InitialEvaluationAccepted = s.category, s.evaluation
	}
	return in
}

var demoStudents = []demoStudent{
	{ref: "melanie", office: demoOfficeCentre, first: "Mélanie", last: "Perrin", neph: "1206 7500 0001", category: "B_AUTO", evaluation: true, ants: []string{"B"}},
	{ref: "lou", office: demoOfficeCentre, first: "Lou", last: "Michel", neph: "120675000002", category: "B", evaluation: true, ants: []string{"B"}},
	{ref: "hugo", office: demoOfficeCentre, first: "Hugo", last: "Lenoir", neph: "120675000005", category: "B_AAC", evaluation: true, ants: []string{"B"}},
	// Unknown to the ANTS: ELEVE_INTROUVABLE at the run.
	{ref: "nina", office: demoOfficeCentre, first: "Nina", last: "Roux", neph: "120675000003", category: "B", evaluation: true},
	// The ANTS knows her for a motorcycle licence only: CATEGORIE_SANS_DEMANDE at the run.
	{ref: "ines", office: demoOfficeCentre, first: "Inès", last: "Garnier", neph: "120675000007", category: "B", evaluation: true, ants: []string{"A2"}},
	// No NEPH yet: in error at once, no DSR call spent.
	{ref: "tom", office: demoOfficeCentre, first: "Tom", last: "Blanc", category: "B", evaluation: true},
	// Initial evaluation not accepted: in error at once.
	{ref: "sarah", office: demoOfficeCentre, first: "Sarah", last: "Haddad", neph: "120675000009", category: "B", ants: []string{"B"}},
	// A moped (AM) student: not concerned, whatever the scope.
	{ref: "jules", office: demoOfficeCentre, first: "Jules", last: "Petit", neph: "120675000004", category: "AM", evaluation: true, ants: []string{"AM"}},
	// A motorcycle student who also learns to drive a car: two trainings, two contracts.
	{ref: "theo", office: demoOfficeCentre, first: "Théo", last: "Lambert", neph: "120675000010", ants: []string{"B", "A2"},
		trainings: []livretclient.TrainingInput{{Category: "B", InitialEvaluationAccepted: true}, {Category: "A2", InitialEvaluationAccepted: true}}},
	{ref: "zoe", office: demoOfficeSud, first: "Zoé", last: "Faure", neph: "120675000006", category: "B", evaluation: true, ants: []string{"B"}},
	{ref: "leo", office: demoOfficeSud, first: "Léo", last: "Marchand", neph: "120675000008", category: "B_AUTO", evaluation: true, ants: []string{"B"}},
}

type demoLesson struct {
	ref, office, student, instructor string
	typ                              domain.LessonType
	start, end                       time.Time
	// category names the lesson's training (needed for a student with several); session
	// ties the lessons of a collective session.
	category, session string
}

func (l demoLesson) input() livretclient.LessonInput {
	return livretclient.LessonInput{OfficeRef: l.office, StudentRef: l.student, InstructorRef: l.instructor,
		Type: string(l.typ), Start: l.start, End: l.end, Category: l.category, SessionRef: l.session}
}

// demoSessionStudents attend the demo's collective theory session, each on one training.
var demoSessionStudents = []struct{ student, category string }{{"lou", "B"}, {"hugo", "B_AAC"}, {"theo", "A2"}}

// demoLessons is two weeks of an ordinary agenda up to tomorrow (no Sundays), with, on top
// of the refusals the people above earn, the vendor guide's 25-minute simulator lesson, code
// lessons given by an instructor and a collective theory session (sent in scope étendu), an
// initial evaluation (sent too: it is that evaluation), a mock exam (not concerned), and Théo's
// B driving and A2 motorcycle lessons.
func demoLessons(now time.Time) []demoLesson {
	today := domain.StartOfDay(now)
	var out []demoLesson
	for offset := -14; offset <= 1; offset++ {
		day := today.AddDate(0, 0, offset)
		if day.Weekday() == time.Sunday {
			continue
		}
		i := offset + 14
		at := func(h, m int) time.Time {
			return time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, domain.Paris)
		}
		lesson := func(office, student, instructor string, typ domain.LessonType, h, m, minutes int) *demoLesson {
			start := at(h, m)
			out = append(out, demoLesson{
				ref:    fmt.Sprintf("L-%s-%02d%02d-%s", day.Format("20060102"), h, m, student),
				office: office, student: student, instructor: instructor, typ: typ,
				start: start, end: start.Add(time.Duration(minutes) * time.Minute),
			})
			return &out[len(out)-1]
		}
		add := func(office, student, instructor string, typ domain.LessonType, h, m, minutes int) {
			lesson(office, student, instructor, typ, h, m, minutes)
		}
		// Agence du Centre.
		if i%2 == 0 {
			add(demoOfficeCentre, "tom", "jean", domain.TypeConduite, 8, 0, 60)
		} else {
			add(demoOfficeCentre, "nina", "jean", domain.TypeConduite, 8, 0, 60)
		}
		if i%3 == 2 {
			add(demoOfficeCentre, "melanie", "simu", domain.TypeSimulateurBoiteAuto, 9, 0, 60)
		} else {
			add(demoOfficeCentre, "melanie", "jean", domain.TypeConduiteBoiteAuto, 9, 0, 60)
		}
		if i%4 == 0 {
			add(demoOfficeCentre, "lou", "paul", domain.TypeConduite, 10, 0, 60)
		} else {
			add(demoOfficeCentre, "lou", "claire", domain.TypeConduite, 10, 0, 60)
		}
		if i%2 == 1 {
			add(demoOfficeCentre, "hugo", "claire", domain.TypeConduite, 11, 0, 90)
		}
		if i%3 == 0 {
			add(demoOfficeCentre, "ines", "claire", domain.TypeConduite, 14, 0, 60)
			add(demoOfficeCentre, "jules", "jean", domain.TypeConduite, 15, 0, 60)
		}
		if i%4 == 1 {
			add(demoOfficeCentre, "sarah", "claire", domain.TypeConduite, 16, 0, 60)
		}
		if i%5 == 0 {
			add(demoOfficeCentre, "melanie", "jean", domain.TypeCode, 17, 0, 60)
		}
		// Théo: a car lesson one day, a motorcycle one (plateau, then circulation) the next.
		switch i % 4 {
		case 0, 2:
			lesson(demoOfficeCentre, "theo", "claire", domain.TypeConduite, 13, 0, 60).category = "B"
		case 1:
			lesson(demoOfficeCentre, "theo", "karim", domain.TypePlateau, 13, 0, 120).category = "A2"
		case 3:
			lesson(demoOfficeCentre, "theo", "karim", domain.TypeCirculation, 13, 0, 90).category = "A2"
		}
		// Agence Sud.
		add(demoOfficeSud, "zoe", "claire", domain.TypeConduite, 9, 0, 60)
		if i%2 == 0 {
			add(demoOfficeSud, "leo", "jean", domain.TypeConduiteBoiteAuto, 11, 0, 60)
		}
		if i%3 == 1 {
			add(demoOfficeSud, "zoe", "simu", domain.TypeSimulateur, 14, 0, 60)
		}
		// Once each, on a past working day whatever today is.
		switch offset {
		case pastWorkingDay(today, -13):
			add(demoOfficeCentre, "sarah", "jean", domain.TypeEvaluationDepart, 17, 0, 60)
		case pastWorkingDay(today, -6):
			// The vendor guide's example: a simulator lesson of 25 minutes (DUREE_INVALIDE).
			add(demoOfficeCentre, "melanie", "simu", domain.TypeSimulateur, 13, 0, 25)
		case pastWorkingDay(today, -3):
			add(demoOfficeCentre, "hugo", "jean", domain.TypeExamenBlanc, 14, 0, 60)
		case pastWorkingDay(today, -8):
			// A collective theory session: one lesson per attending student, one session ref.
			session := "CODE-" + day.Format("20060102") + "-1830"
			for _, st := range demoSessionStudents {
				l := lesson(demoOfficeCentre, st.student, "jean", domain.TypeCode, 18, 30, 90)
				l.category, l.session = st.category, session
			}
		}
	}
	return out
}

// pastWorkingDay is offset, or the day before when that day is a Sunday.
func pastWorkingDay(today time.Time, offset int) int {
	if today.AddDate(0, 0, offset).Weekday() == time.Sunday {
		return offset - 1
	}
	return offset
}

// demoCancelledRef is Zoé's 9:00 lesson of tomorrow (of today when tomorrow is a Sunday,
// which has no lessons): the school cancels it before it is sent.
func demoCancelledRef(now time.Time) string {
	day := domain.StartOfDay(now).AddDate(0, 0, 1)
	if day.Weekday() == time.Sunday {
		day = day.AddDate(0, 0, -1)
	}
	return fmt.Sprintf("L-%s-0900-zoe", day.Format("20060102"))
}

// startRun is POST /v1/offices/{ref}/runs.
func startRun(ctx context.Context, api *livretclient.Client, office string) (wid, rid string, err error) {
	run, err := api.StartRun(ctx, office)
	if err != nil {
		return "", "", fmt.Errorf("starting the run of %s: %w", office, err)
	}
	return run.WorkflowID, run.RunID, nil
}
