// Command livret-temporal-setup prepares a Temporal cluster on PostgreSQL for Livret, with
// the server's own code: the schema with the SQL tool's tasks and the schema files the
// server module embeds, the namespace and Livret's search attributes as the worker declares
// them. docker-compose.yml's temporal-schema and temporal-setup services run it, and so does
// the production-shaped stack of the tests and drills (prodstack), so both prepare Temporal
// the same way. Every step is idempotent: run it again, it changes nothing.
//
//	livret-temporal-setup schema      create the databases if absent, install or upgrade their schemas
//	livret-temporal-setup namespace   wait for the server, register the namespace and the search attributes
//
// It links the Temporal server's tools, so it is a program of its own: the `livret` binary
// of the image (-tags nodev) carries none of the server.
//
// schema reads the variables of the server's admin-tools image and of its configuration:
//
//	SQL_PLUGIN          postgres12 (default) or postgres12_pgx
//	SQL_HOST, SQL_PORT  the PostgreSQL server (default 127.0.0.1:5432)
//	SQL_USER, SQL_PASSWORD
//	SQL_CONNECT_ATTRIBUTES  extra connection attributes, as a query string (sslmode=require)
//	DBNAME              the main database (default temporal)
//	VISIBILITY_DBNAME   the visibility database (default temporal_visibility)
//
// namespace reads Livret's own:
//
//	TEMPORAL_ADDRESS    the frontend (default 127.0.0.1:7233)
//	TEMPORAL_NAMESPACE  default "default"
//	TEMPORAL_RETENTION  how long closed workflows are kept, for a namespace created now (default 720h)
//	TEMPORAL_SETUP_TIMEOUT  how long to wait for the server (default 3m)
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	_ "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql" // the postgres12 plugins
	pgschema "go.temporal.io/server/schema/postgresql/v12"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
	"google.golang.org/protobuf/types/known/durationpb"

	"livret/worker"
	"livret/workflows"
)

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	if len(os.Args) != 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "schema":
		var cfg schemaConfig
		if cfg, err = schemaConfigFromEnv(); err == nil {
			err = runSchema(cfg)
		}
	case "namespace":
		var cfg namespaceConfig
		if cfg, err = namespaceConfigFromEnv(); err == nil {
			err = runNamespace(ctx, cfg)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "livret-temporal-setup %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: livret-temporal-setup schema|namespace (configuration from the environment, see the package documentation)")
	os.Exit(2)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// schemaConfig says where the two databases are.
type schemaConfig struct {
	SQL        config.SQL // connection; DatabaseName is set per database
	Main       string
	Visibility string
}

func schemaConfigFromEnv() (schemaConfig, error) {
	attrs := map[string]string{}
	q, err := url.ParseQuery(env("SQL_CONNECT_ATTRIBUTES", ""))
	if err != nil {
		return schemaConfig{}, fmt.Errorf("SQL_CONNECT_ATTRIBUTES: %w", err)
	}
	for k, v := range q {
		attrs[k] = v[len(v)-1]
	}
	return schemaConfig{
		SQL: config.SQL{
			PluginName:        env("SQL_PLUGIN", "postgres12"),
			ConnectAddr:       net.JoinHostPort(env("SQL_HOST", "127.0.0.1"), env("SQL_PORT", "5432")),
			ConnectProtocol:   "tcp",
			User:              env("SQL_USER", ""),
			Password:          env("SQL_PASSWORD", ""),
			ConnectAttributes: attrs,
		},
		Main:       env("DBNAME", "temporal"),
		Visibility: env("VISIBILITY_DBNAME", "temporal_visibility"),
	}, nil
}

// runSchema brings both databases to the schema this server version expects, as the
// admin-tools image's temporal-sql-tool does: create-database, setup-schema -v 0.0 on a
// database without the version table, update-schema to the newest embedded version.
func runSchema(cfg schemaConfig) error {
	switch cfg.SQL.PluginName {
	case "postgres12", "postgres12_pgx":
	default:
		return fmt.Errorf("SQL_PLUGIN %q: only postgres12 and postgres12_pgx are supported", cfg.SQL.PluginName)
	}
	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: "warn", Format: "json"}))
	for _, db := range []struct{ name, schemaName, want string }{
		{cfg.Main, "postgresql/v12/temporal", pgschema.Version},
		{cfg.Visibility, "postgresql/v12/visibility", pgschema.VisibilityVersion},
	} {
		version, err := ensureSchema(cfg.SQL, db.name, db.schemaName, logger)
		if err != nil {
			return fmt.Errorf("database %s: %w", db.name, err)
		}
		if version != db.want {
			return fmt.Errorf("database %s: schema at %s after the update, this server wants %s", db.name, version, db.want)
		}
		slog.Info("temporal schema ready", "database", db.name, "schema", db.schemaName, "version", version)
	}
	return nil
}

