package webui

import (
	"bytes"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"livret/domain"
	"livret/school"
)

// "ETP" (/ui/etp; docs/rules.md, "ETP"): the figures of GET /v1/etp for an office or the
// whole school — the next computation and its window, a table per instructor, the lessons at
// risk with what to fix, and the counted hours per week as an inline SVG chart (drawn here,
// nothing loaded from elsewhere: the pages' CSP holds).

// etpPage is the ETP as the template shows it.
type etpPage struct {
	Offices     []school.Office
	Office      string // the office chosen, "" for every office
	Computation string // "mercredi 23 décembre 2026"
	From, To    string // the window, "23/09/2026"
	Note        string
	Rules       string
	// AAC and SimulatorCap are the rules' figures, as the page explains them: "1,2", "5".
	AAC, SimulatorCap string
	Instructors       []etpInstructorView
	Totals            etpFiguresView
	Estimate          string // the total's ETP estimate, "" when the deployment sets no hours per ETP
	AtRisk            int
	AtRiskHours       string
	Pending           int
	Fixes             []school.ETPFix
	ErrorsURL         string // the report's errors of the window (and office)
	ExportURL         string
	Chart             etpChart
}

type etpInstructorView struct {
	ID, Name, Ref, Number string
	Simulator             bool
	Estimate              string
	Groups                []etpGroupView
}

type etpGroupView struct {
	ID, Label string
	etpFiguresView
}

type etpFiguresView struct {
	Hours, Counted, AtRisk string
	Lessons, AtRiskLessons int
}

func newFiguresView(f school.ETPFigures) etpFiguresView {
	return etpFiguresView{Hours: school.FormatHours(f.Hours), Counted: school.FormatHours(f.CountedHours),
		AtRisk: school.FormatHours(f.AtRiskHours), Lessons: f.Lessons, AtRiskLessons: f.AtRiskLessons}
}

var frenchWeekdays = [...]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
var frenchMonths = [...]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
	"octobre", "novembre", "décembre"}

