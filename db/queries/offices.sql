-- name: OfficeUpsert :one
INSERT INTO offices (school_id, ref, name)
VALUES ($1, $2, $3)
ON CONFLICT (school_id, ref) DO UPDATE SET name = excluded.name, updated_at = now()
RETURNING *;

-- name: OfficeGetByRef :one
SELECT * FROM offices WHERE school_id = $1 AND ref = $2;

-- name: OfficeGet :one
SELECT * FROM offices WHERE school_id = $1 AND id = $2;

-- name: OfficeList :many
-- The office cards: link state, account, lessons per status as the school sees them
-- ("sending" is still pending for it), newest run. "In error" is the one definition the card,
-- the run and the report share: the office's lessons whose status is error, whoever stopped
-- them (Livret's checks at entry or the DSR), counted by office_error_count as a run counts it.
-- office_id, when set, reads one card (its counts only).
SELECT o.id, o.ref, o.name, o.account_id, o.linked_at,
       a.email AS account_email,
       coalesce(a.needs_reconnect, false)::boolean AS needs_reconnect,
       office_error_count(o.school_id, o.id)::bigint AS error_count,
       (SELECT count(*) FROM transmissions t WHERE t.office_id = o.id AND t.status IN ('pending', 'sending'))::bigint AS pending_count,
       (SELECT count(*) FROM transmissions t WHERE t.office_id = o.id AND t.status = 'transmitted')::bigint AS transmitted_count,
       (SELECT count(*) FROM transmissions t WHERE t.office_id = o.id AND t.status = 'not_eligible')::bigint AS not_eligible_count,
       (SELECT count(*) FROM transmissions t WHERE t.office_id = o.id AND t.status = 'cancelled')::bigint AS cancelled_count
FROM offices o
LEFT JOIN dsr_accounts a ON a.id = o.account_id
WHERE o.school_id = @school_id AND (sqlc.narg(office_id)::bigint IS NULL OR o.id = sqlc.narg(office_id))
  AND (sqlc.narg(office_ids)::bigint[] IS NULL OR o.id = ANY(sqlc.narg(office_ids)::bigint[]))
ORDER BY o.name, o.ref;

-- name: OfficeLink :one
-- linked_at keeps the first link time: reconnecting resumes lessons planned meanwhile.
-- schedule_pending: Temporal has yet to be told (see OfficeListSchedulePending).
UPDATE offices
SET account_id = $3, linked_at = coalesce(linked_at, now()), schedule_pending = true, updated_at = now()
WHERE school_id = $1 AND id = $2
RETURNING *;

-- name: OfficeUnlink :one
UPDATE offices SET account_id = NULL, schedule_pending = true, updated_at = now()
WHERE school_id = $1 AND id = $2
RETURNING *;

-- name: OfficeCountOtherLinked :one
SELECT count(*) FROM offices WHERE school_id = $1 AND id <> $2 AND account_id IS NOT NULL;

-- name: OfficeListLinked :many
-- Every linked office of every school: the schedules to keep.
SELECT o.id, o.school_id, o.ref, o.account_id FROM offices o
WHERE o.account_id IS NOT NULL
ORDER BY o.id;

-- name: OfficeListByAccount :many
SELECT * FROM offices WHERE account_id = $1 ORDER BY id;

-- name: OfficeGetByRefForShare :one
-- The rows a lesson's verdict is computed from are locked against change until the lesson's
-- transaction commits: a concurrent change of the student, the instructor or the office link
-- (which re-evaluates their lessons) then waits, and sees the new lesson.
SELECT * FROM offices WHERE school_id = $1 AND ref = $2 FOR SHARE;

-- name: OfficeListSchedulePending :many
-- Offices linked or unlinked since Temporal last agreed: their Schedule is still to be
-- created or deleted. Written in the link's own transaction, so a failed Temporal call after
-- the commit leaves the office here until the reconciler succeeds.
SELECT o.id, o.school_id, o.account_id FROM offices o
WHERE o.schedule_pending
ORDER BY o.id
LIMIT @lim;

-- name: OfficeMarkScheduleSynced :execrows
-- Temporal agrees with the link as it was read: a link or unlink since then keeps the mark.
UPDATE offices SET schedule_pending = false
WHERE id = @id AND schedule_pending
  AND account_id IS NOT DISTINCT FROM sqlc.narg(account_id)::bigint;

-- name: OfficeListIDs :many
-- A school's offices, by id only: what reads office by office (the ETP) walks.
SELECT id FROM offices WHERE school_id = @school_id
  AND (sqlc.narg(office_ids)::bigint[] IS NULL OR id = ANY(sqlc.narg(office_ids)::bigint[]))
ORDER BY id;
