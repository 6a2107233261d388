package sandbox

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// Client is a registered software editor: an OAuth client of the realm.
type Client struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	RedirectURIs []string `json:"redirect_uris"`
}

// Account is a RdvPermis account of a school, as POST /sandbox/accounts takes it. Several
// accounts may share an agrement: they belong to the same school (decentralised management).
type Account struct {
	Email      string `json:"email"`
	Password   string `json:"password"`
	Agrement   string `json:"agrement"`
	SchoolName string `json:"school_name"`
}

// AccountInfo is the answer of POST /sandbox/accounts.
type AccountInfo struct {
	CompteID   string `json:"compte_id"`
	Email      string `json:"email"`
	Agrement   string `json:"agrement"`
	SchoolName string `json:"school_name"`
}

// Student is an ANTS record: NOM+NEPH known, with a licence request for those categories (in
// the DSR's vocabulary, e.g. "B").
type Student struct {
	Nom        string   `json:"nom"`
	Prenom     string   `json:"prenom"`
	NEPH       string   `json:"neph"`
	Categories []string `json:"categories"`
}

// School statuses as the DSR names them.
const (
	StatutOuverte = "ouverte"
	StatutFermee  = "fermee"
)

// School sets a school's status (seed files only; the control is PUT /sandbox/schools/{agrement}).
type School struct {
	Agrement string `json:"agrement"`
	Statut   string `json:"statut"`
}

// Fault defaults: what PUT /sandbox/faults gives a field it does not set.
const (
	DefaultAccessTTL       = 300 * time.Second
	DefaultRefreshTTL      = 1800 * time.Second
	DefaultRateLimitPerMin = 210
)

// Faults is the fault set of PUT /sandbox/faults. A PUT replaces the whole set: a field left
// at its zero value takes its default (no fault, TTLs 300/1800 s, 210 calls a minute), so
// Faults{} clears everything. RateLimitPerMin is a pointer because 0 is meaningful (no limit).
// GET /sandbox/faults answers the effective set, defaults filled in.
type Faults struct {
	// LatencyMS delays every /api call (the sleep ends early if the caller goes away).
	LatencyMS int `json:"latency_ms"`
	// Error5xxRate is the share of /api calls answered 500, 502 or 503 before anything else.
	Error5xxRate float64 `json:"error_5xx_rate"`
	// Rate429 is the share of /api calls answered 429 with Retry-After: 1.
	Rate429 float64 `json:"rate_429"`
	// OutageUntil: every /api call answers 503 until then (sandbox clock).
	OutageUntil *time.Time `json:"outage_until,omitempty"`
	// AccessTTLS and RefreshTTLS are the lifetimes, in seconds, of tokens issued from now on.
	AccessTTLS  int `json:"access_ttl_s"`
	RefreshTTLS int `json:"refresh_ttl_s"`
	// DropAfterCommitRate is the share of contract and lesson POSTs that are stored and then
	// answered with an empty 502 or a closed connection: the client cannot know they landed.
	DropAfterCommitRate float64 `json:"drop_after_commit_rate"`
	// RateLimitPerMin is the per-account limit over any rolling 60 s; nil means the default,
	// 0 means no limit.
	RateLimitPerMin *int `json:"rate_limit_per_min,omitempty"`
}

// LogValue renders the fault set for slog without pointer addresses.
func (f Faults) LogValue() slog.Value {
	f = f.effective()
	attrs := []slog.Attr{
		slog.Int("latency_ms", f.LatencyMS),
		slog.Float64("error_5xx_rate", f.Error5xxRate),
		slog.Float64("rate_429", f.Rate429),
		slog.Int("access_ttl_s", f.AccessTTLS),
		slog.Int("refresh_ttl_s", f.RefreshTTLS),
		slog.Float64("drop_after_commit_rate", f.DropAfterCommitRate),
		slog.Int("rate_limit_per_min", *f.RateLimitPerMin),
	}
	if f.OutageUntil != nil {
		attrs = append(attrs, slog.Time("outage_until", *f.OutageUntil))
	}
	return slog.GroupValue(attrs...)
}

