package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a sandbox.
type Options struct {
	// Now is the sandbox's clock (token and code lifetimes, "lesson in the future", rate-limit
	// windows, outages). Default time.Now. Injected latency always sleeps in real time.
	Now func() time.Time
	// Seed is reference data applied at start, after the state file is loaded.
	Seed *Seed
	// StateFile, when set, keeps the state in that JSON file: loaded at start, saved shortly
	// after each change and on Close.
	StateFile string
	// ControlToken, when set, is required as "Authorization: Bearer <token>" on /sandbox/*.
	// When empty, /sandbox/* answers loopback callers only.
	ControlToken string
	// ControlHosts are the host names, besides loopback ones (127.0.0.1, localhost, [::1]),
	// that /sandbox/* answers in the Host header (e.g. "sandbox" for a compose service). Any
	// other Host is refused, so a foreign name rebound to 127.0.0.1 cannot reach the controls.
	ControlHosts []string
	// Logger receives the sandbox's logs (never a token). Default slog.Default().
	Logger *slog.Logger
	// RandSeed seeds the fault-injection randomness, for reproducible tests; 0 picks a random seed.
	RandSeed uint64
	// TokensIssued, when set, is told every token pair the sandbox mints, for tests that look
	// for them where they must never be (logs, tables, answers). The sandbox itself keeps
	// only their hashes. Called with the state locked: keep it short.
	TokensIssued func(access, refresh string)
}

// Server is a running sandbox. It is safe for concurrent use.
type Server struct {
	now          func() time.Time
	log          *slog.Logger
	controlToken string
	controlHosts []string
	handler      http.Handler
	tokensIssued func(access, refresh string)

	mu sync.Mutex
	st *state

	rngMu sync.Mutex
	rng   *mrand.Rand

	store *stateFile // nil without Options.StateFile
}

// Open builds a sandbox, loading Options.StateFile and applying Options.Seed. It fails on an
// unreadable state file or an invalid seed.
func Open(opts Options) (*Server, error) {
	s := &Server{
		now:          opts.Now,
		log:          opts.Logger,
		controlToken: opts.ControlToken,
		controlHosts: lowerAll(opts.ControlHosts),
		tokensIssued: opts.TokensIssued,
		st:           newState(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	seed := opts.RandSeed
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		for _, x := range b {
			seed = seed<<8 | uint64(x)
		}
	}
	s.rng = mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	s.st.Faults = Faults{}.effective()

	if opts.StateFile != "" {
		s.store = &stateFile{path: opts.StateFile, log: s.log}
		st, err := s.store.load()
		if err != nil {
			return nil, err
		}
		if st != nil {
			s.st = st
			s.st.Faults = s.st.Faults.effective()
		}
	}
	if opts.Seed != nil {
		if err := s.applySeed(opts.Seed); err != nil {
			return nil, fmt.Errorf("sandbox seed: %w", err)
		}
	}
	if s.store != nil {
		s.store.start(s.snapshot)
		s.changed()
	}
	s.handler = s.routes()
	return s, nil
}

// New is Open for callers that cannot get an error: without a StateFile and with a valid seed
// it never fails. It panics otherwise.
func New(opts Options) *Server {
	s, err := Open(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// Handler serves the DSR's endpoints, the Keycloak realm and the /sandbox/ controls.
func (s *Server) Handler() http.Handler { return s.handler }

// Close saves the state file one last time. The handler keeps working in memory afterwards.
func (s *Server) Close() error {
	if s.store == nil {
		return nil
	}
	return s.store.close()
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()

	const realm = "/realms/formation/protocol/openid-connect/"
	mux.HandleFunc("GET "+realm+"auth", s.handleAuthorize)
	mux.HandleFunc("POST "+realm+"auth", s.handleLogin)
	mux.HandleFunc("POST "+realm+"token", s.handleToken)
	mux.HandleFunc("GET "+realm+"logout", s.handleLogout)
	mux.HandleFunc("POST "+realm+"logout", s.handleLogout)
	mux.HandleFunc("GET /realms/formation/.well-known/openid-configuration", s.handleDiscovery)

	mux.Handle("GET /api/v2/auto-ecole/moi", s.api(s.handleMe))
	mux.Handle("POST /api/v1/contrats-formation", s.api(s.handleCreateContract))
	mux.Handle("GET /api/v1/contrats-formation", s.api(s.handleFindContracts))
	mux.Handle("POST /api/v1/contrats-formation/{id_contrat}/lecons", s.api(s.handleDeclareLesson))
	mux.Handle("GET /api/v1/contrats-formation/{id_contrat}/lecons", s.api(s.handleListLessons))
	mux.Handle("/api/", s.api(s.handleUnknownAPI))

	mux.Handle("POST /sandbox/clients", s.control(s.handleAddClient))
	mux.Handle("POST /sandbox/accounts", s.control(s.handleAddAccount))
	mux.Handle("PUT /sandbox/schools/{agrement}", s.control(s.handleSetSchool))
	mux.Handle("POST /sandbox/students", s.control(s.handleAddStudent))
	mux.Handle("PUT /sandbox/faults", s.control(s.handleSetFaults))
	mux.Handle("GET /sandbox/faults", s.control(s.handleGetFaults))
	mux.Handle("GET /sandbox/ledger", s.control(s.handleLedger))
	mux.Handle("POST /sandbox/reset", s.control(s.handleReset))

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	return s.recoverer(mux)
}

// recoverer turns a handler panic into a logged 500 rather than a dropped connection, which a
// client would mistake for an injected drop-after-commit fault.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("sandbox: handler panic", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
				http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// changed schedules a state-file save (debounced); a no-op without a state file.
func (s *Server) changed() {
	if s.store != nil {
		s.store.kick()
	}
}

// chance draws a fault with probability p.
func (s *Server) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.Float64() < p
}

// pick draws an index in [0, n).
func (s *Server) pick(n int) int {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return s.rng.IntN(n)
}

// newSecret is an opaque token, code or session id: 256 random bits.
func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newID is a random identifier with a readable prefix ("CF-…", "LC-…").
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func lowerAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, h := range in {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			out = append(out, h)
		}
	}
	return out
}
