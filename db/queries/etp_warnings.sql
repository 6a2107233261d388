-- name: ETPWarningListDue :many
-- The schools to warn today for the computation of @computation_date, @days_left days away:
-- those whose warning days reach it (etp_warning_days >= days left; 0: never) and not yet warned for
-- it, in id order after @after_school_id (paged). Closed schools are left alone: their runs
-- are stopped and the DSR computes nothing for them.
SELECT s.id FROM schools s
WHERE s.id > @after_school_id
  AND s.closed_at IS NULL
  AND s.etp_warning_days > 0
  AND s.etp_warning_days >= @days_left::integer
  AND NOT EXISTS (SELECT 1 FROM etp_warnings w
                  WHERE w.school_id = s.id AND w.computation_date = @computation_date::date)
ORDER BY s.id
LIMIT @lim;

-- name: ETPWarningRecord :one
-- The warning of a school for one computation, with its etp.at_risk event in the same
-- statement: a second call for the same computation writes nothing and returns no row. Run
-- under the school's row lock (SchoolLockForDigest), so two workers never both emit.
WITH warned AS (
    INSERT INTO etp_warnings (school_id, computation_date, event_seq, lessons, at_risk_hours)
    SELECT @school_id::bigint, @computation_date::date,
           outbox_emit(@school_id::bigint, 'etp.at_risk', @data::jsonb),
           @lessons::integer, @at_risk_hours::float8
    WHERE NOT EXISTS (SELECT 1 FROM etp_warnings w
                      WHERE w.school_id = @school_id::bigint AND w.computation_date = @computation_date::date)
    ON CONFLICT (school_id, computation_date) DO NOTHING
    RETURNING event_seq
)
SELECT event_seq FROM warned;

-- name: ETPWarningList :many
SELECT * FROM etp_warnings WHERE school_id = $1 ORDER BY computation_date DESC;

-- name: SchoolSetETPWarningDays :one
UPDATE schools SET etp_warning_days = @etp_warning_days WHERE id = @id RETURNING *;
