package webapi_test

import (
	"context"
	"database/sql"
	"testing"

	"livret/db"
	"livret/db/dbtest"
	livschool "livret/school"
)

// TestAPIKeysMigration: a school created before issue 18 (schools.api_key_hash only) still
// authenticates with its key after 00011 and 00013, and api_keys holds its hash, never the key.
func TestAPIKeysMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := dbtest.NewURLAt(t, 10)
	conn, err := sql.Open("pgx", url)
	must(t, err)
	defer conn.Close()
	keys := []string{"lvk_ancienne-cle-de-l-ecole-un-0000000000", "lvk_ancienne-cle-de-l-ecole-deux-000000000"}
	for i, k := range keys {
		_, err := conn.ExecContext(ctx, `INSERT INTO schools (name, agrement, api_key_hash) VALUES ($1, $2, $3)`,
			"AE", []string{"E0000000001", "E0000000002"}[i], livschool.APIKeyHash(k))
		must(t, err)
	}
	must(t, db.MigrateDB(ctx, conn))
	pool, err := db.Open(ctx, url)
	must(t, err)
	defer pool.Close()
	svc := &livschool.Service{Pool: pool}
	for _, k := range keys {
		sc, actor, err := svc.AuthenticateKey(ctx, k)
		must(t, err)
		if actor.Label != livschool.FirstKeyName || actor.SchoolID != sc.ID {
			t.Fatalf("actor %+v", actor)
		}
		var n int
		must(t, conn.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE key_hash = $1 AND school_id = $2`, livschool.APIKeyHash(k), sc.ID).Scan(&n))
		if n != 1 {
			t.Fatalf("%d rows for the school's key hash", n)
		}
		must(t, conn.QueryRowContext(ctx, `SELECT count(*) FROM api_keys WHERE position(convert_to($1, 'UTF8') in key_hash) > 0 OR position($1 in name) > 0`, k).Scan(&n))
		if n != 0 {
			t.Fatal("a key is stored in clear")
		}
	}
}
