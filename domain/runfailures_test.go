package domain

import (
	"strings"
	"testing"
)

// Every run failure reads as French for the school: what happened, then that the lessons
// stay pending for the next daily run; no error text, code or English leaks into it.
func TestRunFailureSentences(t *testing.T) {
	seen := map[string]RunFailure{}
	for _, f := range RunFailures() {
		s, ok := runFailureSentences[f]
		if !ok {
			t.Fatalf("%s has no sentence", f)
		}
		if f.Sentence() != s || !strings.HasSuffix(s, runFailureNext) || len(s) <= len(runFailureNext) {
			t.Errorf("%s: %q does not say what happened, then what happens next", f, s)
		}
		for _, technical := range []string{"error", "dsr ", "HTTP", "invalid", "_", "workflow", "Temporal"} {
			if strings.Contains(s, technical) {
				t.Errorf("%s: %q holds %q", f, s, technical)
			}
		}
		if other, dup := seen[s]; dup {
			t.Errorf("%s and %s read the same", f, other)
		}
		seen[s] = f
	}
	if len(runFailureSentences) != len(RunFailures()) {
		t.Errorf("%d sentences for %d failures", len(runFailureSentences), len(RunFailures()))
	}
	if RunFailure("unknown").Sentence() != RunFailureInternal.Sentence() {
		t.Error("an unknown failure does not read as Livret's own")
	}
}
