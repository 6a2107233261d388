package workertest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/server/temporaltest"
	"golang.org/x/oauth2"

	"livret/activities"
	"livret/db"
	"livret/db/dbq"
	"livret/db/dbtest"
	"livret/domain"
	"livret/dsr"
	"livret/mailer"
	"livret/sandbox"
	livschool "livret/school"
	"livret/worker"
)

// Stack is Livret's whole back end for one test, all real: a fresh PostgreSQL database, the
// sandbox serving over HTTP, an in-process Temporal server, and workers on demand.
type Stack struct {
	T          *testing.T
	Pool       *pgxpool.Pool
	Q          *dbq.Queries
	Tokens     *db.TokenStore
	SandboxURL string
	Sandbox    *sandbox.Control
	DSRConfig  dsr.Config
	// DSR is a DSR client built as a worker's is (worker.NewDSRClient), for the test's own
	// calls; each worker started builds its own, as separate processes do.
	DSR *dsr.Client
	// Limiter is a limiter like the workers' (worker.NewLimiter at Options.RateLimitPerMin).
	// Limiters share nothing in memory: they agree through Postgres.
	Limiter *activities.RateLimiter
	// Temporal is the in-memory server the stack started; nil when Options.TemporalAddr
	// named a server of the caller's.
	Temporal     *temporaltest.TestServer
	TemporalAddr string
	Namespace    string
	Client       client.Client
	Orchestrator *worker.Orchestrator
	// KeySpec is the token key (LIVRET_TOKEN_KEY) the stack's rows are sealed with, for
	// worker processes started from the test.
	KeySpec string
	// DatabaseURL is the test database, for worker processes.
	DatabaseURL string

	rateLimit    int     // Options.RateLimitPerMin, for the workers
	webhookScale float64 // Options.WebhookRetryScale, for the workers
	mailer       *mailer.Mailer
	publicURL    string
}

// Environment is what a `livret worker` process needs to join this stack.
func (s *Stack) Environment() []string {
	env := []string{
		"DATABASE_URL=" + s.DatabaseURL,
		"LIVRET_TOKEN_KEY=" + s.KeySpec,
		"LIVRET_DSR_URL=" + s.SandboxURL,
		"LIVRET_DSR_CLIENT_ID=" + ClientID,
		"LIVRET_DSR_CLIENT_SECRET=" + ClientSecret,
		"TEMPORAL_ADDRESS=" + s.TemporalAddr,
		"TEMPORAL_NAMESPACE=" + s.Namespace,
		"LIVRET_METRICS_ADDR=127.0.0.1:0",
	}
	if s.webhookScale > 0 {
		env = append(env, fmt.Sprintf("LIVRET_WEBHOOK_RETRY_SCALE=%g", s.webhookScale))
	}
	return env
}

// Options shape a Stack.
type Options struct {
	// SandboxNow is the sandbox's clock (default: the real one).
	SandboxNow func() time.Time
	// RateLimitPerMin is the workers' per-account limit (0: none).
	RateLimitPerMin int
	// DatabaseURL, when set, is an empty database of the caller's (a drill's own cluster, say)
	// that the stack migrates and uses instead of a fresh database on the shared server.
	DatabaseURL string
	// TemporalAddr and Namespace, when set, are a Temporal server of the caller's (one it
	// restarts, say) instead of an in-memory server started for the test.
	TemporalAddr, Namespace string
	// TokensIssued is told every token pair the sandbox mints (see sandbox.Options).
	TokensIssued func(access, refresh string)
	// SandboxURL, when set, is a sandbox of the caller's (a `livret sandbox` process, say)
	// instead of one served in the test process; its controls must answer this process
	// without a token (loopback). SandboxNow and TokensIssued need the in-process one.
	SandboxURL string
	// KeySpec, when set, is the token key (LIVRET_TOKEN_KEY) of worker processes of the
	// caller's, which must open the tokens the stack seals.
	KeySpec string
	// Mailer is the workers' SMTP server for the digests (mailer/mailtest gives a real one);
	// nil: the workers send none.
	Mailer *mailer.Mailer
	// PublicURL is the pages' address the digests link to ("" for no links).
	PublicURL string
	// WebhookRetryScale shrinks the workers' webhook retry schedule and its 24 hours
	// (worker.Config.WebhookRetryScale; 0: production's).
	WebhookRetryScale float64
}

// The OAuth client the stack registers at the sandbox.
const (
	ClientID     = "livret-test"
	ClientSecret = "livret-test-secret"
	redirectURI  = "http://127.0.0.1:1/v1/oauth/callback" // never contacted: the code is read from the Location header
)

