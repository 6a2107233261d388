package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"livret/sandbox"
)

// tokens of the populated env's accounts.
type tokens struct{ a1, a2, b string }

func (e *env) tokens() tokens {
	return tokens{
		a1: e.login("a1@ecole-a.fr", "pw-a1").AccessToken,
		a2: e.login("a2@ecole-a.fr", "pw-a2").AccessToken,
		b:  e.login("b@ecole-b.fr", "pw-b").AccessToken,
	}
}

func lessonPath(id string) string { return "/api/v1/contrats-formation/" + id + "/lecons" }

func withLesson(hour int, change func(map[string]string)) map[string]string {
	b := lessonBody(hour)
	if change != nil {
		change(b)
	}
	return b
}

func TestErrorCatalogueOverHTTP(t *testing.T) {
	type request struct {
		token, method, path string
		body                any
	}
	closeA := func(e *env) { must(e.t, e.ctl.SetSchoolStatus(context.Background(), agrementA, sandbox.StatutFermee)) }
	cases := []struct {
		name   string
		setup  func(e *env, tk tokens) request
		status int
		code   string // "" for a success
	}{
		{"contract created", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", "/api/v1/contrats-formation", map[string]string{"neph": nephDupont, "nom": " dupont-lefevre ", "prenom": "Léa", "categorie": "B"}}
		}, 201, ""},
		{"CONTRAT_DEJA_CONNU with another school", func(e *env, tk tokens) request {
			e.contract(tk.a1)
			return request{tk.b, "POST", "/api/v1/contrats-formation", map[string]string{"neph": nephDupont, "nom": "DUPONT-LEFÈVRE", "prenom": "Léa", "categorie": "B"}}
		}, 409, "CONTRAT_DEJA_CONNU"},
		{"AUTO_ECOLE_FERMEE on a contract", func(e *env, tk tokens) request {
			closeA(e)
			return request{tk.a1, "POST", "/api/v1/contrats-formation", map[string]string{"neph": nephDupont, "nom": "DUPONT-LEFEVRE", "prenom": "Léa", "categorie": "B"}}
		}, 403, "AUTO_ECOLE_FERMEE"},
		{"AUTO_ECOLE_FERMEE on a contract search", func(e *env, tk tokens) request {
			closeA(e)
			return request{tk.a2, "GET", "/api/v1/contrats-formation?neph=" + nephDupont, nil}
		}, 403, "AUTO_ECOLE_FERMEE"},
		{"AUTO_ECOLE_FERMEE on a lesson", func(e *env, tk tokens) request {
			id := e.contract(tk.a1)
			closeA(e)
			return request{tk.a1, "POST", lessonPath(id), lessonBody(10)}
		}, 403, "AUTO_ECOLE_FERMEE"},
		{"AUTO_ECOLE_FERMEE on a lesson list", func(e *env, tk tokens) request {
			id := e.contract(tk.a1)
			closeA(e)
			return request{tk.a1, "GET", lessonPath(id) + "?du=2024-06-01&au=2024-06-30", nil}
		}, 403, "AUTO_ECOLE_FERMEE"},
		{"ELEVE_INTROUVABLE: wrong name", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", "/api/v1/contrats-formation", map[string]string{"neph": nephDupont, "nom": "DURAND", "prenom": "Léa", "categorie": "B"}}
		}, 404, "ELEVE_INTROUVABLE"},
		{"ELEVE_INTROUVABLE: unknown NEPH", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", "/api/v1/contrats-formation", map[string]string{"neph": "999999999999", "nom": "DUPONT-LEFEVRE", "prenom": "Léa", "categorie": "B"}}
		}, 404, "ELEVE_INTROUVABLE"},
		{"CATEGORIE_SANS_DEMANDE", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", "/api/v1/contrats-formation", map[string]string{"neph": nephDupont, "nom": "DUPONT-LEFEVRE", "prenom": "Léa", "categorie": "A2"}}
		}, 422, "CATEGORIE_SANS_DEMANDE"},
		{"lesson stored", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), lessonBody(10)}
		}, 201, ""},
		{"lesson declared by another account of the same school", func(e *env, tk tokens) request {
			return request{tk.a2, "POST", lessonPath(e.contract(tk.a1)), lessonBody(10)}
		}, 201, ""},
		{"lesson ending exactly now", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) {
				b["debut"], b["fin"] = sandboxNow.Add(-time.Hour).Format(time.RFC3339), sandboxNow.Format(time.RFC3339)
			})}
		}, 201, ""},
		{"LECON_FUTURE", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) {
				b["debut"], b["fin"] = sandboxNow.Add(-time.Hour).Format(time.RFC3339), sandboxNow.Add(time.Second).Format(time.RFC3339)
			})}
		}, 422, "LECON_FUTURE"},
		{"DUREE_INVALIDE: 25 min", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["fin"] = "2024-06-10T10:25:00+02:00" })}
		}, 422, "DUREE_INVALIDE"},
		{"DUREE_INVALIDE: 241 min", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["fin"] = "2024-06-10T14:01:00+02:00" })}
		}, 422, "DUREE_INVALIDE"},
		{"DUREE_INVALIDE: end before start", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["fin"] = "2024-06-10T09:00:00+02:00" })}
		}, 422, "DUREE_INVALIDE"},
		{"exactly 30 min", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["fin"] = "2024-06-10T10:30:00+02:00" })}
		}, 201, ""},
		{"exactly 240 min", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["fin"] = "2024-06-10T14:00:00+02:00" })}
		}, 201, ""},
		{"CONTRAT_NON_AUTORISE on a lesson", func(e *env, tk tokens) request {
			return request{tk.b, "POST", lessonPath(e.contract(tk.a1)), lessonBody(10)}
		}, 403, "CONTRAT_NON_AUTORISE"},
		{"CONTRAT_NON_AUTORISE wins over a closed school", func(e *env, tk tokens) request {
			id := e.contract(tk.a1)
			must(e.t, e.ctl.SetSchoolStatus(context.Background(), agrementB, sandbox.StatutFermee))
			return request{tk.b, "POST", lessonPath(id), lessonBody(10)}
		}, 403, "CONTRAT_NON_AUTORISE"},
		{"CONTRAT_NON_AUTORISE on a lesson list", func(e *env, tk tokens) request {
			return request{tk.b, "GET", lessonPath(e.contract(tk.a1)) + "?du=2024-06-01&au=2024-06-30", nil}
		}, 403, "CONTRAT_NON_AUTORISE"},
		{"LECON_EN_DOUBLON", func(e *env, tk tokens) request {
			id := e.contract(tk.a1)
			e.call(tk.a1, "POST", lessonPath(id), lessonBody(10))
			return request{tk.a2, "POST", lessonPath(id), withLesson(10, func(b map[string]string) { b["fin"] = "2024-06-10T11:30:00+02:00" })}
		}, 409, "LECON_EN_DOUBLON"},
		{"LECON_EN_DOUBLON: same instant written in UTC", func(e *env, tk tokens) request {
			id := e.contract(tk.a1)
			e.call(tk.a1, "POST", lessonPath(id), lessonBody(10))
			return request{tk.a1, "POST", lessonPath(id), withLesson(10, func(b map[string]string) {
				b["debut"], b["fin"] = "2024-06-10T08:00:00Z", "2024-06-10T09:00:00Z"
			})}
		}, 409, "LECON_EN_DOUBLON"},
		{"FORMAT_AUTORISATION_INVALIDE: not normalised", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["numero_autorisation_formateur"] = "A 12.345.678.90" })}
		}, 422, "FORMAT_AUTORISATION_INVALIDE"},
		{"FORMAT_AUTORISATION_INVALIDE: lower case", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["numero_autorisation_formateur"] = "a1234567890" })}
		}, 422, "FORMAT_AUTORISATION_INVALIDE"},
		{"FORMAT_AUTORISATION_INVALIDE: wrong letter", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["numero_autorisation_formateur"] = "B1234567890" })}
		}, 422, "FORMAT_AUTORISATION_INVALIDE"},
		{"generic simulator number accepted", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) {
				b["numero_autorisation_formateur"], b["type"] = "A0000000000", "SIMULATEUR"
			})}
		}, 201, ""},
		{"type outside every DSR type", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["type"] = "CODE" })}
		}, 400, "REQUETE_INVALIDE"},
		{"TYPE_NON_AUTORISE: a two-wheel type on a B contract", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath(e.contract(tk.a1)), withLesson(10, func(b map[string]string) { b["type"] = "PLATEAU" })}
		}, 422, "TYPE_NON_AUTORISE"},
		{"CONTRAT_INTROUVABLE", func(e *env, tk tokens) request {
			return request{tk.a1, "POST", lessonPath("CF-0000"), lessonBody(10)}
		}, 404, "CONTRAT_INTROUVABLE"},
		{"CONTRAT_INTROUVABLE on a list", func(e *env, tk tokens) request {
			return request{tk.a1, "GET", lessonPath("CF-0000") + "?du=2024-06-01&au=2024-06-30", nil}
		}, 404, "CONTRAT_INTROUVABLE"},
		{"TOKEN_INVALIDE: no token", func(e *env, tk tokens) request {
			return request{"", "GET", "/api/v2/auto-ecole/moi", nil}
		}, 401, "TOKEN_INVALIDE"},
		{"TOKEN_INVALIDE: unknown token", func(e *env, tk tokens) request {
			return request{"not-a-token", "GET", "/api/v2/auto-ecole/moi", nil}
		}, 401, "TOKEN_INVALIDE"},
		{"TOKEN_INVALIDE: expired token", func(e *env, tk tokens) request {
			e.clock.Advance(sandbox.DefaultAccessTTL)
			return request{tk.a1, "GET", "/api/v2/auto-ecole/moi", nil}
		}, 401, "TOKEN_INVALIDE"},
		{"TROP_DE_REQUETES", func(e *env, tk tokens) request {
			e.setFaults(sandbox.Faults{RateLimitPerMin: sandbox.Int(1)})
			e.call(tk.a1, "GET", "/api/v2/auto-ecole/moi", nil)
			return request{tk.a1, "GET", "/api/v2/auto-ecole/moi", nil}
		}, 429, "TROP_DE_REQUETES"},
	}
	// Every row of the error table must be reached over HTTP at least once.
	reached := map[string]bool{}
	for _, tc := range cases {
		reached[tc.code] = true
	}
	for code := range errorTable {
		if !reached[code] {
			t.Errorf("no case answers %s", code)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{})
			e.populate()
			req := tc.setup(e, e.tokens())
			r := e.call(req.token, req.method, req.path, req.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d (body %s)", r.status, tc.status, r.body)
			}
			if tc.code == "" {
				return
			}
			code, message := r.errorBody(t)
			if code != tc.code {
				t.Fatalf("code %s, want %s", code, tc.code)
			}
			if tc.code == "REQUETE_INVALIDE" {
				if !strings.Contains(message, "« type »") {
					t.Fatalf("message %q does not name the field", message)
				}
				return
			}
			want, ok := errorTable[tc.code]
			if !ok {
				t.Fatalf("%s is not in the error table", tc.code)
			}
			if r.status != want.status {
				t.Fatalf("status %d disagrees with the error table's %d", r.status, want.status)
			}
			if message != want.message {
				t.Fatalf("message %q, want %q", message, want.message)
			}
		})
	}
}

