package webapi_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"livret/domain"
	livschool "livret/school"
	"livret/webapi"
)

// uiAgent is an admin's browser on Livret's pages: it keeps cookies and looks at redirects
// instead of following them.
type uiAgent struct {
	e    *env
	t    *testing.T
	http *http.Client
	csrf string // the last token a page carried
	// email and password are the person signIn signed in as.
	email, password string
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (e *env) uiAgent(t *testing.T) *uiAgent {
	jar, err := cookiejar.New(nil)
	must(t, err)
	return &uiAgent{e: e, t: t, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type uiPage struct {
	status int
	header http.Header
	body   string // unescaped HTML, for string checks
	raw    string
}

func (a *uiAgent) do(req *http.Request) uiPage {
	a.t.Helper()
	resp, err := a.http.Do(req)
	must(a.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(a.t, err)
	raw := string(data)
	if m := csrfInput.FindStringSubmatch(raw); m != nil {
		a.csrf = html.UnescapeString(m[1])
	}
	return uiPage{status: resp.StatusCode, header: resp.Header, body: html.UnescapeString(raw), raw: raw}
}

func (a *uiAgent) get(path string) uiPage {
	a.t.Helper()
	req, err := http.NewRequest("GET", a.e.api.URL+path, nil)
	must(a.t, err)
	return a.do(req)
}

// post sends a form; the session's token is added unless form already has "csrf" or
// withToken is false.
func (a *uiAgent) post(path string, form url.Values, withToken bool) uiPage {
	a.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if withToken && form.Get("csrf") == "" {
		form.Set("csrf", a.csrf)
	}
	req, err := http.NewRequest("POST", a.e.api.URL+path, strings.NewReader(form.Encode()))
	must(a.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(req)
}

func (p uiPage) want(t *testing.T, status int) uiPage {
	t.Helper()
	if p.status != status {
		t.Fatalf("status %d, want %d:\n%s", p.status, status, p.body)
	}
	return p
}

func (p uiPage) redirect(t *testing.T, prefix string) {
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), prefix) {
		t.Fatalf("answer %d to %q, want 303 to %s…:\n%s", p.status, p.header.Get("Location"), prefix, p.body)
	}
}

func (p uiPage) has(t *testing.T, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Fatalf("page lacks %q:\n%s", w, p.body)
		}
	}
}

func (p uiPage) hasNot(t *testing.T, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if strings.Contains(p.body, w) {
			t.Fatalf("page shows %q:\n%s", w, p.body)
		}
	}
}

// signIn signs in as a new gerant of the key's school.
func (a *uiAgent) signIn(key string) {
	a.t.Helper()
	a.signInAs(key, "gerant")
}

// signInAs creates a person of the key's school with role and offices (through the use
// case, with a password) and signs in as them on the login page.
func (a *uiAgent) signInAs(key, role string, officeRefs ...string) {
	a.t.Helper()
	ctx := context.Background()
	sc, err := a.e.srv.School.Authenticate(ctx, key)
	must(a.t, err)
	a.email = fmt.Sprintf("%s-%d@ecole-%d.test", role, peopleSeq.Add(1), sc.ID)
	a.password = "mot de passe " + a.email
	_, err = a.e.srv.School.AddPerson(ctx, sc, livschool.PersonInput{Email: a.email, Role: role, OfficeRefs: officeRefs}, a.password)
	must(a.t, err)
	a.login(a.email, a.password).redirect(a.t, webapi.OfficesPage)
	a.get(webapi.OfficesPage).want(a.t, http.StatusOK)
}

// peopleSeq numbers the people signIn creates.
var peopleSeq atomic.Int64

// login posts the sign-in form (after opening it, for its token).
func (a *uiAgent) login(email, password string) uiPage {
	a.t.Helper()
	a.get("/ui/login").want(a.t, http.StatusOK)
	return a.post("/ui/login", url.Values{"email": {email}, "password": {password}}, true)
}