// NewStack starts everything for t; all of it stops when t ends.
func NewStack(t *testing.T, opts Options) *Stack {
	t.Helper()
	ctx := context.Background()
	s := &Stack{T: t, DatabaseURL: opts.DatabaseURL, KeySpec: opts.KeySpec}
	if s.KeySpec == "" {
		s.KeySpec = db.NewKeySpec("test")
	}
	if s.DatabaseURL == "" {
		s.DatabaseURL = dbtest.NewURL(t)
	} else if err := db.Migrate(ctx, s.DatabaseURL); err != nil {
		t.Fatal(err)
	}
	pool, err := db.Open(ctx, s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s.Pool = pool
	s.Q = dbq.New(s.Pool)
	sealer, err := db.ParseSealer(s.KeySpec)
	if err != nil {
		t.Fatal(err)
	}
	s.Tokens = &db.TokenStore{Pool: s.Pool, Sealer: sealer}

	if opts.SandboxURL == "" {
		sb := sandbox.New(sandbox.Options{Now: opts.SandboxNow, Logger: slog.New(slog.DiscardHandler), TokensIssued: opts.TokensIssued})
		srv := httptest.NewServer(sb.Handler())
		t.Cleanup(srv.Close)
		s.SandboxURL = srv.URL
	} else if opts.SandboxNow != nil || opts.TokensIssued != nil {
		t.Fatal("workertest: SandboxNow and TokensIssued need the in-process sandbox, not Options.SandboxURL")
	} else {
		s.SandboxURL = opts.SandboxURL
	}
	s.Sandbox = sandbox.NewControl(s.SandboxURL, "")
	if err := s.Sandbox.AddClient(ctx, sandbox.Client{ClientID: ClientID, ClientSecret: ClientSecret, RedirectURIs: []string{redirectURI}}); err != nil {
		t.Fatal(err)
	}
	s.DSRConfig = dsr.Config{BaseURL: s.SandboxURL, ClientID: ClientID, ClientSecret: ClientSecret, RedirectURL: redirectURI,
		Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)}
	s.rateLimit = opts.RateLimitPerMin
	s.mailer, s.publicURL = opts.Mailer, opts.PublicURL
	s.webhookScale = opts.WebhookRetryScale
	s.Limiter = worker.NewLimiter(s.Pool, opts.RateLimitPerMin)
	s.DSR = worker.NewDSRClient(s.WorkerConfig(worker.Options{}))

	if opts.TemporalAddr == "" {
		s.Temporal = NewTemporal(t)
		s.Client = s.Temporal.GetDefaultClient()
		s.TemporalAddr, s.Namespace = s.Temporal.GetFrontendHostPort(), s.Temporal.GetDefaultNamespace()
	} else {
		s.TemporalAddr, s.Namespace = opts.TemporalAddr, opts.Namespace
		c, err := client.Dial(client.Options{HostPort: s.TemporalAddr, Namespace: s.Namespace,
			Logger: log.NewStructuredLogger(slog.New(slog.DiscardHandler))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := worker.RegisterSearchAttributes(rctx, c, s.Namespace); err != nil {
			t.Fatalf("workertest: %v", err)
		}
		s.Client = c
	}
	s.Orchestrator = worker.NewOrchestrator(s.Client)
	return s
}

// WorkerConfig is the configuration a worker process of this stack is built from.
func (s *Stack) WorkerConfig(opts worker.Options) worker.Config {
	return worker.Config{Pool: s.Pool, Sealer: s.Tokens.Sealer, DSR: s.DSRConfig, RateLimitPerMin: s.rateLimit,
		Logger: slog.New(slog.DiscardHandler), Options: opts, Mailer: s.mailer, PublicURL: s.publicURL,
		WebhookRetryScale: s.webhookScale}
}

// Activities returns a fresh activity struct, as a worker process of this stack builds it.
func (s *Stack) Activities() *activities.Activities {
	return worker.NewActivities(s.WorkerConfig(worker.Options{}))
}

// StartWorker starts a worker process's worth of workers: its own DSR client (its own
// in-process locks, as a separate process would have), registered on the task queue.
func (s *Stack) StartWorker() sdkworker.Worker {
	return s.StartWorkerWith(worker.Options{})
}

// StartWorkerWith starts a worker with the given options.
func (s *Stack) StartWorkerWith(opts worker.Options) sdkworker.Worker {
	s.T.Helper()
	w, err := worker.Start(context.Background(), s.Client, s.WorkerConfig(opts))
	if err != nil {
		s.T.Fatal(err)
	}
	s.T.Cleanup(w.Stop)
	return w
}

// SchoolAPIKey is the API key of the school School creates with that agrément.
func SchoolAPIKey(agrement string) string { return "lvk_test-api-key-of-" + agrement }

// School creates a school in Livret, in scope guide, and, at the sandbox, nothing: accounts
// come with Account.
func (s *Stack) School(name, agrement string) dbq.School {
	s.T.Helper()
	return s.SchoolInScope(name, agrement, domain.ScopeGuide)
}

// SchoolInScope creates a school that sends what scope says (docs/rules.md, "Scope").
func (s *Stack) SchoolInScope(name, agrement string, scope domain.Scope) dbq.School {
	s.T.Helper()
	key := sha256.Sum256([]byte(SchoolAPIKey(agrement)))
	school, err := s.Q.SchoolCreate(context.Background(), dbq.SchoolCreateParams{Name: name, Agrement: agrement, ApiKeyHash: key[:],
		Scope: string(scope)})
	if err != nil {
		s.T.Fatal(err)
	}
	// The API's door reads the school's named keys: the key is the first of them.
	if _, err := s.Q.ApiKeyCreate(context.Background(), dbq.ApiKeyCreateParams{SchoolID: school.ID, Name: "Clé principale", KeyHash: key[:]}); err != nil {
		s.T.Fatal(err)
	}
	return school
}

// Office creates an office of a school.
func (s *Stack) Office(school dbq.School, ref, name string) dbq.Office {
	s.T.Helper()
	o, err := s.Q.OfficeUpsert(context.Background(), dbq.OfficeUpsertParams{SchoolID: school.ID, Ref: ref, Name: name})
	if err != nil {
		s.T.Fatal(err)
	}
	return o
}

// Account creates a RdvPermis account of the school at the sandbox.
func (s *Stack) Account(school dbq.School, email, password string) {
	s.T.Helper()
	if _, err := s.Sandbox.AddAccount(context.Background(), sandbox.Account{Email: email, Password: password,
		Agrement: school.Agrement, SchoolName: school.Name}); err != nil {
		s.T.Fatal(err)
	}
}

// Browser is an admin's browser: it keeps the RdvPermis login cookie between links.
type Browser struct{ HTTP *http.Client }

// NewBrowser returns a browser that does not follow redirects (the test reads them).
func NewBrowser() *Browser { return &Browser{HTTP: sandbox.NewBrowser()} }

// Link links an office to the RdvPermis account the browser logs in with (or is already
// logged in with), as the OAuth callback does: code flow with PKCE, /moi, tokens stored
// encrypted, office linked. It returns the account row.
func (s *Stack) Link(b *Browser, school dbq.School, office dbq.Office, email, password string) dbq.DsrAccount {
	s.T.Helper()
	ctx := context.Background()
	cfg := s.DSRConfig.OAuth2()
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-x", oauth2.S256ChallengeOption(verifier))
	loc, err := sandbox.BrowserLogin(ctx, b.HTTP, authURL, email, password)
	if err != nil {
		s.T.Fatal(err)
	}
	tok, err := s.DSR.Exchange(ctx, loc.Query().Get("code"), verifier)
	if err != nil {
		s.T.Fatal(err)
	}
	me, err := s.DSR.MeWithToken(ctx, tok)
	if err != nil {
		s.T.Fatal(err)
	}
	var acct dbq.DsrAccount
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		acct, err = s.Tokens.LinkAccount(ctx, q, school.ID, me.AccountID, me.Email, tok)
		if err != nil {
			return err
		}
		_, err = q.OfficeLink(ctx, dbq.OfficeLinkParams{SchoolID: school.ID, ID: office.ID, AccountID: &acct.ID})
		return err
	})
	if err != nil {
		s.T.Fatal(err)
	}
	return acct
}

