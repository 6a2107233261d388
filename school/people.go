package school

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
	"github.com/jackc/pgx/v5/pgconn"

	"livret/db"
	"livret/db/dbq"
	"livret/domain"
)

// People of a school (product.md, "People and roles"; docs/api.md, "People and keys"): they
// sign in on the pages with their e-mail and a password they chose from an e-mailed link.
// Passwords are kept as argon2id strings; the links' tokens as SHA-256 hashes.

const (
	// PasswordMinLen is the shortest password accepted, in characters.
	PasswordMinLen = 12
	// LoginMaxFailures wrong passwords for one address within LoginWindow lock it for
	// LoginLock, whether a person has that address or not.
	LoginMaxFailures = 5
	LoginWindow      = 15 * time.Minute
	LoginLock        = 15 * time.Minute
	// InvitationTTL is how long an invitation's link works; ResetTTL a reset link's.
	InvitationTTL = 72 * time.Hour
	ResetTTL      = time.Hour
	// InvitationPath and ResetPath are the pages the e-mailed links open (package webui).
	InvitationPath = "/ui/invitation"
	ResetPath      = "/ui/mot-de-passe"
)

// passwordParams are OWASP's second argon2id profile (19 MiB, 2 passes, 1 lane).
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// dummyHash is compared against when the address has no password (unknown, or invitation
// not used yet): the same work as a real comparison, so the time taken does not tell.
// It is the argon2id of a random string nobody kept, with passwordParams.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$fUiRYYm0lJFQBfc6aBKHYA$D62h3t9qQSeixFJPoX1J0scu8tRWSxfgflh/kunmnqE"

// MailSender sends one French plain-text e-mail. The composition root gives one built over
// package mailer; nil means Livret cannot send mail (invitations are refused with a 503).
type MailSender func(ctx context.Context, to, subject, text string) error

// Person is someone of a school, as the pages' session and the API show them.
type Person struct {
	ID         int64       `json:"id"`
	Email      string      `json:"email"`
	Role       domain.Role `json:"role"`
	RoleLabel  string      `json:"role_label"`
	OfficeRefs []string    `json:"office_refs"`
	// Invited: the person has not chosen a password yet.
	Invited  bool    `json:"invited"`
	Created  string  `json:"created_at"`
	SchoolID int64   `json:"-"`
	OfficeID []int64 `json:"-"`
	// PasswordPrint changes whenever the password does: a session opened before a reset
	// carries the old one and ends.
	PasswordPrint string `json:"-"`
}

// Actor is the person as the use cases see them.
func (p Person) Actor() Actor {
	a := Actor{SchoolID: p.SchoolID, Kind: ActorUser, UserID: p.ID, Label: p.Email, Role: p.Role}
	if p.Role.OfficeScoped() {
		a.OfficeIDs = p.OfficeID
	}
	return a
}

// NormalizeEmail is how addresses are compared and stored: trimmed, lower-cased.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func passwordPrint(hash *string) string {
	if hash == nil {
		return ""
	}
	sum := sha256.Sum256([]byte(*hash))
	return hex.EncodeToString(sum[:16])
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func newLinkToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Sign-in answers: the same for an unknown address and a wrong password.
var (
	ErrBadCredentials = &Problem{Type: TypeUnauthorized, Title: "Connexion refusée", Status: http.StatusUnauthorized,
		Detail: "Adresse e-mail ou mot de passe incorrect."}
	ErrLoginLocked = &Problem{Type: TypeTooManyAttempts, Title: "Trop de tentatives", Status: http.StatusTooManyRequests,
		Detail: "Trop de tentatives de connexion avec cette adresse : la connexion est bloquée pendant 15 minutes. Réessayez plus tard, ou choisissez « Mot de passe oublié ? »."}
	ErrPersonNotFound = NotFound("Personne introuvable.")
	// ErrLinkUsed and ErrLinkExpired answer an e-mailed link that no longer works.
	ErrLinkUsed    = &Problem{Type: TypeBadLink, Title: "Lien déjà utilisé", Status: http.StatusGone, Detail: "Ce lien a déjà été utilisé : il ne sert qu'une fois. Connectez-vous, ou demandez un nouveau lien avec « Mot de passe oublié ? »."}
	ErrLinkExpired = &Problem{Type: TypeBadLink, Title: "Lien expiré", Status: http.StatusGone, Detail: "Ce lien a expiré. Demandez un nouveau lien avec « Mot de passe oublié ? », ou demandez au gérant de vous inviter de nouveau."}
	ErrLinkUnknown = &Problem{Type: TypeBadLink, Title: "Lien invalide", Status: http.StatusNotFound, Detail: "Ce lien est invalide : vérifiez qu'il a été copié en entier depuis l'e-mail."}
)