// Int returns a pointer to n, for Faults.RateLimitPerMin.
func Int(n int) *int { return &n }

// Ledger is what the sandbox stored and counted since the last reset (GET /sandbox/ledger):
// the referee of the benchmarks and drills.
type Ledger struct {
	Contracts []LedgerContract `json:"contracts"`
	Lessons   []LedgerLesson   `json:"lessons"`
	// DuplicatesRefused counts LECON_EN_DOUBLON answers.
	DuplicatesRefused int `json:"duplicates_refused"`
	// Calls counts every /api call, answered or refused; RateLimited every 429 (injected or not).
	Calls       int `json:"calls"`
	RateLimited int `json:"rate_limited"`
	// Refreshes counts the refresh_token grants that reached the token endpoint.
	Refreshes int             `json:"refreshes"`
	Accounts  []LedgerAccount `json:"accounts"`
}

// LedgerContract is one stored training contract. Categorie is its licence category: a
// student may hold one contract per category, so NEPH alone does not tell them apart.
type LedgerContract struct {
	IDContrat string `json:"id_contrat"`
	NEPH      string `json:"neph"`
	Categorie string `json:"categorie"`
	Agrement  string `json:"agrement"`
	CompteID  string `json:"compte_id"`
}

// LedgerLesson is one stored lesson. RecuLe is the sandbox time it was stored.
type LedgerLesson struct {
	IDLecon                     string    `json:"id_lecon"`
	IDContrat                   string    `json:"id_contrat"`
	Debut                       time.Time `json:"debut"`
	Fin                         time.Time `json:"fin"`
	Type                        string    `json:"type"`
	NumeroAutorisationFormateur string    `json:"numero_autorisation_formateur"`
	RecuLe                      time.Time `json:"recu_le"`
	CompteID                    string    `json:"compte_id"`
}

// LedgerAccount is one account's traffic. Calls counts its authenticated /api calls, refused
// ones included. MaxCallsIn60s is the highest number of calls the rate limit let through in
// any 60 s window since the last reset (or process start: call times are not persisted).
type LedgerAccount struct {
	CompteID      string `json:"compte_id"`
	Email         string `json:"email"`
	Agrement      string `json:"agrement"`
	Calls         int    `json:"calls"`
	RateLimited   int    `json:"rate_limited"`
	MaxCallsIn60s int    `json:"max_calls_in_60s"`
	// AcceptedCalls, FirstCallAt and LastCallAt describe the calls the rate limit let through:
	// the benchmark's achieved rate is AcceptedCalls over that span.
	AcceptedCalls int        `json:"accepted_calls"`
	FirstCallAt   *time.Time `json:"first_call_at,omitempty"`
	LastCallAt    *time.Time `json:"last_call_at,omitempty"`
	// LongestGapMS is the longest quiet time between two accepted calls, in milliseconds:
	// where a client that should keep the account busy left its capacity unused.
	LongestGapMS int64 `json:"longest_gap_ms"`
}

// Seed is reference data loaded at start (--seed FILE, Options.Seed), in the controls' shapes.
// Applying it is idempotent: clients are keyed by client_id, accounts by e-mail, students by
// NEPH, schools by agrement.
type Seed struct {
	Clients  []Client  `json:"clients"`
	Accounts []Account `json:"accounts"`
	Students []Student `json:"students"`
	Schools  []School  `json:"schools"`
}

// ReadSeedFile reads a seed file. Unknown fields are refused so a typo does not go unnoticed.
func ReadSeedFile(path string) (*Seed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	var seed Seed
	if err := dec.Decode(&seed); err != nil {
		return nil, fmt.Errorf("seed file %s: %w", path, err)
	}
	return &seed, nil
}
