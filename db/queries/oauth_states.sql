-- name: OAuthStateCreate :exec
-- actor_*: who started the linking (school.Actor), for the callback's audit row;
-- binding_hash: the browser it is bound to (the pages), NULL for the API's route.
INSERT INTO oauth_states (state_hash, school_id, office_id, verifier_enc, key_id, expires_at,
                          actor_kind, actor_label, user_id, api_key_id, binding_hash)
VALUES (@state_hash, @school_id, @office_id, @verifier_enc, @key_id, @expires_at,
        sqlc.narg(actor_kind), sqlc.narg(actor_label), sqlc.narg(user_id), sqlc.narg(api_key_id),
        sqlc.narg(binding_hash));

-- name: OAuthStateBinding :one
-- The browser a usable state is bound to, read before spending it.
SELECT binding_hash FROM oauth_states WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now();

-- name: OAuthStateConsume :one
-- Single use: the UPDATE succeeds once, and only before the state expires.
UPDATE oauth_states SET used_at = now()
WHERE state_hash = $1 AND used_at IS NULL AND expires_at > now()
RETURNING *;

-- name: OAuthStateDeleteExpired :exec
DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day';
