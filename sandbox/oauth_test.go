package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"livret/sandbox"
)

func TestLoginPage(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	b := browser(t)
	authURL := e.oauth().AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	resp, err := b.Get(authURL)
	must(t, err)
	page := readAll(t, resp)
	for _, want := range []string{"J'ai un compte, je me connecte", "Adresse e-mail", "Mot de passe", `name="email"`, `name="password"`, "Je me connecte", `method="post"`, `lang="fr"`,
		"Bac à sable : ceci imite la page de connexion de RdvPermis, ce n'est pas le vrai site."} {
		if !strings.Contains(page, want) && !strings.Contains(page, strings.ReplaceAll(want, "'", "&#39;")) {
			t.Errorf("login page lacks %q", want)
		}
	}
	u, _ := url.Parse(authURL)
	if !strings.Contains(page, "code_challenge=") || !strings.Contains(page, u.Path) {
		t.Error("the form must post back to the same URL, query kept")
	}

	// Wrong password: the page again, 401, with the French error and no cookie.
	resp, err = b.PostForm(authURL, url.Values{"email": {"a1@ecole-a.fr"}, "password": {"nope"}})
	must(t, err)
	page = readAll(t, resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Adresse e-mail ou mot de passe incorrect.") {
		t.Fatalf("wrong password: %d %s", resp.StatusCode, page)
	}
	if len(resp.Cookies()) != 0 {
		t.Fatal("a failed login set a cookie")
	}

	// Right password: a session cookie with the realm's path, HttpOnly.
	resp, err = b.PostForm(authURL, url.Values{"email": {"A1@ecole-a.fr "}, "password": {"pw-a1"}})
	must(t, err)
	readAll(t, resp)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "rdvpermis_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.Path != "/realms/formation" {
		t.Fatalf("session cookie = %+v", cookie)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if loc.Scheme+"://"+loc.Host+loc.Path != e.redirect || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st4te" {
		t.Fatalf("redirect = %s", loc)
	}
}

func TestAuthorizationRequestValidation(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	valid := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {e.redirect}, "state": {"s"},
		"scope": {"rdvpermis offline_access"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	cases := []struct {
		name      string
		change    func(url.Values)
		status    int
		redirErr  string // RFC 6749 error sent back to the client, for a 302
		pageMatch string
	}{
		{"valid", func(url.Values) {}, 200, "", "Je me connecte"},
		{"unknown client", func(q url.Values) { q.Set("client_id", "intrus") }, 400, "", "Client inconnu"},
		{"unregistered redirect", func(q url.Values) { q.Set("redirect_uri", "http://evil.example/cb") }, 400, "", "redirection"},
		{"redirect with an extra path", func(q url.Values) { q.Set("redirect_uri", e.redirect+"/x") }, 400, "", "redirection"},
		{"missing redirect", func(q url.Values) { q.Del("redirect_uri") }, 400, "", "redirection"},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "token") }, 302, "unsupported_response_type", ""},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge") }, 302, "invalid_request", ""},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, 302, "invalid_request", ""},
		{"no state", func(q url.Values) { q.Del("state") }, 302, "invalid_request", ""},
		{"unknown scope", func(q url.Values) { q.Set("scope", "admin") }, 302, "invalid_scope", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			for k, v := range valid {
				q[k] = append([]string(nil), v...)
			}
			tc.change(q)
			resp, err := browser(t).Get(e.ts.URL + "/realms/formation/protocol/openid-connect/auth?" + q.Encode())
			must(t, err)
			page := readAll(t, resp)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, page)
			}
			if tc.pageMatch != "" && !strings.Contains(page, tc.pageMatch) {
				t.Fatalf("page lacks %q: %s", tc.pageMatch, page)
			}
			if tc.redirErr != "" {
				loc, _ := url.Parse(resp.Header.Get("Location"))
				if !strings.HasPrefix(loc.String(), e.redirect) || loc.Query().Get("error") != tc.redirErr {
					t.Fatalf("redirect %s, want error=%s to the registered URI", loc, tc.redirErr)
				}
			}
		})
	}
}

