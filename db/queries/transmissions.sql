-- name: TransmissionSetVerdict :one
-- Livret's own verdict on a lesson not yet at the DSR. It never touches a lesson being sent or
-- sent, and a DSR refusal stays until the admin resends (a fix of ours cannot know the DSR
-- would now accept it), unless the lesson is no longer to be sent at all. The copies of the
-- lesson's office, student, category and times follow the lesson even while a DSR refusal
-- stays, so the report's filters and the office cards count it where it now is.
INSERT INTO transmissions (lesson_id, school_id, office_id, student_id, category, starts_at, ends_at,
                           status, code, message, origin)
VALUES (@lesson_id, @school_id, @office_id, @student_id, @category, @starts_at, @ends_at,
        @status, @code, @message, 'livret')
ON CONFLICT (lesson_id) DO UPDATE
SET office_id = excluded.office_id, student_id = excluded.student_id, category = excluded.category,
    starts_at = excluded.starts_at, ends_at = excluded.ends_at,
    status = CASE WHEN transmissions.origin = 'dsr' AND transmissions.status = 'error'
                       AND excluded.status IN ('pending', 'error')
                  THEN transmissions.status ELSE excluded.status END,
    code = CASE WHEN transmissions.origin = 'dsr' AND transmissions.status = 'error'
                     AND excluded.status IN ('pending', 'error')
                THEN transmissions.code ELSE excluded.code END,
    message = CASE WHEN transmissions.origin = 'dsr' AND transmissions.status = 'error'
                        AND excluded.status IN ('pending', 'error')
                   THEN transmissions.message ELSE excluded.message END,
    origin = CASE WHEN transmissions.origin = 'dsr' AND transmissions.status = 'error'
                       AND excluded.status IN ('pending', 'error')
                  THEN transmissions.origin ELSE 'livret' END,
    updated_at = now()
WHERE transmissions.status NOT IN ('sending', 'transmitted')
RETURNING *;

-- name: TransmissionGet :one
SELECT * FROM transmissions WHERE school_id = $1 AND lesson_id = $2;

-- name: TransmissionListDue :many
-- The daily load: lessons to declare, ended before the run's day, any earlier day included
-- (catch-up), in id order so a long run can page and resume.
SELECT t.lesson_id FROM transmissions t
WHERE t.office_id = @office_id
  AND t.status IN ('pending', 'sending')
  AND t.ends_at < @before
  AND t.lesson_id > @after_lesson_id
ORDER BY t.lesson_id
LIMIT @lim;

-- name: TransmissionMarkSending :one
-- Committed before the POST: a lesson found sending later may have reached the DSR, so it is
-- looked up there before any new POST. Returns the previous sending_since (NULL: first try).
WITH prev AS (
    SELECT p.lesson_id AS id, p.sending_since AS previous FROM transmissions p
    WHERE p.lesson_id = @lesson_id FOR UPDATE
)
UPDATE transmissions t
SET status = 'sending', attempts = t.attempts + 1,
    sending_since = coalesce(t.sending_since, now()), updated_at = now()
FROM prev
WHERE t.lesson_id = prev.id AND t.status IN ('pending', 'sending')
RETURNING t.attempts, prev.previous AS previous_sending_since;

-- name: TransmissionMarkTransmitted :execrows
UPDATE transmissions
SET status = 'transmitted', dsr_lesson_id = @dsr_lesson_id, transmitted_at = now(),
    code = '', message = '', origin = 'dsr', sending_since = NULL, updated_at = now()
WHERE lesson_id = @lesson_id AND status IN ('pending', 'sending');

-- name: TransmissionMarkError :execrows
UPDATE transmissions
SET status = 'error', code = @code, message = @message, origin = @origin,
    sending_since = NULL, updated_at = now()
WHERE lesson_id = @lesson_id AND status IN ('pending', 'sending');

-- name: TransmissionResend :one
-- The admin fixed the data: a lesson in error goes back to pending for one more try.
UPDATE transmissions
SET status = 'pending', code = '', message = '', origin = 'livret', updated_at = now()
WHERE school_id = @school_id AND lesson_id = @lesson_id AND status = 'error'
RETURNING *;

-- name: TransmissionCountDue :one
SELECT count(*) FROM transmissions t
WHERE t.office_id = @office_id AND t.status IN ('pending', 'sending') AND t.ends_at < @before;

-- name: TransmissionListWithoutContract :many
-- Of these lessons, those whose training has no contract yet: only their batches need the
-- contract step.
SELECT l.id FROM lessons l
WHERE l.id = ANY(@lesson_ids::bigint[])
  AND NOT EXISTS (SELECT 1 FROM training_contracts c WHERE c.training_id = l.training_id)
ORDER BY l.id;

-- name: TransmissionReopen :many
-- The operator reopened the school (docs/runbook.md): the lessons refused because the DSR
-- reported it closed wait again, and are judged by Livret's rules before the next run.
UPDATE transmissions
SET status = 'pending', code = '', message = '', origin = 'livret', updated_at = now()
WHERE school_id = @school_id AND status = 'error' AND code = 'AUTO_ECOLE_FERMEE'
RETURNING lesson_id;

