package webapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/oauth2"

	"livret/db"
	"livret/domain"
	"livret/dsr"
	"livret/school"
)

// CallbackPath is where RdvPermis sends the browser back; PublicURL+CallbackPath is the
// redirect URI registered at the DSR.
const CallbackPath = "/v1/oauth/callback"

// OAuthBindingCookie is the cookie (path CallbackPath) binding a linking started on the
// pages to their browser; webui sets it, the callback reads it.
const OAuthBindingCookie = "livret_oauth_binding"

// OfficesPage is the admin's page of offices: where the browser lands after linking an
// office (LinkedPage), a fixed path on Livret's own host, never taken from the request (no
// open redirect).
const OfficesPage = "/ui/offices"

// LinkedPage is OfficesPage with the notice that the office is linked (one of the pages'
// fixed ?msg= keys).
const LinkedPage = OfficesPage + "?msg=bureau-connecte"

// Orchestrator is what the API asks of Temporal: the use cases' needs, and its readiness.
// *worker.Orchestrator implements it.
type Orchestrator = school.Orchestrator

// Pages are the admin's pages (package webui), mounted beside the API on the same router:
// the API does not know them, the composition root (livret webapi, livret dev) gives them.
type Pages interface {
	Mount(r *gin.Engine)
	// Problem answers a browser with a French HTML page for p: the router's one error
	// renderer calls it instead of writing problem+json when the request is a browser's
	// (wantsPage), whatever route it reached or missed.
	Problem(c *gin.Context, p *school.Problem)
}

// Server holds the API's dependencies. Build it with New; then serve Handler.
type Server struct {
	// School is the use-case layer every handler calls; the pages share it.
	School *school.Service
	Pool   *pgxpool.Pool
	Sealer *db.Sealer
	// OAuth is the RdvPermis client configuration; RedirectURL is PublicURL+CallbackPath.
	OAuth        *oauth2.Config
	Orchestrator Orchestrator
	// AdminToken is the operator's bearer token (POST /v1/schools). Empty refuses every call.
	AdminToken string
	Logger     *slog.Logger
	// Metrics is the registry /metrics serves; the API registers its collectors on it.
	Metrics *prometheus.Registry
	// Pages, when set, are mounted by Handler.
	Pages Pages
	Now   func() time.Time

	metricsOnce sync.Once
	metrics     *httpMetrics
}

// Config is what the webapi (and `livret dev`) reads from the environment.
type Config struct {
	// PublicURL is how browsers reach Livret (LIVRET_PUBLIC_URL), e.g. "https://livret.example.fr".
	PublicURL string
	// AdminToken is LIVRET_ADMIN_TOKEN.
	AdminToken string
	// TokenKey is LIVRET_TOKEN_KEY (db.ParseSealer).
	TokenKey string
	// DSR is how to reach RdvPermis: BaseURL, ClientID, ClientSecret. Its RedirectURL is set
	// by New from PublicURL.
	DSR dsr.Config
	// DefaultScope is LIVRET_DEFAULT_SCOPE: what a new school sends ("guide", the default, or
	// "etendu"; docs/rules.md, "Scope").
	DefaultScope string
	// ETPWindowMonths is LIVRET_ETP_WINDOW_MONTHS: the ETP's window in months (1 to 12); 0
	// keeps domain's table (3).
	ETPWindowMonths int
	// ETPHoursPerETP is LIVRET_ETP_HOURS_PER_ETP: the counted hours over the window that
	// make one full-time instructor, a decimal ("455" or "455,5"); empty: no ETP estimate.
	ETPHoursPerETP string

	// SendMail sends the people's invitations and reset links (LIVRET_SMTP_URL's server; in
	// dev, mailpit). nil: inviting answers 503.
	SendMail school.MailSender

	Pool         *pgxpool.Pool
	Orchestrator Orchestrator
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Metrics defaults to a new registry with the Go and process collectors; New adds the
	// state metrics (db.StateCollector) to it.
	Metrics *prometheus.Registry
}

