package school

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"golang.org/x/oauth2"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// Linking an office to a RdvPermis account (docs/rules.md, "Linking offices"): an OAuth authorization-code flow with
// PKCE. The state is random, single use, short-lived and stored server-side (hashed) with the
// school, the office and the PKCE verifier (encrypted): the callback's authority comes from
// it alone, not from any API key (the browser comes back from RdvPermis without one).

// stateTTL bounds how long an admin may take to log in at RdvPermis.
const stateTTL = 10 * time.Minute

// LinkWarning is the vendor guide's warning, shown before linking an office when another office
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

// Connect starts linking an office (GET /v1/offices/{ref}/dsr/connect): the RdvPermis
// authorization URL to send the browser to. When another office of the school is already
// linked and confirm is false, it refuses with the linking warning (TypeLinkWarning, with the
// RdvPermis logout URL). query is the request's query string: a redirect parameter in it is
// refused, as the page after linking is fixed.
func (s *Service) Connect(ctx context.Context, school dbq.School, ref string, confirm bool, query url.Values) (string, error) {
	return s.ConnectFrom(ctx, school, ref, confirm, query, "")
}

// ConnectFrom is Connect bound to the browser that asks (the pages): binding is a random
// value of that browser's cookie, whose hash is stored with the state; the callback then
// needs it (CallbackFrom). Empty binds nothing (the API's route).
func (s *Service) ConnectFrom(ctx context.Context, school dbq.School, ref string, confirm bool, query url.Values, binding string) (string, error) {
	if err := Authorize(ctx, domain.PermLink); err != nil {
		return "", err
	}
	for _, p := range redirectParams {
		if _, ok := query[p]; ok {
			return "", BadRequest("La page de retour après la connexion est fixe : le paramètre « "+p+" » n'est pas accepté.",
				FieldError{Field: p, Message: "Paramètre non accepté."})
		}
	}
	q := dbq.New(s.Pool)
	office, err := officeByRef(ctx, q, school.ID, ref)
	if err != nil {
		return "", err
	}
	others, err := q.OfficeCountOtherLinked(ctx, dbq.OfficeCountOtherLinkedParams{SchoolID: school.ID, ID: office.ID})
	if err != nil {
		return "", err
	}
	if others > 0 && !confirm {
		p := Conflict(TypeLinkWarning, LinkWarning)
		p.Title = "Avertissement"
		p.Extra = map[string]any{"logout_url": s.RdvPermisLogoutURL}
		return "", p
	}

	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	state := base64.RawURLEncoding.EncodeToString(raw[:])
	verifier := oauth2.GenerateVerifier()
	stateHash := hashState(state)
	sealed, keyID := s.Sealer.Seal([]byte(verifier), stateAAD(stateHash))
	// Housekeeping first: states expired for a day are of no use, not even for an audit.
	if err := q.OAuthStateDeleteExpired(ctx); err != nil {
		return "", err
	}
	params := dbq.OAuthStateCreateParams{StateHash: stateHash, SchoolID: school.ID,
		OfficeID: office.ID, VerifierEnc: sealed, KeyID: keyID, ExpiresAt: s.now().Add(stateTTL), BindingHash: bindingHash(binding)}
	stateActorParams(ctx, &params) // who started it, for the callback's audit row
	if err := q.OAuthStateCreate(ctx, params); err != nil {
		return "", err
	}
	return s.OAuth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil
}

// oauthErrorCode is what an RFC 6749 error code looks like; anything else is not echoed.
var oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

var errBadState = BadRequest("Ce lien de connexion est invalide, expiré ou déjà utilisé : recommencez la connexion du bureau depuis la page des bureaux.")

// Linked is the office a callback linked.
type Linked struct {
	SchoolID, OfficeID, AccountID int64
}

// Callback ends linking (GET /v1/oauth/callback, where RdvPermis sends the browser back):
// state and code as RdvPermis gave them, oauthError its "error" parameter. The link, the
// re-evaluation of the office's lessons and the mark that Temporal must hear of it are one
// transaction; the Schedule and the keeper are then asked for at once, and when Temporal does
// not answer the worker's reconciler makes them later (ReconcileSchedules): the office is
// never left linked without its daily run.
func (s *Service) Callback(ctx context.Context, state, code, oauthError string) (Linked, error) {
	return s.CallbackFrom(ctx, state, code, oauthError, "")
}

func bindingHash(binding string) []byte {
	if binding == "" {
		return nil
	}
	sum := sha256.Sum256([]byte("oauth-binding/" + binding))
	return sum[:]
}

// errOtherBrowser refuses a callback in another browser than the one that started linking.
var errOtherBrowser = &Problem{Type: TypeOAuth, Title: "Connexion du bureau refusée", Status: http.StatusBadRequest,
	Detail: "Ce lien de connexion a été ouvert dans un autre navigateur que celui où la connexion du bureau a commencé : terminez-la dans le même navigateur, ou recommencez depuis la page des bureaux."}

