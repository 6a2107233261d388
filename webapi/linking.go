package webapi

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
	"livret/dsr"
)

// Linking an office to a RdvPermis account (seed §3–4): an OAuth authorization-code flow with
// PKCE. The state is random, single use, short-lived and stored server-side (hashed) with the
// school, the office and the PKCE verifier (encrypted): the callback's authority comes from
// it alone, not from any API key (the browser comes back from RdvPermis without one).

// stateTTL bounds how long an admin may take to log in at RdvPermis.
const stateTTL = 10 * time.Minute

// LinkWarning is the seed's warning (§3), shown before linking an office when another office
// of the school is already linked.
const LinkWarning = `Si vous avez déjà connecté un autre bureau à la DSR et souhaitez connecter celui-ci à un compte RDV Permis différent, déconnectez-vous d'abord sur le site de RDV Permis. Sinon, cliquez sur "Connexion".`

// redirectParams are parameters an open redirect would use. The page after linking is fixed;
// a request carrying one is refused so nobody builds a link that seems to honour it.
var redirectParams = []string{"redirect", "redirect_uri", "redirect_url", "next", "return_to", "returnTo", "continue", "url"}

// stateAAD binds a sealed PKCE verifier to its state row.
func stateAAD(stateHash []byte) []byte {
	return []byte("oauth_states/" + hex.EncodeToString(stateHash))
}

func hashState(state string) []byte {
	sum := sha256.Sum256([]byte(state))
	return sum[:]
}

// connectOffice is GET /v1/offices/{ref}/dsr/connect: 302 to RdvPermis's login.
func (s *Server) connectOffice(c *gin.Context) {
	ctx := c.Request.Context()
	school := schoolOf(c)
	for _, p := range redirectParams {
		if _, ok := c.GetQuery(p); ok {
			_ = c.Error(badRequest("La page de retour après la connexion est fixe : le paramètre « "+p+" » n'est pas accepté.",
				FieldError{Field: p, Message: "Paramètre non accepté."}))
			return
		}
	}
	ref, ok := lookupRef(c)
	if !ok {
		_ = c.Error(errOfficeNotFound)
		return
	}
	q := dbq.New(s.Pool)
	office, err := q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: school.ID, Ref: ref})
	if db.IsNotFound(err) {
		_ = c.Error(errOfficeNotFound)
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	others, err := q.OfficeCountOtherLinked(ctx, dbq.OfficeCountOtherLinkedParams{SchoolID: school.ID, ID: office.ID})
	if err != nil {
		_ = c.Error(err)
		return
	}
	if others > 0 && c.Query("confirm") != "1" {
		p := conflict(typeLinkWarning, LinkWarning)
		p.Title = "Avertissement"
		p.Extra = map[string]any{"logout_url": s.RdvPermisLogoutURL}
		_ = c.Error(p)
		return
	}

	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		_ = c.Error(err)
		return
	}
	state := base64.RawURLEncoding.EncodeToString(raw[:])
	verifier := oauth2.GenerateVerifier()
	stateHash := hashState(state)
	sealed, keyID := s.Sealer.Seal([]byte(verifier), stateAAD(stateHash))
	// Housekeeping first: states expired for a day are of no use, not even for an audit.
	if err := q.OAuthStateDeleteExpired(ctx); err != nil {
		_ = c.Error(err)
		return
	}
	if err := q.OAuthStateCreate(ctx, dbq.OAuthStateCreateParams{StateHash: stateHash, SchoolID: school.ID,
		OfficeID: office.ID, VerifierEnc: sealed, KeyID: keyID, ExpiresAt: s.now().Add(stateTTL)}); err != nil {
		_ = c.Error(err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, s.OAuth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)))
}

// oauthErrorCode is what an RFC 6749 error code looks like; anything else is not echoed.
var oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

var errBadState = badRequest("Ce lien de connexion est invalide, expiré ou déjà utilisé : recommencez la connexion du bureau depuis la page des bureaux.")