// ensureSchema creates the database when absent, installs the version tables when missing,
// applies the versioned updates past the database's version, and returns the version reached.
func ensureSchema(base config.SQL, dbName, schemaName string, logger log.Logger) (string, error) {
	create := base
	create.DatabaseName = dbName
	// Connects to the server's default database ("" tries postgres, then defaultdb); an
	// existing database is no error.
	if err := sqltool.DoCreateDatabase(&create, "", logger); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	cfg := base
	cfg.DatabaseName = dbName
	conn, err := sqltool.NewConnection(&cfg, logger)
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	tables, err := conn.ListTables()
	if err != nil {
		return "", fmt.Errorf("list tables: %w", err)
	}
	if !slices.Contains(tables, "schema_version") {
		if err := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger).Run(); err != nil {
			return "", fmt.Errorf("setup-schema: %w", err)
		}
	}
	if err := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: dbName, SchemaName: schemaName}, logger).Run(); err != nil {
		return "", fmt.Errorf("update-schema: %w", err)
	}
	version, err := conn.ReadSchemaVersion()
	if err != nil {
		return "", fmt.Errorf("read the schema version: %w", err)
	}
	return version, nil
}

// namespaceConfig says which server and namespace.
type namespaceConfig struct {
	Address   string
	Namespace string
	Retention time.Duration
	Timeout   time.Duration
}

func namespaceConfigFromEnv() (namespaceConfig, error) {
	cfg := namespaceConfig{Address: env("TEMPORAL_ADDRESS", "127.0.0.1:7233"), Namespace: env("TEMPORAL_NAMESPACE", "default")}
	var err error
	if cfg.Retention, err = time.ParseDuration(env("TEMPORAL_RETENTION", "720h")); err != nil || cfg.Retention <= 0 {
		return cfg, fmt.Errorf("TEMPORAL_RETENTION: %q is not a positive duration (720h)", env("TEMPORAL_RETENTION", ""))
	}
	if cfg.Timeout, err = time.ParseDuration(env("TEMPORAL_SETUP_TIMEOUT", "3m")); err != nil || cfg.Timeout <= 0 {
		return cfg, fmt.Errorf("TEMPORAL_SETUP_TIMEOUT: %q is not a positive duration (3m)", env("TEMPORAL_SETUP_TIMEOUT", ""))
	}
	return cfg, nil
}

// runNamespace waits until the server serves, registers the namespace unless it exists,
// registers Livret's search attributes (worker.RegisterSearchAttributes, what the worker's
// test stack calls too), and waits until the namespace serves calls, so that the roles started
// after it find everything in place.
func runNamespace(ctx context.Context, cfg namespaceConfig) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	quiet := sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	// Lazy: the server may not listen yet; calls fail until it does and are retried below.
	c, err := client.NewLazyClient(client.Options{HostPort: cfg.Address, Namespace: cfg.Namespace, Logger: quiet})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := retry(ctx, "the frontend's health", func(ctx context.Context) error {
		_, err := c.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	}); err != nil {
		return err
	}
	ns, err := client.NewNamespaceClient(client.Options{HostPort: cfg.Address, Logger: quiet})
	if err != nil {
		return err
	}
	defer ns.Close()
	created := false
	if err := retry(ctx, "namespace "+cfg.Namespace, func(ctx context.Context) error {
		_, err := ns.Describe(ctx, cfg.Namespace)
		var notFound *serviceerror.NamespaceNotFound
		if !errors.As(err, &notFound) {
			return err
		}
		err = ns.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: cfg.Namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(cfg.Retention)})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		created = err == nil
		return err
	}); err != nil {
		return err
	}
	// A namespace just registered reaches the frontend's cache within seconds: until then,
	// calls naming it answer "namespace not found".
	if err := retry(ctx, "Livret's search attributes", func(ctx context.Context) error {
		return worker.RegisterSearchAttributes(ctx, c, cfg.Namespace)
	}); err != nil {
		return err
	}
	if err := worker.WaitServing(ctx, c, workflows.TaskQueue, cfg.Timeout); err != nil {
		return err
	}
	slog.Info("namespace and Livret's search attributes registered", "namespace", cfg.Namespace, "created", created,
		"retention", cfg.Retention.String(), "address", cfg.Address)
	return nil
}

// retry calls f every second until it succeeds or ctx ends; the last error says why.
func retry(ctx context.Context, what string, f func(context.Context) error) error {
	for attempt := 1; ; attempt++ {
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		if attempt%10 == 0 {
			slog.Info("waiting for Temporal", "step", what, "attempt", attempt, "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: gave up after %s attempts: %w", what, strconv.Itoa(attempt), err)
		case <-time.After(time.Second):
		}
	}
}
