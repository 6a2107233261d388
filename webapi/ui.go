package webapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"

	"livret/db/dbq"
	"livret/domain"
)

// The school admin's pages (seed §2–4, §7), server-rendered in French under /ui. They hold
// no business logic of their own: each page calls the API's handlers in process (the same
// validation, queries and Temporal calls) and renders their answer as HTML.

//go:embed templates/*.html
var uiTemplateFS embed.FS

//go:embed static/*
var uiStaticFS embed.FS

var uiPages = func() map[string]*template.Template {
	funcs := template.FuncMap{"errorBadge": errorBadge}
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "offices", "connect", "lessons", "error"} {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(uiTemplateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}()

// mountUI adds the admin's pages to the router.
func (s *Server) mountUI(r *gin.Engine) {
	static, _ := fs.Sub(uiStaticFS, "static")
	staticFiles := http.StripPrefix("/ui/static/", http.FileServer(http.FS(static)))
	serveStatic := func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		staticFiles.ServeHTTP(c.Writer, c.Request)
	}
	r.GET("/ui/static/*file", serveStatic)
	r.HEAD("/ui/static/*file", serveStatic)

	ui := r.Group("/ui", uiHeaders)
	ui.GET("", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, OfficesPage) })
	ui.GET("/login", s.uiLoginForm)
	ui.POST("/login", s.uiLogin)

	in := ui.Group("", s.requireSession)
	in.GET("/offices", s.uiOffices)
	in.GET("/lessons", s.uiLessons)
	forms := in.Group("", s.requireCSRF)
	forms.POST("/logout", s.uiLogout)
	forms.POST("/offices/:ref/connect", s.uiConnect)
	forms.POST("/offices/:ref/disconnect", s.uiDisconnect)
	forms.POST("/lessons/:ref/resend", s.uiResend)
}

// uiHeaders: pages are never cached nor framed and load nothing from elsewhere.
func uiHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self' "+formActionExtra+"; frame-ancestors 'none'; base-uri 'none'")
	c.Header("X-Frame-Options", "DENY")
	c.Next()
}

// formActionExtra lets the "Connexion" form's redirect reach RdvPermis (CSP form-action
// also governs the redirects that follow a submission).
const formActionExtra = "https: http:"

// pageData is what every template receives.
type pageData struct {
	Title    string
	School   string
	CSRF     string
	Message  string // an error to show
	Notice   string // a confirmation to show
	SignedIn bool
	Nav      string

	Offices   []officeView
	AnyLinked bool

	Office    officeView
	LogoutURL string
	Warning   string

	Lessons *lessonsPage
}

func (s *Server) renderPage(c *gin.Context, status int, name string, d pageData) {
	if v, ok := c.Get(uiSessionKey); ok {
		d.SignedIn = true
		if d.CSRF == "" {
			d.CSRF = v.(uiSession).CSRF
		}
		if sc, ok := c.Get(schoolKey); ok {
			d.School = sc.(dbq.School).Name
		}
	}
	var buf bytes.Buffer
	if err := uiPages[name].Execute(&buf, d); err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// uiProblem shows an API problem as a French page.
func (s *Server) uiProblem(c *gin.Context, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		_ = c.Error(err) // logged and answered by renderErrors
		return
	}
	msg := p.Detail
	for _, f := range p.Errors {
		msg += " " + f.Message
	}
	s.renderPage(c, p.Status, "error", pageData{Title: p.Title, Message: msg})
}

// errorBadge is the office card's badge (seed §7).
func errorBadge(n int64) string {
	switch n {
	case 0:
		return "✔ Aucune erreur recensée"
	case 1:
		return "✖ 1 erreur recensée"
	}
	return "✖ " + strconv.FormatInt(n, 10) + " erreurs recensées"
}

// --- calling the API's handlers in process ---