// oauthCallback is GET /v1/oauth/callback, where RdvPermis sends the browser back.
func (s *Server) oauthCallback(c *gin.Context) {
	ctx := c.Request.Context()
	state, code := c.Query("state"), c.Query("code")
	if state == "" {
		_ = c.Error(errBadState)
		return
	}
	// Spent whatever happens next: a state is good for one attempt only.
	st, err := dbq.New(s.Pool).OAuthStateConsume(ctx, hashState(state))
	if db.IsNotFound(err) {
		_ = c.Error(errBadState)
		return
	}
	if err != nil {
		_ = c.Error(err)
		return
	}
	if e := c.Query("error"); e != "" {
		detail := "RdvPermis n'a pas accordé l'accès : la connexion du bureau n'a pas abouti. Recommencez depuis la page des bureaux."
		if oauthErrorCode.MatchString(e) {
			detail += " (code : " + e + ")"
		}
		_ = c.Error(&Problem{Type: typeOAuth, Title: "Connexion refusée", Status: http.StatusBadRequest, Detail: detail})
		return
	}
	if code == "" {
		_ = c.Error(badRequest("RdvPermis n'a pas renvoyé de code de connexion : recommencez la connexion du bureau."))
		return
	}
	verifier, err := s.Sealer.Open(st.VerifierEnc, st.KeyID, stateAAD(st.StateHash))
	if err != nil {
		_ = c.Error(err)
		return
	}

	// No transaction spans a DSR call: exchange and identify first, then write.
	tok, err := s.DSR.Exchange(ctx, code, string(verifier))
	if err != nil {
		_ = c.Error(dsrProblem(err))
		return
	}
	me, err := s.DSR.MeWithToken(ctx, tok)
	if err != nil {
		_ = c.Error(dsrProblem(err))
		return
	}
	school, err := dbq.New(s.Pool).SchoolGet(ctx, st.SchoolID)
	if err != nil {
		_ = c.Error(err)
		return
	}
	if got, _ := domain.NormalizeAgrement(me.School.Agrement); got != school.Agrement {
		p := conflict(typeWrongSchool, "Ce compte RdvPermis appartient à une autre auto-école (agrément "+got+
			") : déconnectez-vous de RdvPermis, puis connectez le bureau avec un compte de votre auto-école (agrément "+school.Agrement+").")
		p.Extra = map[string]any{"logout_url": s.RdvPermisLogoutURL}
		_ = c.Error(p)
		return
	}

	var account dbq.DsrAccount
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		account, err = s.Tokens.LinkAccount(ctx, q, school.ID, me.AccountID, me.Email, tok)
		if err != nil {
			return err
		}
		if _, err := q.OfficeLink(ctx, dbq.OfficeLinkParams{SchoolID: school.ID, ID: st.OfficeID, AccountID: &account.ID}); err != nil {
			return err
		}
		return reevaluate(ctx, q, school.ID, dbq.LessonFactsListParams{OfficeID: &st.OfficeID})
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.log().InfoContext(ctx, "office linked", "school_id", school.ID, "office_id", st.OfficeID,
		"account_id", account.ID, "request_id", requestID(c))
	// The link is committed; the Schedule and the keeper are idempotent, so a failure here is
	// repaired by linking again.
	if err := s.Orchestrator.EnsureSchedule(ctx, school.ID, st.OfficeID); err != nil {
		_ = c.Error(orchestratorProblem("Le bureau est connecté, mais son envoi quotidien n'a pas pu être planifié : recommencez la connexion dans quelques minutes.", err, s, c))
		return
	}
	if err := s.Orchestrator.EnsureKeeper(ctx, account.ID); err != nil {
		_ = c.Error(orchestratorProblem("Le bureau est connecté, mais le maintien de la connexion RdvPermis n'a pas pu être lancé : recommencez la connexion dans quelques minutes.", err, s, c))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusFound, OfficesPage)
}

// dsrProblem explains a failed exchange or identification. dsr errors never carry a token.
func dsrProblem(err error) error {
	e, ok := dsr.AsError(err)
	if !ok {
		return err
	}
	if e.Retryable() {
		return upstream("RdvPermis ne répond pas pour le moment : recommencez la connexion du bureau dans quelques minutes.")
	}
	return &Problem{Type: typeOAuth, Title: "Connexion refusée", Status: http.StatusBadRequest,
		Detail: "RdvPermis a refusé la connexion (code expiré ou déjà utilisé) : recommencez la connexion du bureau depuis la page des bureaux."}
}

// orchestratorProblem logs a Temporal failure and answers 503 with a French explanation.
func orchestratorProblem(detail string, err error, s *Server, c *gin.Context) *Problem {
	s.log().ErrorContext(c.Request.Context(), "temporal call failed", "route", routeOf(c), "request_id", requestID(c), "error", err.Error())
	return unavailable(detail)
}

// disconnectOffice is POST /v1/offices/{ref}/dsr/disconnect: nothing of the office is sent
// until it is linked again. linked_at is kept (see OfficeLink).
func (s *Server) disconnectOffice(c *gin.Context) {
	ctx := c.Request.Context()
	school := schoolOf(c)
	ref, ok := lookupRef(c)
	if !ok {
		_ = c.Error(errOfficeNotFound)
		return
	}
	var (
		office dbq.Office
		view   officeView
	)
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		office, err = q.OfficeGetByRef(ctx, dbq.OfficeGetByRefParams{SchoolID: school.ID, Ref: ref})
		if db.IsNotFound(err) {
			return errOfficeNotFound
		}
		if err != nil {
			return err
		}
		if _, err := q.OfficeUnlink(ctx, dbq.OfficeUnlinkParams{SchoolID: school.ID, ID: office.ID}); err != nil {
			return err
		}
		if err := reevaluate(ctx, q, school.ID, dbq.LessonFactsListParams{OfficeID: &office.ID}); err != nil {
			return err
		}
		view, err = officeCard(ctx, q, school.ID, office.ID)
		return err
	})
	if err != nil {
		_ = c.Error(err)
		return
	}
	s.log().InfoContext(ctx, "office unlinked", "school_id", school.ID, "office_id", office.ID, "request_id", requestID(c))
	if err := s.Orchestrator.DeleteSchedule(ctx, office.ID); err != nil {
		_ = c.Error(orchestratorProblem("Le bureau est déconnecté, mais son envoi quotidien n'a pas pu être retiré : recommencez la déconnexion dans quelques minutes.", err, s, c))
		return
	}
	c.JSON(http.StatusOK, view)
}

var errOfficeNotFound = notFound("Bureau introuvable.")
