// Package prodstack runs Livret in the shape of a deployment, every part its own process on
// this machine: the Temporal server built from the server module's cmd/server on PostgreSQL
// (plugin postgres12), its schema, namespace and search attributes applied by
// livret-temporal-setup (the program docker-compose.yml runs for the same steps), the DSR
// sandbox (`livret sandbox`), `livret migrate`, `livret worker` processes and `livret webapi`,
// all from the -tags nodev binary the image carries. The drills break it process by process
// (Stop, Start, Signal); the benchmark can run its workers in it.
//
// Each stack has databases of its own on the PostgreSQL server it is given (Livret's,
// Temporal's and Temporal's visibility, under unique names), dropped by Close, and ports
// chosen at run time. The Temporal server's ports are all between 20000 and 32000: it keeps
// its membership ports in a smallint column, and one above 32767 crashes it
// ("UpsertClusterMembership … out of range for type smallint").
package prodstack

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"livret/db"
	"livret/sandbox"
	"livret/worker"
	"livret/workflows"
)

// The processes, by index (Stop, Start, Signal…). Workers follow: Worker(1), Worker(2)…
const (
	Temporal = iota
	Sandbox
	Migrate
	WebAPI
	firstWorker
)

// Worker is the index of worker n, counted from 1 (its log is worker-n.log).
func Worker(n int) int { return firstWorker + n - 1 }

// Binaries are the programs a stack runs.
type Binaries struct {
	Livret   string // cmd/livret built with -tags nodev, as the image carries it
	Setup    string // cmd/livret-temporal-setup
	Temporal string // go.temporal.io/server/cmd/server, the module's tool dependency
}

// Build builds the three programs of the module at root: Livret's two into dir, the Temporal
// server with `go tool -n`, which builds it once into Go's cache and says where it is.
func Build(ctx context.Context, root, dir string) (Binaries, error) {
	b := Binaries{Livret: filepath.Join(dir, "livret"), Setup: filepath.Join(dir, "livret-temporal-setup")}
	build := exec.CommandContext(ctx, "go", "build", "-tags", "nodev", "-o", dir+string(filepath.Separator), "./cmd/livret", "./cmd/livret-temporal-setup")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return b, fmt.Errorf("go build livret: %w\n%s", err, out)
	}
	tool := exec.CommandContext(ctx, "go", "tool", "-n", "go.temporal.io/server/cmd/server")
	tool.Dir = root
	var stderr bytes.Buffer
	tool.Stderr = &stderr
	out, err := tool.Output()
	if err != nil {
		return b, fmt.Errorf("go tool -n (the Temporal server): %w\n%s", err, stderr.Bytes())
	}
	b.Temporal = strings.TrimSpace(string(out))
	return b, nil
}

// Config shapes a stack.
type Config struct {
	Bin Binaries
	// AdminURL is a PostgreSQL URL whose user may create databases (the tests'
	// TEST_DATABASE_URL); the stack's three databases are made on its server.
	AdminURL string
	// Dir holds the processes' logs and the sandbox's state; "" makes a temporary one,
	// removed by Close.
	Dir string
	// Workers is how many `livret worker` processes (default 2).
	Workers int
	// HoldWorkers starts everything but the workers; Start(Worker(n)) starts them.
	HoldWorkers bool
	// HistoryShards is the Temporal cluster's shard count (default 4).
	HistoryShards int
	// Namespace is Livret's Temporal namespace (default "livret").
	Namespace string
	// ClientID and ClientSecret are the OAuth client registered at the sandbox, which the
	// workers and the API use (default livret-prodstack).
	ClientID, ClientSecret string
	// Env is added to every Livret process's environment; WorkerEnv to the workers' only
	// (LIVRET_DSR_RATE_LIMIT=0, say).
	Env, WorkerEnv []string
	// Logf, when set, is told each step (a test's t.Logf).
	Logf func(format string, args ...any)
}

// Stack is a running production-shaped Livret.
type Stack struct {
	cfg Config
	// Dir holds a log per process (temporal.log, sandbox.log, migrate.log, webapi.log,
	// worker-1.log…, and the setup's temporal-schema.log and temporal-setup.log).
	Dir string
	// DatabaseURL is Livret's database.
	DatabaseURL string
	// TemporalAddr and Namespace are the Temporal frontend and Livret's namespace.
	TemporalAddr, Namespace string
	SandboxURL              string
	// APIURL is the web API's address; AdminToken its operator token.
	APIURL, AdminToken string
	// KeySpec is the token key (LIVRET_TOKEN_KEY) of every Livret process.
	KeySpec string

	procs     []*process
	client    client.Client // the stack's own, for readiness
	dbNames   []string      // Livret's, Temporal's, visibility's
	pg        *pgconn.Config
	ownDir    bool
	closeOnce sync.Once
	nsReady   bool
}

