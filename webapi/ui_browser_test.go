package webapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"livret/domain"
	"livret/dsr"
	"livret/sandbox"
	livschool "livret/school"
	"livret/webapi"
	"livret/webui"
	"livret/worker/workertest"
	"livret/workflows"
)

const chromiumPath = "/usr/bin/chromium"

// browserStack is a running webapi on the real stack (Postgres, the sandbox over HTTP,
// Temporal, a worker) for a real browser.
type browserStack struct {
	t     *testing.T
	stack *workertest.Stack
	url   string
	srv   *webapi.Server
}

func newBrowserStack(t *testing.T) *browserStack {
	t.Helper()
	s := workertest.NewStack(t, workertest.Options{})
	var handler http.Handler = http.NotFoundHandler()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(api.Close)
	ctx := context.Background()
	// The stack's client, with this API's callback too.
	must(t, s.Sandbox.AddClient(ctx, sandbox.Client{ClientID: workertest.ClientID, ClientSecret: workertest.ClientSecret,
		RedirectURIs: []string{"http://127.0.0.1:1/v1/oauth/callback", api.URL + webapi.CallbackPath}}))
	srv, err := webapi.New(webapi.Config{
		PublicURL: api.URL, AdminToken: adminToken, TokenKey: s.KeySpec,
		DSR:  dsr.Config{BaseURL: s.SandboxURL, ClientID: workertest.ClientID, ClientSecret: workertest.ClientSecret, Timeout: 10 * time.Second},
		Pool: s.Pool, Orchestrator: s.Orchestrator, Logger: slog.New(slog.DiscardHandler),
	})
	must(t, err)
	srv.Pages = webui.New(srv.School, srv.Sealer, srv.Logger)
	handler = srv.Handler()
	s.StartWorker()
	return &browserStack{t: t, stack: s, url: api.URL, srv: srv}
}

// call is one API call with a key (or the operator's token); it wants 2xx.
func (b *browserStack) call(method, path, key string, body any, out any) {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		must(b.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, b.url+path, rd)
	must(b.t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	must(b.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(b.t, err)
	if resp.StatusCode/100 != 2 {
		b.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		must(b.t, json.Unmarshal(data, out))
	}
}

// runOffice starts an office's run through the API and waits for its end.
func (b *browserStack) runOffice(key, office string) {
	b.t.Helper()
	var started struct {
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	b.call("POST", "/v1/offices/"+office+"/runs", key, nil, &started)
	b.wait(started.WorkflowID, started.RunID)
}

// runOfficeFails starts an office's run and wants it to fail.
func (b *browserStack) runOfficeFails(key, office string) {
	b.t.Helper()
	var started struct {
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	b.call("POST", "/v1/offices/"+office+"/runs", key, nil, &started)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := b.stack.Client.GetWorkflow(ctx, started.WorkflowID, started.RunID).Get(ctx, nil); err == nil {
		b.t.Fatalf("the run of %s was meant to fail, and completed", office)
	}
}

func (b *browserStack) wait(workflowID, runID string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var res any
	if err := b.stack.Client.GetWorkflow(ctx, workflowID, runID).Get(ctx, &res); err != nil {
		b.t.Fatalf("workflow %s: %v", workflowID, err)
	}
}

// newChromium starts headless Chromium, or skips the test when it is not installed.
func newChromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s is absent: install Debian's chromium package (apt-get install -y chromium) to run the browser test", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "fr-FR"), // French date inputs, as the admins see them
		chromedp.UserDataDir(browserProfile(t)),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 6*time.Minute)
	t.Cleanup(cancelT)
	// Start the browser on this long-lived context: the first Run binds the tab to its
	// context, and each step's shorter deadline must not close it.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// artifactsDir is the repository's artifacts/ folder (ignored by git).
func artifactsDir(t *testing.T) string {
	dir, err := filepath.Abs(filepath.Join("..", "artifacts"))
	must(t, err)
	must(t, os.MkdirAll(dir, 0o755))
	return dir
}

func screenshot(path string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(path, buf, 0o644)
	})
}

// run runs browser actions, failing the test on error. Each step has its own deadline, so
// a step that cannot happen fails in seconds, not at the test's timeout.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("%s: %s", what, time.Since(start).Round(time.Millisecond)) }()
	sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func bodyText(t *testing.T, ctx context.Context) string {
	t.Helper()
	var text string
	run(t, ctx, "read the page", chromedp.Text("body", &text, chromedp.ByQuery))
	return text
}

func wantText(t *testing.T, ctx context.Context, wants ...string) {
	t.Helper()
	text := bodyText(t, ctx)
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Fatalf("the page lacks %q:\n%s", w, text)
		}
	}
}

