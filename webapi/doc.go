// Package webapi is Livret's HTTP API (docs/api.md), served with Gin: the management
// software's ingestion (offices, instructors, students, lessons), the linking of offices to
// RdvPermis accounts (OAuth with PKCE and a single-use state), the transmission report, the
// admin's actions (run now, resend) and the operator's endpoints (schools, health, metrics,
// the OpenAPI document).
//
// Every handler reads and writes through the school it authenticated: another school's object
// answers 404 exactly as if it did not exist. Every write is one transaction, and after any
// change the eligibility verdicts of the lessons it affects are recomputed (domain.Evaluate),
// so the sender learns at once why a lesson will not be sent.
//
// Errors are RFC 9457 problems whose detail and field messages are French: a school admin
// reads them. Handlers call c.Error and return; one middleware renders the problem.
package webapi
