-- name: AuditInsert :exec
-- One row per action, in the action's transaction (school.Service.audit).
INSERT INTO audit_log (school_id, actor_kind, actor_label, user_id, api_key_id, action, object)
VALUES (@school_id, @actor_kind, @actor_label, sqlc.narg(user_id), sqlc.narg(api_key_id), @action, @object);

-- name: AuditList :many
-- GET /v1/audit and the audit page: newest first.
SELECT * FROM audit_log WHERE school_id = @school_id
ORDER BY id DESC
LIMIT @lim OFFSET @off;

-- name: AuditCount :one
SELECT count(*) FROM audit_log WHERE school_id = @school_id;
