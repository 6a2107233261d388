// Package dsr is Livret's client of the DSR's API Livret Numérique (or of the sandbox): the
// Keycloak OAuth configuration, a per-account token source that refreshes once, under a lock,
// and persists every rotated pair, the typed calls, and the classification of every failure
// into one error type whose Kind drives the retry policy.
//
// The wire mapping — paths, JSON field names, Keycloak paths — lives in wire.go only: adapting
// to the official contract touches that file and nothing above it.
//
// Tokens are secrets: no log line, error string or panic of this package contains one.
package dsr
