// Package db is Livret's data layer: the embedded migrations, the sqlc-generated queries
// (package dbq) and the transaction helper. No SQL lives outside db/queries and db/migrations.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for goose and pgtestdb
	"github.com/pressly/goose/v3"

	"livret/db/dbq"
)

//go:embed migrations/*.sql
var embedded embed.FS

// Migrations is the folder of forward-only SQL migrations, as goose reads it.
func Migrations() fs.FS {
	sub, err := fs.Sub(embedded, "migrations")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}

// Migrate applies every pending migration to the database at dsn.
func Migrate(ctx context.Context, dsn string) error {
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer conn.Close()
	return MigrateDB(ctx, conn)
}

// MigrateDB applies every pending migration through an open database/sql handle.
func MigrateDB(ctx context.Context, conn *sql.DB) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, conn, Migrations())
	if err != nil {
		return fmt.Errorf("db: read migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	return nil
}

// MigrateDBTo applies the pending migrations up to version (a migration's number) only: the
// tests of a migration fill a database at the version before it.
func MigrateDBTo(ctx context.Context, conn *sql.DB, version int64) error {
	provider, err := goose.NewProvider(goose.DialectPostgres, conn, Migrations())
	if err != nil {
		return fmt.Errorf("db: read migrations: %w", err)
	}
	if _, err := provider.UpTo(ctx, version); err != nil {
		return fmt.Errorf("db: migrate to %d: %w", version, err)
	}
	return nil
}

// Open connects a pool to the database at dsn and checks it answers.
func Open(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// Beginner is what WithTx needs: a pool or a connection.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// WithTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
// The rollback runs on a context that outlives ctx's cancellation, so a cancelled request
// never leaves a transaction open on a pooled connection. Never call the DSR inside fn.
func WithTx(ctx context.Context, b Beginner, fn func(q *dbq.Queries) error) (err error) {
	tx, err := b.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rbErr := tx.Rollback(context.WithoutCancel(ctx)); rbErr != nil && !errors.Is(rbErr, pgx.ErrTxClosed) {
				err = errors.Join(err, rbErr)
			}
		}
	}()
	if err = fn(dbq.New(tx)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// IsNotFound reports whether err is a query that found no row.
func IsNotFound(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// EnsureDatabase creates the database named in dsn when it does not exist yet, connecting to
// the server's "postgres" database to do so. A first run needs no manual createdb.
func EnsureDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("db: DATABASE_URL: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("db: cannot reach PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	return err
}

// DropDatabase drops the database named in dsn, closing its sessions (the benchmark's own
// throwaway database). Like EnsureDatabase, it connects to the server's "postgres" database.
func DropDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("db: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// Analyze refreshes the planner's statistics of every table, as autovacuum would in time: a
// benchmark that bulk-loads rows measures the plans production would run.
func Analyze(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, "ANALYZE")
	return err
}

// Vacuum also marks the pages autovacuum would have marked all-visible by then, which
// index-only scans read without visiting the table.
func Vacuum(ctx context.Context, pool *pgxpool.Pool) error {
	_, err := pool.Exec(ctx, "VACUUM ANALYZE")
	return err
}
