-- name: LessonUpsert :one
-- planned_at: the management software's booking time when it gives one, else the time Livret
-- first saw the lesson (kept on later updates).
INSERT INTO lessons (school_id, ref, office_id, student_id, training_id, instructor_id, type,
                     session_ref, starts_at, ends_at, planned_at)
VALUES (@school_id, @ref, @office_id, @student_id, @training_id, @instructor_id, @type,
        @session_ref, @starts_at, @ends_at, coalesce(sqlc.narg(planned_at)::timestamptz, now()))
ON CONFLICT (school_id, ref) DO UPDATE
SET office_id = excluded.office_id, student_id = excluded.student_id,
    training_id = excluded.training_id, instructor_id = excluded.instructor_id,
    type = excluded.type, session_ref = excluded.session_ref,
    starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    planned_at = coalesce(sqlc.narg(planned_at)::timestamptz, lessons.planned_at),
    updated_at = now()
RETURNING *;

-- name: LessonGetByRefForUpdate :one
-- Taken before changing a lesson so that a run cannot mark it sending meanwhile.
SELECT l.*, t.status AS transmission_status
FROM lessons l JOIN transmissions t ON t.lesson_id = l.id
WHERE l.school_id = $1 AND l.ref = $2
FOR UPDATE OF l, t;

-- name: LessonCancel :exec
UPDATE lessons SET cancelled_at = coalesce(cancelled_at, now()), updated_at = now()
WHERE school_id = $1 AND id = $2;

-- name: LessonFactsList :many
-- What the eligibility rules need, for the lessons not yet at the DSR of one office, student,
-- instructor or lesson (whichever filters are set): re-evaluated after any change to them. A
-- lesson just written has no transmission yet: it is judged too.
SELECT l.id, l.school_id, l.office_id, l.student_id, sqlc.embed(f)
FROM lessons l
JOIN lesson_facts f ON f.lesson_id = l.id
LEFT JOIN transmissions t ON t.lesson_id = l.id
WHERE l.school_id = @school_id
  AND (sqlc.narg(office_id)::bigint IS NULL OR l.office_id = sqlc.narg(office_id))
  AND (sqlc.narg(student_id)::bigint IS NULL OR l.student_id = sqlc.narg(student_id))
  AND (sqlc.narg(instructor_id)::bigint IS NULL OR l.instructor_id = sqlc.narg(instructor_id))
  AND (sqlc.narg(lesson_id)::bigint IS NULL OR l.id = sqlc.narg(lesson_id))
  AND (t.status IS NULL OR t.status IN ('pending', 'error', 'not_eligible'))
ORDER BY l.id;

-- name: LessonSendList :many
-- Everything a run needs to declare these lessons, read in one statement.
SELECT l.id, l.school_id, l.office_id, l.student_id, l.ref, sqlc.embed(f),
       s.first_name AS student_first_name, s.last_name AS student_last_name,
       i.first_name AS instructor_first_name, i.last_name AS instructor_last_name,
       c.dsr_contract_id,
       t.status, t.attempts, t.sending_since, t.dsr_lesson_id
FROM lessons l
JOIN lesson_facts f ON f.lesson_id = l.id
JOIN transmissions t ON t.lesson_id = l.id
JOIN students s ON s.id = l.student_id
JOIN instructors i ON i.id = l.instructor_id
LEFT JOIN training_contracts c ON c.training_id = l.training_id
WHERE l.school_id = @school_id AND l.id = ANY(@lesson_ids::bigint[])
ORDER BY l.id;

-- name: LessonViewGet :one
-- One lesson as the report shows it (the answer to a PUT, a cancel or a resend).
SELECT sqlc.embed(v) FROM report_lines v
WHERE v.school_id = @school_id AND v.id = @lesson_id;

-- name: LessonViewGetByRef :one
-- One lesson by the school's ref (GET /v1/lessons/{ref}).
SELECT sqlc.embed(v) FROM report_lines v
WHERE v.school_id = @school_id AND v.ref = @ref;

