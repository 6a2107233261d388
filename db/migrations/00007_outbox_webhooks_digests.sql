-- +goose Up
-- Alerts and integration (docs/architecture.md, "Events, webhooks and digests"). Every event
-- a school can hear of is written to outbox_events by a trigger on the row whose change
-- causes it, so it is part of that change's transaction: a rolled-back change leaves no
-- event, a committed one always has its event, whichever code path made it (a run, the API,
-- a page, an operator's SQL). Each event is fanned out at once to the school's webhook
-- subscriptions that want it (webhook_deliveries), and the e-mail digest reads the events
-- no digest has taken yet.

CREATE TABLE outbox_events (
    -- The order of writing; deliveries of one subscription go out in this order.
    seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The event's stable id, the webhook-id of every delivery attempt.
    id         text        NOT NULL UNIQUE DEFAULT ('evt_' || replace(gen_random_uuid()::text, '-', '')),
    school_id  bigint      NOT NULL REFERENCES schools (id),
    type       text        NOT NULL,
    data       jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The digest that reported it (digests.id); NULL: not yet, or a type digests ignore.
    digest_id  bigint
);
CREATE INDEX outbox_events_school_seq ON outbox_events (school_id, seq);
CREATE INDEX outbox_events_undigested ON outbox_events (school_id, seq)
    WHERE digest_id IS NULL AND type IN ('lesson.error', 'office.needs_reconnect', 'etp.at_risk');

-- A school's webhook subscriptions. The secret is sealed like the OAuth tokens (AES-256-GCM,
-- key_id for rotation, the row id as additional data); it is shown once, when created.
CREATE TABLE webhooks (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id  bigint      NOT NULL REFERENCES schools (id),
    ref        text        NOT NULL,
    url        text        NOT NULL,
    events     text[]      NOT NULL,
    secret_enc bytea       NOT NULL,
    key_id     text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- DELETE /v1/webhooks/{ref}: kept for its deliveries' history, never delivered to again.
    deleted_at timestamptz
);
CREATE UNIQUE INDEX webhooks_school_ref ON webhooks (school_id, ref) WHERE deleted_at IS NULL;
CREATE INDEX webhooks_school_live ON webhooks (school_id) WHERE deleted_at IS NULL;

-- One event to one subscription. Pending until a 2xx (delivered) or until its event is 24 h
-- old and an attempt fails (failed); cancelled when the subscription is deleted.
CREATE TABLE webhook_deliveries (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       bigint      NOT NULL REFERENCES webhooks (id),
    event_seq        bigint      NOT NULL REFERENCES outbox_events (seq),
    status           text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_status_code integer,
    last_error       text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (webhook_id, event_seq)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, event_seq) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries (webhook_id, id DESC);

-- Every POST made for a delivery: what GET /v1/webhooks/{ref}/deliveries shows.
CREATE TABLE webhook_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id  bigint      NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at timestamptz NOT NULL DEFAULT now(),
    -- NULL: no HTTP answer (refused connection, timeout); error says what happened.
    status_code  integer,
    error        text        NOT NULL DEFAULT '',
    duration_ms  integer     NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- The school's alert addresses (PATCH /v1/school): they receive the daily digest.
ALTER TABLE schools ADD COLUMN alert_emails text[] NOT NULL DEFAULT '{}';

-- One digest per school and Paris day, composed and stored before it is sent, so a retry
-- (a worker restarted mid-send) sends the same message or, once sent_at is set, nothing.
CREATE TABLE digests (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id  bigint      NOT NULL REFERENCES schools (id),
    day        date        NOT NULL,
    recipients text[]      NOT NULL,
    subject    text        NOT NULL,
    text_body  text        NOT NULL,
    html_body  text        NOT NULL,
    message_id text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    UNIQUE (school_id, day)
);

