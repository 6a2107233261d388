// Package mailer is Livret's SMTP client, as dsr/ is its DSR client: the configuration read
// from LIVRET_SMTP_URL and one call, Send, that hands a French message (plain text and
// HTML alternatives, UTF-8) to a real SMTP server through github.com/wneessen/go-mail.
//
// The password never leaves the Config: String redacts it, and neither the errors nor the
// log lines of this package carry it.
package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode is how the connection to the SMTP server is protected.
type TLSMode string

const (
	// TLSStartTLS: a plain connection upgraded with STARTTLS, which the server must offer
	// (submission, port 587). The default of smtp://.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit: TLS from the first byte (port 465). The mode of smtps://.
	TLSImplicit TLSMode = "tls"
	// TLSNone: no encryption at all, for a mail catcher on the loopback (mailpit).
	TLSNone TLSMode = "none"
)

// DefaultFrom is the sender when the URL names none.
const DefaultFrom = "Livret <livret@localhost>"

// DefaultTimeout bounds the connection and each SMTP command.
const DefaultTimeout = 30 * time.Second

// Config is where and as whom Livret sends mail. Fill it with ParseURL.
type Config struct {
	Host string
	Port int
	// Username and Password authenticate to the server (both empty: no authentication).
	Username string
	Password string
	// From is the sender's address as the recipients read it.
	From mail.Address
	TLS  TLSMode
	// Timeout bounds the connection and each command (default DefaultTimeout).
	Timeout time.Duration
	// TLSConfig, when set, replaces the default TLS settings (a test's own CA, say).
	TLSConfig *tls.Config
	// Auth is the SMTP AUTH mechanism when there is a user: "auto" (the strongest the
	// server offers; PLAIN and LOGIN only over TLS), or one of authMechanisms. PLAIN and
	// LOGIN never go in clear to another machine than this one.
	Auth string
}

// authMechanisms are the mechanisms ?auth= may name, as go-mail calls them.
var authMechanisms = map[string]gomail.SMTPAuthType{
	"auto":          gomail.SMTPAuthAutoDiscover,
	"plain":         gomail.SMTPAuthPlain,
	"login":         gomail.SMTPAuthLogin,
	"cram-md5":      gomail.SMTPAuthCramMD5,
	"scram-sha-1":   gomail.SMTPAuthSCRAMSHA1,
	"scram-sha-256": gomail.SMTPAuthSCRAMSHA256,
}

// ParseURL reads LIVRET_SMTP_URL:
//
//	smtp://[user:pass@]host[:port][?from=Livret%20<alertes@example.fr>&tls=starttls|tls|none&auth=auto&timeout=30s]
//	smtps://[user:pass@]host[:port][?from=…]
//
// smtp:// uses STARTTLS unless tls says otherwise; smtps:// is implicit TLS. The port
// defaults to the mode's (587 STARTTLS, 465 TLS, 25 none), the sender to DefaultFrom. The
// user and password are percent-encoded, as in any URL.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url's error repeats the URL, password included: say only what is wrong.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL is not a URL: %v", err)
	}
	cfg := Config{Timeout: DefaultTimeout}
	switch u.Scheme {
	case "smtp":
		cfg.TLS = TLSStartTLS
	case "smtps":
		cfg.TLS = TLSImplicit
	default:
		return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: scheme %q, want smtp:// or smtps://", u.Scheme)
	}
	cfg.Host = u.Hostname()
	if cfg.Host == "" {
		return Config{}, errors.New("mailer: LIVRET_SMTP_URL names no host")
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: unexpected path %q", u.Path)
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
		if cfg.Username == "" {
			return Config{}, errors.New("mailer: LIVRET_SMTP_URL has a password but no user")
		}
	}
	q := u.Query()
	for name := range q {
		switch name {
		case "from", "tls", "auth", "timeout":
		default:
			return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: unknown parameter %q (from, tls, auth, timeout)", name)
		}
	}
	if mode := q.Get("tls"); mode != "" {
		switch m := TLSMode(strings.ToLower(mode)); m {
		case TLSStartTLS, TLSImplicit, TLSNone:
			if u.Scheme == "smtps" && m != TLSImplicit {
				return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: smtps:// is implicit TLS, not tls=%s", mode)
			}
			cfg.TLS = m
		default:
			return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: tls=%q, want starttls, tls or none", mode)
		}
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: bad port %q", p)
		}
		cfg.Port = n
	} else {
		cfg.Port = map[TLSMode]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[cfg.TLS]
	}
	from := q.Get("from")
	if from == "" {
		from = DefaultFrom
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: from=%q is not an address: %v", from, err)
	}
	if addr.Name == "" {
		addr.Name = "Livret"
	}
	cfg.From = *addr
	cfg.Auth = "auto"
	if a := strings.ToLower(q.Get("auth")); a != "" {
		if _, ok := authMechanisms[a]; !ok {
			return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: auth=%q, want auto, plain, login, cram-md5, scram-sha-1 or scram-sha-256", a)
		}
		cfg.Auth = a
	}
	if t := q.Get("timeout"); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return Config{}, fmt.Errorf("mailer: LIVRET_SMTP_URL: timeout=%q, want a duration such as 30s", t)
		}
		cfg.Timeout = d
	}
	return cfg, nil
}