// StudentSpec is a student as the management software sends it.
type StudentSpec struct {
	Ref, First, Last, NEPH, Category string
	EvaluationAccepted               bool
	// More trainings, after the first (Category).
	More []TrainingSpec
	// KnownToANTS registers the student at the sandbox (NOM+NEPH, category).
	KnownToANTS bool
}

// Student creates a student of the office, and their ANTS record when asked.
func (s *Stack) Student(school dbq.School, office dbq.Office, sp StudentSpec) dbq.Student {
	s.T.Helper()
	ctx := context.Background()
	st, err := s.Q.StudentUpsert(ctx, dbq.StudentUpsertParams{SchoolID: school.ID, Ref: sp.Ref, OfficeID: office.ID,
		FirstName: sp.First, LastName: sp.Last, SearchName: domain.SearchKey(sp.First + " " + sp.Last), Neph: sp.NEPH})
	if err != nil {
		s.T.Fatal(err)
	}
	trainings := append([]TrainingSpec{{Category: sp.Category, EvaluationAccepted: sp.EvaluationAccepted}}, sp.More...)
	var cats []string
	for _, t := range trainings {
		if _, err := s.Q.TrainingUpsert(ctx, dbq.TrainingUpsertParams{SchoolID: school.ID, StudentID: st.ID,
			Category: t.Category, InitialEvaluationAccepted: t.EvaluationAccepted}); err != nil {
			s.T.Fatal(err)
		}
		cats = append(cats, domain.Category(t.Category).DSRCode())
	}
	if sp.KnownToANTS {
		if err := s.Sandbox.AddStudent(ctx, sandbox.Student{Nom: strings.ToUpper(sp.Last), Prenom: sp.First, NEPH: sp.NEPH, Categories: cats}); err != nil {
			s.T.Fatal(err)
		}
	}
	return st
}

