package main

import (
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	tlog "go.temporal.io/sdk/log"

	"livret/dsr"
)

// dsrConfigFromEnv is how every role reaches the DSR (or the sandbox standing in for it).
func dsrConfigFromEnv(publicURL string) dsr.Config {
	return dsr.Config{
		BaseURL:      env("LIVRET_DSR_URL", "http://127.0.0.1:8090"),
		ClientID:     env("LIVRET_DSR_CLIENT_ID", ""),
		ClientSecret: env("LIVRET_DSR_CLIENT_SECRET", ""),
		RedirectURL:  publicURL + "/v1/oauth/callback",
		Logger:       slog.Default(),
	}
}

// temporalOptions are the client options of every role: the address, the namespace, the
// slog logger shared with the SDK, and (when reg is set) the SDK's metrics in Prometheus.
func temporalOptions(reg prometheus.Registerer) (client.Options, func(), error) {
	opts := client.Options{
		HostPort:  env("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		Namespace: env("TEMPORAL_NAMESPACE", "default"),
		Logger:    tlog.NewStructuredLogger(slog.Default()),
	}
	if reg == nil {
		return opts, func() {}, nil
	}
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: reg})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	opts.MetricsHandler = sdktally.NewMetricsHandler(scope)
	return opts, func() { _ = closer.Close() }, nil
}

// envInt reads an integer variable.
func envInt(name string, def int) (int, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a whole number", name, v)
	}
	return n, nil
}