// Problem types of people.
const (
	TypeTooManyAttempts = "urn:livret:problem:too-many-attempts"
	TypeBadLink         = "urn:livret:problem:link-not-usable"
	TypeLastGerant      = "urn:livret:problem:last-gerant"
)

// SignIn checks an e-mail and a password. Repeated wrong passwords for one address lock it
// (LoginMaxFailures within LoginWindow, for LoginLock), keyed by an HMAC of the address so an
// unknown address is throttled the same way; a password is compared (against a dummy hash
// when there is none) whether the address exists or not.
func (s *Service) SignIn(ctx context.Context, email, password string) (Person, error) {
	email = NormalizeEmail(email)
	now := s.now()
	key := s.Sealer.MAC("login_failures", []byte(email))
	q := dbq.New(s.Pool)
	f, err := q.LoginFailureGet(ctx, key)
	if err != nil && !db.IsNotFound(err) {
		return Person{}, err
	}
	if err == nil && f.LockedUntil != nil && f.LockedUntil.After(now) {
		return Person{}, ErrLoginLocked
	}
	u, err := q.UserByEmail(ctx, email)
	if err != nil && !db.IsNotFound(err) {
		return Person{}, err
	}
	hash := dummyHash
	known := err == nil && u.PasswordHash != nil
	if known {
		hash = *u.PasswordHash
	}
	ok, cmpErr := argon2id.ComparePasswordAndHash(password, hash)
	if cmpErr != nil || !ok || !known {
		f, err := q.LoginFailureRecord(ctx, dbq.LoginFailureRecordParams{EmailHash: key, Now: now, WindowStart: now.Add(-LoginWindow),
			MaxFailures: LoginMaxFailures, LockUntil: now.Add(LoginLock)})
		if err != nil {
			return Person{}, err
		}
		if f.LockedUntil != nil && f.LockedUntil.After(now) {
			s.log().WarnContext(ctx, "sign-in locked after repeated failures")
			return Person{}, ErrLoginLocked
		}
		return Person{}, ErrBadCredentials
	}
	if err := q.LoginFailureClear(ctx, key); err != nil {
		return Person{}, err
	}
	// Housekeeping at each sign-in: what is of no use any more.
	_ = q.LoginFailuresDeleteOld(ctx, now.Add(-24*time.Hour))
	_ = q.UserTokensDeleteExpired(ctx, now.Add(-7*24*time.Hour))
	p, _, err := s.PersonForSession(ctx, u.ID)
	return p, err
}

// PersonForSession is the person of a session, read again at each request so a removed
// person or a role change applies at once, with their school: ErrPersonNotFound when the
// person is gone or their school closed.
func (s *Service) PersonForSession(ctx context.Context, userID int64) (Person, dbq.School, error) {
	q := dbq.New(s.Pool)
	u, err := q.UserGet(ctx, userID)
	if db.IsNotFound(err) {
		return Person{}, dbq.School{}, ErrPersonNotFound
	}
	if err != nil {
		return Person{}, dbq.School{}, err
	}
	sc, err := q.SchoolGet(ctx, u.SchoolID)
	if err != nil {
		return Person{}, dbq.School{}, err
	}
	if sc.ClosedAt != nil {
		return Person{}, dbq.School{}, ErrPersonNotFound
	}
	ps, err := people(ctx, q, []dbq.User{u})
	if err != nil {
		return Person{}, dbq.School{}, err
	}
	return ps[0], sc, nil
}

