package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const (
	// sessionCookie is RdvPermis's login session: the browser holding it gets codes without
	// a password (how a second office links to the same account).
	sessionCookie = "rdvpermis_session"
	realmPath     = "/realms/formation"
	// codeTTL is how long an authorization code may wait before its exchange.
	codeTTL = 60 * time.Second
)

// knownScopes are the scopes the realm grants.
var knownScopes = map[string]bool{
	"openid": true, "profile": true, "email": true, "offline_access": true,
	"rdvpermis": true, "livret_numerique:read": true, "livret_numerique:write": true,
}

// authRequest is a validated authorization request.
type authRequest struct {
	clientID    string
	redirectURI string
	state       string
	scope       string
	challenge   string
}

// authRefusal is why an authorization request is refused. A fatal refusal (unknown client,
// unregistered redirect URI) is shown as a page: redirecting to an unverified URI would make
// the realm an open redirector. Others go back to the client as RFC 6749 §4.1.2.1 errors.
type authRefusal struct {
	fatal       bool
	page        string // French text of the error page (fatal)
	code        string // RFC 6749 error (redirected)
	description string
}

func (s *Server) parseAuthRequest(q url.Values) (authRequest, *authRefusal) {
	req := authRequest{
		clientID:    q.Get("client_id"),
		redirectURI: q.Get("redirect_uri"),
		state:       q.Get("state"),
		scope:       q.Get("scope"),
		challenge:   q.Get("code_challenge"),
	}
	s.mu.Lock()
	client := s.st.Clients[req.clientID]
	s.mu.Unlock()
	if client == nil {
		return req, &authRefusal{fatal: true, page: "Client inconnu : ce logiciel n'est pas enregistré auprès de RdvPermis."}
	}
	if !containsExact(client.RedirectURIs, req.redirectURI) {
		return req, &authRefusal{fatal: true, page: "Adresse de redirection invalide : elle n'est pas enregistrée pour ce logiciel."}
	}
	if q.Get("response_type") != "code" {
		return req, &authRefusal{code: "unsupported_response_type", description: "only response_type=code is supported"}
	}
	if req.challenge == "" || q.Get("code_challenge_method") != "S256" {
		return req, &authRefusal{code: "invalid_request", description: "PKCE with code_challenge_method=S256 is required"}
	}
	if req.state == "" {
		return req, &authRefusal{code: "invalid_request", description: "state is required"}
	}
	for _, sc := range strings.Fields(req.scope) {
		if !knownScopes[sc] {
			return req, &authRefusal{code: "invalid_scope", description: "unknown scope " + sc}
		}
	}
	return req, nil
}

func containsExact(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Server) refuseAuthorization(w http.ResponseWriter, r *http.Request, req authRequest, why *authRefusal) {
	if why.fatal {
		renderPage(w, http.StatusBadRequest, "message", messagePage{Title: "Requête refusée", Text: why.page})
		return
	}
	q := url.Values{"error": {why.code}, "error_description": {why.description}}
	if req.state != "" {
		q.Set("state", req.state)
	}
	http.Redirect(w, r, withQuery(req.redirectURI, q), http.StatusFound)
}

// withQuery adds parameters to a URL, keeping the ones it already has.
func withQuery(raw string, add url.Values) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k, vs := range add {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// handleAuthorize shows the login page, or sends a browser already logged in straight back
// with a code.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	req, why := s.parseAuthRequest(r.URL.Query())
	if why != nil {
		s.refuseAuthorization(w, r, req, why)
		return
	}
	if compteID := s.sessionAccount(r); compteID != "" {
		s.redirectWithCode(w, r, req, compteID)
		return
	}
	renderPage(w, http.StatusOK, "login", loginPage{Action: r.URL.RequestURI()})
}

// handleLogin checks the login form, opens a login session and sends the browser back with a code.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	req, why := s.parseAuthRequest(r.URL.Query())
	if why != nil {
		s.refuseAuthorization(w, r, req, why)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		renderPage(w, http.StatusBadRequest, "message", messagePage{Title: "Requête refusée", Text: "Le formulaire de connexion est illisible."})
		return
	}
	email := r.PostForm.Get("email")
	compteID := s.checkPassword(email, r.PostForm.Get("password"))
	if compteID == "" {
		renderPage(w, http.StatusUnauthorized, "login", loginPage{
			Action: r.URL.RequestURI(), Email: email, Error: "Adresse e-mail ou mot de passe incorrect.",
		})
		return
	}
	sid := newSecret()
	s.mu.Lock()
	if old, err := r.Cookie(sessionCookie); err == nil {
		delete(s.st.Sessions, secretKey(old.Value)) // a new login replaces the browser's session
	}
	s.st.Sessions[secretKey(sid)] = &session{CompteID: compteID, Since: s.now()}
	s.mu.Unlock()
	s.changed()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: sid, Path: realmPath,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil,
	})
	s.log.Info("sandbox: login", "compte_id", compteID, "client_id", req.clientID)
	s.redirectWithCode(w, r, req, compteID)
}