// TestUIPages: sign-in, sessions, CSRF, the French screens of docs/rules.md ("Linking offices", "The report"), isolation.
func TestUIPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	e.put(a.Key, "/v1/offices/roche", map[string]any{"name": "Auto-école David - Agence de La Roche s/Yon"})
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	e.markTransmitted(t, e.lessonID(a.ID, "l-1500"), "dsr-1500")
	e.markTransmitted(t, e.lessonID(a.ID, "l-1000"), "dsr-1000")
	b := e.createSchool("Auto-école Bis", agrementB)
	e.put(b.Key, "/v1/offices/bis", map[string]any{"name": "BUREAU BIS"})

	anon := e.uiAgent(t)
	t.Run("pages need a session", func(t *testing.T) {
		for _, p := range []string{"/ui/offices", "/ui/lessons", "/ui/lessons?tab=eleve&q=Perrin"} {
			anon.get(p).redirect(t, "/ui/login")
		}
		login := anon.get("/ui/login").want(t, http.StatusOK)
		login.has(t, `<html lang="fr">`, `<label for="email">Adresse e-mail</label>`, `<label for="password">Mot de passe</label>`,
			`href="/ui/mot-de-passe-oublie">Mot de passe oublié ?</a>`)
		login.hasNot(t, `name="key"`, "Clé de l'auto-école")
		if anon.get("/ui/static/livret.css").want(t, http.StatusOK).header.Get("Content-Type") != "text/css; charset=utf-8" {
			t.Fatal("the stylesheet is not served as CSS")
		}
	})
	t.Run("help", func(t *testing.T) {
		p := anon.get("/ui/aide").want(t, http.StatusOK)
		p.has(t, `<html lang="fr">`, "<h1>Aide</h1>", "Ce que Livret transmet à la DSR", "le lendemain", "Chaque nuit, à 01:30, ", "jusqu'à minuit",
			"planifiées avant la connexion ne sont pas concernées", "NEPH", "Numéro d'agrément", "N° d'autorisation d'enseigner",
			"Contrat de formation", "Permis B boîte automatique", "Leçon de conduite Boîte Auto", "au moins 30 minutes",
			`href="/ui/login"`)
		// Every error the report can show, in domain's words, with what to do.
		for _, code := range append(domain.DSRCodes(), domain.CodeNEPHManquant, domain.CodeHorairesInvalides) {
			p.has(t, `id="code-`+string(code)+`"`, code.Message(), code.Hint())
		}
		// A lesson not concerned, as the report words it: the label said once.
		p.has(t, `id="code-PLANIFIEE_AVANT_CONNEXION"`, ">Elle a été planifiée avant la connexion du bureau à RdvPermis.<",
			domain.CodePlanifieeAvantConnexion.Hint())
		anon.get("/ui/login").want(t, http.StatusOK).has(t, `href="/ui/aide"`)
	})
	t.Run("a key is no sign-in", func(t *testing.T) {
		anon.get("/ui/login")
		p := anon.post("/ui/login", url.Values{"key": {a.Key}}, true).want(t, http.StatusUnauthorized)
		p.has(t, "Adresse e-mail ou mot de passe incorrect.")
		if strings.Contains(p.header.Get("Set-Cookie"), "livret_session=") {
			t.Fatal("a session cookie for a bad key")
		}
		anon.get("/ui/offices").redirect(t, "/ui/login")
	})
	t.Run("login without token", func(t *testing.T) {
		fresh := e.uiAgent(t)
		fresh.post("/ui/login", url.Values{"email": {"x@y.fr"}, "password": {"z"}}, false).want(t, http.StatusForbidden).has(t, "jeton de sécurité")
		fresh.get("/ui/login")
		fresh.post("/ui/login", url.Values{"email": {"x@y.fr"}, "password": {"z"}, "csrf": {"faux"}}, true).want(t, http.StatusForbidden)
	})

	admin := e.uiAgent(t)
	sc, err := e.srv.School.Authenticate(context.Background(), a.Key)
	must(t, err)
	_, err = e.srv.School.AddPerson(context.Background(), sc, livschool.PersonInput{Email: "Gerant@Lauriane.fr", Role: "gerant"}, "un mot de passe assez long")
	must(t, err)
	p := admin.login("  GERANT@lauriane.fr ", "un mot de passe assez long")
	p.redirect(t, webapi.OfficesPage)
	cookie := strings.Join(p.header.Values("Set-Cookie"), "\n")
	if !strings.Contains(cookie, "livret_session=") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Fatalf("session cookie %q", cookie)
	}

	t.Run("offices page", func(t *testing.T) {
		// Where the OAuth callback sends the browser: the offices, and the link confirmed.
		admin.get(webapi.LinkedPage).want(t, http.StatusOK).has(t, `class="notice success"`, "Le bureau est connecté à la DSR")
		p := admin.get("/ui/offices").want(t, http.StatusOK)
		p.has(t, `<html lang="fr">`, "L'API Livret numérique", "AE LAURIANE", "Auto-école David - Agence de La Roche s/Yon",
			"Se connecter", "Leçons envoyées", "✖ 2 erreurs recensées",
			`<a class="button secondary" href="/ui/offices/lauriane/disconnect">Se déconnecter de la DSR</a>`,
			`<span class="badge neutral">Non connecté</span>`)
		// An office not linked sends nothing: no "no error" badge for it.
		p.hasNot(t, "BUREAU BIS", "reconnexion nécessaire", "Aucune erreur recensée", `action="/ui/offices/roche/disconnect"`)
		if ct := p.header.Get("Content-Security-Policy"); !strings.Contains(ct, "default-src 'none'") {
			t.Fatalf("CSP %q", ct)
		}
	})
	t.Run("warning before linking a second office", func(t *testing.T) {
		p := admin.post("/ui/offices/roche/connect", nil, true).want(t, http.StatusOK)
		p.has(t, linkWarning, ">Connexion</button>", ">Fermer</a>", `href="`+e.srv.School.RdvPermisLogoutURL+`" target="_blank"`, "site de RDV Permis")
		p = admin.post("/ui/offices/roche/connect", url.Values{"confirm": {"1"}}, true)
		p.redirect(t, e.sandbox.URL+"/realms/formation/protocol/openid-connect/auth?")
	})
	t.Run("errors tab", func(t *testing.T) {
		p := admin.get("/ui/lessons?office=lauriane&from=2021-11-30&to=2021-12-15").want(t, http.StatusOK)
		p.has(t, "Leçons en erreur", "Recherche par élève", `<label for="office">Bureau</label>`, "Période du", `<label for="to">au</label>`,
			"Date et heure de la leçon", "Type de leçon", "Élève", "Transmission",
			"09/12/2021 13:00 - 13:25", "Simulateur", "Mélanie Perrin",
			"● Erreur - La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min.",
			"09/12/2021 13:00 - 14:00", "Lou Michel", "● Erreur - Le format du numéro d'autorisation du formateur n'est pas valide.",
			"1 / 1", "10 lignes", `value="2021-11-30"`, `<option value="lauriane" selected>`,
			`<th scope="col">Élève</th>`, `<td data-label="Élève">Lou Michel</td>`,
			// Livret's own refusals: no "Renvoyer", the fix is made at the source.
			domain.FixInSoftware)
		p.hasNot(t, "● Transmise", ">Renvoyer</button>", "Renvoyer les")
		// Outside the period: nothing.
		admin.get("/ui/lessons?office=lauriane&from=2021-12-10&to=2021-12-15").want(t, http.StatusOK).hasNot(t, "Lou Michel")
		// A bad period is explained, not a crash.
		admin.get("/ui/lessons?from=2021-12-15&to=2021-12-01").want(t, http.StatusBadRequest).has(t, "La date de fin")
	})
	t.Run("search by student", func(t *testing.T) {
		e.put(a.Key, "/v1/lessons/l-code", map[string]any{"office_ref": officeLauriane, "student_ref": "melanie", "instructor_ref": "jean",
			"type": "code", "start": "2021-12-08T10:00:00+01:00", "end": "2021-12-08T11:00:00+01:00"})
		p := admin.get("/ui/lessons?tab=eleve&q=perrin").want(t, http.StatusOK)
		// The heading names the student: no column repeating her name on every row.
		p.hasNot(t, `<th scope="col">Élève</th>`, `data-label="Élève"`, "Mélanie Perrin</td>")
		// The label once, then what it means.
		p.has(t, "● Non concernée - Ce type de leçon n'est pas transmis à la DSR.")
		p.hasNot(t, "Non concernée - Leçon non concernée")
		p.has(t, `<label for="q">Rechercher un élève</label>`, "Perrin Mélanie", "Leçons de Mélanie Perrin",
			"09/12/2021 15:00 - 16:00", "Leçon de conduite Boîte Auto", "● Transmise",
			"09/12/2021 10:00 - 11:00", "Leçon de conduite",
			"● Erreur - La durée renseignée n'est pas valide. Elle doit être comprise entre 30 et 240 min.")
		p.hasNot(t, "Lou Michel")
		i15, i13, i10 := strings.Index(p.body, "15:00 - 16:00"), strings.Index(p.body, "13:00 - 13:25"), strings.Index(p.body, "10:00 - 11:00")
		if !(i15 < i13 && i13 < i10) {
			t.Fatal("the student's lessons are not newest first")
		}
		admin.get("/ui/lessons?tab=eleve&q=zzzz").want(t, http.StatusOK).has(t, "Aucun élève ne correspond")
		// A search too short says so, and only so.
		short := admin.get("/ui/lessons?tab=eleve&q=p").want(t, http.StatusBadRequest)
		short.has(t, "Rechercher un élève</strong> : Saisissez au moins 2 caractères")
		short.hasNot(t, "Aucun élève ne correspond", "voir la liste des champs")
	})
	t.Run("all lessons", func(t *testing.T) {
		p := admin.get("/ui/lessons?tab=toutes&office=lauriane").want(t, http.StatusOK)
		p.has(t, `<a href="/ui/lessons?office=lauriane&tab=toutes" aria-current="page">Toutes les leçons</a>`,
			`<label for="status">Transmission</label>`, `<option value="" selected>Toutes</option>`,
			`<option value="pending">En attente</option>`, `<option value="transmitted">Transmise</option>`, `<option value="error">En erreur</option>`,
			`<option value="not_eligible">Non concernée</option>`, `<option value="cancelled">Annulée</option>`,
			"● Transmise", "● Erreur - Le format du numéro d'autorisation du formateur n'est pas valide.", "Mélanie Perrin", "Lou Michel")
		p = admin.get("/ui/lessons?tab=toutes&office=lauriane&status=transmitted").want(t, http.StatusOK)
		p.has(t, `<option value="transmitted" selected>Transmise</option>`, "09/12/2021 15:00 - 16:00", "09/12/2021 10:00 - 11:00", "1 / 1")
		p.hasNot(t, "● Erreur", "Lou Michel")
		// A status not in the list is no filter, and is not echoed.
		p = admin.get("/ui/lessons?tab=toutes&office=lauriane&status=%3Cb%3Ebof.9").want(t, http.StatusOK)
		p.has(t, `<option value="" selected>Toutes</option>`, "● Transmise", "● Erreur")
		// The marker has a dot, which no base64url token (the page's CSRF value) holds.
		p.hasNot(t, "bof.9")
		// The other tabs keep the office, not the status.
		p.has(t, `<a href="/ui/lessons?office=lauriane&tab=erreurs">Leçons en erreur</a>`)
	})
	t.Run("ten rows a page", func(t *testing.T) {
		for i := 0; i < 11; i++ {
			e.put(a.Key, "/v1/lessons/page-"+string(rune('a'+i)), map[string]any{"office_ref": officeLauriane, "student_ref": "lou",
				"instructor_ref": "paul", "type": "conduite",
				"start": time.Date(2021, 12, 1, 8+i, 0, 0, 0, time.UTC).Format(time.RFC3339),
				"end":   time.Date(2021, 12, 1, 9+i, 0, 0, 0, time.UTC).Format(time.RFC3339)})
		}
		p := admin.get("/ui/lessons?office=lauriane").want(t, http.StatusOK)
		p.has(t, "1 / 2", `aria-label="Page suivante"`)
		if n := rows(p); n != 10 {
			t.Fatalf("%d rows on page 1", n)
		}
		p = admin.get("/ui/lessons?office=lauriane&page=2").want(t, http.StatusOK)
		p.has(t, "2 / 2", `aria-label="Page précédente"`)
		if n := rows(p); n != 3 {
			t.Fatalf("%d rows on page 2", n)
		}
	})

	forms := []string{"/ui/logout", "/ui/offices/lauriane/connect", "/ui/offices/lauriane/disconnect", "/ui/lessons/l-lou/resend"}
	t.Run("every form needs the token", func(t *testing.T) {
		before := e.snapshot(a.ID)
		for _, path := range forms {
			admin.post(path, nil, false).want(t, http.StatusForbidden).has(t, "jeton de sécurité", `lang="fr"`)
			admin.post(path, url.Values{"csrf": {"pas-le-bon"}}, true).want(t, http.StatusForbidden)
		}
		if e.snapshot(a.ID) != before {
			t.Fatal("a form without its token changed something")
		}
		admin.get("/ui/offices").want(t, http.StatusOK) // still signed in
	})
	t.Run("another school sees nothing", func(t *testing.T) {
		other := e.uiAgent(t)
		other.signIn(b.Key)
		before := e.snapshot(a.ID)
		e.put(b.Key, "/v1/offices/sud", map[string]any{"name": "Agence Sud"})
		e.put(b.Key, "/v1/offices/centre", map[string]any{"name": "Agence du Centre"})
		cards := other.get("/ui/offices").want(t, http.StatusOK)
		cards.hasNot(t, "AE LAURIANE", "La Roche")
		// In French order, not by bytes: "du" before "Sud", as a reader looks for them.
		if i, j, k := strings.Index(cards.body, "Agence du Centre"), strings.Index(cards.body, "Agence Sud"), strings.Index(cards.body, "BUREAU BIS"); !(i < j && j < k) {
			t.Fatal("the office cards are not in French order")
		}
		sel := other.get("/ui/lessons").want(t, http.StatusOK)
		if i, j := strings.Index(sel.body, ">Agence du Centre</option>"), strings.Index(sel.body, ">Agence Sud</option>"); i < 0 || i > j {
			t.Fatal("the office filter is not in French order")
		}
		other.get("/ui/lessons").want(t, http.StatusOK).hasNot(t, "Perrin", "Lou Michel", "AE LAURIANE")
		other.get("/ui/lessons?tab=eleve&q=Perrin").want(t, http.StatusOK).hasNot(t, "Perrin Mélanie", "09/12/2021")
		other.get("/ui/lessons?office=lauriane").want(t, http.StatusBadRequest).has(t, "Bureau inconnu.")
		other.post("/ui/offices/lauriane/disconnect", nil, true).want(t, http.StatusNotFound).has(t, "Bureau introuvable.")
		other.post("/ui/offices/lauriane/connect", nil, true).want(t, http.StatusNotFound)
		other.post("/ui/lessons/l-lou/resend", nil, true).want(t, http.StatusNotFound).has(t, "Leçon introuvable")
		if e.snapshot(a.ID) != before {
			t.Fatal("school B changed school A's data")
		}
		// A's token in B's session is refused.
		other.post("/ui/lessons/l-lou/resend", url.Values{"csrf": {admin.csrf}}, true).want(t, http.StatusForbidden)
	})
	t.Run("resend and disconnect", func(t *testing.T) {
		admin.get("/ui/lessons?office=lauriane")
		p := admin.post("/ui/lessons/l-1300/resend", url.Values{"retour": {"tab=erreurs&office=lauriane&evil=https://x"}}, true)
		p.redirect(t, "/ui/lessons?")
		if loc := p.header.Get("Location"); !strings.Contains(loc, "msg=toujours-erreur") || strings.Contains(loc, "evil") {
			t.Fatalf("after resend: %q", loc)
		}
		back := admin.get(p.header.Get("Location")).want(t, http.StatusOK)
		back.has(t, `<p class="notice warning" role="alert">`, "La leçon est toujours en erreur")
		back.hasNot(t, `class="notice success"`)
		// "Se déconnecter de la DSR" asks first, and says what it does.
		confirm := admin.get("/ui/offices/lauriane/disconnect").want(t, http.StatusOK)
		confirm.has(t, `role="alertdialog"`, "Déconnecter le bureau AE LAURIANE de la DSR ?", "aucune de ses leçons n'est transmise à la DSR",
			`<form method="post" action="/ui/offices/lauriane/disconnect">`, ">Déconnecter le bureau</button>", `href="/ui/offices">Annuler</a>`)
		if e.office(a.ID, officeLauriane).AccountID == nil {
			t.Fatal("asking to confirm unlinked the office")
		}
		admin.get("/ui/offices/roche/disconnect").redirect(t, webapi.OfficesPage) // not linked: nothing to confirm
		admin.get("/ui/offices/inconnu/disconnect").want(t, http.StatusNotFound).has(t, "Bureau introuvable.")
		p = admin.post("/ui/offices/lauriane/disconnect", nil, true)
		p.redirect(t, webapi.OfficesPage)
		if e.office(a.ID, officeLauriane).AccountID != nil {
			t.Fatal("the office is still linked")
		}
		after := admin.get(p.header.Get("Location")).want(t, http.StatusOK)
		after.has(t, `class="notice success"`, "Le bureau est déconnecté")
		after.hasNot(t, "Aucune erreur recensée")
	})
	t.Run("help in the menu", func(t *testing.T) {
		p := admin.get("/ui/aide").want(t, http.StatusOK)
		p.has(t, `<a href="/ui/aide" aria-current="page">Aide</a>`, "Se déconnecter de Livret")
		p.hasNot(t, "Se connecter à Livret</a>")
		admin.get("/ui/offices").want(t, http.StatusOK).has(t, `<a href="/ui/aide">Aide</a>`)
	})
	t.Run("sign out", func(t *testing.T) {
		admin.get("/ui/offices")
		p := admin.post("/ui/logout", nil, true)
		p.redirect(t, "/ui/login")
		admin.get(p.header.Get("Location")).want(t, http.StatusOK).has(t, `class="notice success"`, "Vous êtes déconnecté de Livret.")
		admin.get("/ui/offices").redirect(t, "/ui/login")
		// A key the list does not hold says nothing, and nothing of the query is echoed.
		admin.get("/ui/login?msg=%3Cb%3Epirate").want(t, http.StatusOK).hasNot(t, "pirate", `class="notice`)
	})
}

