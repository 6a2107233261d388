package activities

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// Webhook delivery (docs/architecture.md, "Events, webhooks and digests"): DeliverWebhook
// POSTs one subscription's pending deliveries, in the order of their events, one at a time:
// the first one not yet delivered holds the others back (head of line), so a receiver gets
// a subscription's events in the order Livret wrote them. Every attempt is recorded after
// its POST, in one transaction; none is open during the POST.

// DeliverWebhookName is the activity's registered name.
const DeliverWebhookName = "DeliverWebhook"

// DeliverWebhookInput names the subscription whose deliveries to make.
type DeliverWebhookInput struct {
	WebhookID int64
}

// DeliverWebhookResult says what the dispatcher does next.
type DeliverWebhookResult struct {
	// Gone: the subscription is deleted (or unknown); the dispatcher ends.
	Gone bool
	// More: the time budget ran out with deliveries still due; call again at once.
	More bool
	// NextAttemptAt, when set, is when the first pending delivery is due again (it failed
	// and waits for its retry). Neither set nor More nor Gone: nothing is pending.
	NextAttemptAt time.Time
	// What this call did: deliveries confirmed by a 2xx, attempts failed and scheduled
	// again, deliveries given up (their event 24 h old).
	Delivered, Retried, Failed int
}

const (
	// WebhookTimeout bounds one POST, its answer's body included.
	WebhookTimeout = 10 * time.Second
	// webhookBudget bounds one activity's work, so that its heartbeats and the workflow's
	// history stay small and a redeploy takes over quickly; More says there is more to do.
	webhookBudget = time.Minute
	// webhookBodyRead is how much of an answer's body is read (and thrown away): enough to
	// reuse the connection, never stored.
	webhookBodyRead  = 64 << 10
	webhookUserAgent = "Livret-Webhooks/1"
)

// ErrTypeWebhookSecret: a subscription's secret does not open (its key is no longer in
// LIVRET_TOKEN_KEY). Retried: the operator puts the key back, and delivery resumes.
const ErrTypeWebhookSecret = "WebhookSecretUnreadable"

// Outcomes of an attempt, the metric's labels.
const (
	WebhookDelivered = "delivered"
	WebhookRetried   = "retried"
	WebhookFailed    = "failed"
)

