package domain

import (
	"strings"
	"time"
)

// EventType is the type of an event a school hears of (docs/architecture.md, "Events,
// webhooks and digests"): written to the outbox by the triggers of migration 00007, delivered
// to the webhook subscriptions that want it.
type EventType string

const (
	EventLessonTransmitted    EventType = "lesson.transmitted"
	EventLessonError          EventType = "lesson.error"
	EventOfficeNeedsReconnect EventType = "office.needs_reconnect"
	EventRunCompleted         EventType = "run.completed"
	EventRunFailed            EventType = "run.failed"
	EventETPAtRisk            EventType = "etp.at_risk"
	// EventWebhookTest is what POST /v1/webhooks/{ref}/test sends to one subscription; no
	// subscription asks for it.
	EventWebhookTest EventType = "webhook.test"
)

// eventInfo is what an event type means to a school: the one table of its French words.
type eventInfo struct {
	Label string
	// Subscribable: a subscription may list it in its events.
	Subscribable bool
}

var eventTypes = map[EventType]eventInfo{
	EventLessonTransmitted:    {Label: "Leçon transmise à la DSR", Subscribable: true},
	EventLessonError:          {Label: "Leçon en erreur", Subscribable: true},
	EventOfficeNeedsReconnect: {Label: "Bureau à reconnecter à RdvPermis", Subscribable: true},
	EventRunCompleted:         {Label: "Envoi terminé", Subscribable: true},
	EventRunFailed:            {Label: "Envoi interrompu", Subscribable: true},
	EventETPAtRisk:            {Label: "Heures de formateur à risque", Subscribable: true},
	EventWebhookTest:          {Label: "Événement de test"},
}

// SubscribableEvents lists, in the documentation's order, the types a subscription may ask for.
func SubscribableEvents() []EventType {
	return []EventType{EventLessonTransmitted, EventLessonError, EventOfficeNeedsReconnect,
		EventRunCompleted, EventRunFailed, EventETPAtRisk}
}

// ParseSubscribableEvent reads a type a subscription asks for.
func ParseSubscribableEvent(s string) (EventType, bool) {
	t := EventType(s)
	return t, eventTypes[t].Subscribable
}

// SubscribableList is the types a subscription may ask for, as a French sentence lists them.
func SubscribableList() string {
	var names []string
	for _, t := range SubscribableEvents() {
		names = append(names, string(t))
	}
	return strings.Join(names, ", ")
}

// Label is the type in the pages' French words; an unknown type shows as it is.
func (t EventType) Label() string {
	if i, ok := eventTypes[t]; ok {
		return i.Label
	}
	return string(t)
}

// DeliveryStatus is the state of one event's delivery to one subscription (the
// webhook_deliveries table).
type DeliveryStatus string

const (
	// DeliveryPending: not yet confirmed by a 2xx; attempted again at next_attempt_at.
	DeliveryPending DeliveryStatus = "pending"
	// DeliveryDelivered: the receiver answered 2xx.
	DeliveryDelivered DeliveryStatus = "delivered"
	// DeliveryFailed: the event was WebhookGiveUpAfter old and an attempt failed again.
	DeliveryFailed DeliveryStatus = "failed"
	// DeliveryCancelled: the subscription was deleted before it was delivered.
	DeliveryCancelled DeliveryStatus = "cancelled"
)

var deliveryLabels = map[DeliveryStatus]string{
	DeliveryPending:   "En attente",
	DeliveryDelivered: "Livré",
	DeliveryFailed:    "Abandonné",
	DeliveryCancelled: "Annulé",
}

// DeliveryStatuses lists every delivery status.
func DeliveryStatuses() []DeliveryStatus {
	return []DeliveryStatus{DeliveryPending, DeliveryDelivered, DeliveryFailed, DeliveryCancelled}
}

// Label is the status in the pages' French words.
func (s DeliveryStatus) Label() string {
	if l, ok := deliveryLabels[s]; ok {
		return l
	}
	return string(s)
}

