package domain

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/fr"
)

// The ETP (product.md, "ETP: the figure that decides a school's exam places"): each month the
// DSR counts each school's instructors in full-time equivalents from the hours it holds over
// a rolling window, and the ETP sets how many exam places the school gets. Livret shows the
// hours that count, per instructor and category group, and the hours at risk — in error or
// not yet sent — before the DSR counts. The DSR has not published its computation: every
// rule is a row below, with its source, and the rows that are our reading of that source say
// so (docs/rules.md, "ETP").

// ETPRuleKey names what a row of the ETP table sets.
type ETPRuleKey string

const (
	// ETPWindow: how many months before the computation date the window starts (Value).
	ETPWindow ETPRuleKey = "window"
	// ETPWindowEnd: the window's last day is the day before the computation date.
	ETPWindowEnd ETPRuleKey = "window_end"
	// ETPComputationDay: the day of the month whose night the DSR computes (Value).
	ETPComputationDay ETPRuleKey = "computation_day"
	// ETPHolidayEve: when the morning after is a French public holiday, one night earlier.
	ETPHolidayEve ETPRuleKey = "holiday_eve"
	// ETPWeekend: a weekend moves nothing.
	ETPWeekend ETPRuleKey = "weekend"
	// ETPCounted: which lessons count (transmitted) and which are at risk (error, pending).
	ETPCounted ETPRuleKey = "counted"
	// ETPGroups: hours are counted per category group (B, moto, lourd).
	ETPGroups ETPRuleKey = "groups"
	// ETPAACPractice: a practice lesson of a B_AAC training counts Value × its duration.
	ETPAACPractice ETPRuleKey = "aac_practice"
	// ETPMergeOverlaps: an instructor's lessons that overlap count once (a collective session).
	ETPMergeOverlaps ETPRuleKey = "merge_overlaps"
	// ETPSimulatorCap: unsupervised simulator hours count up to Value hours per student.
	ETPSimulatorCap ETPRuleKey = "simulator_cap"
	// ETPSimulatorRow: the unsupervised simulator is one row of its own, under the generic number.
	ETPSimulatorRow ETPRuleKey = "simulator_row"
)

// ETPRule is one row of the ETP table.
type ETPRule struct {
	Key ETPRuleKey
	// From is the first computation date the row applies to. Livret holds no older rows: the
	// first row of a key also answers for computation dates before it.
	From  time.Time
	Value float64
	// Rule says what the row does, in the words of docs/rules.md's table.
	Rule   string
	Source string
	// Reading is, when the source does not say it all, how Livret reads it; empty when the
	// row is the source's own words.
	Reading string
}

const sourceETP = "product.md (ETP)"

