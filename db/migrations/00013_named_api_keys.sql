-- +goose Up
-- Named API keys (docs/api.md, "People and keys"): a school has several, each named so a
-- gérant knows which software holds which. A name is unique among the school's active keys
-- only: once a key is revoked, its name may be given to its replacement.
CREATE UNIQUE INDEX api_keys_school_name_active ON api_keys (school_id, name) WHERE revoked_at IS NULL;

-- Who started an office's linking: the callback comes back from RdvPermis without any key
-- or session, so the audit row of the link (office.link) is written in the name of whoever
-- started it, kept here with the state. NULL for a state started before this migration.
ALTER TABLE oauth_states
    ADD COLUMN actor_kind  text CHECK (actor_kind IN ('user', 'api_key', 'operator', 'system')),
    ADD COLUMN actor_label text,
    ADD COLUMN user_id     bigint,
    ADD COLUMN api_key_id  bigint;
