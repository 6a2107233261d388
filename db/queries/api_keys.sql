-- name: ApiKeyCreate :one
-- A school's new key: only its hash is kept (school.CreateAPIKey, POST /v1/schools).
INSERT INTO api_keys (school_id, name, key_hash)
VALUES (@school_id, @name, @key_hash)
RETURNING id, school_id, name, created_at, last_used_at, revoked_at;

-- name: ApiKeyByHash :one
-- The API's door: an active key and its school.
SELECT k.id AS key_id, k.name AS key_name, k.last_used_at AS key_last_used_at, sqlc.embed(s)
FROM api_keys k JOIN schools s ON s.id = k.school_id
WHERE k.key_hash = @key_hash AND k.revoked_at IS NULL;

-- name: ApiKeyList :many
-- GET /v1/api-keys and the keys page: never the hash. Active keys first, then the revoked.
SELECT id, school_id, name, created_at, last_used_at, revoked_at
FROM api_keys WHERE school_id = @school_id
ORDER BY revoked_at IS NOT NULL, created_at, id;

-- name: ApiKeyRevoke :one
-- Revoked at once: ApiKeyByHash no longer finds it. Another school's key, an unknown id or
-- a key already revoked: no row.
UPDATE api_keys SET revoked_at = @now::timestamptz
WHERE id = @id AND school_id = @school_id AND revoked_at IS NULL
RETURNING id, school_id, name, created_at, last_used_at, revoked_at;

-- name: ApiKeyTouch :exec
-- Records when a key was used, at most once a minute (since is now less a minute), so the
-- API's hot path does not write a row per request.
UPDATE api_keys SET last_used_at = @now::timestamptz
WHERE id = @id AND (last_used_at IS NULL OR last_used_at < @since::timestamptz);