// etpTable is the one table of the ETP count (docs/rules.md, "ETP"). A change of rule is a
// new row with its date: a figure computed for an earlier date keeps the rows it had.
var etpTable = []ETPRule{
	{Key: ETPWindow, From: day("2026-12-01"), Value: 3,
		Rule:   "the window starts that many months before the computation date (the deployment may set another figure)",
		Source: sourceETP + " : « over a rolling window (3 months today, configurable) »"},
	{Key: ETPWindowEnd, From: day("2026-12-01"),
		Rule:   "the window ends the day before the computation date; lessons are placed by the Paris date of their start",
		Source: sourceETP + " : « Hours not transmitted by then are lost for that month »",
		Reading: "the DSR counts what it holds when its batch runs in the night after the computation date; Livret's daily run of that day (01:30) sends the lessons of the day before, " +
			"those of the computation date itself leave the next night and fall in the next month's window"},
	{Key: ETPComputationDay, From: day("2026-12-01"), Value: 24,
		Rule:   "the DSR computes in the night from the 24th to the 25th; the computation date is the 24th, the day that night starts",
		Source: sourceETP + " : « between the 24th and the 25th of each month »"},
	{Key: ETPHolidayEve, From: day("2026-12-01"),
		Rule:   "when the 25th is a French public holiday, the night before: from the 23rd to the 24th, so the computation date is the 23rd (and one night earlier again while the morning after is a holiday)",
		Source: sourceETP + " : « (the night before when that is a public holiday) »",
		Reading: "« that » is the 25th, the morning the night ends; the holidays are France's national public holidays of github.com/rickar/cal/v2/fr " +
			"(1 January, Easter Monday, 1 and 8 May, Ascension, Whit Monday, 14 July, 15 August, 1 and 11 November, 25 December)"},
	{Key: ETPWeekend, From: day("2026-12-01"),
		Rule:    "a Saturday or a Sunday moves nothing: the 24th stays the computation date",
		Source:  sourceETP,
		Reading: "the source names holidays only; the DSR's batch runs every night"},
	{Key: ETPCounted, From: day("2026-12-01"),
		Rule:   "the hours that count are those of the transmitted lessons; the lessons in error, pending or being sent are at risk; cancelled and not concerned lessons are neither",
		Source: sourceETP + " : « hours transmitted in the window », « hours at risk: lessons of the window in error or still pending »",
		Reading: "a lesson's hours at risk are the counted hours it would add if it reached the DSR: the transmitted lessons count first, " +
			"so a student's lesson in error in a collective session already counted adds nothing"},
	{Key: ETPGroups, From: day("2026-12-01"),
		Rule:   "hours are counted per instructor and category group: B (B, B_AUTO, B_AAC, B_CS), moto (A1, A2, A), lourd (BE, C1, C, CE, D1, D)",
		Source: sourceETP + " : « per office and per instructor (authorisation number) and per category group »"},
	{Key: ETPAACPractice, From: day("2026-12-01"), Value: 1.2,
		Rule:   "a practice lesson (conduite, conduite boîte auto, simulateur, simulateur boîte auto, plateau, circulation, simulateur moto) of a B_AAC training counts 1.2 × its duration",
		Source: sourceETP + " : « AAC practical ×1.2 »",
		Reading: "« practical » is domain's practice types (LessonType.Practice); theory, evaluations and RVP count as they last; where lessons of one instructor overlap, " +
			"each moment counts once at the highest coefficient of the lessons covering it"},
	{Key: ETPMergeOverlaps, From: day("2026-12-01"),
		Rule:   "lessons of one instructor and one group that overlap in time are merged into one span, the union of their intervals: a collective theory session counts once for its instructor",
		Source: sourceETP + " : « a collective theory session counts once for its instructor, however many students »",
		Reading: "the merge is by time, not by session_ref, so two sessions an instructor could not give at once also count once; " +
			"the unsupervised simulator is no person: its lessons are merged per student only (several simulators may run at once)"},
	{Key: ETPSimulatorCap, From: day("2026-12-01"), Value: 5,
		Rule:    "unsupervised simulator hours (the instructor marked simulator, generic number A0000000000) count up to 5 h per student and group over the window, in the order of the lessons, the transmitted ones first; with an instructor they count fully",
		Source:  sourceETP + " : « unsupervised simulator hours count up to 5 h per student, more only with an instructor »",
		Reading: "the 5 h are of time, before the AAC coefficient; the lesson that crosses them counts in part"},
	{Key: ETPSimulatorRow, From: day("2026-12-01"),
		Rule:    "the unsupervised simulator is one instructor row of its own, under the generic number A0000000000, whatever records hold it; the other instructors are told apart by their authorisation number",
		Source:  sourceETP + " : « per instructor (authorisation number) »; docs/rules.md « What is sent », rule 4",
		Reading: "two records with one authorisation number are one instructor for the DSR; a record whose number cannot reach the DSR is a row of its own, all its lessons at risk"},
}

// ETPTable returns a copy of the table, for docs, pages and tests.
func ETPTable() []ETPRule { return slices.Clone(etpTable) }

// ETPRules are the rows in force for one computation date.
type ETPRules struct {
	// Version names the rows in force: "etp-" and the month of the newest row, with the
	// deployment's window when it is not the table's.
	Version        string
	WindowMonths   int
	ComputationDay int
	AACPractice    float64
	SimulatorCap   time.Duration
}

