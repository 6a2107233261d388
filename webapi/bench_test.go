package webapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkReport100k measures report pages of an office holding 100,000 lessons (and a
// school holding 110,000), through the whole handler: key lookup, filters, page, count, JSON.
// A measurement, not an assertion:
//
//	go test -run '^$' -bench BenchmarkReport100k -benchtime 200x ./webapi/
//	go test -run '^$' -bench 'BenchmarkReport100k/scope_change' -benchtime 4x ./webapi/
func BenchmarkReport100k(b *testing.B) {
	e := newEnvTB(b)
	a := e.createSchool("Auto-école Volume", agrementA)
	e.put(a.Key, "/v1/offices/big", map[string]any{"name": "Grand bureau"})
	e.put(a.Key, "/v1/offices/small", map[string]any{"name": "Petit bureau"})
	big, small := e.office(a.ID, "big"), e.office(a.ID, "small")
	start := time.Now()
	fillLessons(b, e, a.ID, big.ID, "big", 100_000, 2_000)
	fillLessons(b, e, a.ID, small.ID, "small", 10_000, 200)
	b.Logf("100,000 + 10,000 lessons written in %s", time.Since(start).Round(time.Millisecond))

	h := e.srv.Handler()
	for _, bc := range []struct{ name, path string }{
		{"office first page", "/v1/lessons?office=big"},
		{"office errors", "/v1/lessons?office=big&status=error"},
		{"office pending", "/v1/lessons?office=big&status=pending"},
		{"office one month", "/v1/lessons?office=big&from=2022-03-01&to=2022-03-31"},
		{"office errors one month", "/v1/lessons?office=big&status=error&from=2022-03-01&to=2022-03-31"},
		{"office page 5000", "/v1/lessons?office=big&page=5000"},
		{"office 100 per page", "/v1/lessons?office=big&per_page=100"},
		{"school first page", "/v1/lessons"},
		{"school errors", "/v1/lessons?status=error"},
		{"student", "/v1/lessons?student=big-s42"},
		{"student route", "/v1/students/big-s42/lessons"},
		{"search", "/v1/students?q=nom42"},
		{"office cards", "/v1/offices"},
		{"office one category", "/v1/lessons?office=big&category=B"},
		{"one office card", "/v1/offices/big"},
		{"one lesson", "/v1/lessons/big-l5000"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", bc.path, nil)
			req.Header.Set("Authorization", "Bearer "+a.Key)
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.path, rec.Code, rec.Body)
				}
			}
		})
	}
	// A change of scope judges every lesson of the school not yet at the DSR again, in one
	// transaction: here 22,000 of the 110,000 (pending, in error, not concerned). Each
	// iteration switches the scope (etendu, then guide…).
	b.Run("scope change", func(b *testing.B) {
		scopes := []string{"etendu", "guide"}
		i := 0
		for b.Loop() {
			ans := e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": scopes[i%2]})
			if ans.status != http.StatusOK {
				b.Fatalf("PATCH /v1/school: %d %s", ans.status, ans.body)
			}
			i++
		}
	})
}

// fillLessons writes n lessons of an office (students × 1, every 37 minutes from 2020 on),
// each with its transmission: 2 % in error, 10 % not eligible, 10 % pending, the rest
// transmitted. Bulk SQL: the API would take minutes to ingest that many one by one.
func fillLessons(tb testing.TB, e *env, schoolID, officeID int64, prefix string, n, students int) {
	tb.Helper()
	ctx := context.Background()
	for _, step := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO students (school_id, ref, office_id, first_name, last_name, search_name, neph)
		  SELECT $1, $3 || '-s' || g, $2, 'Prénom' || g, 'Nom' || g, 'prenom' || g || ' nom' || g, lpad(g::text, 12, '0')
		  FROM generate_series(1, $4::int) g`, []any{schoolID, officeID, prefix, students}},
		{`INSERT INTO trainings (school_id, student_id, category, initial_evaluation_accepted)
		  SELECT s.school_id, s.id, 'B', true FROM students s WHERE s.office_id = $1`, []any{officeID}},
		{`INSERT INTO instructors (school_id, ref, first_name, last_name, authorization_number)
		  SELECT $1, $2 || '-i' || g, 'Formateur', 'N' || g, 'A' || lpad(g::text, 10, '0')
		  FROM generate_series(1, 20) g`, []any{schoolID, prefix}},
		{`INSERT INTO lessons (school_id, ref, office_id, student_id, training_id, instructor_id, type, starts_at, ends_at, planned_at)
		  SELECT $1, $3 || '-l' || g, $2, s.id, tr.id, i.id, 'conduite', x.ts, x.ts + interval '1 hour', x.ts - interval '7 days'
		  FROM generate_series(1, $4::int) g
		  CROSS JOIN LATERAL (SELECT timestamptz '2020-01-01 08:00+01' + g * interval '37 minutes' AS ts) x
		  JOIN students s ON s.school_id = $1 AND s.ref = $3 || '-s' || (1 + g % $5::int)
		  JOIN trainings tr ON tr.student_id = s.id
		  JOIN instructors i ON i.school_id = $1 AND i.ref = $3 || '-i' || (1 + g % 20)`, []any{schoolID, officeID, prefix, n, students}},
		{`INSERT INTO transmissions (lesson_id, school_id, office_id, student_id, category, starts_at, ends_at, status, code, message, origin)
		  SELECT l.id, l.school_id, l.office_id, l.student_id, 'B', l.starts_at, l.ends_at, st.status, st.code, st.message, 'dsr'
		  FROM lessons l
		  CROSS JOIN LATERAL (SELECT CASE WHEN l.id % 50 = 0 THEN 'error' WHEN l.id % 10 = 1 THEN 'not_eligible'
		                                  WHEN l.id % 10 = 2 THEN 'pending' ELSE 'transmitted' END AS status) s0
		  CROSS JOIN LATERAL (SELECT s0.status,
		                             CASE s0.status WHEN 'error' THEN 'DUREE_INVALIDE' WHEN 'not_eligible' THEN 'TYPE_NON_CONCERNE' ELSE '' END AS code,
		                             CASE s0.status WHEN 'error' THEN 'La durée renseignée n''est pas valide.' ELSE '' END AS message) st
		  WHERE l.office_id = $1`, []any{officeID}},
		// As autovacuum does after a bulk insert (autovacuum_vacuum_insert_threshold, PG 13+):
		// the visibility map lets the cards' counts read the index alone.
		{`VACUUM (ANALYZE) transmissions`, nil},
		{`ANALYZE`, nil},
	} {
		if _, err := e.pool.Exec(ctx, step.sql, step.args...); err != nil {
			tb.Fatalf("fill: %v\n%s", err, step.sql)
		}
	}
}
