-- name: SchoolCreate :one
-- An empty scope is the column's default, guide.
INSERT INTO schools (name, agrement, api_key_hash, scope)
VALUES (@name, @agrement, @api_key_hash, coalesce(nullif(@scope::text, ''), 'guide'))
RETURNING *;

-- name: SchoolGet :one
SELECT * FROM schools WHERE id = $1;

-- name: SchoolMarkClosed :exec
-- The DSR answered AUTO_ECOLE_FERMEE: keep the first time it did.
UPDATE schools SET closed_at = coalesce(closed_at, now()) WHERE id = $1;

-- name: SchoolReopen :one
-- The operator reopened a school the DSR had reported closed (docs/runbook.md).
UPDATE schools SET closed_at = NULL WHERE id = $1
RETURNING *;

-- name: SchoolList :many
-- The operator's list of schools, oldest first.
SELECT s.* FROM schools s
ORDER BY s.id
LIMIT @lim OFFSET @off;

-- name: SchoolCount :one
SELECT count(*) FROM schools;

-- name: SchoolGetByAgrement :one
SELECT * FROM schools WHERE agrement = $1;

-- name: SchoolSetScope :one
-- PATCH /v1/school: what the school sends (the caller judges its lessons again).
UPDATE schools SET scope = @scope WHERE id = @id
RETURNING *;

-- name: SchoolSetAlertEmails :one
-- PATCH /v1/school: the addresses that receive the daily digest (normalised by the caller).
UPDATE schools SET alert_emails = coalesce(@alert_emails::text[], '{}') WHERE id = @id
RETURNING *;

-- name: SchoolLockForDigest :one
-- Serialises the claims of one school's digests (school.ClaimDigest): a second claim waits
-- for the first to commit, then sees the events it took. NO KEY UPDATE: the inserts that
-- reference the school (its lessons, its events) do not wait.
SELECT * FROM schools WHERE id = $1 FOR NO KEY UPDATE;