-- +goose StatementBegin
-- outbox_emit writes one event and its deliveries, and wakes the subscriptions' dispatchers
-- (NOTIFY is delivered at commit only, so a rolled-back event wakes nobody).
CREATE FUNCTION outbox_emit(p_school_id bigint, p_type text, p_data jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_seq bigint;
    v_webhook bigint;
BEGIN
    INSERT INTO outbox_events (school_id, type, data) VALUES (p_school_id, p_type, p_data)
    RETURNING seq INTO v_seq;
    FOR v_webhook IN
        INSERT INTO webhook_deliveries (webhook_id, event_seq)
        SELECT w.id, v_seq FROM webhooks w
        WHERE w.school_id = p_school_id AND w.deleted_at IS NULL AND p_type = ANY (w.events)
        RETURNING webhook_id
    LOOP
        PERFORM pg_notify('livret_webhooks', v_webhook::text);
    END LOOP;
    RETURN v_seq;
END $$;

-- A lesson reaches the DSR (lesson.transmitted) or is refused, by the DSR or by Livret's own
-- checks (lesson.error, again when the code changes).
CREATE FUNCTION outbox_on_transmission() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_type text;
BEGIN
    IF new.status = 'transmitted' AND (TG_OP = 'INSERT' OR old.status <> 'transmitted') THEN
        v_type := 'lesson.transmitted';
    ELSIF new.status = 'error' AND (TG_OP = 'INSERT' OR old.status <> 'error' OR old.code <> new.code) THEN
        v_type := 'lesson.error';
    ELSE
        RETURN NULL;
    END IF;
    PERFORM outbox_emit(new.school_id, v_type, (
        SELECT jsonb_build_object(
            'lesson_ref', l.ref, 'office_ref', o.ref, 'student_ref', s.ref,
            'category', new.category, 'type', l.type, 'start', l.starts_at, 'end', l.ends_at,
            'status', new.status, 'code', new.code, 'message', new.message, 'origin', new.origin,
            'dsr_lesson_id', new.dsr_lesson_id)
        FROM lessons l
        JOIN offices o ON o.id = l.office_id
        JOIN students s ON s.id = l.student_id
        WHERE l.id = new.lesson_id));
    RETURN NULL;
END $$;

-- A run ends: completed (whatever its outcome: completed, school_closed, needs_reconnect,
-- not_linked) or failed.
CREATE FUNCTION outbox_on_run() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF new.outcome = 'running' OR (TG_OP = 'UPDATE' AND old.outcome = new.outcome) THEN
        RETURN NULL;
    END IF;
    PERFORM outbox_emit(new.school_id,
        CASE WHEN new.outcome = 'failed' THEN 'run.failed' ELSE 'run.completed' END,
        (SELECT jsonb_build_object(
            'office_ref', o.ref, 'run_id', new.workflow_id || '/' || new.run_id,
            'business_date', new.business_date, 'outcome', new.outcome, 'failure', new.failure,
            'started_at', new.started_at, 'finished_at', new.finished_at,
            'transmitted', new.transmitted, 'refused', new.refused, 'errors', new.errors,
            'not_eligible', new.not_eligible, 'deferred', new.deferred)
         FROM offices o WHERE o.id = new.office_id));
    RETURN NULL;
END $$;

-- RdvPermis refused an account's refresh token: each office on it needs a new login.
CREATE FUNCTION outbox_on_account() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_office record;
BEGIN
    FOR v_office IN SELECT o.ref, o.name FROM offices o WHERE o.account_id = new.id ORDER BY o.id LOOP
        PERFORM outbox_emit(new.school_id, 'office.needs_reconnect',
            jsonb_build_object('office_ref', v_office.ref, 'office_name', v_office.name));
    END LOOP;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER transmissions_outbox AFTER INSERT OR UPDATE OF status, code ON transmissions
    FOR EACH ROW EXECUTE FUNCTION outbox_on_transmission();
CREATE TRIGGER runs_outbox AFTER INSERT OR UPDATE OF outcome ON runs
    FOR EACH ROW EXECUTE FUNCTION outbox_on_run();
CREATE TRIGGER dsr_accounts_outbox AFTER UPDATE OF needs_reconnect ON dsr_accounts
    FOR EACH ROW WHEN (new.needs_reconnect AND NOT old.needs_reconnect)
    EXECUTE FUNCTION outbox_on_account();