// ETPRulesAt returns the rows in force at a computation date: for each key the newest row
// from on or before it (the first row of the key before any).
func ETPRulesAt(computation time.Time) ETPRules {
	rows := map[ETPRuleKey]ETPRule{}
	for _, r := range etpTable {
		cur, seen := rows[r.Key]
		switch {
		case !seen:
			rows[r.Key] = r
		case !r.From.After(computation) && (cur.From.After(computation) || r.From.After(cur.From)):
			rows[r.Key] = r // a newer row in force, or the first one in force after an older fallback
		case cur.From.After(computation) && r.From.Before(cur.From):
			rows[r.Key] = r // none in force yet: the oldest row
		}
	}
	var newest time.Time
	for _, r := range rows {
		if r.From.After(newest) {
			newest = r.From
		}
	}
	return ETPRules{
		Version:        "etp-" + newest.Format("2006-01"),
		WindowMonths:   int(rows[ETPWindow].Value),
		ComputationDay: int(rows[ETPComputationDay].Value),
		AACPractice:    rows[ETPAACPractice].Value,
		SimulatorCap:   time.Duration(rows[ETPSimulatorCap].Value * float64(time.Hour)),
	}
}

// frenchHolidays are France's national public holidays (rickar/cal's fr package). Not
// Cacheable: the calendar is then read-only, safe from every goroutine.
var frenchHolidays = func() *cal.Calendar {
	c := &cal.Calendar{Name: "France"}
	c.AddHoliday(fr.Holidays...)
	return c
}()

// FrenchPublicHoliday is the name of the public holiday on t's Paris date, or "".
func FrenchPublicHoliday(t time.Time) string {
	p := t.In(Paris)
	if actual, observed, h := frenchHolidays.IsHoliday(time.Date(p.Year(), p.Month(), p.Day(), 12, 0, 0, 0, Paris)); (actual || observed) && h != nil {
		return h.Name
	}
	return ""
}

// ETPPeriod is the computation the figures at a date lead to, and its window.
type ETPPeriod struct {
	Rules ETPRules
	// Computation is 00:00 Paris of the computation date: the DSR counts in the night that
	// starts that evening.
	Computation time.Time
	// Holiday names the public holiday that moved the computation a night earlier, if any,
	// and HolidayOn is its date.
	Holiday   string
	HolidayOn time.Time
	// From and To are 00:00 Paris of the window's first and last days (both included).
	From, To time.Time
	// weekStarts are the Unix seconds of each week's first moment, and end the window's end:
	// Week is asked once per counted stretch, so it does no calendar arithmetic.
	weekStarts []int64
	end        int64
}

// End is the window's end: 00:00 Paris of the day after To (excluded).
func (p ETPPeriod) End() time.Time { return addDays(p.To, 1) }

func addDays(t time.Time, n int) time.Time {
	p := t.In(Paris)
	return time.Date(p.Year(), p.Month(), p.Day()+n, 0, 0, 0, 0, Paris)
}

// computationIn is the computation of a month: the day of the rules, a night earlier while
// the morning after is a public holiday, and the holiday that moved it.
func computationIn(year int, month time.Month, dayOfMonth int) ETPPeriod {
	p := ETPPeriod{Computation: time.Date(year, month, dayOfMonth, 0, 0, 0, 0, Paris)}
	for h := FrenchPublicHoliday(addDays(p.Computation, 1)); h != ""; h = FrenchPublicHoliday(addDays(p.Computation, 1)) {
		if p.Holiday == "" {
			p.Holiday, p.HolidayOn = h, addDays(p.Computation, 1)
		}
		p.Computation = addDays(p.Computation, -1)
	}
	return p
}

