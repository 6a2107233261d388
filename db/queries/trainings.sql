-- name: TrainingUpsert :one
-- A student's training in one category (docs/api.md, "Trainings").
INSERT INTO trainings (school_id, student_id, category, initial_evaluation_accepted)
VALUES (@school_id, @student_id, @category, @initial_evaluation_accepted)
ON CONFLICT (student_id, category) DO UPDATE
SET initial_evaluation_accepted = excluded.initial_evaluation_accepted,
    updated_at = CASE WHEN trainings.initial_evaluation_accepted = excluded.initial_evaluation_accepted
                      THEN trainings.updated_at ELSE now() END
RETURNING *;

-- name: TrainingList :many
-- The trainings of some students, each with its contract (none yet, created, or the DSR's
-- last refusal), in the order they were first sent.
SELECT tr.id, tr.student_id, tr.category, tr.initial_evaluation_accepted,
       tr.contract_code, tr.contract_message, c.dsr_contract_id
FROM trainings tr
LEFT JOIN training_contracts c ON c.training_id = tr.id
WHERE tr.school_id = @school_id AND tr.student_id = ANY(@student_ids::bigint[])
ORDER BY tr.student_id, tr.id;

-- name: TrainingDeleteUnused :many
-- A PUT with "trainings" lists all of the student's trainings: the others go, unless a
-- lesson is on them (then they stay, and the caller refuses the PUT).
DELETE FROM trainings tr
WHERE tr.school_id = @school_id AND tr.student_id = @student_id
  AND NOT (tr.category = ANY(@keep::text[]))
  AND NOT EXISTS (SELECT 1 FROM lessons l WHERE l.training_id = tr.id)
  AND NOT EXISTS (SELECT 1 FROM training_contracts c WHERE c.training_id = tr.id)
RETURNING category;

-- name: TrainingListKept :many
-- The student's trainings a PUT with "trainings" did not list and could not remove.
SELECT tr.category FROM trainings tr
WHERE tr.school_id = @school_id AND tr.student_id = @student_id
  AND NOT (tr.category = ANY(@keep::text[]))
ORDER BY tr.id;

-- name: TrainingSetContractRefusal :exec
-- The DSR refused this training's contract: the student's answer shows it until the contract
-- is created.
UPDATE trainings SET contract_code = @code, contract_message = @message
WHERE id = @id;

-- name: TrainingRecategorize :one
-- The one-training form on a student with one training of another category: that training
-- takes the new category (its lessons follow it and are judged again).
UPDATE trainings SET category = @category, initial_evaluation_accepted = @initial_evaluation_accepted,
    contract_code = '', contract_message = '', updated_at = now()
WHERE school_id = @school_id AND id = @id
RETURNING *;
