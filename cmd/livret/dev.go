//go:build !nodev

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"livret/devstack"
)

// devConfigFromEnv is `livret dev`'s configuration, from the environment (README.md, one
// table).
func devConfigFromEnv() (devstack.Config, error) {
	c := devstack.Config{
		DataDir:          env("LIVRET_DATA_DIR", ".livret"),
		HTTPAddr:         env("LIVRET_HTTP_ADDR", "127.0.0.1:8080"),
		SandboxAddr:      env("LIVRET_SANDBOX_ADDR", "127.0.0.1:8090"),
		TemporalAddr:     env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		UIAddr:           env("LIVRET_TEMPORAL_UI_ADDR", "127.0.0.1:8233"),
		Namespace:        env("TEMPORAL_NAMESPACE", "default"),
		DatabaseURL:      env("DATABASE_URL", ""),
		LocalDatabaseURL: defaultDatabaseURL,
		PostgresMode:     env("LIVRET_DEV_POSTGRES", "auto"),
		AdminToken:       env("LIVRET_ADMIN_TOKEN", ""),
		TokenKey:         env("LIVRET_TOKEN_KEY", ""),
		SandboxToken:     env("LIVRET_SANDBOX_TOKEN", ""),
		DefaultScope:     env("LIVRET_DEFAULT_SCOPE", ""),
		SMTPURL:          env("LIVRET_SMTP_URL", ""),
		MailpitAddr:      env("LIVRET_MAILPIT_ADDR", "127.0.0.1:8025"),
		MailpitSMTPAddr:  env("LIVRET_MAILPIT_SMTP_ADDR", "127.0.0.1:1025"),
		ETPHoursPerETP:   env("LIVRET_ETP_HOURS_PER_ETP", ""),
	}
	if c.PostgresMode != "auto" && c.PostgresMode != "own" {
		return c, fmt.Errorf("LIVRET_DEV_POSTGRES: %q: want auto or own", c.PostgresMode)
	}
	var err error
	if c.RateLimit, err = envInt("LIVRET_DSR_RATE_LIMIT", 210); err != nil {
		return c, err
	}
	if c.ETPWindowMonths, err = envInt("LIVRET_ETP_WINDOW_MONTHS", 0); err != nil {
		return c, err
	}
	c.PublicURL = strings.TrimRight(env("LIVRET_PUBLIC_URL", "http://"+devstack.Browsable(c.HTTPAddr)), "/")
	// The frontend's HTTP API next to its gRPC port (7233 → 7243), as the Temporal CLI does.
	c.TemporalHTTPAddr = env("LIVRET_TEMPORAL_HTTP_ADDR", "")
	if c.TemporalHTTPAddr == "" {
		host, port, err := net.SplitHostPort(c.TemporalAddr)
		if err != nil {
			return c, fmt.Errorf("TEMPORAL_ADDRESS %q: %w", c.TemporalAddr, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return c, fmt.Errorf("TEMPORAL_ADDRESS %q: bad port", c.TemporalAddr)
		}
		c.TemporalHTTPAddr = net.JoinHostPort(host, strconv.Itoa(p+10))
	}
	if c.TemporalHTTPAddr == "off" {
		c.TemporalHTTPAddr = ""
	}
	return c, nil
}

// runDev runs the whole of Livret on this machine (devstack.Start) until Ctrl-C; the data
// folder keeps the state for the next start.
func runDev(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "seed a demo school (two offices, two weeks of lessons, a run done and a failed run) once ready")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	cfg, err := devConfigFromEnv()
	if err != nil {
		return err
	}
	cfg.Demo = *demo
	st, err := devstack.Start(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			// A Ctrl-C while starting is a stop like any other, not a failure: Start has
			// stopped what it had started.
			slog.Info("livret dev stopped")
			return nil
		}
		return err
	}
	<-ctx.Done()
	slog.Info("livret dev stopping")
	forceExitOnSecondSignal()
	err = st.Stop()
	slog.Info("livret dev stopped")
	return err
}

// runDemo is `livret demo`: `livret dev --demo`.
func runDemo(ctx context.Context, args []string) error {
	return runDev(ctx, append([]string{"--demo"}, args...))
}

// forceExitOnSecondSignal: a second Ctrl-C while stopping exits at once. A PostgreSQL cluster
// of our own left running is adopted by the next start.
func forceExitOnSecondSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		fmt.Fprintln(os.Stderr, "livret dev: interrupted again, exiting without waiting")
		os.Exit(130)
	}()
}
