-- +goose Up
-- The browser that started linking an office from the pages (SECURITY.md, "People and
-- sessions"): the SHA-256 of a random value held in that browser's cookie. The callback from
-- another browser is refused without spending the state. NULL: started through the API by the
-- management software, which hands the URL to a browser of its own.
ALTER TABLE oauth_states ADD COLUMN binding_hash bytea;