// bufferWriter collects a handler's answer.
type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header { return w.header }
func (w *bufferWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
func (w *bufferWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// subEngine only allocates the in-process calls' contexts; made on first use, once the
// router has set gin's mode (gin.New warns on stdout in debug mode).
var subEngine = sync.OnceValue(func() *gin.Engine {
	e := gin.New()
	e.ContextWithFallback = true
	return e
})

// apiAnswer is what an API handler answered.
type apiAnswer struct {
	status int
	header http.Header
	body   []byte
	err    error // the handler's error (a *Problem, or an internal one)
}

// callAPI runs an API handler for the session's school, with its own query and path
// parameters, on a context of its own: the page's request is untouched.
func (s *Server) callAPI(c *gin.Context, h gin.HandlerFunc, ref string, query url.Values) apiAnswer {
	w := &bufferWriter{header: http.Header{}}
	sub := gin.CreateTestContextOnly(w, subEngine())
	req := c.Request.Clone(c.Request.Context())
	req.Method = http.MethodGet
	req.Body = http.NoBody
	req.ContentLength = 0
	u := *c.Request.URL
	u.RawQuery = query.Encode()
	req.URL = &u
	sub.Request = req
	if ref != "" {
		sub.Params = gin.Params{{Key: "ref", Value: ref}}
	}
	sub.Set(schoolKey, schoolOf(c))
	sub.Set(requestIDKey, requestID(c))
	h(sub)
	a := apiAnswer{status: w.status, header: w.header, body: w.body.Bytes()}
	if len(sub.Errors) > 0 {
		a.err = sub.Errors.Last().Err
	}
	return a
}

// decode reads a successful JSON answer into v.
func (a apiAnswer) decode(v any) error {
	if a.err != nil {
		return a.err
	}
	return json.Unmarshal(a.body, v)
}

// --- "L'API Livret numérique": the offices ---

// uiNotices are the confirmations a redirect may ask for (a fixed list: nothing echoed).
var uiNotices = map[string]string{
	"deconnecte":        "Vous êtes déconnecté de Livret.",
	"bureau-deconnecte": "Le bureau est déconnecté : aucune de ses leçons ne sera envoyée tant qu'il n'est pas reconnecté.",
	"renvoyee":          "La leçon est renvoyée à la DSR : son nouvel état s'affiche dans quelques instants.",
	"toujours-erreur":   "La leçon est toujours en erreur : corrigez les données indiquées, puis renvoyez-la.",
}

func (s *Server) uiOffices(c *gin.Context) {
	var offices []officeView
	if err := s.callAPI(c, s.listOffices, "", nil).decode(&offices); err != nil {
		s.uiProblem(c, err)
		return
	}
	d := pageData{Title: "L'API Livret numérique", Nav: "offices", Offices: offices, Notice: uiNotices[c.Query("msg")]}
	for _, o := range offices {
		d.AnyLinked = d.AnyLinked || o.DSR.Linked
	}
	s.renderPage(c, http.StatusOK, "offices", d)
}

// uiConnect is "Se connecter" / "Connexion": the API's connect, which answers with the
// warning when another office is linked and the admin has not confirmed yet.
func (s *Server) uiConnect(c *gin.Context) {
	q := url.Values{}
	if c.PostForm("confirm") == "1" {
		q.Set("confirm", "1")
	}
	a := s.callAPI(c, s.connectOffice, c.Param("ref"), q)
	var p *Problem
	switch {
	case errors.As(a.err, &p) && p.Type == typeLinkWarning:
		var offices []officeView
		if err := s.callAPI(c, s.listOffices, "", nil).decode(&offices); err != nil {
			s.uiProblem(c, err)
			return
		}
		for _, o := range offices {
			if o.Ref == c.Param("ref") {
				s.renderPage(c, http.StatusOK, "connect", pageData{Title: "Avertissement", Nav: "offices", Office: o,
					Warning: LinkWarning, LogoutURL: s.RdvPermisLogoutURL})
				return
			}
		}
		s.uiProblem(c, errOfficeNotFound)
	case a.err != nil:
		s.uiProblem(c, a.err)
	case a.status == http.StatusFound:
		c.Redirect(http.StatusSeeOther, a.header.Get("Location"))
	default:
		_ = c.Error(errors.New("connect answered " + strconv.Itoa(a.status)))
	}
}

// uiDisconnect is "Se déconnecter": the API's disconnect.
func (s *Server) uiDisconnect(c *gin.Context) {
	if a := s.callAPI(c, s.disconnectOffice, c.Param("ref"), nil); a.err != nil {
		s.uiProblem(c, a.err)
		return
	}
	c.Redirect(http.StatusSeeOther, OfficesPage+"?msg=bureau-deconnecte")
}

// uiResend is "Renvoyer": the API's resend, then back to the same view of the report.
func (s *Server) uiResend(c *gin.Context) {
	a := s.callAPI(c, s.resendLesson, c.Param("ref"), nil)
	if a.err != nil {
		s.uiProblem(c, a.err)
		return
	}
	back := lessonsQuery(c.PostForm("retour"))
	back.Set("msg", "renvoyee")
	if a.status == http.StatusOK { // Livret's own checks still refuse it
		back.Set("msg", "toujours-erreur")
	}
	c.Redirect(http.StatusSeeOther, "/ui/lessons?"+back.Encode())
}

// lessonsQuery keeps, of a query string sent back by a form, only the report's own
// parameters: the redirect stays on /ui/lessons whatever it holds.
func lessonsQuery(raw string) url.Values {
	in, _ := url.ParseQuery(raw)
	out := url.Values{}
	for _, k := range []string{"tab", "office", "from", "to", "page", "q", "student"} {
		if v := strings.TrimSpace(in.Get(k)); v != "" && len(v) <= 200 {
			out.Set(k, v)
		}
	}
	return out
}

// statusCell is the "Transmission" column.
func statusCell(t transmissionView) (text, class string) {
	msg := ""
	if t.Message != nil {
		msg = *t.Message
	}
	switch domain.Status(t.Status) {
	case domain.StatusTransmitted:
		return "● Transmise", "ok"
	case domain.StatusError:
		return "● Erreur - " + msg, "err"
	case domain.StatusNotEligible:
		if msg != "" {
			return "● Non concernée - " + msg, "muted"
		}
		return "● Non concernée", "muted"
	case domain.StatusCancelled:
		return "● Annulée", "muted"
	}
	return "● En attente", "wait"
}
