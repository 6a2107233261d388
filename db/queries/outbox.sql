-- name: OutboxListSince :many
-- A school's events after a position, oldest first (tests, drills, and the operator's look).
SELECT * FROM outbox_events
WHERE school_id = @school_id AND seq > @after_seq
ORDER BY seq
LIMIT @lim;

-- name: OutboxGet :one
SELECT * FROM outbox_events WHERE seq = $1;

-- name: OutboxEmit :one
-- An event written by Go code rather than by a trigger (webhook test events use
-- WebhookEmitTest instead: they go to one subscription only).
SELECT outbox_emit(@school_id::bigint, @type::text, @data::jsonb)::bigint AS seq;
