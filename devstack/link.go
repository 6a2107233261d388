package devstack

import (
	"context"
	"fmt"
	"net/http"

	"livret/livretclient"
	"livret/sandbox"
)

// LinkOffice links an office as its admin does in a browser: "Se connecter" (confirm: past
// the warning shown when another office is linked already), the login page of the sandbox's
// RdvPermis, and back to Livret's OAuth callback. browser keeps the RdvPermis login cookie
// (sandbox.NewBrowser): a second office linked with it reuses the session, as at RdvPermis.
func LinkOffice(ctx context.Context, api *livretclient.Client, browser *http.Client, office string, confirm bool, email, password string) error {
	authURL, err := api.Connect(ctx, office, confirm)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	back, err := sandbox.BrowserLogin(ctx, browser, authURL, email, password)
	if err != nil {
		return fmt.Errorf("login at RdvPermis: %w", err)
	}
	if _, err := api.OAuthCallback(ctx, back.String()); err != nil {
		return fmt.Errorf("callback: %w", err)
	}
	return nil
}
