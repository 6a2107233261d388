package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"livret/db"
	"livret/dsr"
	"livret/sandbox"
	"livret/webapi"
	"livret/webui"
	"livret/worker"
	"livret/workflows"
)

// The dev stack's OAuth client at its own sandbox, and the RdvPermis accounts a newcomer logs
// in with. They exist only in the local sandbox: nothing here is a real secret.
const (
	devClientID    = "livret-dev"
	devAgrement    = "E0750000001"
	devSchoolName  = "Auto-école Démo"
	devRetention   = 30 * 24 * time.Hour
	devStopTimeout = 10 * time.Second
)

// Accounts are the RdvPermis logins the banner prints, at the dev stack's own sandbox.
var Accounts = []sandbox.Account{
	{Email: "direction@ecole-demo.fr", Password: "livret-demo-1", Agrement: devAgrement, SchoolName: devSchoolName},
	{Email: "agence-sud@ecole-demo.fr", Password: "livret-demo-2", Agrement: devAgrement, SchoolName: devSchoolName},
}

// Config is `livret dev`'s configuration; cmd/livret reads it from the environment
// (README.md, one table).
type Config struct {
	DataDir          string
	HTTPAddr         string
	PublicURL        string
	SandboxAddr      string
	TemporalAddr     string
	TemporalHTTPAddr string // "" when off
	UIAddr           string
	Namespace        string
	DatabaseURL      string // "" when DATABASE_URL is unset
	// LocalDatabaseURL is the PostgreSQL tried when DatabaseURL is unset, before starting one
	// of our own.
	LocalDatabaseURL string
	PostgresMode     string // auto, own
	AdminToken       string // "" to generate one into the data folder
	TokenKey         string // "" to generate one into the data folder
	SandboxToken     string
	RateLimit        int
	// DefaultScope is what a new school sends (LIVRET_DEFAULT_SCOPE; "" is guide).
	DefaultScope string
	// SMTPURL is the digests' SMTP server (LIVRET_SMTP_URL); "" starts a mailpit of the
	// stack's own on MailpitSMTPAddr, its web UI on MailpitAddr (port 0: a free one).
	SMTPURL                      string
	MailpitAddr, MailpitSMTPAddr string
	// ETPWindowMonths and ETPHoursPerETP are the ETP's window and hours per ETP
	// (LIVRET_ETP_WINDOW_MONTHS, LIVRET_ETP_HOURS_PER_ETP; zero and "" keep the defaults).
	ETPWindowMonths int
	ETPHoursPerETP  string
	// Demo seeds the demo school once the stack is ready (livret dev --demo).
	Demo bool
	// Out receives the banner and the demo's summary (default os.Stdout).
	Out io.Writer
}

// Browsable turns a listen address into one a browser can open (":8080" → 127.0.0.1:8080).
func Browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Stack is what Start started, stopped in reverse order by Stop.
type Stack struct {
	stops []func() error
	names []string
}

func (s *Stack) onStop(name string, stop func() error) {
	s.names = append(s.names, name)
	s.stops = append(s.stops, stop)
}

// Stop stops everything, the last started first; the data folder keeps the state.
func (s *Stack) Stop() error {
	var errs []error
	for i := len(s.stops) - 1; i >= 0; i-- {
		if err := s.stops[i](); err != nil {
			slog.Error("stopping "+s.names[i], "error", err)
			errs = append(errs, fmt.Errorf("%s: %w", s.names[i], err))
		}
	}
	s.stops, s.names = nil, nil
	return errors.Join(errs...)
}

// Start runs the whole of Livret on this machine: PostgreSQL (found or started), the
// migrations, the DSR sandbox, an embedded Temporal server with its Web UI, the worker and
// the web API, then the demo when cfg.Demo. It returns once the API answers (and the demo is
// seeded); on an error it stops what it had started.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	st := &Stack{}
	if err := start(ctx, cfg, st, time.Now()); err != nil {
		_ = st.Stop()
		return nil, err
	}
	return st, nil
}