// CallbackFrom is Callback with the browser's binding cookie: a state bound to a browser
// (ConnectFrom) is refused from another, and is not spent, so the right browser can still
// finish.
func (s *Service) CallbackFrom(ctx context.Context, state, code, oauthError, binding string) (Linked, error) {
	if state == "" {
		return Linked{}, errBadState
	}
	want, err := dbq.New(s.Pool).OAuthStateBinding(ctx, hashState(state))
	if err != nil && !db.IsNotFound(err) {
		return Linked{}, err
	}
	if err == nil && want != nil && subtle.ConstantTimeCompare(want, bindingHash(binding)) != 1 {
		s.log().WarnContext(ctx, "oauth callback from another browser refused")
		return Linked{}, errOtherBrowser
	}
	// Spent whatever happens next: a state is good for one attempt only.
	st, err := dbq.New(s.Pool).OAuthStateConsume(ctx, hashState(state))
	if db.IsNotFound(err) {
		return Linked{}, errBadState
	}
	if err != nil {
		return Linked{}, err
	}
	if oauthError != "" {
		detail := "RdvPermis n'a pas accordé l'accès : la connexion du bureau n'a pas abouti. Recommencez depuis la page des bureaux."
		if oauthErrorCode.MatchString(oauthError) {
			detail += " (code : " + oauthError + ")"
		}
		return Linked{}, &Problem{Type: TypeOAuth, Title: "Connexion refusée", Status: http.StatusBadRequest, Detail: detail}
	}
	if code == "" {
		return Linked{}, BadRequest("RdvPermis n'a pas renvoyé de code de connexion : recommencez la connexion du bureau.")
	}
	verifier, err := s.Sealer.Open(st.VerifierEnc, st.KeyID, stateAAD(st.StateHash))
	if err != nil {
		return Linked{}, err
	}

	// No transaction spans a DSR call: exchange and identify first, then write.
	tok, err := s.RdvPermis.Exchange(ctx, code, string(verifier))
	if err != nil {
		return Linked{}, rdvPermisProblem(err)
	}
	me, err := s.RdvPermis.Identify(ctx, tok)
	if err != nil {
		return Linked{}, rdvPermisProblem(err)
	}
	school, err := dbq.New(s.Pool).SchoolGet(ctx, st.SchoolID)
	if err != nil {
		return Linked{}, err
	}
	if got, _ := domain.NormalizeAgrement(me.Agrement); got != school.Agrement {
		p := Conflict(TypeWrongSchool, "Ce compte RdvPermis appartient à une autre auto-école (agrément "+got+
			") : déconnectez-vous de RdvPermis, puis connectez le bureau avec un compte de votre auto-école (agrément "+school.Agrement+").")
		p.Extra = map[string]any{"logout_url": s.RdvPermisLogoutURL}
		return Linked{}, p
	}

	var account dbq.DsrAccount
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		account, err = s.Tokens.LinkAccount(ctx, q, school.ID, me.AccountID, me.Email, tok)
		if err != nil {
			return err
		}
		o, err := q.OfficeLink(ctx, dbq.OfficeLinkParams{SchoolID: school.ID, ID: st.OfficeID, AccountID: &account.ID})
		if err != nil {
			return err
		}
		// The callback has no actor of its own: the row names whoever started the link, kept
		// with the state (Livret for a state that names nobody). That actor is for the trail
		// only: it carries no role, so it is not put on the context of anything else.
		actx := ctx
		if a, ok := StateActor(st); ok {
			actx = WithActor(ctx, a)
		}
		if err := audit(actx, q, school, AuditOfficeLink, officeObject(o)+" au compte RdvPermis "+me.Email); err != nil {
			return err
		}
		return Reevaluate(ctx, q, school.ID, Scope{OfficeID: &st.OfficeID})
	})
	if err != nil {
		return Linked{}, err
	}
	s.log().InfoContext(ctx, "office linked", "school_id", school.ID, "office_id", st.OfficeID, "account_id", account.ID)
	s.syncSchedule(ctx, pendingOffice{ID: st.OfficeID, SchoolID: school.ID, AccountID: &account.ID})
	return Linked{SchoolID: school.ID, OfficeID: st.OfficeID, AccountID: account.ID}, nil
}

// rdvPermisProblem explains a failed exchange or identification. Its errors never carry a token.
func rdvPermisProblem(err error) error {
	var r interface{ Retryable() bool }
	if !errors.As(err, &r) {
		return err
	}
	if r.Retryable() {
		return Upstream("RdvPermis ne répond pas pour le moment : recommencez la connexion du bureau dans quelques minutes.")
	}
	return &Problem{Type: TypeOAuth, Title: "Connexion refusée", Status: http.StatusBadRequest,
		Detail: "RdvPermis a refusé la connexion (code expiré ou déjà utilisé) : recommencez la connexion du bureau depuis la page des bureaux."}
}

// Disconnect unlinks an office (POST /v1/offices/{ref}/dsr/disconnect): nothing of it is
// sent until it is linked again. linked_at is kept (see OfficeLink). Like the link, the
// Schedule's removal is marked in the same transaction and retried by the reconciler.
func (s *Service) Disconnect(ctx context.Context, school dbq.School, ref string) (Office, error) {
	if err := Authorize(ctx, domain.PermLink); err != nil {
		return Office{}, err
	}
	var (
		office dbq.Office
		view   Office
	)
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		var err error
		office, err = officeByRef(ctx, q, school.ID, ref)
		if err != nil {
			return err
		}
		if _, err := q.OfficeUnlink(ctx, dbq.OfficeUnlinkParams{SchoolID: school.ID, ID: office.ID}); err != nil {
			return err
		}
		if err := audit(ctx, q, school, AuditOfficeUnlink, officeObject(office)); err != nil {
			return err
		}
		if err := Reevaluate(ctx, q, school.ID, Scope{OfficeID: &office.ID}); err != nil {
			return err
		}
		view, err = s.officeCard(ctx, q, school, office.ID)
		return err
	})
	if err != nil {
		return Office{}, err
	}
	s.log().InfoContext(ctx, "office unlinked", "school_id", school.ID, "office_id", office.ID)
	s.syncSchedule(ctx, pendingOffice{ID: office.ID, SchoolID: school.ID})
	return view, nil
}
