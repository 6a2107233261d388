package webapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"livret/db/dbq"
	"livret/domain"
	livschool "livret/school"
)

// pageRoute is one route of the pages in the role × route test: the permission of the one
// policy table (domain.AccessOf) it needs, and a concrete request.
type pageRoute struct {
	perm domain.Permission
	path string     // concrete path
	form url.Values // nil for a GET
	// other is the same route on the office a bureau person is not given (empty when the
	// route names no office): it must answer exactly as an absent one, 404.
	other string
}

// TestRoleRoute is issue 18's role × route test. Every route of the router is in one of
// three tables — the API's (read from the OpenAPI document, itself checked against the
// router), the pages' open routes, the pages behind a session — so a route added without a
// row fails here. Then:
//   - the API: a school key (gerant rights) passes every school route, the operator's token
//     every operator route; a person's session opens none of them (401): the API is for keys;
//   - the pages: each role (gerant, bureau of one office, lecture) gets what
//     domain.AccessOf says — Allowed passes the door (neither 401, 403 nor 404), Forbidden is
//     a 403 page, Hidden a 404 page — and a bureau person asking for the other office gets
//     the 404 of an absent one; without a session every page sends to the sign-in page.
func TestRoleRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := linkedSchool(e)
	e.put(a.Key, "/v1/offices/roche", map[string]any{"name": "Agence de La Roche s/Yon"}).want(t, http.StatusCreated)
	seedPeople(e, a.Key, officeLauriane)
	seedLessons(e, a.Key, officeLauriane)
	e.put(a.Key, "/v1/webhooks/erp", map[string]any{"url": "https://logiciel.example.fr/livret", "events": []string{"lesson.error"}})
	ctx := context.Background()
	sc, err := e.srv.School.Authenticate(ctx, a.Key)
	must(t, err)
	target, err := e.srv.School.AddPerson(ctx, sc, livschool.PersonInput{Email: "cible@lauriane.fr", Role: "lecture"}, "le mot de passe de la cible")
	must(t, err)
	created := e.do("POST", "/v1/api-keys", a.Key, map[string]any{"name": "Logiciel de test"}).want(t, http.StatusCreated).object(t)
	keyID := fmt.Sprint(int64(created["id"].(float64)))
	person := fmt.Sprint(target.ID)

	// The pages behind a session. Order matters only for the allowed, state-changing forms
	// of the last role (gerant): removing and revoking come last.
	pages := map[string]pageRoute{
		"GET /ui/offices":                  {perm: domain.PermRead, path: "/ui/offices"},
		"GET /ui/offices/:ref/disconnect":  {perm: domain.PermLink, path: "/ui/offices/" + officeLauriane + "/disconnect", other: "/ui/offices/roche/disconnect"},
		"GET /ui/lessons":                  {perm: domain.PermRead, path: "/ui/lessons"},
		"GET /ui/lessons/export":           {perm: domain.PermRead, path: "/ui/lessons/export"},
		"GET /ui/parametres":               {perm: domain.PermSettingsRead, path: "/ui/parametres"},
		"GET /ui/webhooks":                 {perm: domain.PermSettingsRead, path: "/ui/webhooks"},
		"GET /ui/etp":                      {perm: domain.PermRead, path: "/ui/etp"},
		"GET /ui/etp/export":               {perm: domain.PermRead, path: "/ui/etp/export"},
		"GET /ui/journal":                  {perm: domain.PermAudit, path: "/ui/journal"},
		"GET /ui/cles":                     {perm: domain.PermKeys, path: "/ui/cles"},
		"GET /ui/personnes":                {perm: domain.PermPeople, path: "/ui/personnes"},
		"POST /ui/offices/:ref/connect":    {perm: domain.PermLink, path: "/ui/offices/" + officeLauriane + "/connect", form: url.Values{"confirm": {"1"}}, other: "/ui/offices/roche/connect"},
		"POST /ui/lessons/:ref/resend":     {perm: domain.PermSend, path: "/ui/lessons/l-1000/resend", form: url.Values{}},
		"POST /ui/lessons/resend":          {perm: domain.PermSend, path: "/ui/lessons/resend", form: url.Values{}},
		"POST /ui/parametres":              {perm: domain.PermSettings, path: "/ui/parametres", form: url.Values{"scope": {"guide"}}},
		"POST /ui/parametres/alertes":      {perm: domain.PermSettings, path: "/ui/parametres/alertes", form: url.Values{"alert_emails": {"alertes@lauriane.fr"}}},
		"POST /ui/parametres/etp":          {perm: domain.PermSettings, path: "/ui/parametres/etp", form: url.Values{"etp_warning_days": {"3"}}},
		"POST /ui/webhooks/:ref/test":      {perm: domain.PermSettings, path: "/ui/webhooks/erp/test", form: url.Values{}},
		"POST /ui/cles":                    {perm: domain.PermKeys, path: "/ui/cles", form: url.Values{"name": {"Clé du test"}}},
		"POST /ui/personnes":               {perm: domain.PermPeople, path: "/ui/personnes", form: url.Values{"email": {"nouvelle@lauriane.fr"}, "role": {"lecture"}}},
		"POST /ui/personnes/:id/role":      {perm: domain.PermPeople, path: "/ui/personnes/" + person + "/role", form: url.Values{"role": {"lecture"}}},
		"POST /ui/offices/:ref/disconnect": {perm: domain.PermLink, path: "/ui/offices/" + officeLauriane + "/disconnect", form: url.Values{}, other: "/ui/offices/roche/disconnect"},
		"POST /ui/webhooks/:ref/delete":    {perm: domain.PermSettings, path: "/ui/webhooks/erp/delete", form: url.Values{}},
		"POST /ui/personnes/:id/retirer":   {perm: domain.PermPeople, path: "/ui/personnes/" + person + "/retirer", form: url.Values{}},
		"POST /ui/cles/:id/revoquer":       {perm: domain.PermKeys, path: "/ui/cles/" + keyID + "/revoquer", form: url.Values{"confirm": {"1"}}},
		"POST /ui/logout":                  {path: "/ui/logout", form: url.Values{}}, // any person: checked apart
	}
	// Open routes: no session needed (sign-in, help, the e-mailed links, static files).
	open := map[string]string{
		"GET /ui": "", "GET /ui/login": "", "POST /ui/login": "", "GET /ui/aide": "",
		"GET /ui/mot-de-passe-oublie": "", "POST /ui/mot-de-passe-oublie": "",
		"GET " + livschool.InvitationPath: "", "POST " + livschool.InvitationPath: "",
		"GET " + livschool.ResetPath: "", "POST " + livschool.ResetPath: "",
		"GET /ui/static/*file": "", "HEAD /ui/static/*file": "",
		"GET /healthz": "", "GET /readyz": "", "GET /metrics": "", "GET /openapi.json": "",
		"GET /v1/oauth/callback": "", // RdvPermis brings the browser back: the state is the authority
	}

	// The API's routes, from its document (TestOpenAPI holds the document to the router).
	var doc struct {
		Paths map[string]map[string]struct {
			Security []map[string][]string `json:"security"`
		} `json:"paths"`
	}
	must(t, json.Unmarshal(e.do("GET", "/openapi.json", "", nil).body, &doc))
	type apiRoute struct{ method, path, pattern string }
	var schoolRoutes, operatorRoutes []apiRoute
	api := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			pattern := strings.NewReplacer("{ref}", ":ref", "{id}", ":id").Replace(path)
			route := apiRoute{strings.ToUpper(method), strings.NewReplacer("{ref}", "x", "{id}", "999999").Replace(path), pattern}
			api[route.method+" "+pattern] = true
			for _, sec := range op.Security {
				if _, ok := sec["operatorToken"]; ok {
					operatorRoutes = append(operatorRoutes, route)
				} else {
					schoolRoutes = append(schoolRoutes, route)
				}
			}
		}
	}
	sort.Slice(schoolRoutes, func(i, j int) bool {
		return schoolRoutes[i].method+schoolRoutes[i].path < schoolRoutes[j].method+schoolRoutes[j].path
	})

	// Every route of the router is in one table.
	engine, ok := e.srv.Handler().(*gin.Engine)
	if !ok {
		t.Fatal("the handler is not the gin engine")
	}
	for _, r := range engine.Routes() {
		k := r.Method + " " + r.Path
		if _, inPages := pages[k]; !inPages && !api[k] {
			if _, isOpen := open[k]; !isOpen {
				t.Errorf("route %s is in no table of the role × route test: give it its permission", k)
			}
		}
	}

	// People of each role; bureau is given the linked office only.
	people := map[domain.Role]*uiAgent{}
	for _, role := range []domain.Role{domain.RoleLecture, domain.RoleBureau, domain.RoleGerant} {
		ag := e.uiAgent(t)
		if role == domain.RoleBureau {
			ag.signInAs(a.Key, string(role), officeLauriane)
		} else {
			ag.signInAs(a.Key, string(role))
		}
		people[role] = ag
	}
	anon := e.uiAgent(t)

	t.Run("API", func(t *testing.T) {
		for _, r := range schoolRoutes {
			if got := e.do(r.method, r.path, a.Key, `{}`); got.status == http.StatusUnauthorized || got.status == http.StatusForbidden {
				t.Errorf("%s %s with the school key: %d, want past the door (the key has gerant rights)", r.method, r.path, got.status)
			}
		}
		for _, r := range operatorRoutes {
			if got := e.do(r.method, r.path, adminToken, `{}`); got.status == http.StatusUnauthorized || got.status == http.StatusForbidden {
				t.Errorf("%s %s with the operator's token: %d", r.method, r.path, got.status)
			}
		}
		// A person's session (its cookie sent as a browser would, and no key) opens no route
		// of the API, whatever the role.
		for role, ag := range people {
			for _, r := range append(append([]apiRoute{}, schoolRoutes...), operatorRoutes...) {
				req, err := http.NewRequest(r.method, e.api.URL+r.path, strings.NewReader(`{}`))
				must(t, err)
				req.Header.Set("Content-Type", "application/json")
				for _, c := range ag.http.Jar.Cookies(mustParse(t, e.api.URL+"/ui")) {
					req.AddCookie(c)
				}
				if got := ag.do(req); got.status != http.StatusUnauthorized {
					t.Errorf("%s %s with a %s's session: %d, want 401", r.method, r.path, role, got.status)
				}
			}
		}
	})

	t.Run("pages", func(t *testing.T) {
		keys := make([]string, 0, len(pages))
		for k := range pages {
			keys = append(keys, k)
		}
		// GETs first, then the forms in the table's order of harm (removal and revocation last).
		last := map[string]int{"POST /ui/offices/:ref/disconnect": 1, "POST /ui/webhooks/:ref/delete": 2,
			"POST /ui/personnes/:id/retirer": 3, "POST /ui/cles/:id/revoquer": 4, "POST /ui/logout": 5}
		sort.Slice(keys, func(i, j int) bool {
			li, lj := last[keys[i]], last[keys[j]]
			if li != lj {
				return li < lj
			}
			return keys[i] < keys[j]
		})
		send := func(ag *uiAgent, p pageRoute, path string) uiPage {
			if p.form == nil {
				return ag.get(path)
			}
			form := url.Values{}
			for k, v := range p.form {
				form[k] = v
			}
			return ag.post(path, form, true)
		}
		for _, k := range keys {
			p := pages[k]
			if got := send(anon, p, p.path); got.status != http.StatusSeeOther || got.header.Get("Location") != "/ui/login" {
				t.Errorf("%s without a session: %d %q, want a 303 to the sign-in page", k, got.status, got.header.Get("Location"))
			}
			if p.perm == "" {
				continue
			}
			for _, role := range []domain.Role{domain.RoleLecture, domain.RoleBureau, domain.RoleGerant} {
				ag := people[role]
				if role == domain.RoleBureau && p.other != "" {
					if got := send(ag, p, p.other); got.status != http.StatusNotFound {
						t.Errorf("%s on the other office as bureau: %d, want the 404 of an absent office", k, got.status)
					}
				}
				got := send(ag, p, p.path)
				switch access := domain.AccessOf(role, p.perm); access {
				case domain.Allowed:
					if got.status == http.StatusUnauthorized || got.status == http.StatusForbidden || got.status == http.StatusNotFound ||
						got.status >= 500 || got.header.Get("Location") == "/ui/login" {
						t.Errorf("%s as %s (%s allowed): %d %s", k, role, p.perm, got.status, got.header.Get("Location"))
					}
				case domain.Forbidden:
					if got.status != http.StatusForbidden {
						t.Errorf("%s as %s (%s forbidden): %d, want 403", k, role, p.perm, got.status)
					}
				default:
					if got.status != http.StatusNotFound {
						t.Errorf("%s as %s (%s hidden): %d, want 404", k, role, p.perm, got.status)
					}
				}
				if got.status == http.StatusForbidden || got.status == http.StatusNotFound {
					wantFrenchPage(t, got, got.status)
				}
			}
		}
		// Every person may sign out; afterwards the pages send them to the sign-in page.
		for role, ag := range people {
			ag.get("/ui/offices")
			if got := ag.post("/ui/logout", url.Values{}, true); got.status != http.StatusSeeOther {
				t.Errorf("logout as %s: %d", role, got.status)
			}
			ag.get("/ui/offices").redirect(t, "/ui/login")
		}
	})

	// gerant's allowed forms did act: the person is removed, the key revoked.
	if _, err := dbq.New(e.pool).UserByEmail(ctx, "cible@lauriane.fr"); err == nil {
		t.Error("the removed person is still there")
	}
	e.do("GET", "/v1/school", created["key"].(string), nil).wantProblem(t, http.StatusUnauthorized)
}
