-- +goose Up
-- The DSR allows a fixed number of calls per minute per RdvPermis account, whichever worker
-- makes them. Each account's next free call slot lives here (GCRA: calls are spaced by
-- 60 s / limit), so every worker process shares one schedule per account.
CREATE TABLE dsr_rate (
    account_id bigint      PRIMARY KEY REFERENCES dsr_accounts (id),
    next_slot  timestamptz NOT NULL
);
