package sandbox

import (
	"crypto/subtle"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// codeAccesRefuse answers a /sandbox/ call from a caller that may not steer the sandbox.
const codeAccesRefuse Code = "ACCES_REFUSE"

// codeCompteExistant answers an account creation for an e-mail already taken.
const codeCompteExistant Code = "COMPTE_EXISTANT"

// control guards a /sandbox/ handler. A browser on the tester's machine can reach a loopback
// sandbox too, so a page elsewhere could steer it: by a "simple" cross-site POST (text/plain,
// no preflight) or by DNS rebinding (a foreign name resolving to 127.0.0.1). Hence, in order:
// the Host must be a loopback name (or one of Options.ControlHosts), a browser's Origin, when
// sent, must name such a host too, then the bearer control token when one is configured, else
// loopback callers only (a sandbox reachable on a network must not be steerable by anyone),
// and a POST or PUT must be application/json, which no cross-site form can send.
func (s *Server) control(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.controlHost(r.Host) {
			writeJSON(w, http.StatusForbidden, errorBody{codeAccesRefuse, "Les contrôles du bac à sable ne répondent qu'à une adresse locale (127.0.0.1, localhost, [::1]) ou à un nom de LIVRET_SANDBOX_HOSTS."})
			return
		}
		if origin := r.Header.Get("Origin"); origin != "" {
			u, err := url.Parse(origin)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !s.controlHost(u.Host) {
				writeJSON(w, http.StatusForbidden, errorBody{codeAccesRefuse, "Les contrôles du bac à sable refusent les requêtes venues d'un autre site."})
				return
			}
		}
		if s.controlToken != "" {
			got, ok := bearer(r)
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.controlToken)) != 1 {
				writeJSON(w, http.StatusUnauthorized, errorBody{codeAccesRefuse, "Jeton de contrôle du bac à sable manquant ou invalide."})
				return
			}
		} else if !fromLoopback(r) {
			writeJSON(w, http.StatusForbidden, errorBody{codeAccesRefuse, "Les contrôles du bac à sable ne répondent qu'en local (ou avec LIVRET_SANDBOX_TOKEN)."})
			return
		}
		if r.Method == http.MethodPost || r.Method == http.MethodPut {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeJSON(w, http.StatusUnsupportedMediaType, errorBody{CodeRequeteInvalide, "Les contrôles du bac à sable n'acceptent que du JSON (Content-Type: application/json)."})
				return
			}
		}
		h(w, r)
	})
}

