package sandbox

import (
	"net/http"
	"strconv"
	"time"
)

// caller is the authenticated account of an /api call.
type caller struct {
	compteID string
	email    string
	agrement string
}

type apiHandler func(w http.ResponseWriter, r *http.Request, c caller)

// api wraps a DSR endpoint with what sits in front of the real one, in this order: the call
// counter, an outage, latency, injected 5xx and 429, the bearer token, the per-account rate
// limit. Injected faults come before authentication: they stand for the network and the
// gateway, which know nothing of accounts, so they never consume an account's slot.
func (s *Server) api(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.st.Calls++
		faults := s.st.Faults
		now := s.now()
		s.mu.Unlock()

		if faults.OutageUntil != nil && now.Before(*faults.OutageUntil) {
			http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
			return
		}
		if faults.LatencyMS > 0 {
			t := time.NewTimer(time.Duration(faults.LatencyMS) * time.Millisecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return // the caller is gone; nobody reads an answer
			}
		}
		if s.chance(faults.Error5xxRate) {
			status := [...]int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}[s.pick(3)]
			http.Error(w, http.StatusText(status), status)
			return
		}
		if s.chance(faults.Rate429) {
			s.mu.Lock()
			s.st.RateLimited++
			s.mu.Unlock()
			writeTooManyRequests(w, time.Second)
			return
		}

		token, hasToken := bearer(r)
		s.mu.Lock()
		var acct *account
		if hasToken {
			acct = s.accountOfToken(token)
		}
		if acct == nil {
			s.mu.Unlock()
			w.Header().Set("WWW-Authenticate", `Bearer realm="formation", error="invalid_token"`)
			writeCode(w, codeTokenInvalide)
			return
		}
		acct.Calls++
		limit := *s.st.Faults.effective().RateLimitPerMin
		ok, wait := acct.admit(s.now(), limit)
		if !ok {
			acct.RateLimited++
			s.st.RateLimited++
			s.mu.Unlock()
			writeTooManyRequests(w, wait)
			return
		}
		c := caller{compteID: acct.CompteID, email: acct.Email, agrement: acct.Agrement}
		s.mu.Unlock()
		h(w, r, c)
	})
}

// accountOfToken returns the account of a live access token. The caller holds s.mu.
func (s *Server) accountOfToken(token string) *account {
	g := s.st.AccessTokens[secretKey(token)]
	if g == nil || !s.now().Before(g.ExpiresAt) {
		return nil
	}
	return s.st.Accounts[g.CompteID]
}

func writeTooManyRequests(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	writeCode(w, codeTropDeRequetes)
}

// dropAfterCommit fails the answer of a call whose effect is already stored: half the time an
// empty 502, half the time a connection closed without a word (when the server can hijack it).
func (s *Server) dropAfterCommit(w http.ResponseWriter) {
	if s.pick(2) == 0 {
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusBadGateway)
}
