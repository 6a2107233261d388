package activities

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"livret/domain"
)

// One row per way a POST gets no answer, wrapped as net/http wraps it (url.Error, net.OpError).
func TestClassifyNoAnswer(t *testing.T) {
	wrap := func(err error) error {
		return &url.Error{Op: "Post", URL: "https://hooks.example.fr/x?token=secret", Err: &net.OpError{Op: "dial", Net: "tcp", Err: err}}
	}
	for _, c := range []struct {
		name string
		err  error
		want domain.WebhookNoAnswer
	}{
		{"client timeout", &url.Error{Op: "Post", Err: context.DeadlineExceeded}, domain.WebhookTimeout},
		{"dial timeout", wrap(os.ErrDeadlineExceeded), domain.WebhookTimeout},
		{"refused", wrap(os.NewSyscallError("connect", syscall.ECONNREFUSED)), domain.WebhookRefused},
		{"dns", &url.Error{Op: "Post", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "hooks.example.fr"}}}, domain.WebhookDNS},
		{"tls unknown authority", &url.Error{Op: "Post", Err: x509.UnknownAuthorityError{}}, domain.WebhookTLS},
		{"reset", wrap(os.NewSyscallError("read", syscall.ECONNRESET)), domain.WebhookCut},
		{"eof", &url.Error{Op: "Post", Err: io.EOF}, domain.WebhookCut},
		{"bad address", &url.Error{Op: "parse", Err: errors.New("invalid")}, domain.WebhookBadAddress},
		{"anything else", wrap(errors.New("no route to host")), domain.WebhookNetwork},
	} {
		if got := classifyNoAnswer(c.err); got != c.want {
			t.Errorf("%s: %s, want %s", c.name, got, c.want)
		}
	}
}
