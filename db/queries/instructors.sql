-- name: InstructorUpsert :one
INSERT INTO instructors (school_id, ref, first_name, last_name, authorization_number, simulator)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (school_id, ref) DO UPDATE
SET first_name = excluded.first_name, last_name = excluded.last_name,
    authorization_number = excluded.authorization_number, simulator = excluded.simulator,
    updated_at = now()
RETURNING *;

-- name: InstructorGetByRef :one
SELECT * FROM instructors WHERE school_id = $1 AND ref = $2;

-- name: InstructorGetByRefForShare :one
-- Locked until the lesson's write commits (see OfficeGetByRefForShare).
SELECT * FROM instructors WHERE school_id = $1 AND ref = $2 FOR SHARE;

-- name: InstructorListByIDs :many
-- The instructors of a school's lessons, by their row ids (the ETP's rows).
SELECT * FROM instructors WHERE school_id = @school_id AND id = ANY(@ids::bigint[]) ORDER BY id;
