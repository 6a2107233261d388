package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"go.temporal.io/sdk/client"

	"livret/db"
	"livret/dsr"
	"livret/webapi"
	"livret/webui"
	"livret/worker"
)

// runWebapi serves Livret's HTTP API (docs/api.md) on LIVRET_HTTP_ADDR until ctx is
// cancelled, then lets the requests in flight finish.
func runWebapi(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments: %v", args)
	}
	addr := env("LIVRET_HTTP_ADDR", "127.0.0.1:8080")
	cfg := webapi.Config{
		PublicURL:  env("LIVRET_PUBLIC_URL", "http://"+addr),
		AdminToken: env("LIVRET_ADMIN_TOKEN", ""),
		TokenKey:   env("LIVRET_TOKEN_KEY", ""),
		// What a new school sends: guide (the vendor guide's rules) unless the deployment says etendu.
		DefaultScope: env("LIVRET_DEFAULT_SCOPE", ""),
		// An ETP estimate only when the deployment gives its hours per ETP (docs/rules.md, "ETP").
		ETPHoursPerETP: env("LIVRET_ETP_HOURS_PER_ETP", ""),
		DSR: dsr.Config{
			BaseURL:      env("LIVRET_DSR_URL", "http://127.0.0.1:8090"),
			ClientID:     env("LIVRET_DSR_CLIENT_ID", ""),
			ClientSecret: env("LIVRET_DSR_CLIENT_SECRET", ""),
		},
		Logger: slog.Default(),
	}
	var err error
	if cfg.ETPWindowMonths, err = envInt("LIVRET_ETP_WINDOW_MONTHS", 0); err != nil {
		return err
	}
	// Checked before dialling anything: a missing secret is a configuration error, said at once.
	if err := webapi.CheckAdminToken(cfg.AdminToken); err != nil {
		return err
	}
	if cfg.TokenKey == "" {
		return errors.New("LIVRET_TOKEN_KEY is required (id:base64key, 32-byte AES key)")
	}

	pool, err := db.Open(ctx, databaseURL())
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()
	cfg.Pool = pool

	opts, _ := temporalOptions(nil)
	tc, err := client.Dial(opts)
	if err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	defer tc.Close()
	cfg.Orchestrator = worker.NewOrchestrator(tc)

	// The people's invitations and reset links go through LIVRET_SMTP_URL's server, like the
	// digests; without it, inviting answers 503.
	mail, err := mailerFromEnv()
	if err != nil {
		return fmt.Errorf("LIVRET_SMTP_URL: %w", err)
	}
	if mail != nil {
		cfg.SendMail = mail.SendText
	}
	srv, err := webapi.New(cfg)
	if err != nil {
		return err
	}
	srv.Pages = webui.New(srv.School, srv.Sealer, srv.Logger)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}