// checkPassword returns the account's id when the credentials are right, "" otherwise.
func (s *Server) checkPassword(email, password string) string {
	s.mu.Lock()
	acct := s.st.accountByEmail[normalizeEmail(email)]
	s.mu.Unlock()
	if acct == nil || subtle.ConstantTimeCompare([]byte(acct.Password), []byte(password)) != 1 {
		return ""
	}
	return acct.CompteID
}

// sessionAccount is the account of the browser's login session, "" when it has none.
func (s *Server) sessionAccount(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.st.Sessions[secretKey(c.Value)]
	if sess == nil || s.st.Accounts[sess.CompteID] == nil {
		return ""
	}
	return sess.CompteID
}

func (s *Server) redirectWithCode(w http.ResponseWriter, r *http.Request, req authRequest, compteID string) {
	code := newSecret()
	s.mu.Lock()
	s.st.Codes[secretKey(code)] = &authCode{
		ClientID: req.clientID, RedirectURI: req.redirectURI, CodeChallenge: req.challenge,
		CompteID: compteID, Scope: req.scope, ExpiresAt: s.now().Add(codeTTL),
	}
	s.mu.Unlock()
	s.changed()
	http.Redirect(w, r, withQuery(req.redirectURI, url.Values{"code": {code}, "state": {req.state}}), http.StatusFound)
}

// handleLogout ends the login session, then shows a page or follows a post-logout redirect
// whose origin is one of a registered client's.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		s.mu.Lock()
		delete(s.st.Sessions, secretKey(c.Value))
		s.mu.Unlock()
		s.changed()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: realmPath, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	if target := r.FormValue("post_logout_redirect_uri"); target != "" && s.registeredOrigin(target) {
		http.Redirect(w, r, target, http.StatusFound)
		return
	}
	renderPage(w, http.StatusOK, "message", messagePage{Title: "Déconnexion", Text: "Vous êtes déconnecté de RdvPermis."})
}

func (s *Server) registeredOrigin(target string) bool {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.st.Clients {
		for _, raw := range c.RedirectURIs {
			if ru, err := url.Parse(raw); err == nil && ru.Scheme == u.Scheme && ru.Host == u.Host {
				return true
			}
		}
	}
	return false
}

// tokenResponse is RFC 6749 §5.1 with Keycloak's refresh_expires_in.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	RefreshToken     string `json:"refresh_token"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	Scope            string `json:"scope"`
}

// tokenError answers an RFC 6749 §5.2 error.
func tokenError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="formation"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	if err := r.ParseForm(); err != nil {
		tokenError(w, http.StatusBadRequest, "invalid_request", "unreadable form")
		return
	}
	grantType := r.PostForm.Get("grant_type")
	if grantType == "refresh_token" {
		// Counted as soon as it reaches the realm: tests prove refreshes are serialised.
		s.mu.Lock()
		s.st.Refreshes++
		s.mu.Unlock()
	}
	client, status, code, desc := s.authenticateClient(r)
	if client == nil {
		tokenError(w, status, code, desc)
		return
	}
	var (
		resp tokenResponse
		err  *tokenFailure
	)
	switch grantType {
	case "authorization_code":
		resp, err = s.exchangeCode(client, r.PostForm)
	case "refresh_token":
		resp, err = s.refresh(client, r.PostForm)
	case "":
		err = &tokenFailure{"invalid_request", "grant_type is required"}
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type")
		return
	}
	if err != nil {
		tokenError(w, http.StatusBadRequest, err.code, err.description)
		return
	}
	s.changed()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

type tokenFailure struct{ code, description string }

// authenticateClient accepts client_secret_post and client_secret_basic (RFC 6749 §2.3.1:
// Basic credentials are form-encoded before base64, as golang.org/x/oauth2 sends them).
func (s *Server) authenticateClient(r *http.Request) (client *Client, status int, code, description string) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, http.StatusUnauthorized, "invalid_client", "malformed client credentials"
		}
		if formID := r.PostForm.Get("client_id"); formID != "" && formID != id {
			return nil, http.StatusBadRequest, "invalid_request", "client_id differs from the authenticated client"
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return nil, http.StatusUnauthorized, "invalid_client", "client authentication required"
	}
	s.mu.Lock()
	c := s.st.Clients[id]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare([]byte(c.ClientSecret), []byte(secret)) != 1 {
		return nil, http.StatusUnauthorized, "invalid_client", "invalid client credentials"
	}
	return c, 0, "", ""
}

