package webapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	livschool "livret/school"
	"livret/webapi"
	"livret/webui"
)

// TestPeople: people sign in as themselves (issue 18), and the probe's findings on sessions
// (SECURITY.md, "People and sessions").
func TestPeople(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Personnes", agrementA)
	e.put(a.Key, "/v1/offices/nord", map[string]any{"name": "Agence Nord"})
	pages := e.srv.Pages.(*webui.Pages)

	t.Run("linking from the pages is bound to the browser that started it", func(t *testing.T) {
		e.addAccount("lien@personnes.fr", "pw-lien", agrementA)
		u := e.uiAgent(t)
		u.signIn(a.Key)
		p := u.post("/ui/offices/nord/connect", nil, true)
		p.redirect(t, e.sandbox.URL+"/realms/formation/protocol/openid-connect/auth?")
		// The RdvPermis link, opened in another browser (sent by mail, say), and logged in.
		other := e.browser()
		resp, err := other.Get(p.header.Get("Location"))
		must(t, err)
		resp = e.submitLogin(other, resp, login{"lien@personnes.fr", "pw-lien"})
		callback := resp.Request.URL
		if callback.Path != webapi.CallbackPath {
			t.Fatalf("the other browser ended at %s", callback)
		}
		refused := e.read(resp).wantProblem(t, http.StatusBadRequest)
		if !strings.Contains(refused.Detail, "autre navigateur") {
			t.Fatalf("detail %q", refused.Detail)
		}
		if e.office(a.ID, "nord").AccountID != nil {
			t.Fatal("linked from another browser")
		}
		// The state was not spent: the browser that started finishes.
		done := u.get(callback.RequestURI())
		if done.status != http.StatusFound || done.header.Get("Location") != webapi.LinkedPage {
			t.Fatalf("the starting browser's callback: %d %q", done.status, done.header.Get("Location"))
		}
		if e.office(a.ID, "nord").AccountID == nil {
			t.Fatal("the starting browser did not link the office")
		}
	})

	t.Run("logout ends the session on the server", func(t *testing.T) {
		u := e.uiAgent(t)
		u.signIn(a.Key)
		jarCookies := u.http.Jar.Cookies(mustParse(t, e.api.URL+"/ui/offices"))
		u.get("/ui/offices")
		csrf := u.csrf
		u.post("/ui/logout", nil, true).redirect(t, "/ui/login")
		// Replay the cookie the browser had before signing out, with its form token.
		thief := e.uiAgent(t)
		thief.http.Jar.SetCookies(mustParse(t, e.api.URL+"/ui/offices"), jarCookies)
		thief.get("/ui/offices").redirect(t, "/ui/login")
		thief.post("/ui/offices/nord/connect", url.Values{"csrf": {csrf}}, true).redirect(t, "/ui/login")
	})

	t.Run("wrong passwords lock the address, known or not", func(t *testing.T) {
		u := e.uiAgent(t)
		u.signIn(a.Key)
		known := u.email
		answers := map[string][]string{}
		for _, email := range []string{known, "personne@inconnue.fr"} {
			for i := 0; i < 30; i++ {
				p := e.uiAgent(t).login(email, "pas le bon mot de passe")
				answers[email] = append(answers[email], csrfInput.ReplaceAllString(p.body[strings.Index(p.body, "<main"):], ""))
				if i < livschool.LoginMaxFailures-1 {
					p.want(t, http.StatusUnauthorized).has(t, "Adresse e-mail ou mot de passe incorrect.")
				} else {
					p.want(t, http.StatusTooManyRequests).has(t, "la connexion est bloquée pendant 15 minutes")
				}
			}
		}
		for i := range answers[known] {
			if answers[known][i] != strings.ReplaceAll(answers["personne@inconnue.fr"][i], "personne@inconnue.fr", known) {
				t.Fatalf("attempt %d: a known address answers differently from an unknown one", i)
			}
		}
		// Locked: even the right password is refused.
		e.uiAgent(t).login(known, u.password).want(t, http.StatusTooManyRequests)
	})

	t.Run("the sign-in form's token expires", func(t *testing.T) {
		u := e.uiAgent(t)
		u.signIn(a.Key)
		email, password := u.email, u.password
		v := e.uiAgent(t)
		v.get("/ui/login")
		pages.Now = func() time.Time { return time.Now().Add(webui.LoginCSRFTTL + time.Minute) }
		defer func() { pages.Now = nil }()
		v.post("/ui/login", url.Values{"email": {email}, "password": {password}}, true).want(t, http.StatusForbidden).has(t, "jeton de sécurité")
		pages.Now = nil
		v.login(email, password).redirect(t, webapi.OfficesPage)
	})

	t.Run("a removed person's session ends at once, a role change applies at once", func(t *testing.T) {
		boss := e.uiAgent(t)
		boss.signIn(a.Key)
		clerk := e.uiAgent(t)
		clerk.signInAs(a.Key, "gerant")
		clerk.get("/ui/personnes").want(t, http.StatusOK).has(t, boss.email)
		var list struct{ Items []livschool.Person }
		e.do("GET", "/v1/users", a.Key, nil).want(t, http.StatusOK).json(t, &list)
		var id int64
		for _, p := range list.Items {
			if p.Email == clerk.email {
				id = p.ID
			}
		}
		e.do("PATCH", "/v1/users/"+itoa(id), a.Key, map[string]any{"role": "lecture"}).want(t, http.StatusOK)
		clerk.get("/ui/personnes").want(t, http.StatusNotFound)
		clerk.get("/ui/offices").want(t, http.StatusOK).hasNot(t, `href="/ui/personnes"`)
		e.do("DELETE", "/v1/users/"+itoa(id), a.Key, nil).want(t, http.StatusNoContent)
		clerk.get("/ui/offices").redirect(t, "/ui/login")
	})

	t.Run("invitation: once, and not after 72 hours", func(t *testing.T) {
		inv := e.do("POST", "/v1/users", a.Key, map[string]any{"email": "Nouvelle@Ecole.fr", "role": "bureau", "office_refs": []string{"nord"}})
		inv.want(t, http.StatusCreated)
		if strings.Contains(string(inv.body), "token") {
			t.Fatalf("the answer carries the link's token: %s", string(inv.body))
		}
		link := e.lastLink("nouvelle@ecole.fr")
		u := e.uiAgent(t)
		u.get(link).want(t, http.StatusOK).has(t, "nouvelle@ecole.fr", "Au moins 12 caractères")
		token := strings.TrimPrefix(link, "/ui/invitation?token=")
		u.post("/ui/invitation", url.Values{"token": {token}, "password": {"court"}}, true).want(t, http.StatusUnprocessableEntity).
			has(t, "au moins 12 caractères")
		u.post("/ui/invitation", url.Values{"token": {token}, "password": {"une phrase de passe"}}, true).redirect(t, "/ui/login?msg=mot-de-passe")
		u.get(link).want(t, http.StatusGone).has(t, "Ce lien a déjà été utilisé")
		u.login("nouvelle@ecole.fr", "une phrase de passe").redirect(t, webapi.OfficesPage)

		e.do("POST", "/v1/users", a.Key, map[string]any{"email": "tardive@ecole.fr", "role": "lecture"}).want(t, http.StatusCreated)
		late := e.lastLink("tardive@ecole.fr")
		e.srv.School.Now = func() time.Time { return time.Now().Add(livschool.InvitationTTL + time.Minute) }
		defer func() { e.srv.School.Now = time.Now }()
		e.uiAgent(t).get(late).want(t, http.StatusGone).has(t, "Ce lien a expiré")
		e.srv.School.Now = time.Now
	})

	t.Run("reset: same answer for anyone, the link ends other sessions", func(t *testing.T) {
		u := e.uiAgent(t)
		u.signIn(a.Key)
		before := len(e.mails.all())
		forgot := func(email string) string {
			f := e.uiAgent(t)
			f.get("/ui/mot-de-passe-oublie").want(t, http.StatusOK)
			p := f.post("/ui/mot-de-passe-oublie", url.Values{"email": {email}}, true).want(t, http.StatusOK)
			return p.body[strings.Index(p.body, "<main"):]
		}
		if forgot(u.email) != forgot("inconnu@nulle-part.fr") {
			t.Fatal("the forgotten-password answer tells whether the address exists")
		}
		if n := len(e.mails.all()) - before; n != 1 {
			t.Fatalf("%d e-mails sent, want 1 (to the known address only)", n)
		}
		link := e.lastLink(u.email)
		r := e.uiAgent(t)
		r.get(link).want(t, http.StatusOK)
		r.post("/ui/mot-de-passe", url.Values{"token": {strings.TrimPrefix(link, "/ui/mot-de-passe?token=")}, "password": {"nouveau mot de passe"}}, true).
			redirect(t, "/ui/login?msg=mot-de-passe")
		u.get("/ui/offices").redirect(t, "/ui/login") // the session opened with the old password ended
		r.login(u.email, u.password).want(t, http.StatusUnauthorized)
		r.login(u.email, "nouveau mot de passe").redirect(t, webapi.OfficesPage)
	})

	t.Run("POST /v1/users refuses bad input in French, naming the field", func(t *testing.T) {
		p := e.do("POST", "/v1/users", a.Key, map[string]any{"email": "pas une adresse", "role": "chef"}).wantProblem(t, http.StatusUnprocessableEntity)
		if f := p.fields(); strings.Join(f, ",") != "email,role" {
			t.Fatalf("fields %v", f)
		}
		p = e.do("POST", "/v1/users", a.Key, map[string]any{"email": "b@ecole.fr", "role": "bureau"}).wantProblem(t, http.StatusUnprocessableEntity)
		if !strings.Contains(p.message("office_refs"), "au moins un bureau") {
			t.Fatalf("office_refs: %q", p.message("office_refs"))
		}
		p = e.do("POST", "/v1/users", a.Key, map[string]any{"email": "b@ecole.fr", "role": "bureau", "office_refs": []string{"sud"}}).wantProblem(t, http.StatusUnprocessableEntity)
		if !strings.Contains(p.message("office_refs"), "Bureau inconnu") {
			t.Fatalf("office_refs: %q", p.message("office_refs"))
		}
		var n int
		must(t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM users WHERE email = 'b@ecole.fr'").Scan(&n))
		if n != 0 {
			t.Fatal("a refused invitation wrote a person")
		}
	})

	t.Run("admin_email on POST /v1/schools invites the first gerant, who cannot be removed", func(t *testing.T) {
		var s struct {
			ID    int64  `json:"id"`
			Key   string `json:"api_key"`
			Admin struct {
				ID   int64  `json:"id"`
				Role string `json:"role"`
			} `json:"admin"`
		}
		e.do("POST", "/v1/schools", adminToken, map[string]any{"name": "Auto-école Trois", "agrement": "E0203100030", "admin_email": "Gerante@Trois.fr"}).
			want(t, http.StatusCreated).json(t, &s)
		if s.Admin.Role != "gerant" {
			t.Fatalf("admin %+v", s.Admin)
		}
		e.lastLink("gerante@trois.fr")
		p := e.do("DELETE", "/v1/users/"+itoa(s.Admin.ID), s.Key, nil).wantProblem(t, http.StatusConflict)
		if !strings.Contains(p.Detail, "dernier gérant") {
			t.Fatalf("detail %q", p.Detail)
		}
		e.do("PATCH", "/v1/users/"+itoa(s.Admin.ID), s.Key, map[string]any{"role": "lecture"}).wantProblem(t, http.StatusConflict)
		// Another school's person is not found.
		e.do("DELETE", "/v1/users/"+itoa(s.Admin.ID), a.Key, nil).wantProblem(t, http.StatusNotFound)
		e.do("POST", "/v1/schools", adminToken, map[string]any{"name": "Auto-école Quatre", "agrement": "E0203100040", "admin_email": "non"}).
			wantProblem(t, http.StatusUnprocessableEntity)
	})
}
