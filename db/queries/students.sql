-- name: StudentUpsert :one
INSERT INTO students (school_id, ref, office_id, first_name, last_name, search_name, neph)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (school_id, ref) DO UPDATE
SET office_id = excluded.office_id, first_name = excluded.first_name,
    last_name = excluded.last_name, search_name = excluded.search_name, neph = excluded.neph,
    updated_at = now()
RETURNING *;

-- name: StudentGetByRef :one
SELECT * FROM students WHERE school_id = $1 AND ref = $2;

-- name: StudentGetByRefForShare :one
-- Locked until the lesson's write commits (see OfficeGetByRefForShare).
SELECT * FROM students WHERE school_id = $1 AND ref = $2 FOR SHARE;

-- name: StudentSearchWords :many
-- The report's student search, word order free ("perrin melanie" finds "melanie perrin"):
-- the longest word is matched through the trigram index, every word (LIKE patterns, already
-- escaped) filters the candidates.
SELECT s.id, s.ref, s.first_name, s.last_name, s.neph, o.ref AS office_ref
FROM students s
JOIN offices o ON o.id = s.office_id
WHERE s.school_id = @school_id
  AND s.search_name LIKE @longest_pattern::text
  AND s.search_name LIKE ALL (@patterns::text[])
  -- A bureau person's offices: the students attached to one, or with a lesson in one.
  AND (sqlc.narg(office_ids)::bigint[] IS NULL OR s.office_id = ANY(sqlc.narg(office_ids)::bigint[])
       OR EXISTS (SELECT 1 FROM lessons l WHERE l.student_id = s.id AND l.office_id = ANY(sqlc.narg(office_ids)::bigint[])))
ORDER BY s.last_name, s.first_name, s.id
LIMIT @lim;