// controlHost reports whether a Host header (port optional) names this sandbox for its
// controls: a loopback name or address, or one of Options.ControlHosts.
func (s *Server) controlHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	if host == "" {
		return false
	}
	if host == "localhost" || slices.Contains(s.controlHosts, host) {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckExposure refuses a sandbox that would listen beyond loopback without a control token:
// its controls (reset, faults, accounts) would then rest on the caller's address alone.
func CheckExposure(listenAddr, controlToken string) error {
	if controlToken != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return fmt.Errorf("sandbox listen address %q: %w", listenAddr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("the sandbox listens on %s, beyond loopback: set LIVRET_SANDBOX_TOKEN so that its /sandbox/ controls need a token", listenAddr)
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearer reads "Authorization: Bearer <token>" (the scheme is case-insensitive, RFC 6750).
func bearer(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func (s *Server) handleAddClient(w http.ResponseWriter, r *http.Request) {
	var c Client
	if err := decodeObject(w, r,
		field{"client_id", true, &c.ClientID},
		field{"client_secret", true, &c.ClientSecret},
		field{"redirect_uris", true, &c.RedirectURIs},
	); err != nil {
		writeBadRequest(w, err)
		return
	}
	if err := s.addClient(c); err != nil {
		writeBadRequest(w, err)
		return
	}
	s.log.Info("sandbox: client registered", "client_id", c.ClientID, "redirect_uris", c.RedirectURIs)
	writeJSON(w, http.StatusCreated, map[string]any{"client_id": c.ClientID, "redirect_uris": c.RedirectURIs})
}

// addClient registers or replaces a client: the dev stack registers its own at every start.
func (s *Server) addClient(c Client) error {
	c.ClientID = strings.TrimSpace(c.ClientID)
	if c.ClientID == "" || c.ClientSecret == "" {
		return badRequestf("Les champs « client_id » et « client_secret » ne peuvent pas être vides.")
	}
	if len(c.RedirectURIs) == 0 {
		return badRequestf("Le champ « redirect_uris » doit contenir au moins une adresse.")
	}
	for _, raw := range c.RedirectURIs {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return badRequestf("L'adresse de redirection « %s » doit être une URL http(s) absolue sans fragment.", raw)
		}
	}
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	s.mu.Lock()
	s.st.Clients[c.ClientID] = &c
	s.mu.Unlock()
	s.changed()
	return nil
}

func (s *Server) handleAddAccount(w http.ResponseWriter, r *http.Request) {
	var a Account
	if err := decodeObject(w, r,
		field{"email", true, &a.Email},
		field{"password", true, &a.Password},
		field{"agrement", true, &a.Agrement},
		field{"school_name", false, &a.SchoolName},
	); err != nil {
		writeBadRequest(w, err)
		return
	}
	info, exists, err := s.addAccount(a)
	switch {
	case err != nil:
		writeBadRequest(w, err)
	case exists:
		writeJSON(w, http.StatusConflict, errorBody{codeCompteExistant, "Un compte RdvPermis existe déjà avec cette adresse e-mail."})
	default:
		s.log.Info("sandbox: account created", "compte_id", info.CompteID, "agrement", info.Agrement)
		writeJSON(w, http.StatusCreated, info)
	}
}

// addAccount creates an account, and its school (open) when the agrement is new. When the
// e-mail is taken nothing changes and exists reports it (a seed ignores it: seeds are
// idempotent).
func (s *Server) addAccount(a Account) (info AccountInfo, exists bool, err error) {
	email := normalizeEmail(a.Email)
	if !strings.Contains(email, "@") {
		return AccountInfo{}, false, badRequestf("Le champ « email » doit être une adresse e-mail.")
	}
	if a.Password == "" {
		return AccountInfo{}, false, badRequestf("Le champ « password » ne peut pas être vide.")
	}
	agrement, ok := normalizeAgrement(a.Agrement)
	if !ok {
		return AccountInfo{}, false, badRequestf("Le champ « agrement » doit être un numéro d'agrément : E suivi de 10 chiffres.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if existing := s.st.accountByEmail[email]; existing != nil {
		return s.accountInfo(existing), true, nil
	}
	acct := &account{CompteID: newID("CPT-"), Email: email, Password: a.Password, Agrement: agrement}
	s.st.Accounts[acct.CompteID] = acct
	s.st.accountByEmail[email] = acct
	if s.st.Schools[agrement] == nil {
		s.st.Schools[agrement] = &school{Agrement: agrement, Nom: strings.TrimSpace(a.SchoolName), Statut: StatutOuverte}
	}
	s.changed()
	return s.accountInfo(acct), false, nil
}

func (s *Server) accountInfo(a *account) AccountInfo {
	info := AccountInfo{CompteID: a.CompteID, Email: a.Email, Agrement: a.Agrement}
	if sc := s.st.Schools[a.Agrement]; sc != nil {
		info.SchoolName = sc.Nom
	}
	return info
}

func (s *Server) handleSetSchool(w http.ResponseWriter, r *http.Request) {
	var statut string
	if err := decodeObject(w, r, field{"statut", true, &statut}); err != nil {
		writeBadRequest(w, err)
		return
	}
	sc, err := s.setSchool(r.PathValue("agrement"), statut)
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	s.log.Info("sandbox: school status set", "agrement", sc.Agrement, "statut", sc.Statut)
	writeJSON(w, http.StatusOK, School{Agrement: sc.Agrement, Statut: sc.Statut})
}

// setSchool sets a school's status, creating the school when unknown (a seed may list schools
// before their accounts).
func (s *Server) setSchool(rawAgrement, statut string) (school, error) {
	agrement, ok := normalizeAgrement(rawAgrement)
	if !ok {
		return school{}, badRequestf("Le numéro d'agrément « %s » n'est pas valide : E suivi de 10 chiffres.", rawAgrement)
	}
	if statut != StatutOuverte && statut != StatutFermee {
		return school{}, badRequestf("Le champ « statut » doit valoir « ouverte » ou « fermee ».")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.st.Schools[agrement]
	if sc == nil {
		sc = &school{Agrement: agrement}
		s.st.Schools[agrement] = sc
	}
	sc.Statut = statut
	s.changed()
	return *sc, nil
}

func (s *Server) handleAddStudent(w http.ResponseWriter, r *http.Request) {
	var st Student
	if err := decodeObject(w, r,
		field{"nom", true, &st.Nom},
		field{"prenom", false, &st.Prenom},
		field{"neph", true, &st.NEPH},
		field{"categories", true, &st.Categories},
	); err != nil {
		writeBadRequest(w, err)
		return
	}
	saved, err := s.addStudent(st)
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, saved)
}

// addStudent records (or replaces) the ANTS record of a NEPH.
func (s *Server) addStudent(st Student) (Student, error) {
	neph, ok := normalizeNEPH(st.NEPH)
	if !ok {
		return Student{}, badRequestf("Le champ « neph » doit comporter 12 chiffres.")
	}
	if strings.TrimSpace(st.Nom) == "" {
		return Student{}, badRequestf("Le champ « nom » ne peut pas être vide.")
	}
	if len(st.Categories) == 0 {
		return Student{}, badRequestf("Le champ « categories » doit contenir au moins une catégorie.")
	}
	rec := Student{Nom: strings.TrimSpace(st.Nom), Prenom: strings.TrimSpace(st.Prenom), NEPH: neph}
	for _, c := range st.Categories {
		rec.Categories = append(rec.Categories, strings.ToUpper(strings.TrimSpace(c)))
	}
	s.mu.Lock()
	s.st.Students[neph] = &rec
	s.mu.Unlock()
	s.changed()
	return rec, nil
}

func (s *Server) handleSetFaults(w http.ResponseWriter, r *http.Request) {
	f, err := decodeFaults(w, r)
	if err != nil {
		writeBadRequest(w, err)
		return
	}
	s.mu.Lock()
	s.st.Faults = f
	s.mu.Unlock()
	s.changed()
	s.log.Info("sandbox: faults set", "faults", f)
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) handleGetFaults(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	f := s.st.Faults.effective()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, f)
}

func (s *Server) handleLedger(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if v := r.URL.Query().Get("calls_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeBadRequest(w, fmt.Errorf("calls_since: an RFC 3339 time, not %q", v))
			return
		}
		since = t
	}
	writeJSON(w, http.StatusOK, s.LedgerSince(since))
}

// Ledger returns what the sandbox stored and counted since the last reset.
func (s *Server) Ledger() Ledger { return s.LedgerSince(time.Time{}) }

// LedgerSince is the Ledger whose per-account call figures (accepted calls, first and last,
// busiest 60 s, longest gap) count only the calls accepted at or after since: a benchmark
// measures the run it started, not the logins before it. Everything else is since the reset.
func (s *Server) LedgerSince(since time.Time) Ledger {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := Ledger{
		Contracts:         make([]LedgerContract, 0, len(s.st.Contracts)),
		Lessons:           make([]LedgerLesson, 0, len(s.st.Lessons)),
		DuplicatesRefused: s.st.DuplicatesRefused,
		Calls:             s.st.Calls,
		RateLimited:       s.st.RateLimited,
		Refreshes:         s.st.Refreshes,
		Accounts:          make([]LedgerAccount, 0, len(s.st.Accounts)),
	}
	for _, c := range s.st.Contracts {
		l.Contracts = append(l.Contracts, LedgerContract{IDContrat: c.IDContrat, NEPH: c.NEPH, Categorie: c.Categorie, Agrement: c.Agrement, CompteID: c.CompteID})
	}
	for _, ls := range s.st.Lessons {
		l.Lessons = append(l.Lessons, LedgerLesson{
			IDLecon: ls.IDLecon, IDContrat: ls.IDContrat,
			Debut: ls.Debut.In(paris), Fin: ls.Fin.In(paris),
			Type: ls.Type, NumeroAutorisationFormateur: ls.Autorisation,
			RecuLe: ls.RecuLe, CompteID: ls.CompteID,
		})
	}
	for _, a := range s.st.Accounts {
		accepted := a.accepted
		if !since.IsZero() {
			accepted = slices.DeleteFunc(slices.Clone(accepted), func(t time.Time) bool { return t.Before(since) })
		}
		la := LedgerAccount{
			CompteID: a.CompteID, Email: a.Email, Agrement: a.Agrement,
			Calls: a.Calls, RateLimited: a.RateLimited, MaxCallsIn60s: maxCallsIn60s(accepted),
			AcceptedCalls: len(accepted),
		}
		if n := len(accepted); n > 0 {
			first, last := slices.MinFunc(accepted, time.Time.Compare), slices.MaxFunc(accepted, time.Time.Compare)
			la.FirstCallAt, la.LastCallAt = &first, &last
			la.LongestGapMS = longestGap(accepted).Milliseconds()
		}
		l.Accounts = append(l.Accounts, la)
	}
	slices.SortFunc(l.Accounts, func(x, y LedgerAccount) int { return strings.Compare(x.Email, y.Email) })
	return l
}

func (s *Server) handleReset(w http.ResponseWriter, _ *http.Request) {
	s.Reset()
	s.log.Info("sandbox: reset")
	w.WriteHeader(http.StatusNoContent)
}

// Reset empties the sandbox: reference data, tokens, sessions, ledger, counters and faults.
func (s *Server) Reset() {
	s.mu.Lock()
	s.st = newState()
	s.st.Faults = Faults{}.effective()
	s.mu.Unlock()
	s.changed()
}

// applySeed loads reference data; it is idempotent (see Seed).
func (s *Server) applySeed(seed *Seed) error {
	for _, c := range seed.Clients {
		if err := s.addClient(c); err != nil {
			return err
		}
	}
	for _, a := range seed.Accounts {
		if _, _, err := s.addAccount(a); err != nil {
			return err
		}
	}
	for _, st := range seed.Students {
		if _, err := s.addStudent(st); err != nil {
			return err
		}
	}
	for _, sc := range seed.Schools {
		if _, err := s.setSchool(sc.Agrement, sc.Statut); err != nil {
			return err
		}
	}
	return nil
}