// TestBrowserAdmin drives headless Chromium through the admin's screens on the real stack:
// sign in, link an office at RdvPermis's login page, the warning for a second office, the
// seed's lessons sent by a run, the report's filters and tabs, a resend, the pager over
// three pages with a filter on and a resend from page 2, linking with another school's
// account, the unlink confirmation, the help, the scope changed in "Paramètres" and a page
// that does not exist.
func TestBrowserAdmin(t *testing.T) {
	ctx := newChromium(t)
	b := newBrowserStack(t)
	dir := artifactsDir(t)
	bg := context.Background()

	var school struct {
		Key string `json:"api_key"`
	}
	b.call("POST", "/v1/schools", adminToken, map[string]string{"name": "Auto-école Lauriane", "agrement": agrementA}, &school)
	key := school.Key
	b.call("PUT", "/v1/offices/lauriane", key, map[string]any{"name": "AE LAURIANE"}, nil)
	b.call("PUT", "/v1/offices/roche", key, map[string]any{"name": "Auto-école David - Agence de La Roche s/Yon"}, nil)
	_, err := b.stack.Sandbox.AddAccount(bg, sandbox.Account{Email: emailA1, Password: passwordA1, Agrement: agrementA, SchoolName: "Auto-école Lauriane"})
	must(t, err)

	// Sign in as the school's gerant, with an e-mail and a password.
	email, password := addGerant(t, b.srv.School, key)
	run(t, ctx, "sign in",
		chromedp.Navigate(b.url+"/ui/login"),
		chromedp.SendKeys("#email", email, chromedp.ByQuery),
		chromedp.SendKeys("#password", password, chromedp.ByQuery),
		chromedp.Click(`form[action="/ui/login"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible("#bureau-lauriane", chromedp.ByQuery),
	)
	wantText(t, ctx, "L'API Livret numérique", "AE LAURIANE", "Se connecter", "Leçons envoyées", "Non connecté")

	// Link AE LAURIANE through RdvPermis's own login page. Access tokens live 1 s until the
	// failed run below, so that every run refreshes its token: that run needs it.
	must(t, b.stack.Sandbox.SetFaults(bg, sandbox.Faults{AccessTTLS: 1}))
	run(t, ctx, "link at RdvPermis",
		chromedp.Click(`form[action="/ui/offices/lauriane/connect"] button`, chromedp.ByQuery),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.SendKeys("#email", emailA1, chromedp.ByQuery),
		chromedp.SendKeys("#password", passwordA1, chromedp.ByQuery),
		chromedp.Click(`//button[contains(., "Je me connecte")]`, chromedp.BySearch),
		chromedp.WaitVisible(`a[href="/ui/offices/lauriane/disconnect"]`, chromedp.ByQuery),
	)
	var loc string
	run(t, ctx, "location", chromedp.Location(&loc))
	if loc != b.url+webapi.LinkedPage {
		t.Fatalf("after linking the browser is at %s", loc)
	}
	wantText(t, ctx, "Le bureau est connecté à la DSR")

	// The second office: the warning first, then "Fermer".
	run(t, ctx, "warning",
		chromedp.Click(`form[action="/ui/offices/roche/connect"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role=alertdialog]`, chromedp.ByQuery),
	)
	wantText(t, ctx, linkWarning, "Connexion", "Fermer", "site de RDV Permis")
	var target string
	var ok bool
	run(t, ctx, "logout link", chromedp.AttributeValue(`//a[contains(., "site de RDV Permis")]`, "target", &target, &ok, chromedp.BySearch))
	if target != "_blank" {
		t.Fatalf("the RdvPermis link opens in %q", target)
	}
	run(t, ctx, "close the warning", chromedp.Click(`//a[.="Fermer"]`, chromedp.BySearch), chromedp.WaitVisible("#bureau-roche", chromedp.ByQuery))

	// The seed's example, through the API, and the office's run.
	for _, st := range []sandbox.Student{
		{Nom: "PERRIN", Prenom: "Mélanie", NEPH: "123456789012", Categories: []string{domain.CategoryBAuto.DSRCode()}},
		{Nom: "MICHEL", Prenom: "Lou", NEPH: "210987654321", Categories: []string{domain.Category("B").DSRCode()}},
	} {
		must(t, b.stack.Sandbox.AddStudent(bg, st))
	}
	e := &env{t: t, api: &httptest.Server{URL: b.url}, answers: &answerLog{}}
	seedPeople(e, key, "lauriane")
	seedLessons(e, key, "lauriane")
	b.runOffice(key, "lauriane")

	run(t, ctx, "offices after the run",
		chromedp.Navigate(b.url+webapi.OfficesPage),
		chromedp.WaitVisible("#bureau-lauriane", chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-offices.png")),
	)
	wantText(t, ctx, "✖ 2 erreurs recensées", "Se déconnecter")

	// "Leçons envoyées": the errors of AE LAURIANE from 30/11/2021 to 15/12/2021.
	run(t, ctx, "open Leçons envoyées",
		chromedp.Click(`#bureau-lauriane a.button[href^="/ui/lessons"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#from", chromedp.ByQuery),
	)
	run(t, ctx, "set the filters",
		chromedp.SetValue("#office", "lauriane", chromedp.ByQuery),
		chromedp.SetValue("#from", "2021-11-30", chromedp.ByQuery),
		chromedp.SetValue("#to", "2021-12-15", chromedp.ByQuery),
		chromedp.Click(`form.filters button[type=submit]`, chromedp.ByQuery),
	)
	waitURL(t, ctx, "from=2021-11-30")
	run(t, ctx, "errors tab",
		chromedp.WaitVisible(`//td[contains(., "13:00 - 14:00")]`, chromedp.BySearch),
		screenshot(filepath.Join(dir, "ui-lessons-errors.png")),
	)
	wantText(t, ctx, "Leçons en erreur", "09/12/2021 13:00 - 13:25", "Simulateur",
		"● Erreur - La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min.",
		"Lou Michel", "● Erreur - Le format du numéro d'autorisation du formateur n'est pas valide.", "1 / 1")
	run(t, ctx, "location", chromedp.Location(&loc))
	if !strings.Contains(loc, "office=lauriane") || !strings.Contains(loc, "from=2021-11-30") || !strings.Contains(loc, "to=2021-12-15") {
		t.Fatalf("filters not applied: %s", loc)
	}

	// "Recherche par élève": Mélanie Perrin, the filters kept.
	run(t, ctx, "open Recherche par élève",
		chromedp.Click(`//nav[@class="tabs"]/a[contains(., "Recherche par élève")]`, chromedp.BySearch),
	)
	waitURL(t, ctx, "tab=eleve")
	run(t, ctx, "type the name",
		chromedp.WaitVisible("#q", chromedp.ByQuery),
		chromedp.SendKeys("#q", "Perrin", chromedp.ByQuery),
		chromedp.Click(`form.filters button[type=submit]`, chromedp.ByQuery),
	)
	waitURL(t, ctx, "q=Perrin")
	run(t, ctx, "search by student",
		chromedp.WaitVisible(`//td[contains(., "15:00 - 16:00")]`, chromedp.BySearch),
		screenshot(filepath.Join(dir, "ui-lessons.png")),
	)
	wantText(t, ctx, "Perrin Mélanie", "09/12/2021 15:00 - 16:00", "Leçon de conduite Boîte Auto", "● Transmise",
		"09/12/2021 13:00 - 13:25", "● Erreur - La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min.",
		"09/12/2021 10:00 - 11:00")
	if strings.Count(bodyText(t, ctx), "● Transmise") != 2 {
		t.Fatal("want the two driving lessons transmitted")
	}

	// The simulator lesson is Livret's own refusal (25 minutes): no "Renvoyer", the line says
	// to fix it in the management software.
	var resendButtons []*cdp.Node
	run(t, ctx, "no resend for Livret's refusals", chromedp.Nodes(`//button[.="Renvoyer"]`, &resendButtons, chromedp.BySearch, chromedp.AtLeast(0)))
	if len(resendButtons) != 0 {
		t.Fatalf("%d Renvoyer buttons on Livret's own refusals", len(resendButtons))
	}
	wantText(t, ctx, domain.FixInSoftware)

	// Enough errors for three pages: 22 lessons in November of a student the DSR does not
	// know, pushed through the API and refused by the DSR (the sandbox) in a real run.
	b.call("PUT", "/v1/students/inconnue", key, map[string]any{"office_ref": "lauriane", "first_name": "Camille", "last_name": "Inconnue",
		"neph": "999999999999", "category": "B", "initial_evaluation_accepted": true}, nil)
	for i := 1; i <= 22; i++ {
		start := time.Date(2021, 11, i, 9, 0, 0, 0, domain.Paris)
		b.call("PUT", fmt.Sprintf("/v1/lessons/refus-%02d", i), key, map[string]any{"office_ref": "lauriane", "student_ref": "inconnue",
			"instructor_ref": "jean", "type": "conduite",
			"start": start.Format(time.RFC3339), "end": start.Add(time.Hour).Format(time.RFC3339)}, nil)
	}
	b.runOffice(key, "lauriane")
	run(t, ctx, "errors of November",
		chromedp.Navigate(b.url+"/ui/lessons"),
		chromedp.WaitVisible("#from", chromedp.ByQuery),
		chromedp.SetValue("#office", "lauriane", chromedp.ByQuery),
		chromedp.SetValue("#from", "2021-11-01", chromedp.ByQuery),
		chromedp.SetValue("#to", "2021-11-30", chromedp.ByQuery),
		chromedp.Click(`form.filters button[type=submit]`, chromedp.ByQuery),
	)
	waitURL(t, ctx, "from=2021-11-01")
	wantText(t, ctx, "1 / 3", "22/11/2021 09:00 - 10:00", domain.CodeEleveIntrouvable.Message())
	wantView := func(page string) {
		t.Helper()
		run(t, ctx, "location", chromedp.Location(&loc))
		for _, part := range []string{"tab=erreurs", "office=lauriane", "from=2021-11-01", "to=2021-11-30", page} {
			if !strings.Contains(loc, part) {
				t.Fatalf("the report lost %q: %s", part, loc)
			}
		}
	}
	run(t, ctx, "page 2", chromedp.Click(`a[aria-label="Page suivante"]`, chromedp.ByQuery))
	waitURL(t, ctx, "page=2")
	wantView("page=2")
	wantText(t, ctx, "2 / 3", "12/11/2021 09:00 - 10:00", "03/11/2021 09:00 - 10:00")
	run(t, ctx, "screenshot page 2", screenshot(filepath.Join(dir, "ui-lessons-errors-page2.png")))
	run(t, ctx, "page 3", chromedp.Click(`a[aria-label="Page suivante"]`, chromedp.ByQuery))
	waitURL(t, ctx, "page=3")
	wantView("page=3")
	wantText(t, ctx, "3 / 3", "02/11/2021 09:00 - 10:00", "01/11/2021 09:00 - 10:00")
	if text := bodyText(t, ctx); strings.Contains(text, "09/12/2021") {
		t.Fatal("the period filter is lost on page 3")
	}
	run(t, ctx, "screenshot page 3", screenshot(filepath.Join(dir, "ui-lessons-errors-page3.png")))
	run(t, ctx, "back to page 2", chromedp.Click(`a[aria-label="Page précédente"]`, chromedp.ByQuery))
	waitURL(t, ctx, "page=2")

	// "Renvoyer" from page 2: resent to the DSR, back on page 2 with the filters.
	run(t, ctx, "resend from page 2",
		chromedp.Click(`//tr[contains(., "12/11/2021")]//button[.="Renvoyer"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.notice.success`, chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-resend-page2.png")),
	)
	wantView("page=2")
	wantText(t, ctx, "2 / 3", "La leçon est renvoyée à la DSR")

	// The same refusal hits the student's every lesson: "Renvoyer les N leçons" on hers.
	run(t, ctx, "the student's refusals",
		chromedp.Navigate(b.url+"/ui/lessons?tab=eleve&q=inconnue"),
		chromedp.WaitVisible(`form.bulk button`, chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-bulk-resend.png")),
	)
	wantText(t, ctx, "ont été refusées par la DSR", "Renvoyer les ")
	run(t, ctx, "resend them all",
		chromedp.Click(`form.bulk button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.notice.success`, chromedp.ByQuery),
	)
	wantText(t, ctx, "Les leçons refusées par la DSR lui sont renvoyées", "Leçons de Camille Inconnue")
	// The run that resend started ends first (refused again: the DSR still does not know her).
	var officeID int64
	must(t, b.stack.Pool.QueryRow(bg, "SELECT id FROM offices WHERE ref = 'lauriane'").Scan(&officeID))
	b.wait(workflows.RunID(officeID, domain.BusinessDate(time.Now())), "")

	// A run that fails (Livret's client secret rotated at the DSR, not yet in Livret's
	// configuration) shows on the office's card, in French. It has a lesson to send, so it
	// must call the DSR.
	b.call("PUT", "/v1/lessons/l-1312", key, map[string]any{"office_ref": "lauriane", "student_ref": "melanie",
		"instructor_ref": "jean", "type": "conduite", "start": "2021-12-13T10:00:00+01:00", "end": "2021-12-13T11:00:00+01:00"}, nil)
	rotated := sandbox.Client{ClientID: workertest.ClientID, ClientSecret: "rotated-at-the-dsr",
		RedirectURIs: []string{"http://127.0.0.1:1/v1/oauth/callback", b.url + webapi.CallbackPath}}
	must(t, b.stack.Sandbox.AddClient(bg, rotated))
	time.Sleep(1500 * time.Millisecond) // the office's access token is dead: the run must refresh it
	b.runOfficeFails(key, "lauriane")
	rotated.ClientSecret = workertest.ClientSecret
	must(t, b.stack.Sandbox.AddClient(bg, rotated))
	must(t, b.stack.Sandbox.SetFaults(bg, sandbox.Faults{}))
	run(t, ctx, "the failed run on the card",
		chromedp.Navigate(b.url+webapi.OfficesPage),
		chromedp.WaitVisible(`#bureau-lauriane .dashboard`, chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-offices-failed-run.png")),
	)
	wantText(t, ctx, "Dernier envoi", "— échoué", domain.RunFailureAccessRefused.Sentence(), "Prochain envoi")

	// "Se déconnecter de la DSR" asks first; "Annuler" leaves the office linked.
	run(t, ctx, "unlink confirmation",
		chromedp.Navigate(b.url+webapi.OfficesPage),
		chromedp.Click(`a[href="/ui/offices/lauriane/disconnect"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role=alertdialog]`, chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-unlink-confirm.png")),
	)
	wantText(t, ctx, "Déconnecter le bureau AE LAURIANE de la DSR ?", "aucune de ses leçons n'est transmise à la DSR", "Déconnecter le bureau", "Annuler")
	run(t, ctx, "cancel",
		chromedp.Click(`//a[.="Annuler"]`, chromedp.BySearch),
		chromedp.WaitVisible(`a[href="/ui/offices/lauriane/disconnect"]`, chromedp.ByQuery),
	)

	// Linking with another school's RdvPermis account: logged out of RdvPermis first (as the
	// warning says), then logged in with the wrong account; the callback is a French page.
	_, err = b.stack.Sandbox.AddAccount(bg, sandbox.Account{Email: "gerant@autre-ecole.fr", Password: "pw-autre", Agrement: agrementB, SchoolName: "Auto-école B"})
	must(t, err)
	logoutURL := b.srv.School.RdvPermisLogoutURL
	run(t, ctx, "log out of RdvPermis", chromedp.Navigate(logoutURL), chromedp.WaitVisible("h1", chromedp.ByQuery))
	wantText(t, ctx, "Vous êtes déconnecté de RdvPermis.", "Bac à sable")
	run(t, ctx, "connect with the wrong account",
		chromedp.Navigate(b.url+webapi.OfficesPage),
		chromedp.Click(`form[action="/ui/offices/roche/connect"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role=alertdialog]`, chromedp.ByQuery),
		chromedp.Click(`//button[.="Connexion"]`, chromedp.BySearch),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-rdvpermis-login.png")),
	)
	wantText(t, ctx, "Bac à sable : ceci imite la page de connexion de RdvPermis, ce n'est pas le vrai site", "J'ai un compte, je me connecte")
	run(t, ctx, "log in as another school",
		chromedp.SendKeys("#email", "gerant@autre-ecole.fr", chromedp.ByQuery),
		chromedp.SendKeys("#password", "pw-autre", chromedp.ByQuery),
		chromedp.Click(`//button[contains(., "Je me connecte")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h1[contains(., "autre auto-école")]`, chromedp.BySearch),
		screenshot(filepath.Join(dir, "ui-link-wrong-account.png")),
	)
	wantText(t, ctx, "Compte RdvPermis d'une autre auto-école", "agrément "+agrementB, "Se déconnecter de RdvPermis", "Retour à l'API Livret numérique")
	var href string
	run(t, ctx, "logout button", chromedp.AttributeValue(`//a[contains(., "Se déconnecter de RdvPermis")]`, "href", &href, &ok, chromedp.BySearch))
	if href != logoutURL {
		t.Fatalf("the logout button leads to %q, want %q", href, logoutURL)
	}
	run(t, ctx, "back to the offices",
		chromedp.Click(`//a[contains(., "Retour à l'API Livret numérique")]`, chromedp.BySearch),
		chromedp.WaitVisible("#bureau-roche", chromedp.ByQuery),
	)
	wantText(t, ctx, "Non connecté")

	// A page that does not exist, and the help.
	run(t, ctx, "not found",
		chromedp.Navigate(b.url+"/ui/nulle-part"),
		chromedp.WaitVisible("h1", chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-not-found.png")),
	)
	wantText(t, ctx, "Page introuvable", "Cette page n'existe pas dans Livret", "Se déconnecter de Livret")
	run(t, ctx, "help",
		chromedp.Click(`//nav[@aria-label="Menu principal"]/a[.="Aide"]`, chromedp.BySearch),
		chromedp.WaitVisible("#erreurs", chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-help.png")),
	)
	wantText(t, ctx, "Ce que Livret transmet à la DSR", domain.CodeDureeInvalide.Message(), domain.CodeDureeInvalide.Hint())

	// "Paramètres": the scope étendu chosen in the browser; the school's scope changes.
	run(t, ctx, "settings",
		chromedp.Click(`//nav[@aria-label="Menu principal"]/a[.="Paramètres"]`, chromedp.BySearch),
		chromedp.WaitVisible("#scope-etendu", chromedp.ByQuery),
		chromedp.Click("#scope-etendu", chromedp.ByQuery),
		chromedp.Click(`form[action="/ui/parametres"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.notice.success`, chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-settings.png")),
	)
	wantText(t, ctx, "Les paramètres sont enregistrés", "Auto-école Lauriane", agrementA, domain.ScopeEtendu.Label())
	var settings struct {
		Scope string `json:"scope"`
	}
	b.call("GET", "/v1/school", key, nil, &settings)
	if settings.Scope != "etendu" {
		t.Fatalf("the school's scope is %q after the settings form", settings.Scope)
	}
	// The alert addresses, one per line, in their own form.
	run(t, ctx, "alert addresses",
		chromedp.SendKeys("#alert-emails", "Gerant@Lauriane.fr\nsud@lauriane.fr", chromedp.ByQuery),
		chromedp.Click(`form[action="/ui/parametres/alertes"] button[type=submit]`, chromedp.ByQuery),
		// Not .notice.success alone: the scope's notice is on the page the form is sent from.
		chromedp.WaitVisible(`//p[contains(@class, "notice") and contains(., "Les adresses d'alerte sont enregistrées")]`, chromedp.BySearch),
		screenshot(filepath.Join(dir, "ui-settings-alerts.png")),
	)
	wantText(t, ctx, "Les adresses d'alerte sont enregistrées")
	var alerts struct {
		AlertEmails []string `json:"alert_emails"`
		Scope       string   `json:"scope"`
	}
	b.call("GET", "/v1/school", key, nil, &alerts)
	if strings.Join(alerts.AlertEmails, ",") != "gerant@lauriane.fr,sud@lauriane.fr" || alerts.Scope != "etendu" {
		t.Fatalf("after the alert addresses' form: %+v", alerts)
	}

	// A phone's width: the same report, readable.
	run(t, ctx, "phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(b.url+"/ui/lessons?tab=eleve&q=Perrin"),
		chromedp.WaitVisible(`//td[contains(., "15:00 - 16:00")]`, chromedp.BySearch),
		screenshot(filepath.Join(dir, "ui-lessons-phone.png")),
	)
	run(t, ctx, "desktop again", chromedp.EmulateViewport(1280, 900))

	// "Déconnecter le bureau": unlinked, said, and the card no longer boasts of no errors.
	run(t, ctx, "unlink",
		chromedp.Navigate(b.url+webapi.OfficesPage),
		chromedp.Click(`a[href="/ui/offices/lauriane/disconnect"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[role=alertdialog]`, chromedp.ByQuery),
		chromedp.Click(`//button[.="Déconnecter le bureau"]`, chromedp.BySearch),
		chromedp.WaitVisible(`.notice.success`, chromedp.ByQuery),
		screenshot(filepath.Join(dir, "ui-offices-unlinked.png")),
	)
	wantText(t, ctx, "Le bureau est déconnecté", "Non connecté")
}

// browserProfile is a fresh Chromium profile folder. Not t.TempDir: Chromium's helper
// processes may still write into it for a moment after the browser is cancelled, which makes
// TempDir's strict cleanup fail the test; a leftover folder in /tmp is harmless.
func browserProfile(t *testing.T) string {
	dir, err := os.MkdirTemp("", "livret-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := 0; i < 20; i++ {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return dir
}

// waitURL waits until the page's address contains part: a click that submits a form or
// follows a link navigates asynchronously, and querying the page before the new document
// is there can hang on the old one.
func waitURL(t *testing.T, ctx context.Context, part string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var loc string
		if err := chromedp.Run(ctx, chromedp.Location(&loc)); err == nil && strings.Contains(loc, part) {
			var state string
			if err := chromedp.Run(ctx, chromedp.Evaluate(`document.readyState`, &state)); err == nil && state == "complete" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser never reached a page with %q", part)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addGerant creates a gerant person of the key's school, for a browser to sign in as.
func addGerant(t *testing.T, svc *livschool.Service, key string) (email, password string) {
	t.Helper()
	sc, err := svc.Authenticate(context.Background(), key)
	must(t, err)
	email, password = fmt.Sprintf("gerant@ecole-%d.test", sc.ID), "un mot de passe de test"
	_, err = svc.AddPerson(context.Background(), sc, livschool.PersonInput{Email: email, Role: "gerant"}, password)
	must(t, err)
	return email, password
}
