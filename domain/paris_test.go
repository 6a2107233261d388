package domain

import (
	"testing"
	"time"
)

func TestLessonMinutesAcrossDST(t *testing.T) {
	cases := []struct {
		name       string
		start, end string
		want       int
	}{
		// Last Sunday of March 2024: 02:00 becomes 03:00; 01:30–03:30 lasts one hour.
		{"spring forward", "2024-03-31 01:30", "2024-03-31 03:30", 60},
		// Last Sunday of October 2024: 03:00 becomes 02:00; 01:30–02:30 on the wall lasts 2 h
		// (02:30 is read as its second, winter-time, occurrence).
		{"ordinary hour", "2024-10-27 00:00", "2024-10-27 01:00", 60},
		{"fall back", "2024-10-27 01:30", "2024-10-27 03:30", 180},
		{"ordinary day", "2021-12-09 13:00", "2021-12-09 13:25", 25},
	}
	for _, tc := range cases {
		if got := LessonMinutes(paris(tc.start), paris(tc.end)); got != tc.want {
			t.Errorf("%s: %d min, want %d", tc.name, got, tc.want)
		}
	}
}

func TestDurationRuleUsesTrueLengthAcrossDST(t *testing.T) {
	// On 31 March 2024 the clock jumps from 02:00 to 03:00: 01:45 CET to 03:10 CEST is 25 real
	// minutes, refused although the wall clock shows 85.
	f := sendable()
	f.Start, f.End = paris("2024-03-31 01:45"), paris("2024-03-31 03:10")
	if v := Evaluate(f); v.Code != CodeDureeInvalide {
		t.Fatalf("a 25-minute lesson across the spring change must be refused, got %s", v.Code)
	}
	// On 27 October 2024 the hour 02:00–03:00 happens twice: 02:40 CEST to 02:10 CET is 30 real
	// minutes although the wall clock goes backwards.
	start := time.Date(2024, 10, 27, 0, 40, 0, 0, time.UTC) // 02:40 CEST
	end := time.Date(2024, 10, 27, 1, 10, 0, 0, time.UTC)   // 02:10 CET
	f.Start, f.End = start, end
	if v := Evaluate(f); v.Status != StatusPending {
		t.Fatalf("02:40–02:10 across the autumn change lasts 30 real minutes, got %s", v.Code)
	}
}

func TestStartOfDayAndDueBy(t *testing.T) {
	// On the 23-hour day, 00:00 Paris is 23:00 UTC the day before (winter time).
	if got, want := StartOfDay(paris("2024-03-31 18:00")), time.Date(2024, 3, 30, 23, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("StartOfDay(31 March) = %s, want %s", got.UTC(), want)
	}
	// On the 25-hour day, 00:00 Paris is 22:00 UTC the day before (summer time).
	if got, want := StartOfDay(paris("2024-10-27 23:30")), time.Date(2024, 10, 26, 22, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("StartOfDay(27 October) = %s, want %s", got.UTC(), want)
	}
	// 23:30 UTC on 8 December is already 9 December in Paris.
	if got := BusinessDate(time.Date(2021, 12, 8, 23, 30, 0, 0, time.UTC)); got != "2021-12-09" {
		t.Errorf("BusinessDate = %s, want 2021-12-09", got)
	}
	lessonEnd := paris("2021-12-09 16:00")
	if DueBy(lessonEnd, paris("2021-12-09 23:59")) {
		t.Error("a lesson is not sent on its own day: the school may cancel it until midnight")
	}
	if !DueBy(lessonEnd, paris("2021-12-10 00:00")) {
		t.Error("a lesson is sent from the next day on")
	}
	if !DueBy(lessonEnd, paris("2021-12-20 01:30")) {
		t.Error("a lesson of an earlier day is caught up")
	}
	if DueBy(paris("2021-12-10 00:00"), paris("2021-12-10 01:30")) {
		t.Error("a lesson ending at midnight belongs to the new day's run only the day after")
	}
}

func TestBusinessDateRoundTrip(t *testing.T) {
	d, err := ParseBusinessDate("2024-10-27")
	if err != nil || BusinessDate(d) != "2024-10-27" || !d.Equal(StartOfDay(d)) {
		t.Fatalf("ParseBusinessDate round trip: %v %v", d, err)
	}
	if _, err := ParseBusinessDate("27/10/2024"); err == nil {
		t.Fatal("only YYYY-MM-DD is a business date")
	}
}

func TestFormatLessonSlot(t *testing.T) {
	got := FormatLessonSlot(paris("2021-12-09 15:00").UTC(), paris("2021-12-09 16:00").UTC())
	if got != "09/12/2021 15:00 - 16:00" {
		t.Errorf("FormatLessonSlot = %q", got)
	}
}

func TestNextDailyRunAndDueOn(t *testing.T) {
	cases := []struct {
		name, now, end string
		wantNext       string // the next run, Paris wall time
		wantDue        string
	}{
		{"lesson of today, before tonight's run", "2026-12-01 15:00", "2026-12-01 11:00", "2026-12-02 01:30", "2026-12-02"},
		{"lesson of yesterday, today's run still to come", "2026-12-01 00:40", "2026-11-30 17:00", "2026-12-01 01:30", "2026-12-01"},
		{"lesson of yesterday, today's run past (a failed run, a late push)", "2026-12-01 09:00", "2026-11-30 17:00", "2026-12-02 01:30", "2026-12-02"},
		{"run exactly now is past", "2026-12-01 01:30", "2026-11-30 17:00", "2026-12-02 01:30", "2026-12-02"},
		{"old lesson of an office reconnected today", "2026-12-01 10:00", "2026-10-02 09:00", "2026-12-02 01:30", "2026-12-02"},
		{"lesson ending late on the day before a DST change", "2024-03-30 23:30", "2024-03-30 23:00", "2024-03-31 01:30", "2024-03-31"},
		{"lesson in the future", "2026-12-01 10:00", "2026-12-10 10:00", "2026-12-02 01:30", "2026-12-11"},
	}
	for _, tc := range cases {
		next := NextDailyRun(paris(tc.now), 1, 30)
		if got := next.In(Paris).Format("2006-01-02 15:04"); got != tc.wantNext {
			t.Errorf("%s: next run %s, want %s", tc.name, got, tc.wantNext)
		}
		if got := DueOn(paris(tc.end), next); got != tc.wantDue {
			t.Errorf("%s: due on %s, want %s", tc.name, got, tc.wantDue)
		}
	}
}

func TestFrenchDate(t *testing.T) {
	cases := []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 1, 5, 7, 0, 0, 0, Paris), "lundi 5 janvier 2026"},
		{time.Date(2026, 2, 1, 0, 0, 0, 0, Paris), "dimanche 1er février 2026"},
		{time.Date(2026, 8, 15, 12, 0, 0, 0, Paris), "samedi 15 août 2026"},
		// 23:30 UTC on 31 December is already 1 January in Paris.
		{time.Date(2025, 12, 31, 23, 30, 0, 0, time.UTC), "jeudi 1er janvier 2026"},
		{time.Date(2026, 12, 25, 0, 0, 0, 0, Paris), "vendredi 25 décembre 2026"},
	}
	for _, c := range cases {
		if got := FrenchDate(c.at); got != c.want {
			t.Errorf("FrenchDate(%s) = %q, want %q", c.at, got, c.want)
		}
	}
}
