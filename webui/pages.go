package webui

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/gin-gonic/gin"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
	"livret/school"
)

// The school admin's pages (docs/rules.md, "The report"), server-rendered in French under
// /ui. They hold no business logic of their own: each page calls the use-case layer (package
// school) directly, the same use cases the JSON API calls, and renders their answer as HTML.

// OfficesPage is where the browser lands after linking an office: a fixed path on Livret's
// own host, never taken from the request (no open redirect). The API's callback redirects
// there too.
const OfficesPage = "/ui/offices"

// oauthBindingCookie is webapi.OAuthBindingCookie (webui does not import webapi).
const oauthBindingCookie = "livret_oauth_binding"

// Pages are the admin's pages. Fill every field but Now; then Mount them.
type Pages struct {
	School *school.Service
	// Sealer seals the session cookie (LIVRET_TOKEN_KEY).
	Sealer *db.Sealer
	// Secure marks cookies Secure: Livret is served over https (its public URL).
	Secure bool
	Logger *slog.Logger
	Now    func() time.Time

	sessions *scs.SessionManager
}

func (p *Pages) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pages) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

//go:embed templates/*.html
var uiTemplateFS embed.FS

//go:embed static/*
var uiStaticFS embed.FS

var uiPages = func() map[string]*template.Template {
	funcs := template.FuncMap{"officeBadge": officeBadge, "dashboard": newDashboard}
	pages := map[string]*template.Template{}
	for _, name := range []string{"login", "offices", "connect", "disconnect", "lessons", "error", "help", "settings", "webhooks", "etp", "journal", "forgot", "password", "people", "keys"} {
		pages[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(uiTemplateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}()

// schoolKey is where a signed-in admin's school is kept on the request's context.
const schoolKey = "livret.ui.school"

func schoolOf(c *gin.Context) dbq.School { return c.MustGet(schoolKey).(dbq.School) }

// Mount adds the admin's pages to the router.
func (s *Pages) Mount(r *gin.Engine) {
	static, _ := fs.Sub(uiStaticFS, "static")
	staticFiles := http.StripPrefix("/ui/static/", http.FileServer(http.FS(static)))
	serveStatic := func(c *gin.Context) {
		if !staticExists(static, c.Param("file")) {
			s.notFound(c)
			return
		}
		// The pages' security headers too (a stylesheet is not to be framed or sniffed),
		// but cacheable: the file only changes with the binary.
		s.securityHeaders(c)
		c.Header("Cache-Control", "public, max-age=3600")
		staticFiles.ServeHTTP(c.Writer, c.Request)
	}
	r.GET("/ui/static/*file", serveStatic)
	r.HEAD("/ui/static/*file", serveStatic)

	if s.sessions == nil {
		s.sessions = s.newSessions()
	}
	ui := r.Group("/ui", s.uiHeaders, s.loadSession)
	ui.GET("", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, OfficesPage) })
	ui.GET("/login", s.uiLoginForm)
	ui.POST("/login", s.uiLogin)
	s.mountPeople(ui)
	ui.GET("/aide", s.optionalSession, s.uiHelp)

	in := ui.Group("", s.requireSession)
	in.GET("/offices", s.uiOffices)
	in.GET("/offices/:ref/disconnect", s.uiDisconnectConfirm)
	in.GET("/lessons", s.uiLessons)
	in.GET("/lessons/export", s.uiExport)
	in.GET("/parametres", s.uiSettings)
	in.GET("/webhooks", s.uiWebhooks)
	in.GET("/etp", s.uiETP)
	in.GET("/etp/export", s.uiETPExport)
	in.GET("/journal", s.uiJournal)
	in.GET("/cles", s.uiKeys)
	forms := in.Group("", s.requireCSRF)
	forms.POST("/logout", s.uiLogout)
	forms.POST("/offices/:ref/connect", s.uiConnect)
	forms.POST("/offices/:ref/disconnect", s.uiDisconnect)
	forms.POST("/lessons/:ref/resend", s.uiResend)
	forms.POST("/lessons/resend", s.uiResendMany)
	forms.POST("/parametres", s.uiChangeSettings)
	forms.POST("/parametres/alertes", s.uiChangeAlertEmails)
	forms.POST("/parametres/etp", s.uiChangeETPWarning)
	forms.POST("/webhooks/:ref/test", s.uiTestWebhook)
	forms.POST("/webhooks/:ref/delete", s.uiDeleteWebhook)
	forms.POST("/cles", s.uiCreateKey)
	forms.POST("/cles/:id/revoquer", s.uiRevokeKey)
}

// uiHeaders: pages are never cached nor framed and load nothing from elsewhere.
func (s *Pages) uiHeaders(c *gin.Context) {
	s.pageHeaders(c)
	c.Next()
}

// pageHeaders are every page's headers, error pages included.
func (s *Pages) pageHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	s.securityHeaders(c)
}