// longDate is "mercredi 23 décembre 2026".
func longDate(iso string) string {
	t, err := domain.ParseBusinessDate(iso)
	if err != nil {
		return iso
	}
	return frenchWeekdays[t.Weekday()] + " " + strconv.Itoa(t.Day()) + " " + frenchMonths[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// shortDate is "23/09/2026"; dayMonth "23/09".
func shortDate(iso string) string {
	if t, err := domain.ParseBusinessDate(iso); err == nil {
		return t.Format("02/01/2006")
	}
	return iso
}

func dayMonth(iso string) string {
	if t, err := domain.ParseBusinessDate(iso); err == nil {
		return t.Format("02/01")
	}
	return iso
}

func estimateText(e *school.ETPEstimate) string {
	if e == nil {
		return ""
	}
	return school.FormatHours(e.ETP)
}

// etpQuery keeps, of the page's query, what the figures read: the office and the date.
func etpQuery(c *gin.Context) url.Values {
	q := url.Values{}
	for _, k := range []string{"office", "at"} {
		if v := strings.TrimSpace(c.Query(k)); v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// uiETP is GET /ui/etp: the figures of the office chosen (every office when none).
func (s *Pages) uiETP(c *gin.Context) {
	ctx := c.Request.Context()
	query := etpQuery(c)
	r, err := s.School.ETP(ctx, schoolOf(c), query)
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	p := &etpPage{Office: query.Get("office"), Computation: longDate(r.ComputationDate), From: shortDate(r.Window.From),
		To: shortDate(r.Window.To), Note: r.Note, Rules: r.Rules, Totals: newFiguresView(r.Totals),
		Estimate: estimateText(r.Estimate), AtRisk: r.AtRisk.Lessons, AtRiskHours: school.FormatHours(r.AtRisk.Hours),
		Pending: r.AtRisk.Pending, Fixes: r.AtRisk.Errors, ExportURL: "/ui/etp/export?" + query.Encode()}
	if c, err := domain.ParseBusinessDate(r.ComputationDate); err == nil {
		rules := domain.ETPRulesAt(c)
		p.AAC = strings.Replace(strconv.FormatFloat(rules.AACPractice, 'f', -1, 64), ".", ",", 1)
		p.SimulatorCap = strings.Replace(strconv.FormatFloat(rules.SimulatorCap.Hours(), 'f', -1, 64), ".", ",", 1)
	}
	if p.Offices, err = s.School.Offices(ctx, schoolOf(c)); err != nil {
		s.uiProblem(c, err)
		return
	}
	sortOffices(p.Offices)
	errorsView := url.Values{"tab": {"erreurs"}, "from": {r.Window.From}, "to": {r.Window.To}}
	if p.Office != "" {
		errorsView.Set("office", p.Office)
	}
	p.ErrorsURL = "/ui/lessons?" + errorsView.Encode()
	for i, in := range r.Instructors {
		v := etpInstructorView{ID: "formateur-" + strconv.Itoa(i+1), Name: in.Name, Ref: in.Ref, Number: in.AuthorizationNumber,
			Simulator: in.Simulator, Estimate: estimateText(in.Estimate)}
		for _, g := range in.Groups {
			v.Groups = append(v.Groups, etpGroupView{ID: "etp-" + in.Ref + "-" + g.Group, Label: g.Label, etpFiguresView: newFiguresView(g.ETPFigures)})
		}
		p.Instructors = append(p.Instructors, v)
	}
	p.Chart = newETPChart(r.Weeks)
	s.renderPage(c, http.StatusOK, "etp", pageData{Title: "ETP : les heures qui comptent", Nav: "etp", ETP: p})
}

// uiETPExport is the page's "Exporter (CSV)": GET /v1/etp?format=csv's file for the view.
func (s *Pages) uiETPExport(c *gin.Context) {
	r, err := s.School.ETP(c.Request.Context(), schoolOf(c), etpQuery(c))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	var buf bytes.Buffer
	if err := r.WriteCSV(&buf); err != nil {
		s.uiProblem(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+school.ETPCSVFileName(r)+`"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// etpChart is the weekly chart, laid out here: bars of counted hours with the hours at risk
// stacked on top, a few horizontal lines, a label per week.
type etpChart struct {
	Width, Height int
	// Left and Right bound the plot; AxisX is where the hours' labels end.
	Left, Right, AxisX int
	Bars               []etpBar
	Lines              []etpLine
	Title              string
	BaseY              int
}

type etpBar struct {
	X, Width                     string
	CountedY, CountedH           string
	RiskY, RiskH                 string
	LabelX, Label, Tip           string
	Counted, AtRisk, FirstDayISO string
	FirstDay                     string // "23/09/2026"
}

type etpLine struct {
	Y, Label string
}

const (
	chartWidth, chartHeight   = 760, 260
	chartLeft, chartRight     = 48, 8
	chartTop, chartBottom     = 12, 36
	chartGap                  = 0.25 // of a week's width, between bars
	chartTicks                = 4
	chartHoursPerTickFallback = 1.0
)

func px(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// niceStep is the hours between two lines: 1, 2, 2.5 or 5 × a power of ten, so that chartTicks
// lines cover max.
func niceStep(max float64) float64 {
	if max <= 0 {
		return chartHoursPerTickFallback
	}
	raw := max / chartTicks
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*pow >= raw {
			return m * pow
		}
	}
	return 10 * pow
}

func newETPChart(weeks []school.ETPWeek) etpChart {
	ch := etpChart{Width: chartWidth, Height: chartHeight, BaseY: chartHeight - chartBottom,
		Left: chartLeft, Right: chartWidth - chartRight, AxisX: chartLeft - 6,
		Title: "Heures comptées par semaine, heures à risque au-dessus"}
	var top float64
	for _, w := range weeks {
		top = max(top, w.CountedHours+w.AtRiskHours)
	}
	step := niceStep(top)
	scaleMax := step * chartTicks
	plotH := float64(chartHeight - chartTop - chartBottom)
	plotW := float64(chartWidth - chartLeft - chartRight)
	y := func(h float64) float64 { return float64(chartTop) + plotH*(1-h/scaleMax) }
	for i := 0; i <= chartTicks; i++ {
		h := step * float64(i)
		label := strings.Replace(strconv.FormatFloat(h, 'f', -1, 64), ".", ",", 1) + " h"
		ch.Lines = append(ch.Lines, etpLine{Y: px(y(h)), Label: label})
	}
	if len(weeks) == 0 {
		return ch
	}
	slot := plotW / float64(len(weeks))
	for i, w := range weeks {
		x := float64(chartLeft) + slot*float64(i) + slot*chartGap/2
		bw := slot * (1 - chartGap)
		cy, ry := y(w.CountedHours), y(w.CountedHours+w.AtRiskHours)
		ch.Bars = append(ch.Bars, etpBar{X: px(x), Width: px(bw),
			CountedY: px(cy), CountedH: px(float64(ch.BaseY) - cy), RiskY: px(ry), RiskH: px(cy - ry),
			LabelX: px(x + bw/2), Label: dayMonth(w.From), FirstDayISO: w.From, FirstDay: shortDate(w.From),
			Counted: school.FormatHours(w.CountedHours), AtRisk: school.FormatHours(w.AtRiskHours),
			Tip: "Semaine du " + shortDate(w.From) + " : " + school.FormatHours(w.CountedHours) + " h comptées, " +
				school.FormatHours(w.AtRiskHours) + " h à risque"})
	}
	return ch
}
