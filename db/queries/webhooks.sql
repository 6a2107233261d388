-- name: WebhookInsert :one
-- A new subscription, its secret sealed afterwards against the row's id (WebhookSetSecret,
-- same transaction). A live subscription of that ref already there: no row (the caller
-- updates it instead).
INSERT INTO webhooks (school_id, ref, url, events, secret_enc, key_id)
VALUES (@school_id, @ref, @url, @events, @secret_enc, @key_id)
ON CONFLICT (school_id, ref) WHERE deleted_at IS NULL DO NOTHING
RETURNING *;

-- name: WebhookSetSecret :exec
-- The sealed secret of a subscription: at creation, and when a delivery finds it sealed with
-- an older key (the key rotation's re-seal, guarded by the key it was sealed with).
UPDATE webhooks SET secret_enc = @secret_enc, key_id = @key_id
WHERE id = @id AND key_id = @old_key_id;

-- name: WebhookGetByRefForUpdate :one
SELECT * FROM webhooks
WHERE school_id = @school_id AND ref = @ref AND deleted_at IS NULL
FOR UPDATE;

-- name: WebhookGetByRef :one
SELECT * FROM webhooks
WHERE school_id = @school_id AND ref = @ref AND deleted_at IS NULL;

-- name: WebhookGet :one
-- A subscription by id, deleted or not: the dispatcher ends when it is deleted.
SELECT * FROM webhooks WHERE id = $1;

-- name: WebhookUpdate :one
UPDATE webhooks SET url = @url, events = @events, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: WebhookList :many
-- A school's live subscriptions, by ref.
SELECT * FROM webhooks
WHERE school_id = @school_id AND deleted_at IS NULL
ORDER BY ref;

-- name: WebhookDelete :one
-- DELETE /v1/webhooks/{ref}: the row stays for its deliveries' history.
UPDATE webhooks SET deleted_at = now(), updated_at = now()
WHERE school_id = @school_id AND ref = @ref AND deleted_at IS NULL
RETURNING *;

-- name: WebhookListWithPending :many
-- The live subscriptions that have something to deliver: the reconciler makes sure each has
-- its dispatcher (a NOTIFY missed while no worker listened).
SELECT w.id FROM webhooks w
WHERE w.deleted_at IS NULL
  AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'pending')
ORDER BY w.id
LIMIT @lim;

-- name: WebhookEmitTest :one
-- POST /v1/webhooks/{ref}/test: an event of type webhook.test for this subscription only,
-- with its one delivery (outbox_emit fans out to every subscription, this does not).
WITH ev AS (
    INSERT INTO outbox_events (school_id, type, data)
    VALUES (@school_id, 'webhook.test', @data)
    RETURNING seq, id, created_at
), d AS (
    INSERT INTO webhook_deliveries (webhook_id, event_seq)
    SELECT @webhook_id, ev.seq FROM ev
    RETURNING id
)
SELECT ev.seq, ev.id, ev.created_at, d.id AS delivery_id FROM ev, d;

-- name: WebhookNotify :exec
-- Wakes the subscription's dispatcher at commit, as outbox_emit does.
SELECT pg_notify('livret_webhooks', CAST(sqlc.arg(webhook_id)::bigint AS text));

-- name: WebhookListen :exec
-- On a connection of its own, the worker's listener hears of every NOTIFY livret_webhooks:
-- the id of a subscription with something new to deliver.
LISTEN livret_webhooks;