// TrainingSpec is one more training of a student.
type TrainingSpec struct {
	Category           string
	EvaluationAccepted bool
}

// TrainingOf is the student's training in a category ("" for the first).
func (s *Stack) TrainingOf(st dbq.Student, category string) dbq.TrainingListRow {
	s.T.Helper()
	ts, err := s.Q.TrainingList(context.Background(), dbq.TrainingListParams{SchoolID: st.SchoolID, StudentIds: []int64{st.ID}})
	if err != nil {
		s.T.Fatal(err)
	}
	for _, t := range ts {
		if category == "" || t.Category == category {
			return t
		}
	}
	s.T.Fatalf("student %s has no training %q", st.Ref, category)
	return dbq.TrainingListRow{}
}

// Instructor creates an instructor.
func (s *Stack) Instructor(school dbq.School, ref, first, last, number string, simulator bool) dbq.Instructor {
	s.T.Helper()
	in, err := s.Q.InstructorUpsert(context.Background(), dbq.InstructorUpsertParams{SchoolID: school.ID, Ref: ref,
		FirstName: first, LastName: last, AuthorizationNumber: number, Simulator: simulator})
	if err != nil {
		s.T.Fatal(err)
	}
	return in
}

// Lesson creates a lesson of the student's first training with Livret's verdict on it, as
// ingestion does.
func (s *Stack) Lesson(school dbq.School, office dbq.Office, st dbq.Student, in dbq.Instructor, ref string, typ domain.LessonType, start, end time.Time) (dbq.Lesson, domain.Verdict) {
	s.T.Helper()
	return s.LessonOn(school, office, st, "", "", in, ref, typ, start, end)
}

// LessonOn creates a lesson of the student's training in category ("" for the first), in a
// collective session when session is set.
func (s *Stack) LessonOn(school dbq.School, office dbq.Office, st dbq.Student, category, session string, in dbq.Instructor, ref string, typ domain.LessonType, start, end time.Time) (dbq.Lesson, domain.Verdict) {
	s.T.Helper()
	ctx := context.Background()
	l, err := s.Q.LessonUpsert(ctx, dbq.LessonUpsertParams{SchoolID: school.ID, Ref: ref, OfficeID: office.ID,
		StudentID: st.ID, TrainingID: s.TrainingOf(st, category).ID, InstructorID: in.ID, Type: string(typ),
		SessionRef: session, StartsAt: start, EndsAt: end})
	if err != nil {
		s.T.Fatal(err)
	}
	// The judging is ingestion's own (school.Reevaluate), so a fixture cannot drift from it.
	s.Must(livschool.Reevaluate(ctx, s.Q, school.ID, livschool.Scope{LessonID: &l.ID}), "judge lesson %s", ref)
	t := s.Transmission(school.ID, l.ID)
	v := domain.Verdict{Status: domain.Status(t.Status), Code: domain.Code(t.Code), Message: t.Message}
	return l, v
}

// Transmission reads a lesson's transmission.
func (s *Stack) Transmission(schoolID, lessonID int64) dbq.Transmission {
	s.T.Helper()
	t, err := s.Q.TransmissionGet(context.Background(), dbq.TransmissionGetParams{SchoolID: schoolID, LessonID: lessonID})
	if err != nil {
		s.T.Fatal(err)
	}
	return t
}

// Ledger reads the sandbox's ledger.
func (s *Stack) Ledger() sandbox.Ledger {
	s.T.Helper()
	l, err := s.Sandbox.Ledger(context.Background())
	if err != nil {
		s.T.Fatal(err)
	}
	return l
}

// Paris is a wall-clock time in Europe/Paris.
func Paris(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, domain.Paris)
}

// Must fails the test on err.
func (s *Stack) Must(err error, what string, args ...any) {
	s.T.Helper()
	if err != nil {
		s.T.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
	}
}
