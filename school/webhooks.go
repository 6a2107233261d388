package school

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// A school's webhook subscriptions (docs/api.md, "Webhooks"): where Livret POSTs the
// school's events, signed with the subscription's secret. The delivery itself is the
// worker's (activities.DeliverWebhook, workflows.WebhookDispatch); the use cases here
// create, list, delete and test subscriptions, and show their deliveries.

// maxWebhookURLLen bounds a subscription's address.
const maxWebhookURLLen = 2048

// Webhook is a subscription as the API shows it. Secret is set only in the answer that
// created it: it is never shown again (only its sealed form is stored).
type Webhook struct {
	Ref       string   `json:"ref"`
	URL       string   `json:"url"`
	Events    []string `json:"events"`
	Secret    string   `json:"secret,omitempty"`
	CreatedAt string   `json:"created_at"`
	UpdatedAt string   `json:"updated_at"`
}

// WebhookInput is the body of PUT /v1/webhooks/{ref}.
type WebhookInput struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
}

// WebhookDelivery is one event's delivery to a subscription, with its last attempts.
type WebhookDelivery struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	// Status: pending, delivered, failed (the event was 24 h old and an attempt failed
	// again) or cancelled (the subscription was deleted first).
	Status    string `json:"status"`
	CreatedAt string `json:"created_at"`
	// NextAttemptAt is when a pending delivery is attempted next.
	NextAttemptAt  *string          `json:"next_attempt_at"`
	FinishedAt     *string          `json:"finished_at"`
	AttemptCount   int              `json:"attempt_count"`
	LastStatusCode *int             `json:"last_status_code"`
	Attempts       []WebhookAttempt `json:"attempts"`
}

// WebhookAttempt is one POST of a delivery: the receiver's status code, or why there was
// no answer (in French).
type WebhookAttempt struct {
	At         string  `json:"at"`
	StatusCode *int    `json:"status_code"`
	Error      *string `json:"error"`
	DurationMS int     `json:"duration_ms"`
}

// WebhookTestSent answers POST /v1/webhooks/{ref}/test.
type WebhookTestSent struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
}

// ErrWebhookNotFound: no live subscription of that ref in this school.
var ErrWebhookNotFound = NotFound("Abonnement introuvable.")

// Bounds of what the deliveries' listing returns.
const (
	WebhookDeliveriesShown = 50
	webhookAttemptsShown   = 20
)

func newWebhook(w dbq.Webhook) Webhook {
	events := w.Events
	if events == nil {
		events = []string{}
	}
	return Webhook{Ref: w.Ref, URL: w.Url, Events: events, CreatedAt: parisTime(w.CreatedAt), UpdatedAt: parisTime(w.UpdatedAt)}
}

