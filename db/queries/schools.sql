-- name: SchoolCreate :one
INSERT INTO schools (name, agrement, api_key_hash)
VALUES ($1, $2, $3)
RETURNING *;

-- name: SchoolByAPIKeyHash :one
SELECT * FROM schools WHERE api_key_hash = $1;

-- name: SchoolGet :one
SELECT * FROM schools WHERE id = $1;

-- name: SchoolMarkClosed :exec
-- The DSR answered AUTO_ECOLE_FERMEE: keep the first time it did.
UPDATE schools SET closed_at = coalesce(closed_at, now()) WHERE id = $1;

-- name: SchoolReopen :exec
UPDATE schools SET closed_at = NULL WHERE id = $1;

-- name: SchoolGetByAgrement :one
SELECT * FROM schools WHERE agrement = $1;