-- name: LessonReportPage :many
-- The report (docs/api.md, "The report (school)"): a page of lessons with their transmission,
-- newest first, every filter optional (report_matches). The page is cut from transmissions
-- alone, before any join, so a deep page (OFFSET 50,000 of an office's 100,000 lessons) skips
-- narrow index entries instead of joining every skipped lesson.
WITH page AS (
    SELECT m.lesson_id, m.starts_at
    FROM report_matches(@school_id, sqlc.narg(office_id)::bigint, sqlc.narg(student_id)::bigint,
                        sqlc.narg(statuses)::text[], sqlc.narg(from_at)::timestamptz, sqlc.narg(to_at)::timestamptz,
                        sqlc.narg(category)::text) m
    -- A bureau person's offices (school.officeScope); NULL for the other roles.
    WHERE (sqlc.narg(office_ids)::bigint[] IS NULL OR m.office_id = ANY(sqlc.narg(office_ids)::bigint[]))
    ORDER BY m.starts_at DESC, m.lesson_id DESC
    LIMIT @lim OFFSET @off
)
SELECT sqlc.embed(v)
FROM page p
JOIN report_lines v ON v.id = p.lesson_id
ORDER BY p.starts_at DESC, p.lesson_id DESC;

-- name: LessonReportAfter :many
-- The export (GET /v1/lessons?format=csv): every lesson of the report's filter, newest first,
-- read in pages after a cursor (the last page's start and id) instead of an offset, so a
-- school's 100,000 lessons stream at the cost of one page each.
WITH page AS (
    SELECT m.lesson_id, m.starts_at
    FROM report_matches(@school_id, sqlc.narg(office_id)::bigint, sqlc.narg(student_id)::bigint,
                        sqlc.narg(statuses)::text[], sqlc.narg(from_at)::timestamptz, sqlc.narg(to_at)::timestamptz,
                        sqlc.narg(category)::text) m
    WHERE (m.starts_at, m.lesson_id) < (@before_start::timestamptz, @before_id::bigint)
      AND (sqlc.narg(office_ids)::bigint[] IS NULL OR m.office_id = ANY(sqlc.narg(office_ids)::bigint[]))
    ORDER BY m.starts_at DESC, m.lesson_id DESC
    LIMIT @lim
)
SELECT sqlc.embed(v)
FROM page p
JOIN report_lines v ON v.id = p.lesson_id
ORDER BY p.starts_at DESC, p.lesson_id DESC;

-- name: LessonReportCount :one
-- How many lessons the report's filter matches (the same report_matches).
SELECT count(*) FROM report_matches(@school_id, sqlc.narg(office_id)::bigint, sqlc.narg(student_id)::bigint,
                                    sqlc.narg(statuses)::text[], sqlc.narg(from_at)::timestamptz, sqlc.narg(to_at)::timestamptz,
                                    sqlc.narg(category)::text) m
WHERE (sqlc.narg(office_ids)::bigint[] IS NULL OR m.office_id = ANY(sqlc.narg(office_ids)::bigint[]));

-- name: LessonInsertMany :many
-- Bulk load for benchmarks and drills: many lessons of one office in one statement, arrays
-- zipped by position. The caller has judged every lesson eligible (domain.Evaluate) and
-- writes their transmissions with TransmissionInsertPendingMany; ingestion from the API goes
-- through LessonUpsert and TransmissionSetVerdict instead.
INSERT INTO lessons (school_id, ref, office_id, student_id, training_id, instructor_id, type, starts_at, ends_at, planned_at)
SELECT @school_id::bigint, unnest(@refs::text[]), @office_id::bigint, unnest(@student_ids::bigint[]),
       unnest(@training_ids::bigint[]), @instructor_id::bigint, @type::text, unnest(@starts::timestamptz[]),
       unnest(@ends::timestamptz[]), now()
RETURNING id, student_id, starts_at, ends_at;

-- name: LessonListETP :many
-- The ETP's lessons (docs/rules.md, "ETP"): one office's lessons of the window, by the time
-- of their start, that reached the DSR or should (transmitted, in error, pending or being
-- sent). One narrow row per lesson: the rules (overlaps merged per instructor, the
-- simulator's 5 h per student) need each lesson's interval, so nothing is summed here. The
-- row holds no text, so that a window of 100,000 lessons decodes in a few milliseconds:
-- category and type are their 1-based places in the caller's lists (domain's; 0 for one not
-- listed), times are Unix seconds, the status is whether the lesson is transmitted (the
-- codes of the others are counted by TransmissionCountErrorsByCode). Both tables are read
-- from their ETP index (00010_etp.sql) in (start, id) order and merged on it: the
-- transmission's start is the lesson's own copy, which follows the lesson in the
-- transaction that moves it (TransmissionSetVerdict).
SELECT l.instructor_id, t.student_id,
       coalesce(array_position(@categories::text[], t.category), 0)::integer AS category,
       coalesce(array_position(@types::text[], l.type), 0)::integer AS type,
       floor(date_part('epoch', t.starts_at))::bigint AS starts,
       floor(date_part('epoch', t.ends_at))::bigint AS ends,
       (t.status = 'transmitted')::boolean AS transmitted
FROM transmissions t
JOIN lessons l ON l.office_id = t.office_id AND l.starts_at = t.starts_at AND l.id = t.lesson_id
WHERE t.school_id = @school_id AND t.office_id = @office_id
  AND t.status IN ('transmitted', 'error', 'pending', 'sending')
  AND t.starts_at >= @from_at AND t.starts_at < @to_at
  AND l.office_id = @office_id AND l.starts_at >= @from_at AND l.starts_at < @to_at;