// NewWebhookHTTPClient is the client deliveries are POSTed with: WebhookTimeout, no
// redirect followed (a 3xx is an answer that is not a 2xx), no cookies.
func NewWebhookHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	tr.ResponseHeaderTimeout = WebhookTimeout
	return &http.Client{Timeout: WebhookTimeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var defaultWebhookHTTP = NewWebhookHTTPClient()

func (a *Activities) webhookHTTP() *http.Client {
	if a.WebhookHTTP != nil {
		return a.WebhookHTTP
	}
	return defaultWebhookHTTP
}

func (a *Activities) webhookScale() float64 {
	if a.WebhookRetryScale > 0 {
		return a.WebhookRetryScale
	}
	return 1
}

// DeliverWebhook makes the subscription's due deliveries, oldest event first, until one
// fails (it then waits for its retry, and so do the ones after it), nothing is due, or the
// time budget is spent. A killed worker's attempt is made again by the activity's retry:
// the same delivery, with the same webhook-id (at least once).
func (a *Activities) DeliverWebhook(ctx context.Context, in DeliverWebhookInput) (DeliverWebhookResult, error) {
	var res DeliverWebhookResult
	q := dbq.New(a.Pool)
	w, err := q.WebhookGet(ctx, in.WebhookID)
	if db.IsNotFound(err) || (err == nil && w.DeletedAt != nil) {
		res.Gone = true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	secret, err := a.webhookSecret(ctx, q, w)
	if err != nil {
		return res, temporal.NewApplicationError(err.Error(), ErrTypeWebhookSecret)
	}
	signer, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return res, temporal.NewApplicationError("webhook secret is not whsec_ base64", ErrTypeWebhookSecret)
	}
	started := time.Now()
	for {
		activity.RecordHeartbeat(ctx, res.Delivered+res.Retried+res.Failed)
		// A stopping worker ends the call after the delivery in hand: the dispatcher calls
		// again at once (More), on a worker that stays.
		if time.Since(started) >= webhookBudget || workerStopping(ctx) {
			res.More = true
			return res, nil
		}
		head, err := q.WebhookDeliveryHead(ctx, w.ID)
		if db.IsNotFound(err) {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		// A delivery never attempted is due whatever the clocks say (next_attempt_at is the
		// database's now() at its writing).
		if head.Attempts > 0 && head.NextAttemptAt.After(a.now()) {
			res.NextAttemptAt = head.NextAttemptAt
			return res, nil
		}
		outcome, next, err := a.deliverOne(ctx, w, signer, head)
		if err != nil {
			return res, err
		}
		a.Metrics.webhook(outcome)
		switch outcome {
		case WebhookDelivered:
			res.Delivered++
		case WebhookFailed:
			res.Failed++
		default:
			res.Retried++
			res.NextAttemptAt = next
			return res, nil
		}
	}
}

// webhookSecret opens the subscription's secret and, when an older key sealed it, seals it
// again with the current one: a rotated-out key can then be dropped (docs/runbook.md).
func (a *Activities) webhookSecret(ctx context.Context, q *dbq.Queries, w dbq.Webhook) (string, error) {
	secret, err := a.Sealer.OpenWebhookSecret(w)
	if err != nil {
		return "", err
	}
	if w.KeyID != a.Sealer.CurrentKeyID() {
		enc, keyID := a.Sealer.SealWebhookSecret(w.ID, secret)
		if err := q.WebhookSetSecret(ctx, dbq.WebhookSetSecretParams{ID: w.ID, SecretEnc: enc, KeyID: keyID, OldKeyID: w.KeyID}); err != nil {
			activity.GetLogger(ctx).Warn("webhook secret not sealed again with the current key", "webhook_id", w.ID, "error", err.Error())
		}
	}
	return secret, nil
}

// webhookPayload is the body of every attempt of one delivery, the same bytes each time.
type webhookPayload struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	CreatedAt string          `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// WebhookTimeFormat is the body's created_at: RFC 3339, Paris time, microseconds.
const WebhookTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// WebhookBody is a delivery's JSON body, made from its outbox row alone.
func WebhookBody(eventID, eventType string, data []byte, created time.Time) ([]byte, error) {
	if len(data) == 0 {
		data = []byte("{}")
	}
	return json.Marshal(webhookPayload{ID: eventID, Type: eventType, CreatedAt: created.In(domain.Paris).Format(WebhookTimeFormat), Data: data})
}

// deliverOne POSTs one delivery and records the attempt.
func (a *Activities) deliverOne(ctx context.Context, w dbq.Webhook, signer *standardwebhooks.Webhook, head dbq.WebhookDeliveryHeadRow) (outcome string, next time.Time, err error) {
	body, err := WebhookBody(head.EventID, head.EventType, head.EventData, head.EventCreatedAt)
	if err != nil {
		return "", time.Time{}, err
	}
	attempted := a.now()
	signature, err := signer.Sign(head.EventID, attempted, body)
	if err != nil {
		return "", time.Time{}, err
	}
	var code *int32
	var noAnswer domain.WebhookNoAnswer
	t0 := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Url, bytes.NewReader(body))
	if err != nil {
		noAnswer = domain.WebhookBadAddress
	} else {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", webhookUserAgent)
		req.Header.Set(standardwebhooks.HeaderWebhookID, head.EventID)
		req.Header.Set(standardwebhooks.HeaderWebhookTimestamp, fmt.Sprint(attempted.Unix()))
		req.Header.Set(standardwebhooks.HeaderWebhookSignature, signature)
		resp, err := a.webhookHTTP().Do(req)
		if err != nil {
			if ctx.Err() != nil {
				// The activity is stopping (its worker, its timeout): nothing is recorded, and
				// its retry POSTs this delivery again.
				return "", time.Time{}, ctx.Err()
			}
			noAnswer = classifyNoAnswer(err)
		} else {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, webhookBodyRead))
			resp.Body.Close()
			c := int32(resp.StatusCode)
			code = &c
		}
	}
	took := time.Since(t0)

	status, nextAt := domain.DeliveryDelivered, attempted
	outcome = WebhookDelivered
	if code == nil || *code < 200 || *code > 299 {
		var giveUp bool
		nextAt, giveUp = domain.WebhookRetry(head.EventCreatedAt, attempted, int(head.Attempts)+1, a.webhookScale())
		status, outcome = domain.DeliveryPending, WebhookRetried
		if giveUp {
			status, nextAt, outcome = domain.DeliveryFailed, attempted, WebhookFailed
		}
	}
	var errText string
	if noAnswer != "" {
		errText = noAnswer.Sentence()
	}
	// Recorded even when the activity is being stopped right after the answer: the receiver
	// has it, and a retry would only send it again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err = db.WithTx(rctx, a.Pool, func(q *dbq.Queries) error {
		if err := q.WebhookAttemptInsert(rctx, dbq.WebhookAttemptInsertParams{DeliveryID: head.ID, AttemptedAt: attempted,
			StatusCode: code, Error: errText, DurationMs: int32(took.Milliseconds())}); err != nil {
			return err
		}
		_, err := q.WebhookDeliveryRecord(rctx, dbq.WebhookDeliveryRecordParams{ID: head.ID, Status: string(status),
			NextAttemptAt: nextAt, LastStatusCode: code, LastError: errText, AttemptedAt: attempted})
		if db.IsNotFound(err) {
			return nil // cancelled meanwhile (the subscription was deleted): it stays cancelled
		}
		return err
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return outcome, nextAt, nil
}

// classifyNoAnswer says why a POST got no HTTP answer. The error itself is never stored
// nor logged: it carries the subscription's URL, which may hold a token of the receiver's.
func classifyNoAnswer(err error) domain.WebhookNoAnswer {
	var netErr net.Error
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var urlErr *url.Error
	switch {
	case errors.As(err, &dnsErr):
		return domain.WebhookDNS
	case errors.As(err, &certErr), errors.As(err, &unknownAuthority), errors.As(err, &hostnameErr),
		errors.As(err, &invalidCert), errors.As(err, &recordErr):
		return domain.WebhookTLS
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return domain.WebhookTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return domain.WebhookRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return domain.WebhookCut
	case errors.As(err, &urlErr) && urlErr.Op == "parse":
		return domain.WebhookBadAddress
	}
	return domain.WebhookNetwork
}
