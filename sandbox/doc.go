// Package sandbox is a faithful stand-in of the DSR's API Livret Numérique and of its Keycloak
// login (realm "formation"), as docs/dsr.md describes them: the same paths, JSON fields,
// codes, statuses and French messages. The dev stack, the tests, the benchmarks and the fault
// drills talk to it instead of the real DSR.
//
// It imports nothing of Livret's (docs/dsr.md, "Independence of the sandbox"). The real DSR
// does not run Livret's code, so neither does its stand-in: its rules (rules.go) are its own
// copy, written from the contract. Were they shared, a mistake in Livret's checks — a wrong
// duration bound, a too lenient authorisation format, a misspelt message — would be made by
// the DSR the tests talk to as well, and every test would pass. TestImportsNothingOfLivret
// keeps it so.
//
// Besides the DSR's own endpoints it serves controls under /sandbox/ (reference data, fault
// injection, a ledger of what was stored) that only loopback callers — or callers holding the
// control token — may use. Control is a typed Go client for them.
//
// All state sits behind one mutex: the sandbox favours obviously-correct bookkeeping (the
// ledger is the referee of the exactly-once and rate-limit guarantees) over throughput. The
// mutex is never held while sleeping for injected latency.
package sandbox
