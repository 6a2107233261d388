// Package school is Livret's use-case layer: what happens to a school's data, once, whichever
// door it comes through — the JSON API (webapi), the admin's pages (webui), the test stacks.
// Ingest (upsert and verdict in one transaction), re-evaluation when a student, an instructor
// or an office changes, cancel, the resend request, linking an office to RdvPermis, the
// report's reads, the operator's schools. It imports db and domain, never an HTTP framework:
// a handler decodes, calls a method of Service, and encodes (docs/architecture.md, "Layout").
package school
