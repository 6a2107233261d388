package activities_test

// The activity tests run each activity in the SDK's TestActivityEnvironment against real
// PostgreSQL (a fresh database per test) and the DSR sandbox over HTTP, through the same DSR
// client and token store as production. Nothing of ours is mocked: every DSR answer a test
// asserts on is the sandbox's own, brought about by its fault controls, its reference data
// or, where the DSR's rule is one Livret checks first, by a data condition (see each test).

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"golang.org/x/oauth2"

	"livret/activities"
	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
)

// The sandbox's "now": noon in Paris on 15 June 2024. Lessons of 10 June are in its past.
var sandboxNow = time.Date(2024, 6, 15, 12, 0, 0, 0, domain.Paris)

// runDay is the day of the run the tests play (BatchInput.Before): lessons that ended
// before its 00:00 Paris are due.
var runDay = domain.StartOfDay(sandboxNow)

const (
	clientID     = "livret-activities-test"
	clientSecret = "livret-activities-secret"
	// Never contacted: the code is read from the login's redirect.
	redirectURI = "http://127.0.0.1:1/v1/oauth/callback"

	agrement      = "E0203100010"
	otherAgrement = "E0203100020"
	adminEmail    = "gerant@plesses.fr"
	adminPassword = "motdepasse-1"
)

// env is one test's world: a database holding one school with one office linked to a
// RdvPermis account, an instructor, and the sandbox that plays the DSR.
type env struct {
	t     *testing.T
	ctx   context.Context
	pool  *pgxpool.Pool
	q     *dbq.Queries
	store *db.TokenStore
	clock *sandbox.ManualClock
	ctl   *sandbox.Control
	url   string
	cfg   dsr.Config
	acts  *activities.Activities

	school     dbq.School
	office     dbq.Office
	account    dbq.DsrAccount
	instructor dbq.Instructor

	// before runs ahead of every request the sandbox serves (see beforeRequests).
	before atomic.Pointer[func(*http.Request)]
	// inflight counts the requests the sandbox is serving (see quiesce).
	inflight sync.WaitGroup
}

type envOptions struct {
	// dsrTimeout bounds each DSR call (default 5 s).
	dsrTimeout time.Duration
}

func newEnv(t *testing.T, opts ...envOptions) *env {
	t.Helper()
	var o envOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.dsrTimeout == 0 {
		o.dsrTimeout = 5 * time.Second
	}
	e := &env{t: t, ctx: context.Background(), clock: sandbox.NewManualClock(sandboxNow)}
	e.pool = dbtest.New(t)
	e.q = dbq.New(e.pool)
	sealer, err := db.ParseSealer(db.NewKeySpec("test"))
	e.must(err, "sealer")
	e.store = &db.TokenStore{Pool: e.pool, Sealer: sealer}

	sb := sandbox.New(sandbox.Options{Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler), RandSeed: 7})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.inflight.Add(1)
		defer e.inflight.Done()
		if f := e.before.Load(); f != nil {
			(*f)(r)
		}
		sb.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL
	e.ctl = sandbox.NewControl(srv.URL, "")
	e.must(e.ctl.AddClient(e.ctx, sandbox.Client{ClientID: clientID, ClientSecret: clientSecret, RedirectURIs: []string{redirectURI}}), "client")
	// The per-account limit has its own test; elsewhere it would only count the tests' calls.
	e.faults(sandbox.Faults{})

	e.cfg = dsr.Config{BaseURL: srv.URL, ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURI,
		Timeout: o.dsrTimeout, Logger: slog.New(slog.DiscardHandler)}
	e.acts = &activities.Activities{Pool: e.pool, DSR: dsr.New(e.cfg, e.store, nil)}

	key := sha256.Sum256([]byte("api-key-of-" + agrement))
	e.school, err = e.q.SchoolCreate(e.ctx, dbq.SchoolCreateParams{Name: "Auto-école des Plesses", Agrement: agrement, ApiKeyHash: key[:]})
	e.must(err, "school")
	e.office = e.newOffice("AE-LAURIANE")
	_, err = e.ctl.AddAccount(e.ctx, sandbox.Account{Email: adminEmail, Password: adminPassword, Agrement: agrement, SchoolName: e.school.Name})
	e.must(err, "sandbox account")
	e.account = e.link(e.office, adminEmail, adminPassword)
	e.instructor, err = e.q.InstructorUpsert(e.ctx, dbq.InstructorUpsertParams{SchoolID: e.school.ID, Ref: "I-JEAN",
		FirstName: "Jean", LastName: "Dupont", AuthorizationNumber: "A1234567890"})
	e.must(err, "instructor")
	return e
}