func TestMalformedRequestsAre400(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken
	id := e.contract(tk)
	validContract := `{"neph":"123456789012","nom":"X","prenom":"Y","categorie":"B"}`
	cases := []struct {
		name, path, body, mentions string
	}{
		{"empty body", "/api/v1/contrats-formation", ``, "vide"},
		{"bad JSON", "/api/v1/contrats-formation", `{"neph":`, "JSON"},
		{"not an object", "/api/v1/contrats-formation", `["neph"]`, "objet"},
		{"missing field", "/api/v1/contrats-formation", `{"neph":"123456789012","nom":"X","prenom":"Y"}`, "« categorie »"},
		{"null field", "/api/v1/contrats-formation", `{"neph":null,"nom":"X","prenom":"Y","categorie":"B"}`, "« neph »"},
		{"wrong type", "/api/v1/contrats-formation", `{"neph":123456789012,"nom":"X","prenom":"Y","categorie":"B"}`, "« neph »"},
		{"unknown field", "/api/v1/contrats-formation", strings.Replace(validContract, "{", `{"age":17,`, 1), "« age »"},
		{"trailing garbage", "/api/v1/contrats-formation", validContract + `}`, "JSON"},
		{"too large", "/api/v1/contrats-formation", `{"nom":"` + strings.Repeat("x", 70<<10) + `"}`, "volumineux"},
		{"lesson date without offset", lessonPath(id), `{"debut":"2024-06-10T10:00:00","fin":"2024-06-10T11:00:00+02:00","type":"CONDUITE","numero_autorisation_formateur":"A1234567890","nom_formateur":"M","prenom_formateur":"P"}`, "« debut »"},
		{"lesson date as a number", lessonPath(id), `{"debut":1718000000,"fin":"2024-06-10T11:00:00+02:00","type":"CONDUITE","numero_autorisation_formateur":"A1234567890","nom_formateur":"M","prenom_formateur":"P"}`, "« debut »"},
		{"lesson missing instructor", lessonPath(id), `{"debut":"2024-06-10T10:00:00+02:00","fin":"2024-06-10T11:00:00+02:00","type":"CONDUITE","numero_autorisation_formateur":"A1234567890","prenom_formateur":"P"}`, "« nom_formateur »"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(tk, "POST", tc.path, tc.body)
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 (body %s)", r.status, r.body)
			}
			code, message := r.errorBody(t)
			if code != string(sandbox.CodeRequeteInvalide) || !strings.Contains(message, tc.mentions) {
				t.Fatalf("got %s %q, want REQUETE_INVALIDE mentioning %q", code, message, tc.mentions)
			}
		})
	}
	for _, q := range []string{"", "?du=2024-06-01", "?du=2024-06-01&au=30/06/2024"} {
		if r := e.call(tk, "GET", lessonPath(id)+q, nil); r.status != http.StatusBadRequest {
			t.Errorf("list with %q: status %d, want 400", q, r.status)
		}
	}
	if r := e.call(tk, "GET", "/api/v1/contrats-formation", nil); r.status != http.StatusBadRequest {
		t.Errorf("contract search without neph: status %d, want 400", r.status)
	}
	if len(e.ledger().Lessons) != 0 {
		t.Fatal("a malformed request stored something")
	}
}

