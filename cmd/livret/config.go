package main

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"livret/dsr"
	"livret/mailer"
	"livret/worker"
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

// temporalOptions are the client options of every role, from the environment; with reg,
// the SDK's metrics go to it.
func temporalOptions(reg prometheus.Registerer) (client.Options, func()) {
	return worker.ClientOptions(env("TEMPORAL_ADDRESS", "127.0.0.1:7233"), env("TEMPORAL_NAMESPACE", "default"), slog.Default(), reg)
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

// mailerFromEnv is the SMTP server of the daily digests (LIVRET_SMTP_URL); nil when unset.
// The URL's password never reaches a log line: the mailer's configuration prints redacted.
func mailerFromEnv() (*mailer.Mailer, error) {
	raw := env("LIVRET_SMTP_URL", "")
	if raw == "" {
		return nil, nil
	}
	cfg, err := mailer.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return mailer.New(cfg), nil
}

// envFloat reads a positive decimal number.
func envFloat(name string, def float64) (float64, error) {
	v := env(name, "")
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive number", name, v)
	}
	return f, nil
}
