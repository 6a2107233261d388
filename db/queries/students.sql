-- name: StudentUpsert :one
INSERT INTO students (school_id, ref, office_id, first_name, last_name, search_name, neph,
                      category, initial_evaluation_accepted)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (school_id, ref) DO UPDATE
SET office_id = excluded.office_id, first_name = excluded.first_name,
    last_name = excluded.last_name, search_name = excluded.search_name, neph = excluded.neph,
    category = excluded.category,
    initial_evaluation_accepted = excluded.initial_evaluation_accepted, updated_at = now()
RETURNING *;

-- name: StudentGetByRef :one
SELECT * FROM students WHERE school_id = $1 AND ref = $2;

-- name: StudentSearch :many
-- q is already lower-case and accent-free (domain.SearchKey); the trigram index serves it.
SELECT s.*, o.ref AS office_ref FROM students s
JOIN offices o ON o.id = s.office_id
WHERE s.school_id = $1 AND s.search_name LIKE '%' || sqlc.arg(q)::text || '%'
ORDER BY s.last_name, s.first_name, s.id
LIMIT $2;
