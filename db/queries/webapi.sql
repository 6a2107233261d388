-- Queries only the HTTP API needs. Every one filters on the school: tenant isolation lives here.

-- name: LessonViewGet :one
-- One lesson as the report shows it (the answer to a PUT, a cancel or a resend).
SELECT l.id, l.ref, l.type, l.starts_at, l.ends_at, l.planned_at, l.cancelled_at,
       o.ref AS office_ref, o.name AS office_name,
       s.ref AS student_ref, s.first_name AS student_first_name, s.last_name AS student_last_name,
       i.ref AS instructor_ref,
       t.status, t.code, t.message, t.attempts, t.dsr_lesson_id, t.transmitted_at
FROM lessons l
JOIN transmissions t ON t.lesson_id = l.id
JOIN offices o ON o.id = l.office_id
JOIN students s ON s.id = l.student_id
JOIN instructors i ON i.id = l.instructor_id
WHERE l.school_id = @school_id AND l.id = @lesson_id;

-- name: RunLatestBySchool :many
-- The newest run of each office of a school, for the office cards (one statement, not one per office).
SELECT DISTINCT ON (r.office_id) r.*
FROM runs r
WHERE r.school_id = @school_id
ORDER BY r.office_id, r.started_at DESC, r.id DESC;

-- name: StudentSearchWords :many
-- The report's student search, word order free ("perrin melanie" finds "melanie perrin"):
-- the longest word is matched through the trigram index, every word (LIKE patterns, already
-- escaped) filters the candidates.
SELECT s.ref, s.first_name, s.last_name, s.category, s.neph, s.initial_evaluation_accepted,
       o.ref AS office_ref
FROM students s
JOIN offices o ON o.id = s.office_id
WHERE s.school_id = @school_id
  AND s.search_name LIKE @longest_pattern::text
  AND s.search_name LIKE ALL (@patterns::text[])
ORDER BY s.last_name, s.first_name, s.id
LIMIT @lim;

-- The rows a lesson's verdict is computed from, locked against change until the lesson's
-- transaction commits: a concurrent change of the student, the instructor or the office link
-- (which re-evaluates their lessons) then waits, and sees the new lesson.

-- name: OfficeGetByRefForShare :one
SELECT * FROM offices WHERE school_id = $1 AND ref = $2 FOR SHARE;

-- name: StudentGetByRefForShare :one
SELECT * FROM students WHERE school_id = $1 AND ref = $2 FOR SHARE;

-- name: InstructorGetByRefForShare :one
SELECT * FROM instructors WHERE school_id = $1 AND ref = $2 FOR SHARE;

-- name: LessonReportPage :many
-- The report's page (same columns and filters as LessonReport), paged on transmissions alone
-- before any join: a deep page (OFFSET 50,000 of an office's 100,000 lessons) then skips
-- narrow index entries instead of joining and sorting every skipped lesson (measured: 0.5 s
-- with LessonReport, see BenchmarkReport100k).
WITH page AS (
    SELECT t.lesson_id, t.starts_at
    FROM transmissions t
    WHERE t.school_id = @school_id
      AND (sqlc.narg(office_id)::bigint IS NULL OR t.office_id = sqlc.narg(office_id))
      AND (sqlc.narg(student_id)::bigint IS NULL OR t.student_id = sqlc.narg(student_id))
      AND (sqlc.narg(statuses)::text[] IS NULL OR t.status = ANY(sqlc.narg(statuses)::text[]))
      AND (sqlc.narg(from_at)::timestamptz IS NULL OR t.starts_at >= sqlc.narg(from_at))
      AND (sqlc.narg(to_at)::timestamptz IS NULL OR t.starts_at < sqlc.narg(to_at))
    ORDER BY t.starts_at DESC, t.lesson_id DESC
    LIMIT @lim OFFSET @off
)
SELECT l.id, l.ref, l.type, l.starts_at, l.ends_at, l.planned_at, l.cancelled_at,
       o.ref AS office_ref, o.name AS office_name,
       s.ref AS student_ref, s.first_name AS student_first_name, s.last_name AS student_last_name,
       i.ref AS instructor_ref,
       t.status, t.code, t.message, t.attempts, t.dsr_lesson_id, t.transmitted_at
FROM page p
JOIN transmissions t ON t.lesson_id = p.lesson_id
JOIN lessons l ON l.id = p.lesson_id
JOIN offices o ON o.id = t.office_id
JOIN students s ON s.id = t.student_id
JOIN instructors i ON i.id = l.instructor_id
ORDER BY p.starts_at DESC, p.lesson_id DESC;
