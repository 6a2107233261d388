-- name: OAuthStateCreate :exec
INSERT INTO oauth_states (state_hash, school_id, office_id, verifier_enc, key_id, expires_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: OAuthStateConsume :one
-- Single use: the UPDATE succeeds once, and only before the state expires.
UPDATE oauth_states SET used_at = now()
WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING *;

-- name: OAuthStateDeleteExpired :exec
DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day';
