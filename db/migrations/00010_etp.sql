-- +goose Up
-- The ETP's read (docs/rules.md, "ETP"; db/queries/lessons.sql, LessonListETP): an office's
-- lessons of a window of months, each with its instructor, type, student, times and status.
-- Both tables are read by office and start, in (start, id) order, from the index alone, and
-- joined by a merge on (start, id): no lesson of the office outside the window is touched,
-- and an office whose window holds 100,000 lessons reads them in tens of milliseconds
-- (BENCHMARKS.md). The transmissions' index keeps only the statuses the ETP reads (not the
-- not-concerned or cancelled lessons). Each costs one index entry per write of its table.
CREATE INDEX lessons_office_starts_etp ON lessons (office_id, starts_at, id) INCLUDE (instructor_id, type);
CREATE INDEX transmissions_office_starts_etp ON transmissions (office_id, starts_at, lesson_id)
    INCLUDE (school_id, status, code, category, student_id, ends_at)
    WHERE status IN ('transmitted', 'error', 'pending', 'sending');
