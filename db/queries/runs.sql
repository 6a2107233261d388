-- name: RunRecord :one
INSERT INTO runs (school_id, office_id, workflow_id, run_id, business_date, started_at,
                  transmitted, errors, not_eligible, deferred, outcome)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (workflow_id, run_id) DO UPDATE
SET transmitted = excluded.transmitted, errors = excluded.errors,
    not_eligible = excluded.not_eligible, deferred = excluded.deferred,
    outcome = excluded.outcome, finished_at = now()
RETURNING *;

-- name: RunListByOffice :many
SELECT * FROM runs WHERE school_id = $1 AND office_id = $2
ORDER BY started_at DESC, id DESC
LIMIT $3;

-- name: RunLastByOffice :one
SELECT * FROM runs WHERE school_id = $1 AND office_id = $2
ORDER BY started_at DESC, id DESC
LIMIT 1;

-- name: RunLatestBySchool :many
-- The newest run of each office of a school, for the office cards (one statement, not one per office).
SELECT DISTINCT ON (r.office_id) r.*
FROM runs r
WHERE r.school_id = @school_id
ORDER BY r.office_id, r.started_at DESC, r.id DESC;
