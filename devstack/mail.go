package devstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"livret/mailer"
	"livret/mailer/mailpit"
	"livret/school"
)

// devMail is where `livret dev` sends the daily digests: the SMTP server of LIVRET_SMTP_URL
// when set, else a mailpit of its own (a real SMTP server that keeps the messages, with a
// web UI), its messages kept in the data folder. Without mailpit installed the stack runs
// without digests and the banner says how to install it.
type devMail struct {
	Mailer *mailer.Mailer
	// WebURL is mailpit's web UI ("" when not ours).
	WebURL string
	// Note is what the banner says of the mail.
	Note string
}

func startMail(ctx context.Context, cfg Config, dataDir string, st *Stack) (devMail, error) {
	if cfg.SMTPURL != "" {
		mc, err := mailer.ParseURL(cfg.SMTPURL)
		if err != nil {
			return devMail{}, err
		}
		return devMail{Mailer: mailer.New(mc), Note: "sent through " + mc.String() + " (LIVRET_SMTP_URL)"}, nil
	}
	bin, err := mailpit.Find()
	if errors.Is(err, mailpit.ErrNotInstalled) {
		// A fresh machine: install it once (the go command builds it from the module proxy),
		// so that README's first command runs the whole system, mail catcher included.
		slog.Info("mailpit not found: installing it (once)", "command", mailpit.InstallCommand)
		if bin, err = mailpit.Install(ctx); err != nil {
			slog.Warn("no mail catcher: the daily digests are not sent", "install", mailpit.InstallCommand, "error", err.Error())
			return devMail{Note: "off: mailpit is not installed (" + mailpit.InstallCommand + "), or set LIVRET_SMTP_URL"}, nil
		}
	}
	if err != nil {
		return devMail{}, err
	}
	if v := mailpit.InstalledVersion(bin); v != mailpit.Version {
		slog.Warn("mailpit is not the version Livret is tested with", "binary", bin, "version", v, "want", mailpit.Version,
			"install", mailpit.InstallCommand)
	}
	p, err := mailpit.Start(ctx, mailpit.Options{Binary: bin, SMTPAddr: cfg.MailpitSMTPAddr, HTTPAddr: cfg.MailpitAddr,
		Database: filepath.Join(dataDir, "mailpit.db")})
	if err != nil {
		return devMail{}, fmt.Errorf("mailpit (LIVRET_MAILPIT_ADDR %s, LIVRET_MAILPIT_SMTP_ADDR %s): %w", cfg.MailpitAddr, cfg.MailpitSMTPAddr, err)
	}
	st.onStop("mailpit", p.Stop)
	mc, err := mailer.ParseURL(p.SMTPURL() + "&from=Livret%20%3Calertes%40livret.localhost%3E")
	if err != nil {
		return devMail{}, err
	}
	slog.Info("mailpit started", "web", p.WebURL(), "smtp", p.SMTPAddr)
	return devMail{Mailer: mailer.New(mc), WebURL: p.WebURL(),
		Note: "(mailpit: every digest Livret sends, SMTP on " + p.SMTPAddr + ")"}, nil
}

// sendMail is the invitations' and reset links' sender: the dev mail catcher's (or
// LIVRET_SMTP_URL's) server, nil when there is none.
func sendMail(m devMail) school.MailSender {
	if m.Mailer == nil {
		return nil
	}
	return m.Mailer.SendText
}
