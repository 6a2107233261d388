package webapi_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"livret/db/dbtest"
	"livret/webapi"
)

// TestSecretsStayOutOfSight: after linking offices (centralised and decentralised), no
// RdvPermis token, school API key, OAuth state or code, password, session id or invitation
// token appears in clear in any answer of the
// API, in its logs, or in any column of any table.
func TestSecretsStayOutOfSight(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.createSchool("Auto-école Lauriane", agrementA)
	e.addAccount(emailA1, passwordA1, agrementA)
	e.addAccount("second@lauriane.fr", "pw-second", agrementA)
	for _, ref := range []string{"o1", "o2", "o3"} {
		e.put(a.Key, "/v1/offices/"+ref, map[string]any{"name": "Bureau " + ref})
	}
	seedPeople(e, a.Key, "o1")
	seedLessons(e, a.Key, "o1")

	var tokens []*oauth2.Token
	var oauthSecrets []string // states and codes
	grab := func(f linkFlow, officeRef string) {
		t.Helper()
		oauthSecrets = append(oauthSecrets, f.callback.Query().Get("state"), f.callback.Query().Get("code"))
		o := e.office(a.ID, officeRef)
		tok, err := e.srv.School.Tokens.Token(context.Background(), *o.AccountID)
		must(t, err)
		if tok.AccessToken == "" || tok.RefreshToken == "" {
			t.Fatal("no pair stored")
		}
		tokens = append(tokens, tok)
	}
	browser := e.browser()
	grab(e.linked(a.Key, "o1", false, browser, &login{emailA1, passwordA1}), "o1")
	grab(e.linked(a.Key, "o2", true, browser, nil), "o2")
	resp, err := browser.Get(e.srv.School.RdvPermisLogoutURL)
	must(t, err)
	e.read(resp)
	grab(e.linked(a.Key, "o3", true, browser, &login{"second@lauriane.fr", "pw-second"}), "o3")
	// A refused callback and a failed replay log too.
	e.do("GET", "/v1/oauth/callback?state="+oauthSecrets[0]+"&code="+oauthSecrets[1], "", nil).wantProblem(t, http.StatusBadRequest)

	// A webhook subscription: its secret is in the answer that created it, and nowhere else.
	hookBody := map[string]any{"url": "https://logiciel.example.fr/livret", "events": []string{"lesson.error"}}
	hookAnswer := e.do("PUT", "/v1/webhooks/erp", a.Key, hookBody).want(t, http.StatusCreated)
	hookSecret, _ := hookAnswer.object(t)["secret"].(string)
	hookKey, ok := strings.CutPrefix(hookSecret, "whsec_")
	if !ok {
		t.Fatalf("no webhook secret in %s", hookAnswer.body)
	}
	rawKey, err := base64.StdEncoding.DecodeString(hookKey)
	must(t, err)
	e.do("PUT", "/v1/webhooks/erp", a.Key, hookBody).want(t, http.StatusOK)
	e.do("GET", "/v1/webhooks", a.Key, nil).want(t, http.StatusOK)
	e.do("POST", "/v1/webhooks/erp/test", a.Key, nil).want(t, http.StatusAccepted)
	e.do("GET", "/v1/webhooks/erp/deliveries", a.Key, nil).want(t, http.StatusOK)

	e.do("GET", "/v1/offices", a.Key, nil).want(t, http.StatusOK)
	e.do("GET", "/v1/lessons?status=error", a.Key, nil).want(t, http.StatusOK)
	e.do("POST", "/v1/offices/o3/dsr/disconnect", a.Key, nil).want(t, http.StatusOK)

	// People: an invitation used, a sign-in, a sign-in refused. The password, the session id
	// and the link's token stay out of the logs, the answers and the tables.
	e.do("POST", "/v1/users", a.Key, map[string]any{"email": "invitee@lauriane.fr", "role": "lecture"}).want(t, http.StatusCreated)
	e.do("GET", "/v1/users", a.Key, nil).want(t, http.StatusOK)
	link := e.lastLink("invitee@lauriane.fr")
	invitation := strings.TrimPrefix(link, "/ui/invitation?token=")
	person := e.uiAgent(t)
	person.get(link).want(t, http.StatusOK)
	personPassword := "le mot de passe secret de la personne"
	person.post("/ui/invitation", url.Values{"token": {invitation}, "password": {personPassword}}, true).redirect(t, "/ui/login")
	person.login("invitee@lauriane.fr", personPassword+" faux").want(t, http.StatusUnauthorized)
	person.login("invitee@lauriane.fr", personPassword).redirect(t, webapi.OfficesPage)
	var sessionID string
	for _, c := range person.http.Jar.Cookies(mustParse(t, e.api.URL+"/ui/offices")) {
		if c.Name == "livret_session" {
			sessionID = c.Value
		}
	}
	if sessionID == "" {
		t.Fatal("no session cookie")
	}
	person.get("/ui/offices").want(t, http.StatusOK)

	// A named key: shown once by its creation, then used, listed and revoked; it too stays
	// out of everything else.
	keyAnswer := e.do("POST", "/v1/api-keys", a.Key, map[string]any{"name": "Logiciel de secours"}).want(t, http.StatusCreated)
	namedKey, _ := keyAnswer.object(t)["key"].(string)
	if len(namedKey) < 16 {
		t.Fatalf("no key in %s", keyAnswer.body)
	}
	e.do("GET", "/v1/school", namedKey, nil).want(t, http.StatusOK)
	var keyList []map[string]any
	e.do("GET", "/v1/api-keys", a.Key, nil).want(t, http.StatusOK).json(t, &keyList)
	e.do("DELETE", "/v1/api-keys/"+fmt.Sprint(keyAnswer.object(t)["id"]), a.Key, nil).want(t, http.StatusNoContent)
	e.do("GET", "/v1/school", namedKey, nil).wantProblem(t, http.StatusUnauthorized)

	// A state and a code travel through the browser by design (in the redirects): they must
	// stay out of the logs and the database; tokens and the key out of everything.
	type secret struct {
		name, value string
		inAnswers   bool // may legitimately appear in the API's answers
	}
	var secrets []secret
	for i, tok := range tokens {
		secrets = append(secrets, secret{"access token " + string(rune('1'+i)), tok.AccessToken, false},
			secret{"refresh token " + string(rune('1'+i)), tok.RefreshToken, false})
	}
	for i, s := range oauthSecrets {
		secrets = append(secrets, secret{"oauth state or code " + string(rune('1'+i)), s, true})
	}
	secrets = append(secrets, secret{"API key", a.Key, false}, secret{"webhook secret", hookSecret, false},
		secret{"webhook key", hookKey, false}, secret{"webhook key (hex)", hex.EncodeToString(rawKey), false},
		secret{"password", personPassword, false}, secret{"session id", sessionID, false}, secret{"invitation token", invitation, false},
		secret{"named API key", namedKey, false})
	// Each secret in the forms a leak would take: clear, hex (bytea columns), base64.
	forms := func(v string) []string {
		return []string{v, hex.EncodeToString([]byte(v)), base64.StdEncoding.EncodeToString([]byte(v)),
			base64.RawURLEncoding.EncodeToString([]byte(v))}
	}

	var created string // the one answer that shows the API key, once, on purpose
	for _, body := range e.answers.all() {
		if strings.Contains(body, `"api_key"`) {
			created = body
		}
	}
	if !strings.Contains(created, a.Key) {
		t.Fatal("the school's creation did not show its key")
	}
	places := map[string]string{"logs": e.logs.String(), "database": dbtest.Dump(t, e.pool, 0)}
	for i, body := range e.answers.all() {
		if body == string(hookAnswer.body) { // it shows the secret once, on purpose: nothing else
			body = strings.Replace(body, `"secret":"`+hookSecret+`"`, "", 1)
		}
		if body == string(keyAnswer.body) { // the named key's creation shows it once, on purpose
			body = strings.Replace(body, `"key":"`+namedKey+`"`, "", 1)
		}
		if body != created {
			places["answer "+string(rune('0'+i%10))+"/"+string(rune('a'+i/10%26))] = body
		}
	}
	if !strings.Contains(places["logs"], "office linked") || !strings.Contains(places["database"], "dsr_accounts") {
		t.Fatal("nothing was captured: the test would prove nothing")
	}
	for where, text := range places {
		for _, s := range secrets {
			if s.inAnswers && strings.HasPrefix(where, "answer") {
				continue
			}
			for _, form := range forms(s.value) {
				if len(s.value) >= 16 && strings.Contains(text, form) {
					t.Errorf("%s found in clear in %s", s.name, where)
				}
			}
		}
	}
}
