package devstack

import (
	"slices"
	"testing"
	"time"

	"livret/domain"
	"livret/livretclient"
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

// TestDemoTrainings: whatever the day, the motorcycle student has a B and an A2 training
// (both evaluations accepted, both known to the sandbox's ANTS), B driving lessons and A2
// plateau and circulation lessons each naming its training, and a collective theory session
// with a real instructor: one session ref, one start, several students, the moto student on
// A2. Every lesson of a student with several trainings names its category.
func TestDemoTrainings(t *testing.T) {
	several := map[string]bool{}
	for _, st := range demoStudents {
		if len(st.trainings) > 1 {
			several[st.ref] = true
		}
		if st.ref != "theo" {
			continue
		}
		in := st.input()
		if in.Category != "" || len(in.Trainings) != 2 || in.Trainings[0] != (livretclient.TrainingInput{Category: "B", InitialEvaluationAccepted: true}) ||
			in.Trainings[1] != (livretclient.TrainingInput{Category: "A2", InitialEvaluationAccepted: true}) {
			t.Fatalf("Théo's trainings: %+v", in)
		}
		if !slices.Equal(st.ants, []string{"B", "A2"}) {
			t.Fatalf("Théo's ANTS record: %v", st.ants)
		}
	}
	if !several["theo"] {
		t.Fatal("no motorcycle student with two trainings")
	}
	instructors := map[string]demoInstructor{}
	for _, in := range demoInstructors {
		instructors[in.ref] = in
	}
	for d := 0; d < 7; d++ {
		now := time.Date(2026, 3, 2+d, 10, 0, 0, 0, domain.Paris)
		types := map[string]map[domain.LessonType]bool{"B": {}, "A2": {}}
		sessions := map[string][]demoLesson{}
		for _, l := range demoLessons(now) {
			if several[l.student] && l.category == "" {
				t.Errorf("%s: lesson %s of %s names no training", now.Weekday(), l.ref, l.student)
			}
			if l.student == "theo" && l.session == "" && types[l.category] != nil {
				types[l.category][l.typ] = true
			}
			if l.session != "" {
				sessions[l.session] = append(sessions[l.session], l)
			}
		}
		if !types["B"][domain.TypeConduite] || !types["A2"][domain.TypePlateau] || !types["A2"][domain.TypeCirculation] || len(types["B"]) != 1 || len(types["A2"]) != 2 {
			t.Errorf("%s: Théo's lessons by training: %v", now.Weekday(), types)
		}
		if len(sessions) != 1 {
			t.Fatalf("%s: %d collective sessions, want 1", now.Weekday(), len(sessions))
		}
		for ref, ls := range sessions {
			students := map[string]string{}
			for _, l := range ls {
				if l.typ != domain.TypeCode || !l.start.Equal(ls[0].start) || !l.end.Equal(ls[0].end) || l.instructor != ls[0].instructor {
					t.Errorf("%s: session %s is not one theory class: %+v", now.Weekday(), ref, ls)
				}
				students[l.student] = l.category
			}
			if in := instructors[ls[0].instructor]; in.simulator || in.last == "" {
				t.Errorf("%s: session %s given by %+v, not an instructor", now.Weekday(), ref, in)
			}
			if len(students) < 3 || students["theo"] != "A2" || !ls[0].end.Before(domain.StartOfDay(now)) {
				t.Errorf("%s: session %s: students %v, ends %s", now.Weekday(), ref, students, ls[0].end)
			}
		}
	}
	if demoScope != string(domain.ScopeEtendu) {
		t.Errorf("the demo school's scope is %q: its A2 lessons and theory session would not be sent", demoScope)
	}
}