func TestSSOAndLogout(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	b := browser(t)
	if _, sawForm := e.authorize(b, "a1@ecole-a.fr", "pw-a1", oauth2.GenerateVerifier()); !sawForm {
		t.Fatal("first authorization must show the form")
	}
	// Second office, same browser: a code straight away, for the same account.
	verifier := oauth2.GenerateVerifier()
	code, sawForm := e.authorize(b, "", "", verifier)
	if sawForm {
		t.Fatal("a logged-in browser must not see the form")
	}
	tok, err := e.oauth().Exchange(context.Background(), code, oauth2.VerifierOption(verifier))
	must(t, err)
	r := e.call(tok.AccessToken, "GET", "/api/v2/auto-ecole/moi", nil)
	if !strings.Contains(r.body, "a1@ecole-a.fr") {
		t.Fatalf("SSO code belongs to %s", r.body)
	}

	// Logout ends the session: the page, an expired cookie, then the form again.
	resp, err := b.Get(e.ts.URL + "/realms/formation/protocol/openid-connect/logout")
	must(t, err)
	if page := readAll(t, resp); resp.StatusCode != 200 || !strings.Contains(page, "Vous êtes déconnecté de RdvPermis.") {
		t.Fatalf("logout: %d %s", resp.StatusCode, page)
	}
	if _, sawForm := e.authorize(b, "b@ecole-b.fr", "pw-b", oauth2.GenerateVerifier()); !sawForm {
		t.Fatal("after logout the form must be shown again")
	}

	// A post-logout redirect is followed only to a registered client's origin.
	for target, want := range map[string]int{"http://127.0.0.1:9/bureaux": 302, "http://evil.example/": 200} {
		resp, err := b.Get(e.ts.URL + "/realms/formation/protocol/openid-connect/logout?post_logout_redirect_uri=" + url.QueryEscape(target))
		must(t, err)
		readAll(t, resp)
		if resp.StatusCode != want {
			t.Errorf("logout to %s: %d, want %d", target, resp.StatusCode, want)
		}
	}
}

// tokenCall posts to the token endpoint and decodes either answer. With basic, the client
// credentials move from the form to an HTTP Basic header (form-encoded first, RFC 6749 §2.3.1).
func (e *env) tokenCall(form url.Values, basic bool) (int, map[string]any) {
	e.t.Helper()
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if basic {
		form.Del("client_id")
		form.Del("client_secret")
	}
	req, err := http.NewRequest("POST", e.ts.URL+"/realms/formation/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	must(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basic {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	var out map[string]any
	must(e.t, json.Unmarshal([]byte(readAll(e.t, resp)), &out))
	return resp.StatusCode, out
}

func TestTokenEndpoint(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	fresh := func() (code, verifier string) {
		verifier = oauth2.GenerateVerifier()
		code, _ = e.authorize(browser(t), "a1@ecole-a.fr", "pw-a1", verifier)
		return code, verifier
	}
	codeForm := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.redirect},
			"code_verifier": {verifier}, "client_id": {clientID}, "client_secret": {clientSecret}}
	}
	cases := []struct {
		name   string
		form   func() url.Values
		basic  bool
		status int
		error  string
	}{
		{"code with secret in the form", func() url.Values { return codeForm(fresh()) }, false, 200, ""},
		{"code with HTTP Basic", func() url.Values { return codeForm(fresh()) }, true, 200, ""},
		{"wrong verifier", func() url.Values { c, _ := fresh(); return codeForm(c, oauth2.GenerateVerifier()) }, false, 400, "invalid_grant"},
		{"no verifier", func() url.Values { c, _ := fresh(); return codeForm(c, "") }, false, 400, "invalid_grant"},
		{"wrong redirect", func() url.Values { f := codeForm(fresh()); f.Set("redirect_uri", e.redirect+"x"); return f }, false, 400, "invalid_grant"},
		{"unknown code", func() url.Values { return codeForm("nope", oauth2.GenerateVerifier()) }, false, 400, "invalid_grant"},
		{"wrong secret", func() url.Values { f := codeForm(fresh()); f.Set("client_secret", "x"); return f }, false, 401, "invalid_client"},
		{"unknown client", func() url.Values { f := codeForm(fresh()); f.Set("client_id", "x"); return f }, false, 401, "invalid_client"},
		{"no client", func() url.Values { f := codeForm(fresh()); f.Del("client_id"); f.Del("client_secret"); return f }, false, 401, "invalid_client"},
		{"no grant type", func() url.Values { f := codeForm(fresh()); f.Del("grant_type"); return f }, false, 400, "invalid_request"},
		{"password grant", func() url.Values { f := codeForm(fresh()); f.Set("grant_type", "password"); return f }, false, 400, "unsupported_grant_type"},
		{"refresh without token", func() url.Values {
			return url.Values{"grant_type": {"refresh_token"}, "client_id": {clientID}, "client_secret": {clientSecret}}
		}, false, 400, "invalid_request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, out := e.tokenCall(tc.form(), tc.basic)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %v", status, tc.status, out)
			}
			if tc.error != "" {
				if out["error"] != tc.error {
					t.Fatalf("error %v, want %s", out["error"], tc.error)
				}
				return
			}
			for _, k := range []string{"access_token", "refresh_token", "scope"} {
				if s, _ := out[k].(string); s == "" {
					t.Fatalf("answer lacks %s: %v", k, out)
				}
			}
			if out["token_type"] != "Bearer" || out["expires_in"] != 300.0 || out["refresh_expires_in"] != 1800.0 {
				t.Fatalf("answer = %v", out)
			}
		})
	}
}

