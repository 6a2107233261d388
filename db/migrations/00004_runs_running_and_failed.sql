-- +goose Up
-- A run is recorded when it starts (outcome 'running', no finished_at yet) and when it ends:
-- well (completed, school_closed, needs_reconnect, not_linked) or not ('failed', with the
-- French sentence the school reads in failure). Before, only a run that ended well had a row,
-- so a failed run showed nowhere (docs/api.md, "The report (school)").
ALTER TABLE runs ALTER COLUMN finished_at DROP NOT NULL;
ALTER TABLE runs ALTER COLUMN finished_at DROP DEFAULT;
ALTER TABLE runs ADD COLUMN failure text NOT NULL DEFAULT '';

-- errors now means what the office card's error_count means: the office's lessons in error
-- when the run ended. What errors counted before, the lessons this run's batches left in
-- error (the DSR's refusals), moves to refused. The office's errors when an old run ended are
-- not known; its old count stays, the errors that run itself left.
ALTER TABLE runs ADD COLUMN refused integer NOT NULL DEFAULT 0;
UPDATE runs SET refused = errors;

ALTER TABLE runs ADD CONSTRAINT runs_outcome_known
    CHECK (outcome IN ('running', 'completed', 'school_closed', 'needs_reconnect', 'not_linked', 'failed'));
ALTER TABLE runs ADD CONSTRAINT runs_finished_unless_running
    CHECK ((outcome = 'running') = (finished_at IS NULL));

-- The workers' sweep looks for runs left 'running' whose workflow Temporal has closed.
CREATE INDEX runs_running_started ON runs (started_at) WHERE outcome = 'running';

-- An office's lessons in error, written once: the report's filter (report_matches) with the
-- office and the status 'error'. The office card's error_count and a run's errors both read
-- it, and GET /v1/lessons?office=…&status=error counts the same rows.
-- +goose StatementBegin
CREATE FUNCTION office_error_count(p_school_id bigint, p_office_id bigint)
RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT count(*) FROM report_matches(p_school_id, p_office_id, NULL, ARRAY['error'], NULL, NULL)
$$;
-- +goose StatementEnd
