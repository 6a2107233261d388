package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
)

// NewBrowser returns an HTTP client that behaves like an admin's browser for the login flow:
// it keeps the RdvPermis session cookie and does not follow redirects, so the caller reads
// the code from the redirect to the callback.
func NewBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// BrowserLogin walks the authorization endpoint as a browser does: it opens authURL, logs
// in with email and password when the login page shows (a browser already logged in is sent
// straight back) and returns the redirect URL carrying the code and state. For tests, the
// dev demo, benchmarks and drills: production users log in themselves.
func BrowserLogin(ctx context.Context, browser *http.Client, authURL, email, password string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := browser.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK { // the login page
		form := url.Values{"email": {email}, "password": {password}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, authURL, strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err = browser.Do(req)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
	}
	if resp.StatusCode != http.StatusFound {
		return nil, fmt.Errorf("sandbox login: HTTP %d", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return nil, err
	}
	if loc.Query().Get("code") == "" {
		return nil, fmt.Errorf("sandbox login: no code in the redirect (%s)", loc.Query().Get("error"))
	}
	return loc, nil
}
