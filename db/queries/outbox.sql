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