func (s *Server) exchangeCode(client *Client, form url.Values) (tokenResponse, *tokenFailure) {
	code := form.Get("code")
	if code == "" {
		return tokenResponse{}, &tokenFailure{"invalid_request", "code is required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := secretKey(code)
	ac := s.st.Codes[key]
	// Single use: the code is spent by this attempt whatever its outcome.
	delete(s.st.Codes, key)
	switch {
	case ac == nil:
		return tokenResponse{}, &tokenFailure{"invalid_grant", "code not valid"}
	case !s.now().Before(ac.ExpiresAt):
		return tokenResponse{}, &tokenFailure{"invalid_grant", "code expired"}
	case ac.ClientID != client.ClientID:
		return tokenResponse{}, &tokenFailure{"invalid_grant", "code was issued to another client"}
	case form.Get("redirect_uri") != ac.RedirectURI:
		return tokenResponse{}, &tokenFailure{"invalid_grant", "incorrect redirect_uri"}
	case form.Get("code_verifier") == "":
		return tokenResponse{}, &tokenFailure{"invalid_grant", "PKCE code verifier not specified"}
	case !pkceMatches(form.Get("code_verifier"), ac.CodeChallenge):
		return tokenResponse{}, &tokenFailure{"invalid_grant", "PKCE verification failed"}
	case s.st.Accounts[ac.CompteID] == nil:
		return tokenResponse{}, &tokenFailure{"invalid_grant", "account no longer exists"}
	}
	return s.issuePair(ac.CompteID, client.ClientID, ac.Scope), nil
}

// pkceMatches checks RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge.
func pkceMatches(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

func (s *Server) refresh(client *Client, form url.Values) (tokenResponse, *tokenFailure) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return tokenResponse{}, &tokenFailure{"invalid_request", "refresh_token is required"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := secretKey(rt)
	g := s.st.RefreshTokens[key]
	switch {
	case g == nil:
		return tokenResponse{}, &tokenFailure{"invalid_grant", "Invalid refresh token"}
	case !s.now().Before(g.ExpiresAt):
		delete(s.st.RefreshTokens, key)
		return tokenResponse{}, &tokenFailure{"invalid_grant", "Token is not active"}
	case g.ClientID != client.ClientID:
		return tokenResponse{}, &tokenFailure{"invalid_grant", "Token client and authorized client don't match"}
	case s.st.Accounts[g.CompteID] == nil:
		return tokenResponse{}, &tokenFailure{"invalid_grant", "account no longer exists"}
	}
	// Rotation: the refresh token is spent now; a second use is refused.
	delete(s.st.RefreshTokens, key)
	return s.issuePair(g.CompteID, g.ClientID, g.Scope), nil
}

// issuePair mints an access and a refresh token with the current lifetimes. The caller holds s.mu.
func (s *Server) issuePair(compteID, clientID, scope string) tokenResponse {
	now := s.now()
	f := s.st.Faults.effective()
	access, refresh := newSecret(), newSecret()
	s.st.AccessTokens[secretKey(access)] = &grant{CompteID: compteID, ClientID: clientID, Scope: scope, IssuedAt: now, ExpiresAt: now.Add(f.accessTTL())}
	s.st.RefreshTokens[secretKey(refresh)] = &grant{CompteID: compteID, ClientID: clientID, Scope: scope, IssuedAt: now, ExpiresAt: now.Add(f.refreshTTL())}
	s.pruneExpired(now)
	if s.tokensIssued != nil {
		s.tokensIssued(access, refresh)
	}
	return tokenResponse{
		AccessToken: access, TokenType: "Bearer", RefreshToken: refresh,
		ExpiresIn: f.AccessTTLS, RefreshExpiresIn: f.RefreshTTLS, Scope: scope,
	}
}

// pruneExpired drops dead tokens and codes so a long benchmark does not grow the state
// without bound. The caller holds s.mu.
func (s *Server) pruneExpired(now time.Time) {
	for k, g := range s.st.AccessTokens {
		if !now.Before(g.ExpiresAt) {
			delete(s.st.AccessTokens, k)
		}
	}
	for k, g := range s.st.RefreshTokens {
		if !now.Before(g.ExpiresAt) {
			delete(s.st.RefreshTokens, k)
		}
	}
	for k, c := range s.st.Codes {
		if !now.Before(c.ExpiresAt) {
			delete(s.st.Codes, k)
		}
	}
}

// handleDiscovery serves a minimal OpenID configuration, for tools that look endpoints up.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	issuer := scheme + "://" + r.Host + realmPath
	base := issuer + "/protocol/openid-connect/"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "auth",
		"token_endpoint":                        base + "token",
		"end_session_endpoint":                  base + "logout",
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"response_types_supported":              []string{"code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}
