-- Bulk loads for benchmarks and drills: many lessons of one office in two statements. The
-- caller has judged every lesson eligible (domain.Evaluate); ingestion from the API goes
-- through LessonUpsert and TransmissionSetVerdict instead. Arrays are zipped by position.

-- name: LessonInsertMany :many
INSERT INTO lessons (school_id, ref, office_id, student_id, instructor_id, type, starts_at, ends_at, planned_at)
SELECT @school_id::bigint, unnest(@refs::text[]), @office_id::bigint, unnest(@student_ids::bigint[]),
       @instructor_id::bigint, @type::text, unnest(@starts::timestamptz[]), unnest(@ends::timestamptz[]), now()
RETURNING id, student_id, starts_at, ends_at;

-- name: TransmissionInsertPendingMany :exec
INSERT INTO transmissions (lesson_id, school_id, office_id, student_id, starts_at, ends_at, status)
SELECT unnest(@lesson_ids::bigint[]), @school_id::bigint, @office_id::bigint, unnest(@student_ids::bigint[]),
       unnest(@starts::timestamptz[]), unnest(@ends::timestamptz[]), 'pending';
