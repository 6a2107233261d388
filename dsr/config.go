package dsr

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// DefaultTimeout bounds each HTTP call to the DSR (API or token endpoint).
const DefaultTimeout = 30 * time.Second

// DefaultUserAgent identifies Livret to the DSR when Config.UserAgent is empty.
const DefaultUserAgent = "Livret dsr-client"

// Config is how Livret reaches the DSR.
type Config struct {
	// BaseURL is the DSR's root (LIVRET_DSR_URL), e.g. "http://127.0.0.1:8090" for the sandbox.
	// The Keycloak realm and the API are both under it.
	BaseURL      string
	ClientID     string
	ClientSecret string
	// RedirectURL is Livret's OAuth callback, exactly as registered at the DSR.
	RedirectURL string
	// Scopes default to DefaultScopes.
	Scopes []string
	// HTTPClient defaults to a pooled client; its Timeout, if any, adds to Timeout.
	HTTPClient *http.Client
	// Timeout bounds each call (default DefaultTimeout).
	Timeout time.Duration
	// UserAgent is sent on every call (default DefaultUserAgent).
	UserAgent string
	// Logger receives refresh events (never a token). Default slog.Default().
	Logger *slog.Logger
}

func (c Config) baseURL() string { return strings.TrimRight(c.BaseURL, "/") }

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// OAuth2 is the Keycloak client configuration, for AuthCodeURL (with
// oauth2.S256ChallengeOption) and Exchange (with oauth2.VerifierOption). The client secret
// goes in an HTTP Basic header (RFC 6749 §2.3.1), stated explicitly so the library never
// probes the endpoint with a failing request first.
func (c Config) OAuth2() *oauth2.Config {
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		RedirectURL:  c.RedirectURL,
		Scopes:       append([]string(nil), scopes...),
		Endpoint: oauth2.Endpoint{
			AuthURL:   c.baseURL() + authPath,
			TokenURL:  c.baseURL() + tokenPath,
			AuthStyle: oauth2.AuthStyleInHeader,
		},
	}
}

// LogoutURL ends the browser's RdvPermis login session: the admin opens it before linking an
// office to a different account (decentralised management).
func (c Config) LogoutURL() string { return c.baseURL() + logoutPath }

// httpClient is the configured client with the User-Agent added to every request, token
// calls included (golang.org/x/oauth2 sets none).
func (c Config) httpClient() *http.Client {
	var hc http.Client
	if c.HTTPClient != nil {
		hc = *c.HTTPClient
	}
	base := hc.Transport
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Hundreds of lessons go to one host: keep connections instead of redialling.
		t.MaxIdleConnsPerHost = 64
		base = t
	}
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	hc.Transport = userAgentTransport{base: base, userAgent: ua}
	return &hc
}

type userAgentTransport struct {
	base      http.RoundTripper
	userAgent string
}

func (t userAgentTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context()) // a RoundTripper must not modify the caller's request
	r.Header.Set("User-Agent", t.userAgent)
	return t.base.RoundTrip(r)
}
