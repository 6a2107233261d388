-- +goose Up
-- A report line also says who set its error (only a DSR refusal can be resent), when its
-- office was linked and whether its account must be reconnected: a pending lesson then tells
-- when it goes (due_on), a lesson planned before the link tells the link's date (docs/api.md,
-- "A lesson's transmission"). New columns go last, as CREATE OR REPLACE VIEW requires.
CREATE OR REPLACE VIEW report_lines AS
SELECT l.id, l.school_id, l.ref, l.type, l.starts_at, l.ends_at, l.planned_at, l.cancelled_at,
       o.ref AS office_ref, o.name AS office_name,
       s.ref AS student_ref, s.first_name AS student_first_name, s.last_name AS student_last_name,
       i.ref AS instructor_ref,
       t.status, t.code, t.message, t.attempts, t.dsr_lesson_id, t.transmitted_at,
       t.origin,
       o.linked_at AS office_linked_at,
       (o.account_id IS NOT NULL)::boolean AS office_linked,
       coalesce(a.needs_reconnect, false) AS office_needs_reconnect
FROM lessons l
JOIN transmissions t ON t.lesson_id = l.id
JOIN offices o ON o.id = l.office_id
JOIN students s ON s.id = l.student_id
JOIN instructors i ON i.id = l.instructor_id
LEFT JOIN dsr_accounts a ON a.id = o.account_id;