// people are users with their offices.
func people(ctx context.Context, q *dbq.Queries, us []dbq.User) ([]Person, error) {
	ids := make([]int64, len(us))
	for i, u := range us {
		ids[i] = u.ID
	}
	refs, err := q.UserOfficeRefs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Person, len(us))
	for i, u := range us {
		p := Person{ID: u.ID, SchoolID: u.SchoolID, Email: u.Email, Role: domain.Role(u.Role), RoleLabel: domain.RoleLabels[domain.Role(u.Role)],
			OfficeRefs: []string{}, Invited: u.PasswordHash == nil, Created: parisTime(u.CreatedAt), PasswordPrint: passwordPrint(u.PasswordHash)}
		for _, r := range refs {
			if r.UserID == u.ID {
				p.OfficeRefs = append(p.OfficeRefs, r.Ref)
			}
		}
		if p.OfficeID, err = q.UserOfficeIDs(ctx, u.ID); err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

// PersonInput is POST /v1/users's body and the invitation form.
type PersonInput struct {
	Email      string   `json:"email"`
	Role       string   `json:"role"`
	OfficeRefs []string `json:"office_refs"`
}

// checkRole reads role and office_refs: a bureau person needs at least one office of the
// school. It returns the role and the offices' ids.
func checkRole(ctx context.Context, q *dbq.Queries, errs *fieldErrors, schoolID int64, role string, refs []string) (domain.Role, []int64, error) {
	r, ok := domain.ParseRole(strings.TrimSpace(role))
	if !ok {
		errs.add("role", "Rôle inconnu : « gerant », « bureau » ou « lecture ».")
		return "", nil, nil
	}
	if !r.OfficeScoped() {
		return r, nil, nil
	}
	if len(refs) == 0 {
		errs.add("office_refs", "Une personne du bureau travaille pour au moins un bureau : indiquez-en un.")
		return r, nil, nil
	}
	var ids []int64
	for _, ref := range refs {
		o, err := officeByRef(ctx, q, schoolID, strings.TrimSpace(ref))
		if errors.Is(err, ErrOfficeNotFound) {
			errs.add("office_refs", "Bureau inconnu : « "+truncate(ref, 50)+" ».")
			continue
		}
		if err != nil {
			return "", nil, err
		}
		ids = append(ids, o.ID)
	}
	return r, ids, nil
}

func truncate(s string, n int) string {
	if !utf8.ValidString(s) {
		return "?"
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func checkEmail(errs *fieldErrors, field, raw string) string {
	email := NormalizeEmail(raw)
	a, err := mail.ParseAddress(email)
	if email == "" {
		errs.add(field, "Champ obligatoire.")
	} else if err != nil || a.Address != email || len(email) > 254 || !strings.Contains(email, "@") {
		errs.add(field, "Adresse e-mail invalide (par exemple prenom.nom@auto-ecole.fr).")
	}
	return email
}

// CheckPassword is the password rule, in French.
func CheckPassword(password string) error {
	if utf8.RuneCountInString(password) < PasswordMinLen {
		return Invalid(FieldError{Field: "password", Message: "Le mot de passe doit comporter au moins 12 caractères."})
	}
	if len(password) > 1024 {
		return Invalid(FieldError{Field: "password", Message: "Le mot de passe est trop long (1 024 octets au plus)."})
	}
	return nil
}

// createPerson writes a person, their offices and the audit row in q's transaction.
func (s *Service) createPerson(ctx context.Context, q *dbq.Queries, school dbq.School, in PersonInput, passwordHash *string) (dbq.User, error) {
	var errs fieldErrors
	email := checkEmail(&errs, "email", in.Email)
	role, offices, err := checkRole(ctx, q, &errs, school.ID, in.Role, in.OfficeRefs)
	if err != nil {
		return dbq.User{}, err
	}
	if err := errs.problem(); err != nil {
		return dbq.User{}, err
	}
	u, err := q.UserCreate(ctx, dbq.UserCreateParams{SchoolID: school.ID, Email: email, Role: string(role), PasswordHash: passwordHash})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return dbq.User{}, &Problem{Type: TypeDuplicate, Title: "Conflit", Status: http.StatusConflict,
			Detail: "Cette adresse e-mail a déjà un accès à Livret.", Errors: []FieldError{{Field: "email", Message: "Adresse déjà utilisée."}}}
	}
	if err != nil {
		return dbq.User{}, err
	}
	for _, id := range offices {
		if err := q.UserOfficeAdd(ctx, dbq.UserOfficeAddParams{UserID: u.ID, OfficeID: id}); err != nil {
			return dbq.User{}, err
		}
	}
	return u, audit(ctx, q, school, "user.invite", email)
}

// Invite creates a person of the school and e-mails them a link, good once and for
// InvitationTTL, to choose their password (POST /v1/users, the people page).
func (s *Service) Invite(ctx context.Context, school dbq.School, in PersonInput) (Person, error) {
	if err := Authorize(ctx, domain.PermPeople); err != nil {
		return Person{}, err
	}
	var p Person
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		u, err := s.createPerson(ctx, q, school, in, nil)
		if err != nil {
			return err
		}
		if err := s.mailLink(ctx, q, u, "invitation", school.Name); err != nil {
			return err
		}
		ps, err := people(ctx, q, []dbq.User{u})
		p = ps[0]
		return err
	})
	if err != nil {
		return Person{}, err
	}
	s.log().InfoContext(ctx, "person invited", "school_id", school.ID, "user_id", p.ID)
	return p, nil
}