func (e *env) must(err error, what string) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// faults replaces the sandbox's fault set. The per-account limit is off unless f sets it.
func (e *env) faults(f sandbox.Faults) {
	e.t.Helper()
	if f.RateLimitPerMin == nil {
		f.RateLimitPerMin = sandbox.Int(0)
	}
	e.must(e.ctl.SetFaults(e.ctx, f), "faults")
}

// beforeRequests runs f ahead of every request the sandbox serves from now on: a test orders
// a real client's call before one of Livret's with it. The sandbox still gives every answer.
func (e *env) beforeRequests(f func(*http.Request)) { e.before.Store(&f) }

// quiesce waits until the sandbox has finished every request it received: a request whose
// client gave up may still be stored afterwards, as at the real DSR. Call it only when no
// client is sending any more.
func (e *env) quiesce() { e.inflight.Wait() }

func (e *env) newOffice(ref string) dbq.Office {
	e.t.Helper()
	o, err := e.q.OfficeUpsert(e.ctx, dbq.OfficeUpsertParams{SchoolID: e.school.ID, Ref: ref, Name: "Bureau " + ref})
	e.must(err, "office")
	return o
}

// login runs the RdvPermis login and the code exchange, as the link callback does.
func (e *env) login(client *dsr.Client, email, password string) *oauth2.Token {
	e.t.Helper()
	verifier := oauth2.GenerateVerifier()
	authURL := e.cfg.OAuth2().AuthCodeURL("state", oauth2.S256ChallengeOption(verifier))
	loc, err := sandbox.BrowserLogin(e.ctx, sandbox.NewBrowser(), authURL, email, password)
	e.must(err, "login")
	tok, err := client.Exchange(e.ctx, loc.Query().Get("code"), verifier)
	e.must(err, "exchange")
	return tok
}

// link links an office of the school to a RdvPermis account: tokens sealed in Postgres.
func (e *env) link(office dbq.Office, email, password string) dbq.DsrAccount {
	e.t.Helper()
	client := e.acts.DSR
	tok := e.login(client, email, password)
	me, err := client.MeWithToken(e.ctx, tok)
	e.must(err, "moi")
	var acct dbq.DsrAccount
	err = db.WithTx(e.ctx, e.pool, func(q *dbq.Queries) error {
		acct, err = e.store.LinkAccount(e.ctx, q, e.school.ID, me.AccountID, me.Email, tok)
		if err != nil {
			return err
		}
		_, err = q.OfficeLink(e.ctx, dbq.OfficeLinkParams{SchoolID: e.school.ID, ID: office.ID, AccountID: &acct.ID})
		return err
	})
	e.must(err, "link")
	return acct
}

// outsider is a RdvPermis account that is not Livret's: another school's, or a colleague's
// of the same school, logged in with its own client and an in-memory token store.
func (e *env) outsider(email, agrementOf string) *dsr.Account {
	e.t.Helper()
	_, err := e.ctl.AddAccount(e.ctx, sandbox.Account{Email: email, Password: "pw", Agrement: agrementOf, SchoolName: "Ailleurs"})
	e.must(err, "outsider account")
	store := dsr.NewMemoryTokenStore()
	client := dsr.New(e.cfg, store, nil)
	store.Put(1, e.login(client, email, "pw"))
	return client.Account(1)
}

// student creates a student of the office (category B, initial evaluation accepted). When
// antsCategories are given, the ANTS knows the student for them.
func (e *env) student(ref, last, neph string, antsCategories ...string) dbq.Student {
	e.t.Helper()
	st, err := e.q.StudentUpsert(e.ctx, dbq.StudentUpsertParams{SchoolID: e.school.ID, Ref: ref, OfficeID: e.office.ID,
		FirstName: "Léa", LastName: last, SearchName: domain.SearchKey("Léa " + last), Neph: neph})
	e.must(err, "student")
	_, err = e.q.TrainingUpsert(e.ctx, dbq.TrainingUpsertParams{SchoolID: e.school.ID, StudentID: st.ID,
		Category: string(domain.CategoryB), InitialEvaluationAccepted: true})
	e.must(err, "training")
	if len(antsCategories) > 0 {
		e.must(e.ctl.AddStudent(e.ctx, sandbox.Student{Nom: strings.ToUpper(last), Prenom: "Léa", NEPH: neph, Categories: antsCategories}), "ANTS record")
	}
	return st
}

