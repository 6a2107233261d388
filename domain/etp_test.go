package domain

import (
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func date(s string) time.Time {
	t, err := ParseBusinessDate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestETPCalendar works the ETP's dates (docs/rules.md, "ETP"): the computation date a day
// leads to, the night before a holiday, the weekend that moves nothing, the window.
func TestETPCalendar(t *testing.T) {
	cases := []struct {
		name         string
		at           string
		windowMonths int // the deployment's; 0 is the table's 3
		computation  string
		holiday      string
		from, to     string
		version      string
	}{
		{"the 24th, a Tuesday: the night from the 24th to the 25th", "2026-11-10", 0,
			"2026-11-24", "", "2026-08-24", "2026-11-23", "etp-2026-12"},
		{"the 24th, a Saturday: nothing moves", "2026-10-01", 0,
			"2026-10-24", "", "2026-07-24", "2026-10-23", "etp-2026-12"},
		{"the 24th, a Sunday, and a window across the year end", "2027-01-05", 0,
			"2027-01-24", "", "2026-10-24", "2027-01-23", "etp-2026-12"},
		{"December: the 25th is Christmas, so the night from the 23rd to the 24th", "2026-12-02", 0,
			"2026-12-23", "Noël", "2026-09-23", "2026-12-22", "etp-2026-12"},
		{"the computation date itself is still ahead: the DSR counts in its night", "2026-12-23", 0,
			"2026-12-23", "Noël", "2026-09-23", "2026-12-22", "etp-2026-12"},
		{"the day after: next month's, on a Sunday, its window across the year end", "2026-12-24", 0,
			"2027-01-24", "", "2026-10-24", "2027-01-23", "etp-2026-12"},
		{"Whit Monday 25 May 2026: the night before, a Saturday's, and the weekend moves nothing more", "2026-05-01", 0,
			"2026-05-23", "Lundi de Pentecôte", "2026-02-23", "2026-05-22", "etp-2026-12"},
		{"Ascension on 25 May 2028", "2028-05-20", 0,
			"2028-05-23", "Ascension", "2028-02-23", "2028-05-22", "etp-2026-12"},
		{"the 25th of June 2028 is a Sunday, no holiday: the 24th, a Saturday", "2028-05-24", 0,
			"2028-06-24", "", "2028-03-24", "2028-06-23", "etp-2026-12"},
		{"February: a window of 92 days from 24 November", "2027-02-01", 0,
			"2027-02-24", "", "2026-11-24", "2027-02-23", "etp-2026-12"},
		{"Easter Monday on 25 April 2011: before the table, its first rows answer", "2011-04-10", 0,
			"2011-04-23", "Lundi de Pâques", "2011-01-23", "2011-04-22", "etp-2026-12"},
		{"a deployment's window of 6 months", "2026-11-10", 6,
			"2026-11-24", "", "2026-05-24", "2026-11-23", "etp-2026-12+window-6m"},
		{"the deployment's window equal to the table's keeps the table's version", "2026-11-10", 3,
			"2026-11-24", "", "2026-08-24", "2026-11-23", "etp-2026-12"},
	}
	for _, tc := range cases {
		// Any time of the day: the Paris date decides.
		p := ETPPeriodAt(date(tc.at).Add(23*time.Hour+30*time.Minute), tc.windowMonths)
		got := [5]string{BusinessDate(p.Computation), p.Holiday, BusinessDate(p.From), BusinessDate(p.To), p.Rules.Version}
		want := [5]string{tc.computation, tc.holiday, tc.from, tc.to, tc.version}
		if got != want {
			t.Errorf("%s: computation, holiday, window, version = %q, want %q", tc.name, got, want)
		}
		if (p.Holiday != "") != !p.HolidayOn.IsZero() || (p.Holiday != "" && !p.HolidayOn.Equal(date(tc.computation).AddDate(0, 0, 2))) {
			t.Errorf("%s: the holiday is on %s", tc.name, p.HolidayOn)
		}
		if !p.End().Equal(date(tc.computation)) {
			t.Errorf("%s: the window ends at %s, want 00:00 of the computation date", tc.name, p.End())
		}
	}
}

func TestETPWeeks(t *testing.T) {
	// The window of 23 December 2026: Wednesday 23 September to Tuesday 22 December.
	p := ETPPeriodAt(date("2026-12-02"), 0)
	weeks := p.Weeks()
	if len(weeks) != 14 || BusinessDate(weeks[0]) != "2026-09-23" || BusinessDate(weeks[1]) != "2026-09-28" || BusinessDate(weeks[13]) != "2026-12-21" {
		t.Fatalf("weeks %v", weeks)
	}
	for at, want := range map[string]int{"2026-09-22 23:59": -1, "2026-09-23 00:00": 0, "2026-09-27 23:00": 0,
		"2026-09-28 08:00": 1, "2026-10-25 02:30": 4, "2026-12-22 20:00": 13, "2026-12-23 08:00": -1} {
		if got := p.Week(paris(at)); got != want {
			t.Errorf("week of %s: %d, want %d", at, got, want)
		}
	}
}

// TestETPCount works each counting rule with numbers (docs/rules.md, "ETP").
func TestETPCount(t *testing.T) {
	r := ETPRulesAt(date("2026-12-23"))
	// l is a lesson of 2 November 2026: start and end as "15:04".
	l := func(student int64, cat Category, typ LessonType, start, end string, atRisk bool) ETPLesson {
		return ETPLesson{Student: student, Category: cat, Type: typ, Start: paris("2026-11-02 " + start), End: paris("2026-11-02 " + end), AtRisk: atRisk}
	}
	const sent, risk = false, true
	session := func(students int, atRisk bool) []ETPLesson {
		var out []ETPLesson
		for s := 1; s <= students; s++ {
			out = append(out, l(int64(s), CategoryB, TypeCode, "18:00", "20:00", atRisk))
		}
		return out
	}
	cases := []struct {
		name      string
		simulator bool
		lessons   []ETPLesson
		want      ETPTally
	}{
		{"two driving lessons: 1 h + 1 h 30", false, []ETPLesson{
			l(1, CategoryB, TypeConduite, "08:00", "09:00", sent), l(2, CategoryBAuto, TypeConduiteBoiteAuto, "10:00", "11:30", sent),
		}, ETPTally{Lessons: 2, Hours: 2.5, Counted: 2.5}},
		{"AAC practice ×1.2: 2 h of conduite count 2.4 h", false, []ETPLesson{
			l(1, CategoryBAAC, TypeConduite, "08:00", "10:00", sent),
		}, ETPTally{Lessons: 1, Hours: 2, Counted: 2.4}},
		{"AAC: a supervised simulator hour counts 1.2, an RVP and an evaluation as they last", false, []ETPLesson{
			l(1, CategoryBAAC, TypeSimulateur, "08:00", "09:00", sent), l(1, CategoryBAAC, TypeRVPPratique, "10:00", "12:00", sent),
			l(2, CategoryBAAC, TypeEvaluationDepart, "13:00", "14:00", sent),
		}, ETPTally{Lessons: 3, Hours: 4, Counted: 1.2 + 2 + 1}},
		{"B_CS practice counts as it lasts (×1.2 is AAC's only)", false, []ETPLesson{
			l(1, CategoryBCS, TypeConduite, "08:00", "10:00", sent),
		}, ETPTally{Lessons: 1, Hours: 2, Counted: 2}},
		{"a collective theory session of 8 students, 2 h: 16 h transmitted, 2 h counted", false, session(8, sent),
			ETPTally{Lessons: 8, Hours: 16, Counted: 2}},
		{"overlapping lessons merge: 10:00–11:00 and 10:30–12:00 count 2 h", false, []ETPLesson{
			l(1, CategoryB, TypeConduite, "10:00", "11:00", sent), l(2, CategoryB, TypeConduite, "10:30", "12:00", sent),
		}, ETPTally{Lessons: 2, Hours: 2.5, Counted: 2}},
		{"lessons that touch do not overlap: 10:00–11:00 and 11:00–12:00 count 2 h", false, []ETPLesson{
			l(1, CategoryB, TypeConduite, "10:00", "11:00", sent), l(2, CategoryB, TypeConduite, "11:00", "12:00", sent),
		}, ETPTally{Lessons: 2, Hours: 2, Counted: 2}},
		{"an overlap at the highest coefficient: AAC 10:00–11:00 and B 10:30–11:30 count 0.6 + 0.6 + 0.5", false, []ETPLesson{
			l(1, CategoryBAAC, TypeConduite, "10:00", "11:00", sent), l(2, CategoryB, TypeConduite, "10:30", "11:30", sent),
		}, ETPTally{Lessons: 2, Hours: 2, Counted: 1.7}},
		{"unsupervised simulator: 4 × 2 h of one student count 5 h, 3 h of another count 3 h", true, []ETPLesson{
			l(1, CategoryB, TypeSimulateur, "08:00", "10:00", sent), l(2, CategoryB, TypeSimulateur, "08:00", "11:00", sent),
			l(1, CategoryB, TypeSimulateur, "10:00", "12:00", sent), l(1, CategoryB, TypeSimulateur, "13:00", "15:00", sent),
			l(1, CategoryB, TypeSimulateurBoiteAuto, "15:00", "17:00", sent),
		}, ETPTally{Lessons: 5, Hours: 11, Counted: 8}},
		{"unsupervised simulator: two students at once are two simulators, not merged", true, []ETPLesson{
			l(1, CategoryB, TypeSimulateur, "08:00", "10:00", sent), l(2, CategoryB, TypeSimulateur, "08:00", "10:00", sent),
		}, ETPTally{Lessons: 2, Hours: 4, Counted: 4}},
		{"unsupervised simulator in AAC: 6 h count 5 h × 1.2", true, []ETPLesson{
			l(1, CategoryBAAC, TypeSimulateur, "08:00", "11:00", sent), l(1, CategoryBAAC, TypeSimulateur, "13:00", "16:00", sent),
		}, ETPTally{Lessons: 2, Hours: 6, Counted: 6}},
		{"simulator with an instructor: 8 h count fully", false, []ETPLesson{
			l(1, CategoryB, TypeSimulateur, "08:00", "12:00", sent), l(1, CategoryB, TypeSimulateur, "13:00", "17:00", sent),
		}, ETPTally{Lessons: 2, Hours: 8, Counted: 8}},
		{"at risk: a lesson in error adds its counted hours, 1.5 h AAC → 1.8", false, []ETPLesson{
			l(1, CategoryB, TypeConduite, "08:00", "09:00", sent), l(2, CategoryBAAC, TypeConduite, "10:00", "11:30", risk),
		}, ETPTally{Lessons: 1, AtRiskLessons: 1, Hours: 1, Counted: 1, AtRisk: 1.8}},
		{"at risk: what overlaps a transmitted lesson adds only the rest, 10:30–11:30 over 10:00–11:00 adds 0.5", false, []ETPLesson{
			l(1, CategoryB, TypeConduite, "10:00", "11:00", sent), l(2, CategoryB, TypeConduite, "10:30", "11:30", risk),
		}, ETPTally{Lessons: 1, AtRiskLessons: 1, Hours: 1, Counted: 1, AtRisk: 0.5}},
		{"at risk: 2 students of a session already counted add nothing", false, append(session(3, sent), session(5, risk)[3:]...),
			ETPTally{Lessons: 3, AtRiskLessons: 2, Hours: 6, Counted: 2}},
		{"at risk: a whole session pending is its 2 h at risk", false, session(6, risk),
			ETPTally{AtRiskLessons: 6, AtRisk: 2}},
		{"at risk: an AAC lesson over a B one raises the coefficient, 1 h adds 0.2", false, []ETPLesson{
			l(1, CategoryB, TypeConduite, "10:00", "11:00", sent), l(2, CategoryBAAC, TypeConduite, "10:00", "11:00", risk),
		}, ETPTally{Lessons: 1, AtRiskLessons: 1, Hours: 1, Counted: 1, AtRisk: 0.2}},
		{"at risk on the simulator: 4 h transmitted first, a pending 3 h earlier adds 1 h to the 5 h", true, []ETPLesson{
			l(1, CategoryB, TypeSimulateur, "06:00", "09:00", risk), l(1, CategoryB, TypeSimulateur, "13:00", "17:00", sent),
		}, ETPTally{Lessons: 1, AtRiskLessons: 1, Hours: 4, Counted: 4, AtRisk: 1}},
		{"at risk on the simulator past the 5 h: nothing", true, []ETPLesson{
			l(1, CategoryB, TypeSimulateur, "08:00", "13:00", sent), l(1, CategoryB, TypeSimulateur, "14:00", "16:00", risk),
		}, ETPTally{Lessons: 1, AtRiskLessons: 1, Hours: 5, Counted: 5}},
		{"no lessons", false, nil, ETPTally{}},
	}
	for _, tc := range cases {
		var counted, atRisk float64
		got := r.Count(tc.simulator, tc.lessons, func(_ time.Time, c, a float64) { counted += c; atRisk += a })
		if !closeTally(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
		if math.Abs(counted-got.Counted) > 1e-9 || math.Abs(atRisk-got.AtRisk) > 1e-9 {
			t.Errorf("%s: the pieces add up to %v counted, %v at risk; the tally says %v, %v", tc.name, counted, atRisk, got.Counted, got.AtRisk)
		}
	}
}

func closeTally(a, b ETPTally) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) < 1e-9 }
	return a.Lessons == b.Lessons && a.AtRiskLessons == b.AtRiskLessons && near(a.Hours, b.Hours) && near(a.Counted, b.Counted) && near(a.AtRisk, b.AtRisk)
}

