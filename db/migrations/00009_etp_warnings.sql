-- +goose Up
-- The warning before the DSR's ETP computation (docs/rules.md, "ETP"; product.md: N days
-- before the computation, while hours are at risk). A school chooses how many days before
-- (0: no warning); each school is warned once per computation, and the etp.at_risk event is
-- written in the transaction of the warning's row (outbox_emit), so a warning never goes
-- twice and never without its event.
ALTER TABLE schools ADD COLUMN etp_warning_days integer NOT NULL DEFAULT 3
    CHECK (etp_warning_days BETWEEN 0 AND 20);

CREATE TABLE etp_warnings (
    school_id        bigint      NOT NULL REFERENCES schools (id),
    computation_date date        NOT NULL,
    event_seq        bigint      NOT NULL,
    lessons          integer     NOT NULL,
    at_risk_hours    double precision NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (school_id, computation_date)
);