// lesson creates a driving lesson of the student, pending. The fixture does not judge it:
// the activities judge every pending lesson again before sending it, so a fixture that broke
// a rule would show up as not_eligible and fail its test.
func (e *env) lesson(st dbq.Student, ref string, start time.Time, length time.Duration) dbq.Lesson {
	e.t.Helper()
	l, err := e.q.LessonUpsert(e.ctx, dbq.LessonUpsertParams{SchoolID: e.school.ID, Ref: ref, OfficeID: st.OfficeID,
		StudentID: st.ID, TrainingID: e.trainingOf(st).ID, InstructorID: e.instructor.ID, Type: string(domain.TypeConduite),
		StartsAt: start, EndsAt: start.Add(length)})
	e.must(err, "lesson")
	_, err = e.q.TransmissionSetVerdict(e.ctx, dbq.TransmissionSetVerdictParams{LessonID: l.ID, SchoolID: e.school.ID,
		OfficeID: st.OfficeID, StudentID: st.ID, StartsAt: l.StartsAt, EndsAt: l.EndsAt, Status: string(domain.StatusPending)})
	e.must(err, "transmission")
	return l
}

// june10 is 10 June 2024 at hh:00 in Paris.
func june10(hh int) time.Time { return time.Date(2024, 6, 10, hh, 0, 0, 0, domain.Paris) }

// markSending leaves a lesson as an attempt interrupted after its sending mark leaves it.
func (e *env) markSending(l dbq.Lesson) {
	e.t.Helper()
	_, err := e.q.TransmissionMarkSending(e.ctx, l.ID)
	e.must(err, "mark sending")
}

// saveContract records a student's DSR contract in Livret.
func (e *env) saveContract(st dbq.Student, id string) {
	e.t.Helper()
	_, err := e.q.ContractSave(e.ctx, dbq.ContractSaveParams{SchoolID: e.school.ID, StudentID: st.ID,
		TrainingID: e.trainingOf(st).ID, DsrContractID: id})
	e.must(err, "contract")
}

// trainingOf is the student's first training (the fixture's students have one, B).
func (e *env) trainingOf(st dbq.Student) dbq.TrainingListRow {
	e.t.Helper()
	ts, err := e.q.TrainingList(e.ctx, dbq.TrainingListParams{SchoolID: e.school.ID, StudentIds: []int64{st.ID}})
	e.must(err, "trainings")
	if len(ts) == 0 {
		e.t.Fatalf("student %s has no training", st.Ref)
	}
	return ts[0]
}

// livretAccount is the DSR as Livret's own linked account sees it, for arranging state.
func (e *env) livretAccount() *dsr.Account { return e.acts.DSR.Account(e.account.ID) }

func (e *env) batch(lessons ...dbq.Lesson) activities.BatchInput {
	in := activities.BatchInput{SchoolID: e.school.ID, OfficeID: e.office.ID, Before: runDay}
	for _, l := range lessons {
		in.LessonIDs = append(in.LessonIDs, l.ID)
	}
	return in
}

