-- People of a school (school/people.go). email is stored lower-cased.

-- name: UserCreate :one
INSERT INTO users (school_id, email, role, password_hash)
VALUES (@school_id, @email, @role, sqlc.narg(password_hash))
RETURNING *;

-- name: UserByEmail :one
SELECT * FROM users WHERE email = @email;

-- name: UserGet :one
SELECT * FROM users WHERE id = @id;

-- name: UserGetInSchool :one
SELECT * FROM users WHERE school_id = @school_id AND id = @id;

-- name: UserGetInSchoolForUpdate :one
SELECT * FROM users WHERE school_id = @school_id AND id = @id FOR UPDATE;

-- name: UserList :many
SELECT * FROM users WHERE school_id = @school_id ORDER BY email;

-- name: UserSetRole :one
UPDATE users SET role = @role, updated_at = now() WHERE id = @id RETURNING *;

-- name: UserSetPassword :exec
UPDATE users SET password_hash = @password_hash, updated_at = now() WHERE id = @id;

-- name: UserDelete :exec
DELETE FROM users WHERE id = @id;

-- name: UserGerantsForUpdate :many
-- Locks the school's gerants, so two requests cannot each remove "another" last gerant.
SELECT id FROM users WHERE school_id = @school_id AND role = 'gerant' ORDER BY id FOR UPDATE;

-- name: UserOfficeIDs :many
SELECT office_id FROM user_offices WHERE user_id = @user_id ORDER BY office_id;

-- name: UserOfficeRefs :many
SELECT u.user_id, o.ref FROM user_offices u JOIN offices o ON o.id = u.office_id
WHERE u.user_id = ANY(@user_ids::bigint[]) ORDER BY o.ref;

-- name: UserOfficesClear :exec
DELETE FROM user_offices WHERE user_id = @user_id;

-- name: UserOfficeAdd :exec
INSERT INTO user_offices (user_id, office_id) VALUES (@user_id, @office_id) ON CONFLICT DO NOTHING;

-- name: UserTokenCreate :exec
INSERT INTO user_tokens (token_hash, user_id, purpose, expires_at)
VALUES (@token_hash, @user_id, @purpose, @expires_at);

-- name: UserTokenGet :one
-- A link's token, whether usable or not (the page says which: used, expired).
SELECT * FROM user_tokens WHERE token_hash = @token_hash;

-- name: UserTokenUse :one
-- Single use: succeeds once, and only before the link expires.
UPDATE user_tokens SET used_at = @now::timestamptz
WHERE token_hash = @token_hash AND used_at IS NULL AND expires_at > @now
RETURNING *;

-- name: UserTokensDeleteExpired :exec
DELETE FROM user_tokens WHERE expires_at < @before;

-- name: LoginFailureGet :one
SELECT * FROM login_failures WHERE email_hash = @email_hash;

-- name: LoginFailureRecord :one
-- One more wrong password for an address: the count restarts when the window has passed,
-- and reaching the limit locks the address until lock_until.
INSERT INTO login_failures AS f (email_hash, failures, first_at)
VALUES (@email_hash, 1, @now)
ON CONFLICT (email_hash) DO UPDATE SET
    failures = CASE WHEN f.first_at < @window_start THEN 1 ELSE f.failures + 1 END,
    first_at = CASE WHEN f.first_at < @window_start THEN @now ELSE f.first_at END,
    locked_until = CASE WHEN f.first_at >= @window_start AND f.failures + 1 >= @max_failures::int
                        THEN @lock_until::timestamptz ELSE f.locked_until END
RETURNING *;

-- name: LoginFailureClear :exec
DELETE FROM login_failures WHERE email_hash = @email_hash;

-- name: LoginFailuresDeleteOld :exec
DELETE FROM login_failures WHERE first_at < @before AND (locked_until IS NULL OR locked_until < @before);
