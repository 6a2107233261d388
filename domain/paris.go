package domain

import (
	"strconv"
	"time"
	// The DSR works in French local time; embedding the zone database keeps the rules right
	// in a minimal container image that ships no /usr/share/zoneinfo.
	_ "time/tzdata"
)

// Paris is the time zone every business date of Livret is expressed in.
var Paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("domain: time zone " + name + " missing: " + err.Error())
	}
	return loc
}

// StartOfDay returns 00:00 Europe/Paris of the Paris calendar day that contains t.
// Built from the calendar date, not by subtracting hours, so it is right on the two days a
// year that last 23 or 25 hours.
func StartOfDay(t time.Time) time.Time {
	p := t.In(Paris)
	return time.Date(p.Year(), p.Month(), p.Day(), 0, 0, 0, 0, Paris)
}

// BusinessDate is the Paris calendar date of t, as YYYY-MM-DD.
func BusinessDate(t time.Time) string {
	return t.In(Paris).Format(time.DateOnly)
}

// ParseBusinessDate reads a YYYY-MM-DD date as 00:00 Europe/Paris of that day.
func ParseBusinessDate(s string) (time.Time, error) {
	return time.ParseInLocation(time.DateOnly, s, Paris)
}

// DueBy reports whether a lesson ending at end may be sent by a run whose business day starts
// at asOf: lessons go from the next day on, so it must have ended before asOf's 00:00 Paris.
// That leaves the school until midnight to cancel a lesson of the day.
func DueBy(end, asOf time.Time) bool {
	return end.Before(StartOfDay(asOf))
}

// LessonMinutes is a lesson's true length in whole minutes, computed on absolute time so a
// lesson across a daylight-saving change has its real duration.
func LessonMinutes(start, end time.Time) int {
	return int(end.Sub(start) / time.Minute)
}

// FormatLessonSlot renders a lesson as the report shows it: "09/12/2021 15:00 - 16:00".
func FormatLessonSlot(start, end time.Time) string {
	s, e := start.In(Paris), end.In(Paris)
	if s.Format(time.DateOnly) == e.Format(time.DateOnly) {
		return s.Format("02/01/2006 15:04") + " - " + e.Format("15:04")
	}
	return s.Format("02/01/2006 15:04") + " - " + e.Format("02/01/2006 15:04")
}

// NextDailyRun is the first time strictly after now that the daily run, at hour:minute Paris
// time, starts. Built from calendar dates, so it stays right across a daylight-saving change.
func NextDailyRun(now time.Time, hour, minute int) time.Time {
	p := now.In(Paris)
	at := time.Date(p.Year(), p.Month(), p.Day(), hour, minute, 0, 0, Paris)
	if !at.After(now) {
		at = time.Date(p.Year(), p.Month(), p.Day()+1, hour, minute, 0, 0, Paris)
	}
	return at
}

// DueOn is the Paris date of the daily run that sends a pending lesson ending at end: the run
// of the day after it ended (rule 8, lessons go from the next day on), or the next run when
// that day's run is already past (a lesson pushed late, a run that failed, an office
// reconnected): every run sends the due lessons of any earlier day.
func DueOn(end, nextRun time.Time) string {
	e := end.In(Paris)
	dayAfter := time.Date(e.Year(), e.Month(), e.Day()+1, 0, 0, 0, 0, Paris)
	if StartOfDay(nextRun).After(dayAfter) {
		return BusinessDate(nextRun)
	}
	return BusinessDate(dayAfter)
}

var (
	frenchWeekdays = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frenchMonths   = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
		"septembre", "octobre", "novembre", "décembre"}
)

// FrenchDate writes the Paris calendar day of t as a French reader expects it: "lundi
// 5 janvier 2026", "1er" for the first of the month.
func FrenchDate(t time.Time) string {
	p := t.In(Paris)
	day := strconv.Itoa(p.Day())
	if p.Day() == 1 {
		day = "1er"
	}
	return frenchWeekdays[p.Weekday()] + " " + day + " " + frenchMonths[p.Month()-1] + " " + strconv.Itoa(p.Year())
}
