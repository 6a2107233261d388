-- name: RunRecord :one
-- A run's row, written when it starts (outcome 'running', no finished_at), when it ends and
-- when it fails. One row per run: the key is the workflow id and the run id of the run's
-- first execution, which continue-as-new and a reset keep, so the day's second run (same
-- workflow id, a new first run id) is a second row. errors is the office's lessons in error
-- now (office_error_count, as the office card counts them); refused, the lessons this run's
-- batches left in error. started_at and business_date stay as first written.
INSERT INTO runs (school_id, office_id, workflow_id, run_id, business_date, started_at, finished_at,
                  transmitted, errors, refused, not_eligible, deferred, outcome, failure)
VALUES (@school_id, @office_id, @workflow_id, @run_id, @business_date, @started_at,
        CASE WHEN @outcome::text = 'running' THEN NULL ELSE now() END,
        @transmitted, office_error_count(@school_id, @office_id), @refused, @not_eligible, @deferred,
        @outcome::text, @failure)
ON CONFLICT (workflow_id, run_id) DO UPDATE
SET transmitted = excluded.transmitted, errors = excluded.errors, refused = excluded.refused,
    not_eligible = excluded.not_eligible, deferred = excluded.deferred,
    outcome = excluded.outcome, failure = excluded.failure, finished_at = excluded.finished_at
RETURNING *;

-- name: RunListByOffice :many
SELECT * FROM runs WHERE school_id = $1 AND office_id = $2
ORDER BY started_at DESC, id DESC
LIMIT $3;

-- name: RunLastByOffice :one
SELECT * FROM runs WHERE school_id = $1 AND office_id = $2
ORDER BY started_at DESC, id DESC
LIMIT 1;

-- name: RunLatestBySchool :many
-- The newest run of each office of a school, for the office cards (one statement, not one per office).
SELECT DISTINCT ON (r.office_id) r.*
FROM runs r
WHERE r.school_id = @school_id
ORDER BY r.office_id, r.started_at DESC, r.id DESC;

-- name: RunListRunning :many
-- Runs of every school still 'running' that started before @started_before: the workers'
-- sweep asks Temporal whether their workflow is still open (worker.SweepAbandonedRuns).
SELECT * FROM runs
WHERE outcome = 'running' AND started_at < @started_before
ORDER BY started_at, id
LIMIT @lim;

-- name: RunMarkAbandoned :execrows
-- A run whose workflow closed without recording its end (terminated, timed out, lost): it
-- failed. Only while still 'running', so a failure the run recorded itself is kept.
UPDATE runs
SET outcome = 'failed', failure = @failure, finished_at = @finished_at::timestamptz,
    errors = office_error_count(school_id, office_id)
WHERE id = @id AND outcome = 'running';

-- name: RunCountFinishedSince :many
-- Runs of every school that ended at or after @since, by outcome: the state metrics'
-- livret_runs_recent (db.StateCollector). Reads the index runs_finished.
SELECT outcome, count(*)::bigint AS runs
FROM runs
WHERE finished_at >= @since::timestamptz
GROUP BY outcome
ORDER BY outcome;

-- name: RunCountRunning :one
-- Runs of every school still 'running' and how long ago the oldest one started (0 when none):
-- livret_runs_running and livret_runs_running_oldest_age_seconds. Reads runs_running_started.
SELECT count(*)::bigint AS runs,
       coalesce(extract(epoch FROM now() - min(started_at)), 0)::float8 AS oldest_age_seconds
FROM runs
WHERE outcome = 'running';
