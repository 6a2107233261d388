// Package devstack is what `livret dev` and `livret demo` start, in one process, and
// production never does: PostgreSQL (found, or a throwaway cluster of its own), the DSR
// sandbox, an embedded Temporal server persisted in a SQLite file and its Web UI, the worker
// and the web API (Start), then the demo school seeded through the API (demo.go).
//
// cmd/livret's dev command reads the configuration and calls Start; that file is left out by
// the build tag `nodev`, so `go build -tags nodev ./cmd/livret` makes the production binary
// without go.temporal.io/server (see README.md). The drills use the embedded Temporal server
// and the PostgreSQL cluster too, as a server and a database they can restart.
package devstack
