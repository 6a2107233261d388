// Package mailpit runs mailpit, a real SMTP server that keeps every message it receives and
// shows them in a web UI, as a child process: `livret dev` starts one as its mail catcher,
// and the tests (mailer/mailtest) send to one and read what arrived through its HTTP API.
//
// mailpit is a tool, not a dependency of Livret's module: it is installed with
// InstallCommand (.ci/run does so), never downloaded as a prebuilt binary.
package mailpit

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
)

// The mailpit Livret is tested with.
const (
	Module         = "github.com/axllent/mailpit"
	Version        = "v1.33.1"
	InstallCommand = "go install " + Module + "@" + Version
)

// ErrNotInstalled: no mailpit binary on the PATH nor in Go's install folder.
var ErrNotInstalled = errors.New("mailpit is not installed: install it with `" + InstallCommand + "`")

// Find returns the path of the mailpit binary: on the PATH, else where `go install` puts it
// ($GOBIN, $GOPATH/bin, ~/go/bin), which is often not on a newcomer's PATH.
func Find() (string, error) {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, d := range filepath.SplitList(gp) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "mailpit")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", ErrNotInstalled
}

// Install runs InstallCommand with the go command on the PATH (a Go developer's machine has
// it): what `livret dev` does on a machine that has no mailpit yet, so its first command
// needs no other step. It returns the installed binary's path.
func Install(ctx context.Context) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", ErrNotInstalled
	}
	cmd := exec.CommandContext(ctx, goBin, "install", Module+"@"+Version)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%s: %w: %s", InstallCommand, err, strings.TrimSpace(string(out)))
	}
	return Find()
}

// InstalledVersion is the module version a `go install`ed binary was built from ("" when
// unknown): `mailpit version` says "dev" for such a build, its build information does not.
func InstalledVersion(path string) string {
	info, err := buildinfo.ReadFile(path)
	if err != nil || info.Main.Path != Module {
		return ""
	}
	return info.Main.Version
}

// Options shape a mailpit process.
type Options struct {
	// Binary is the mailpit to run (default: Find).
	Binary string
	// SMTPAddr and HTTPAddr are where it listens for mail and for its web UI and API. Empty,
	// or port 0: a free port on 127.0.0.1.
	SMTPAddr, HTTPAddr string
	// Database is the file it keeps messages in ("" for a temporary one of its own, gone
	// when it stops).
	Database string
	// AcceptAnyAuth makes it accept any SMTP user and password (and none), PLAIN and LOGIN
	// included on a connection without TLS.
	AcceptAnyAuth bool
	// Log receives mailpit's own output (default: discarded).
	Log io.Writer
	// StartTimeout bounds the wait for it to answer (default 30 s).
	StartTimeout time.Duration
}

// Process is a running mailpit.
type Process struct {
	// SMTPAddr and HTTPAddr are host:port, as it listens.
	SMTPAddr, HTTPAddr string
	// Client reads its messages through its HTTP API.
	Client *Client

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error
	output  *tail
	stop    sync.Once
	stopErr error
}

// SMTPURL is LIVRET_SMTP_URL for this mailpit: plain SMTP on the loopback, no TLS.
func (p *Process) SMTPURL() string { return "smtp://" + p.SMTPAddr + "?tls=none" }

// WebURL is the address of its web UI.
func (p *Process) WebURL() string { return "http://" + p.HTTPAddr }