// AddPerson creates a person with a password at once, without an invitation: for the demo
// and for tests, never a route.
func (s *Service) AddPerson(ctx context.Context, school dbq.School, in PersonInput, password string) (Person, error) {
	if err := Authorize(ctx, domain.PermPeople); err != nil {
		return Person{}, err
	}
	if err := CheckPassword(password); err != nil {
		return Person{}, err
	}
	hash, err := argon2id.CreateHash(password, passwordParams)
	if err != nil {
		return Person{}, err
	}
	var p Person
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		u, err := s.createPerson(ctx, q, school, in, &hash)
		if err != nil {
			return err
		}
		ps, err := people(ctx, q, []dbq.User{u})
		p = ps[0]
		return err
	})
	return p, err
}

// mailLink stores a fresh single-use token for u (its hash only) and e-mails its link. In
// the caller's transaction: when the mail cannot be sent, nothing is kept.
func (s *Service) mailLink(ctx context.Context, q *dbq.Queries, u dbq.User, purpose, schoolName string) error {
	if s.SendMail == nil {
		return Unavailable("Livret ne peut pas envoyer d'e-mail pour le moment (aucun serveur d'envoi configuré) : réessayez plus tard.")
	}
	token := newLinkToken()
	ttl, path := InvitationTTL, InvitationPath
	if purpose == "reset" {
		ttl, path = ResetTTL, ResetPath
	}
	if err := q.UserTokenCreate(ctx, dbq.UserTokenCreateParams{TokenHash: hashToken(token), UserID: u.ID, Purpose: purpose,
		ExpiresAt: s.now().Add(ttl)}); err != nil {
		return err
	}
	link := strings.TrimRight(s.PublicURL, "/") + path + "?token=" + token
	subject, text := "Votre accès à Livret", "Bonjour,\n\nVous êtes invité à utiliser Livret pour l'auto-école "+schoolName+
		" (rôle : "+domain.RoleLabels[domain.Role(u.Role)]+").\n\nChoisissez votre mot de passe en ouvrant ce lien (il ne sert qu'une fois et expire dans 72 heures) :\n"+
		link+"\n\nVotre identifiant est cette adresse e-mail : "+u.Email+"\n\nSi vous n'attendiez pas cette invitation, ignorez ce message.\n\nLivret\n"
	if purpose == "reset" {
		subject, text = "Réinitialisation de votre mot de passe Livret", "Bonjour,\n\nUne réinitialisation du mot de passe de votre accès à Livret a été demandée.\n\n"+
			"Choisissez un nouveau mot de passe en ouvrant ce lien (il ne sert qu'une fois et expire dans 1 heure) :\n"+link+
			"\n\nSi vous n'avez rien demandé, ignorez ce message : votre mot de passe reste inchangé.\n\nLivret\n"
	}
	if err := s.SendMail(ctx, u.Email, subject, text); err != nil {
		s.log().ErrorContext(ctx, "mail not sent", "user_id", u.ID, "purpose", purpose, "error", err.Error())
		return Unavailable("L'e-mail n'a pas pu être envoyé : réessayez dans quelques minutes.")
	}
	return nil
}

