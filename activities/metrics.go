package activities

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are Livret's domain counters, exported by the worker on /metrics next to the
// Temporal SDK's own.
type Metrics struct {
	Transmitted prometheus.Counter
	Refused     *prometheus.CounterVec // by DSR or Livret code
	Reconciled  prometheus.Counter     // lessons found at the DSR after a lost answer
	RateLimited prometheus.Counter     // 429s received
	DSRLatency  *prometheus.HistogramVec
	// Webhooks counts webhook attempts by outcome: delivered, retried, failed (given up).
	Webhooks *prometheus.CounterVec
}

// NewMetrics registers the counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Transmitted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livret_lessons_transmitted_total", Help: "Lessons declared at the DSR."}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livret_lessons_refused_total", Help: "Lessons put in error, by code."}, []string{"code"}),
		Reconciled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livret_lessons_reconciled_total", Help: "Lessons found already at the DSR on a retry."}),
		RateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "livret_dsr_rate_limited_total", Help: "429 answers from the DSR."}),
		DSRLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "livret_dsr_call_seconds", Help: "Latency of DSR calls, by operation.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}, []string{"op"}),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "livret_webhook_deliveries_total", Help: "Webhook delivery attempts, by outcome (delivered, retried, failed)."}, []string{"outcome"}),
	}
	for _, o := range []string{WebhookDelivered, WebhookRetried, WebhookFailed} {
		m.Webhooks.WithLabelValues(o) // every outcome shows, at 0 until it happens
	}
	reg.MustRegister(m.Transmitted, m.Refused, m.Reconciled, m.RateLimited, m.DSRLatency, m.Webhooks)
	return m
}

func (m *Metrics) transmitted() {
	if m != nil {
		m.Transmitted.Inc()
	}
}

func (m *Metrics) refused(code string) {
	if m != nil {
		m.Refused.WithLabelValues(code).Inc()
	}
}

func (m *Metrics) reconciled() {
	if m != nil {
		m.Reconciled.Inc()
	}
}

func (m *Metrics) observe(op string, seconds float64, err error) {
	if m == nil {
		return
	}
	m.DSRLatency.WithLabelValues(op).Observe(seconds)
	if HandlingOf(err) == RetryAfter && err != nil {
		m.RateLimited.Inc()
	}
}

func (m *Metrics) webhook(outcome string) {
	if m != nil {
		m.Webhooks.WithLabelValues(outcome).Inc()
	}
}