// Start runs mailpit and returns once both its SMTP server and its API answer. A port
// picked for it that another process took meanwhile is picked again (a few times).
func Start(ctx context.Context, opts Options) (*Process, error) {
	if opts.Binary == "" {
		bin, err := Find()
		if err != nil {
			return nil, err
		}
		opts.Binary = bin
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	var lastErr error
	for range 3 {
		p, err := start(ctx, opts)
		if err == nil {
			return p, nil
		}
		lastErr = err
		// Only a port we picked can have been taken meanwhile; a port the caller chose is
		// the caller's to change.
		if !errors.Is(err, errExited) || (!freeWanted(opts.SMTPAddr) && !freeWanted(opts.HTTPAddr)) {
			break
		}
	}
	return nil, lastErr
}

var errExited = errors.New("mailpit exited")

func freeWanted(addr string) bool {
	if addr == "" {
		return true
	}
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port == "0"
}

func start(ctx context.Context, opts Options) (*Process, error) {
	smtpAddr, err := resolve(opts.SMTPAddr)
	if err != nil {
		return nil, err
	}
	httpAddr, err := resolve(opts.HTTPAddr)
	if err != nil {
		return nil, err
	}
	args := []string{
		"--smtp", smtpAddr, "--listen", httpAddr,
		// No call to GitHub for a newer release, no reverse DNS of the loopback.
		"--disable-version-check", "--smtp-disable-rdns",
	}
	if opts.Database != "" {
		args = append(args, "--database", opts.Database)
	}
	if opts.AcceptAnyAuth {
		args = append(args, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	}
	out := &tail{w: opts.Log}
	// Not exec.CommandContext: the process lives until Stop, whatever ctx does after Start.
	cmd := exec.Command(opts.Binary, args...)
	cmd.Stdout, cmd.Stderr = out, out
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("mailpit: start %s: %w", opts.Binary, err)
	}
	p := &Process{SMTPAddr: smtpAddr, HTTPAddr: httpAddr, cmd: cmd, done: make(chan struct{}), output: out,
		Client: &Client{BaseURL: "http://" + httpAddr, HTTP: &http.Client{Timeout: 10 * time.Second}}}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	if err := p.waitAnswering(ctx, opts.StartTimeout); err != nil {
		_ = p.Stop()
		return nil, err
	}
	return p, nil
}

// resolve turns "" or a port 0 into a free port of 127.0.0.1 (listened on, then closed).
func resolve(addr string) (string, error) {
	if !freeWanted(addr) {
		return addr, nil
	}
	host := "127.0.0.1"
	if addr != "" {
		if h, _, _ := net.SplitHostPort(addr); h != "" {
			host = h
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("mailpit: no free port on %s: %w", host, err)
	}
	defer ln.Close()
	return net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)), nil
}

// waitAnswering polls until the SMTP server greets and the API answers.
func (p *Process) waitAnswering(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := p.answers(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w before answering (%v): %s", errExited, p.waitErr, p.output.String())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mailpit did not answer within %s: %v: %s", timeout, err, p.output.String())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *Process) answers(ctx context.Context) error {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", p.SMTPAddr)
	if err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	greeting := make([]byte, 3)
	_, err = io.ReadFull(conn, greeting)
	_ = conn.Close()
	if err != nil {
		return err
	}
	if string(greeting) != "220" {
		return fmt.Errorf("SMTP greeting %q", greeting)
	}
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, http.MethodGet, p.Client.BaseURL+"/readyz", nil)
	resp, err := p.Client.HTTP.Do(req)
	if err != nil {
		return err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readyz: %s", resp.Status)
	}
	return nil
}

// Stop ends the process (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (p *Process) Stop() error {
	p.stop.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			p.stopErr = errors.New("mailpit did not stop on SIGTERM within 5 s: killed")
		}
	})
	return p.stopErr
}

// Output is the end of what mailpit printed (for a test's failure message).
func (p *Process) Output() string { return p.output.String() }

// tail keeps the last 8 KiB written to it, and copies everything to w when set.
type tail struct {
	mu  sync.Mutex
	buf []byte
	w   io.Writer
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 8<<10 {
		t.buf = t.buf[len(t.buf)-8<<10:]
	}
	if t.w != nil {
		_, _ = t.w.Write(b)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}

// Client reads a mailpit's messages through its HTTP API (/api/v1).
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// Address is a sender or recipient as mailpit reads it.
type Address struct {
	Name    string
	Address string
}

// Summary is a message of the list, newest first.
type Summary struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Cc        []Address
	Bcc       []Address
	Subject   string
	Created   time.Time
	Snippet   string
}

// Message is one message in full: its decoded text and HTML parts.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Date      time.Time
	Text      string
	HTML      string
}

// Messages lists the messages received (up to 1,000), newest first.
func (c *Client) Messages(ctx context.Context) ([]Summary, error) {
	var page struct {
		Total    int
		Messages []Summary `json:"messages"`
	}
	if err := c.get(ctx, "/api/v1/messages?limit=1000", &page); err != nil {
		return nil, err
	}
	return page.Messages, nil
}

// Message reads one message, by mailpit's ID.
func (c *Client) Message(ctx context.Context, id string) (Message, error) {
	var m Message
	err := c.get(ctx, "/api/v1/message/"+url.PathEscape(id), &m)
	return m, err
}

// Headers reads one message's headers, as sent.
func (c *Client) Headers(ctx context.Context, id string) (map[string][]string, error) {
	var h map[string][]string
	err := c.get(ctx, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return h, err
}

// Raw reads one message's source, as received.
func (c *Client) Raw(ctx context.Context, id string) (string, error) {
	b, err := c.do(ctx, http.MethodGet, "/api/v1/message/"+url.PathEscape(id)+"/raw")
	return string(b), err
}

// DeleteAll empties the mailbox.
func (c *Client) DeleteAll(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodDelete, "/api/v1/messages")
	return err
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	b, err := c.do(ctx, http.MethodGet, path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("mailpit: %s: %w", path, err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, nil)
	if err != nil {
		return nil, err
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("mailpit: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("mailpit: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	return b, nil
}
