// Package dbtest gives each test a fresh PostgreSQL database cloned from a migrated template
// (pgtestdb): real Postgres, never a mock, and tests that run in parallel without sharing rows.
package dbtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/peterldowns/pgtestdb"

	"livret/db"
)

// DefaultURL is the local server every machine of this project runs (trust auth).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// AdminURL is the server tests create their databases on: TEST_DATABASE_URL, else DefaultURL.
func AdminURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return DefaultURL
}

// NewURL creates a fresh migrated database for t and returns its connection string.
// The database is dropped when t passes (kept for inspection when it fails).
func NewURL(t testing.TB) string {
	t.Helper()
	conf := config(t)
	u, err := url.Parse(pgtestdb.Custom(t, conf, migrator{}).URL())
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	// Tests need no crash durability: skipping the WAL flush at each commit makes a test
	// database several times faster on a slow disk, and changes nothing a test can observe.
	q := u.Query()
	q.Set("synchronous_commit", "off") // pgx sends unknown URL parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// New returns a pool on a fresh migrated database for t, closed at the end of the test.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := db.Open(context.Background(), NewURL(t))
	if err != nil {
		t.Fatalf("dbtest: connect: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func config(t testing.TB) pgtestdb.Config {
	u, err := url.Parse(AdminURL())
	if err != nil {
		t.Fatalf("dbtest: TEST_DATABASE_URL: %v", err)
	}
	pass, _ := u.User.Password()
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	db := u.Path
	if len(db) > 0 && db[0] == '/' {
		db = db[1:]
	}
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       u.Hostname(),
		Port:       port,
		User:       u.User.Username(),
		Password:   pass,
		Database:   db,
		Options:    u.RawQuery,
	}
}

// NewURLAt creates a fresh database migrated up to version only (a migration's number), for
// testing the next migration on data written at the one before.
func NewURLAt(t testing.TB, version int64) string {
	t.Helper()
	return pgtestdb.Custom(t, config(t), migrator{upTo: version}).URL()
}

// migrator applies Livret's embedded migrations to pgtestdb's template; the template is
// rebuilt whenever a migration file changes (its hash).
type migrator struct {
	upTo int64 // 0: every migration
}

func (m migrator) Hash() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "up to %d;", m.upTo)
	names, err := fs.Glob(db.Migrations(), "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := fs.ReadFile(db.Migrations(), name)
		if err != nil {
			return "", err
		}
		h.Write([]byte(name))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (m migrator) Migrate(ctx context.Context, conn *sql.DB, _ pgtestdb.Config) error {
	if m.upTo == 0 {
		return db.MigrateDB(ctx, conn)
	}
	return db.MigrateDBTo(ctx, conn, m.upTo)
}