// webhookURL checks a subscription's address: absolute http(s) with a host, at most 2,048
// characters, no credentials (the address is stored in clear; the signature is what
// authenticates Livret to the receiver).
func (e *fieldErrors) webhookURL(field, raw string) string {
	v := strings.TrimSpace(raw)
	switch {
	case v == "":
		e.add(field, "Champ obligatoire : l'adresse absolue (https://…) où Livret envoie les événements.")
		return ""
	case !utf8.ValidString(v):
		e.add(field, "Texte illisible : encodage UTF-8 attendu.")
		return ""
	case utf8.RuneCountInString(v) > maxWebhookURLLen:
		e.add(field, fmt.Sprintf("%d caractères au plus.", maxWebhookURLLen))
		return ""
	case strings.ContainsFunc(v, unicode.IsControl) || strings.ContainsFunc(v, unicode.IsSpace):
		e.add(field, "Adresse invalide : elle ne doit contenir ni espace ni caractère de contrôle.")
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Opaque != "" {
		e.add(field, "Adresse invalide : une adresse absolue en http ou https est attendue, par exemple https://logiciel.example.fr/livret/evenements.")
		return ""
	}
	if u.User != nil {
		e.add(field, "L'adresse ne doit contenir ni identifiant ni mot de passe : chaque envoi de Livret est signé (en-tête webhook-signature), c'est la signature qui prouve qu'il vient de Livret.")
		return ""
	}
	return v
}

// webhookEvents checks the types a subscription asks for: at least one, each known, none
// twice. They are stored in the documentation's order, whatever the request's.
func (e *fieldErrors) webhookEvents(field string, in []string) []string {
	if len(in) == 0 {
		e.add(field, "Au moins un type d'événement est attendu, parmi : "+domain.SubscribableList()+".")
		return nil
	}
	seen := map[domain.EventType]bool{}
	for i, raw := range in {
		f := field + "[" + strconv.Itoa(i) + "]"
		t, ok := domain.ParseSubscribableEvent(raw)
		switch {
		case !ok:
			shown := raw
			if utf8.RuneCountInString(shown) > 60 || !utf8.ValidString(shown) || strings.ContainsFunc(shown, unicode.IsControl) {
				shown = "…"
			}
			e.add(f, "Type d'événement inconnu : « "+shown+" ». Types possibles : "+domain.SubscribableList()+".")
		case seen[t]:
			e.add(f, "Type d'événement en double : « "+raw+" » figure déjà dans la liste.")
		}
		seen[t] = true
	}
	var out []string
	for _, t := range domain.SubscribableEvents() {
		if seen[t] {
			out = append(out, string(t))
		}
	}
	return out
}

// PutWebhook creates or replaces a subscription (PUT /v1/webhooks/{ref}). A new one gets its
// signing secret, shown in this answer only; a replaced one keeps its secret, and what it
// had waiting for a retry is attempted at once (the school may just have fixed its
// receiver).
func (s *Service) PutWebhook(ctx context.Context, school dbq.School, ref string, in WebhookInput) (view Webhook, isNew bool, err error) {
	if err := Authorize(ctx, domain.PermSettings); err != nil {
		return Webhook{}, false, err
	}
	var errs fieldErrors
	u := errs.webhookURL("url", in.URL)
	events := errs.webhookEvents("events", in.Events)
	if err := errs.problem(); err != nil {
		return Webhook{}, false, err
	}
	var secret string
	var w dbq.Webhook
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		// The secret is sealed against the row's id: a placeholder first, to learn it.
		w, err = q.WebhookInsert(ctx, dbq.WebhookInsertParams{SchoolID: school.ID, Ref: ref, Url: u, Events: events,
			SecretEnc: []byte{}, KeyID: s.Sealer.CurrentKeyID()})
		switch {
		case err == nil:
			isNew = true
			secret = db.NewWebhookSecret()
			enc, keyID := s.Sealer.SealWebhookSecret(w.ID, secret)
			if err := q.WebhookSetSecret(ctx, dbq.WebhookSetSecretParams{ID: w.ID, SecretEnc: enc, KeyID: keyID, OldKeyID: w.KeyID}); err != nil {
				return err
			}
			return audit(ctx, q, school, AuditWebhookPut, webhookObject(w.Ref, w.Url))
		case !db.IsNotFound(err):
			return err
		}
		if w, err = q.WebhookGetByRefForUpdate(ctx, dbq.WebhookGetByRefForUpdateParams{SchoolID: school.ID, Ref: ref}); err != nil {
			return err
		}
		if w, err = q.WebhookUpdate(ctx, dbq.WebhookUpdateParams{ID: w.ID, Url: u, Events: events}); err != nil {
			return err
		}
		if _, err = q.WebhookDeliveryRetryNow(ctx, w.ID); err != nil {
			return err
		}
		return audit(ctx, q, school, AuditWebhookPut, webhookObject(w.Ref, w.Url))
	})
	if err != nil {
		return Webhook{}, false, err
	}
	s.log().InfoContext(ctx, "webhook subscription saved", "school_id", school.ID, "webhook_id", w.ID, "created", isNew,
		"events", strings.Join(events, ","))
	if !isNew {
		s.wakeWebhook(ctx, school.ID, w.ID)
	}
	view = newWebhook(w)
	view.Secret = secret
	return view, isNew, nil
}

// wakeWebhook asks for the subscription's dispatcher to look at its deliveries now. A
// failure is logged, not returned: what is pending stays in PostgreSQL and the workers'
// reconciler starts the dispatcher once Temporal answers.
func (s *Service) wakeWebhook(ctx context.Context, schoolID, webhookID int64) {
	if err := s.Orchestrator.WakeWebhook(ctx, webhookID); err != nil {
		s.log().WarnContext(ctx, "webhook dispatcher not woken: the reconciler will start it",
			"school_id", schoolID, "webhook_id", webhookID, "error", err.Error())
	}
}

// Webhooks lists the school's live subscriptions (GET /v1/webhooks), never their secrets.
func (s *Service) Webhooks(ctx context.Context, school dbq.School) ([]Webhook, error) {
	if err := Authorize(ctx, domain.PermSettingsRead); err != nil {
		return nil, err
	}
	rows, err := dbq.New(s.Pool).WebhookList(ctx, school.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Webhook, 0, len(rows))
	for _, w := range rows {
		out = append(out, newWebhook(w))
	}
	return out, nil
}

func webhookByRef(ctx context.Context, q *dbq.Queries, schoolID int64, ref string) (dbq.Webhook, error) {
	if !ValidLookupRef(ref) {
		return dbq.Webhook{}, ErrWebhookNotFound
	}
	w, err := q.WebhookGetByRef(ctx, dbq.WebhookGetByRefParams{SchoolID: schoolID, Ref: ref})
	if db.IsNotFound(err) {
		return w, ErrWebhookNotFound
	}
	return w, err
}

