package sandbox

import (
	"math"
	"net/http"
	"time"
)

// effective fills a fault set's defaults: what GET /sandbox/faults shows and what the
// sandbox applies.
func (f Faults) effective() Faults {
	if f.AccessTTLS <= 0 {
		f.AccessTTLS = int(DefaultAccessTTL / time.Second)
	}
	if f.RefreshTTLS <= 0 {
		f.RefreshTTLS = int(DefaultRefreshTTL / time.Second)
	}
	if f.RateLimitPerMin == nil {
		f.RateLimitPerMin = Int(DefaultRateLimitPerMin)
	} else {
		f.RateLimitPerMin = Int(*f.RateLimitPerMin) // never share the caller's pointer
	}
	if f.OutageUntil != nil {
		t := *f.OutageUntil
		f.OutageUntil = &t
	}
	return f
}

func (f Faults) accessTTL() time.Duration  { return time.Duration(f.AccessTTLS) * time.Second }
func (f Faults) refreshTTL() time.Duration { return time.Duration(f.RefreshTTLS) * time.Second }

// decodeFaults reads PUT /sandbox/faults: every member optional, absent ones take defaults.
func decodeFaults(w http.ResponseWriter, r *http.Request) (Faults, error) {
	// absent marks rate_limit_per_min as not sent: 0 is a meaningful value (no limit).
	const absent = math.MinInt
	var (
		f         Faults
		outage    time.Time
		rateLimit = absent
	)
	err := decodeObject(w, r,
		field{"latency_ms", false, &f.LatencyMS},
		field{"error_5xx_rate", false, &f.Error5xxRate},
		field{"rate_429", false, &f.Rate429},
		field{"outage_until", false, &outage},
		field{"access_ttl_s", false, &f.AccessTTLS},
		field{"refresh_ttl_s", false, &f.RefreshTTLS},
		field{"drop_after_commit_rate", false, &f.DropAfterCommitRate},
		field{"rate_limit_per_min", false, &rateLimit},
	)
	if err != nil {
		return Faults{}, err
	}
	if !outage.IsZero() {
		f.OutageUntil = &outage
	}
	if rateLimit != absent {
		if rateLimit < 0 {
			return Faults{}, badRequestf("Le champ « rate_limit_per_min » doit être positif ou nul.")
		}
		f.RateLimitPerMin = Int(rateLimit)
	}
	switch {
	case f.LatencyMS < 0:
		return Faults{}, badRequestf("Le champ « latency_ms » doit être positif ou nul.")
	case f.AccessTTLS < 0:
		return Faults{}, badRequestf("Le champ « access_ttl_s » doit être positif ou nul.")
	case f.RefreshTTLS < 0:
		return Faults{}, badRequestf("Le champ « refresh_ttl_s » doit être positif ou nul.")
	}
	for _, rate := range []struct {
		name  string
		value float64
	}{{"error_5xx_rate", f.Error5xxRate}, {"rate_429", f.Rate429}, {"drop_after_commit_rate", f.DropAfterCommitRate}} {
		if rate.value < 0 || rate.value > 1 {
			return Faults{}, badRequestf("Le champ « %s » doit être compris entre 0 et 1.", rate.name)
		}
	}
	return f.effective(), nil
}
