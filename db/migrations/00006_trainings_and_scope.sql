-- +goose Up
-- Every licence and every activity (docs/rules.md, "Trainings", "Scope"). A student follows
-- one or more trainings at the school, one per category, each with its own initial
-- evaluation and its own training contract at the DSR (contracts are per student and
-- category). Each student's category, evaluation and contract become their first training;
-- each lesson belongs to its student's training. Forward-only, like every migration: the
-- students' old columns go once nothing reads them.

-- What a school sends: the vendor guide's rules ('guide', every school so far) or the whole
-- sending table ('etendu').
ALTER TABLE schools ADD COLUMN scope text NOT NULL DEFAULT 'guide'
    CHECK (scope IN ('guide', 'etendu'));

CREATE TABLE trainings (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id                   bigint      NOT NULL REFERENCES schools (id),
    student_id                  bigint      NOT NULL REFERENCES students (id),
    category                    text        NOT NULL,
    initial_evaluation_accepted boolean     NOT NULL DEFAULT false,
    -- The DSR's last refusal of this training's contract (CATEGORIE_SANS_DEMANDE…), shown in
    -- the student's answer; cleared when the contract is created or found.
    contract_code               text        NOT NULL DEFAULT '',
    contract_message            text        NOT NULL DEFAULT '',
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (student_id, category)
);
CREATE INDEX trainings_school_id ON trainings (school_id);

INSERT INTO trainings (school_id, student_id, category, initial_evaluation_accepted, created_at, updated_at)
SELECT school_id, id, category, initial_evaluation_accepted, created_at, updated_at
FROM students
ORDER BY id;

-- A contract is the training's: the existing ones go to the student's first training.
ALTER TABLE training_contracts ADD COLUMN training_id bigint REFERENCES trainings (id);
UPDATE training_contracts c SET training_id = tr.id
FROM trainings tr WHERE tr.student_id = c.student_id;
ALTER TABLE training_contracts ALTER COLUMN training_id SET NOT NULL;
ALTER TABLE training_contracts ADD CONSTRAINT training_contracts_training_id_key UNIQUE (training_id);
ALTER TABLE training_contracts DROP CONSTRAINT training_contracts_student_id_key;
CREATE INDEX training_contracts_student_id ON training_contracts (student_id);

-- Each lesson belongs to one training; a collective session (a theory lesson of several
-- students) shares a session_ref, one lesson per attending student.
ALTER TABLE lessons ADD COLUMN training_id bigint REFERENCES trainings (id);
UPDATE lessons l SET training_id = tr.id
FROM trainings tr WHERE tr.student_id = l.student_id;
ALTER TABLE lessons ALTER COLUMN training_id SET NOT NULL;
ALTER TABLE lessons ADD COLUMN session_ref text NOT NULL DEFAULT '';
CREATE INDEX lessons_training_id ON lessons (training_id);

-- The rules now read the lesson's training and the school's scope. CREATE OR REPLACE keeps
-- the columns' names and order; the new ones go last.
CREATE OR REPLACE VIEW lesson_facts AS
SELECT l.id AS lesson_id,
       tr.category, s.neph, tr.initial_evaluation_accepted,
       i.authorization_number, i.simulator,
       l.type, l.starts_at, l.ends_at, l.planned_at, l.cancelled_at,
       o.account_id, o.linked_at,
       sc.scope, l.training_id
FROM lessons l
JOIN students s ON s.id = l.student_id
JOIN trainings tr ON tr.id = l.training_id
JOIN instructors i ON i.id = l.instructor_id
JOIN offices o ON o.id = l.office_id
JOIN schools sc ON sc.id = l.school_id;

-- A report line says its training's category and its session.
CREATE OR REPLACE VIEW report_lines AS
SELECT l.id, l.school_id, l.ref, l.type, l.starts_at, l.ends_at, l.planned_at, l.cancelled_at,
       o.ref AS office_ref, o.name AS office_name,
       s.ref AS student_ref, s.first_name AS student_first_name, s.last_name AS student_last_name,
       i.ref AS instructor_ref,
       t.status, t.code, t.message, t.attempts, t.dsr_lesson_id, t.transmitted_at,
       t.origin,
       o.linked_at AS office_linked_at,
       (o.account_id IS NOT NULL)::boolean AS office_linked,
       coalesce(a.needs_reconnect, false) AS office_needs_reconnect,
       tr.category, l.session_ref
FROM lessons l
JOIN transmissions t ON t.lesson_id = l.id
JOIN offices o ON o.id = l.office_id
JOIN students s ON s.id = l.student_id
JOIN trainings tr ON tr.id = l.training_id
JOIN instructors i ON i.id = l.instructor_id
LEFT JOIN dsr_accounts a ON a.id = o.account_id;

-- The report filters by category: transmissions keep a copy of the lesson's training's
-- category, as they keep its office and student, so the filter reads one table.
ALTER TABLE transmissions ADD COLUMN category text NOT NULL DEFAULT '';
UPDATE transmissions t SET category = tr.category
FROM lessons l JOIN trainings tr ON tr.id = l.training_id
WHERE l.id = t.lesson_id;

-- The report's filter gains the category (NULL: any). The old six-argument form goes; calls
-- with six arguments (office_error_count) now reach this one through the default.
DROP FUNCTION report_matches(bigint, bigint, bigint, text[], timestamptz, timestamptz);
-- +goose StatementBegin
CREATE FUNCTION report_matches(p_school_id bigint, p_office_id bigint, p_student_id bigint,
                               p_statuses text[], p_from timestamptz, p_to timestamptz,
                               p_category text DEFAULT NULL)
RETURNS SETOF transmissions
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT t.*
    FROM transmissions t
    WHERE t.school_id = p_school_id
      AND (p_office_id IS NULL OR t.office_id = p_office_id)
      AND (p_student_id IS NULL OR t.student_id = p_student_id)
      AND (p_statuses IS NULL OR t.status = ANY(p_statuses))
      AND (p_from IS NULL OR t.starts_at >= p_from)
      AND (p_to IS NULL OR t.starts_at < p_to)
      AND (p_category IS NULL OR t.category = p_category)
$$;
-- +goose StatementEnd

-- The training's category is the one home of a student's category now.
ALTER TABLE students DROP COLUMN category;
ALTER TABLE students DROP COLUMN initial_evaluation_accepted;