// monthsBefore is the same day n months earlier, or the month's last day when it has no such
// day (a computation date of the 31st would otherwise spill into the next month).
func monthsBefore(t time.Time, n int) time.Time {
	p := t.In(Paris)
	first := time.Date(p.Year(), p.Month()-time.Month(n), 1, 0, 0, 0, 0, Paris)
	last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, Paris).Day()
	return time.Date(first.Year(), first.Month(), min(p.Day(), last), 0, 0, 0, 0, Paris)
}

// ETPPeriodAt is the next computation on or after at's Paris date (the computation date
// itself is still ahead: the DSR counts in its night) and its window. windowMonths is the
// deployment's window; 0 keeps the table's.
func ETPPeriodAt(at time.Time, windowMonths int) ETPPeriod {
	today := StartOfDay(at)
	p := computationIn(today.Year(), today.Month(), ETPRulesAt(today).ComputationDay)
	if p.Computation.Before(today) {
		p = computationIn(today.Year(), today.Month()+1, ETPRulesAt(today).ComputationDay)
	}
	p.Rules = ETPRulesAt(p.Computation)
	if windowMonths > 0 && windowMonths != p.Rules.WindowMonths {
		p.Rules.WindowMonths = windowMonths
		p.Rules.Version += fmt.Sprintf("+window-%dm", windowMonths)
	}
	p.From, p.To = monthsBefore(p.Computation, p.Rules.WindowMonths), addDays(p.Computation, -1)
	for _, w := range p.Weeks() {
		p.weekStarts = append(p.weekStarts, w.Unix())
	}
	p.end = p.End().Unix()
	return p
}

// Weeks are the window's weeks, Monday to Sunday, each by its first day in the window (the
// first week starts at From, whatever its weekday).
func (p ETPPeriod) Weeks() []time.Time {
	out := []time.Time{p.From}
	wd := (int(p.From.Weekday()) + 6) % 7 // Monday 0
	for w := addDays(p.From, 7-wd); !w.After(p.To); w = addDays(w, 7) {
		out = append(out, w)
	}
	return out
}

// Week is the index in Weeks of the week holding t, or -1 outside the window.
func (p ETPPeriod) Week(t time.Time) int {
	starts, end := p.weekStarts, p.end
	if starts == nil { // a period not made by ETPPeriodAt
		for _, w := range p.Weeks() {
			starts = append(starts, w.Unix())
		}
		end = p.End().Unix()
	}
	u := t.Unix()
	if u < starts[0] || u >= end {
		return -1
	}
	i, found := slices.BinarySearch(starts, u)
	if found {
		return i
	}
	return i - 1
}

// ETPInstructorKey tells the ETP's instructors apart: the unsupervised simulator, whatever
// record holds it, is one row under the generic number; another instructor is their
// authorisation number as the DSR reads it, or, when it cannot reach the DSR (missing,
// malformed, the generic one), their record's ref.
func ETPInstructorKey(ref, authorization string, simulator bool) string {
	if simulator {
		return GenericSimulatorAuthorization
	}
	if n, ok := NormalizeAuthorization(authorization); ok && n != GenericSimulatorAuthorization {
		return n
	}
	return "ref:" + ref
}

// ETPLesson is one lesson as the count reads it.
type ETPLesson struct {
	Student    int64
	Category   Category
	Type       LessonType
	Start, End time.Time
	// AtRisk: in error, pending or being sent; false: transmitted.
	AtRisk bool
}

// ETPTally is one instructor's count in one group.
type ETPTally struct {
	Lessons, AtRiskLessons int
	// Hours are the transmitted lessons' durations, as they lasted.
	Hours float64
	// Counted are the transmitted lessons' hours by the rules.
	Counted float64
	// AtRisk are the counted hours the lessons at risk would add.
	AtRisk float64
}

// Coefficient is what one hour of the lesson counts (ETPAACPractice).
func (r ETPRules) Coefficient(l ETPLesson) float64 {
	if l.Category == CategoryBAAC && l.Type.Practice() {
		return r.AACPractice
	}
	return 1
}

