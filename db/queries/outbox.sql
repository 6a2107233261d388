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

-- name: OutboxPrune :one
-- The outbox is not an archive: events written before @before whose deliveries are all
-- finished (delivered, failed or cancelled) go, with those deliveries and their attempts, at
-- most @lim events per call (worker.KeepOutboxPruned calls it until it returns 0). An event
-- a delivery still waits on is kept, however old.
WITH old AS (
    SELECT e.seq FROM outbox_events e
    WHERE e.created_at < @before
      AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
    ORDER BY e.seq
    LIMIT @lim
), deliveries AS (
    SELECT d.id FROM webhook_deliveries d WHERE d.event_seq IN (SELECT seq FROM old)
), attempts AS (
    DELETE FROM webhook_attempts a WHERE a.delivery_id IN (SELECT id FROM deliveries)
), gone_deliveries AS (
    DELETE FROM webhook_deliveries d WHERE d.id IN (SELECT id FROM deliveries)
), gone AS (
    DELETE FROM outbox_events e WHERE e.seq IN (SELECT seq FROM old) RETURNING 1
)
SELECT count(*)::bigint AS pruned FROM gone;

-- name: OutboxListUndigested :many
-- The school's events no digest has taken yet, of the types digests report (the partial
-- index outbox_events_undigested has this very predicate), oldest first.
SELECT seq FROM outbox_events
WHERE school_id = @school_id AND digest_id IS NULL
  AND type IN ('lesson.error', 'office.needs_reconnect', 'etp.at_risk')
ORDER BY seq
LIMIT @lim;

-- name: OutboxTakeForDigest :execrows
-- The events a digest reported (or absorbed) are its own: no later digest reports them.
UPDATE outbox_events SET digest_id = @digest_id
WHERE school_id = @school_id AND seq = ANY (@seqs::bigint[]) AND digest_id IS NULL;
