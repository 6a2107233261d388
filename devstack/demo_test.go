package devstack

import (
	"testing"
	"time"

	"livret/domain"
)

// TestDemoLessons: whatever the day the demo is seeded on, its agenda has no Sunday, no ref
// twice, the one-off lessons of the vendor guide, and the lesson it cancels.
func TestDemoLessons(t *testing.T) {
	for d := 0; d < 7; d++ {
		now := time.Date(2026, 3, 2+d, 10, 0, 0, 0, domain.Paris) // Monday 2 March 2026, then each day of that week
		lessons := demoLessons(now)
		refs := map[string]bool{}
		var simulator25, mockExam, evaluation bool
		for _, l := range lessons {
			if l.start.In(domain.Paris).Weekday() == time.Sunday {
				t.Errorf("%s: lesson %s on a Sunday", now.Weekday(), l.ref)
			}
			if refs[l.ref] {
				t.Errorf("%s: lesson %s twice", now.Weekday(), l.ref)
			}
			refs[l.ref] = true
			simulator25 = simulator25 || (l.typ == domain.TypeSimulateur && l.end.Sub(l.start) == 25*time.Minute)
			mockExam = mockExam || l.typ == domain.TypeExamenBlanc
			evaluation = evaluation || l.typ == domain.TypeEvaluationDepart
		}
		if !simulator25 || !mockExam || !evaluation {
			t.Errorf("%s: one-off lessons missing (25-minute simulator %v, mock exam %v, initial evaluation %v)", now.Weekday(), simulator25, mockExam, evaluation)
		}
		if ref := demoCancelledRef(now); !refs[ref] {
			t.Errorf("%s: the cancelled lesson %s is not in the agenda", now.Weekday(), ref)
		}
	}
}
