-- name: WebhookAttemptInsert :exec
INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, duration_ms)
VALUES (@delivery_id, @attempted_at, @status_code, @error, @duration_ms);

-- name: WebhookAttemptListByDeliveries :many
-- The last attempts (at most per_delivery) of each of these deliveries, oldest first.
SELECT id, delivery_id, attempted_at, status_code, error, duration_ms FROM (
    SELECT wa.id, wa.delivery_id, wa.attempted_at, wa.status_code, wa.error, wa.duration_ms,
           row_number() OVER (PARTITION BY wa.delivery_id ORDER BY wa.id DESC) AS newest
    FROM webhook_attempts wa
    WHERE wa.delivery_id = ANY (@delivery_ids::bigint[])
) recent
WHERE newest <= @per_delivery::bigint
ORDER BY delivery_id, id;
