package webapi_test

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"livret/domain"
)

var (
	etpInstructorBlock = regexp.MustCompile(`(?s)<div class="table-wrap etp-instructor" id="formateur-\d+">\s*<table>\s*<caption>(.*?)</caption>(.*?)</table>`)
	etpNumberInCaption = regexp.MustCompile(`n° d'autorisation (\S+)`)
	etpEstimateCaption = regexp.MustCompile(`ETP \(estimation\) : ([0-9,]+)`)
	etpPageRow         = regexp.MustCompile(`<tr id="etp-(.+?)-(B|moto|lourd)"><th[^>]*>[^<]*</th><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td><td[^>]*>([^<]*)</td></tr>`)
	etpPageWeek        = regexp.MustCompile(`<tr><td>(\d{2}/\d{2}/\d{4})</td><td>([0-9,]+)</td><td>([0-9,]+)</td></tr>`)
	etpByID            = func(id string) *regexp.Regexp { return regexp.MustCompile(`id="` + id + `">([^<]*)<`) }
)

// TestETPSameFiguresEverywhere: for one office and one date, the API's JSON, its CSV and the
// page show the same figures — every instructor × group, the totals, the lessons at risk,
// the weeks of the chart and the estimates (the deployment sets 100 hours per ETP here).
// frenchDate is "2026-09-23" as the page writes it, "23/09/2026".
func frenchDate(iso string) string {
	d, err := domain.ParseBusinessDate(iso)
	if err != nil {
		return iso
	}
	return d.Format("02/01/2006")
}

func TestETPSameFiguresEverywhere(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := etpFixture(e)
	e.srv.School.Now = func() time.Time { return etpToday.AddDate(0, 1, 0) } // the date below is what counts
	e.srv.School.ETPHoursPerETP = 100
	q := "?office=" + officeLauriane + "&at=2026-12-02"

	api := e.etp(a.Key, q)
	lines := api.lines()
	if len(lines) != 4 || api.ComputationDate != "2026-12-23" {
		t.Fatalf("the API's figures: %+v", api)
	}
	// The estimates, labelled: 13.4 counted hours over 100, Jean's 6.4.
	if api.Estimate == nil || *api.Estimate != (etpEstimate{0.13, "estimation"}) ||
		api.Instructors[0].Estimate == nil || *api.Instructors[0].Estimate != (etpEstimate{0.06, "estimation"}) {
		t.Fatalf("estimates %+v %+v", api.Estimate, api.Instructors[0].Estimate)
	}

	// The CSV.
	body := e.do("GET", "/v1/etp"+q+"&format=csv", a.Key, nil).want(t, http.StatusOK).body
	if got := csvLines(t, body, true); !equalLines(got, lines) {
		t.Fatalf("CSV\n%+v\nAPI\n%+v", got, lines)
	}
	cr := csv.NewReader(bytes.NewReader(body[3:]))
	cr.Comma = ';'
	recs, err := cr.ReadAll()
	must(t, err)
	for i, r := range recs[1:] {
		in := api.Instructors[min(i, len(api.Instructors)-1)]
		for _, x := range api.Instructors {
			if x.Ref == r[5] {
				in = x
			}
		}
		if frenchNumber(t, r[14]) != in.Estimate.ETP {
			t.Fatalf("CSV estimate of %s: %s, want %v", r[5], r[14], in.Estimate.ETP)
		}
	}

	// The page.
	ui := e.uiAgent(t)
	ui.signIn(a.Key)
	page := ui.get("/ui/etp"+q).want(t, http.StatusOK)
	page.has(t, "ETP : les heures qui comptent", "mercredi 23 décembre 2026", "23/09/2026", "22/12/2026", "estimation",
		domain.CodeNEPHManquant.Message(), domain.CodeEleveIntrouvable.Message(), domain.CodeFormatAutorisationInvalide.Message(),
		"2 en attente d'envoi", `href="/ui/lessons?from=2026-09-23&office=lauriane&tab=erreurs&to=2026-12-22"`)
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") ||
		strings.Contains(page.raw, "<script") || strings.Contains(page.raw, `src="http`) || strings.Contains(page.raw, "style=") {
		t.Fatalf("the page loads or inlines something the CSP forbids (CSP %q)", csp)
	}
	var got []etpLine
	var estimates []float64
	for _, block := range etpInstructorBlock.FindAllStringSubmatch(page.body, -1) {
		number := etpNumberInCaption.FindStringSubmatch(block[1])
		est := etpEstimateCaption.FindStringSubmatch(block[1])
		if number == nil || est == nil {
			t.Fatalf("caption %q", block[1])
		}
		estimates = append(estimates, frenchNumber(t, est[1]))
		for _, m := range etpPageRow.FindAllStringSubmatch(block[2], -1) {
			got = append(got, etpLine{m[1], number[1], m[2], frenchNumber(t, m[3]), frenchNumber(t, m[4]), frenchNumber(t, m[5]),
				int(frenchNumber(t, m[6])), int(frenchNumber(t, m[7]))})
		}
	}
	if !equalLines(got, lines) {
		t.Fatalf("page\n%+v\nAPI\n%+v", got, lines)
	}
	for i, in := range api.Instructors {
		if estimates[i] != in.Estimate.ETP {
			t.Fatalf("page estimate of %s: %v, want %v", in.Ref, estimates[i], in.Estimate.ETP)
		}
	}
	byID := func(id string) float64 {
		m := etpByID(id).FindStringSubmatch(page.body)
		if m == nil {
			t.Fatalf("no #%s on the page", id)
		}
		return frenchNumber(t, m[1])
	}
	if byID("etp-total-hours") != api.Totals.Hours || byID("etp-total-counted") != api.Totals.CountedHours ||
		byID("etp-total-at-risk") != api.Totals.AtRiskHours || byID("etp-at-risk-hours") != api.AtRisk.Hours ||
		int(byID("etp-at-risk-lessons")) != api.AtRisk.Lessons || byID("etp-total-estimate") != api.Estimate.ETP {
		t.Fatalf("the page's totals differ from the API's %+v", api.Totals)
	}
	weeks := etpPageWeek.FindAllStringSubmatch(page.body, -1)
	if len(weeks) != len(api.Weeks) || strings.Count(page.raw, `<g class="week"`) != len(api.Weeks) {
		t.Fatalf("%d weeks on the page, %d in the API", len(weeks), len(api.Weeks))
	}
	for i, w := range weeks {
		if a := api.Weeks[i]; w[1] != frenchDate(a.From) || frenchNumber(t, w[2]) != a.CountedHours || frenchNumber(t, w[3]) != a.AtRiskHours {
			t.Fatalf("week %s: page %v, API %+v", a.From, w[1:], a)
		}
	}
	// The page's own export is the API's file.
	if exp := ui.get("/ui/etp/export"+q).want(t, http.StatusOK); exp.raw != string(body) {
		t.Fatalf("the page's CSV differs from the API's")
	}
	// Another office than the school's: the French 404 page.
	ui.get("/ui/etp?office=inconnu").want(t, http.StatusNotFound).has(t, "Bureau")
}