func TestMeAndContractVisibility(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.tokens()

	var me struct {
		CompteID  string                                 `json:"compte_id"`
		Email     string                                 `json:"email"`
		AutoEcole struct{ Agrement, Nom, Statut string } `json:"auto_ecole"`
	}
	r := e.call(tk.a1, "GET", "/api/v2/auto-ecole/moi", nil)
	must(t, json.Unmarshal([]byte(r.body), &me))
	if r.status != 200 || me.Email != "a1@ecole-a.fr" || me.CompteID == "" || me.AutoEcole.Agrement != agrementA ||
		me.AutoEcole.Nom != "Auto-école A" || me.AutoEcole.Statut != "ouverte" {
		t.Fatalf("moi = %d %+v", r.status, me)
	}

	id := e.contract(tk.a1)
	find := func(token string) []map[string]string {
		r := e.call(token, "GET", "/api/v1/contrats-formation?neph="+nephDupont, nil)
		if r.status != 200 {
			t.Fatalf("search: %d %s", r.status, r.body)
		}
		var out []map[string]string
		must(t, json.Unmarshal([]byte(r.body), &out))
		return out
	}
	if got := find(tk.a2); len(got) != 1 || got[0]["id_contrat"] != id || got[0]["neph"] != nephDupont || got[0]["categorie"] != "B" || got[0]["nom"] == "" {
		t.Fatalf("another account of the same school sees %v", got)
	}
	if got := find(tk.b); len(got) != 0 {
		t.Fatalf("another school sees %v", got)
	}
}