// pagerLinks are the pager's four links of a page, "" where one is disabled.
func pagerLinks(t *testing.T, p uiPage) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, label := range []string{"Première page", "Page précédente", "Page suivante", "Dernière page"} {
		m := regexp.MustCompile(`href="([^"]+)" aria-label="` + label + `"`).FindStringSubmatch(p.body)
		if m != nil {
			out[label] = m[1]
		}
	}
	return out
}

// wantQuery checks that a report link keeps the tab and the filters, and points at page.
func wantQuery(t *testing.T, link string, want url.Values, page string) {
	t.Helper()
	u, err := url.Parse(link)
	must(t, err)
	if u.Path != "/ui/lessons" {
		t.Fatalf("link %q leaves the report", link)
	}
	q := u.Query()
	for k := range want {
		if q.Get(k) != want.Get(k) {
			t.Fatalf("link %q: %s=%q, want %q", link, k, q.Get(k), want.Get(k))
		}
	}
	if q.Get("page") != page {
		t.Fatalf("link %q: page %q, want %q", link, q.Get("page"), page)
	}
}

// TestUIPager: "« < 1 / 3 > »" keeps the tab and every filter on every page, on both tabs,
// and "Renvoyer" from page 2 comes back to page 2.
func TestUIPager(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	seedPeople(e, a.Key, officeLauriane)
	// 25 lessons of November the DSR refused (the student not found), and one in December,
	// outside the period filtered on.
	for i := 1; i <= 26; i++ {
		day := time.Date(2021, 11, i, 8, 0, 0, 0, time.UTC)
		if i == 26 {
			day = time.Date(2021, 12, 20, 8, 0, 0, 0, time.UTC)
		}
		ref := fmt.Sprintf("court-%02d", i)
		e.put(a.Key, "/v1/lessons/"+ref, map[string]any{"office_ref": officeLauriane, "student_ref": "lou",
			"instructor_ref": "jean", "type": "conduite",
			"start": day.Format(time.RFC3339), "end": day.Add(time.Hour).Format(time.RFC3339)})
		e.markDSRError(t, e.lessonID(a.ID, ref), "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())
	}
	admin := e.uiAgent(t)
	admin.signIn(a.Key)

	for _, tc := range []struct {
		name  string
		start string
		view  url.Values
	}{
		{"errors tab", "/ui/lessons?tab=erreurs&office=lauriane&from=2021-11-01&to=2021-11-30",
			url.Values{"tab": {"erreurs"}, "office": {"lauriane"}, "from": {"2021-11-01"}, "to": {"2021-11-30"}}},
		{"all lessons tab", "/ui/lessons?tab=toutes&status=error&office=lauriane&from=2021-11-01&to=2021-11-30",
			url.Values{"tab": {"toutes"}, "status": {"error"}, "office": {"lauriane"}, "from": {"2021-11-01"}, "to": {"2021-11-30"}}},
		{"student tab", "/ui/lessons?tab=eleve&q=michel&office=lauriane&from=2021-11-01&to=2021-11-30",
			url.Values{"tab": {"eleve"}, "q": {"michel"}, "student": {"lou"}, "office": {"lauriane"}, "from": {"2021-11-01"}, "to": {"2021-11-30"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := admin.get(tc.start).want(t, http.StatusOK)
			p.has(t, "1 / 3", "10 lignes")
			links := pagerLinks(t, p)
			if links["Première page"] != "" || links["Page précédente"] != "" {
				t.Fatalf("page 1 links back: %v", links)
			}
			wantQuery(t, links["Page suivante"], tc.view, "2")
			wantQuery(t, links["Dernière page"], tc.view, "3")

			p = admin.get(links["Page suivante"]).want(t, http.StatusOK)
			p.has(t, "2 / 3", "15/11/2021", "06/11/2021") // newest first: page 2 holds the 15th to the 6th
			p.hasNot(t, "20/12/2021", "16/11/2021", "05/11/2021")
			if n := rows(p); n != 10 || strings.Count(p.body, ">Renvoyer</button>") != 10 {
				t.Fatalf("%d rows on page 2, each a DSR refusal to resend", n)
			}
			links = pagerLinks(t, p)
			wantQuery(t, links["Première page"], tc.view, "")
			wantQuery(t, links["Page précédente"], tc.view, "")
			wantQuery(t, links["Page suivante"], tc.view, "3")
			wantQuery(t, links["Dernière page"], tc.view, "3")

			// "Renvoyer" from page 2: resent, back on page 2. (The lesson is put back in error
			// after, for the next tab's walk.)
			retour := regexp.MustCompile(`name="retour" value="([^"]+)"`).FindStringSubmatch(p.body)
			if retour == nil {
				t.Fatal("no retour in the resend form")
			}
			r := admin.post("/ui/lessons/court-10/resend", url.Values{"retour": {retour[1]}}, true)
			r.redirect(t, "/ui/lessons?")
			wantQuery(t, r.header.Get("Location"), tc.view, "2")
			back := admin.get(r.header.Get("Location")).want(t, http.StatusOK)
			back.has(t, "2 / 3", `class="notice success"`, "La leçon est renvoyée à la DSR")
			e.markDSRError(t, e.lessonID(a.ID, "court-10"), "ELEVE_INTROUVABLE", domain.CodeEleveIntrouvable.Message())

			p = admin.get(links["Page suivante"]).want(t, http.StatusOK)
			p.has(t, "3 / 3")
			if n := rows(p); n != 5 {
				t.Fatalf("%d rows on page 3", n)
			}
			links = pagerLinks(t, p)
			if links["Page suivante"] != "" || links["Dernière page"] != "" {
				t.Fatalf("the last page links further: %v", links)
			}
			wantQuery(t, links["Page précédente"], tc.view, "2")

			// Past the last page: the last page.
			u := mustParse(t, links["Page précédente"])
			q := u.Query()
			q.Set("page", "9")
			over := admin.get(u.Path + "?" + q.Encode())
			over.redirect(t, "/ui/lessons?")
			wantQuery(t, over.header.Get("Location"), tc.view, "3")
		})
	}
}

// rows counts a report page's lesson rows.
func rows(p uiPage) int { return strings.Count(p.body, `<td data-label="Date et heure de la leçon">`) }

// browserAccept is what Chromium sends when it navigates.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8"

// acceptHTML makes an http.Client send a navigating browser's Accept header on every request.
type acceptHTML struct{ next http.RoundTripper }

func (a acceptHTML) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", browserAccept)
	return a.next.RoundTrip(r)
}

// wantFrenchPage checks that an answer is one of Livret's French pages, with the pages'
// security headers, and not a problem document.
func wantFrenchPage(t *testing.T, p uiPage, status int, wants ...string) {
	t.Helper()
	p.want(t, status)
	if ct := p.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q, want a page:\n%s", ct, p.body)
	}
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
		if p.header.Get(h) == "" {
			t.Fatalf("a page without %s", h)
		}
	}
	if !strings.Contains(p.header.Get("Content-Security-Policy"), "default-src 'none'") || p.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("CSP %q, Cache-Control %q", p.header.Get("Content-Security-Policy"), p.header.Get("Cache-Control"))
	}
	p.has(t, `<html lang="fr">`, `href="/ui/offices"`)
	p.has(t, wants...)
	p.hasNot(t, `"type":`, "urn:livret:problem", "voir la liste des champs")
}

