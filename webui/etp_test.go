package webui

import (
	"strconv"
	"testing"

	"livret/school"
)

// TestETPChartScale: the chart's lines are 1, 2, 2.5 or 5 × a power of ten apart, four of them
// covering the highest week, and each bar stands on the base line with the hours at risk
// stacked on the counted ones.
func TestETPChartScale(t *testing.T) {
	for max, want := range map[float64]float64{0: 1, 3: 1, 4: 1, 4.1: 2, 9: 2.5, 13.4: 5, 20: 5, 21: 10, 180: 50, 0.3: 0.1} {
		if got := niceStep(max); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", max, got, want)
		}
	}
	ch := newETPChart([]school.ETPWeek{{From: "2026-09-23", CountedHours: 7}, {From: "2026-09-28"},
		{From: "2026-10-05", CountedHours: 6.4, AtRiskHours: 2.5}})
	if len(ch.Bars) != 3 || len(ch.Lines) != chartTicks+1 || ch.Lines[chartTicks].Label != "10 h" || ch.Lines[0].Label != "0 h" {
		t.Fatalf("chart %+v", ch)
	}
	num := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, b := range ch.Bars {
		if bottom := num(b.CountedY) + num(b.CountedH); bottom < float64(ch.BaseY)-0.11 || bottom > float64(ch.BaseY)+0.11 {
			t.Errorf("bar %s ends at %v, not on the base line %d", b.FirstDay, bottom, ch.BaseY)
		}
		if top := num(b.RiskY) + num(b.RiskH); top < num(b.CountedY)-0.11 || top > num(b.CountedY)+0.11 {
			t.Errorf("bar %s: the hours at risk do not sit on the counted ones", b.FirstDay)
		}
	}
	// 7 of 10 hours: 70 % of the plot's height.
	if h := num(ch.Bars[0].CountedH); h < 0.7*float64(chartHeight-chartTop-chartBottom)-0.2 || h > 0.7*float64(chartHeight-chartTop-chartBottom)+0.2 {
		t.Errorf("7 h drawn %v high", h)
	}
}
