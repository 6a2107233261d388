package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"livret/sandbox"
)

// runSandbox serves the DSR stand-in (docs/dsr.md, "The sandbox") on LIVRET_SANDBOX_ADDR until ctx is
// cancelled. Its /sandbox/ controls answer loopback callers only, unless LIVRET_SANDBOX_TOKEN
// is set, in which case they need that bearer token from anywhere; it refuses to listen beyond
// loopback without that token. They answer only a loopback Host (or LIVRET_SANDBOX_HOSTS) and
// JSON bodies.
func runSandbox(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	seedFile := fs.String("seed", "", "JSON `file` of clients, accounts, students and schools loaded at start")
	stateFile := fs.String("state", "", "JSON `file` keeping the sandbox's state across restarts")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	addr := env("LIVRET_SANDBOX_ADDR", "127.0.0.1:8090")
	controlToken := env("LIVRET_SANDBOX_TOKEN", "")
	if err := sandbox.CheckExposure(addr, controlToken); err != nil {
		return err
	}
	// LIVRET_SANDBOX_HOSTS: comma-separated Host names the controls answer besides loopback
	// ones (a compose service's name).
	var controlHosts []string
	for _, h := range strings.Split(env("LIVRET_SANDBOX_HOSTS", ""), ",") {
		if h = strings.TrimSpace(h); h != "" {
			controlHosts = append(controlHosts, h)
		}
	}

	opts := sandbox.Options{StateFile: *stateFile, ControlToken: controlToken, ControlHosts: controlHosts, Logger: slog.Default()}
	if *seedFile != "" {
		seed, err := sandbox.ReadSeedFile(*seedFile)
		if err != nil {
			return err
		}
		opts.Seed = seed
	}
	sb, err := sandbox.Open(opts)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = sb.Close()
		return err
	}
	srv := &http.Server{
		Handler:           sb.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		// Requests inherit ctx, so a shutdown also ends injected-latency sleeps at once.
		BaseContext: func(net.Listener) context.Context { return ctx },
		ErrorLog:    slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	controls := "loopback only"
	if controlToken != "" {
		controls = "bearer token" // the token itself is never logged
	}
	slog.Info("sandbox listening", "addr", ln.Addr().String(), "controls", controls, "seed", *seedFile, "state", *stateFile)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		_ = sb.Close()
		return err
	case <-ctx.Done():
	}
	slog.Info("sandbox shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	// Close saves the state file one last time, after the last request has been answered.
	return errors.Join(shutdownErr, sb.Close())
}
