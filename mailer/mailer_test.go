package mailer_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"livret/mailer"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw  string
		want mailer.Config
	}{
		{"smtp://mail.example.fr", mailer.Config{Host: "mail.example.fr", Port: 587, TLS: mailer.TLSStartTLS}},
		{"smtps://mail.example.fr", mailer.Config{Host: "mail.example.fr", Port: 465, TLS: mailer.TLSImplicit}},
		{"smtp://mail.example.fr?tls=tls", mailer.Config{Host: "mail.example.fr", Port: 465, TLS: mailer.TLSImplicit}},
		{"smtp://127.0.0.1:1025?tls=none", mailer.Config{Host: "127.0.0.1", Port: 1025, TLS: mailer.TLSNone}},
		{"smtp://mail.example.fr?tls=NONE", mailer.Config{Host: "mail.example.fr", Port: 25, TLS: mailer.TLSNone}},
		{"smtp://[::1]:2525?tls=none", mailer.Config{Host: "::1", Port: 2525, TLS: mailer.TLSNone}},
		{"smtp://alertes%40ecole.fr:p%40ss%3Aw%2Frd@mail.example.fr:587", mailer.Config{Host: "mail.example.fr", Port: 587,
			TLS: mailer.TLSStartTLS, Username: "alertes@ecole.fr", Password: "p@ss:w/rd"}},
		{"smtps://user@mail.example.fr:2465/", mailer.Config{Host: "mail.example.fr", Port: 2465, TLS: mailer.TLSImplicit, Username: "user"}},
		{"smtp://mail.example.fr?timeout=5s", mailer.Config{Host: "mail.example.fr", Port: 587, TLS: mailer.TLSStartTLS, Timeout: 5 * time.Second}},
		{"smtp://u:p@mail.example.fr?auth=PLAIN", mailer.Config{Host: "mail.example.fr", Port: 587, TLS: mailer.TLSStartTLS,
			Username: "u", Password: "p", Auth: "plain"}},
	}
	for _, c := range cases {
		got, err := mailer.ParseURL(c.raw)
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		if c.want.Timeout == 0 {
			c.want.Timeout = mailer.DefaultTimeout
		}
		if c.want.Auth == "" {
			c.want.Auth = "auto"
		}
		if got.Host != c.want.Host || got.Port != c.want.Port || got.TLS != c.want.TLS || got.Username != c.want.Username ||
			got.Password != c.want.Password || got.Timeout != c.want.Timeout || got.Auth != c.want.Auth {
			t.Errorf("%s: %+v, want %+v", c.raw, got, c.want)
		}
		if got.From.String() != `"Livret" <livret@localhost>` {
			t.Errorf("%s: default sender %q", c.raw, got.From.String())
		}
	}
}

func TestParseURLSender(t *testing.T) {
	cases := map[string]string{
		"smtp://h?from=Livret%20%3Calertes%40livret.fr%3E":                   `"Livret" <alertes@livret.fr>`,
		"smtp://h?from=alertes@livret.fr":                                    `"Livret" <alertes@livret.fr>`,
		"smtp://h?from=%22Auto-%C3%A9cole%20Livret%22%20%3Ca%40livret.fr%3E": `=?utf-8?q?Auto-=C3=A9cole_Livret?= <a@livret.fr>`,
	}
	for raw, want := range cases {
		cfg, err := mailer.ParseURL(raw)
		if err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if got := cfg.From.String(); got != want {
			t.Errorf("%s: from %q, want %q", raw, got, want)
		}
	}
}

func TestParseURLRefuses(t *testing.T) {
	cases := map[string]string{
		"":                                    "scheme",
		"mail.example.fr:25":                  "scheme",
		"http://mail.example.fr":              "scheme",
		"smtp://":                             "no host",
		"smtp://:secret@mail.example.fr":      "no user",
		"smtp://mail.example.fr:0":            "bad port",
		"smtp://mail.example.fr:99999":        "bad port",
		"smtp://mail.example.fr/relay":        "path",
		"smtp://mail.example.fr?tls=maybe":    "tls=",
		"smtps://mail.example.fr?tls=none":    "implicit TLS",
		"smtp://mail.example.fr?from=nope":    "not an address",
		"smtp://mail.example.fr?timeout=x":    "timeout",
		"smtp://mail.example.fr?tsl=none":     "unknown parameter",
		"smtp://mail.example.fr?auth=xoauth2": "auth=",
		"smtp://u:s3cr3t@host:port":           "",
	}
	for raw, want := range cases {
		_, err := mailer.ParseURL(raw)
		if err == nil {
			t.Errorf("%q: accepted", raw)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want it to say %q", raw, err, want)
		}
		if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error carries the password: %v", raw, err)
		}
	}
}

// The password never shows: not in String, not in a structured log line.
func TestConfigRedactsPassword(t *testing.T) {
	cfg, err := mailer.ParseURL("smtp://alertes:tr%C3%A8s-secret@mail.example.fr:587?from=alertes%40livret.fr")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password != "très-secret" {
		t.Fatalf("password %q", cfg.Password)
	}
	s := cfg.String()
	if strings.Contains(s, "secret") || !strings.Contains(s, "alertes:***@mail.example.fr:587") || !strings.Contains(s, "tls=starttls") {
		t.Fatalf("String() = %q", s)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("mailer", "smtp", cfg)
	if strings.Contains(buf.String(), "secret") || !strings.Contains(buf.String(), "***") {
		t.Fatalf("log line %s", buf.String())
	}
	back, err := mailer.ParseURL(strings.Replace(s, "***", "x", 1))
	if err != nil || back.Host != cfg.Host || back.Port != cfg.Port || back.From != cfg.From || back.TLS != cfg.TLS {
		t.Fatalf("String() does not parse back: %q → %+v, %v", s, back, err)
	}
}