func start(ctx context.Context, cfg Config, st *Stack, started time.Time) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	unlock, err := lockDataDir(dataDir)
	if err != nil {
		return err
	}
	st.onStop("data folder lock", unlock)

	// Secrets: from the environment, else generated once into the data folder (0600).
	adminToken := cfg.AdminToken
	if adminToken != "" {
		// A token of the operator's own must be as strong as the one generated below.
		if err := webapi.CheckAdminToken(adminToken); err != nil {
			return err
		}
	}
	if adminToken == "" {
		if adminToken, err = secretFile(filepath.Join(dataDir, "admin-token"), randomToken); err != nil {
			return err
		}
	}
	tokenKey := cfg.TokenKey
	if tokenKey == "" {
		if tokenKey, err = secretFile(filepath.Join(dataDir, "token-key"), func() string { return db.NewKeySpec("dev1") }); err != nil {
			return err
		}
	}
	sealer, err := db.ParseSealer(tokenKey)
	if err != nil {
		return fmt.Errorf("LIVRET_TOKEN_KEY: %w", err)
	}

	// Our own listeners first: a port already taken is said before anything slow starts.
	apiLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("LIVRET_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
	}
	st.onStop("api listener", func() error { _ = apiLn.Close(); return nil })
	if err := sandbox.CheckExposure(cfg.SandboxAddr, cfg.SandboxToken); err != nil {
		return err
	}
	sbLn, err := net.Listen("tcp", cfg.SandboxAddr)
	if err != nil {
		return fmt.Errorf("LIVRET_SANDBOX_ADDR %s: %w", cfg.SandboxAddr, err)
	}
	st.onStop("sandbox listener", func() error { _ = sbLn.Close(); return nil })

	// PostgreSQL, then the migrations.
	dbURL, err := devDatabase(ctx, cfg, dataDir, st)
	if err != nil {
		return err
	}
	if err := db.EnsureDatabase(ctx, dbURL); err != nil {
		return err
	}
	if err := db.Migrate(ctx, dbURL); err != nil {
		return err
	}
	pool, err := db.Open(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	st.onStop("database pool", func() error { pool.Close(); return nil })

	// Temporal, its namespace and Livret's search attributes, and the Web UI.
	serverLog := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	tsrv, err := StartTemporal(TemporalConfig{
		DBFile:       filepath.Join(dataDir, "temporal.db"),
		FrontendAddr: cfg.TemporalAddr,
		HTTPAddr:     cfg.TemporalHTTPAddr,
		Namespaces:   []string{cfg.Namespace},
		Retention:    devRetention,
		PortsFile:    filepath.Join(dataDir, "temporal-ports.json"),
		Logger:       serverLog,
	})
	if err != nil {
		return err
	}
	st.onStop("temporal server", tsrv.Stop)

	reg := worker.NewRegistry()
	opts, closeMetrics := worker.ClientOptions(tsrv.Addr(), cfg.Namespace, slog.Default(), reg)
	st.onStop("sdk metrics", func() error { closeMetrics(); return nil })
	tc, err := dialTemporal(ctx, opts)
	if err == nil {
		st.onStop("temporal client", func() error { tc.Close(); return nil })
		err = WaitServing(ctx, tc, workflows.TaskQueue, time.Minute)
	}
	if err != nil {
		tsrv.StartFailed()
		return err
	}
	tsrv.Serving()
	saCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = worker.RegisterSearchAttributes(saCtx, tc, cfg.Namespace)
	cancel()
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	ui, err := StartUI(UIConfig{Addr: cfg.UIAddr, TemporalAddr: tsrv.Addr(), Namespace: cfg.Namespace})
	if err != nil {
		return err
	}
	st.onStop("temporal ui", ui.Stop)

	// The sandbox, with this stack's OAuth client (a fresh secret each start: the sandbox
	// replaces the client, tokens issued before stay good) and the newcomers' accounts.
	clientSecret := randomToken()
	callback := cfg.PublicURL + webapi.CallbackPath
	sb, err := sandbox.Open(sandbox.Options{
		StateFile:    filepath.Join(dataDir, "sandbox.json"),
		ControlToken: cfg.SandboxToken,
		Logger:       slog.Default(),
		Seed: &sandbox.Seed{
			Clients:  []sandbox.Client{{ClientID: devClientID, ClientSecret: clientSecret, RedirectURIs: []string{callback}}},
			Accounts: Accounts,
		},
	})
	if err != nil {
		return err
	}
	st.onStop("sandbox state", sb.Close)
	sbSrv := &http.Server{
		Handler:           sb.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	go func() {
		if err := sbSrv.Serve(sbLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("sandbox server", "error", err)
		}
	}()
	st.onStop("sandbox server", func() error { return shutdown(sbSrv) })
	sandboxURL := "http://" + Browsable(sbLn.Addr().String())
	dsrCfg := dsr.Config{BaseURL: sandboxURL, ClientID: devClientID, ClientSecret: clientSecret, RedirectURL: callback, Logger: slog.Default()}

	// The mail catcher (or LIVRET_SMTP_URL's server), for the daily digests.
	mail, err := startMail(ctx, cfg, dataDir, st)
	if err != nil {
		return err
	}

	// The worker, in this process; every linked office gets its Schedule, every linked
	// account its keeper, the digests their Schedule (idempotent).
	w, err := worker.Start(ctx, tc, worker.Config{
		Pool: pool, Sealer: sealer, DSR: dsrCfg, RateLimitPerMin: cfg.RateLimit, Metrics: reg, Logger: slog.Default(),
		Options: worker.Options{StopTimeout: devStopTimeout}, Reconcile: true,
		Mailer: mail.Mailer, PublicURL: cfg.PublicURL, ETPWindowMonths: cfg.ETPWindowMonths,
	})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	st.onStop("worker", func() error { w.Stop(); return nil })
	orch := worker.NewOrchestrator(tc)

	// The web API, serving the worker's metrics too. Last: its /readyz answering 200 means
	// everything above is up.
	api, err := webapi.New(webapi.Config{
		PublicURL:    cfg.PublicURL,
		AdminToken:   adminToken,
		TokenKey:     tokenKey,
		DefaultScope: cfg.DefaultScope,
		DSR:          dsr.Config{BaseURL: sandboxURL, ClientID: devClientID, ClientSecret: clientSecret, Logger: slog.Default()},
		Pool:         pool,
		Orchestrator: orch,
		Logger:       slog.Default(),
		Metrics:      reg,

		ETPWindowMonths: cfg.ETPWindowMonths,
		ETPHoursPerETP:  cfg.ETPHoursPerETP,
		SendMail:        sendMail(mail),
	})
	if err != nil {
		return err
	}
	api.Pages = webui.New(api.School, api.Sealer, api.Logger)
	apiCtx, stopAPI := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- api.Serve(apiCtx, apiLn) }()
	st.onStop("webapi", func() error {
		stopAPI()
		if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})

	urls := devURLs{
		API:        cfg.PublicURL,
		TemporalUI: "http://" + Browsable(cfg.UIAddr),
		Sandbox:    sandboxURL,
		Temporal:   tsrv.Addr(),
		Database:   redactURL(dbURL),
		Mails:      mail.WebURL,
		MailsNote:  mail.Note,
	}
	if cfg.TemporalHTTPAddr != "" {
		urls.TemporalHTTP = "http://" + Browsable(cfg.TemporalHTTPAddr)
	}
	slog.Info("livret dev ready", "after", time.Since(started).Round(time.Millisecond).String(), "data", dataDir)
	printBanner(cfg.Out, urls, adminToken, cfg.AdminToken == "", dataDir, cfg.Demo)

	if cfg.Demo {
		d := &demoSeeder{
			School:     api.School,
			API:        urls.API,
			AdminToken: adminToken,
			Sandbox:    sandbox.NewControl(sandboxURL, cfg.SandboxToken),
			Temporal:   tc,
			Namespace:  cfg.Namespace,
			TemporalUI: urls.TemporalUI,
			DataDir:    dataDir,
			Client:     sandbox.Client{ClientID: devClientID, ClientSecret: clientSecret, RedirectURIs: []string{callback}},
			Out:        cfg.Out,
		}
		if err := d.Seed(ctx); err != nil && ctx.Err() == nil {
			// The stack stays up: the newcomer can still use it, and the log says what failed.
			slog.Error("demo", "error", err)
			fmt.Fprintf(cfg.Out, "\nThe demo could not be seeded: %v\n", err)
		}
	}
	return nil
}

