package webui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"

	"livret/db"
	"livret/db/dbq"
	"livret/school"
)

// People's sessions (docs/architecture.md, "People and sessions"): server-side, with
// github.com/alexedwards/scs/v2 over PostgreSQL. The browser's cookie holds a random session
// id; the sessions table holds its SHA-256 only (hashedStore), so a copy of the table opens
// nothing. A session holds the person's id, a print of their password hash (a reset ends
// every session opened before it) and the session's CSRF secret. Each request reads the
// person again: a removed person's session ends at once, a role change applies at once.

const (
	sessionCookie   = "livret_session"
	loginCSRFCookie = "livret_login_csrf"
	csrfField       = "csrf"
	// SessionIdleTimeout ends a session unused for that long; SessionLifetime ends any.
	SessionIdleTimeout = time.Hour
	SessionLifetime    = 8 * time.Hour
	// LoginCSRFTTL is how long a sign-in form's token is accepted.
	LoginCSRFTTL = time.Hour
	uiSessionKey = "livret.ui.session"
)

var loginCSRFAAD = []byte("ui/login-csrf")

// uiSession is the signed-in person of the request.
type uiSession struct {
	CSRF   string
	Person school.Person
}

func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashedStore is scs's store over the sessions table, keyed by the SHA-256 hex of the
// session id.
type hashedStore struct{ pool dbq.DBTX }

