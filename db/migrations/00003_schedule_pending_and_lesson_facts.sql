-- +goose Up
-- An office's link (or unlink) and the fact that Temporal still has to hear of it are written
-- in one transaction: a Schedule call that fails after the commit leaves the mark, and the
-- worker's reconciler creates (or deletes) the Schedule later (docs/architecture.md,
-- "Schedules"). Existing linked offices are marked so the first reconcile checks them.
ALTER TABLE offices ADD COLUMN schedule_pending boolean NOT NULL DEFAULT false;
UPDATE offices SET schedule_pending = true WHERE account_id IS NOT NULL;
CREATE INDEX offices_schedule_pending ON offices (id) WHERE schedule_pending;

-- What Livret's eligibility rules read of a lesson, its student, instructor and office
-- (domain.LessonFacts): one column list, embedded by every query that judges lessons, so the
-- facts are built from one row shape in one place (school.Facts).
CREATE VIEW lesson_facts AS
SELECT l.id AS lesson_id,
       s.category, s.neph, s.initial_evaluation_accepted,
       i.authorization_number, i.simulator,
       l.type, l.starts_at, l.ends_at, l.planned_at, l.cancelled_at,
       o.account_id, o.linked_at
FROM lessons l
JOIN students s ON s.id = l.student_id
JOIN instructors i ON i.id = l.instructor_id
JOIN offices o ON o.id = l.office_id;

-- A lesson as the report shows it (the answer to a PUT, a cancel, a resend, and every report
-- line): one column list, embedded by the queries that show lessons (LessonViewGet,
-- LessonReportPage).
CREATE VIEW report_lines AS
SELECT l.id, l.school_id, l.ref, l.type, l.starts_at, l.ends_at, l.planned_at, l.cancelled_at,
       o.ref AS office_ref, o.name AS office_name,
       s.ref AS student_ref, s.first_name AS student_first_name, s.last_name AS student_last_name,
       i.ref AS instructor_ref,
       t.status, t.code, t.message, t.attempts, t.dsr_lesson_id, t.transmitted_at
FROM lessons l
JOIN transmissions t ON t.lesson_id = l.id
JOIN offices o ON o.id = l.office_id
JOIN students s ON s.id = l.student_id
JOIN instructors i ON i.id = l.instructor_id;

-- The report's filter, written once (docs/api.md, "The report (school)"): the lessons of a
-- school matching every filter that is set (NULL: no filter). A single-SELECT SQL function is
-- inlined by the planner into the query that calls it, so the page and its count still use
-- the transmissions indexes as if the filter were written in each.
-- +goose StatementBegin
CREATE FUNCTION report_matches(p_school_id bigint, p_office_id bigint, p_student_id bigint,
                               p_statuses text[], p_from timestamptz, p_to timestamptz)
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
$$;
-- +goose StatementEnd
