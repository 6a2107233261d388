-- name: ContractSave :one
-- Idempotent: a retry that found the contract again stores nothing twice.
INSERT INTO training_contracts (school_id, student_id, dsr_contract_id)
VALUES ($1, $2, $3)
ON CONFLICT (student_id) DO UPDATE SET dsr_contract_id = training_contracts.dsr_contract_id
RETURNING *;
