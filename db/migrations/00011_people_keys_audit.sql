-- +goose Up
-- People, keys and the audit trail (docs/api.md, "People and keys"; product.md, "People and
-- roles"). A school's API key is for its management software; people sign in as themselves,
-- with a role. Nothing secret is kept in clear: passwords as argon2id strings, session ids,
-- invitation tokens and API keys as SHA-256 hashes (each has 256 random bits, so a fast hash
-- is enough and lets a request find its row by an indexed equality).

-- A person of a school. email is stored lower-cased and is unique across Livret: an e-mail and
-- a password name one person, whatever the school.
CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id     bigint      NOT NULL REFERENCES schools (id),
    email         text        NOT NULL UNIQUE CHECK (email = lower(email)),
    role          text        NOT NULL CHECK (role IN ('gerant', 'bureau', 'lecture')),
    -- argon2id in its PHC string form; NULL until the invitation's link has been used.
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_school_id ON users (school_id);

-- The offices a bureau person works for (the other roles see every office of their school).
CREATE TABLE user_offices (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    office_id bigint NOT NULL REFERENCES offices (id),
    PRIMARY KEY (user_id, office_id)
);

-- Single-use links e-mailed to a person: an invitation to choose a password, or a reset.
CREATE TABLE user_tokens (
    token_hash bytea       PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text        NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_tokens_user_id ON user_tokens (user_id);

-- Wrong passwords per e-mail address, whether a person has it or not (so the answer and its
-- timing do not tell which addresses exist). email_hash is an HMAC of the lower-cased address.
CREATE TABLE login_failures (
    email_hash   bytea       PRIMARY KEY,
    failures     integer     NOT NULL DEFAULT 0,
    first_at     timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz
);

-- Server-side sessions of the pages (github.com/alexedwards/scs/v2's store schema), keyed by
-- the SHA-256 of the session id, never the id itself.
CREATE TABLE sessions (
    token  text        PRIMARY KEY,
    data   bytea       NOT NULL,
    expiry timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- A school's named API keys, for its management software; each has gerant rights.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id    bigint      NOT NULL REFERENCES schools (id),
    name         text        NOT NULL,
    key_hash     bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_school_id ON api_keys (school_id);
-- The key every school got from POST /v1/schools becomes the first of its keys.
INSERT INTO api_keys (school_id, name, key_hash, created_at)
SELECT id, 'Clé principale', api_key_hash, created_at FROM schools;

-- Who did what, one row per action, written in the action's own transaction.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   bigint      NOT NULL REFERENCES schools (id),
    at          timestamptz NOT NULL DEFAULT now(),
    -- 'user' (a person on the pages), 'api_key' (the management software), 'operator'.
    actor_kind  text        NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'operator', 'system')),
    -- The person's e-mail or the key's name at the time: the row outlives them.
    actor_label text        NOT NULL,
    user_id     bigint,
    api_key_id  bigint,
    action      text        NOT NULL,
    object      text        NOT NULL
);
CREATE INDEX audit_log_school_at ON audit_log (school_id, id DESC);
