-- name: AccountUpsert :one
-- A new login at RdvPermis: store the fresh pair and clear "reconnexion nécessaire".
INSERT INTO dsr_accounts (school_id, dsr_account_id, email, access_token_enc, refresh_token_enc,
                          key_id, access_expires_at, refresh_expires_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (school_id, dsr_account_id) DO UPDATE
SET email = excluded.email,
    access_token_enc = excluded.access_token_enc,
    refresh_token_enc = excluded.refresh_token_enc,
    key_id = excluded.key_id,
    access_expires_at = excluded.access_expires_at,
    refresh_expires_at = excluded.refresh_expires_at,
    needs_reconnect = false,
    updated_at = now()
RETURNING *;

-- name: AccountGet :one
SELECT * FROM dsr_accounts WHERE id = $1;

-- name: AccountGetForUpdate :one
-- Serialises refreshes of one account across every worker: the row stays locked until the
-- new pair is committed (a rotated refresh token kills the old one).
SELECT * FROM dsr_accounts WHERE id = $1 FOR UPDATE;

-- name: AccountSaveTokens :exec
UPDATE dsr_accounts
SET access_token_enc = $2, refresh_token_enc = $3, key_id = $4,
    access_expires_at = $5, refresh_expires_at = $6, updated_at = now()
WHERE id = $1;

-- name: AccountMarkNeedsReconnect :exec
UPDATE dsr_accounts SET needs_reconnect = true, updated_at = now() WHERE id = $1;

-- name: AccountListLinked :many
-- Accounts that at least one office uses and that still hold a working refresh token.
SELECT a.* FROM dsr_accounts a
WHERE NOT a.needs_reconnect
  AND EXISTS (SELECT 1 FROM offices o WHERE o.account_id = a.id)
ORDER BY a.id;

-- name: AccountCountNeedingReconnect :one
-- RdvPermis accounts that an office uses and that need a new login, and those offices (every
-- school): livret_dsr_accounts_needing_reconnect and livret_offices_needing_reconnect.
SELECT count(DISTINCT a.id)::bigint AS accounts, count(o.id)::bigint AS offices
FROM dsr_accounts a
JOIN offices o ON o.account_id = a.id
WHERE a.needs_reconnect;