// DeleteWebhook ends a subscription (DELETE /v1/webhooks/{ref}): what it had yet to receive
// is cancelled in the same transaction, so nothing more is sent to it (but a POST already
// under way), and its dispatcher ends. The row stays, for its deliveries' history.
func (s *Service) DeleteWebhook(ctx context.Context, school dbq.School, ref string) error {
	if err := Authorize(ctx, domain.PermSettings); err != nil {
		return err
	}
	if !ValidLookupRef(ref) {
		return ErrWebhookNotFound
	}
	var w dbq.Webhook
	var cancelled int64
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		w, err = q.WebhookDelete(ctx, dbq.WebhookDeleteParams{SchoolID: school.ID, Ref: ref})
		if db.IsNotFound(err) {
			return ErrWebhookNotFound
		}
		if err != nil {
			return err
		}
		if cancelled, err = q.WebhookDeliveryCancelPending(ctx, w.ID); err != nil {
			return err
		}
		return audit(ctx, q, school, AuditWebhookDelete, webhookObject(w.Ref, w.Url))
	})
	if err != nil {
		return err
	}
	s.log().InfoContext(ctx, "webhook subscription deleted", "school_id", school.ID, "webhook_id", w.ID, "deliveries_cancelled", cancelled)
	s.wakeWebhook(ctx, school.ID, w.ID) // it finds the subscription deleted, and ends
	return nil
}

// WebhookDeliveries lists a subscription's newest deliveries (at most limit), newest first,
// each with its last attempts (GET /v1/webhooks/{ref}/deliveries).
func (s *Service) WebhookDeliveries(ctx context.Context, school dbq.School, ref string, limit int) ([]WebhookDelivery, error) {
	if err := Authorize(ctx, domain.PermSettingsRead); err != nil {
		return nil, err
	}
	q := dbq.New(s.Pool)
	w, err := webhookByRef(ctx, q, school.ID, ref)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > WebhookDeliveriesShown {
		limit = WebhookDeliveriesShown
	}
	rows, err := q.WebhookDeliveryListRecent(ctx, dbq.WebhookDeliveryListRecentParams{WebhookID: w.ID, Lim: int32(limit)})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	attempts, err := q.WebhookAttemptListByDeliveries(ctx, dbq.WebhookAttemptListByDeliveriesParams{DeliveryIds: ids, PerDelivery: webhookAttemptsShown})
	if err != nil {
		return nil, err
	}
	byDelivery := map[int64][]WebhookAttempt{}
	for _, a := range attempts {
		v := WebhookAttempt{At: parisTime(a.AttemptedAt), Error: nonEmpty(a.Error), DurationMS: int(a.DurationMs)}
		if a.StatusCode != nil {
			code := int(*a.StatusCode)
			v.StatusCode = &code
		}
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], v)
	}
	out := make([]WebhookDelivery, 0, len(rows))
	for _, r := range rows {
		d := WebhookDelivery{EventID: r.EventID, Type: r.EventType, Status: r.Status, CreatedAt: parisTime(r.CreatedAt),
			FinishedAt: parisTimePtr(r.FinishedAt), AttemptCount: int(r.Attempts), Attempts: byDelivery[r.ID]}
		if d.Attempts == nil {
			d.Attempts = []WebhookAttempt{}
		}
		if r.Status == string(domain.DeliveryPending) {
			d.NextAttemptAt = parisTimePtr(&r.NextAttemptAt)
		}
		if r.LastStatusCode != nil {
			code := int(*r.LastStatusCode)
			d.LastStatusCode = &code
		}
		out = append(out, d)
	}
	return out, nil
}

// webhookTestData is the body's data of a test event.
type webhookTestData struct {
	WebhookRef string `json:"webhook_ref"`
	Message    string `json:"message"`
}

// TestWebhook sends an event of type webhook.test to this subscription only (POST
// /v1/webhooks/{ref}/test): the event and its one delivery are written, and the dispatcher
// woken, as for any event. What the subscription had waiting for a retry is attempted at
// once too: deliveries go in the order of their events, so the test comes after them.
func (s *Service) TestWebhook(ctx context.Context, school dbq.School, ref string) (WebhookTestSent, error) {
	if err := Authorize(ctx, domain.PermSettings); err != nil {
		return WebhookTestSent{}, err
	}
	if !ValidLookupRef(ref) {
		return WebhookTestSent{}, ErrWebhookNotFound
	}
	data, err := json.Marshal(webhookTestData{WebhookRef: ref,
		Message: "Événement de test envoyé par Livret : cette adresse reçoit bien les événements de l'auto-école."})
	if err != nil {
		return WebhookTestSent{}, err
	}
	var w dbq.Webhook
	var ev dbq.WebhookEmitTestRow
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		w, err = q.WebhookGetByRefForUpdate(ctx, dbq.WebhookGetByRefForUpdateParams{SchoolID: school.ID, Ref: ref})
		if db.IsNotFound(err) {
			return ErrWebhookNotFound
		}
		if err != nil {
			return err
		}
		if _, err := q.WebhookDeliveryRetryNow(ctx, w.ID); err != nil {
			return err
		}
		if ev, err = q.WebhookEmitTest(ctx, dbq.WebhookEmitTestParams{SchoolID: school.ID, Data: data, WebhookID: w.ID}); err != nil {
			return err
		}
		return q.WebhookNotify(ctx, w.ID)
	})
	if err != nil {
		return WebhookTestSent{}, err
	}
	s.log().InfoContext(ctx, "webhook test event written", "school_id", school.ID, "webhook_id", w.ID, "event_id", ev.ID)
	s.wakeWebhook(ctx, school.ID, w.ID)
	return WebhookTestSent{EventID: ev.ID, Type: string(domain.EventWebhookTest)}, nil
}
