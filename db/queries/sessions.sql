-- The pages' server-side sessions (webui, github.com/alexedwards/scs/v2's store). token is
-- the SHA-256 hex of the session id: the id itself is only in the browser's cookie.

-- name: SessionFind :one
SELECT data FROM sessions WHERE token = @token AND expiry > now();

-- name: SessionCommit :exec
INSERT INTO sessions (token, data, expiry) VALUES (@token, @data, @expiry)
ON CONFLICT (token) DO UPDATE SET data = EXCLUDED.data, expiry = EXCLUDED.expiry;

-- name: SessionDelete :exec
DELETE FROM sessions WHERE token = @token;

-- name: SessionsDeleteExpired :exec
DELETE FROM sessions WHERE expiry < now();
