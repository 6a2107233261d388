-- name: StudentSeenByOffices :one
-- Whether a bureau person working for these offices sees the student (docs/rules.md,
-- "Roles"): attached to one of them, or with a lesson in one.
SELECT EXISTS (
    SELECT 1 FROM students s
    WHERE s.id = @student_id
      AND (s.office_id = ANY(@office_ids::bigint[])
           OR EXISTS (SELECT 1 FROM lessons l WHERE l.student_id = s.id AND l.office_id = ANY(@office_ids::bigint[])))
)::boolean;

-- name: LessonOfficeByRef :one
-- The office of a lesson, for the office check of GET /v1/lessons/{ref}.
SELECT office_id FROM lessons WHERE school_id = @school_id AND ref = @ref;
