package webapi

import (
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the API's Prometheus collectors, labelled by route template (never by path:
// refs would make the label set unbounded).
type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// httpMetrics registers the collectors on s.Metrics once; a registry that already holds them
// (a second Server on the same registry) lends its own.
func (s *Server) httpMetrics() *httpMetrics {
	s.metricsOnce.Do(func() {
		m := &httpMetrics{
			requests: prometheus.NewCounterVec(prometheus.CounterOpts{
				Name: "livret_http_requests_total",
				Help: "HTTP requests answered, by method, route template and status.",
			}, []string{"method", "route", "status"}),
			latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
				Name:    "livret_http_request_duration_seconds",
				Help:    "HTTP request latency, by method and route template.",
				Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
			}, []string{"method", "route"}),
		}
		if s.Metrics != nil {
			m.requests = register(s.Metrics, m.requests)
			m.latency = register(s.Metrics, m.latency)
		}
		s.metrics = m
	})
	return s.metrics
}

func register[C prometheus.Collector](r *prometheus.Registry, c C) C {
	if err := r.Register(c); err != nil {
		var already prometheus.AlreadyRegisteredError
		if errors.As(err, &already) {
			if existing, ok := already.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a name clash with another collector: a programming error
	}
	return c
}

func (m *httpMetrics) observe(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(elapsed.Seconds())
}
