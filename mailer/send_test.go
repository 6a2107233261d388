package mailer_test

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	"livret/mailer"
	"livret/mailer/mailtest"
)

// TestSendReachesSMTPServer: a message reaches a real SMTP server (mailpit) as
// multipart/alternative, UTF-8, its French accents intact in the subject and both bodies,
// to every recipient, with the Message-ID it was given and the headers of an automatic
// message.
func TestSendReachesSMTPServer(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t)
	msg := mailer.Message{
		To:        []string{"gerant@ecole-demo.fr", "bureau@ecole-demo.fr"},
		Subject:   "Livret : 2 leçons en erreur à corriger — récapitulatif du 05/01/2026",
		Text:      "Bonjour,\n\nÉlève : Léa Perrin, leçon du 05/01/2026 à 09:00.\n",
		HTML:      "<p>Bonjour,</p><p>Élève : <strong>Léa Perrin</strong>, leçon du 05/01/2026 à 09:00.</p>",
		MessageID: "<digest-7-2026-01-05@livret>",
	}
	if err := srv.Mailer().Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	list := srv.Messages()
	if len(list) != 1 {
		t.Fatalf("%d messages, want 1", len(list))
	}
	m := srv.Message(list[0].ID)
	if m.Subject != msg.Subject || m.MessageID != "digest-7-2026-01-05@livret" {
		t.Errorf("subject %q, Message-ID %q", m.Subject, m.MessageID)
	}
	if strings.TrimSpace(strings.ReplaceAll(m.Text, "\r\n", "\n")) != strings.TrimSpace(msg.Text) || !strings.Contains(m.HTML, "<strong>Léa Perrin</strong>") {
		t.Errorf("bodies:\n%q\n%q", m.Text, m.HTML)
	}
	var to []string
	for _, a := range m.To {
		to = append(to, a.Address)
	}
	if !slices.Equal(to, msg.To) || m.From.Address != "alertes@livret.test" || m.From.Name != "Livret" {
		t.Errorf("from %+v, to %v", m.From, to)
	}
	h := srv.Headers(list[0].ID)
	if got := h["Auto-Submitted"]; !slices.Equal(got, []string{"auto-generated"}) {
		t.Errorf("Auto-Submitted %v", got)
	}
	if ct := strings.Join(h["Content-Type"], ""); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q", ct)
	}
	raw := srv.Raw(list[0].ID)
	if !strings.Contains(raw, "text/plain; charset=UTF-8") || !strings.Contains(raw, "text/html; charset=UTF-8") {
		t.Errorf("parts are not UTF-8 text and HTML:\n%s", raw)
	}
}

// A server that demands authentication gets it (the user and password of the URL).
func TestSendAuthenticates(t *testing.T) {
	t.Parallel()
	srv := mailtest.StartWith(t, mailtest.Options{AcceptAnyAuth: true})
	cfg := srv.Config()
	cfg.Username, cfg.Password = "alertes", "mot-de-passe"
	// Over no TLS, "auto" offers no password in clear: the server here offers PLAIN and
	// LOGIN only, so nothing is sent.
	if err := mailer.New(cfg).Send(context.Background(), mailer.Message{To: []string{"a@ecole.fr"}, Subject: "Test",
		Text: "Bonjour"}); err == nil {
		t.Fatal("auto sent a password in clear")
	}
	// PLAIN named explicitly, to this machine's loopback: go-mail allows it.
	cfg.Auth = "plain"
	if err := mailer.New(cfg).Send(context.Background(), mailer.Message{To: []string{"a@ecole.fr"}, Subject: "Test",
		Text: "Bonjour"}); err != nil {
		t.Fatal(err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("%d messages", n)
	}
}

// A server that does not answer is an error, and the error carries no password.
func TestSendFailsWithoutServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg, err := mailer.ParseURL("smtp://u:tr%C3%A8s-secret@" + addr + "?tls=none&timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	err = mailer.New(cfg).Send(context.Background(), mailer.Message{To: []string{"a@ecole.fr"}, Subject: "x", Text: "x"})
	if err == nil {
		t.Fatal("sent to nobody")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("the error carries the password: %v", err)
	}
	// STARTTLS required by default: a server without it is refused, nothing sent in clear.
	srv := mailtest.Start(t)
	cfg, err = mailer.ParseURL("smtp://" + srv.SMTPAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer.New(cfg).Send(context.Background(), mailer.Message{To: []string{"a@ecole.fr"}, Subject: "x", Text: "x"}); err == nil {
		t.Fatal("sent without STARTTLS although the URL asks for it")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages reached the server without TLS", n)
	}
}
