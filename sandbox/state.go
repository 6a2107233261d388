package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// state is everything the sandbox knows. It is one JSON document (the state file); the
// lower-case fields are indexes rebuilt by reindex, or traffic bookkeeping that is not worth
// persisting. Every access holds Server.mu.
type state struct {
	Clients   map[string]*Client  `json:"clients"`  // by client_id
	Accounts  map[string]*account `json:"accounts"` // by compte_id
	Schools   map[string]*school  `json:"schools"`  // by agrement
	Students  map[string]*Student `json:"students"` // by NEPH
	Contracts []*contract         `json:"contracts"`
	Lessons   []*lesson           `json:"lessons"`

	// OAuth state. Tokens and codes are keyed by their SHA-256 so the state file holds no
	// usable secret.
	Sessions      map[string]*session  `json:"sessions"`
	Codes         map[string]*authCode `json:"codes"`
	AccessTokens  map[string]*grant    `json:"access_tokens"`
	RefreshTokens map[string]*grant    `json:"refresh_tokens"`

	Faults Faults `json:"faults"`

	DuplicatesRefused int `json:"duplicates_refused"`
	Calls             int `json:"calls"`
	RateLimited       int `json:"rate_limited"`
	Refreshes         int `json:"refreshes"`

	accountByEmail  map[string]*account
	contractByID    map[string]*contract
	contractsByNEPH map[string][]*contract
	// contractByKey holds NEPH|categorie of every contract: CONTRAT_DEJA_CONNU, one contract
	// per student and category (whichever school holds it).
	contractByKey     map[string]*contract
	lessonsByContract map[string][]*lesson
	// lessonSlots holds id_contrat|debut of every stored lesson: the duplicate rule, per
	// contract, so that one student's lessons of two categories, or a THEORIE class of several
	// students, are not duplicates of each other.
	lessonSlots map[string]bool
}

type account struct {
	CompteID    string `json:"compte_id"`
	Email       string `json:"email"`
	Password    string `json:"password"`
	Agrement    string `json:"agrement"`
	Calls       int    `json:"calls"`
	RateLimited int    `json:"rate_limited"`

	// window is the sliding log of accepted calls in the last 60 s (the rate limit);
	// accepted is every accepted call since the reset (max_calls_in_60s).
	window   []time.Time
	accepted []time.Time
}

type school struct {
	Agrement string `json:"agrement"`
	Nom      string `json:"nom"`
	Statut   string `json:"statut"`
}

type contract struct {
	IDContrat string    `json:"id_contrat"`
	NEPH      string    `json:"neph"`
	Nom       string    `json:"nom"`
	Prenom    string    `json:"prenom"`
	Categorie string    `json:"categorie"`
	Agrement  string    `json:"agrement"`
	CompteID  string    `json:"compte_id"`
	CreeLe    time.Time `json:"cree_le"`
}

type lesson struct {
	IDLecon         string    `json:"id_lecon"`
	IDContrat       string    `json:"id_contrat"`
	Debut           time.Time `json:"debut"`
	Fin             time.Time `json:"fin"`
	Type            string    `json:"type"`
	Autorisation    string    `json:"numero_autorisation_formateur"`
	NomFormateur    string    `json:"nom_formateur"`
	PrenomFormateur string    `json:"prenom_formateur"`
	RecuLe          time.Time `json:"recu_le"`
	CompteID        string    `json:"compte_id"`
}

// session is a RdvPermis login session (the rdvpermis_session cookie).
type session struct {
	CompteID string    `json:"compte_id"`
	Since    time.Time `json:"since"`
}

// authCode is an issued authorization code, bound to its client, redirect URI and PKCE challenge.
type authCode struct {
	ClientID      string    `json:"client_id"`
	RedirectURI   string    `json:"redirect_uri"`
	CodeChallenge string    `json:"code_challenge"`
	CompteID      string    `json:"compte_id"`
	Scope         string    `json:"scope"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// grant is what an access or refresh token stands for.
type grant struct {
	CompteID  string    `json:"compte_id"`
	ClientID  string    `json:"client_id"`
	Scope     string    `json:"scope"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func newState() *state {
	st := &state{
		Clients:       map[string]*Client{},
		Accounts:      map[string]*account{},
		Schools:       map[string]*school{},
		Students:      map[string]*Student{},
		Sessions:      map[string]*session{},
		Codes:         map[string]*authCode{},
		AccessTokens:  map[string]*grant{},
		RefreshTokens: map[string]*grant{},
	}
	st.reindex()
	return st
}

// reindex rebuilds the lookup maps after a load; nil maps from an older or hand-written state
// file become empty ones.
func (st *state) reindex() {
	for _, m := range []*map[string]*grant{&st.AccessTokens, &st.RefreshTokens} {
		if *m == nil {
			*m = map[string]*grant{}
		}
	}
	if st.Clients == nil {
		st.Clients = map[string]*Client{}
	}
	if st.Accounts == nil {
		st.Accounts = map[string]*account{}
	}
	if st.Schools == nil {
		st.Schools = map[string]*school{}
	}
	if st.Students == nil {
		st.Students = map[string]*Student{}
	}
	if st.Sessions == nil {
		st.Sessions = map[string]*session{}
	}
	if st.Codes == nil {
		st.Codes = map[string]*authCode{}
	}
	st.accountByEmail = map[string]*account{}
	for _, a := range st.Accounts {
		st.accountByEmail[normalizeEmail(a.Email)] = a
	}
	st.contractByID = map[string]*contract{}
	st.contractsByNEPH = map[string][]*contract{}
	st.contractByKey = map[string]*contract{}
	for _, c := range st.Contracts {
		st.addContract(c)
	}
	st.lessonsByContract = map[string][]*lesson{}
	st.lessonSlots = map[string]bool{}
	for _, l := range st.Lessons {
		st.addLesson(l)
	}
}

// addContract indexes a contract; Contracts itself is the caller's to append to, so reindex
// can use it on the loaded list. A state file's contracts always carry their categorie (the
// contract call has required it from the start), so older files index the same way.
func (st *state) addContract(c *contract) {
	st.contractByID[c.IDContrat] = c
	st.contractsByNEPH[c.NEPH] = append(st.contractsByNEPH[c.NEPH], c)
	st.contractByKey[contractKey(c.NEPH, c.Categorie)] = c
}

// addLesson indexes a lesson, as addContract does a contract. Lessons of a state file written
// when the duplicate rule was per NEPH get their per-contract slot here: with one contract per
// NEPH then, both rules held the same slots.
func (st *state) addLesson(l *lesson) {
	st.lessonsByContract[l.IDContrat] = append(st.lessonsByContract[l.IDContrat], l)
	st.lessonSlots[lessonSlot(l.IDContrat, l.Debut)] = true
}

// contractKey identifies "this student's contract for this category".
func contractKey(neph, categorie string) string { return neph + "|" + categorie }

// lessonSlot identifies "this contract at this date and time": the same instant written with
// another offset is the same slot.
func lessonSlot(idContrat string, debut time.Time) string {
	return idContrat + "|" + debut.UTC().Format(time.RFC3339Nano)
}

// secretKey is how a token, code or session id is stored: its SHA-256, never the secret itself.
func secretKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
