// Package domain holds Livret's pure rules: which lessons are sent to the DSR, the formats the
// DSR checks (NEPH, teaching authorisation, agreement number), licence categories and lesson
// types, the DSR's error catalogue with the French wording a school admin reads, and the
// Europe/Paris day boundary.
//
// Nothing here does I/O and nothing here imports another Livret package: every other layer
// asks this one, so a rule lives in exactly one place.
package domain