// The retry schedule of a delivery that did not get a 2xx: Standard Webhooks' suggestion
// (immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h…), for as long as the event is
// younger than WebhookGiveUpAfter. webhookRetryDelays[n-1] is the wait after the n-th failed
// attempt; past the table's end, its last delay repeats.
var webhookRetryDelays = []time.Duration{
	5 * time.Second,
	5 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
	5 * time.Hour,
	10 * time.Hour,
}

// WebhookGiveUpAfter is how long an event is retried: a delivery whose attempt fails once its
// event is this old is failed, never attempted again.
const WebhookGiveUpAfter = 24 * time.Hour

// WebhookRetryDelay is the wait after a delivery's failed attempt number attempts (1 for the
// first attempt).
func WebhookRetryDelay(attempts int) time.Duration {
	if attempts < 1 {
		attempts = 1
	}
	if attempts > len(webhookRetryDelays) {
		return webhookRetryDelays[len(webhookRetryDelays)-1]
	}
	return webhookRetryDelays[attempts-1]
}

// WebhookRetry is what follows a failed attempt: the next attempt's time, or give up (next is
// zero). The schedule runs scale times faster than in production (scale 1; tests and the
// drills shrink it), the 24 hours with it. The last wait is cut short so that one attempt
// happens when the event is exactly WebhookGiveUpAfter old: the receiver gets every chance
// the promise of 24 hours gives.
func WebhookRetry(eventCreated, attempted time.Time, attempts int, scale float64) (next time.Time, giveUp bool) {
	if scale <= 0 {
		scale = 1
	}
	deadline := eventCreated.Add(time.Duration(float64(WebhookGiveUpAfter) * scale))
	if !attempted.Before(deadline) {
		return time.Time{}, true
	}
	next = attempted.Add(time.Duration(float64(WebhookRetryDelay(attempts)) * scale))
	if next.After(deadline) {
		next = deadline
	}
	return next, false
}

// WebhookNoAnswer is why an attempt got no HTTP answer, as the deliveries' listing says it
// (an attempt that got one shows its status code instead).
type WebhookNoAnswer string

const (
	WebhookTimeout    WebhookNoAnswer = "timeout"
	WebhookRefused    WebhookNoAnswer = "refused"
	WebhookDNS        WebhookNoAnswer = "dns"
	WebhookTLS        WebhookNoAnswer = "tls"
	WebhookCut        WebhookNoAnswer = "cut"
	WebhookNetwork    WebhookNoAnswer = "network"
	WebhookBadAddress WebhookNoAnswer = "bad_address"
)

var webhookNoAnswerSentences = map[WebhookNoAnswer]string{
	WebhookTimeout:    "Pas de réponse dans les 10 secondes.",
	WebhookRefused:    "Connexion refusée : aucun serveur n'écoute à cette adresse.",
	WebhookDNS:        "Nom de domaine introuvable.",
	WebhookTLS:        "Connexion sécurisée (TLS) impossible : certificat refusé ou invalide.",
	WebhookCut:        "Connexion coupée par le serveur avant sa réponse.",
	WebhookNetwork:    "Serveur injoignable (erreur réseau).",
	WebhookBadAddress: "Adresse inutilisable : corrigez-la dans l'abonnement.",
}

// WebhookNoAnswers lists every reason, for the tests.
func WebhookNoAnswers() []WebhookNoAnswer {
	return []WebhookNoAnswer{WebhookTimeout, WebhookRefused, WebhookDNS, WebhookTLS, WebhookCut, WebhookNetwork, WebhookBadAddress}
}

// Sentence is the reason in French; an unknown one reads as a network error.
func (r WebhookNoAnswer) Sentence() string {
	if s, ok := webhookNoAnswerSentences[r]; ok {
		return s
	}
	return webhookNoAnswerSentences[WebhookNetwork]
}