// String is the configuration as a URL, its password replaced by ***: safe to log.
func (c Config) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port))}
	if c.TLS == TLSImplicit {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		if c.Password != "" {
			u.User = url.UserPassword(c.Username, "***")
		} else {
			u.User = url.User(c.Username)
		}
	}
	q := url.Values{}
	q.Set("from", c.From.String())
	if c.TLS != TLSImplicit {
		q.Set("tls", string(c.TLS))
	}
	if c.Auth != "" && c.Auth != "auto" {
		q.Set("auth", c.Auth)
	}
	u.RawQuery = q.Encode()
	// url.URL escapes the * of the redaction; put it back readable.
	return strings.Replace(u.String(), ":%2A%2A%2A@", ":***@", 1)
}

// LogValue keeps the password out of structured logs too.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Message is one e-mail: its recipients, a French subject, its text and HTML bodies (both
// sent, as multipart/alternative), and a fixed Message-ID ("<id@domain>" or "id@domain")
// so that a receiver can tell a resent message from a new one.
type Message struct {
	To        []string
	Subject   string
	Text      string
	HTML      string
	MessageID string
}

// Mailer sends messages through the configured server, one connection per Send.
type Mailer struct {
	cfg Config
}

// New returns a Mailer for cfg.
func New(cfg Config) *Mailer {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Mailer{cfg: cfg}
}

// Config is the mailer's configuration (String it to log it).
func (m *Mailer) Config() Config { return m.cfg }

// Send delivers msg to the server: nil once the server has accepted it for every recipient.
// An error means the server did not take it (or not for everyone); sending again is safe
// for the receiver, who sees the same Message-ID.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if len(msg.To) == 0 {
		return errors.New("mailer: a message without recipients")
	}
	if msg.Text == "" && msg.HTML == "" {
		return errors.New("mailer: a message without a body")
	}
	gm := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP))
	gm.SetAddrHeaderFromMailAddress(gomail.HeaderFrom, &m.cfg.From)
	if err := gm.To(msg.To...); err != nil {
		return fmt.Errorf("mailer: recipients: %w", err)
	}
	gm.Subject(msg.Subject)
	if id := strings.TrimSuffix(strings.TrimPrefix(msg.MessageID, "<"), ">"); id != "" {
		gm.SetMessageIDWithValue(id)
	} else {
		gm.SetMessageID()
	}
	gm.SetDate()
	// An automatic message: no vacation replies, no "out of office" loops (RFC 3834).
	gm.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	gm.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	switch {
	case msg.Text != "" && msg.HTML != "":
		gm.SetBodyString(gomail.TypeTextPlain, msg.Text)
		gm.AddAlternativeString(gomail.TypeTextHTML, msg.HTML)
	case msg.Text != "":
		gm.SetBodyString(gomail.TypeTextPlain, msg.Text)
	default:
		gm.SetBodyString(gomail.TypeTextHTML, msg.HTML)
	}

	c, err := gomail.NewClient(m.cfg.Host, m.options()...)
	if err != nil {
		return fmt.Errorf("mailer: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, gm); err != nil {
		return fmt.Errorf("mailer: send to %s: %w", net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port)), err)
	}
	return nil
}

func (m *Mailer) options() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(m.cfg.Port), gomail.WithTimeout(m.cfg.Timeout)}
	switch m.cfg.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if m.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(m.cfg.TLSConfig))
	}
	if m.cfg.Username != "" {
		mech, ok := authMechanisms[m.cfg.Auth]
		if !ok {
			mech = gomail.SMTPAuthAutoDiscover
		}
		opts = append(opts, gomail.WithSMTPAuth(mech),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password))
	}
	return opts
}

// SendText sends one plain-text message to one recipient: the people's invitations and reset
// links (school.MailSender).
func (m *Mailer) SendText(ctx context.Context, to, subject, text string) error {
	return m.Send(ctx, Message{To: []string{to}, Subject: subject, Text: text})
}
