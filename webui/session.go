package webui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"livret/db/dbq"
	"livret/school"
)

// The admin's session: no server-side table (the schema is not the UI's to change). The
// cookie holds the school, the expiry, a per-session CSRF secret and a fingerprint of the
// school's key, sealed (AES-GCM) with the server's db.Sealer: unreadable and unforgeable
// without LIVRET_TOKEN_KEY. Rotating the school's key ends every session opened with the
// old one; signing out drops the cookie.

const (
	sessionCookie   = "livret_session"
	loginCSRFCookie = "livret_login_csrf"
	csrfField       = "csrf"
	sessionTTL      = 8 * time.Hour
	uiSessionKey    = "livret.ui.session"
)

var (
	sessionAAD   = []byte("ui/session")
	loginCSRFAAD = []byte("ui/login-csrf")
)

// uiSession is the cookie's sealed payload.
type uiSession struct {
	SchoolID int64  `json:"s"`
	Expires  int64  `json:"e"`
	CSRF     string `json:"c"`
	KeyPrint string `json:"k"` // first bytes of the school's key hash
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func keyPrint(hash []byte) string {
	if len(hash) > 8 {
		hash = hash[:8]
	}
	return base64.RawURLEncoding.EncodeToString(hash)
}

// seal turns a payload into a cookie value: keyID "." ciphertext, both base64url.
func (s *Pages) sealCookie(plain, aad []byte) string {
	box, keyID := s.Sealer.Seal(plain, aad)
	return base64.RawURLEncoding.EncodeToString([]byte(keyID)) + "." + base64.RawURLEncoding.EncodeToString(box)
}

func (s *Pages) openCookie(value string, aad []byte) ([]byte, error) {
	k, b, ok := strings.Cut(value, ".")
	if !ok {
		return nil, errors.New("malformed cookie")
	}
	keyID, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return nil, err
	}
	box, err := base64.RawURLEncoding.DecodeString(b)
	if err != nil {
		return nil, err
	}
	return s.Sealer.Open(box, string(keyID), aad)
}

func (s *Pages) setCookie(c *gin.Context, name, value, path string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode})
}

// startSession signs a school in.
func (s *Pages) startSession(c *gin.Context, school dbq.School) {
	sess := uiSession{SchoolID: school.ID, Expires: s.now().Add(sessionTTL).Unix(), CSRF: randomToken(), KeyPrint: keyPrint(school.ApiKeyHash)}
	plain, _ := json.Marshal(sess)
	s.setCookie(c, sessionCookie, s.sealCookie(plain, sessionAAD), "/ui", int(sessionTTL/time.Second))
}

// readSession is the valid session of the request, with its school.
func (s *Pages) readSession(c *gin.Context) (uiSession, dbq.School, bool) {
	raw, err := c.Cookie(sessionCookie)
	if err != nil || raw == "" {
		return uiSession{}, dbq.School{}, false
	}
	plain, err := s.openCookie(raw, sessionAAD)
	if err != nil {
		return uiSession{}, dbq.School{}, false
	}
	var sess uiSession
	if json.Unmarshal(plain, &sess) != nil || sess.SchoolID == 0 || sess.CSRF == "" || s.now().Unix() >= sess.Expires {
		return uiSession{}, dbq.School{}, false
	}
	sc, err := s.School.SchoolByID(c.Request.Context(), sess.SchoolID)
	if err != nil || sc.ClosedAt != nil ||
		subtle.ConstantTimeCompare([]byte(keyPrint(sc.ApiKeyHash)), []byte(sess.KeyPrint)) != 1 {
		return uiSession{}, dbq.School{}, false
	}
	return sess, sc, true
}

// requireSession lets a signed-in admin through, with their school set as the API key
// would set it; anyone else goes to the sign-in page.
func (s *Pages) requireSession(c *gin.Context) {
	sess, sc, ok := s.readSession(c)
	if !ok {
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusSeeOther, "/ui/login")
		c.Abort()
		return
	}
	c.Set(schoolKey, sc)
	c.Set(uiSessionKey, sess)
	c.Next()
}

// optionalSession sets the signed-in admin's school, as requireSession does, and lets
// everyone through: an open page shows the header menu to a signed-in admin.
func (s *Pages) optionalSession(c *gin.Context) {
	if sess, sc, ok := s.readSession(c); ok {
		c.Set(schoolKey, sc)
		c.Set(uiSessionKey, sess)
	}
	c.Next()
}

func sessionOf(c *gin.Context) uiSession { return c.MustGet(uiSessionKey).(uiSession) }

// requireCSRF refuses a form whose token is not the session's (constant-time compared).
func (s *Pages) requireCSRF(c *gin.Context) {
	got := c.PostForm(csrfField)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sessionOf(c).CSRF)) != 1 {
		s.forbidden(c)
		return
	}
	c.Next()
}

func (s *Pages) forbidden(c *gin.Context) {
	s.renderPage(c, http.StatusForbidden, "error", pageData{Title: "Accès refusé",
		Message: "Le formulaire a expiré ou ne vient pas de Livret (jeton de sécurité absent ou invalide). Rechargez la page, puis recommencez."})
	c.Abort()
}

// loginCSRF issues the sign-in form's token: the field carries it, a sealed cookie vouches
// for it (no session exists yet).
func (s *Pages) loginCSRF(c *gin.Context) string {
	tok := randomToken()
	s.setCookie(c, loginCSRFCookie, s.sealCookie([]byte(tok), loginCSRFAAD), "/ui/login", 3600)
	return tok
}

func (s *Pages) checkLoginCSRF(c *gin.Context) bool {
	got := c.PostForm(csrfField)
	raw, err := c.Cookie(loginCSRFCookie)
	if got == "" || err != nil {
		return false
	}
	want, err := s.openCookie(raw, loginCSRFAAD)
	return err == nil && subtle.ConstantTimeCompare([]byte(got), want) == 1
}

// uiLoginForm is GET /ui/login.
func (s *Pages) uiLoginForm(c *gin.Context) {
	if _, _, ok := s.readSession(c); ok {
		c.Redirect(http.StatusSeeOther, OfficesPage)
		return
	}
	s.renderPage(c, http.StatusOK, "login", pageData{Title: "Connexion à Livret", CSRF: s.loginCSRF(c), Notice: uiNotices[c.Query("msg")]})
}

// uiLogin is POST /ui/login: the school's API key opens a session.
func (s *Pages) uiLogin(c *gin.Context) {
	if !s.checkLoginCSRF(c) {
		s.forbidden(c)
		return
	}
	key := strings.TrimSpace(c.PostForm("key"))
	sc, err := s.School.Authenticate(c.Request.Context(), key)
	var p *school.Problem
	if errors.As(err, &p) {
		s.renderPage(c, http.StatusUnauthorized, "login", pageData{Title: "Connexion à Livret", CSRF: s.loginCSRF(c),
			Message: "Clé d'auto-école inconnue ou révoquée. Vérifiez la clé (elle commence par « " + school.APIKeyPrefix + " »)."})
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.setCookie(c, loginCSRFCookie, "", "/ui/login", -1)
	s.startSession(c, sc)
	s.log().InfoContext(c.Request.Context(), "ui sign-in", "school_id", sc.ID)
	c.Redirect(http.StatusSeeOther, OfficesPage)
}

// uiLogout is POST /ui/logout.
func (s *Pages) uiLogout(c *gin.Context) {
	s.setCookie(c, sessionCookie, "", "/ui", -1)
	c.Redirect(http.StatusSeeOther, "/ui/login?msg=deconnecte")
}