// New starts a stack: the Temporal databases and schema, the server, the namespace, the
// sandbox, the migrations, the web API and the workers. On error, what was started is
// stopped again and its logs' ends are in the error.
func New(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.HistoryShards == 0 {
		cfg.HistoryShards = 4
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "livret"
	}
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = "livret-prodstack", "livret-prodstack-secret"
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	for _, p := range []string{cfg.Bin.Livret, cfg.Bin.Setup, cfg.Bin.Temporal} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("prodstack: program %q: %w (prodstack.Build makes them)", p, err)
		}
	}
	pg, err := pgconn.ParseConfig(cfg.AdminURL)
	if err != nil {
		return nil, fmt.Errorf("prodstack: admin URL: %w", err)
	}
	s := &Stack{cfg: cfg, Dir: cfg.Dir, Namespace: cfg.Namespace, pg: pg, KeySpec: db.NewKeySpec("prodstack")}
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "livret-prodstack"); err != nil {
			return nil, err
		}
		s.ownDir = true
	} else if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("%w\n%s", err, s.LogTails(40))
			s.Close()
		}
	}()

	if err := dropStale(ctx, cfg.AdminURL, cfg.Logf); err != nil {
		return nil, err
	}
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	prefix := fmt.Sprintf("prodstack_%d_%s", os.Getpid(), hex.EncodeToString(id))
	s.dbNames = []string{prefix + "_livret", prefix + "_temporal", prefix + "_temporal_vis"}
	if s.DatabaseURL, err = withDatabase(cfg.AdminURL, s.dbNames[0]); err != nil {
		return nil, err
	}
	token := make([]byte, 32)
	_, _ = rand.Read(token)
	s.AdminToken = base64.RawURLEncoding.EncodeToString(token)

	ports, err := temporalPorts()
	if err != nil {
		return nil, err
	}
	s.TemporalAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	sandboxAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s.SandboxURL = "http://" + sandboxAddr
	apiAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s.APIURL = "http://" + apiAddr
	dynConfig := filepath.Join(s.Dir, "dynamicconfig.yaml")
	// The same file as compose's temporal service: the server wants one; it restates a default.
	if err := os.WriteFile(dynConfig, []byte("limit.maxIDLength:\n  - value: 255\n"), 0o600); err != nil {
		return nil, err
	}
	s.client, err = client.NewLazyClient(client.Options{HostPort: s.TemporalAddr, Namespace: s.Namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		return nil, err
	}

	host := pg.Host
	if strings.HasPrefix(host, "/") {
		return nil, errors.New("prodstack: the admin URL must name a TCP host, not a socket directory")
	}
	livretEnv := append([]string{
		"DATABASE_URL=" + s.DatabaseURL,
		"LIVRET_TOKEN_KEY=" + s.KeySpec,
		"LIVRET_DSR_URL=" + s.SandboxURL,
		"LIVRET_DSR_CLIENT_ID=" + cfg.ClientID,
		"LIVRET_DSR_CLIENT_SECRET=" + cfg.ClientSecret,
		"LIVRET_PUBLIC_URL=" + s.APIURL,
		"TEMPORAL_ADDRESS=" + s.TemporalAddr,
		"TEMPORAL_NAMESPACE=" + s.Namespace,
	}, cfg.Env...)

	// The environment of compose's temporal service, with this stack's databases and ports.
	temporalEnv := []string{
		"DB=postgres12", "POSTGRES_SEEDS=" + host, "DB_PORT=" + strconv.Itoa(int(pg.Port)),
		"POSTGRES_USER=" + pg.User, "POSTGRES_PWD=" + pg.Password,
		"DBNAME=" + s.dbNames[1], "VISIBILITY_DBNAME=" + s.dbNames[2],
		"NUM_HISTORY_SHARDS=" + strconv.Itoa(cfg.HistoryShards),
		"BIND_ON_IP=127.0.0.1", "LOG_LEVEL=warn", "DYNAMIC_CONFIG_FILE_PATH=" + dynConfig,
		"FRONTEND_GRPC_PORT=" + strconv.Itoa(ports[0]), "FRONTEND_HTTP_PORT=" + strconv.Itoa(ports[1]),
		"FRONTEND_MEMBERSHIP_PORT=" + strconv.Itoa(ports[2]),
		"HISTORY_GRPC_PORT=" + strconv.Itoa(ports[3]), "HISTORY_MEMBERSHIP_PORT=" + strconv.Itoa(ports[4]),
		"MATCHING_GRPC_PORT=" + strconv.Itoa(ports[5]), "MATCHING_MEMBERSHIP_PORT=" + strconv.Itoa(ports[6]),
		"WORKER_GRPC_PORT=" + strconv.Itoa(ports[7]), "WORKER_MEMBERSHIP_PORT=" + strconv.Itoa(ports[8]),
	}
	s.procs = []*process{
		Temporal: {name: "temporal", path: cfg.Bin.Temporal, args: []string{"start"}, env: temporalEnv,
			ready: s.temporalReady, stopTimeout: 30 * time.Second},
		Sandbox: {name: "sandbox", path: cfg.Bin.Livret, args: []string{"sandbox", "--state", filepath.Join(s.Dir, "sandbox.json")},
			env: []string{"LIVRET_SANDBOX_ADDR=" + sandboxAddr}, ready: httpReady(s.SandboxURL + "/healthz"), stopTimeout: 15 * time.Second},
		Migrate: {name: "migrate", path: cfg.Bin.Livret, args: []string{"migrate"}, env: livretEnv, oneShot: true},
		WebAPI: {name: "webapi", path: cfg.Bin.Livret, args: []string{"webapi"},
			env:   append(append([]string{}, livretEnv...), "LIVRET_HTTP_ADDR="+apiAddr, "LIVRET_ADMIN_TOKEN="+s.AdminToken),
			ready: httpReady(s.APIURL + "/readyz"), stopTimeout: 30 * time.Second},
	}
	for n := 1; n <= cfg.Workers; n++ {
		metrics, err := freeAddr()
		if err != nil {
			return nil, err
		}
		env := append(append(append([]string{}, livretEnv...), "LIVRET_METRICS_ADDR="+metrics), cfg.WorkerEnv...)
		// Its activities get 30 s to finish their current call (worker.Options.StopTimeout),
		// the process a few more to close: compose's stop_grace_period is 40 s.
		s.procs = append(s.procs, &process{name: fmt.Sprintf("worker-%d", n), path: cfg.Bin.Livret, args: []string{"worker"},
			env: env, ready: httpReady("http://" + metrics + "/metrics"), stopTimeout: 40 * time.Second})
	}
	for _, p := range s.procs {
		p.log = filepath.Join(s.Dir, p.name+".log")
	}

	setupEnv := []string{"SQL_PLUGIN=postgres12", "SQL_HOST=" + host, "SQL_PORT=" + strconv.Itoa(int(pg.Port)),
		"SQL_USER=" + pg.User, "SQL_PASSWORD=" + pg.Password, "DBNAME=" + s.dbNames[1], "VISIBILITY_DBNAME=" + s.dbNames[2],
		"TEMPORAL_ADDRESS=" + s.TemporalAddr, "TEMPORAL_NAMESPACE=" + s.Namespace}
	step := func(what string, f func() error) error {
		began := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("prodstack: %s: %w", what, err)
		}
		cfg.Logf("prodstack: %s in %.1f s", what, time.Since(began).Seconds())
		return nil
	}
	if err := step("temporal-schema", func() error { return s.runSetup(ctx, "schema", "temporal-schema", setupEnv) }); err != nil {
		return nil, err
	}
	if err := step("temporal started", func() error { return s.Start(Temporal) }); err != nil {
		return nil, err
	}
	if err := step("temporal-setup (namespace "+s.Namespace+")", func() error { return s.runSetup(ctx, "namespace", "temporal-setup", setupEnv) }); err != nil {
		return nil, err
	}
	s.nsReady = true
	if err := step("sandbox started", func() error { return s.startSandbox(ctx) }); err != nil {
		return nil, err
	}
	if err := step("migrate", func() error { return s.Start(Migrate) }); err != nil {
		return nil, err
	}
	if err := step("webapi started", func() error { return s.Start(WebAPI) }); err != nil {
		return nil, err
	}
	if !cfg.HoldWorkers {
		for n := 1; n <= cfg.Workers; n++ {
			if err := step(fmt.Sprintf("worker-%d started", n), func() error { return s.Start(Worker(n)) }); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Workers is how many worker processes the stack has.
func (s *Stack) Workers() int { return s.cfg.Workers }

// Name is process i's name (its log is Dir/<name>.log).
func (s *Stack) Name(i int) string { return s.procs[i].name }

// LogFile is process i's log, kept across its restarts.
func (s *Stack) LogFile(i int) string { return s.procs[i].log }

// runSetup runs livret-temporal-setup as compose's service of that name does.
func (s *Stack) runSetup(ctx context.Context, sub, name string, env []string) error {
	logf, err := os.OpenFile(filepath.Join(s.Dir, name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.cfg.Bin.Setup, sub)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	return cmd.Run()
}

// startSandbox starts the sandbox and registers the OAuth client (kept in its state file
// across its restarts).
func (s *Stack) startSandbox(ctx context.Context) error {
	if err := s.Start(Sandbox); err != nil {
		return err
	}
	return sandbox.NewControl(s.SandboxURL, "").AddClient(ctx, sandbox.Client{ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret,
		RedirectURIs: []string{s.APIURL + "/v1/oauth/callback"}})
}

// temporalReady: the frontend's health at the first start, before the namespace exists;
// afterwards, calls in the namespace that reach history and matching.
func (s *Stack) temporalReady(ctx context.Context) error {
	if s.nsReady {
		return worker.WaitServing(ctx, s.client, workflows.TaskQueue, 2*time.Minute)
	}
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := s.client.CheckHealth(cctx, &client.CheckHealthRequest{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Start starts process i and waits until it is ready (a one-shot, until it has exited 0).
func (s *Stack) Start(i int) error { return s.procs[i].start() }

// Stop sends SIGTERM to process i and waits for it to exit; if it has not after its grace
// period (a worker's: 40 s), SIGKILL. It returns how long the stop took and an error when the
// process did not exit 0 on its own.
func (s *Stack) Stop(i int) (time.Duration, error) { return s.procs[i].stop() }

// Signal sends sig to process i without waiting.
func (s *Stack) Signal(i int, sig os.Signal) error {
	p := s.procs[i]
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.exited() {
		return fmt.Errorf("prodstack: %s is not running", p.name)
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM || sig == os.Interrupt {
		p.stopping = true // an exit is expected now
	}
	return p.cmd.Process.Signal(sig)
}

// Wait waits up to timeout for process i to exit and returns its exit error.
func (s *Stack) Wait(i int, timeout time.Duration) error {
	p := s.procs[i]
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return fmt.Errorf("prodstack: %s was never started", p.name)
	}
	select {
	case <-done:
		return p.exitErr
	case <-time.After(timeout):
		return fmt.Errorf("prodstack: %s still running after %s", p.name, timeout)
	}
}

// Running says whether process i runs.
func (s *Stack) Running(i int) bool {
	p := s.procs[i]
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !p.exited()
}

// Check reports the processes that exited without being asked to.
func (s *Stack) Check() error {
	var errs []error
	for _, p := range s.procs {
		p.mu.Lock()
		for _, e := range p.unexpected {
			errs = append(errs, fmt.Errorf("%s exited on its own: %s", p.name, e))
		}
		p.mu.Unlock()
	}
	return errors.Join(errs...)
}

// LogTails is the last n lines of every log of the stack, for a failure's report.
func (s *Stack) LogTails(n int) string {
	names := []string{"temporal-schema", "temporal-setup"}
	for _, p := range s.procs {
		names = append(names, p.name)
	}
	var b strings.Builder
	for _, name := range names {
		lines := tail(filepath.Join(s.Dir, name+".log"), n)
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "--- %s.log (last %d lines) ---\n", name, len(lines))
		for _, l := range lines {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Close stops every process (the workers first, Temporal last) and drops the stack's
// databases; the directory goes too when the stack made it.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		for i := len(s.procs) - 1; i >= 0; i-- {
			if s.Running(i) {
				_, _ = s.Stop(i)
			}
		}
		if s.client != nil {
			s.client.Close()
		}
		if len(s.dbNames) > 0 {
			if err := dropDatabases(s.cfg.AdminURL, s.dbNames); err != nil {
				s.cfg.Logf("prodstack: %v", err)
			}
		}
		if s.ownDir {
			_ = os.RemoveAll(s.Dir)
		}
	})
}

// dropDatabases drops the stack's databases, cutting any session left on them.
func dropDatabases(adminURL string, names []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("drop databases: %w", err)
	}
	defer conn.Close(ctx)
	var errs []error
	for _, name := range names {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			errs = append(errs, fmt.Errorf("drop database %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// dropStale drops the databases of stacks whose process is gone (killed before its Close):
// their names carry the pid of the process that made them.
func dropStale(ctx context.Context, adminURL string, logf func(string, ...any)) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("prodstack: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'prodstack\_%'`)
	if err != nil {
		return fmt.Errorf("prodstack: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("prodstack: %w", err)
	}
	var stale []string
	for _, name := range names {
		pid, err := strconv.Atoi(strings.Split(name, "_")[1])
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			stale = append(stale, name)
		}
	}
	if len(stale) > 0 {
		logf("prodstack: dropping the databases of stacks gone without their Close: %v", stale)
		return dropDatabases(adminURL, stale)
	}
	return nil
}

// withDatabase is the URL with its database replaced.
func withDatabase(raw, name string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("prodstack: the admin URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

// httpReady waits until url answers 200.
func httpReady(url string) func(context.Context) error {
	return func(ctx context.Context) error {
		hc := &http.Client{Timeout: 2 * time.Second}
		var last error
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return nil
				}
				err = fmt.Errorf("%s answers %s", url, resp.Status)
			}
			last = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// tail is the file's last n lines.
func tail(name string, n int) []string {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return lines
}
