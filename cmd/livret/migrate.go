package main

import (
	"context"
	"log/slog"

	"livret/db"
)

// defaultDatabaseURL is the PostgreSQL every machine of this project runs locally.
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/livret?sslmode=disable"

func databaseURL() string { return env("DATABASE_URL", defaultDatabaseURL) }

func runMigrate(ctx context.Context, _ []string) error {
	if err := db.EnsureDatabase(ctx, databaseURL()); err != nil {
		return err
	}
	if err := db.Migrate(ctx, databaseURL()); err != nil {
		return err
	}
	slog.Info("migrations applied")
	return nil
}
