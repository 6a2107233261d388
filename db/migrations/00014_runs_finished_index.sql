-- +goose Up
-- The state metrics (db.StateCollector, livret_runs_recent) count the runs that ended in the
-- last 24 hours on every scrape: without this index, a scan of every run ever recorded.
CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;