func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (h hashedStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	b, err := dbq.New(h.pool).SessionFind(ctx, sessionKey(token))
	if db.IsNotFound(err) {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (h hashedStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return dbq.New(h.pool).SessionCommit(ctx, dbq.SessionCommitParams{Token: sessionKey(token), Data: b, Expiry: expiry})
}

func (h hashedStore) DeleteCtx(ctx context.Context, token string) error {
	return dbq.New(h.pool).SessionDelete(ctx, sessionKey(token))
}

func (h hashedStore) Find(token string) ([]byte, bool, error) {
	return h.FindCtx(context.Background(), token)
}
func (h hashedStore) Commit(token string, b []byte, expiry time.Time) error {
	return h.CommitCtx(context.Background(), token, b, expiry)
}
func (h hashedStore) Delete(token string) error { return h.DeleteCtx(context.Background(), token) }

// newSessions is the session manager of the pages.
func (s *Pages) newSessions() *scs.SessionManager {
	sm := scs.New()
	sm.Store = hashedStore{pool: s.School.Pool}
	sm.IdleTimeout = SessionIdleTimeout
	sm.Lifetime = SessionLifetime
	sm.Cookie.Name = sessionCookie
	sm.Cookie.Path = "/ui"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = s.Secure
	sm.Cookie.Persist = false // a browser's session cookie: closing the browser forgets it
	return sm
}

// sessionWriter saves the session and sets its cookie before the first byte of the answer
// goes out, as scs's LoadAndSave does for net/http.
type sessionWriter struct {
	gin.ResponseWriter
	save func()
	done bool
}

func (w *sessionWriter) commit() {
	if !w.done {
		w.done = true
		w.save()
	}
}
func (w *sessionWriter) WriteHeaderNow() { w.commit(); w.ResponseWriter.WriteHeaderNow() }
func (w *sessionWriter) Write(b []byte) (int, error) {
	w.commit()
	return w.ResponseWriter.Write(b)
}
func (w *sessionWriter) WriteString(s string) (int, error) {
	w.commit()
	return w.ResponseWriter.WriteString(s)
}
func (w *sessionWriter) Flush() { w.commit(); w.ResponseWriter.Flush() }

// loadSession loads the request's session (if any) and saves it when the answer goes out:
// the idle timeout restarts at each request, a new or ended session sets its cookie.
func (s *Pages) loadSession(c *gin.Context) {
	var token string
	if ck, err := c.Request.Cookie(sessionCookie); err == nil {
		token = ck.Value
	}
	ctx, err := s.sessions.Load(c.Request.Context(), token)
	if err != nil {
		_ = c.Error(err)
		c.Abort()
		return
	}
	c.Request = c.Request.WithContext(ctx)
	c.Header("Vary", "Cookie")
	orig := c.Writer
	w := &sessionWriter{ResponseWriter: orig}
	w.save = func() {
		ctx := c.Request.Context()
		switch s.sessions.Status(ctx) {
		case scs.Modified:
			tok, expiry, err := s.sessions.Commit(ctx)
			if err != nil {
				s.log().ErrorContext(ctx, "session not saved", "error", err.Error())
				return
			}
			s.sessions.WriteSessionCookie(ctx, orig, tok, expiry)
		case scs.Destroyed:
			s.sessions.WriteSessionCookie(ctx, orig, "", time.Time{})
		}
	}
	c.Writer = w
	c.Next()
	if !orig.Written() {
		w.commit()
	}
	c.Writer = orig
}

// readSession is the request's signed-in person, read again from the database, with their
// school. A session whose person is gone, whose school closed or whose password changed
// since is destroyed.
func (s *Pages) readSession(c *gin.Context) (uiSession, dbq.School, bool) {
	if s.sessions == nil {
		return uiSession{}, dbq.School{}, false
	}
	ctx := c.Request.Context()
	if !s.sessionLoaded(ctx) {
		// An answer of the router outside the pages' group (no route, wrong method): the
		// session is read, not saved.
		var token string
		if ck, err := c.Request.Cookie(sessionCookie); err == nil {
			token = ck.Value
		}
		loaded, err := s.sessions.Load(ctx, token)
		if err != nil {
			return uiSession{}, dbq.School{}, false
		}
		ctx = loaded
		c.Request = c.Request.WithContext(ctx)
	}
	uid := s.sessions.GetInt64(ctx, "uid")
	if uid == 0 {
		return uiSession{}, dbq.School{}, false
	}
	p, sc, err := s.School.PersonForSession(ctx, uid)
	if err != nil || subtle.ConstantTimeCompare([]byte(p.PasswordPrint), []byte(s.sessions.GetString(ctx, "pw"))) != 1 || p.PasswordPrint == "" {
		if err != nil && !errors.Is(err, school.ErrPersonNotFound) {
			s.log().ErrorContext(ctx, "session's person not read", "error", err.Error())
			return uiSession{}, dbq.School{}, false
		}
		_ = s.sessions.Destroy(ctx)
		return uiSession{}, dbq.School{}, false
	}
	return uiSession{CSRF: s.sessions.GetString(ctx, "csrf"), Person: p}, sc, true
}

// sessionLoaded reports whether loadSession ran for this request (the router's error
// renderer may render a page for an address outside /ui, where no session exists).
func (s *Pages) sessionLoaded(ctx context.Context) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_ = s.sessions.Status(ctx) // panics without session data on ctx
	return true
}

// setPerson puts the signed-in person on the request: their school for the handlers, and
// the actor the use cases authorize and audit with.
func setPerson(c *gin.Context, sess uiSession, sc dbq.School) {
	c.Set(schoolKey, sc)
	c.Set(uiSessionKey, sess)
	c.Request = c.Request.WithContext(school.WithActor(c.Request.Context(), sess.Person.Actor()))
}

// requireSession lets a signed-in person through, with their school set as the API key
// would set it and their actor on the context; anyone else goes to the sign-in page.
func (s *Pages) requireSession(c *gin.Context) {
	sess, sc, ok := s.readSession(c)
	if !ok {
		c.Header("Cache-Control", "no-store")
		c.Redirect(http.StatusSeeOther, "/ui/login")
		c.Abort()
		return
	}
	setPerson(c, sess, sc)
	c.Next()
}

// optionalSession sets the signed-in person, as requireSession does, and lets everyone
// through: an open page shows the header menu to a signed-in person.
func (s *Pages) optionalSession(c *gin.Context) {
	if sess, sc, ok := s.readSession(c); ok {
		setPerson(c, sess, sc)
	}
	c.Next()
}

func sessionOf(c *gin.Context) uiSession { return c.MustGet(uiSessionKey).(uiSession) }

// requireCSRF refuses a form whose token is not the session's (constant-time compared). The
// token lives in the session: it dies with it.
func (s *Pages) requireCSRF(c *gin.Context) {
	got, want := c.PostForm(csrfField), sessionOf(c).CSRF
	if got == "" || want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
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

// loginCSRF is the sealed payload of the sign-in forms' cookie: the field's token and when
// it was issued (refused after LoginCSRFTTL, so a harvested pair does not work forever).
type loginCSRF struct {
	Token  string `json:"t"`
	Issued int64  `json:"at"`
}

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

// loginCSRF issues the token of the forms shown without a session (sign-in, forgotten
// password, choosing a password): the field carries it, a sealed cookie vouches for it.
func (s *Pages) loginCSRF(c *gin.Context) string {
	tok := randomToken()
	plain, _ := json.Marshal(loginCSRF{Token: tok, Issued: s.now().Unix()})
	s.setCookie(c, loginCSRFCookie, s.sealCookie(plain, loginCSRFAAD), "/ui", int(LoginCSRFTTL/time.Second))
	return tok
}

func (s *Pages) checkLoginCSRF(c *gin.Context) bool {
	got := c.PostForm(csrfField)
	raw, err := c.Cookie(loginCSRFCookie)
	if got == "" || err != nil {
		return false
	}
	plain, err := s.openCookie(raw, loginCSRFAAD)
	var want loginCSRF
	if err != nil || json.Unmarshal(plain, &want) != nil || want.Token == "" {
		return false
	}
	issued := time.Unix(want.Issued, 0)
	if age := s.now().Sub(issued); age < -time.Minute || age > LoginCSRFTTL {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want.Token)) == 1
}

// uiLoginForm is GET /ui/login.
func (s *Pages) uiLoginForm(c *gin.Context) {
	if _, _, ok := s.readSession(c); ok {
		c.Redirect(http.StatusSeeOther, OfficesPage)
		return
	}
	s.renderPage(c, http.StatusOK, "login", pageData{Title: "Connexion à Livret", CSRF: s.loginCSRF(c), Notice: uiNotices[c.Query("msg")]})
}

// uiLogin is POST /ui/login: an e-mail and a password open a session.
func (s *Pages) uiLogin(c *gin.Context) {
	if !s.checkLoginCSRF(c) {
		s.forbidden(c)
		return
	}
	ctx := c.Request.Context()
	email := strings.TrimSpace(c.PostForm("email"))
	p, err := s.School.SignIn(ctx, email, c.PostForm("password"))
	var pr *school.Problem
	if errors.As(err, &pr) {
		s.renderPage(c, pr.Status, "login", pageData{Title: "Connexion à Livret", CSRF: s.loginCSRF(c), Message: pr.Detail, Email: email})
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	// A new id at sign-in: an id planted in the browser before does not become a session.
	if err := s.sessions.RenewToken(ctx); err != nil {
		_ = c.Error(err)
		return
	}
	s.sessions.Put(ctx, "uid", p.ID)
	s.sessions.Put(ctx, "pw", p.PasswordPrint)
	s.sessions.Put(ctx, "csrf", randomToken())
	s.setCookie(c, loginCSRFCookie, "", "/ui", -1)
	// Housekeeping: expired sessions are of no use.
	if err := dbq.New(s.School.Pool).SessionsDeleteExpired(ctx); err != nil {
		s.log().WarnContext(ctx, "expired sessions not deleted", "error", err.Error())
	}
	s.log().InfoContext(ctx, "ui sign-in", "school_id", p.SchoolID, "user_id", p.ID)
	c.Redirect(http.StatusSeeOther, OfficesPage)
}

// uiLogout is POST /ui/logout: the session ends on the server, not only in the browser.
func (s *Pages) uiLogout(c *gin.Context) {
	if err := s.sessions.Destroy(c.Request.Context()); err != nil {
		_ = c.Error(err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ui/login?msg=deconnecte")
}