// TestUIBrowserAnswers: every answer a browser gets is a French page, whatever went wrong
// and wherever (docs/api.md, "Errors"); an API client still gets problem+json.
func TestUIBrowserAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	e.addAccount("autre@ecole-b.fr", "pw-b", agrementB)
	e.put(a.Key, "/v1/offices/roche", map[string]any{"name": "Agence de La Roche"})

	anon := e.uiAgent(t)
	t.Run("not found, wrong method, no file", func(t *testing.T) {
		wantFrenchPage(t, anon.get("/ui/nothing"), http.StatusNotFound, "Page introuvable", "Cette page n'existe pas dans Livret")
		wantFrenchPage(t, anon.get("/ui/logout"), http.StatusMethodNotAllowed, "Cette adresse ne s'ouvre pas de cette façon")
		wantFrenchPage(t, anon.get("/ui/static/rien.css"), http.StatusNotFound, "Page introuvable")
		wantFrenchPage(t, anon.get("/ui/static/"), http.StatusNotFound, "Page introuvable")
		wantFrenchPage(t, anon.post("/ui/offices", nil, false), http.StatusMethodNotAllowed, "Page introuvable")
	})
	t.Run("a signed-in admin keeps the menu", func(t *testing.T) {
		admin := e.uiAgent(t)
		admin.signIn(a.Key)
		p := admin.get("/ui/offices/lauriane/nothing")
		wantFrenchPage(t, p, http.StatusNotFound, "Page introuvable", "Se déconnecter de Livret", "Auto-école Lauriane")
		wantFrenchPage(t, admin.post("/ui/offices/lauriane/disconnect", url.Values{"csrf": {"faux"}}, true), http.StatusForbidden, "jeton de sécurité")
		wantFrenchPage(t, admin.post("/ui/offices/inconnu/connect", nil, true), http.StatusNotFound, "Bureau introuvable.")
		wantFrenchPage(t, admin.get("/ui/lessons?from=2021-13-45"), http.StatusBadRequest, "Période du", "Date invalide")
	})
	t.Run("a browser on the API's addresses", func(t *testing.T) {
		nav := e.uiAgent(t)
		nav.http.Transport = acceptHTML{http.DefaultTransport}
		wantFrenchPage(t, nav.get("/v1/nothing"), http.StatusNotFound, "Page introuvable")
		wantFrenchPage(t, nav.get("/v1/offices"), http.StatusUnauthorized, "réservée à votre logiciel de gestion")
		wantFrenchPage(t, nav.get(webapi.CallbackPath+"?state=forged&code=abc"), http.StatusBadRequest,
			"Ce lien de connexion est invalide, expiré ou déjà utilisé")
		// An API client, the same addresses: problems.
		e.do("GET", "/v1/nothing", "", nil).wantProblem(t, http.StatusNotFound)
		e.do("GET", "/v1/offices", "", nil).wantProblem(t, http.StatusUnauthorized)
		e.do("GET", webapi.CallbackPath+"?state=forged&code=abc", "", nil).wantProblem(t, http.StatusBadRequest)
		e.do("DELETE", "/v1/lessons", a.Key, nil).wantProblem(t, http.StatusMethodNotAllowed)
	})
	t.Run("linking with another school's account", func(t *testing.T) {
		b := e.browser()
		b.Transport = acceptHTML{http.DefaultTransport}
		f := e.link(a.Key, "roche", true, b, &login{"autre@ecole-b.fr", "pw-b"})
		p := uiPage{status: f.final.status, header: f.final.header, body: html.UnescapeString(string(f.final.body)), raw: string(f.final.body)}
		wantFrenchPage(t, p, http.StatusConflict, "Compte RdvPermis d'une autre auto-école",
			"Ce compte RdvPermis appartient à une autre auto-école (agrément "+agrementB+")",
			`<a class="button" href="`+e.srv.School.RdvPermisLogoutURL+`" target="_blank"`, ">Se déconnecter de RdvPermis</a>",
			"Retour à l'API Livret numérique")
		if e.office(a.ID, "roche").AccountID != nil {
			t.Fatal("an account of another school was linked")
		}
	})
}
