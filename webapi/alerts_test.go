package webapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

type settingsAnswer struct {
	Scope          string   `json:"scope"`
	AlertEmails    []string `json:"alert_emails"`
	ETPWarningDays *int     `json:"etp_warning_days"`
}

// TestETPWarningDays: a school is warned 3 days before the ETP computation unless it says
// otherwise; PATCH sets 0 (none) to 20, anything else is a 422 naming the field with nothing
// written, and the other settings stay.
func TestETPWarningDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	var s settingsAnswer
	e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK).json(t, &s)
	if s.ETPWarningDays == nil || *s.ETPWarningDays != 3 {
		t.Fatalf("a new school's etp_warning_days: %v, want 3", s.ETPWarningDays)
	}
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"etp_warning_days": 0}).want(t, http.StatusOK).json(t, &s)
	if *s.ETPWarningDays != 0 || s.Scope != "guide" {
		t.Fatalf("after PATCH 0: %+v", s)
	}
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"etp_warning_days": 7, "scope": "etendu"}).want(t, http.StatusOK).json(t, &s)
	if *s.ETPWarningDays != 7 || s.Scope != "etendu" {
		t.Fatalf("after PATCH 7: %+v", s)
	}
	before := e.snapshot(a.ID)
	for _, bad := range []any{-1, 21, 1000} {
		p := e.do("PATCH", "/v1/school", a.Key, map[string]any{"etp_warning_days": bad, "scope": "guide"}).
			wantProblem(t, http.StatusUnprocessableEntity)
		if !slices.Equal(p.fields(), []string{"etp_warning_days"}) || !strings.Contains(p.message("etp_warning_days"), "entre 0 (aucune alerte) et 20") {
			t.Fatalf("etp_warning_days %v: %v %q", bad, p.fields(), p.message("etp_warning_days"))
		}
	}
	if after := e.snapshot(a.ID); after != before {
		t.Fatalf("a refused PATCH wrote:\n%s", after)
	}
}

