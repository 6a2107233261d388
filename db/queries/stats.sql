-- name: StatTransactions :one
-- Transactions committed or rolled back in this database so far (the benchmark's count of
-- Postgres work per lesson; the server publishes it with up to a second's delay).
SELECT (pg_stat_get_db_xact_commit(d.oid) + pg_stat_get_db_xact_rollback(d.oid))::bigint FROM pg_catalog.pg_database d WHERE d.datname = current_database();