// RequestReset e-mails a reset link to the person with that address, if any. The caller
// answers the same whatever happened, so nobody learns which addresses exist.
func (s *Service) RequestReset(ctx context.Context, email string) error {
	email = NormalizeEmail(email)
	q := dbq.New(s.Pool)
	u, err := q.UserByEmail(ctx, email)
	if db.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	sc, err := q.SchoolGet(ctx, u.SchoolID)
	if err != nil {
		return err
	}
	return db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error { return s.mailLink(ctx, q, u, "reset", sc.Name) })
}

// CheckLink tells whether an e-mailed link still works, for its page: nil, or
// ErrLinkUnknown, ErrLinkUsed, ErrLinkExpired.
func (s *Service) CheckLink(ctx context.Context, token, purpose string) (string, error) {
	if token == "" || len(token) > 100 {
		return "", ErrLinkUnknown
	}
	q := dbq.New(s.Pool)
	t, err := q.UserTokenGet(ctx, hashToken(token))
	if db.IsNotFound(err) || (err == nil && t.Purpose != purpose) {
		return "", ErrLinkUnknown
	}
	if err != nil {
		return "", err
	}
	switch {
	case t.UsedAt != nil:
		return "", ErrLinkUsed
	case !t.ExpiresAt.After(s.now()):
		return "", ErrLinkExpired
	}
	u, err := q.UserGet(ctx, t.UserID)
	if err != nil {
		return "", ErrLinkUnknown
	}
	return u.Email, nil
}

// UseLink sets the password of the link's person and spends the link. Setting it changes
// the person's PasswordPrint, which ends every session they had.
func (s *Service) UseLink(ctx context.Context, token, purpose, password string) (Person, error) {
	if _, err := s.CheckLink(ctx, token, purpose); err != nil {
		return Person{}, err
	}
	if err := CheckPassword(password); err != nil {
		return Person{}, err
	}
	hash, err := argon2id.CreateHash(password, passwordParams)
	if err != nil {
		return Person{}, err
	}
	var uid int64
	err = db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		t, err := q.UserTokenUse(ctx, dbq.UserTokenUseParams{TokenHash: hashToken(token), Now: s.now()})
		if db.IsNotFound(err) {
			return ErrLinkUsed // spent by a concurrent request
		}
		if err != nil {
			return err
		}
		uid = t.UserID
		return q.UserSetPassword(ctx, dbq.UserSetPasswordParams{ID: t.UserID, PasswordHash: &hash})
	})
	if err != nil {
		return Person{}, err
	}
	s.log().InfoContext(ctx, "password set from a link", "user_id", uid, "purpose", purpose)
	p, _, err := s.PersonForSession(ctx, uid)
	return p, err
}

// People lists the school's people (GET /v1/users, the people page).
func (s *Service) People(ctx context.Context, school dbq.School) ([]Person, error) {
	if err := Authorize(ctx, domain.PermPeople); err != nil {
		return nil, err
	}
	q := dbq.New(s.Pool)
	us, err := q.UserList(ctx, school.ID)
	if err != nil {
		return nil, err
	}
	return people(ctx, q, us)
}