func TestETPInstructorKey(t *testing.T) {
	cases := []struct {
		ref, number string
		simulator   bool
		want        string
	}{
		{"jean", "A 12.345.678.90", false, "A1234567890"},
		{"jean-bis", "a1234567890", false, "A1234567890"}, // one person, two records: one row
		{"simu", "A0000000000", true, "A0000000000"},
		{"simu-2", "", true, "A0000000000"}, // every simulator record is the one row
		{"paul", "A12345", false, "ref:paul"},
		{"marc", "A0000000000", false, "ref:marc"}, // the generic number on a person: its lessons are in error
	}
	for _, tc := range cases {
		if got := ETPInstructorKey(tc.ref, tc.number, tc.simulator); got != tc.want {
			t.Errorf("%s %q simulator=%v: %q, want %q", tc.ref, tc.number, tc.simulator, got, tc.want)
		}
	}
}

func TestEveryETPRowSaysWhereItComesFrom(t *testing.T) {
	keys := map[ETPRuleKey]bool{}
	for _, r := range ETPTable() {
		keys[r.Key] = true
		if r.Rule == "" || r.From.IsZero() || !strings.HasPrefix(r.Source, "product.md (ETP)") {
			t.Errorf("row %s lacks its rule, its date or its source", r.Key)
		}
	}
	for _, k := range []ETPRuleKey{ETPWindow, ETPWindowEnd, ETPComputationDay, ETPHolidayEve, ETPWeekend, ETPCounted,
		ETPGroups, ETPAACPractice, ETPMergeOverlaps, ETPSimulatorCap, ETPSimulatorRow} {
		if !keys[k] {
			t.Errorf("no row for %s", k)
		}
	}
	r := ETPRulesAt(date("2026-12-23"))
	if r.WindowMonths != 3 || r.ComputationDay != 24 || r.AACPractice != 1.2 || r.SimulatorCap != 5*time.Hour {
		t.Errorf("rules in force: %+v", r)
	}
}

// TestETPTableIsDocumented: docs/rules.md's ETP table has one line per row key of the code's.
func TestETPTableIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n## ETP\n")
	if !ok {
		t.Fatal("docs/rules.md has no ETP section")
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(section, -1) {
		documented[m[1]] = true
	}
	inCode := map[string]bool{}
	for _, r := range ETPTable() {
		inCode[string(r.Key)] = true
		if !documented[string(r.Key)] {
			t.Errorf("row %s is not in docs/rules.md's ETP table", r.Key)
		}
	}
	for k := range documented {
		if !inCode[k] {
			t.Errorf("docs/rules.md's ETP table has %s, the code has no such row", k)
		}
	}
}