// TestAlertEmails: PATCH /v1/school sets the digest's alert addresses (bare, lower-cased,
// kept once), GET shows them, [] removes them; a bad address is a 422 naming
// alert_emails[i] in French, more than 10 names alert_emails, and nothing is written; the
// scope is left as it is.
func TestAlertEmails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	get := func() settingsAnswer {
		var s settingsAnswer
		e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK).json(t, &s)
		return s
	}
	if s := get(); s.AlertEmails == nil || len(s.AlertEmails) != 0 {
		t.Fatalf("a new school's alert_emails: %#v, want []", s.AlertEmails)
	}
	if raw := string(e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK).body); !strings.Contains(raw, `"alert_emails":[]`) {
		t.Fatalf("GET /v1/school: %s", raw)
	}

	var s settingsAnswer
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"alert_emails": []string{
		" Gerant@Lauriane.FR ", "Bureau Sud <sud@lauriane.fr>", "gerant@lauriane.fr",
	}}).want(t, http.StatusOK).json(t, &s)
	want := []string{"gerant@lauriane.fr", "sud@lauriane.fr"}
	if !slices.Equal(s.AlertEmails, want) || s.Scope != "guide" {
		t.Fatalf("after PATCH: %+v, want %v in scope guide", s, want)
	}
	if got := get(); !slices.Equal(got.AlertEmails, want) {
		t.Fatalf("GET after PATCH: %v", got.AlertEmails)
	}
	// A PATCH of the scope alone leaves the addresses; one of the addresses alone, the scope.
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": "etendu"}).want(t, http.StatusOK).json(t, &s)
	if !slices.Equal(s.AlertEmails, want) || s.Scope != "etendu" {
		t.Fatalf("scope PATCH: %+v", s)
	}

	t.Run("refused, nothing written", func(t *testing.T) {
		before := e.snapshot(a.ID)
		p := e.do("PATCH", "/v1/school", a.Key, map[string]any{"alert_emails": []string{"ok@lauriane.fr", "pas-une-adresse", "", "x@localhost"}}).
			wantProblem(t, http.StatusUnprocessableEntity)
		if !slices.Equal(p.fields(), []string{"alert_emails[1]", "alert_emails[2]", "alert_emails[3]"}) {
			t.Fatalf("fields %v", p.fields())
		}
		if m := p.message("alert_emails[1]"); !strings.Contains(m, "« pas-une-adresse » n'est pas une adresse e-mail valide") {
			t.Errorf("message %q", m)
		}
		if m := p.message("alert_emails[2]"); !strings.Contains(m, "Adresse e-mail vide") {
			t.Errorf("message %q", m)
		}
		eleven := make([]string, 11)
		for i := range eleven {
			eleven[i] = fmt.Sprintf("a%d@lauriane.fr", i)
		}
		p = e.do("PATCH", "/v1/school", a.Key, map[string]any{"alert_emails": eleven}).wantProblem(t, http.StatusUnprocessableEntity)
		if !slices.Equal(p.fields(), []string{"alert_emails"}) || !strings.Contains(p.message("alert_emails"), "10 adresses d'alerte au plus") {
			t.Fatalf("eleven: %+v", p)
		}
		// A bad scope and a good list: nothing of either is written.
		e.do("PATCH", "/v1/school", a.Key, map[string]any{"scope": "tout", "alert_emails": []string{}}).wantProblem(t, http.StatusUnprocessableEntity)
		// Not a list of strings: a 400.
		e.do("PATCH", "/v1/school", a.Key, map[string]any{"alert_emails": "gerant@lauriane.fr"}).wantProblem(t, http.StatusBadRequest)
		if e.snapshot(a.ID) != before || !slices.Equal(get().AlertEmails, want) {
			t.Fatal("a refused PATCH changed the school")
		}
	})

	// null leaves them; [] removes them.
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"alert_emails": nil}).want(t, http.StatusOK).json(t, &s)
	if !slices.Equal(s.AlertEmails, want) {
		t.Fatalf("null: %v", s.AlertEmails)
	}
	e.do("PATCH", "/v1/school", a.Key, map[string]any{"alert_emails": []string{}}).want(t, http.StatusOK).json(t, &s)
	if len(s.AlertEmails) != 0 {
		t.Fatalf("[]: %v", s.AlertEmails)
	}

	// Another school's addresses are its own.
	b := e.createSchool("Auto-école Bis", agrementB)
	e.do("PATCH", "/v1/school", b.Key, map[string]any{"alert_emails": []string{"bis@ecole.fr"}}).want(t, http.StatusOK)
	if got := get(); len(got.AlertEmails) != 0 {
		t.Fatalf("school B's PATCH reached school A: %v", got.AlertEmails)
	}
}