// securityHeaders are what every answer under /ui carries, pages and static files alike
// (nosniff and Referrer-Policy repeat the API's own, so /ui is safe wherever it is mounted).
func (s *Pages) securityHeaders(c *gin.Context) {
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action "+s.formAction()+"; frame-ancestors 'none'; base-uri 'none'")
	c.Header("X-Frame-Options", "DENY")
}

// formAction is the CSP form-action list: Livret itself, and RdvPermis's authorization
// origin (the OAuth config's AuthURL), because form-action also governs the redirects that
// follow a submission and the "Connexion" form's answer is a 303 to RdvPermis's login page.
// No other origin: a form injected into a page cannot post elsewhere.
func (s *Pages) formAction() string {
	if s.School == nil || s.School.OAuth == nil {
		return "'self'"
	}
	u, err := url.Parse(s.School.OAuth.Endpoint.AuthURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "'self'"
	}
	return "'self' " + u.Scheme + "://" + u.Host
}

// pageData is what every template receives.
type pageData struct {
	Title    string
	School   string
	CSRF     string
	Message  string      // an error to show
	Fields   []fieldView // and the fields it names
	Notice   notice      // a confirmation or a warning to show
	SignedIn bool
	Nav      string
	// Who is the signed-in person's e-mail.
	Who   string
	Email string // the sign-in form's address, kept after a refusal

	Offices   []school.Office
	AnyLinked bool

	Office    school.Office
	LogoutURL string // RdvPermis's logout page, where logging out there helps
	Warning   string
	RequestID string // on a failure's page, for the support

	Lessons  *lessonsPage
	Help     *helpPage
	Settings *settingsPage
	Webhooks *webhooksPage
	ETP      *etpPage
	Journal  *journalPage
	People   *peoplePage
	Keys     *keysPage

	// actor is who is signed in, for Can; nil when the request carries none.
	actor *school.Actor

	// The password pages: the form's link token and action, and "the mail is sent".
	Token  string
	Action string
	Sent   bool
}

