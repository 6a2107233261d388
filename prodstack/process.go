package prodstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is one program of the stack, started and stopped as often as a drill likes; its
// log file gathers every run's output, each run headed by a line of its own.
type process struct {
	name        string
	path        string
	args        []string
	env         []string
	log         string
	oneShot     bool                            // runs to its end (migrate)
	ready       func(ctx context.Context) error // nil: started is ready
	stopTimeout time.Duration                   // SIGTERM to SIGKILL

	mu         sync.Mutex
	cmd        *exec.Cmd
	done       chan struct{} // closed at the exit of cmd
	exitErr    error
	stopping   bool     // an exit is expected (Stop, Signal)
	starts     int      // runs so far
	unexpected []string // exits nobody asked for
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) start() error {
	p.mu.Lock()
	if p.cmd != nil && !p.exited() {
		p.mu.Unlock()
		return fmt.Errorf("prodstack: %s is already running", p.name)
	}
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	p.starts++
	fmt.Fprintf(logf, "=== prodstack: %s start #%d at %s ===\n", p.name, p.starts, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(p.path, p.args...)
	// Later entries win: the stack's variables override the caller's environment.
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.mu.Unlock()
		return fmt.Errorf("prodstack: start %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.exitErr, p.stopping = cmd, done, nil, false
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.exitErr = err
		if !p.stopping && !p.oneShot {
			p.unexpected = append(p.unexpected, fmt.Sprintf("%v at %s", err, time.Now().UTC().Format(time.RFC3339)))
		}
		p.mu.Unlock()
		close(done)
	}()

	if p.oneShot {
		<-done
		if p.exitErr != nil {
			return fmt.Errorf("prodstack: %s: %w", p.name, p.exitErr)
		}
		return nil
	}
	if p.ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go func() {
		select {
		case <-done: // died while starting: no use waiting
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := p.ready(ctx); err != nil {
		if p.exited() {
			return fmt.Errorf("prodstack: %s exited while starting: %v", p.name, p.exitErr)
		}
		return fmt.Errorf("prodstack: %s not ready: %w", p.name, err)
	}
	return nil
}

func (p *process) stop() (time.Duration, error) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	if cmd == nil || p.exited() {
		p.mu.Unlock()
		return 0, fmt.Errorf("prodstack: %s is not running", p.name)
	}
	p.stopping = true
	p.mu.Unlock()
	began := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-done:
	case <-time.After(p.stopTimeout):
		_ = cmd.Process.Kill()
		<-done
		return time.Since(began), fmt.Errorf("prodstack: %s did not stop within %s of SIGTERM: killed", p.name, p.stopTimeout)
	}
	took := time.Since(began)
	if err := p.exitErr; err != nil {
		var exit *exec.ExitError
		// The Temporal server ends on SIGTERM with "All services are stopped." and status 0;
		// anything else is an unclean stop.
		if errors.As(err, &exit) {
			return took, fmt.Errorf("prodstack: %s stopped uncleanly: %s", p.name, strings.TrimSpace(exit.String()))
		}
		return took, err
	}
	return took, nil
}
