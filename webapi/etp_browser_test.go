package webapi_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserETP opens "ETP" in headless Chromium on the office of etpFixture: the office
// chosen in the selector, the computation date and the window, each instructor's figures,
// what to fix, and the weekly chart drawn with the pages' own stylesheet (the CSP holds: a
// blocked stylesheet would leave the bars unpainted). The screenshot is
// artifacts/ui-etp.png.
func TestBrowserETP(t *testing.T) {
	ctx := newChromium(t)
	e := newEnv(t)
	a := etpFixture(e)
	e.srv.School.Now = func() time.Time { return etpToday }

	email, password := addGerant(t, e.srv.School, a.Key)
	run(t, ctx, "sign in",
		chromedp.Navigate(e.api.URL+"/ui/login"),
		chromedp.SendKeys("#email", email, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Click(`form[action="/ui/login"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#bureau-lauriane", chromedp.ByQuery),
	)
	run(t, ctx, "open ETP from the menu",
		chromedp.Click(`//nav[@aria-label="Menu principal"]/a[.="ETP"]`, chromedp.BySearch),
		chromedp.WaitVisible("#etp-computation", chromedp.ByQuery),
	)
	run(t, ctx, "choose the office",
		chromedp.SetValue("#office", "lauriane", chromedp.ByQuery),
		chromedp.Click(`form.filters button[type=submit]`, chromedp.ByQuery),
	)
	waitURL(t, ctx, "office=lauriane")
	run(t, ctx, "the figures",
		chromedp.WaitVisible(`#etp-jean-B`, chromedp.ByQuery),
		screenshot(filepath.Join(artifactsDir(t), "ui-etp.png")),
	)
	wantText(t, ctx, "Prochain calcul de la DSR : mercredi 23 décembre 2026", "nuit du 23 au 24 décembre 2026",
		"du 23/09/2026 au 22/12/2026", "Jean Dupont", "Marie Lefèvre", "Paul Martin", "Simulateur (simulateur sans formateur)",
		"20,00 h", "13,40 h", "4,70 h", "5 leçons de la fenêtre ne sont pas encore à la DSR",
		"Le NEPH de l'élève n'est pas renseigné.", "2 en attente d'envoi", "Voir les leçons en erreur de la fenêtre")
	var cells []string
	run(t, ctx, "Jean's row", chromedp.Evaluate(`[...document.querySelectorAll('#etp-jean-B td')].map(td => td.textContent)`, &cells))
	if want := []string{"12,00", "6,40", "2,70", "7", "3"}; len(cells) != len(want) || cells[0] != want[0] || cells[1] != want[1] || cells[2] != want[2] {
		t.Fatalf("Jean's B row %q, want %q", cells, want)
	}
	var chart struct {
		Weeks int     `json:"weeks"`
		Fill  string  `json:"fill"`
		Risk  string  `json:"risk"`
		Width float64 `json:"width"`
	}
	run(t, ctx, "the chart", chromedp.Evaluate(`(() => {
		const bar = document.querySelector('.etp-chart rect.bar-counted');
		return {weeks: document.querySelectorAll('.etp-chart g.week').length,
			fill: getComputedStyle(bar).fill, risk: getComputedStyle(document.querySelector('.etp-chart rect.bar-risk')).fill,
			width: document.querySelector('.etp-chart svg').getBoundingClientRect().width};
	})()`, &chart))
	if chart.Weeks != 14 || chart.Fill != "rgb(10, 79, 168)" || chart.Risk != "rgb(179, 92, 0)" || chart.Width < 300 {
		t.Fatalf("the chart: %+v", chart)
	}
	// "Voir les leçons en erreur": the report, on the window's errors of the office.
	run(t, ctx, "errors of the window", chromedp.Click(`//a[contains(., "Voir les leçons en erreur")]`, chromedp.BySearch))
	waitURL(t, ctx, "tab=erreurs")
	wantText(t, ctx, "Leçons en erreur", "07/11/2026 10:00 - 11:30")
}
