// Package devstack holds what `livret dev` runs in-process and production never does: an
// embedded Temporal server persisted in a SQLite file, the Temporal Web UI, and a throwaway
// PostgreSQL cluster for machines without one.
//
// Only cmd/livret's dev command imports it, and that file is left out by the build tag
// `nodev`: `go build -tags nodev ./cmd/livret` makes the production binary without
// go.temporal.io/server (see README.md).
package devstack