// TestUIAlertEmails: "Paramètres" shows the alert addresses one per line in their own form,
// which needs the pages' CSRF token, saves them through the same use case as the API, and
// answers a bad address with the page again, in French, naming its line, nothing written.
func TestUIAlertEmails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	emails := func() []string {
		var s settingsAnswer
		e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK).json(t, &s)
		return s.AlertEmails
	}
	admin := e.uiAgent(t)
	admin.signIn(a.Key)
	p := admin.get("/ui/parametres").want(t, http.StatusOK)
	p.has(t, `<h2 id="alertes-titre">Adresses d'alerte</h2>`, `<form method="post" action="/ui/parametres/alertes" class="card">`,
		`<label for="alert-emails">Adresses e-mail</label>`, `name="alert_emails"`, "Une adresse par ligne, 10 au plus",
		`aria-describedby="alert-emails-aide"></textarea>`,
		// The scope's form is still there, on its own.
		`<form method="post" action="/ui/parametres" class="card">`)

	t.Run("the form needs the token", func(t *testing.T) {
		admin.post("/ui/parametres/alertes", url.Values{"alert_emails": {"a@lauriane.fr"}}, false).want(t, http.StatusForbidden)
		admin.post("/ui/parametres/alertes", url.Values{"alert_emails": {"a@lauriane.fr"}, "csrf": {"pas-le-bon"}}, true).want(t, http.StatusForbidden)
		if len(emails()) != 0 {
			t.Fatal("a form without its token changed the addresses")
		}
	})
	t.Run("saved", func(t *testing.T) {
		r := admin.post("/ui/parametres/alertes", url.Values{"alert_emails": {"Gerant@Lauriane.fr\r\n\r\n  sud@lauriane.fr \r\ngerant@lauriane.fr"}}, true)
		r.redirect(t, "/ui/parametres?msg=alertes")
		if got := emails(); !slices.Equal(got, []string{"gerant@lauriane.fr", "sud@lauriane.fr"}) {
			t.Fatalf("addresses %v", got)
		}
		p := admin.get("/ui/parametres?msg=alertes").want(t, http.StatusOK)
		p.has(t, `<p class="notice success" role="status">`, "Les adresses d'alerte sont enregistrées",
			">gerant@lauriane.fr\nsud@lauriane.fr</textarea>")
	})
	t.Run("bad input", func(t *testing.T) {
		before := e.snapshot(a.ID)
		p := admin.post("/ui/parametres/alertes", url.Values{"alert_emails": {"ok@lauriane.fr\n\n<b>pirate</b>"}}, true).want(t, http.StatusBadRequest)
		p.has(t, `<div class="alert" role="alert">`, "<strong>Adresses d'alerte, ligne 3</strong> : « <b>pirate</b> » n'est pas une adresse e-mail valide",
			`aria-invalid="true">ok@lauriane.fr`, "<h1>Paramètres</h1>")
		p.hasNot(t, "voir la liste des champs", `class="notice`)
		// What was typed is shown escaped, in the message and in the textarea.
		if strings.Contains(p.raw, "<b>pirate") || strings.Count(p.raw, "&lt;b&gt;pirate&lt;/b&gt;") != 2 {
			t.Errorf("the typed text is not escaped:\n%s", p.raw)
		}
		lines := ""
		for i := range 11 {
			lines += fmt.Sprintf("a%d@lauriane.fr\n", i)
		}
		admin.post("/ui/parametres/alertes", url.Values{"alert_emails": {lines}}, true).want(t, http.StatusBadRequest).
			has(t, "<strong>Adresses d'alerte</strong> : 10 adresses d'alerte au plus")
		if e.snapshot(a.ID) != before || len(emails()) != 2 {
			t.Fatal("a refused form changed something")
		}
	})
	t.Run("emptied", func(t *testing.T) {
		admin.post("/ui/parametres/alertes", url.Values{"alert_emails": {"  \n"}}, true).redirect(t, "/ui/parametres?msg=alertes")
		if got := emails(); len(got) != 0 {
			t.Fatalf("addresses %v", got)
		}
	})
}

// TestUIETPWarning: the "Alerte ETP" form of Paramètres sets etp_warning_days behind the
// session's token; a value out of bounds is the page again with the French reason and
// nothing written.
func TestUIETPWarning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	days := func() int {
		var s settingsAnswer
		e.do("GET", "/v1/school", a.Key, nil).want(t, http.StatusOK).json(t, &s)
		return *s.ETPWarningDays
	}
	admin := e.uiAgent(t)
	admin.signIn(a.Key)
	admin.get("/ui/parametres").want(t, http.StatusOK).has(t, `<h2 id="etp-titre">Alerte ETP</h2>`,
		`<form method="post" action="/ui/parametres/etp" class="card">`, `name="etp_warning_days" min="0" max="20" value="3"`)
	admin.post("/ui/parametres/etp", url.Values{"etp_warning_days": {"5"}}, false).want(t, http.StatusForbidden)
	if days() != 3 {
		t.Fatal("a form without its token changed the warning")
	}
	admin.post("/ui/parametres/etp", url.Values{"etp_warning_days": {"5"}}, true).redirect(t, "/ui/parametres?msg=etp")
	if days() != 5 {
		t.Fatalf("etp_warning_days %d after the form, want 5", days())
	}
	admin.get("/ui/parametres?msg=etp").want(t, http.StatusOK).has(t, "L'alerte ETP est enregistrée.", `value="5"`)
	for _, bad := range []string{"21", "-2", "trois"} {
		admin.post("/ui/parametres/etp", url.Values{"etp_warning_days": {bad}}, true).want(t, http.StatusBadRequest).
			has(t, `<div class="alert" role="alert">`, "entre 0 (aucune alerte) et 20")
	}
	if days() != 5 {
		t.Fatalf("a refused form wrote: %d", days())
	}
}
