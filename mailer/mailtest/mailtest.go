// Package mailtest gives a test a real SMTP server: a mailpit process of its own on free
// loopback ports, stopped when the test ends, whose messages the test reads back through
// mailpit's HTTP API. A machine without mailpit fails the test with the command that
// installs it (.ci/run runs that command).
package mailtest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"livret/mailer"
	"livret/mailer/mailpit"
)

// Server is a running mailpit for one test.
type Server struct {
	*mailpit.Process
	t testing.TB
}

// Options shape the server.
type Options struct {
	// AcceptAnyAuth: accept any SMTP user and password (and none), without TLS.
	AcceptAnyAuth bool
}

// Start starts mailpit for t; it stops when t ends.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith starts mailpit for t with opts.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	bin, err := mailpit.Find()
	if errors.Is(err, mailpit.ErrNotInstalled) {
		// A fresh machine: README's test command installs it once, as `livret dev` does
		// (.ci/run installs it beforehand).
		ictx, icancel := context.WithTimeout(context.Background(), 10*time.Minute)
		bin, err = mailpit.Install(ictx)
		icancel()
	}
	if err != nil {
		t.Fatalf("mailtest: %v (CI installs it: .ci/run)", err)
	}
	if v := mailpit.InstalledVersion(bin); v != mailpit.Version {
		t.Logf("mailtest: %s is mailpit %q, Livret is tested with %s (%s)", bin, v, mailpit.Version, mailpit.InstallCommand)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	p, err := mailpit.Start(ctx, mailpit.Options{Binary: bin, Database: filepath.Join(t.TempDir(), "mailpit.db"),
		AcceptAnyAuth: opts.AcceptAnyAuth})
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("mailtest: %v", err)
		}
	})
	return &Server{Process: p, t: t}
}

// Config is the mailer configuration that sends to this server.
func (s *Server) Config() mailer.Config {
	s.t.Helper()
	cfg, err := mailer.ParseURL(s.SMTPURL() + "&from=" + "Livret%20%3Calertes%40livret.test%3E")
	if err != nil {
		s.t.Fatal(err)
	}
	return cfg
}

// Mailer is a mailer that sends to this server.
func (s *Server) Mailer() *mailer.Mailer { return mailer.New(s.Config()) }

// Messages lists what the server received, newest first.
func (s *Server) Messages() []mailpit.Summary {
	s.t.Helper()
	ms, err := s.Client.Messages(context.Background())
	if err != nil {
		s.t.Fatalf("mailtest: %v", err)
	}
	return ms
}

// Message reads one message in full.
func (s *Server) Message(id string) mailpit.Message {
	s.t.Helper()
	m, err := s.Client.Message(context.Background(), id)
	if err != nil {
		s.t.Fatalf("mailtest: %v", err)
	}
	return m
}

// Headers reads one message's headers.
func (s *Server) Headers(id string) map[string][]string {
	s.t.Helper()
	h, err := s.Client.Headers(context.Background(), id)
	if err != nil {
		s.t.Fatalf("mailtest: %v", err)
	}
	return h
}

// Raw reads one message's source.
func (s *Server) Raw(id string) string {
	s.t.Helper()
	raw, err := s.Client.Raw(context.Background(), id)
	if err != nil {
		s.t.Fatalf("mailtest: %v", err)
	}
	return raw
}
