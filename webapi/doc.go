// Package webapi is Livret's JSON API (docs/api.md), served with Gin: the management
// software's ingestion (offices, instructors, students, lessons), the linking of offices to
// RdvPermis accounts, the transmission report, the admin's actions (run now, resend) and the
// operator's endpoints (schools and their reopening, health, metrics, the OpenAPI document).
//
// A handler decodes the request, calls the use-case layer (package school), where every rule
// lives, and encodes the answer. The admin's pages are another package (webui) mounted on the
// same router by the composition root (Server.Pages).
//
// Errors are RFC 9457 problems whose detail and field messages are French: a school admin
// reads them. Handlers call c.Error and return; one middleware renders the problem, as
// problem+json for an API client and, through Pages.Problem, as a French HTML page for a
// browser (wantsPage).
package webapi