// activityEnv is a fresh TestActivityEnvironment with Livret's activities registered under
// their production names: each execution is one attempt, as a worker would run it.
func activityEnv(acts *activities.Activities) *testsuite.TestActivityEnvironment {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	ae := suite.NewTestActivityEnvironment()
	for name, fn := range map[string]any{
		activities.LoadDueLessonsName:          acts.LoadDueLessons,
		activities.EnsureTrainingContractsName: acts.EnsureTrainingContracts,
		activities.DeclareLessonsName:          acts.DeclareLessons,
		activities.RecordRunName:               acts.RecordRun,
		activities.KeepAccountAliveName:        acts.KeepAccountAlive,
		activities.LessonStateName:             acts.LessonState,
		activities.DeliverWebhookName:          acts.DeliverWebhook,
	} {
		ae.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	return ae
}

// run executes one attempt of the named activity and decodes its result into out.
func (e *env) run(name string, in, out any) error {
	e.t.Helper()
	return e.runWith(e.acts, name, in, out)
}

// runWith is run with another activity struct (another DSR client, say).
func (e *env) runWith(acts *activities.Activities, name string, in, out any) error {
	e.t.Helper()
	val, err := activityEnv(acts).ExecuteActivity(name, in)
	if err != nil {
		return err
	}
	if out != nil {
		e.must(val.Get(out), "decode "+name)
	}
	return nil
}

func (e *env) declare(in activities.BatchInput) (activities.DeclareResult, error) {
	e.t.Helper()
	var res activities.DeclareResult
	err := e.run(activities.DeclareLessonsName, in, &res)
	return res, err
}

func (e *env) contracts(in activities.BatchInput) (activities.ContractsResult, error) {
	e.t.Helper()
	var res activities.ContractsResult
	err := e.run(activities.EnsureTrainingContractsName, in, &res)
	return res, err
}

// mustContracts gives the batch's students their contracts, as the run does before declaring.
func (e *env) mustContracts(in activities.BatchInput) {
	e.t.Helper()
	res, err := e.contracts(in)
	e.must(err, "contracts")
	if res.Refused != 0 {
		e.t.Fatalf("contracts refused while arranging: %+v", res)
	}
}

func (e *env) transmission(l dbq.Lesson) dbq.Transmission {
	e.t.Helper()
	tr, err := e.q.TransmissionGet(e.ctx, dbq.TransmissionGetParams{SchoolID: e.school.ID, LessonID: l.ID})
	e.must(err, "transmission")
	return tr
}

// contractOf is the DSR contract Livret holds for the lesson's student, "" when none.
func (e *env) contractOf(l dbq.Lesson) string {
	e.t.Helper()
	rows, err := e.q.LessonSendList(e.ctx, dbq.LessonSendListParams{SchoolID: e.school.ID, LessonIds: []int64{l.ID}})
	e.must(err, "lesson row")
	if len(rows) != 1 || rows[0].DsrContractID == nil {
		return ""
	}
	return *rows[0].DsrContractID
}

func (e *env) ledger() sandbox.Ledger {
	e.t.Helper()
	l, err := e.ctl.Ledger(e.ctx)
	e.must(err, "ledger")
	return l
}

// wantStatus asserts a lesson's transmission status and code.
func (e *env) wantStatus(l dbq.Lesson, status domain.Status, code domain.Code) dbq.Transmission {
	e.t.Helper()
	tr := e.transmission(l)
	if domain.Status(tr.Status) != status || domain.Code(tr.Code) != code {
		e.t.Errorf("lesson %s: %s/%s (%q), want %s/%s", l.Ref, tr.Status, tr.Code, tr.Message, status, code)
	}
	return tr
}

// wantTransmitted asserts the lesson is transmitted under an id the DSR holds exactly once.
func (e *env) wantTransmitted(l dbq.Lesson, ledger sandbox.Ledger) dbq.Transmission {
	e.t.Helper()
	tr := e.wantStatus(l, domain.StatusTransmitted, "")
	if tr.DsrLessonID == nil || tr.TransmittedAt == nil {
		e.t.Errorf("lesson %s transmitted without the DSR's id", l.Ref)
		return tr
	}
	n := 0
	for _, dl := range ledger.Lessons {
		if dl.IDLecon == *tr.DsrLessonID {
			n++
			if !dl.Debut.Equal(l.StartsAt) {
				e.t.Errorf("lesson %s: the DSR holds %s at %s, Livret's starts %s", l.Ref, dl.IDLecon, dl.Debut, l.StartsAt)
			}
		}
	}
	if n != 1 {
		e.t.Errorf("lesson %s: the DSR holds its id %s %d times", l.Ref, *tr.DsrLessonID, n)
	}
	return tr
}

// wantDSRLessons asserts how many lessons the DSR holds, none of them twice at one start.
func (e *env) wantDSRLessons(ledger sandbox.Ledger, n int) {
	e.t.Helper()
	if len(ledger.Lessons) != n {
		e.t.Errorf("the DSR holds %d lessons, want %d", len(ledger.Lessons), n)
	}
	slots := map[string]int{}
	for _, l := range ledger.Lessons {
		k := l.IDContrat + "@" + l.Debut.UTC().Format(time.RFC3339Nano)
		if slots[k]++; slots[k] > 1 {
			e.t.Errorf("lesson %s is at the DSR twice", k)
		}
	}
}

// wantRefusal asserts a lesson is in error in the DSR's words.
func (e *env) wantRefusal(l dbq.Lesson, code domain.Code) {
	e.t.Helper()
	tr := e.wantStatus(l, domain.StatusError, code)
	if tr.Origin != "dsr" || tr.Message == "" {
		e.t.Errorf("lesson %s: refusal origin %q message %q, want the DSR's words", l.Ref, tr.Origin, tr.Message)
	}
}

// wantAppError asserts an activity failed with an ApplicationError of that type and
// retryability, and returns it.
func wantAppError(t *testing.T, err error, errType string, retryable bool) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("error %v (%T) carries no ApplicationError", err, err)
	}
	if appErr.Type() != errType || appErr.NonRetryable() == retryable {
		t.Fatalf("ApplicationError %s retryable=%v (%v), want %s retryable=%v", appErr.Type(), !appErr.NonRetryable(), appErr, errType, retryable)
	}
	return appErr
}

