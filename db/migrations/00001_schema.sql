-- +goose Up
-- Livret's system of record. Forward-only: a later change is a new file.
-- Every table holding a school's data carries school_id, and every query that reads such data
-- filters on it: tenant isolation is enforced by the queries, not by the callers' good will.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE schools (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text        NOT NULL,
    agrement      text        NOT NULL UNIQUE,
    -- SHA-256 of the API key: the key is 32 random bytes, so a fast hash is enough and lets a
    -- request find its school by an indexed equality.
    api_key_hash  bytea       NOT NULL UNIQUE,
    -- Set when the DSR answers AUTO_ECOLE_FERMEE: the school's runs stop until it is cleared.
    closed_at     timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A RdvPermis account: the OAuth tokens an admin granted by logging in at RdvPermis.
CREATE TABLE dsr_accounts (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id          bigint      NOT NULL REFERENCES schools (id),
    dsr_account_id     text        NOT NULL, -- the DSR's compte_id
    email              text        NOT NULL,
    -- AES-256-GCM ciphertexts; key_id names the key so keys can be rotated.
    access_token_enc   bytea       NOT NULL,
    refresh_token_enc  bytea       NOT NULL,
    key_id             text        NOT NULL,
    access_expires_at  timestamptz NOT NULL,
    refresh_expires_at timestamptz,
    -- The DSR refused the refresh token: an admin must log in again.
    needs_reconnect    boolean     NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, dsr_account_id)
);

CREATE TABLE offices (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   bigint      NOT NULL REFERENCES schools (id),
    ref         text        NOT NULL,
    name        text        NOT NULL,
    account_id  bigint      REFERENCES dsr_accounts (id),
    -- When the office was first linked: only lessons planned after it are sent. Kept across
    -- an unlink so that reconnecting resumes what was planned meanwhile.
    linked_at   timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, ref)
);
CREATE INDEX offices_account_id ON offices (account_id) WHERE account_id IS NOT NULL;

-- One-time OAuth states for linking an office (single use, short TTL, PKCE verifier encrypted).
CREATE TABLE oauth_states (
    state_hash    bytea PRIMARY KEY,
    school_id     bigint      NOT NULL REFERENCES schools (id),
    office_id     bigint      NOT NULL REFERENCES offices (id),
    verifier_enc  bytea       NOT NULL,
    key_id        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);

CREATE TABLE students (
    id                          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id                   bigint      NOT NULL REFERENCES schools (id),
    ref                         text        NOT NULL,
    office_id                   bigint      NOT NULL REFERENCES offices (id),
    first_name                  text        NOT NULL,
    last_name                   text        NOT NULL,
    -- Lower-case, accent-free "first last" for the report's student search.
    search_name                 text        NOT NULL,
    neph                        text        NOT NULL DEFAULT '',
    category                    text        NOT NULL,
    initial_evaluation_accepted boolean     NOT NULL DEFAULT false,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, ref)
);
CREATE INDEX students_office_id ON students (office_id);
CREATE INDEX students_search_name ON students USING gin (search_name gin_trgm_ops);

CREATE TABLE instructors (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id            bigint      NOT NULL REFERENCES schools (id),
    ref                  text        NOT NULL,
    first_name           text        NOT NULL,
    last_name            text        NOT NULL,
    authorization_number text        NOT NULL DEFAULT '',
    -- An unsupervised simulator ("Simulateur", generic number A0000000000).
    simulator            boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, ref)
);

CREATE TABLE lessons (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id      bigint      NOT NULL REFERENCES schools (id),
    ref            text        NOT NULL,
    office_id      bigint      NOT NULL REFERENCES offices (id),
    student_id     bigint      NOT NULL REFERENCES students (id),
    instructor_id  bigint      NOT NULL REFERENCES instructors (id),
    type           text        NOT NULL,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    planned_at     timestamptz NOT NULL,
    cancelled_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (school_id, ref),
    CHECK (ends_at > starts_at)
);
-- The report lists an office's (or a school's) lessons newest first, and a student's.
CREATE INDEX lessons_office_starts ON lessons (office_id, starts_at DESC, id DESC);
CREATE INDEX lessons_school_starts ON lessons (school_id, starts_at DESC, id DESC);
CREATE INDEX lessons_student_starts ON lessons (student_id, starts_at DESC, id DESC);
CREATE INDEX lessons_instructor_id ON lessons (instructor_id);

-- The DSR's training contract: one per student and school, created on the first lesson sent.
CREATE TABLE training_contracts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id       bigint      NOT NULL REFERENCES schools (id),
    student_id      bigint      NOT NULL UNIQUE REFERENCES students (id),
    dsr_contract_id text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The state of each lesson towards the DSR (one row per lesson, created with it).
-- office_id, student_id and the times are copies of the lesson's, so that the report's and
-- the daily run's lookups and counts by office, student and status read one table.
CREATE TABLE transmissions (
    lesson_id      bigint      PRIMARY KEY REFERENCES lessons (id),
    school_id      bigint      NOT NULL REFERENCES schools (id),
    office_id      bigint      NOT NULL REFERENCES offices (id),
    student_id     bigint      NOT NULL REFERENCES students (id),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    status         text        NOT NULL CHECK (status IN ('pending', 'sending', 'transmitted', 'error', 'not_eligible', 'cancelled')),
    code           text        NOT NULL DEFAULT '',
    message        text        NOT NULL DEFAULT '',
    -- 'livret' when our own checks decided, 'dsr' when the DSR answered.
    origin         text        NOT NULL DEFAULT 'livret' CHECK (origin IN ('livret', 'dsr')),
    attempts       integer     NOT NULL DEFAULT 0,
    dsr_lesson_id  text,
    -- Set when a run marks the lesson sending, before the POST: a lesson found sending on a
    -- retry is looked up at the DSR before any new POST (exactly once).
    sending_since  timestamptz,
    transmitted_at timestamptz,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transmissions_due ON transmissions (office_id, ends_at) WHERE status IN ('pending', 'sending');
CREATE INDEX transmissions_office_status_starts ON transmissions (office_id, status, starts_at DESC, lesson_id DESC);
CREATE INDEX transmissions_student_starts ON transmissions (student_id, starts_at DESC, lesson_id DESC);
CREATE INDEX transmissions_school_starts ON transmissions (school_id, starts_at DESC, lesson_id DESC);
CREATE INDEX transmissions_school_status_starts ON transmissions (school_id, status, starts_at DESC, lesson_id DESC);

CREATE TABLE runs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id      bigint      NOT NULL REFERENCES schools (id),
    office_id      bigint      NOT NULL REFERENCES offices (id),
    workflow_id    text        NOT NULL,
    run_id         text        NOT NULL,
    business_date  date        NOT NULL,
    started_at     timestamptz NOT NULL,
    finished_at    timestamptz NOT NULL DEFAULT now(),
    transmitted    integer     NOT NULL DEFAULT 0,
    errors         integer     NOT NULL DEFAULT 0,
    not_eligible   integer     NOT NULL DEFAULT 0,
    deferred       integer     NOT NULL DEFAULT 0,
    outcome        text        NOT NULL DEFAULT 'completed',
    UNIQUE (workflow_id, run_id)
);
CREATE INDEX runs_office_started ON runs (office_id, started_at DESC);