func TestCodeIsSingleUseAndExpires(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	code, _ := e.authorize(browser(t), "a1@ecole-a.fr", "pw-a1", verifier)
	if _, err := e.oauth().Exchange(ctx, code, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.oauth().Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("code reuse: %v, want invalid_grant", err)
	}
	code, _ = e.authorize(browser(t), "a1@ecole-a.fr", "pw-a1", verifier)
	e.clock.Advance(60 * time.Second)
	if _, err := e.oauth().Exchange(ctx, code, oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("code after 60 s: %v, want invalid_grant", err)
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

func TestRefreshRotationAndLifetime(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	e.populate()
	ctx := context.Background()
	first := e.login("a1@ecole-a.fr", "pw-a1")
	refresh := func(rt string) (*oauth2.Token, error) {
		return e.oauth().TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}
	second, err := refresh(first.RefreshToken)
	must(t, err)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatal("a refresh must rotate both tokens")
	}
	if _, err := refresh(first.RefreshToken); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("reused refresh token: %v, want invalid_grant", err)
	}
	if r := e.call(second.AccessToken, "GET", "/api/v2/auto-ecole/moi", nil); r.status != 200 {
		t.Fatalf("new access token refused: %d", r.status)
	}

	// Lifetimes follow the faults: a short refresh lifetime kills an unused refresh token.
	e.setFaults(sandbox.Faults{AccessTTLS: 5, RefreshTTLS: 20})
	third, err := refresh(second.RefreshToken)
	must(t, err)
	if third.Expiry.Sub(time.Now()) > 6*time.Second {
		t.Fatalf("access lifetime not applied: expires %s", third.Expiry)
	}
	e.clock.Advance(5 * time.Second)
	if r := e.call(third.AccessToken, "GET", "/api/v2/auto-ecole/moi", nil); r.status != 401 {
		t.Fatalf("access token after its lifetime: %d", r.status)
	}
	e.clock.Advance(15 * time.Second)
	if _, err := refresh(third.RefreshToken); !isOAuthError(err, "invalid_grant") {
		t.Fatalf("refresh token after its lifetime: %v, want invalid_grant", err)
	}
	if got := e.ledger().Refreshes; got != 4 {
		t.Fatalf("ledger counts %d refreshes, want 4", got)
	}
}
