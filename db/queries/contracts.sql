-- name: ContractSave :one
-- A training's contract, created or found at the DSR. Idempotent: a retry that found the
-- contract again stores nothing twice. The training's last refusal is cleared with it.
WITH cleared AS (
    UPDATE trainings SET contract_code = '', contract_message = ''
    WHERE id = @training_id AND contract_code <> ''
)
INSERT INTO training_contracts (school_id, student_id, training_id, dsr_contract_id)
VALUES (@school_id, @student_id, @training_id, @dsr_contract_id)
ON CONFLICT (training_id) DO UPDATE SET dsr_contract_id = training_contracts.dsr_contract_id
RETURNING *;