// PersonPatch is PATCH /v1/users/{id}'s body: what is absent is kept.
type PersonPatch struct {
	Role       *string   `json:"role"`
	OfficeRefs *[]string `json:"office_refs"`
}

var errLastGerant = &Problem{Type: TypeLastGerant, Title: "Conflit", Status: http.StatusConflict,
	Detail: "C'est le dernier gérant de l'auto-école : nommez d'abord un autre gérant, puis recommencez."}

// lastGerant reports whether u is the school's only gerant, locking the gerants' rows.
func lastGerant(ctx context.Context, q *dbq.Queries, u dbq.User) (bool, error) {
	if u.Role != string(domain.RoleGerant) {
		return false, nil
	}
	ids, err := q.UserGerantsForUpdate(ctx, u.SchoolID)
	return len(ids) <= 1, err
}

// UpdatePerson changes a person's role or offices (PATCH /v1/users/{id}).
func (s *Service) UpdatePerson(ctx context.Context, school dbq.School, id int64, in PersonPatch) (Person, error) {
	if err := Authorize(ctx, domain.PermPeople); err != nil {
		return Person{}, err
	}
	var p Person
	err := db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		u, err := q.UserGetInSchoolForUpdate(ctx, dbq.UserGetInSchoolForUpdateParams{SchoolID: school.ID, ID: id})
		if db.IsNotFound(err) {
			return ErrPersonNotFound
		}
		if err != nil {
			return err
		}
		role := u.Role
		if in.Role != nil {
			role = *in.Role
		}
		var refs []string
		if in.OfficeRefs != nil {
			refs = *in.OfficeRefs
		} else {
			ps, err := people(ctx, q, []dbq.User{u})
			if err != nil {
				return err
			}
			refs = ps[0].OfficeRefs
		}
		var errs fieldErrors
		r, offices, err := checkRole(ctx, q, &errs, school.ID, role, refs)
		if err != nil {
			return err
		}
		if err := errs.problem(); err != nil {
			return err
		}
		if r != domain.Role(u.Role) {
			if last, err := lastGerant(ctx, q, u); err != nil {
				return err
			} else if last {
				return errLastGerant
			}
			if u, err = q.UserSetRole(ctx, dbq.UserSetRoleParams{ID: u.ID, Role: string(r)}); err != nil {
				return err
			}
		}
		if err := q.UserOfficesClear(ctx, u.ID); err != nil {
			return err
		}
		for _, oid := range offices {
			if err := q.UserOfficeAdd(ctx, dbq.UserOfficeAddParams{UserID: u.ID, OfficeID: oid}); err != nil {
				return err
			}
		}
		if err := audit(ctx, q, school, "user.role", u.Email); err != nil {
			return err
		}
		ps, err := people(ctx, q, []dbq.User{u})
		p = ps[0]
		return err
	})
	return p, err
}

// RemovePerson removes a person (DELETE /v1/users/{id}): their sessions end at their next
// request, which finds nobody.
func (s *Service) RemovePerson(ctx context.Context, school dbq.School, id int64) error {
	if err := Authorize(ctx, domain.PermPeople); err != nil {
		return err
	}
	return db.WithTx(ctx, s.Pool, func(q *dbq.Queries) error {
		u, err := q.UserGetInSchoolForUpdate(ctx, dbq.UserGetInSchoolForUpdateParams{SchoolID: school.ID, ID: id})
		if db.IsNotFound(err) {
			return ErrPersonNotFound
		}
		if err != nil {
			return err
		}
		if last, err := lastGerant(ctx, q, u); err != nil {
			return err
		} else if last {
			return errLastGerant
		}
		if err := q.UserDelete(ctx, u.ID); err != nil {
			return err
		}
		return audit(ctx, q, school, "user.remove", u.Email)
	})
}
