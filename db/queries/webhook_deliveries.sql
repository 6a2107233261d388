-- name: WebhookDeliveryHead :one
-- The subscription's first pending delivery in the order of its events, with its event: the
-- one the dispatcher attempts next (head of line). Nothing when the subscription is deleted.
SELECT d.id, d.event_seq, d.attempts, d.next_attempt_at,
       e.id AS event_id, e.type AS event_type, e.data AS event_data, e.created_at AS event_created_at
FROM webhook_deliveries d
JOIN outbox_events e ON e.seq = d.event_seq
JOIN webhooks w ON w.id = d.webhook_id
WHERE d.webhook_id = @webhook_id AND d.status = 'pending' AND w.deleted_at IS NULL
ORDER BY d.event_seq
LIMIT 1;

-- name: WebhookDeliveryRecord :one
-- An attempt's outcome on its delivery: delivered, pending again until next_attempt_at, or
-- failed. Only a pending delivery changes (one cancelled meanwhile stays cancelled).
UPDATE webhook_deliveries
SET status = @status,
    attempts = attempts + 1,
    next_attempt_at = @next_attempt_at,
    last_status_code = @last_status_code,
    last_error = @last_error,
    finished_at = CASE WHEN @status::text = 'pending' THEN NULL ELSE @attempted_at::timestamptz END
WHERE id = @id AND status = 'pending'
RETURNING *;

-- name: WebhookDeliveryCancelPending :execrows
-- The subscription is deleted: what it had yet to receive never goes.
UPDATE webhook_deliveries SET status = 'cancelled', finished_at = now()
WHERE webhook_id = @webhook_id AND status = 'pending';

-- name: WebhookDeliveryRetryNow :execrows
-- The school changed or tested its subscription: what waits for a retry is attempted now.
UPDATE webhook_deliveries SET next_attempt_at = now()
WHERE webhook_id = @webhook_id AND status = 'pending' AND next_attempt_at > now();

-- name: WebhookDeliveryListRecent :many
-- GET /v1/webhooks/{ref}/deliveries: the newest deliveries of a subscription, with their events.
SELECT d.*, e.id AS event_id, e.type AS event_type
FROM webhook_deliveries d
JOIN outbox_events e ON e.seq = d.event_seq
WHERE d.webhook_id = @webhook_id
ORDER BY d.id DESC
LIMIT @lim;
