package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PostgresBinDir returns the folder of the newest PostgreSQL server binaries installed
// (Debian's /usr/lib/postgresql/<version>/bin, else initdb on the PATH), or "" when there
// is none.
func PostgresBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	var found []string
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "initdb")) && isExecutable(filepath.Join(d, "pg_ctl")) {
			found = append(found, d)
		}
	}
	if len(found) > 0 {
		version := func(d string) int {
			n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
			return n
		}
		sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
		return found[0]
	}
	if p, err := exec.LookPath("initdb"); err == nil && isExecutable(filepath.Join(filepath.Dir(p), "pg_ctl")) {
		return filepath.Dir(p)
	}
	return ""
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Postgres is a PostgreSQL cluster of `livret dev`'s own, kept in its data folder.
type Postgres struct {
	bin   string
	dir   string
	port  int
	runAs string // "postgres" when this process is root: initdb and postgres refuse root
	log   *slog.Logger
}

// StartPostgres starts (creating it the first time) a cluster in dir with the binaries of
// binDir, listening on a free loopback port with trust authentication for the user
// "postgres". A cluster left running by a killed `livret dev` is adopted. Running as root,
// the cluster belongs to the system user "postgres", as Debian's own clusters do.
func StartPostgres(ctx context.Context, binDir, dir string, logger *slog.Logger) (*Postgres, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p := &Postgres{bin: binDir, dir: abs, log: logger}
	if os.Geteuid() == 0 {
		if err := p.prepareForPostgresUser(ctx); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, err
	}

	if _, err := os.Stat(filepath.Join(abs, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		logger.Info("creating a PostgreSQL cluster", "dir", abs)
		if out, err := p.run(ctx, "initdb", "-D", abs, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"); err != nil {
			return nil, fmt.Errorf("initdb in %s: %w\n%s", abs, err, out)
		}
	}

	if port, ok := p.runningPort(ctx); ok {
		logger.Info("adopting the PostgreSQL cluster left running", "dir", abs, "port", port)
		p.port = port
		return p, nil
	}
	port, err := freePorts("127.0.0.1", 1)
	if err != nil {
		return nil, err
	}
	p.port = port[0]
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	logger.Info("PostgreSQL started", "dir", abs, "port", p.port)
	return p, nil
}

// start starts the postmaster on p.port.
func (p *Postgres) start(ctx context.Context) error {
	// No Unix socket: the socket path would have to fit in 107 bytes and be writable by the
	// cluster's owner; Livret connects over TCP anyway.
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=200", p.port)
	logFile := filepath.Join(p.dir, "server.log")
	if out, err := p.run(ctx, "pg_ctl", "-D", p.dir, "-l", logFile, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		tail, _ := os.ReadFile(logFile)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("starting PostgreSQL in %s: %w\n%s%s", p.dir, err, out, tail)
	}
	return nil
}

// Restart stops the cluster with pg_ctl's shutdown mode ("fast": sessions are cut and a
// checkpoint is written; "immediate": the postmaster quits at once, as in a crash, and the
// next start replays the WAL), leaves it down for the given time, and starts it again on
// the same port. Clients see their connections drop and new ones refused meanwhile.
func (p *Postgres) Restart(ctx context.Context, mode string, down time.Duration) error {
	if mode != "fast" && mode != "immediate" {
		return fmt.Errorf("restart mode %q: fast or immediate", mode)
	}
	if out, err := p.run(ctx, "pg_ctl", "-D", p.dir, "-m", mode, "-w", "stop"); err != nil {
		return fmt.Errorf("stopping PostgreSQL in %s: %w: %s", p.dir, err, out)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	if err := p.start(ctx); err != nil {
		return err
	}
	p.log.Info("PostgreSQL restarted", "dir", p.dir, "port", p.port, "mode", mode, "down", down)
	return nil
}

// prepareForPostgresUser makes dir the postgres user's, and checks that user can reach it
// (a data folder under /root is not reachable by anyone else).
func (p *Postgres) prepareForPostgresUser(ctx context.Context) error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return errors.New("running as root, PostgreSQL needs the system user \"postgres\" to own its cluster, and there is none: install the postgresql package (which creates it) or set DATABASE_URL")
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		return errors.New("running as root, starting PostgreSQL as the user \"postgres\" needs runuser (util-linux): install it or set DATABASE_URL")
	}
	p.runAs = "postgres"
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	if err := os.Chown(p.dir, uid, gid); err != nil {
		return err
	}
	// The folder holding the cluster (the data folder, private) must let the postgres user
	// through: search permission only, nobody else can list it, its secrets stay 0600.
	if parent, err := os.Stat(filepath.Dir(p.dir)); err == nil && parent.Mode().Perm()&0o001 == 0 {
		if err := os.Chmod(filepath.Dir(p.dir), parent.Mode().Perm()|0o001); err != nil {
			return err
		}
	}
	if _, err := p.run(ctx, "test", "-w", p.dir, "-a", "-x", p.dir); err != nil {
		return fmt.Errorf("the user \"postgres\" cannot reach %s (a parent folder is private): set LIVRET_DATA_DIR to a folder outside it, or set DATABASE_URL", p.dir)
	}
	return nil
}

// run runs one of the cluster's programs (or "test") as the cluster's owner, in its own
// process group so a Ctrl-C in the terminal reaches `livret dev` only: it stops the
// cluster itself, after everything using it.
func (p *Postgres) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	prog := name
	if name != "test" {
		prog = filepath.Join(p.bin, name)
	}
	var cmd *exec.Cmd
	if p.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", p.runAs, "--", prog}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, prog, args...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Dir = "/"
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return bytes.TrimSpace(out.Bytes()), err
}

// runningPort reads the port of a postmaster already running on the cluster (pg_ctl status
// checks the process is alive; postmaster.pid's fourth line is its port).
func (p *Postgres) runningPort(ctx context.Context) (int, bool) {
	if _, err := p.run(ctx, "pg_ctl", "-D", p.dir, "status"); err != nil {
		return 0, false
	}
	// Readable: this process either owns the cluster or is root.
	data, err := os.ReadFile(filepath.Join(p.dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(data), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return 0, false
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err != nil {
		return 0, false
	}
	_ = conn.Close()
	return port, true
}

// URL is the connection string of a database of the cluster.
func (p *Postgres) URL(database string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, database)
}

// Dir is the cluster's folder.
func (p *Postgres) Dir() string { return p.dir }

// Stop stops the cluster (fast shutdown: open sessions are ended, data is safe).
func (p *Postgres) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if out, err := p.run(ctx, "pg_ctl", "-D", p.dir, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("stopping PostgreSQL in %s: %w: %s", p.dir, err, out)
	}
	p.log.Info("PostgreSQL stopped", "dir", p.dir)
	return nil
}