-- name: TransmissionInsertPendingMany :exec
-- The transmissions of LessonInsertMany's lessons, arrays zipped by position.
INSERT INTO transmissions (lesson_id, school_id, office_id, student_id, category, starts_at, ends_at, status)
SELECT unnest(@lesson_ids::bigint[]), @school_id::bigint, @office_id::bigint, unnest(@student_ids::bigint[]),
       unnest(@categories::text[]), unnest(@starts::timestamptz[]), unnest(@ends::timestamptz[]), 'pending';

-- name: TransmissionListResendable :many
-- The lessons a "Renvoyer les N leçons" takes: in error by a DSR refusal (origin dsr),
-- matching the report's filter (report_matches), oldest first, at most lim.
SELECT m.lesson_id, m.office_id
FROM report_matches(@school_id, sqlc.narg(office_id)::bigint, sqlc.narg(student_id)::bigint,
                    ARRAY['error']::text[], sqlc.narg(from_at)::timestamptz, sqlc.narg(to_at)::timestamptz,
                    sqlc.narg(category)::text) m
WHERE m.origin = 'dsr' AND (sqlc.narg(office_ids)::bigint[] IS NULL OR m.office_id = ANY(sqlc.narg(office_ids)::bigint[]))
ORDER BY m.starts_at, m.lesson_id
LIMIT @lim;

-- name: TransmissionCountResendable :one
-- How many lessons "Renvoyer les N leçons" would take (TransmissionListResendable's filter).
SELECT count(*)
FROM report_matches(@school_id, sqlc.narg(office_id)::bigint, sqlc.narg(student_id)::bigint,
                    ARRAY['error']::text[], sqlc.narg(from_at)::timestamptz, sqlc.narg(to_at)::timestamptz,
                    sqlc.narg(category)::text) m
WHERE m.origin = 'dsr' AND (sqlc.narg(office_ids)::bigint[] IS NULL OR m.office_id = ANY(sqlc.narg(office_ids)::bigint[]));

-- name: TransmissionCountErrorsByCode :many
-- The ETP's "what to fix" (docs/rules.md, "ETP"): an office's lessons in error of a window,
-- of the categories given (those the DSR counts), per code. No rule of the ETP applies to a
-- count of codes, so it is made here, on the office, status and start index.
SELECT t.code, count(*)::bigint AS lessons
FROM transmissions t
WHERE t.school_id = @school_id AND t.office_id = @office_id AND t.status = 'error'
  AND t.starts_at >= @from_at AND t.starts_at < @to_at
  AND t.category = ANY(@categories::text[])
GROUP BY t.code
ORDER BY t.code;

-- name: TransmissionMarkSendingMany :many
-- A group's TransmissionMarkSending in one statement, committed before the group's POSTs.
-- The rows are locked in id order, so two statements over overlapping lessons never
-- deadlock. Returns, per lesson marked, its attempts (the unmark's guard) and its previous
-- sending_since (NULL: first try; else it may be at the DSR and is looked up first).
WITH prev AS (
    SELECT p.lesson_id AS id, p.sending_since AS previous FROM transmissions p
    WHERE p.lesson_id = ANY(@lesson_ids::bigint[]) AND p.status IN ('pending', 'sending')
    ORDER BY p.lesson_id
    FOR UPDATE
)
UPDATE transmissions t
SET status = 'sending', attempts = t.attempts + 1,
    sending_since = coalesce(t.sending_since, now()), updated_at = now()
FROM prev
WHERE t.lesson_id = prev.id AND t.status IN ('pending', 'sending')
RETURNING t.lesson_id, t.attempts, prev.previous AS previous_sending_since;

-- name: TransmissionRecordOutcomes :execrows
-- A group's outcomes in one statement, arrays zipped by position: 'transmitted' with the
-- DSR's id, or 'error' with the DSR's code and words. The guard is TransmissionMarkTransmitted's
-- and TransmissionMarkError's.
UPDATE transmissions t
SET status = o.status,
    dsr_lesson_id = CASE WHEN o.status = 'transmitted' THEN o.dsr_lesson_id ELSE t.dsr_lesson_id END,
    transmitted_at = CASE WHEN o.status = 'transmitted' THEN now() ELSE t.transmitted_at END,
    code = o.code, message = o.message, origin = 'dsr', sending_since = NULL, updated_at = now()
FROM (SELECT unnest(@lesson_ids::bigint[]) AS lesson_id, unnest(@statuses::text[]) AS status,
             unnest(@dsr_lesson_ids::text[]) AS dsr_lesson_id, unnest(@codes::text[]) AS code,
             unnest(@messages::text[]) AS message) o
WHERE t.lesson_id = o.lesson_id AND t.status IN ('pending', 'sending')
  AND o.status IN ('transmitted', 'error');

-- name: TransmissionUnmarkSending :execrows
-- Lessons a group marked sending from pending (first try) and never posted, because a fault
-- stopped the group before their turn, wait again: nothing of them left Livret. The guard on
-- attempts (the value the group's mark returned) leaves alone a lesson another attempt has
-- marked since, which may have posted it.
UPDATE transmissions t
SET status = 'pending', sending_since = NULL, updated_at = now()
FROM (SELECT unnest(@lesson_ids::bigint[]) AS lesson_id, unnest(@attempts::int[]) AS attempts) o
WHERE t.lesson_id = o.lesson_id AND t.attempts = o.attempts AND t.status = 'sending';
