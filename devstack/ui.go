package devstack

import (
	"fmt"
	"net"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// UIConfig shapes the embedded Temporal Web UI.
type UIConfig struct {
	// Addr is where browsers reach it, e.g. "127.0.0.1:8233".
	Addr string
	// TemporalAddr is the frontend's gRPC address.
	TemporalAddr string
	// Namespace is the one the UI opens on.
	Namespace string
}

// UI is the running Web UI (github.com/temporalio/ui-server/v2, assets embedded).
type UI struct {
	srv  *uiserver.Server
	done chan error
}

// StartUI serves the Temporal Web UI in the background. It is configured as the Temporal
// CLI's dev server configures it: no auth, plain HTTP (so the CSRF cookie is not "Secure"),
// its own access log off.
func StartUI(cfg UIConfig) (*UI, error) {
	host, port, err := splitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("temporal UI address %q: %w", cfg.Addr, err)
	}
	// The UI server exits the process when it cannot listen: check first, fail politely.
	if err := portFree(net.JoinHostPort(host, fmt.Sprint(port))); err != nil {
		return nil, fmt.Errorf("temporal UI: %w", err)
	}
	ns := cfg.Namespace
	if ns == "" {
		ns = "default"
	}
	srv := uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                host,
		Port:                port,
		TemporalGRPCAddress: cfg.TemporalAddr,
		EnableUI:            true,
		DefaultNamespace:    ns,
		HideLogs:            true,
		DisableNewsFetch:    true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
	}))
	u := &UI{srv: srv, done: make(chan error, 1)}
	go func() { u.done <- srv.Start() }()
	return u, nil
}

// Stop closes the UI's listener and waits for its server to return.
func (u *UI) Stop() error {
	u.srv.Stop()
	return <-u.done
}