// transientFault is one kind of fault of the network or the DSR's front: arrange sets it up
// and returns the activities to run through it.
type transientFault struct {
	name    string
	arrange func(e *env) *activities.Activities
	// mayLand: the DSR may have stored the POST whose answer never came.
	mayLand bool
}

// transientFaults are the retry table's first row, each brought about for real.
var transientFaults = []transientFault{
	{"5xx", func(e *env) *activities.Activities {
		e.faults(sandbox.Faults{Error5xxRate: 1})
		return e.acts
	}, false},
	{"outage", func(e *env) *activities.Activities {
		until := e.clock.Now().Add(time.Hour)
		e.faults(sandbox.Faults{OutageUntil: &until})
		return e.acts
	}, false},
	{"timeout", func(e *env) *activities.Activities {
		// The DSR answers after a second; the client gives up after 100 ms.
		e.faults(sandbox.Faults{LatencyMS: 1000})
		cfg := e.cfg
		cfg.Timeout = 100 * time.Millisecond
		return &activities.Activities{Pool: e.pool, DSR: dsr.New(cfg, e.store, nil)}
	}, true},
	{"network error", func(e *env) *activities.Activities {
		// A port nothing listens on any more: the connection is refused.
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		cfg := e.cfg
		cfg.BaseURL = gone.URL
		return &activities.Activities{Pool: e.pool, DSR: dsr.New(cfg, e.store, nil)}
	}, false},
}

// storedToken is the account's pair as Postgres holds it.
func (e *env) storedToken() *oauth2.Token {
	e.t.Helper()
	tok, err := e.store.Token(e.ctx, e.account.ID)
	e.must(err, "stored token")
	return tok
}

// wantRefreshedOnce asserts the account was refreshed once at the DSR since old was stored,
// the new (rotated) pair saved, and the account still usable.
func (e *env) wantRefreshedOnce(old *oauth2.Token) {
	e.t.Helper()
	if r := e.ledger().Refreshes; r != 1 {
		e.t.Errorf("%d refreshes at the DSR, want 1", r)
	}
	now := e.storedToken()
	if now.AccessToken == old.AccessToken || now.RefreshToken == old.RefreshToken {
		e.t.Error("the refreshed pair was not saved")
	}
	acct, err := e.q.AccountGet(e.ctx, e.account.ID)
	e.must(err, "account")
	if acct.NeedsReconnect {
		e.t.Error("the account is marked needs_reconnect after a successful refresh")
	}
}

// spendTheMinute leaves the account at the DSR's limit: one call a minute, spent now. The
// sandbox's clock stands still, so the next call is refused with Retry-After: 60.
func (e *env) spendTheMinute() {
	e.t.Helper()
	e.faults(sandbox.Faults{RateLimitPerMin: sandbox.Int(1)})
	e.clock.Advance(time.Minute) // out of the window of the calls made while linking
	_, err := e.livretAccount().Me(e.ctx)
	e.must(err, "spend the minute's call")
}