type devURLs struct {
	API, TemporalUI, TemporalHTTP, Sandbox, Temporal, Database string
	// Mails is mailpit's web UI ("" when the stack runs none); MailsNote says what it is.
	Mails, MailsNote string
}

func printBanner(w io.Writer, u devURLs, adminToken string, generated bool, dataDir string, demo bool) {
	origin := "LIVRET_ADMIN_TOKEN"
	if generated {
		origin = "generated, kept in " + filepath.Join(dataDir, "admin-token")
	}
	fmt.Fprintf(w, `
Livret is running (Ctrl-C stops it; the state stays in %s).

  API             %s/v1/…   (OpenAPI: %s/openapi.json, health: %s/readyz)
  Admin pages     %s/ui   (sign in with a school's API key)
  Temporal UI     %s   (runs of the namespace; search LivretOfficeId = N)
  Temporal        %s   (gRPC, for the temporal CLI and SDKs)
`, dataDir, u.API, u.API, u.API, u.API, u.TemporalUI, u.Temporal)
	if u.TemporalHTTP != "" {
		fmt.Fprintf(w, "  Temporal HTTP   %s/api/v1/…\n", u.TemporalHTTP)
	}
	if u.Mails != "" {
		fmt.Fprintf(w, "  Mails           %s   %s\n", u.Mails, u.MailsNote)
	} else if u.MailsNote != "" {
		fmt.Fprintf(w, "  Mails           %s\n", u.MailsNote)
	}
	fmt.Fprintf(w, `  DSR sandbox     %s   (RdvPermis login page and the DSR API)
  PostgreSQL      %s

Operator token (POST /v1/schools): %s   (%s)

RdvPermis accounts at the sandbox (school %s, agrément %s):
`, u.Sandbox, u.Database, adminToken, origin, devSchoolName, devAgrement)
	for _, a := range Accounts {
		fmt.Fprintf(w, "  %-28s password %s\n", a.Email, a.Password)
	}
	if demo {
		return // the demo creates that school
	}
	fmt.Fprintf(w, `
Start: curl -X POST -H 'Authorization: Bearer %s' -d '{"name":"%s","agrement":"%s"}' %s/v1/schools
`, adminToken, devSchoolName, devAgrement, u.API)
}