func TestListLessonsByParisDate(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	tk := e.login("a1@ecole-a.fr", "pw-a1").AccessToken
	id := e.contract(tk)
	// 00:30 on 11 June in Paris is still 10 June in UTC: the list goes by the Paris date.
	starts := []string{"2024-06-09T10:00:00+02:00", "2024-06-10T23:00:00+02:00", "2024-06-11T00:30:00+02:00", "2024-06-12T08:00:00+02:00"}
	for _, s := range starts {
		start, _ := time.Parse(time.RFC3339, s)
		b := withLesson(10, func(b map[string]string) {
			b["debut"], b["fin"] = s, start.Add(time.Hour).Format(time.RFC3339)
		})
		if r := e.call(tk, "POST", lessonPath(id), b); r.status != 201 {
			t.Fatalf("%s: %d %s", s, r.status, r.body)
		}
	}
	r := e.call(tk, "GET", lessonPath(id)+"?du=2024-06-10&au=2024-06-11", nil)
	var got []map[string]string
	must(t, json.Unmarshal([]byte(r.body), &got))
	if len(got) != 2 || got[0]["debut"] != starts[1] || got[1]["debut"] != starts[2] {
		t.Fatalf("10–11 June = %v", got)
	}
	if got[0]["id_lecon"] == "" || got[0]["type"] != "CONDUITE" || got[0]["numero_autorisation_formateur"] != "A1234567890" || got[0]["fin"] != "2024-06-11T00:00:00+02:00" {
		t.Fatalf("lesson fields: %v", got[0])
	}
	r = e.call(tk, "GET", lessonPath(id)+"?du=2024-06-13&au=2024-06-30", nil)
	if r.status != 200 || strings.TrimSpace(r.body) != "[]" {
		t.Fatalf("empty range = %d %s, want []", r.status, r.body)
	}
}
