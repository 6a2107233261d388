package db_test

import (
	"context"
	"database/sql"
	"testing"

	"livret/db"
	"livret/db/dbtest"
)

// TestTrainingsMigration fills a database at migration 5 (students with one category, one
// contract each) and applies 00006: each student's category, evaluation and contract become
// their first training, each lesson belongs to it, and the rules' view reads it.
func TestTrainingsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn, err := sql.Open("pgx", dbtest.NewURLAt(t, 5))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := conn.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	// Written as version 5 had it: the category on the student.
	exec(`INSERT INTO schools (id, name, agrement, api_key_hash) OVERRIDING SYSTEM VALUE VALUES (1, 'AE', 'E0000000001', '\x01')`)
	exec(`INSERT INTO offices (id, school_id, ref, name) OVERRIDING SYSTEM VALUE VALUES (10, 1, 'B1', 'Bureau 1')`)
	exec(`INSERT INTO students (id, school_id, ref, office_id, first_name, last_name, search_name, neph, category, initial_evaluation_accepted)
	      OVERRIDING SYSTEM VALUE VALUES
	      (100, 1, 'S1', 10, 'Léa', 'Perrin', 'lea perrin', '123456789012', 'B_AAC', true),
	      (101, 1, 'S2', 10, 'Tom', 'Blanc', 'tom blanc', '123456789013', 'A2', false)`)
	exec(`INSERT INTO instructors (id, school_id, ref, first_name, last_name, authorization_number) OVERRIDING SYSTEM VALUE VALUES (20, 1, 'I1', 'Jean', 'Dupont', 'A1234567890')`)
	exec(`INSERT INTO training_contracts (school_id, student_id, dsr_contract_id) VALUES (1, 100, 'CF-LEA')`)
	exec(`INSERT INTO lessons (id, school_id, ref, office_id, student_id, instructor_id, type, starts_at, ends_at, planned_at)
	      OVERRIDING SYSTEM VALUE VALUES
	      (1000, 1, 'L1', 10, 100, 20, 'conduite', '2026-03-10 09:00+01', '2026-03-10 10:00+01', '2026-03-01 09:00+01'),
	      (1001, 1, 'L2', 10, 101, 20, 'conduite', '2026-03-11 09:00+01', '2026-03-11 10:00+01', '2026-03-01 09:00+01')`)
	exec(`INSERT INTO transmissions (lesson_id, school_id, office_id, student_id, starts_at, ends_at, status, dsr_lesson_id, transmitted_at)
	      VALUES (1000, 1, 10, 100, '2026-03-10 09:00+01', '2026-03-10 10:00+01', 'transmitted', 'LC-1', now()),
	             (1001, 1, 10, 101, '2026-03-11 09:00+01', '2026-03-11 10:00+01', 'not_eligible', NULL, NULL)`)

	if err := db.MigrateDBTo(ctx, conn, 6); err != nil {
		t.Fatal(err)
	}

	type training struct {
		student  int64
		category string
		accepted bool
		contract sql.NullString
	}
	rows, err := conn.QueryContext(ctx, `SELECT tr.student_id, tr.category, tr.initial_evaluation_accepted, c.dsr_contract_id
	    FROM trainings tr LEFT JOIN training_contracts c ON c.training_id = tr.id ORDER BY tr.student_id`)
	if err != nil {
		t.Fatal(err)
	}
	var got []training
	for rows.Next() {
		var tr training
		if err := rows.Scan(&tr.student, &tr.category, &tr.accepted, &tr.contract); err != nil {
			t.Fatal(err)
		}
		got = append(got, tr)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []training{{100, "B_AAC", true, sql.NullString{String: "CF-LEA", Valid: true}}, {101, "A2", false, sql.NullString{}}}
	if len(got) != len(want) {
		t.Fatalf("trainings = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("training %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// Each lesson is on its student's training; the rules' view and the report read it; the
	// transmissions keep a copy of the category for the report's filter.
	for _, c := range []struct {
		lesson   int64
		category string
	}{{1000, "B_AAC"}, {1001, "A2"}} {
		var facts, line, copied, scope string
		var sameTraining bool
		err := conn.QueryRowContext(ctx, `SELECT f.category, v.category, t.category, f.scope,
		        f.training_id = (SELECT tr.id FROM trainings tr JOIN lessons l ON l.student_id = tr.student_id WHERE l.id = $1)
		    FROM lesson_facts f JOIN report_lines v ON v.id = f.lesson_id JOIN transmissions t ON t.lesson_id = f.lesson_id
		    WHERE f.lesson_id = $1`, c.lesson).Scan(&facts, &line, &copied, &scope, &sameTraining)
		if err != nil {
			t.Fatal(err)
		}
		if facts != c.category || line != c.category || copied != c.category || !sameTraining || scope != "guide" {
			t.Errorf("lesson %d: facts %q, report %q, copy %q, own training %v, scope %q; want %q, guide",
				c.lesson, facts, line, copied, sameTraining, scope, c.category)
		}
	}
	// The student's old columns are gone: the training is the one home of the category.
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.columns
	    WHERE table_name = 'students' AND column_name IN ('category', 'initial_evaluation_accepted')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("students still has %d of its old columns", n)
	}
	// A second contract of the same student, for another training, is now allowed; a second
	// for the same training is not.
	exec(`INSERT INTO trainings (school_id, student_id, category) VALUES (1, 100, 'A2')`)
	exec(`INSERT INTO training_contracts (school_id, student_id, training_id, dsr_contract_id)
	      SELECT 1, 100, id, 'CF-LEA-A2' FROM trainings WHERE student_id = 100 AND category = 'A2'`)
	if _, err := conn.ExecContext(ctx, `INSERT INTO training_contracts (school_id, student_id, training_id, dsr_contract_id)
	      SELECT 1, 100, id, 'CF-AGAIN' FROM trainings WHERE student_id = 100 AND category = 'A2'`); err == nil {
		t.Error("a training took two contracts")
	}
}