func (s *Pages) renderPage(c *gin.Context, status int, name string, d pageData) {
	if v, ok := c.Get(uiSessionKey); ok {
		d.SignedIn = true
		sess := v.(uiSession)
		if d.CSRF == "" {
			d.CSRF = sess.CSRF
		}
		d.Who = sess.Person.Email
		if sc, ok := c.Get(schoolKey); ok {
			d.School = sc.(dbq.School).Name
		}
	}
	if a, ok := school.ActorOf(c.Request.Context()); ok {
		d.actor = &a
	}
	var buf bytes.Buffer
	if err := uiPages[name].Execute(&buf, d); err != nil {
		// A bug of the templates: not handed back to the router, whose error page is a
		// template too.
		s.log().ErrorContext(c.Request.Context(), "ui template failed", "page", name, "error", err.Error())
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Erreur interne de Livret : réessayez dans quelques instants."))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// badge is the office card's badge (docs/rules.md, "The report"): its text and style.
type badge struct {
	Text, Class string
}

// officeBadge is "✔ Aucune erreur recensée" or "✖ N erreurs recensées" for a linked office;
// an office not linked sends nothing, so it has no errors to boast of: "Non connecté".
func officeBadge(o school.Office) badge {
	switch {
	case o.ErrorCount == 1:
		return badge{"✖ 1 erreur recensée", "bad"}
	case o.ErrorCount > 1:
		return badge{"✖ " + strconv.FormatInt(o.ErrorCount, 10) + " erreurs recensées", "bad"}
	case !o.DSR.Linked:
		return badge{"Non connecté", "neutral"}
	case o.DSR.NeedsReconnect:
		// Nothing is sent until it is reconnected: no green badge beside that alert.
		return badge{"✖ Envoi suspendu", "bad"}
	}
	return badge{"✔ Aucune erreur recensée", "good"}
}

// --- "L'API Livret numérique": the offices ---

// notice is what a redirect asks a page to say: a confirmation, or a warning when what the
// admin did has not had the hoped-for effect.
type notice struct {
	Text string
	Kind string // "success" or "warning": the style, and the role a screen reader hears
}

// uiNotices are the notices a redirect may ask for with ?msg= (a fixed list: nothing of the
// query is echoed).
var uiNotices = map[string]notice{
	"deconnecte":        {Kind: "success", Text: "Vous êtes déconnecté de Livret."},
	"mot-de-passe":      {Kind: "success", Text: "Votre mot de passe est enregistré : connectez-vous avec votre adresse e-mail et ce mot de passe."},
	"invitee":           {Kind: "success", Text: "L'invitation est envoyée : la personne a reçu un e-mail avec un lien, valable 72 heures, pour choisir son mot de passe."},
	"personne-modifiee": {Kind: "success", Text: "Le rôle et les bureaux de la personne sont enregistrés : ils s'appliquent dès sa prochaine page."},
	"personne-retiree":  {Kind: "success", Text: "La personne n'a plus accès à Livret : sa session est fermée."},
	"bureau-connecte":   {Kind: "success", Text: "Le bureau est connecté à la DSR : ses leçons seront transmises automatiquement chaque nuit, à partir du lendemain de la leçon."},
	"bureau-deconnecte": {Kind: "success", Text: "Le bureau est déconnecté : aucune de ses leçons ne sera envoyée tant qu'il n'est pas reconnecté."},
	"renvoyee":          {Kind: "success", Text: "La leçon est renvoyée à la DSR : son nouvel état s'affiche dans quelques instants."},
	"toujours-erreur":   {Kind: "warning", Text: "La leçon est toujours en erreur : corrigez les données indiquées, puis renvoyez-la."},
	"renvoyees":         {Kind: "success", Text: "Les leçons refusées par la DSR lui sont renvoyées : leur nouvel état s'affiche dans quelques instants."},
	"renvoyees-suite":   {Kind: "warning", Text: "Les 1 000 premières leçons refusées sont renvoyées : cliquez de nouveau pour renvoyer les suivantes."},
	"renvoyees-differe": {Kind: "warning", Text: "Les leçons sont de nouveau en attente, mais l'envoi immédiat n'a pas pu être lancé : elles partiront lors du prochain envoi automatique."},
	"rien-a-renvoyer":   {Kind: "warning", Text: "Aucune leçon refusée par la DSR ne correspond à ces filtres : rien n'a été renvoyé."},
	"parametres":        {Kind: "success", Text: "Les paramètres sont enregistrés : les leçons pas encore transmises à la DSR sont jugées selon ce périmètre."},
	"etp":               {Kind: "success", Text: "L'alerte ETP est enregistrée."},
	"alertes":           {Kind: "success", Text: "Les adresses d'alerte sont enregistrées : elles recevront le récapitulatif quotidien des nouvelles erreurs et des bureaux à reconnecter."},
}

func (s *Pages) uiOffices(c *gin.Context) {
	offices, err := s.School.Offices(c.Request.Context(), schoolOf(c))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	sortOffices(offices)
	d := pageData{Title: "L'API Livret numérique", Nav: "offices", Offices: offices, Notice: uiNotices[c.Query("msg")]}
	for _, o := range offices {
		d.AnyLinked = d.AnyLinked || o.DSR.Linked
	}
	s.renderPage(c, http.StatusOK, "offices", d)
}

// uiConnect is "Se connecter" / "Connexion": the link's first step, which answers with the
// warning when another office is linked and the admin has not confirmed yet.
func (s *Pages) uiConnect(c *gin.Context) {
	ctx := c.Request.Context()
	// The state is bound to this browser: a link to RdvPermis's page opened in another
	// browser cannot finish linking (SECURITY.md, "People and sessions").
	binding := randomToken()
	u, err := s.School.ConnectFrom(ctx, schoolOf(c), c.Param("ref"), c.PostForm("confirm") == "1", nil, binding)
	var p *school.Problem
	switch {
	case errors.As(err, &p) && p.Type == school.TypeLinkWarning:
		offices, err := s.School.Offices(ctx, schoolOf(c))
		if err != nil {
			s.uiProblem(c, err)
			return
		}
		for _, o := range offices {
			if o.Ref == c.Param("ref") {
				s.renderPage(c, http.StatusOK, "connect", pageData{Title: "Avertissement", Nav: "offices", Office: o,
					Warning: school.LinkWarning, LogoutURL: s.School.RdvPermisLogoutURL})
				return
			}
		}
		s.uiProblem(c, school.ErrOfficeNotFound)
	case err != nil:
		s.uiProblem(c, err)
	default:
		http.SetCookie(c.Writer, &http.Cookie{Name: oauthBindingCookie, Value: binding, Path: "/v1/oauth/callback", MaxAge: 600,
			HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode})
		c.Redirect(http.StatusSeeOther, u)
	}
}

// uiDisconnectConfirm is the card's "Se déconnecter de la DSR": a page that says what
// unlinking does, with "Déconnecter le bureau" (the form uiDisconnect takes) and "Annuler".
func (s *Pages) uiDisconnectConfirm(c *gin.Context) {
	// The confirmation is asked of those who may unlink only (the one policy table).
	if err := school.Authorize(c.Request.Context(), domain.PermLink); err != nil {
		s.uiProblem(c, err)
		return
	}
	offices, err := s.School.Offices(c.Request.Context(), schoolOf(c))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	for _, o := range offices {
		if o.Ref != c.Param("ref") {
			continue
		}
		if !o.DSR.Linked { // nothing to unlink: the cards say so
			c.Redirect(http.StatusSeeOther, OfficesPage)
			return
		}
		s.renderPage(c, http.StatusOK, "disconnect", pageData{Title: "Déconnexion du bureau", Nav: "offices", Office: o})
		return
	}
	s.uiProblem(c, school.ErrOfficeNotFound)
}

// uiDisconnect is the confirmation's "Déconnecter le bureau".
func (s *Pages) uiDisconnect(c *gin.Context) {
	if _, err := s.School.Disconnect(c.Request.Context(), schoolOf(c), c.Param("ref")); err != nil {
		s.uiProblem(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, OfficesPage+"?msg=bureau-deconnecte")
}

// uiResend is "Renvoyer", then back to the same view of the report.
func (s *Pages) uiResend(c *gin.Context) {
	r, err := s.School.ResendLesson(c.Request.Context(), schoolOf(c), c.Param("ref"))
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	back := lessonsQuery(c.PostForm("retour"))
	back.Set("msg", "renvoyee")
	if !r.Started { // Livret's own checks still refuse it
		back.Set("msg", "toujours-erreur")
	}
	c.Redirect(http.StatusSeeOther, "/ui/lessons?"+back.Encode())
}

// uiResendMany is "Renvoyer les N leçons": the DSR's refusals of the view's office, student,
// category and period, then back to the same view.
func (s *Pages) uiResendMany(c *gin.Context) {
	f := school.ResendFilter{Office: strings.TrimSpace(c.PostForm("office")), Student: strings.TrimSpace(c.PostForm("student")),
		From: strings.TrimSpace(c.PostForm("from")), To: strings.TrimSpace(c.PostForm("to")), Category: strings.TrimSpace(c.PostForm("category"))}
	r, err := s.School.ResendLessons(c.Request.Context(), schoolOf(c), f)
	if err != nil {
		s.uiProblem(c, err)
		return
	}
	back := lessonsQuery(c.PostForm("retour"))
	switch {
	case r.Resent == 0:
		back.Set("msg", "rien-a-renvoyer")
	case r.Deferred:
		back.Set("msg", "renvoyees-differe")
	case r.More:
		back.Set("msg", "renvoyees-suite")
	default:
		back.Set("msg", "renvoyees")
	}
	c.Redirect(http.StatusSeeOther, "/ui/lessons?"+back.Encode())
}

// lessonsQuery keeps, of a query string sent back by a form, only the report's own
// parameters: the redirect stays on /ui/lessons whatever it holds.
func lessonsQuery(raw string) url.Values {
	in, _ := url.ParseQuery(raw)
	out := url.Values{}
	for _, k := range []string{"tab", "office", "from", "to", "category", "page", "q", "student", "status"} {
		if v := strings.TrimSpace(in.Get(k)); v != "" && len(v) <= 200 {
			out.Set(k, v)
		}
	}
	return out
}

// New returns the pages over the use-case layer svc. Cookies are Secure when Livret's public
// URL (the OAuth redirect's) is https.
func New(svc *school.Service, sealer *db.Sealer, logger *slog.Logger) *Pages {
	secure := svc.OAuth != nil && strings.HasPrefix(svc.OAuth.RedirectURL, "https://")
	return &Pages{School: svc, Sealer: sealer, Secure: secure, Logger: logger}
}
