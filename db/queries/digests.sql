-- name: DigestGet :one
SELECT * FROM digests WHERE school_id = @school_id AND day = @day;

-- name: DigestInsert :one
-- The day's digest, composed and stored before it is sent. A digest already stored for the
-- day wins: no row is returned, the caller reads the stored one.
INSERT INTO digests (school_id, day, recipients, subject, text_body, html_body, message_id)
VALUES (@school_id, @day, @recipients::text[], @subject, @text_body, @html_body, @message_id)
ON CONFLICT (school_id, day) DO NOTHING
RETURNING *;

-- name: DigestMarkSent :execrows
-- The SMTP server accepted the digest: it is never sent again (unless an operator clears
-- sent_at, docs/runbook.md "E-mail digest").
UPDATE digests SET sent_at = now() WHERE id = @id AND sent_at IS NULL;

-- name: DigestListSchoolsDue :many
-- The schools the day's digest run visits, by id: those with alert addresses and either
-- events no digest has taken yet, or the day's digest stored but not sent.
SELECT s.id FROM schools s
WHERE s.id > @after_id AND cardinality(s.alert_emails) > 0
  AND (EXISTS (SELECT 1 FROM outbox_events e
               WHERE e.school_id = s.id AND e.digest_id IS NULL
                 AND e.type IN ('lesson.error', 'office.needs_reconnect', 'etp.at_risk'))
       OR EXISTS (SELECT 1 FROM digests d WHERE d.school_id = s.id AND d.day = @day AND d.sent_at IS NULL))
ORDER BY s.id
LIMIT @lim;

-- name: DigestErrorCounts :many
-- The lessons the events report as refused, as they are now: still in error (by their code
-- now, which is what the admin fixes) or no longer (in_error false, no code).
WITH reported AS (
    SELECT DISTINCT l.id
    FROM outbox_events e
    JOIN lessons l ON l.school_id = e.school_id AND l.ref = e.data ->> 'lesson_ref'
    WHERE e.school_id = @school_id AND e.seq = ANY (@seqs::bigint[]) AND e.type = 'lesson.error'
)
SELECT (t.status = 'error')::boolean AS in_error,
       (CASE WHEN t.status = 'error' THEN t.code ELSE '' END)::text AS code,
       count(*)::bigint AS lessons
FROM reported r
JOIN transmissions t ON t.lesson_id = r.id
GROUP BY 1, 2
ORDER BY 1 DESC, 3 DESC, 2;

-- name: DigestErrorLessons :many
-- The reported lessons still in error now, oldest first: what the digest lists.
WITH reported AS (
    SELECT DISTINCT l.id
    FROM outbox_events e
    JOIN lessons l ON l.school_id = e.school_id AND l.ref = e.data ->> 'lesson_ref'
    WHERE e.school_id = @school_id AND e.seq = ANY (@seqs::bigint[]) AND e.type = 'lesson.error'
)
SELECT l.ref, l.starts_at, l.ends_at, t.code, t.message, t.category,
       s.first_name, s.last_name, o.ref AS office_ref, o.name AS office_name
FROM reported r
JOIN lessons l ON l.id = r.id
JOIN transmissions t ON t.lesson_id = l.id
JOIN students s ON s.id = l.student_id
JOIN offices o ON o.id = l.office_id
WHERE t.status = 'error'
ORDER BY l.starts_at, l.id
LIMIT @lim;

-- name: DigestOfficesToReconnect :many
-- The offices the events say need a new RdvPermis login and whose account still does.
SELECT DISTINCT o.name, o.ref, a.email AS account_email
FROM outbox_events e
JOIN offices o ON o.school_id = e.school_id AND o.ref = e.data ->> 'office_ref'
JOIN dsr_accounts a ON a.id = o.account_id
WHERE e.school_id = @school_id AND e.seq = ANY (@seqs::bigint[]) AND e.type = 'office.needs_reconnect'
  AND a.needs_reconnect
ORDER BY o.name, o.ref;

-- name: DigestEtpEvents :many
-- The hours-at-risk events reported, oldest first, with how many there are in all.
SELECT seq, data, created_at, count(*) OVER ()::bigint AS total
FROM outbox_events
WHERE school_id = @school_id AND seq = ANY (@seqs::bigint[]) AND type = 'etp.at_risk'
ORDER BY seq
LIMIT @lim;
