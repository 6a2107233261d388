// Package ingestfuzz fuzzes the HTTP API's ingestion (PUT of lessons and students) on a real
// PostgreSQL database. It lives apart from webapi's other tests so that its test binary does
// not link the Temporal server: `go test -fuzz` instruments every package of the binary, and
// the server alone would add minutes to each build. Ingestion never calls Temporal; the API
// gets a real SDK client that is never connected, so a call would fail the target.
//
//	go test -run '^$' -fuzz '^FuzzIngestLesson$' -fuzztime 2000x -fuzzminimizetime 50x ./webapi/ingestfuzz
//
// Both budgets are counts, never durations (see .ci/fuzz and fuzz_test.go for why).
package ingestfuzz