// devDatabase finds the PostgreSQL to use: DATABASE_URL when set (it must answer), else the
// local server on 127.0.0.1:5432 when it answers, else a cluster of our own in the data
// folder when PostgreSQL's binaries are installed.
func devDatabase(ctx context.Context, cfg Config, dataDir string, st *Stack) (string, error) {
	if cfg.PostgresMode == "auto" {
		url := cfg.DatabaseURL
		if url == "" {
			url = cfg.LocalDatabaseURL
		}
		err := pgAnswers(ctx, url)
		if err == nil {
			return url, nil
		}
		if cfg.DatabaseURL != "" {
			return "", fmt.Errorf("DATABASE_URL does not answer (%v): start that PostgreSQL, or unset DATABASE_URL to let `livret dev` use or start a local one", err)
		}
	}
	bin := PostgresBinDir()
	if bin == "" {
		return "", errors.New("no PostgreSQL answers on 127.0.0.1:5432 and none is installed here: install one (`sudo apt-get install postgresql`, or `brew install postgresql`) or set DATABASE_URL to a server you can reach")
	}
	pg, err := StartPostgres(ctx, bin, filepath.Join(dataDir, "postgres"), slog.Default())
	if err != nil {
		return "", err
	}
	st.onStop("postgres", pg.Stop)
	return pg.URL("livret"), nil
}

// pgAnswers reports whether something accepts connections at the URL's host and port.
func pgAnswers(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return err
	}
	if strings.HasPrefix(cfg.Host, "/") {
		return nil // a Unix socket: let the connection say
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	if err != nil {
		return err
	}
	return conn.Close()
}

// dialTemporal connects to the embedded frontend, which may take a moment to serve.
func dialTemporal(ctx context.Context, opts client.Options) (client.Client, error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil {
			return c, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("temporal: %w", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func shutdown(srv *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// secretFile returns the secret kept in path, generating it there (0600) the first time.
func secretFile(path string, gen func() string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	s := gen()
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", err
	}
	return s, nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// lockDataDir keeps two `livret dev` off one data folder: two Temporal servers on one
// SQLite file would corrupt each other's view.
func lockDataDir(dir string) (func() error, error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("another `livret dev` is using %s: stop it, or set LIVRET_DATA_DIR to another folder", dir)
	}
	return f.Close, nil
}

// redactURL hides a password in a connection string.
func redactURL(raw string) string {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil || cfg.Password == "" {
		return raw
	}
	return strings.Replace(raw, ":"+cfg.Password+"@", ":***@", 1)
}
