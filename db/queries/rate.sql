-- name: RateReserve :one
-- Reserves the account's next call slot and returns it with the database's clock, so that
-- every worker measures against the same time. clock_timestamp(), not now(): now() is the
-- transaction's start and this statement is the whole transaction.
INSERT INTO dsr_rate AS r (account_id, next_slot)
VALUES (@account_id, clock_timestamp() + @spacing::interval)
ON CONFLICT (account_id) DO UPDATE
SET next_slot = greatest(r.next_slot, clock_timestamp()) + @spacing::interval
RETURNING (r.next_slot - @spacing::interval)::timestamptz AS slot, clock_timestamp()::timestamptz AS db_now;
