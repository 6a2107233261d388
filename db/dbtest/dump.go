package dbtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Dump is rows as JSON text, one a line prefixed by its table, in a stable order: two dumps
// are equal when nothing changed, and a value stored in clear shows in it. With schoolID 0 it
// is every row of the given tables; otherwise the rows of that school (the "schools" row
// itself, by id). With no tables it is every table of the public schema.
func Dump(tb testing.TB, pool *pgxpool.Pool, schoolID int64, tables ...string) string {
	tb.Helper()
	ctx := context.Background()
	if len(tables) == 0 {
		rows, err := pool.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")
		if err != nil {
			tb.Fatalf("dbtest: %v", err)
		}
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				tb.Fatalf("dbtest: %v", err)
			}
			tables = append(tables, name)
		}
		if err := rows.Err(); err != nil {
			tb.Fatalf("dbtest: %v", err)
		}
	}
	var b strings.Builder
	for _, table := range tables {
		query, args := `SELECT row_to_json(t)::text FROM "`+table+`" t`, []any{}
		if schoolID != 0 {
			col := "school_id"
			if table == "schools" {
				col = "id"
			}
			query, args = query+" WHERE "+col+" = $1", []any{schoolID}
		}
		rows, err := pool.Query(ctx, query+" ORDER BY 1", args...)
		if err != nil {
			tb.Fatalf("dbtest: dump %s: %v", table, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				tb.Fatalf("dbtest: %v", err)
			}
			b.WriteString(table + " " + s + "\n")
		}
		if err := rows.Err(); err != nil {
			tb.Fatalf("dbtest: %v", err)
		}
	}
	return b.String()
}