// New builds a Server from its configuration.
func New(cfg Config) (*Server, error) {
	if cfg.Pool == nil || cfg.Orchestrator == nil {
		return nil, errors.New("webapi: a database pool and an orchestrator are required")
	}
	if err := CheckAdminToken(cfg.AdminToken); err != nil {
		return nil, fmt.Errorf("webapi: %w", err)
	}
	sealer, err := db.ParseSealer(cfg.TokenKey)
	if err != nil {
		return nil, fmt.Errorf("webapi: LIVRET_TOKEN_KEY: %w", err)
	}
	scope := domain.ScopeGuide
	if cfg.DefaultScope != "" {
		var ok bool
		if scope, ok = domain.ParseScope(cfg.DefaultScope); !ok {
			return nil, fmt.Errorf("webapi: LIVRET_DEFAULT_SCOPE %q: want guide or etendu", cfg.DefaultScope)
		}
	}
	if cfg.ETPWindowMonths < 0 || cfg.ETPWindowMonths > 12 {
		return nil, fmt.Errorf("webapi: LIVRET_ETP_WINDOW_MONTHS %d: want 1 to 12", cfg.ETPWindowMonths)
	}
	hoursPerETP, err := parseHoursPerETP(cfg.ETPHoursPerETP)
	if err != nil {
		return nil, err
	}
	public, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
	if err != nil || (public.Scheme != "http" && public.Scheme != "https") || public.Host == "" {
		return nil, fmt.Errorf("webapi: LIVRET_PUBLIC_URL %q: want an absolute http(s) URL", cfg.PublicURL)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	registry := cfg.Metrics
	if registry == nil {
		registry = prometheus.NewRegistry()
		registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	// The state metrics (failed runs, accounts to reconnect) are rows every process would
	// read alike: the API serves them, one process per deployment, where N workers would
	// export N copies of each gauge. A registry lent by the caller that has them already (a
	// second Server on it) keeps its own.
	register(registry, prometheus.Collector(&db.StateCollector{Pool: cfg.Pool, Logger: logger}))
	dsrCfg := cfg.DSR
	dsrCfg.RedirectURL = public.String() + CallbackPath
	if dsrCfg.Logger == nil {
		dsrCfg.Logger = logger
	}
	tokens := &db.TokenStore{Pool: cfg.Pool, Sealer: sealer}
	oauth := dsrCfg.OAuth2()
	return &Server{
		School: &school.Service{
			Pool:               cfg.Pool,
			Sealer:             sealer,
			Tokens:             tokens,
			RdvPermis:          rdvPermis{dsr.New(dsrCfg, tokens, nil)},
			OAuth:              oauth,
			RdvPermisLogoutURL: dsrCfg.LogoutURL(),
			Orchestrator:       cfg.Orchestrator,
			DefaultScope:       scope,
			ETPWindowMonths:    cfg.ETPWindowMonths,
			ETPHoursPerETP:     hoursPerETP,
			SendMail:           cfg.SendMail,
			PublicURL:          public.String(),
			Logger:             logger,
			Now:                time.Now,
		},
		Pool:         cfg.Pool,
		Sealer:       sealer,
		OAuth:        oauth,
		Orchestrator: cfg.Orchestrator,
		AdminToken:   cfg.AdminToken,
		Logger:       logger,
		Metrics:      registry,
		Now:          time.Now,
	}, nil
}

// parseHoursPerETP reads LIVRET_ETP_HOURS_PER_ETP: a positive decimal, with a point or a
// comma ("455", "455,5"); empty is 0, no estimate.
func parseHoursPerETP(raw string) (float64, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0, nil
	}
	h, err := strconv.ParseFloat(strings.Replace(raw, ",", ".", 1), 64)
	if err != nil || !(h > 0) || math.IsInf(h, 0) {
		return 0, fmt.Errorf("webapi: LIVRET_ETP_HOURS_PER_ETP %q: want a positive decimal number of hours", raw)
	}
	return h, nil
}

// rdvPermis is the DSR client as the link use case sees it.
type rdvPermis struct{ c *dsr.Client }

func (r rdvPermis) Exchange(ctx context.Context, code, verifier string) (*oauth2.Token, error) {
	return r.c.Exchange(ctx, code, verifier)
}

func (r rdvPermis) Identify(ctx context.Context, tok *oauth2.Token) (school.Identity, error) {
	me, err := r.c.MeWithToken(ctx, tok)
	if err != nil {
		return school.Identity{}, err
	}
	return school.Identity{AccountID: me.AccountID, Email: me.Email, Agrement: me.School.Agrement}, nil
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Serve answers on ln until ctx is cancelled, then lets the requests in flight finish (at
// most 15 s) before returning.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// The OAuth callback makes two DSR calls of at most dsr.DefaultTimeout each.
		WriteTimeout: 2*dsr.DefaultTimeout + 30*time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(s.log().Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.log().Info("webapi listening", "addr", ln.Addr().String())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	s.log().Info("webapi shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-served; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

// MinAdminTokenLength is the shortest LIVRET_ADMIN_TOKEN accepted: the operator's token
// creates schools and reads every one, so it must resist guessing (32 characters of a
// random base64 string are 192 bits; `openssl rand -base64 32` gives 44).
const MinAdminTokenLength = 32

// CheckAdminToken refuses an operator token that is missing, short, or one character
// repeated: `livret webapi` and `livret dev` call it before dialling anything, and New again.
func CheckAdminToken(token string) error {
	if token == "" {
		return errors.New("LIVRET_ADMIN_TOKEN is required (the operator's bearer token)")
	}
	if n := utf8.RuneCountInString(token); n < MinAdminTokenLength {
		return fmt.Errorf("LIVRET_ADMIN_TOKEN is too short (%d characters, at least %d): generate one with `openssl rand -base64 32`", n, MinAdminTokenLength)
	}
	if first, _ := utf8.DecodeRuneInString(token); strings.Trim(token, string(first)) == "" {
		return errors.New("LIVRET_ADMIN_TOKEN is one character repeated: generate one with `openssl rand -base64 32`")
	}
	return nil
}
