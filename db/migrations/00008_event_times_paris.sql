-- +goose Up
-- The times inside an event's data (a lesson's start and end, a run's start and end) are
-- written in Paris time with its offset, like every time of Livret's API (docs/api.md,
-- "Conventions"), whatever the server's or the session's time zone. A function's own SET
-- applies while it runs, so the jsonb rendering of timestamptz follows it.
ALTER FUNCTION outbox_on_transmission() SET timezone = 'Europe/Paris';
ALTER FUNCTION outbox_on_run() SET timezone = 'Europe/Paris';