// Count applies the rules to one instructor's lessons of one group. simulator says the
// instructor is the unsupervised simulator (ETPSimulatorCap). each, when not nil, receives
// every piece of counted and at-risk hours with the moment it starts, for the weekly chart;
// the pieces add up to the tally.
func (r ETPRules) Count(simulator bool, lessons []ETPLesson, each func(at time.Time, counted, atRisk float64)) ETPTally {
	var t ETPTally
	for _, l := range lessons {
		if l.AtRisk {
			t.AtRiskLessons++
		} else {
			t.Lessons++
			t.Hours += l.End.Sub(l.Start).Hours()
		}
	}
	if !simulator {
		r.countSpan(lessons, -1, each, &t)
		return t
	}
	byStudent := slices.Clone(lessons)
	slices.SortStableFunc(byStudent, func(a, b ETPLesson) int { return cmp.Compare(a.Student, b.Student) })
	for i := 0; i < len(byStudent); {
		j := i
		for j < len(byStudent) && byStudent[j].Student == byStudent[i].Student {
			j++
		}
		r.countSpan(byStudent[i:j], r.SimulatorCap, each, &t)
		i = j
	}
	return t
}

// segment is a stretch of time between two lesson boundaries (Unix nanoseconds), with the
// highest coefficient of the transmitted lessons covering it (0: none) and of every lesson
// covering it.
type segment struct {
	start, length int64
	transmitted   float64
	all           float64
}

// edge is a lesson's start (delta 1) or end (-1). Times are Unix nanoseconds: tens of
// thousands of edges hold no pointer for the collector to scan.
type edge struct {
	at     int64
	delta  int
	coef   float64
	atRisk bool
}

// countSpan merges lessons into one span (ETPMergeOverlaps) and counts it, up to budget of
// time when budget is not negative (ETPSimulatorCap): the transmitted stretches first, in
// time order, then the stretches only lessons at risk cover.
func (r ETPRules) countSpan(lessons []ETPLesson, budget time.Duration, each func(time.Time, float64, float64), t *ETPTally) {
	edges := make([]edge, 0, 2*len(lessons))
	for _, l := range lessons {
		start, end := l.Start.UnixNano(), l.End.UnixNano()
		if end <= start {
			continue
		}
		c := r.Coefficient(l)
		edges = append(edges, edge{start, 1, c, l.AtRisk}, edge{end, -1, c, l.AtRisk})
	}
	slices.SortFunc(edges, func(a, b edge) int { return cmp.Compare(a.at, b.at) })
	// How many transmitted and how many lessons of each coefficient cover the current moment.
	type cover struct {
		coef             float64
		transmitted, all int
	}
	var covers []cover
	segs := make([]segment, 0, len(lessons))
	for i, e := range edges {
		k := slices.IndexFunc(covers, func(c cover) bool { return c.coef == e.coef })
		if k < 0 {
			covers = append(covers, cover{coef: e.coef})
			k = len(covers) - 1
		}
		covers[k].all += e.delta
		if !e.atRisk {
			covers[k].transmitted += e.delta
		}
		if i+1 == len(edges) || edges[i+1].at <= e.at {
			continue
		}
		s := segment{start: e.at, length: edges[i+1].at - e.at}
		for _, c := range covers {
			if c.transmitted > 0 {
				s.transmitted = max(s.transmitted, c.coef)
			}
			if c.all > 0 {
				s.all = max(s.all, c.coef)
			}
		}
		if s.all > 0 {
			segs = append(segs, s)
		}
	}
	left := int64(budget)
	take := func(d int64) int64 {
		if budget < 0 {
			return d
		}
		d = min(d, left)
		left -= d
		return d
	}
	for _, firstTransmitted := range []bool{true, false} {
		for _, s := range segs {
			if (s.transmitted > 0) != firstTransmitted {
				continue
			}
			h := time.Duration(take(s.length)).Hours()
			counted, atRisk := s.transmitted*h, (s.all-s.transmitted)*h
			t.Counted += counted
			t.AtRisk += atRisk
			if each != nil && (counted > 0 || atRisk > 0) {
				each(time.Unix(0, s.start), counted, atRisk)
			}
		}
	}
}
